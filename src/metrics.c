#include "metrics.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"

/*
 * Each family is one counting engine; its keys' order is the order of
 * the labels, after an optional leading netns.
 */
enum family_id { FAM_SOCKETS, FAM_LISTEN, FAM_CONNECTIONS, FAM_COUNT };

struct metrics {
	struct metrics_opts o;
	enum count_key keys[COUNT_MAX_KEYS]; /* o.keys copied, netns first if labelled */
	struct count *fam[FAM_COUNT];         /* with keys: fam[FAM_SOCKETS] only */
	struct buf out;
	struct buf scratch;
};

static const enum count_key sockets_keys[] = {COUNT_PROTO, COUNT_FAMILY, COUNT_STATE};
static const enum count_key listen_keys[] = {COUNT_PROTO, COUNT_LOCAL_ADDR, COUNT_LOCAL_PORT,
					     COUNT_PROCESS};
static const char *const listen_labels[] = {"proto", "address", "port", "process"};
static const enum count_key conn_keys[] = {COUNT_DIRECTION, COUNT_PORT, COUNT_STATE, COUNT_PROCESS};

/* Creates one family's engine: netns first when labelled, then keys. */
static int family(struct metrics *m, struct count **out, const enum count_key *keys, size_t n,
		  struct names *names)
{
	enum count_key all[COUNT_MAX_KEYS];
	size_t len = 0;
	bool netns = m->o.netns_label;
	for (size_t i = 0; i < n; i++)
		if (keys[i] == COUNT_NETNS)
			netns = false; /* the user placed it */
	if (netns)
		all[len++] = COUNT_NETNS;
	for (size_t i = 0; i < n && len < COUNT_MAX_KEYS; i++)
		all[len++] = keys[i];
	return count_create(out, all, len, names, COUNT_UTF8_NAMES);
}

int metrics_create(struct metrics **out, const struct metrics_opts *o, struct names *names)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->o = *o;
	if (o->nkeys > COUNT_MAX_KEYS) {
		free(m);
		return -EINVAL;
	}
	buf_init(&m->out);
	buf_init(&m->scratch);
	int err;
	if (o->nkeys) {
		memcpy(m->keys, o->keys, o->nkeys * sizeof(*o->keys));
		m->o.keys = m->keys;
		err = family(m, &m->fam[FAM_SOCKETS], m->keys, o->nkeys, names);
	} else {
		m->o.keys = NULL;
		if (m->o.top == 0)
			m->o.top = METRICS_TOP_PORTS;
		err = family(m, &m->fam[FAM_SOCKETS], sockets_keys, 3, names);
		if (!err)
			err = family(m, &m->fam[FAM_LISTEN], listen_keys, 4, names);
		if (!err)
			err = family(m, &m->fam[FAM_CONNECTIONS], conn_keys, 4, names);
	}
	if (err) {
		metrics_destroy(m);
		return err;
	}
	*out = m;
	return 0;
}

void metrics_destroy(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < FAM_COUNT; i++)
		count_destroy(m->fam[i]);
	buf_finish(&m->out);
	buf_finish(&m->scratch);
	free(m);
}

int metrics_set_netns(struct metrics *m, const char *name)
{
	for (int i = 0; i < FAM_COUNT; i++) {
		int err = m->fam[i] ? count_set_netns(m->fam[i], name) : 0;
		if (err)
			return err;
	}
	return 0;
}

bool metrics_needs_listeners(const struct metrics *m)
{
	for (int i = 0; i < FAM_COUNT; i++)
		if (m->fam[i] && count_needs_listeners(m->fam[i]))
			return true;
	return false;
}

int metrics_add_listener(struct metrics *m, const struct sock *s)
{
	for (int i = 0; i < FAM_COUNT; i++) {
		int err = m->fam[i] ? count_add_listener(m->fam[i], s) : 0;
		if (err)
			return err;
	}
	return 0;
}

void metrics_listeners_done(struct metrics *m)
{
	for (int i = 0; i < FAM_COUNT; i++)
		if (m->fam[i])
			count_listeners_done(m->fam[i]);
}

/* Connections and listen queues are those of inet stream protocols (TCP). */
static bool inet_stream(const struct sock *s)
{
	const struct proto_desc *d = proto_get((enum proto)s->proto);
	return d && !d->datagram && (proto_families((enum proto)s->proto) & (FAM_INET | FAM_INET6));
}

int metrics_add(struct metrics *m, const struct sock *s)
{
	int err = count_add(m->fam[FAM_SOCKETS], s);
	if (err || m->o.nkeys || !inet_stream(s))
		return err;
	/* A listener is no connection, but it tells "in" ones from "out". */
	err = count_add_listener(m->fam[FAM_CONNECTIONS], s);
	if (err)
		return err;
	if (s->state == SS_LISTEN)
		return count_add(m->fam[FAM_LISTEN], s);
	return count_add(m->fam[FAM_CONNECTIONS], s);
}

