#include "ff_time.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ff_util.h"

int64_t ff_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's days_from_civil. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void ff_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Events come in time order, so most share the date of the one before:
 * remember the last date parsed (per thread) and its day number. */
static _Thread_local char last_date[10];
static _Thread_local int64_t last_days;

/* ff_time_parse, telling whether the text gave its offset (or Z). */
static int parse(const char *s, size_t len, int allow_date, int64_t *usec, int *has_offset);

int ff_time_parse(const char *s, size_t len, int allow_date, int64_t *usec)
{
	int has_offset;
	return parse(s, len, allow_date, usec, &has_offset);
}

/* The offset of zone from UTC at t (seconds), in seconds: 0 or -1. */
static int zone_offset(const char *zone, int64_t t, int64_t *offset)
{
	struct ff_local_time lt;
	if (ff_time_local(zone, t * FF_USEC, &lt) < 0)
		return -1;
	int64_t local = ff_days_from_civil(lt.year, (unsigned)lt.month, (unsigned)lt.day) * 86400 +
			lt.hour * 3600 + lt.minute * 60 + lt.second;
	*offset = local - t;
	return 0;
}

int ff_time_parse_zone(const char *s, size_t len, int allow_date, const char *zone, int64_t *usec)
{
	int has_offset;
	if (parse(s, len, allow_date, usec, &has_offset) < 0)
		return -1;
	if (has_offset || !zone || strcmp(zone, "UTC") == 0)
		return 0;
	/* The wall time read as UTC, L: the instants it may be are L less the
	 * zone's offset a day before and a day after (no zone changes twice
	 * within two days); one is right if the zone has that offset then. */
	int64_t frac = *usec - ff_floor_div(*usec, FF_USEC) * FF_USEC, wall = ff_floor_div(*usec, FF_USEC);
	int64_t before, after, found = INT64_MAX;
	if (zone_offset(zone, wall - 86400, &before) < 0 || zone_offset(zone, wall + 86400, &after) < 0)
		return -1;
	int64_t tries[2] = {wall - before, wall - after};
	for (int k = 0; k < 2; k++) {
		int64_t at;
		if (zone_offset(zone, tries[k], &at) < 0)
			return -1;
		if (tries[k] + at == wall && tries[k] < found)
			found = tries[k]; /* an overlap: the earlier of the two */
	}
	if (found == INT64_MAX)
		return FF_TIME_GAP; /* skipped by a change to summer time */
	*usec = found * FF_USEC + frac;
	return 0;
}

static const char *const input_names[] = {"text", "date", "epoch-s", "epoch-ms"};

int ff_time_input_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, input_names[i]) == 0)
			return i;
	return -1;
}

const char *ff_time_input_name(int format)
{
	return format >= 0 && format < 4 ? input_names[format] : "text";
}

int ff_time_from_epoch(int64_t v, int format, int64_t *usec)
{
	int64_t scale = format == FF_TIME_EPOCH_S ? FF_USEC : format == FF_TIME_EPOCH_MS ? 1000 : 0;
	int64_t t;
	/* The years 1 to 9999, as text times. */
	if (!scale || __builtin_mul_overflow(v, scale, &t) || t < -62135596800LL * FF_USEC ||
	    t > 253402300799LL * FF_USEC)
		return -1;
	*usec = t;
	return 0;
}

int ff_time_parse_input(const char *s, size_t len, int format, const char *zone, int64_t *usec)
{
	if (format == FF_TIME_EPOCH_S || format == FF_TIME_EPOCH_MS) {
		int64_t v;
		if (ff_parse_int64(s, len, &v) < 0)
			return -1;
		return ff_time_from_epoch(v, format, usec);
	}
	return ff_time_parse_zone(s, len, format == FF_TIME_DATE, zone, usec);
}

