#ifndef SRC_TABLE_H
#define SRC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "field.h"
#include "out.h"

struct owners;

/*
 * The aligned table: rows are measured and packed into one buffer as they
 * come, and printed at the end, once every column's width is known. The
 * Process column is last and never padded, so it is formatted only at
 * print time, from owners that may have been found meanwhile.
 */
struct table {
	const struct field *cols[FIELD_COUNT]; /* the shown columns, in order */
	int ncols;
	size_t width[FIELD_COUNT];              /* terminal cells, per column */
	bool header;
	bool processes;                         /* rows keep their inode */
	struct buf cell;                        /* scratch: one row's cells */
	struct buf packed;                      /* the rows, packed */
	const struct owners *owners;            /* not owned; see table_set_owners */
};

/* Picks the columns o asks for. Free with table_finish. */
void table_init(struct table *t, const struct render_opts *o);
void table_finish(struct table *t);

/* Measures and stores one row. Returns 0, -ENOMEM or -EOVERFLOW. */
int table_add(struct table *t, struct field_ctx *c, const struct sock *s);

/* The map rows given without owners are looked up in when printed. */
void table_set_owners(struct table *t, const struct owners *owners);

/*
 * Appends the header and every row to out, flushing as it goes. Returns 0
 * or what out_maybe_flush returns.
 */
int table_print(struct table *t, struct field_ctx *c, struct out *out);

#endif
