/* ff_time: timestamps as microseconds since the Unix epoch (UTC), durations,
 * rounding to intervals, window arithmetic and calendar fields in a named
 * time zone. The rules are those of ff-semantics(7). */
#ifndef FF_TIME_H
#define FF_TIME_H

#include <stddef.h>
#include <stdint.h>

#define FF_USEC 1000000LL

/* The longest duration ff takes: 100 years of 365.25 days. Times are of the
 * years 1 to 9999, so a time plus or minus a duration never overflows. */
#define FF_DURATION_MAX (36525LL * 86400 * FF_USEC)

/* Parse "YYYY-MM-DD HH:MM:SS" with optional 'T' separator, fraction of a
 * second (kept to the microsecond), and offset Z, +HH:MM, +HHMM, -HH:MM, -HHMM.
 * Naive times are UTC; the year is 0001 to 9999. With allow_date, a bare
 * "YYYY-MM-DD" is midnight. Returns 0 or -1 (no message). */
int ff_time_parse(const char *s, size_t len, int allow_date, int64_t *usec);

/* The one reader of input times (ff-semantics(7), Input time zone): as
 * ff_time_parse, but a naive time is wall-clock time in zone (an IANA name;
 * NULL or "UTC": UTC, the default). A wall time that happens twice (clocks
 * set back) is the earlier instant, the first offset; one that never
 * happens (clocks set forward over it) is refused: FF_TIME_GAP. Times with
 * an offset or Z keep it. Returns 0, -1 (not a time, or an unknown zone)
 * or FF_TIME_GAP; no message. */
#define FF_TIME_GAP (-2)
int ff_time_parse_zone(const char *s, size_t len, int allow_date, const char *zone, int64_t *usec);

/* How input times are written (the input-time-format directive): text, a
 * date and a time of day as above (the default); date, text that may also
 * be a date alone (midnight); epoch-s and epoch-ms, whole seconds or
 * milliseconds since 1970-01-01 UTC (no zone applies). */
enum ff_time_input { FF_TIME_TEXT, FF_TIME_DATE, FF_TIME_EPOCH_S, FF_TIME_EPOCH_MS };
/* The format of a name, or -1; and the name of a format. */
int ff_time_input_parse(const char *name);
const char *ff_time_input_name(int format);
/* Read an input time written in format: as ff_time_parse_zone. */
int ff_time_parse_input(const char *s, size_t len, int format, const char *zone, int64_t *usec);
/* An integer input time (a binary record's) in an epoch format. Returns 0 or -1. */
int ff_time_from_epoch(int64_t v, int format, int64_t *usec);

/* Parse a duration: a positive whole number of seconds written as one or more
 * NUMBER+UNIT parts (units d, h, m, s), e.g. "1h", "15m", "1h30m", "900s",
 * at most FF_DURATION_MAX (36525d) in all. Returns 0 or -1 (also for any
 * number that would overflow). */
int ff_duration_parse(const char *s, int64_t *usec);
/* Canonical text of a duration ("1h", "15m", "1d", "1h30m"); buf of 32 bytes. */
void ff_duration_format(int64_t usec, char *buf);

/* Floor and ceiling division for possibly negative numerators. */
int64_t ff_floor_div(int64_t a, int64_t b);
/* t rounded down / up to a multiple of step (a multiple stays). */
int64_t ff_time_floor(int64_t t, int64_t step);
int64_t ff_time_ceil(int64_t t, int64_t step);

/* Format whole seconds of t as "YYYY-MM-DD HH:MM:SS" (UTC); buf of 32 bytes.
 * Fractions are written only when non-zero. Returns the length. */
int ff_time_format(int64_t usec, char *buf);
/* "YYYY-MM" of t in UTC; buf of 8 bytes. */
void ff_time_yyyy_mm(int64_t usec, char *buf);

/* Days since 1970-01-01 of a civil date, and back. */
int64_t ff_days_from_civil(int64_t y, unsigned m, unsigned d);
void ff_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Calendar fields of t in a time zone (an IANA name such as
 * "America/New_York", or "UTC"). */
struct ff_local_time {
	int year, month, day, hour, minute, second;
	int day_of_week; /* ISO: 1 = Monday .. 7 = Sunday */
};
/* Returns 0, or -1 if the zone is unknown. */
int ff_time_local(const char *zone, int64_t usec, struct ff_local_time *out);
/* 0 if zone names a time zone this machine knows, -1 otherwise. */
int ff_zone_check(const char *zone);

#endif
