#include "table.h"

#include <errno.h>
#include <string.h>

#include "escape.h"
#include "owners.h"

/*
 * Buffered rows are packed back to back in one buffer (memory is most of
 * what a 100k-row table costs): a fixed head, the inode only when
 * processes are shown (it is what they are looked up by), an owner
 * pointer only when the row came with one, a length per stored cell (one
 * byte, or 0xff and two more), then the cells' bytes. Cells that follow
 * from the socket's kind (Proto, State) are not stored: the head holds the
 * kind. Nor is the last cell, Process: table_print formats it from the
 * head, once the owners are known.
 */
struct row_head {
	uint32_t uid;
	uint8_t flags;
	uint8_t proto;
	uint8_t family;
	uint8_t state;
	uint8_t type;
};

/* The head as stored: its fields back to back, without struct padding. */
enum { HEAD_SIZE = 9, ROW_UID_KNOWN = 1, ROW_HAS_OWNERS = 2, LEN_WIDE = 0xff };

static void head_put(struct buf *b, const struct row_head *h)
{
	uint8_t v[HEAD_SIZE];
	memcpy(v, &h->uid, 4);
	v[4] = h->flags;
	v[5] = h->proto;
	v[6] = h->family;
	v[7] = h->state;
	v[8] = h->type;
	buf_add(b, v, sizeof(v));
}

static void head_get(const char *p, struct row_head *h)
{
	const uint8_t *v = (const uint8_t *)p;
	memcpy(&h->uid, v, 4);
	h->flags = v[4];
	h->proto = v[5];
	h->family = v[6];
	h->state = v[7];
	h->type = v[8];
}

/* Where a row's parts are, as row_read finds them. */
struct row {
	struct row_head h;
	uint64_t inode;
	const struct owner *owners;
	uint16_t len[FIELD_COUNT];
	const char *data;
	size_t size; /* bytes the row takes in the buffer */
};

void table_init(struct table *t, const struct render_opts *o)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->cell);
	buf_init(&t->packed);
	t->header = o->header;
	t->processes = o->processes;
	unsigned have = field_have(o);
	for (int i = 0; i < FIELD_COUNT; i++) {
		const struct field *f = &field_table[i];
		if (f->title && field_shown(f->table_needs, have))
			t->cols[t->ncols++] = f;
	}
}

void table_finish(struct table *t)
{
	buf_finish(&t->cell);
	buf_finish(&t->packed);
}

void table_set_owners(struct table *t, const struct owners *owners)
{
	t->owners = owners;
}

/* Appends a cell length: one byte, or LEN_WIDE and two more. */
static size_t put_len(uint8_t *lens, size_t n)
{
	if (n < LEN_WIDE) {
		lens[0] = (uint8_t)n;
		return 1;
	}
	lens[0] = LEN_WIDE;
	lens[1] = (uint8_t)(n >> 8);
	lens[2] = (uint8_t)n;
	return 3;
}

int table_add(struct table *t, struct field_ctx *c, const struct sock *s)
{
	struct buf *b = &t->cell;
	uint8_t lens[3 * FIELD_COUNT];
	size_t nlens = 0;
	buf_reset(b);
	/* Every column but the last, Process, which table_print writes. */
	for (int i = 0; i + 1 < t->ncols; i++) {
		size_t start = b->len;
		t->cols[i]->cell(c, b, s);
		size_t n = b->len - start;
		if (n > UINT16_MAX)
			return -EOVERFLOW;
		size_t w = escape_width(b->p + start, n);
		if (w > t->width[i])
			t->width[i] = w;
		if (t->cols[i]->from_kind)
			b->len = start;
		else
			nlens += put_len(lens + nlens, n);
	}
	if (!buf_ok(b))
		return -ENOMEM;
	struct row_head h = {
		.uid = s->uid,
		.flags = (uint8_t)((field_uid_known(s) ? ROW_UID_KNOWN : 0) |
				   (s->owners ? ROW_HAS_OWNERS : 0)),
		.proto = s->proto, .family = s->family, .state = s->state, .type = s->type,
	};
	head_put(&t->packed, &h);
	if (t->processes)
		buf_add(&t->packed, &s->inode, sizeof(s->inode));
	if (s->owners)
		buf_add(&t->packed, &s->owners, sizeof(s->owners));
	buf_add(&t->packed, lens, nlens);
	buf_add(&t->packed, b->p, b->len);
	return buf_ok(&t->packed) ? 0 : -ENOMEM;
}

