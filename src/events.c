#include "events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "buf.h"
#include "clock.h"
#include "diag.h"
#include "escape.h"
#include "field.h"
#include "filter.h"
#include "json.h"
#include "jsonrow.h"
#include "loop.h"
#include "nl.h"
#include "owners.h"
#include "util.h"

/* Datagrams read from the multicast socket before the loop looks around. */
enum { PUMP_BATCH = 256 };

/*
 * What the stream remembers of a live socket: the record of the last
 * dump that showed it, its owners (copied, as the scan's map is not
 * kept) and when it was first seen.
 */
struct entry {
	struct sock s;          /* info, mem, path and owners cleared */
	struct owner *owners;   /* owned chain, or NULL */
	int64_t first_ms;       /* monotonic */
	uint32_t gen;           /* the dump that last showed it */
	bool need_owners;       /* new since the last scan, with a file */
};

enum ev_kind { EV_OPEN, EV_STATE, EV_CLOSE, EV_LOST };

/* An event found by a dump, written once the dump and scan are done. */
struct pending {
	struct entry *e;
	enum ev_kind kind;
	uint8_t from;
};

struct events {
	struct events_config cfg;
	struct nl *mc;             /* the multicast socket, NULL: dumps only */
	struct u64map live;        /* key -> struct entry *; NULL: closed */
	uint32_t gen;
	bool started;              /* the first dump is done */
	uint32_t drops;            /* the kernel's drop count last reported */
	struct pending *pend;
	size_t npend, cappend;
	int oom;                   /* an allocation failed in a sink */
	struct jsonrow jr;         /* the keys of a record with tcp_info */
	struct jsonrow jr_plain;   /* the same but tcp_info, for one without */
	struct field_ctx fc;
	struct buf line;
	struct buf cell;
};

static uint64_t sock_key(const struct sock *s)
{
	/* Cookies are unique for the kernel's lifetime; /proc gives inodes. */
	if (s->cookie)
		return s->cookie & ~(1ull << 63);
	return s->inode | (1ull << 63);
}

static void free_owners(struct owner *o)
{
	while (o) {
		struct owner *next = (struct owner *)o->next;
		free(o);
		o = next;
	}
}

/* A private copy of a chain of holders, or NULL (also without memory). */
static struct owner *copy_owners(const struct owner *src)
{
	struct owner *head = NULL, *last = NULL;
	for (; src; src = src->next) {
		size_t cl = src->comm ? strlen(src->comm) + 1 : 0;
		size_t al = src->argv0 ? strlen(src->argv0) + 1 : 0;
		struct owner *o = malloc(sizeof(*o) + cl + al);
		if (!o) {
			free_owners(head);
			return NULL;
		}
		*o = *src;
		o->next = NULL;
		char *p = (char *)(o + 1);
		if (cl) {
			memcpy(p, src->comm, cl);
			o->comm = p;
			p += cl;
		}
		if (al) {
			memcpy(p, src->argv0, al);
			o->argv0 = p;
		}
		if (last)
			last->next = o;
		else
			head = o;
		last = o;
	}
	return head;
}

static void free_entry(struct entry *e)
{
	if (!e)
		return;
	free_owners(e->owners);
	free(e);
}

int events_create(struct events **out, const struct events_config *cfg)
{
	struct events *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->cfg = *cfg;
	ev->cfg.render.format = FORMAT_NDJSON;
	/* The kernel's final tcp_info is the point of a close event. */
	ev->cfg.render.info = true;
	ev->cfg.render.memory = false;
	ev->cfg.render.timers = false;
	jsonrow_init(&ev->jr, &ev->cfg.render);
	struct render_opts plain = ev->cfg.render;
	plain.info = false;
	jsonrow_init(&ev->jr_plain, &plain);
	field_ctx_init(&ev->fc, &ev->cfg.render, cfg->names);
	ev->live = (struct u64map)U64MAP_INIT;
	*out = ev;
	return 0;
}

