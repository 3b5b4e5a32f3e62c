#include "render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "escape.h"
#include "json.h"
#include "out.h"

void summary_add(struct summary *sum, const struct sock *s)
{
	if (s->proto >= PROTO_COUNT || s->state >= SS_MAX)
		return;
	sum->count[s->proto][s->family == AF_INET6 ? 1 : 0][s->state]++;
}

const enum count_key summary_keys[SUMMARY_NKEYS] = {COUNT_PROTO, COUNT_FAMILY, COUNT_STATE};

static bool cell_is(const struct count_cell *cell, const char *name)
{
	return name && strlen(name) == cell->len && memcmp(cell->text, name, cell->len) == 0;
}

/*
 * The record values behind a row's cells, which are the names the
 * engine took from sock.h: -1 for a name no record gives (an "unknown"
 * protocol or state, which summary_add leaves out too).
 */
static int proto_of(const struct count_cell *cell)
{
	for (int p = 0; p < PROTO_COUNT; p++)
		if (cell_is(cell, proto_name((enum proto)p)))
			return p;
	return -1;
}

static int state_of(const struct count_cell *cell)
{
	if (cell_is(cell, "UNCONN"))
		return SS_CLOSE;
	for (int st = 0; st < SS_MAX; st++)
		if (cell_is(cell, state_name((unsigned)st)))
			return st;
	return -1;
}

/* Adds row i of c to sum, its proto, family and state the keys from k on. */
static void summary_row(struct summary *sum, const struct count *c, size_t i, size_t k)
{
	struct count_cell cell;
	count_cell(c, i, k, &cell);
	int p = cell.kind == COUNT_CELL_VALUE ? proto_of(&cell) : -1;
	count_cell(c, i, k + 1, &cell);
	int fam = cell_is(&cell, "inet6") ? 1 : 0;
	count_cell(c, i, k + 2, &cell);
	int st = cell.kind == COUNT_CELL_VALUE ? state_of(&cell) : -1;
	if (p >= 0 && st >= 0)
		sum->count[p][fam][st] += count_row_n(c, i);
}

int summary_from_count(struct summary *sum, const struct count *c)
{
	size_t nkeys;
	const enum count_key *keys = count_keys(c, &nkeys);
	if (nkeys != SUMMARY_NKEYS || memcmp(keys, summary_keys, sizeof(summary_keys)) != 0)
		return -EINVAL;
	for (size_t i = 0; i < count_rows(c); i++)
		summary_row(sum, c, i, 0);
	return 0;
}

const enum count_key summary_netns_keys[SUMMARY_NKEYS + 1] = {COUNT_NETNS, COUNT_PROTO,
							      COUNT_FAMILY, COUNT_STATE};

int summary_from_count_netns(struct summary *sums, const char *const *names, size_t n,
			     const struct count *c)
{
	size_t nkeys;
	const enum count_key *keys = count_keys(c, &nkeys);
	if (nkeys != SUMMARY_NKEYS + 1 ||
	    memcmp(keys, summary_netns_keys, sizeof(summary_netns_keys)) != 0)
		return -EINVAL;
	for (size_t i = 0; i < count_rows(c); i++) {
		struct count_cell cell;
		count_cell(c, i, 0, &cell);
		/* Namespaces are few: a linear search finds the row's. */
		for (size_t j = 0; j < n; j++) {
			if (cell_is(&cell, names[j])) {
				summary_row(&sums[j], c, i, 1);
				break;
			}
		}
	}
	return 0;
}

/* Summary state slots: the kernel states, then UNCONN for datagram CLOSE. */
enum { SLOT_UNCONN = SS_MAX, SLOTS };

static unsigned slot_of(unsigned proto, unsigned state)
{
	return state == SS_CLOSE && proto_table[proto].datagram ? SLOT_UNCONN : state;
}

static const char *slot_name(unsigned slot)
{
	return slot == SLOT_UNCONN ? "UNCONN" : state_name(slot);
}

static bool proto_inet(unsigned p)
{
	return (proto_families((enum proto)p) & (FAM_INET | FAM_INET6)) != 0;
}

/* Per protocol totals: [0] IPv4 or other, [1] IPv6, and by state slot. */
struct totals {
	uint64_t fam[2];
	uint64_t slot[SLOTS];
};

static void totals_of(const struct summary *sum, unsigned p, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned f = 0; f < 2; f++) {
		for (unsigned st = 0; st < SS_MAX; st++) {
			uint64_t n = sum->count[p][f][st];
			t->fam[f] += n;
			t->slot[slot_of(p, st)] += n;
		}
	}
}