static int parse(const char *s, size_t len, int allow_date, int64_t *usec, int *has_offset)
{
	*has_offset = 0;
	int Y, M, D, h = 0, mi = 0, sec = 0;
	int64_t days;
	if (len < 10)
		return -1;
	if (memcmp(s, last_date, 10) == 0) {
		days = last_days;
	} else {
		if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
		    digits(s + 8, 2, &D))
			return -1;
		if (Y < 1 || M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M))
			return -1;
		days = ff_days_from_civil(Y, (unsigned)M, (unsigned)D);
		memcpy(last_date, s, 10);
		last_days = days;
	}
	size_t i = 10;
	int64_t frac = 0;
	int64_t offset = 0;
	if (len == 10) {
		if (!allow_date)
			return -1;
	} else {
		if (len < 19 || (s[10] != ' ' && s[10] != 'T') || digits(s + 11, 2, &h) ||
		    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
			return -1;
		if (h > 23 || mi > 59 || sec > 59)
			return -1;
		i = 19;
		if (i < len && s[i] == '.') {
			i++;
			int nd = 0;
			int64_t scale = 100000;
			while (i < len && s[i] >= '0' && s[i] <= '9') {
				if (nd < 6)
					frac += (s[i] - '0') * scale;
				scale /= 10;
				nd++;
				i++;
			}
			if (nd == 0 || nd > 9)
				return -1;
		}
		if (i < len) {
			*has_offset = 1;
			if (s[i] == 'Z' && i + 1 == len) {
				i++;
			} else if (s[i] == '+' || s[i] == '-') {
				int oh, om;
				size_t rest = len - i - 1;
				const char *o = s + i + 1;
				if (rest == 5 && o[2] == ':' && !digits(o, 2, &oh) && !digits(o + 3, 2, &om))
					;
				else if (rest == 4 && !digits(o, 2, &oh) && !digits(o + 2, 2, &om))
					;
				else
					return -1;
				if (oh > 23 || om > 59)
					return -1;
				offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
				i = len;
			} else {
				return -1;
			}
		}
	}
	if (i != len)
		return -1;
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset;
	*usec = secs * FF_USEC + frac;
	return 0;
}

int ff_duration_parse(const char *s, int64_t *usec)
{
	int64_t total = 0;
	const char *p = s;
	if (!*p)
		return -1;
	while (*p) {
		if (*p < '0' || *p > '9')
			return -1;
		int64_t n = 0;
		while (*p >= '0' && *p <= '9') {
			/* Overflow checked at each digit: the limit below is far
			 * smaller, so an overflowing number is refused anyway. */
			if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, *p - '0', &n))
				return -1;
			p++;
		}
		int64_t unit;
		switch (*p) {
		case 'd': unit = 86400; break;
		case 'h': unit = 3600; break;
		case 'm': unit = 60; break;
		case 's': unit = 1; break;
		default: return -1;
		}
		p++;
		if (__builtin_mul_overflow(n, unit, &n) || __builtin_add_overflow(total, n, &total) ||
		    total > FF_DURATION_MAX / FF_USEC)
			return -1;
	}
	if (total <= 0)
		return -1;
	*usec = total * FF_USEC;
	return 0;
}