void events_destroy(struct events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->live.cap; i++)
		if (ev->live.keys[i])
			free_entry(ev->live.vals[i]);
	u64map_finish(&ev->live);
	nl_destroy(ev->mc);
	free(ev->pend);
	field_ctx_finish(&ev->fc);
	buf_finish(&ev->line);
	buf_finish(&ev->cell);
	free(ev);
}

uint64_t events_cached(const struct events *ev)
{
	uint64_t n = 0;
	for (size_t i = 0; i < ev->live.cap; i++)
		if (ev->live.keys[i] && ev->live.vals[i])
			n++;
	return n;
}

/* The protocol whose destroy group is group, or -1. */
static int proto_of_group(unsigned group)
{
	for (int p = 0; p < PROTO_COUNT; p++)
		for (int f = 0; f < PROTO_FAMILIES_MAX; f++)
			if (group && proto_table[p].families[f].destroy_group == group)
				return p;
	return -1;
}

uint32_t events_protocols(uint32_t mask)
{
	uint32_t out = 0;
	for (int p = 0; p < PROTO_COUNT; p++)
		for (int f = 0; f < PROTO_FAMILIES_MAX; f++)
			if (proto_table[p].families[f].destroy_group)
				out |= PROTO_BIT(p);
	return out & mask;
}

int events_subscribe(struct events *ev)
{
	int rc = nl_create(&ev->mc, ev->cfg.transport);
	if (rc < 0)
		return rc;
	bool any = false;
	for (int p = 0; p < PROTO_COUNT; p++) {
		if (!(ev->cfg.protos & PROTO_BIT(p)))
			continue;
		for (int f = 0; f < PROTO_FAMILIES_MAX; f++) {
			const struct proto_family *pf = &proto_table[p].families[f];
			if (!pf->af || !pf->destroy_group || !(pf->fam & ev->cfg.families))
				continue;
			rc = nl_subscribe(ev->mc, pf->destroy_group);
			if (rc < 0) {
				nl_destroy(ev->mc);
				ev->mc = NULL;
				return rc;
			}
			any = true;
		}
	}
	if (!any) {
		nl_destroy(ev->mc);
		ev->mc = NULL;
	}
	return 0;
}

static int fail(struct events_error *err, enum events_fail kind, int rc)
{
	*err = (struct events_error){.kind = kind, .err = rc};
	return rc;
}

/* Writes the line built in ev->line and flushes it, so a reader sees it now. */
static int put_line(struct events *ev, struct events_error *err)
{
	if (!buf_ok(&ev->line)) {
		buf_reset(&ev->line);
		return fail(err, EVENTS_NOMEM, -ENOMEM);
	}
	int rc = buf_flush(&ev->line, ev->cfg.out);
	if (rc == 0 && fflush(ev->cfg.out) != 0)
		rc = errno ? -errno : -EIO;
	if (rc < 0)
		return fail(err, EVENTS_OUTPUT, rc);
	return 0;
}

static const char *const kind_name[] = {
	[EV_OPEN] = "open", [EV_STATE] = "state", [EV_CLOSE] = "close", [EV_LOST] = "lost",
};

/* One event as an NDJSON object: event, time, what the kind adds, the socket. */
static void json_event(struct events *ev, enum ev_kind kind, const char *when, uint8_t from,
		       const struct sock *s, int64_t duration_ms, uint64_t lost)
{
	struct json j;
	json_init(&j, &ev->line);
	json_object_begin(&j);
	json_key(&j, "event");
	json_cstring(&j, kind_name[kind]);
	json_key(&j, "time");
	json_cstring(&j, when);
	if (kind == EV_LOST) {
		json_key(&j, "count");
		json_uint(&j, lost);
	} else if (kind == EV_STATE) {
		json_key(&j, "from");
		json_cstring(&j, state_name(from));
		json_key(&j, "to");
		json_cstring(&j, sock_state_name(s));
	}
	if (s) {
		/* Only a close announced by the kernel has the final tcp_info. */
		const struct jsonrow *jr = s->info ? &ev->jr : &ev->jr_plain;
		for (int i = 0; i < jr->n; i++) {
			const struct field *f = jr->fields[i];
			if (f->has && !f->has(s))
				continue;
			json_key(&j, f->key);
			f->json(&ev->fc, &j, s);
		}
	}
	if (kind == EV_CLOSE) {
		json_key(&j, "duration_ms");
		if (duration_ms >= 0)
			json_int(&j, duration_ms);
		else
			json_null(&j);
	}
	json_object_end(&j);
	buf_addc(&ev->line, '\n');
}

