#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

static int64_t read_clock(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

int64_t clock_real_ms(void)
{
	return read_clock(CLOCK_REALTIME);
}

size_t clock_rfc3339(char *buf, int64_t ms, bool millis)
{
	/* Floor division, so a time before the epoch still has 0..999 ms. */
	int64_t sec = ms / 1000, rem = ms % 1000;
	if (rem < 0) {
		rem += 1000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	int n;
	if (millis)
		n = snprintf(buf, CLOCK_RFC3339_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec, (int)rem);
	else
		n = snprintf(buf, CLOCK_RFC3339_SIZE, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec);
	if (n < 0)
		n = 0;
	if (n >= CLOCK_RFC3339_SIZE)
		n = CLOCK_RFC3339_SIZE - 1;
	return (size_t)n;
}

bool clock_parse_seconds(const char *s, uint64_t max_ms, uint64_t *ms)
{
	size_t whole = strcspn(s, ".");
	uint64_t sec, frac = 0;
	/* A million years of seconds is more than any interval anyone means. */
	if (!util_parse_u64(s, whole, UINT64_MAX / 1000 / 1000, &sec))
		return false;
	if (s[whole] == '.') {
		const char *f = s + whole + 1;
		size_t len = strlen(f);
		if (len == 0 || len > 3 || !util_parse_u64(f, len, 999, &frac))
			return false;
		for (size_t i = len; i < 3; i++)
			frac *= 10;
	}
	uint64_t v = sec * 1000 + frac;
	if (v > max_ms)
		return false;
	*ms = v;
	return true;
}
