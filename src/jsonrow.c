#include "jsonrow.h"

void jsonrow_write(struct field_ctx *c, struct json *j, const struct sock *s, unsigned have)
{
	json_object_begin(j);
	for (int i = 0; i < FIELD_COUNT; i++) {
		const struct field *f = &field_table[i];
		if (!f->key || !field_shown(f->json_needs, have) || (f->has && !f->has(s)))
			continue;
		json_key(j, f->key);
		f->json(c, j, s);
	}
	json_object_end(j);
}
