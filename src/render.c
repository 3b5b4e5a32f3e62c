#include "render.h"

#include <errno.h>
#include <stdlib.h>

#include "field.h"
#include "json.h"
#include "jsonrow.h"
#include "out.h"
#include "table.h"

/*
 * The renderer only dispatches: the schema and its formatters are in
 * field.c, the table in table.c, JSON objects in jsonrow.c, buffering in
 * out.c.
 */
struct render {
	struct render_opts o;
	struct jsonrow json;  /* FORMAT_JSON, FORMAT_NDJSON */
	struct field_ctx fc;
	struct out out;
	struct table table;   /* FORMAT_TABLE only */
	uint64_t rows;
};

int render_create(struct render **out, FILE *f, const struct render_opts *o,
		  struct names *names)
{
	struct render *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->o = *o;
	jsonrow_init(&r->json, &r->o);
	field_ctx_init(&r->fc, &r->o, names);
	out_init(&r->out, f);
	table_init(&r->table, &r->o);
	*out = r;
	return 0;
}

void render_destroy(struct render *r)
{
	if (!r)
		return;
	table_finish(&r->table);
	out_release(&r->out);
	field_ctx_finish(&r->fc);
	free(r);
}

int render_row(struct render *r, const struct sock *s)
{
	if (r->o.format == FORMAT_TABLE) {
		int err = table_add(&r->table, &r->fc, s);
		if (err == 0)
			r->rows++;
		return err;
	}
	struct buf *b = &r->out.b;
	if (r->o.format == FORMAT_JSON)
		buf_adds(b, r->rows ? ",\n" : "[\n");
	struct json j;
	json_init(&j, b);
	jsonrow_write(&r->json, &r->fc, &j, s);
	if (r->o.format == FORMAT_NDJSON)
		buf_addc(b, '\n');
	r->rows++;
	return out_maybe_flush(&r->out);
}

void render_set_owners(struct render *r, const struct owners *owners)
{
	table_set_owners(&r->table, owners);
}

int render_finish(struct render *r)
{
	int err = 0;
	if (r->o.format == FORMAT_TABLE)
		err = table_print(&r->table, &r->fc, &r->out);
	else if (r->o.format == FORMAT_JSON)
		buf_adds(&r->out.b, r->rows ? "\n]\n" : "[]\n");
	if (err)
		return err;
	return out_close(&r->out);
}
