#ifndef SRC_JSONROW_H
#define SRC_JSONROW_H

#include "field.h"
#include "json.h"

/*
 * Writes s as one JSON object: every field of the schema that has a key,
 * whose needs are in have (field_have) and that s has, in schema order.
 */
void jsonrow_write(struct field_ctx *c, struct json *j, const struct sock *s, unsigned have);

#endif
