#include "jsonrow.h"

void jsonrow_init(struct jsonrow *jr, const struct render_opts *o)
{
	unsigned have = field_have(o);
	jr->n = 0;
	for (int i = 0; i < FIELD_COUNT; i++) {
		const struct field *f = &field_table[i];
		if (f->key && field_shown(f->json_needs, have))
			jr->fields[jr->n++] = f;
	}
}

void jsonrow_write(const struct jsonrow *jr, struct field_ctx *c, struct json *j,
		   const struct sock *s)
{
	json_object_begin(j);
	for (int i = 0; i < jr->n; i++) {
		const struct field *f = jr->fields[i];
		if (f->has && !f->has(s))
			continue;
		json_key(j, f->key);
		f->json(c, j, s);
	}
	json_object_end(j);
}
