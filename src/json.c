#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

void json_init(struct json *j, struct buf *out)
{
	j->out = out;
	j->depth = 0;
	j->after_key = false;
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		j->first[i] = true;
}

/*
 * Writes the comma a value or key needs. Values at depth 0 are a stream
 * (NDJSON, or the caller's own framing), so they take no comma.
 */
static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0 && !j->first[j->depth])
		buf_addc(j->out, ',');
	j->first[j->depth] = false;
}

static void nest(struct json *j, char c)
{
	sep(j);
	buf_addc(j->out, c);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		/*
		 * Deeper nesting is a bug in the caller; failing the buffer
		 * makes the flush report it instead of emitting broken JSON.
		 */
		j->out->failed = true;
		return;
	}
	j->depth++;
	j->first[j->depth] = true;
}

static void unnest(struct json *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	j->after_key = false;
	buf_addc(j->out, c);
}

void json_object_begin(struct json *j) { nest(j, '{'); }
void json_object_end(struct json *j) { unnest(j, '}'); }
void json_array_begin(struct json *j) { nest(j, '['); }
void json_array_end(struct json *j) { unnest(j, ']'); }

void json_key(struct json *j, const char *key)
{
	sep(j);
	escape_json(j->out, key, strlen(key));
	buf_addc(j->out, ':');
	j->after_key = true;
}

void json_string(struct json *j, const char *s, size_t len)
{
	sep(j);
	escape_json(j->out, s, len);
}

void json_cstring(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_string(j, s, strlen(s));
}

void json_uint(struct json *j, uint64_t v)
{
	sep(j);
	buf_addu(j->out, v);
}

void json_int(struct json *j, int64_t v)
{
	sep(j);
	if (v < 0) {
		buf_addc(j->out, '-');
		buf_addu(j->out, (unsigned long long)(-(v + 1)) + 1);
	} else {
		buf_addu(j->out, (unsigned long long)v);
	}
}

void json_double(struct json *j, double v)
{
	if (!isfinite(v)) {
		/* JSON has no NaN or Infinity. */
		json_null(j);
		return;
	}
	sep(j);
	/* The shortest of the usual precisions that reads back exactly. */
	char tmp[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* A locale with a decimal comma must not leak into JSON. */
	for (char *p = tmp; *p; p++)
		if (*p == ',')
			*p = '.';
	buf_adds(j->out, tmp);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	buf_adds(j->out, v ? "true" : "false");
}

void json_null(struct json *j)
{
	sep(j);
	buf_adds(j->out, "null");
}