/* Column widths of the table; wider cells push the rest of the line along. */
static const struct {
	const char *title;
	unsigned width;
} tcol[] = {
	{"Time", 12}, {"Event", 5}, {"Proto", 5}, {"Local", 21}, {"Peer", 21},
	{"State", 11}, {"Duration", 8}, {"Sent", 8}, {"Received", 8}, {"Process", 0},
};
enum { TCOLS = sizeof(tcol) / sizeof(tcol[0]) };

static void add_cell(struct buf *b, int col, const char *text, size_t len)
{
	buf_add(b, text, len);
	if (col == TCOLS - 1)
		return;
	size_t pad = len < tcol[col].width ? tcol[col].width - len : 0;
	for (size_t i = 0; i <= pad; i++)
		buf_addc(b, ' ');
}

static void add_header(struct buf *b)
{
	for (int i = 0; i < TCOLS; i++)
		add_cell(b, i, tcol[i].title, strlen(tcol[i].title));
	buf_addc(b, '\n');
}

/* A cell formatted by the field schema's table formatter. */
static void add_field(struct events *ev, struct buf *b, int col, enum field_id id,
		      const struct sock *s)
{
	buf_reset(&ev->cell);
	field_table[id].cell(&ev->fc, &ev->cell, s);
	add_cell(b, col, ev->cell.p ? ev->cell.p : "", ev->cell.len);
}

/* A number cell, "-" when unknown (v < 0). */
static void add_num(struct buf *b, int col, int64_t v, bool ms)
{
	char t[32];
	int n;
	if (v < 0)
		n = snprintf(t, sizeof(t), "-");
	else if (ms)
		n = snprintf(t, sizeof(t), "%lld.%03llds", (long long)(v / 1000),
			     (long long)(v % 1000));
	else
		n = snprintf(t, sizeof(t), "%lld", (long long)v);
	add_cell(b, col, t, (size_t)n);
}

static void table_event(struct events *ev, enum ev_kind kind, const char *when, uint8_t from,
			const struct sock *s, int64_t duration_ms, uint64_t lost)
{
	struct buf *b = &ev->line;
	/* The time of day is enough on a screen: "09:50:00.123". */
	add_cell(b, 0, when + 11, strlen(when + 11) - 1);
	add_cell(b, 1, kind_name[kind], strlen(kind_name[kind]));
	if (kind == EV_LOST) {
		buf_printf(b, "%llu events dropped by the kernel", (unsigned long long)lost);
		buf_addc(b, '\n');
		return;
	}
	add_field(ev, b, 2, F_PROTO, s);
	add_field(ev, b, 3, F_LOCAL, s);
	add_field(ev, b, 4, F_PEER, s);
	char st[40];
	int n = kind == EV_STATE
			? snprintf(st, sizeof(st), "%s>%s", state_name(from), sock_state_name(s))
			: snprintf(st, sizeof(st), "%s", sock_state_name(s));
	add_cell(b, 5, st, (size_t)n);
	add_num(b, 6, kind == EV_CLOSE ? duration_ms : -1, true);
	add_num(b, 7, s->info ? (int64_t)s->info->bytes_acked : -1, false);
	add_num(b, 8, s->info ? (int64_t)s->info->bytes_received : -1, false);
	add_field(ev, b, 9, F_PROCESS, s);
	buf_addc(b, '\n');
}