void metrics_escape_label(struct buf *out, const char *s, size_t len)
{
	struct buf clean = BUF_INIT;
	count_utf8_clean(&clean, s, len);
	if (!buf_ok(&clean)) {
		out->failed = true;
		buf_finish(&clean);
		return;
	}
	for (size_t i = 0; i < clean.len; i++) {
		char ch = clean.p[i];
		if (ch == '\\')
			buf_add(out, "\\\\", 2);
		else if (ch == '"')
			buf_add(out, "\\\"", 2);
		else if (ch == '\n')
			buf_add(out, "\\n", 2);
		else
			buf_addc(out, ch);
	}
	buf_finish(&clean);
}

static void help_type(struct metrics *m, const char *name, const char *help, const char *unit)
{
	/* The help texts are fixed ASCII with nothing either format escapes. */
	buf_printf(&m->out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	if (unit && m->o.format == METRICS_OPENMETRICS)
		buf_printf(&m->out, "# UNIT %s %s\n", name, unit);
}

/* The label name of key k: its own name with "-" as "_". */
static void label_name(struct buf *b, enum count_key k)
{
	for (const char *p = count_key_name(k); *p; p++)
		buf_addc(b, *p == '-' ? '_' : *p);
}

/*
 * One sample per row of c: name{labels} value. labels (may be NULL)
 * renames the keys after the netns one. value 0 is the count, 1 the
 * Recv-Q sum, 2 the Send-Q sum.
 */
static void samples(struct metrics *m, const struct count *c, const char *name,
		    const char *const *labels, int value)
{
	size_t nkeys;
	const enum count_key *keys = count_keys(c, &nkeys);
	size_t off = nkeys && keys[0] == COUNT_NETNS && m->o.netns_label ? 1 : 0;
	for (size_t i = 0; i < count_rows(c); i++) {
		buf_adds(&m->out, name);
		buf_addc(&m->out, '{');
		for (size_t k = 0; k < nkeys; k++) {
			if (k)
				buf_addc(&m->out, ',');
			if (labels && k >= off)
				buf_adds(&m->out, labels[k - off]);
			else
				label_name(&m->out, keys[k]);
			buf_add(&m->out, "=\"", 2);
			struct count_cell cell;
			count_cell(c, i, k, &cell);
			if (cell.kind == COUNT_CELL_OTHER)
				buf_adds(&m->out, "other");
			else
				metrics_escape_label(&m->out, cell.text, cell.len);
			buf_addc(&m->out, '"');
		}
		uint64_t rq, sq;
		count_row_queues(c, i, &rq, &sq);
		buf_add(&m->out, "} ", 2);
		buf_addu(&m->out, value == 0 ? count_row_n(c, i) : value == 1 ? rq : sq);
		buf_addc(&m->out, '\n');
	}
}

static int write_standard(struct metrics *m, double scrape_seconds)
{
	int err = count_finish(m->fam[FAM_SOCKETS], 0);
	if (!err)
		err = count_finish(m->fam[FAM_LISTEN], 0);
	if (!err)
		err = count_finish(m->fam[FAM_CONNECTIONS], 0);
	if (!err)
		err = count_fold(m->fam[FAM_CONNECTIONS], COUNT_PORT, m->o.top);
	if (err)
		return err;
	help_type(m, "sockstat_sockets", "Sockets by protocol, address family and state.", NULL);
	samples(m, m->fam[FAM_SOCKETS], "sockstat_sockets", NULL, 0);
	help_type(m, "sockstat_listen_queue",
		  "Connections waiting to be accepted by a TCP listener (Recv-Q).", NULL);
	samples(m, m->fam[FAM_LISTEN], "sockstat_listen_queue", listen_labels, 1);
	help_type(m, "sockstat_listen_queue_max", "Backlog of a TCP listener (Send-Q).", NULL);
	samples(m, m->fam[FAM_LISTEN], "sockstat_listen_queue_max", listen_labels, 2);
	help_type(m, "sockstat_connections",
		  "TCP connections by direction, service port, state and process.", NULL);
	samples(m, m->fam[FAM_CONNECTIONS], "sockstat_connections", NULL, 0);
	help_type(m, "sockstat_scrape_duration_seconds",
		  "Time sockstat took to gather these metrics.", "seconds");
	/*
	 * Whole microseconds, printed as integers: a decimal comma from a
	 * locale could never slip in, and NaN or a negative clock step
	 * print as 0.
	 */
	uint64_t us = scrape_seconds > 0 && scrape_seconds < 1e12 ? (uint64_t)(scrape_seconds * 1e6 + 0.5) : 0;
	buf_printf(&m->out, "sockstat_scrape_duration_seconds %llu.%06llu\n",
		   (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
	return 0;
}

int metrics_write(struct metrics *m, FILE *f, double scrape_seconds)
{
	int err;
	if (m->o.nkeys) {
		err = count_finish(m->fam[FAM_SOCKETS], m->o.top);
		if (!err) {
			help_type(m, "sockstat_sockets", "Sockets grouped by the --count-by keys.", NULL);
			samples(m, m->fam[FAM_SOCKETS], "sockstat_sockets", NULL, 0);
		}
	} else {
		err = write_standard(m, scrape_seconds);
	}
	if (err)
		return err;
	if (m->o.format == METRICS_OPENMETRICS)
		buf_adds(&m->out, "# EOF\n");
	err = buf_flush(&m->out, f);
	if (!err && fflush(f) != 0)
		err = errno == EPIPE ? -EPIPE : -EIO;
	return err;
}
