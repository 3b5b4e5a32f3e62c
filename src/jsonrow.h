#ifndef SRC_JSONROW_H
#define SRC_JSONROW_H

#include "field.h"
#include "json.h"

/* The JSON keys options ask for: the schema's fields, in its order. */
struct jsonrow {
	const struct field *fields[FIELD_COUNT];
	int n;
};

/* Picks the fields with a key whose needs options o meet. */
void jsonrow_init(struct jsonrow *jr, const struct render_opts *o);

/* Writes s as one JSON object: each picked field that s has. */
void jsonrow_write(const struct jsonrow *jr, struct field_ctx *c, struct json *j,
		   const struct sock *s);

#endif