static void summary_json(struct buf *b, const struct summary *sum)
{
	struct json j;
	json_init(&j, b);
	json_object_begin(&j);
	for (unsigned p = 0; p < PROTO_COUNT; p++) {
		if (!(sum->protos & PROTO_BIT(p)))
			continue;
		struct totals t;
		totals_of(sum, p, &t);
		json_key(&j, proto_table[p].name);
		json_object_begin(&j);
		json_key(&j, "total");
		json_uint(&j, t.fam[0] + t.fam[1]);
		if (proto_inet(p)) {
			json_key(&j, "ipv4");
			json_uint(&j, t.fam[0]);
			json_key(&j, "ipv6");
			json_uint(&j, t.fam[1]);
		}
		json_key(&j, "states");
		json_object_begin(&j);
		for (unsigned sl = 0; sl < SLOTS; sl++) {
			if (!t.slot[sl] || !slot_name(sl))
				continue;
			json_key(&j, slot_name(sl));
			json_uint(&j, t.slot[sl]);
		}
		json_object_end(&j);
		json_object_end(&j);
	}
	json_object_end(&j);
	buf_addc(b, '\n');
}

/*
 * The summary table: one line per protocol asked for and a total line;
 * columns Total, IPv4, IPv6, then one per state that any protocol has, so
 * the table stays as narrow as the host is quiet. With --all-netns a
 * first column names the namespace, and each namespace has its lines.
 */
enum { SUM_COLS = 4 + SLOTS, SUM_CELL = 24 };

/* One line of the summary table, before it is measured. */
struct sum_line {
	const char *netns;  /* the Netns cell, NULL without --all-netns */
	char c[SUM_COLS][SUM_CELL];
};

struct sum_cells {
	struct sum_line *rows;
	unsigned nrows, ncols;
	unsigned slots[SLOTS];
	unsigned nslots;
};

/* The IPv4 count of the total line: inet protocols only. */
static uint64_t total_v4(const struct summary *sum)
{
	uint64_t v4 = 0;
	for (unsigned q = 0; q < PROTO_COUNT; q++) {
		struct totals tq;
		if (!(sum->protos & PROTO_BIT(q)) || !proto_inet(q))
			continue;
		totals_of(sum, q, &tq);
		v4 += tq.fam[0];
	}
	return v4;
}

static void sum_line(struct sum_cells *sc, const char *netns, const char *name,
		     const struct totals *t, bool inet, uint64_t v4)
{
	struct sum_line *l = &sc->rows[sc->nrows++];
	char (*row)[SUM_CELL] = l->c;
	l->netns = netns;
	snprintf(row[0], SUM_CELL, "%s", name);
	snprintf(row[1], SUM_CELL, "%llu", (unsigned long long)(t->fam[0] + t->fam[1]));
	if (inet) {
		snprintf(row[2], SUM_CELL, "%llu", (unsigned long long)v4);
		snprintf(row[3], SUM_CELL, "%llu", (unsigned long long)t->fam[1]);
	} else {
		snprintf(row[2], SUM_CELL, "-");
		snprintf(row[3], SUM_CELL, "-");
	}
	for (unsigned k = 0; k < sc->nslots; k++)
		snprintf(row[4 + k], SUM_CELL, "%llu", (unsigned long long)t->slot[sc->slots[k]]);
}

/* The totals of every protocol of sum asked for; whether one is inet. */
static bool sum_all(const struct summary *sum, struct totals *all)
{
	memset(all, 0, sizeof(*all));
	bool any_inet = false;
	for (unsigned p = 0; p < PROTO_COUNT; p++) {
		if (!(sum->protos & PROTO_BIT(p)))
			continue;
		struct totals t;
		totals_of(sum, p, &t);
		for (unsigned f = 0; f < 2; f++)
			all->fam[f] += t.fam[f];
		for (unsigned sl = 0; sl < SLOTS; sl++)
			all->slot[sl] += t.slot[sl];
		any_inet |= proto_inet(p);
	}
	return any_inet;
}

/* The lines of one summary (one namespace's), after the header. */
static void sum_lines(struct sum_cells *sc, const struct summary *sum, const char *netns)
{
	for (unsigned p = 0; p < PROTO_COUNT; p++) {
		if (!(sum->protos & PROTO_BIT(p)))
			continue;
		struct totals t;
		totals_of(sum, p, &t);
		sum_line(sc, netns, proto_table[p].name, &t, proto_inet(p), t.fam[0]);
	}
	struct totals all;
	bool any_inet = sum_all(sum, &all);
	sum_line(sc, netns, "total", &all, any_inet, total_v4(sum));
}