/* Reads the row at p (written by table_add); the buffer is not aligned. */
static void row_read(const struct table *t, const char *p, struct row *row)
{
	const char *start = p;
	head_get(p, &row->h);
	p += HEAD_SIZE;
	row->inode = 0;
	if (t->processes) {
		memcpy(&row->inode, p, sizeof(row->inode));
		p += sizeof(row->inode);
	}
	row->owners = NULL;
	if (row->h.flags & ROW_HAS_OWNERS) {
		memcpy(&row->owners, p, sizeof(row->owners));
		p += sizeof(row->owners);
	}
	const uint8_t *u = (const uint8_t *)p;
	size_t total = 0;
	for (int i = 0; i + 1 < t->ncols; i++) {
		row->len[i] = 0;
		if (t->cols[i]->from_kind)
			continue;
		if (*u == LEN_WIDE) {
			row->len[i] = (uint16_t)(u[1] << 8 | u[2]);
			u += 3;
		} else {
			row->len[i] = *u++;
		}
		total += row->len[i];
	}
	row->data = (const char *)u;
	row->size = (size_t)(row->data - start) + total;
}

/*
 * A line never ends in a space, even when the last cell's text does (a
 * process may name itself "nginx "): trailing spaces of the cell that
 * starts at start are written as \x20, which also keeps them visible.
 */
static void end_visibly(struct buf *b, size_t start)
{
	size_t end = b->len;
	while (end > start && b->p[end - 1] == ' ')
		end--;
	size_t spaces = b->len - end;
	if (!spaces || !buf_ok(b))
		return;
	b->len = end;
	for (size_t i = 0; i < spaces; i++)
		buf_add(b, "\\x20", 4);
}

static void header_line(struct table *t, struct buf *out)
{
	for (int i = 0; i < t->ncols; i++) {
		const char *title = t->cols[i]->title;
		buf_adds(out, title);
		if (i + 1 < t->ncols)
			out_pad(out, t->width[i] - strlen(title) + 1);
	}
	buf_addc(out, '\n');
}

/*
 * Appends one row: the cells, each padded to its column (those that
 * follow from the socket's kind formatted again from the head), then the
 * Process cell, formatted now that the owners are known.
 */
static void row_line(struct table *t, struct field_ctx *c, const struct row *row,
		     struct buf *out)
{
	struct sock kind = {.proto = row->h.proto, .family = row->h.family,
			    .state = row->h.state, .type = row->h.type};
	const char *data = row->data;
	for (int i = 0; i + 1 < t->ncols; i++) {
		size_t start = out->len;
		if (t->cols[i]->from_kind) {
			t->cols[i]->cell(c, out, &kind);
		} else {
			buf_add(out, data, row->len[i]);
			data += row->len[i];
		}
		if (!buf_ok(out))
			return;
		out_pad(out, t->width[i] - escape_width(out->p + start, out->len - start) + 1);
	}
	struct sock s = {.owners = row->owners, .uid = row->h.uid,
			 .has_uid = row->h.flags & ROW_UID_KNOWN};
	if (!s.owners && t->owners && row->inode)
		s.owners = owners_lookup(t->owners, row->inode);
	/* Whether the uid counts was decided when the row was packed. */
	s.inode = 1;
	size_t start = out->len;
	t->cols[t->ncols - 1]->cell(c, out, &s);
	end_visibly(out, start);
	buf_addc(out, '\n');
}

int table_print(struct table *t, struct field_ctx *c, struct out *out)
{
	if (t->header) {
		for (int i = 0; i < t->ncols; i++) {
			size_t w = strlen(t->cols[i]->title);
			if (w > t->width[i])
				t->width[i] = w;
		}
		header_line(t, &out->b);
	}
	struct row row;
	for (size_t off = 0; off < t->packed.len; off += row.size) {
		row_read(t, t->packed.p + off, &row);
		row_line(t, c, &row, &out->b);
		int err = out_maybe_flush(out);
		if (err)
			return err;
		if (out->err)
			break; /* out_close reports it; nothing more would be written */
	}
	return 0;
}
