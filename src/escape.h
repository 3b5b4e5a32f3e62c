#ifndef SRC_ESCAPE_H
#define SRC_ESCAPE_H

#include <stddef.h>

#include "buf.h"

/*
 * Text that any local user controls (process names, UNIX socket paths) is
 * escaped before it reaches a terminal or a JSON reader.
 */

/*
 * Appends s (len bytes, may hold NUL) for the table: printable ASCII as
 * is, except backslash as "\\"; \n \t \r as those two-character escapes;
 * other control bytes, DEL, C1 controls, and bytes that are not part of
 * valid UTF-8 as \xNN; valid printable UTF-8 as is. The output never
 * holds a control byte.
 */
void escape_text(struct buf *out, const char *s, size_t len);

/*
 * Appends s as a JSON string with its quotes: RFC 8259 escapes, control
 * characters as \u00XX, every byte that is not valid UTF-8 as U+FFFD, so
 * the result is valid UTF-8 and valid JSON whatever s holds.
 */
void escape_json(struct buf *out, const char *s, size_t len);

/*
 * The terminal cells that s (len bytes of escape_text output) takes under
 * the C library's LC_CTYPE locale: wcwidth of each character mbrtowc reads,
 * so a CJK character counts two and a combining mark none; where the
 * locale reads no such character (the C locale), one per UTF-8 lead byte.
 * Escapes count as what they are, ASCII: "\\x1b" is four cells.
 */
size_t escape_width(const char *s, size_t len);

#endif
