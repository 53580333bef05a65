/* Unit tests of common/ff_time: parsing, rounding, windows, time zones. */
#include "ff_time.h"
#include "unit.h"

static int64_t T(const char *s)
{
	int64_t t = -1;
	ff_time_parse(s, strlen(s), 1, &t);
	return t;
}

static int bad(const char *s)
{
	int64_t t;
	return ff_time_parse(s, strlen(s), 0, &t) < 0;
}

int main(void)
{
	char buf[32];
	CHECK(T("1970-01-01 00:00:00") == 0, "epoch");
	CHECK(T("2018-01-01 00:00:00") == 1514764800LL * FF_USEC, "2018 starts at 1514764800");
	CHECK(T("2018-01-01T00:00:00") == T("2018-01-01 00:00:00"), "T separator");
	CHECK(T("2018-01-01 00:00:00Z") == T("2018-01-01 00:00:00"), "Z suffix");
	CHECK(T("2018-01-01 01:00:00+01:00") == T("2018-01-01 00:00:00"), "+HH:MM offset");
	CHECK(T("2018-01-01 01:00:00+0100") == T("2018-01-01 00:00:00"), "+HHMM offset");
	CHECK(T("2017-12-31 19:00:00-0500") == T("2018-01-01 00:00:00"), "-HHMM offset");
	CHECK(T("2018-01-01 00:00:00+0000") == T("2018-01-01 00:00:00"), "+0000 offset");
	CHECK(T("2018-01-01 00:00:00.5") == T("2018-01-01 00:00:00") + 500000, "fraction");
	CHECK(T("2018-01-01 00:00:00.123456789") == T("2018-01-01 00:00:00") + 123456,
	      "fraction cut to the microsecond");
	CHECK(T("1969-12-31 23:59:59") == -FF_USEC, "before the epoch");
	CHECK(T("2016-02-29 12:00:00") > 0, "leap day");
	CHECK(T("2018-03-04") == T("2018-03-04 00:00:00"), "date alone when allowed");
	CHECK(bad("2018-03-04"), "date alone refused for data");
	CHECK(bad("2018-02-29 00:00:00"), "no 29 February 2018");
	CHECK(bad("2018-13-01 00:00:00"), "month 13");
	CHECK(bad("2018-01-01 24:00:00"), "hour 24");
	CHECK(bad("2018-01-01 00:00"), "no seconds");
	CHECK(bad("2018-01-01 00:00:00 "), "trailing blank");
	CHECK(bad("2018-01-01 00:00:00."), "empty fraction");
	CHECK(bad("2018-01-01 00:00:00+25:00"), "offset hour 25");
	CHECK(bad("x018-01-01 00:00:00"), "letter in the year");

	ff_time_format(T("2018-07-04 12:34:56"), buf);
	CHECK_STR(buf, "2018-07-04 12:34:56", "format whole seconds");
	ff_time_format(T("2018-07-04 12:34:56.25"), buf);
	CHECK_STR(buf, "2018-07-04 12:34:56.25", "format a fraction");
	ff_time_format(-FF_USEC, buf);
	CHECK_STR(buf, "1969-12-31 23:59:59", "format before the epoch");
	/* The lowest 775808 values once overflowed (seconds * 10^6 below
	 * INT64_MIN); ff-cat carried its own fix for them. */
	ff_time_format(INT64_MIN, buf);
	CHECK_STR(buf, "-290308-12-21 19:59:05.224192", "format INT64_MIN");
	ff_time_format(INT64_MIN + 775807, buf);
	CHECK_STR(buf, "-290308-12-21 19:59:05.999999", "format the last value of the lowest second");
	ff_time_format(INT64_MIN + 775808, buf);
	CHECK_STR(buf, "-290308-12-21 19:59:06", "format the first whole second");
	ff_time_yyyy_mm(T("2018-12-31 23:59:59"), buf);
	CHECK_STR(buf, "2018-12", "yyyy_mm");

	int64_t d;
	CHECK(ff_duration_parse("15m", &d) == 0 && d == 900 * FF_USEC, "15m");
	CHECK(ff_duration_parse("1h30m", &d) == 0 && d == 5400 * FF_USEC, "1h30m");
	CHECK(ff_duration_parse("2d", &d) == 0 && d == 172800 * FF_USEC, "2d");
	CHECK(ff_duration_parse("0s", &d) < 0, "zero duration refused");
	CHECK(ff_duration_parse("15", &d) < 0, "no unit refused");
	CHECK(ff_duration_parse("1.5h", &d) < 0, "fraction refused");
	/* Overflow: each number used to be capped at 1e9 and then multiplied,
	 * so 1000000000d wrapped to a time near 1970. The limit is 100 years. */
	CHECK(ff_duration_parse("1000000000d", &d) < 0, "1000000000d refused");
	CHECK(ff_duration_parse("36525d", &d) == 0 && d == FF_DURATION_MAX, "36525d, the limit, taken");
	CHECK(ff_duration_parse("36525d1s", &d) < 0, "a second over the limit refused");
	CHECK(ff_duration_parse("3155760001s", &d) < 0, "the limit plus one in seconds refused");
	CHECK(ff_duration_parse("36524d86400s", &d) == 0 && d == FF_DURATION_MAX, "the limit in two parts");
	CHECK(ff_duration_parse("99999999999999999999s", &d) < 0, "a number past int64 refused");
	CHECK(ff_duration_parse("9223372036854775807s", &d) < 0, "INT64_MAX seconds refused");
	CHECK(ff_duration_parse("153722867280912930m", &d) < 0, "minutes overflowing int64 refused");
	CHECK(ff_duration_parse("36000d36000d36000d", &d) < 0, "parts summing past the limit refused");
	int64_t t;
	CHECK(ff_time_parse("0000-01-01", 10, 1, &t) < 0, "year 0 refused");
	CHECK(ff_time_parse("0001-01-01", 10, 1, &t) == 0 && t == ff_days_from_civil(1, 1, 1) * 86400 * FF_USEC,
	      "year 1 taken");
	CHECK(ff_time_parse("9999-12-31 23:59:59.999999", 26, 0, &t) == 0 &&
	      t + FF_DURATION_MAX > t, "9999-12-31 plus the longest duration fits");
	ff_duration_format(5400 * FF_USEC, buf);
	CHECK_STR(buf, "1h30m", "duration format");

	int64_t q = 900 * FF_USEC;
	CHECK(ff_time_ceil(T("2018-01-01 10:15:00"), q) == T("2018-01-01 10:15:00"), "ceil keeps a boundary");
	CHECK(ff_time_ceil(T("2018-01-01 10:15:00.000001"), q) == T("2018-01-01 10:30:00"), "ceil past a boundary");
	CHECK(ff_time_floor(T("2018-01-01 10:29:59"), q) == T("2018-01-01 10:15:00"), "floor");
	CHECK(ff_time_floor(-1, q) == -q, "floor below the epoch");
	CHECK(ff_floor_div(-1, 900) == -1 && ff_floor_div(899, 900) == 0, "floor division");

	struct ff_local_time lt;
	/* 2018-01-06 04:30 UTC is Friday 23:30 in New York; 05:00 UTC is Saturday. */
	CHECK(ff_time_local("America/New_York", T("2018-01-06 04:30:00"), &lt) == 0 &&
		      lt.day_of_week == 5 && lt.hour == 23, "New York Friday night");
	CHECK(ff_time_local("America/New_York", T("2018-01-06 05:00:00"), &lt) == 0 &&
		      lt.day_of_week == 6 && lt.hour == 0, "New York Saturday midnight");
	/* DST: 2018-03-11 07:00 UTC is 03:00 EDT (Sunday); 2018-11-04 06:00 UTC is 01:00 EST. */
	CHECK(ff_time_local("America/New_York", T("2018-03-11 07:00:00"), &lt) == 0 && lt.hour == 3,
	      "spring forward");
	CHECK(ff_time_local("America/New_York", T("2018-11-04 06:00:00"), &lt) == 0 && lt.hour == 1 &&
		      lt.day_of_week == 7, "fall back");
	CHECK(ff_time_local("UTC", T("2018-01-06 04:30:00"), &lt) == 0 && lt.day_of_week == 6, "UTC Saturday");
	/* The same instant in turn in three zones: the last times converted
	 * are kept per zone, never given for another. */
	for (int round = 0; round < 2; round++) {
		CHECK(ff_time_local("America/New_York", T("2018-06-01 12:00:00"), &lt) == 0 && lt.hour == 8,
		      "New York after other zones");
		CHECK(ff_time_local("Asia/Tokyo", T("2018-06-01 12:00:00"), &lt) == 0 && lt.hour == 21,
		      "Tokyo after New York");
		CHECK(ff_time_local("UTC", T("2018-06-01 12:00:00"), &lt) == 0 && lt.hour == 12, "UTC after Tokyo");
	}

	/* Naive input times in a zone (ff_time_parse_zone): New York wall clock. */
	const char *ny = "America/New_York";
#define Z(text) (ff_time_parse_zone(text, strlen(text), 1, ny, &t) == 0 ? t : -1)
	CHECK(Z("2018-01-06 02:00:00") == T("2018-01-06 07:00:00"), "EST: UTC-5");
	CHECK(Z("2018-07-06 02:00:00") == T("2018-07-06 06:00:00"), "EDT: UTC-4");
	CHECK(Z("2018-01-06 02:00:00.25") == T("2018-01-06 07:00:00") + 250000, "fraction kept");
	CHECK(Z("2018-01-06") == T("2018-01-06 05:00:00"), "a date: local midnight");
	CHECK(Z("2018-01-06 02:00:00Z") == T("2018-01-06 02:00:00"), "Z kept");
	CHECK(Z("2018-01-06 02:00:00+01:00") == T("2018-01-06 01:00:00"), "an offset kept");
	/* Spring forward 2018-03-11: 02:00-02:59 never happens; 01:59:59 EST, 03:00 EDT do. */
	CHECK(ff_time_parse_zone("2018-03-11 02:30:00", 19, 0, ny, &t) == FF_TIME_GAP, "the gap is refused");
	CHECK(Z("2018-03-11 01:59:59") == T("2018-03-11 06:59:59"), "before the gap");
	CHECK(Z("2018-03-11 03:00:00") == T("2018-03-11 07:00:00"), "after the gap");
	/* Fall back 2018-11-04: 01:30 happens at 05:30 UTC (EDT) and 06:30 UTC (EST): the first. */
	CHECK(Z("2018-11-04 01:30:00") == T("2018-11-04 05:30:00"), "the overlap: the earlier instant");
	CHECK(Z("2018-11-04 02:00:00") == T("2018-11-04 07:00:00"), "after the overlap");
	CHECK(ff_time_parse_zone("2018-01-06 02:00:00", 19, 0, NULL, &t) == 0 && t == T("2018-01-06 02:00:00"),
	      "no zone: UTC");
	CHECK(ff_time_parse_zone("2018-01-06 02:00:00", 19, 0, "Mars/Olympus", &t) == -1, "unknown zone");
	CHECK(ff_time_parse_zone("2018-01-06 2:00:00", 18, 0, ny, &t) == -1, "not a time");
#undef Z
	CHECK(ff_zone_check("Mars/Olympus") < 0, "unknown zone");
	CHECK(ff_zone_check("../etc/passwd") < 0, "zone path refused");
	return UNIT_DONE();
}
