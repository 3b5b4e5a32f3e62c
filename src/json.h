#ifndef SRC_JSON_H
#define SRC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * A streaming JSON writer into a struct buf: it tracks nesting and commas,
 * the caller flushes the buffer when it likes, so memory does not grow
 * with the number of values written. Output is compact (no spaces).
 */
enum { JSON_MAX_DEPTH = 16 };

struct json {
	struct buf *out;                 /* not owned */
	int depth;
	bool first[JSON_MAX_DEPTH];      /* nothing written yet at this level */
	bool after_key;
};

void json_init(struct json *j, struct buf *out);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);       /* key: plain ASCII */
void json_string(struct json *j, const char *s, size_t len);
void json_cstring(struct json *j, const char *s);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

#endif