/* Writes one event now, in the stream's format. */
static int emit(struct events *ev, enum ev_kind kind, uint8_t from, const struct sock *s,
		int64_t duration_ms, uint64_t lost, struct events_error *err)
{
	char when[CLOCK_RFC3339_SIZE];
	clock_rfc3339(when, clock_real_ms(), true);
	if (ev->cfg.table)
		table_event(ev, kind, when, from, s, duration_ms, lost);
	else
		json_event(ev, kind, when, from, s, duration_ms, lost);
	return put_line(ev, err);
}

/* Whether an event about s passes the selection and the filter. */
static bool selected(const struct events *ev, const struct sock *s)
{
	if (!(ev->cfg.protos & PROTO_BIT(s->proto)) || !(ev->cfg.families & sock_fam_bit(s)))
		return false;
	return filter_match(ev->cfg.filter, s);
}

/* What the multicast callback needs beyond the stream. */
struct pump_ctx {
	struct events *ev;
	struct events_error *err;
};

/* A destroyed socket, as the kernel announced it: one close event. */
static int on_destroy(const struct nlmsghdr *nlh, unsigned group, void *arg)
{
	struct pump_ctx *pc = arg;
	struct events *ev = pc->ev;
	int p = proto_of_group(group);
	if (p < 0 || nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return 0;
	struct sock s;
	struct diag_scratch sc;
	/* A message that does not parse is skipped, as in a dump. */
	if (diag_parse(nlh, (enum proto)p, &s, &sc) < 0)
		return 0;
	void **slot = u64map_get(&ev->live, sock_key(&s));
	struct entry *e = slot ? *slot : NULL;
	s.owners = e ? e->owners : NULL;
	/* A state predicate judges the state the socket was last seen in. */
	struct sock judge = s;
	if (e)
		judge.state = e->s.state;
	int rc = 0;
	if (selected(ev, &judge))
		rc = emit(ev, EV_CLOSE, 0, &s, e ? clock_mono_ms() - e->first_ms : -1, 0, pc->err);
	if (e) {
		free_entry(e);
		*slot = NULL;
	}
	return rc;
}

/* Says how many announcements the kernel dropped since the last time. */
static int report_lost(struct events *ev, struct events_error *err)
{
	uint64_t count = 1;
	uint32_t drops;
	if (nl_drops(ev->mc, &drops) == 0) {
		if (drops > ev->drops)
			count = drops - ev->drops;
		ev->drops = drops;
	}
	return emit(ev, EV_LOST, 0, NULL, -1, count, err);
}

int events_pump(struct events *ev, struct events_error *err)
{
	*err = (struct events_error){0};
	if (!ev->mc)
		return 0;
	struct pump_ctx pc = {ev, err};
	for (;;) {
		int rc = nl_read_events(ev->mc, PUMP_BATCH, on_destroy, &pc);
		if (rc == -ENOBUFS) {
			rc = report_lost(ev, err);
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc < 0 && err->kind == EVENTS_OK)
			return fail(err, EVENTS_NETLINK, rc);
		return rc;
	}
}

static void add_pending(struct events *ev, struct entry *e, enum ev_kind kind, uint8_t from)
{
	if (ev->npend == ev->cappend) {
		size_t cap = ev->cappend ? 2 * ev->cappend : 64;
		struct pending *p = realloc(ev->pend, cap * sizeof(*p));
		if (!p) {
			ev->oom = 1;
			return;
		}
		ev->pend = p;
		ev->cappend = cap;
	}
	ev->pend[ev->npend++] = (struct pending){e, kind, from};
}

/* One socket of a dump: remembered, and an open or state event when due. */
static int on_dump(void *arg, const struct sock *s)
{
	struct events *ev = arg;
	void **slot;
	bool fresh;
	if (u64map_insert(&ev->live, sock_key(s), &slot, &fresh) < 0) {
		ev->oom = 1;
		return 0;
	}
	struct entry *e = *slot;
	/* Closed by an announcement while the dump ran: it stays closed. */
	if (!fresh && !e)
		return 0;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			ev->oom = 1;
			return 0;
		}
		*slot = e;
		e->first_ms = clock_mono_ms();
		e->need_owners = s->inode != 0;
		if (ev->started)
			add_pending(ev, e, EV_OPEN, 0);
	} else if (e->s.state != s->state && !proto_table[s->proto].datagram) {
		add_pending(ev, e, EV_STATE, e->s.state);
	}
	e->s = *s;
	e->s.info = NULL;
	e->s.mem = NULL;
	e->s.path = NULL;
	e->s.path_len = 0;
	e->s.owners = NULL;
	e->gen = ev->gen;
	return 0;
}