void ff_duration_format(int64_t usec, char *buf)
{
	int64_t s = usec / FF_USEC;
	static const struct { int64_t secs; char unit; } units[] = {
		{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	buf[0] = '\0';
	size_t n = 0;
	for (size_t i = 0; i < 4; i++) {
		if (s >= units[i].secs) {
			n += (size_t)snprintf(buf + n, 32 - n, "%lld%c",
					      (long long)(s / units[i].secs), units[i].unit);
			s %= units[i].secs;
		}
	}
	if (n == 0)
		snprintf(buf, 32, "0s");
}

int64_t ff_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t ff_time_floor(int64_t t, int64_t step) { return ff_floor_div(t, step) * step; }

int64_t ff_time_ceil(int64_t t, int64_t step)
{
	int64_t f = ff_time_floor(t, step);
	return f == t ? t : f + step;
}

static char *two(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

int ff_time_format(int64_t usec, char *buf)
{
	/* Split without multiplying back: secs * 10^6 overflows near INT64_MIN. */
	int64_t secs = usec / FF_USEC, frac = usec % FF_USEC;
	if (frac < 0) {
		frac += FF_USEC;
		secs--;
	}
	int64_t days = ff_floor_div(secs, 86400);
	int64_t rem = secs - days * 86400;
	int64_t y;
	unsigned m, d;
	ff_civil_from_days(days, &y, &m, &d);
	char *p = buf;
	if (y >= 0 && y <= 9999) {
		p = two(p, (unsigned)(y / 100));
		p = two(p, (unsigned)(y % 100));
	} else {
		p += snprintf(p, 16, "%04lld", (long long)y);
	}
	*p++ = '-';
	p = two(p, m);
	*p++ = '-';
	p = two(p, d);
	*p++ = ' ';
	p = two(p, (unsigned)(rem / 3600));
	*p++ = ':';
	p = two(p, (unsigned)(rem / 60 % 60));
	*p++ = ':';
	p = two(p, (unsigned)(rem % 60));
	if (frac) {
		*p++ = '.';
		for (int64_t div = 100000; div > 0 && frac; div /= 10) {
			*p++ = (char)('0' + frac / div);
			frac %= div;
		}
	}
	*p = '\0';
	return (int)(p - buf);
}

void ff_time_yyyy_mm(int64_t usec, char *buf)
{
	int64_t days = ff_floor_div(ff_floor_div(usec, FF_USEC), 86400);
	int64_t y;
	unsigned m, d;
	ff_civil_from_days(days, &y, &m, &d);
	unsigned yy = (unsigned)((y % 10000 + 10000) % 10000);
	buf[0] = (char)('0' + yy / 1000);
	buf[1] = (char)('0' + yy / 100 % 10);
	buf[2] = (char)('0' + yy / 10 % 10);
	buf[3] = (char)('0' + yy % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m / 10);
	buf[6] = (char)('0' + m % 10);
	buf[7] = '\0';
}

/* glibc converts through the TZ variable; switch it only when the zone changes. */
static char current_zone[256];

static int use_zone(const char *zone)
{
	if (strcmp(current_zone, zone) == 0 && current_zone[0])
		return 0;
	if (strlen(zone) >= sizeof current_zone)
		return -1;
	if (ff_zone_check(zone) < 0)
		return -1;
	char spec[sizeof current_zone + 1];
	snprintf(spec, sizeof spec, ":%s", zone);
	setenv("TZ", spec, 1);
	tzset();
	snprintf(current_zone, sizeof current_zone, "%s", zone);
	return 0;
}

int ff_zone_check(const char *zone)
{
	if (strcmp(zone, "UTC") == 0)
		return 0;
	if (!*zone || zone[0] == '/' || strstr(zone, ".."))
		return -1;
	/* glibc silently falls back to UTC for a zone it cannot find: look first. */
	const char *dir = getenv("TZDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

/* The last times converted, per thread: windows come in runs of the same
 * end (and start), and glibc's conversion costs a zone lookup each. */
static _Thread_local struct {
	char zone[64];
	time_t t;
	struct ff_local_time lt;
} local_seen[2];
static _Thread_local unsigned local_next;

int ff_time_local(const char *zone, int64_t usec, struct ff_local_time *out)
{
	time_t t = (time_t)ff_floor_div(usec, FF_USEC);
	for (int i = 0; i < 2; i++)
		if (local_seen[i].t == t && local_seen[i].zone[0] && strcmp(local_seen[i].zone, zone) == 0) {
			*out = local_seen[i].lt;
			return 0;
		}
	struct tm tm;
	if (strcmp(zone, "UTC") == 0) {
		if (!gmtime_r(&t, &tm))
			return -1;
	} else {
		if (use_zone(zone) < 0 || !localtime_r(&t, &tm))
			return -1;
	}
	out->year = tm.tm_year + 1900;
	out->month = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->minute = tm.tm_min;
	out->second = tm.tm_sec;
	out->day_of_week = tm.tm_wday == 0 ? 7 : tm.tm_wday;
	size_t zlen = strlen(zone);
	if (zlen < sizeof local_seen[0].zone) {
		unsigned i = local_next++ & 1;
		memcpy(local_seen[i].zone, zone, zlen + 1);
		local_seen[i].t = t;
		local_seen[i].lt = *out;
	}
	return 0;
}