static void sum_fill(struct sum_cells *sc, const struct summary *sums,
		     const char *const *names, size_t n)
{
	struct totals seen = {0};
	for (size_t i = 0; i < n; i++) {
		struct totals all;
		sum_all(&sums[i], &all);
		for (unsigned sl = 0; sl < SLOTS; sl++)
			seen.slot[sl] += all.slot[sl];
	}
	sc->nslots = 0;
	for (unsigned sl = 1; sl < SLOTS; sl++)
		if (seen.slot[sl] && slot_name(sl))
			sc->slots[sc->nslots++] = sl;
	sc->ncols = 4 + sc->nslots;
	sc->nrows = 1;
	static const char *const head[] = {"Proto", "Total", "IPv4", "IPv6"};
	sc->rows[0].netns = names ? "Netns" : NULL;
	for (unsigned k = 0; k < 4; k++)
		snprintf(sc->rows[0].c[k], SUM_CELL, "%s", head[k]);
	for (unsigned k = 0; k < sc->nslots; k++)
		snprintf(sc->rows[0].c[4 + k], SUM_CELL, "%s", slot_name(sc->slots[k]));
	for (size_t i = 0; i < n; i++)
		sum_lines(sc, &sums[i], names ? names[i] : NULL);
}

static void summary_table(struct buf *b, const struct render_opts *o, struct sum_cells *sc)
{
	size_t width[SUM_COLS] = {0};
	size_t nswidth = 0;
	unsigned first = o->header ? 0 : 1;
	for (unsigned i = first; i < sc->nrows; i++) {
		/* A name's escaped form is what the terminal shows. */
		if (sc->rows[i].netns) {
			struct buf e = BUF_INIT;
			escape_text(&e, sc->rows[i].netns, strlen(sc->rows[i].netns));
			if (e.len > nswidth)
				nswidth = e.len;
			buf_finish(&e);
		}
		for (unsigned c = 0; c < sc->ncols; c++) {
			size_t w = strlen(sc->rows[i].c[c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	for (unsigned i = first; i < sc->nrows; i++) {
		if (sc->rows[i].netns) {
			size_t before = b->len;
			escape_text(b, sc->rows[i].netns, strlen(sc->rows[i].netns));
			out_pad(b, nswidth - (b->len - before) + 1);
		}
		for (unsigned c = 0; c < sc->ncols; c++) {
			size_t w = strlen(sc->rows[i].c[c]);
			buf_add(b, sc->rows[i].c[c], w);
			if (c + 1 < sc->ncols)
				out_pad(b, width[c] - w + 1);
		}
		buf_addc(b, '\n');
	}
}

int render_summaries(FILE *f, const struct render_opts *o, const struct summary *sums,
		     const char *const *names, size_t n)
{
	struct sum_cells sc = {0};
	/* No namespace matched: still the per-namespace shape, with no lines. */
	static const char *const none[1] = {NULL};
	if (o->all_netns && !names && n == 0)
		names = none;
	if (o->format == FORMAT_TABLE) {
		sc.rows = calloc(1 + n * (PROTO_COUNT + 1), sizeof(*sc.rows));
		if (!sc.rows)
			return -ENOMEM;
		sum_fill(&sc, sums, names, n);
	}
	struct out out;
	out_init(&out, f);
	if (o->format == FORMAT_TABLE) {
		summary_table(&out.b, o, &sc);
	} else if (!names) {
		for (size_t i = 0; i < n; i++)
			summary_json(&out.b, &sums[i]);
	} else {
		/* One object keyed by namespace name, each value a summary. */
		buf_addc(&out.b, '{');
		for (size_t i = 0; i < n; i++) {
			struct json j;
			json_init(&j, &out.b);
			if (i)
				buf_addc(&out.b, ',');
			json_cstring(&j, names[i]);
			buf_addc(&out.b, ':');
			summary_json(&out.b, &sums[i]);
			/* summary_json ends its object with a newline: take it back. */
			out.b.len--;
		}
		buf_adds(&out.b, "}\n");
	}
	free(sc.rows);
	int err = out_close(&out);
	out_release(&out);
	return err;
}

int render_summary(FILE *f, const struct render_opts *o, const struct summary *sum)
{
	return render_summaries(f, o, sum, NULL, 1);
}