/* The holders of the sockets first seen in this dump, from one /proc scan. */
static int scan_new_owners(struct events *ev, struct events_error *err)
{
	bool any = false;
	for (size_t i = 0; i < ev->live.cap && !any; i++) {
		struct entry *e = ev->live.keys[i] ? ev->live.vals[i] : NULL;
		any = e && e->need_owners;
	}
	if (!any || !ev->cfg.render.processes)
		return 0;
	struct owners *o;
	int rc = owners_create(&o);
	if (rc < 0)
		return fail(err, EVENTS_NOMEM, rc);
	owners_set_argv0(o, filter_needs_argv0(ev->cfg.filter));
	rc = owners_set_backend(o, ev->cfg.owners_via ? ev->cfg.owners_via : "auto");
	if (rc == 0)
		rc = owners_scan(o, ev->cfg.proc_root ? ev->cfg.proc_root : "/proc");
	if (rc < 0) {
		owners_destroy(o);
		*err = (struct events_error){.kind = EVENTS_QUERY, .err = rc,
					     .q = {.stage = rc == -ENOMEM ? QUERY_NOMEM : QUERY_SCAN,
						   .err = rc}};
		return rc;
	}
	for (size_t i = 0; i < ev->live.cap; i++) {
		struct entry *e = ev->live.keys[i] ? ev->live.vals[i] : NULL;
		if (!e || !e->need_owners)
			continue;
		e->need_owners = false;
		e->owners = copy_owners(owners_lookup(o, e->s.inode));
	}
	owners_destroy(o);
	return 0;
}

/* Writes the events the last dump found, each judged with its owners. */
static int emit_pending(struct events *ev, struct events_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < ev->npend && rc == 0; i++) {
		struct pending *p = &ev->pend[i];
		struct sock s = p->e->s;
		s.owners = p->e->owners;
		if (selected(ev, &s))
			rc = emit(ev, p->kind, p->from, &s, -1, 0, err);
	}
	ev->npend = 0;
	return rc;
}

/*
 * Rebuilds the map with the sockets still alive, so it holds no more
 * than the live population. A socket missing from the dump has closed:
 * without announcements that is its close event; with them, the close
 * came or is on its way, so it is forgotten once it has been missing
 * from two dumps in a row (an announcement may trail the dump).
 */
static int sweep(struct events *ev, struct events_error *err)
{
	struct u64map next = U64MAP_INIT;
	int rc = 0;
	for (size_t i = 0; i < ev->live.cap; i++) {
		struct entry *e = ev->live.keys[i] ? ev->live.vals[i] : NULL;
		if (!e)
			continue;
		bool keep = e->gen == ev->gen || (ev->mc && ev->gen - e->gen < 2);
		if (!keep && !ev->mc && rc == 0) {
			struct sock s = e->s;
			s.owners = e->owners;
			s.state = SS_CLOSE;
			struct sock judge = e->s;
			judge.owners = e->owners;
			if (selected(ev, &judge))
				rc = emit(ev, EV_CLOSE, 0, &s, clock_mono_ms() - e->first_ms, 0, err);
		}
		void **slot;
		bool fresh;
		if (keep && u64map_insert(&next, ev->live.keys[i] - 1, &slot, &fresh) == 0) {
			*slot = e;
			continue;
		}
		if (keep)
			ev->oom = 1;
		free_entry(e);
	}
	u64map_finish(&ev->live);
	ev->live = next;
	return rc;
}

