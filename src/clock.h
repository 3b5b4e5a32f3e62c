#ifndef SRC_CLOCK_H
#define SRC_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Time for the loops (--watch, --events): a monotonic clock for intervals
 * and durations, the wall clock for the times printed, and the two text
 * forms both use. Pure but for the two clock reads.
 */

/* Milliseconds of CLOCK_MONOTONIC, for intervals and durations. */
int64_t clock_mono_ms(void);

/* Milliseconds since the epoch (CLOCK_REALTIME), for printed times. */
int64_t clock_real_ms(void);

/* Room for the longest clock_rfc3339 text, the NUL included. */
enum { CLOCK_RFC3339_SIZE = 32 };

/*
 * Writes ms (milliseconds since the epoch) as RFC 3339 in UTC into buf
 * (CLOCK_RFC3339_SIZE bytes): "2026-12-01T09:50:00Z", or with millis
 * "2026-12-01T09:50:00.123Z". Returns the length.
 */
size_t clock_rfc3339(char *buf, int64_t ms, bool millis);

/*
 * Parses a number of seconds, a whole number or a decimal with up to
 * three decimals ("2", "0.1", "1.25"), into milliseconds no larger than
 * max_ms. Returns false for anything else (signs, spaces, exponents, a
 * fourth decimal, an empty part).
 */
bool clock_parse_seconds(const char *s, uint64_t max_ms, uint64_t *ms);

#endif