/* Every state but those that are no socket of their own yet or any more. */
#define EVENT_STATES \
	(STATES_ALL & ~(STATE_BIT(SS_TIME_WAIT) | STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV)))

int events_tick(struct events *ev, struct events_error *err)
{
	*err = (struct events_error){0};
	ev->gen++;
	struct query_config qc = {
		.protos = ev->cfg.protos,
		.families = ev->cfg.families,
		.states = EVENT_STATES,
		.source = ev->cfg.source,
		.proc_root = ev->cfg.proc_root,
		.owners_via = ev->cfg.owners_via,
	};
	struct query_sink sink = {.row = on_dump, .arg = ev};
	struct query q = {0};
	int rc = query_run(&q, &qc, &sink, &err->q);
	query_finish(&q);
	if (rc < 0) {
		err->kind = EVENTS_QUERY;
		err->err = rc;
		ev->npend = 0;
		return rc;
	}
	rc = scan_new_owners(ev, err);
	if (rc == 0)
		rc = emit_pending(ev, err);
	ev->npend = 0;
	if (rc == 0)
		rc = sweep(ev, err);
	ev->started = true;
	if (rc == 0 && ev->oom)
		rc = fail(err, EVENTS_NOMEM, -ENOMEM);
	return rc;
}

/*
 * The output's descriptor when it is a pipe, whose reader going away
 * poll reports at once (POLLERR); -1 otherwise (a file is always ready).
 */
static int pipe_fd(FILE *f)
{
	struct stat st;
	int fd = fileno(f);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return -1;
	return fd;
}

/* The loop: announcements as they come, a dump every interval. */
static int run_loop(struct events *ev, struct events_error *err)
{
	int64_t next = clock_mono_ms() + (int64_t)ev->cfg.interval_ms;
	/* A stream nobody reads ends now, not at the next event. */
	int fds[2] = {ev->mc ? nl_fd(ev->mc) : -1, pipe_fd(ev->cfg.out)};
	for (;;) {
		if (loop_take_signals() & LOOP_STOP)
			return 0;
		int rc = loop_wait(fds, 2, next - clock_mono_ms());
		if (rc < 0)
			return fail(err, EVENTS_NETLINK, rc);
		if (rc & 2)
			return fail(err, EVENTS_OUTPUT, -EPIPE);
		if (rc & 1) {
			rc = events_pump(ev, err);
			if (rc < 0)
				return rc;
		}
		int64_t now = clock_mono_ms();
		if (now < next)
			continue;
		/* Announcements first, so a socket that closed is not a stranger. */
		while ((rc = events_pump(ev, err)) == 1)
			;
		if (rc < 0 || (rc = events_tick(ev, err)) < 0)
			return rc;
		next += (int64_t)ev->cfg.interval_ms;
		if (next <= now)
			next = now + (int64_t)ev->cfg.interval_ms;
	}
}

int events_run(const struct events_config *cfg, struct events_error *err)
{
	*err = (struct events_error){0};
	struct events *ev;
	if (events_create(&ev, cfg) < 0)
		return fail(err, EVENTS_NOMEM, -ENOMEM);
	int rc = events_subscribe(ev);
	if (rc < 0 && cfg->notice) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "cannot receive the kernel's socket close announcements (%s); "
			 "closes come from dumps every interval, without the final tcp_info",
			 strerror(-rc));
		cfg->notice(msg);
	}
	if (cfg->table) {
		add_header(&ev->line);
		rc = put_line(ev, err);
	} else {
		rc = 0;
	}
	if (rc == 0)
		rc = events_tick(ev, err);
	if (rc == 0)
		rc = run_loop(ev, err);
	events_destroy(ev);
	return rc;
}
