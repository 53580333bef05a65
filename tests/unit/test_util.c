/* Unit tests of common/ff_util: strict number parsing, double formatting. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ff_util.h"
#include "unit.h"

static int round_trips(double v)
{
	char buf[32];
	int n = ff_format_double(buf, v);
	double back;
	if (ff_parse_double(buf, (size_t)n, &back) < 0)
		return 0;
	return memcmp(&back, &v, sizeof v) == 0;
}

/* The significant digits of a formatted number, and the fewest that any
 * %g text of v needs to read back (by trying every precision). */
static int digits(const char *text)
{
	int n = 0, lead = 1;
	for (const char *p = text; *p && *p != 'e'; p++) {
		if (*p < '0' || *p > '9')
			continue;
		if (*p != '0')
			lead = 0;
		n += !lead;
	}
	/* trailing zeros of an integer written in full are not significant */
	const char *e = strchr(text, 'e'), *end = e ? e : text + strlen(text);
	if (!strchr(text, '.'))
		while (end > text && end[-1] == '0' && n > 1)
			end--, n--;
	return n ? n : 1;
}

static int fewest_digits(double v)
{
	char buf[40];
	for (int prec = 1;; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return prec;
	}
}

static int shortest(double v)
{
	char buf[32];
	ff_format_double(buf, v);
	return digits(buf) == fewest_digits(v);
}

static const char *fmt(double v)
{
	static char buf[32];
	ff_format_double(buf, v);
	return buf;
}

int main(void)
{
	double d;
	int64_t i;
	CHECK(ff_parse_double("12.5", 4, &d) == 0 && d == 12.5, "decimal");
	CHECK(ff_parse_double("-0.75", 5, &d) == 0 && d == -0.75, "negative decimal");
	CHECK(ff_parse_double("1e3", 3, &d) == 0 && d == 1000, "exponent");
	CHECK(ff_parse_double("0.1", 3, &d) == 0 && d == 0.1, "fast path equals strtod");
	CHECK(ff_parse_double("123456789012345678", 18, &d) == 0 && d == 123456789012345678.0,
	      "more digits than the fast path");
	CHECK(ff_parse_double("nan", 3, &d) < 0, "nan refused");
	CHECK(ff_parse_double("inf", 3, &d) < 0, "inf refused");
	CHECK(ff_parse_double("0x10", 4, &d) < 0, "hex refused");
	CHECK(ff_parse_double(" 1", 2, &d) < 0, "blank refused");
	CHECK(ff_parse_double("1.2.3", 5, &d) < 0, "two points refused");
	CHECK(ff_parse_double("", 0, &d) < 0, "empty refused");
	CHECK(ff_parse_double("-", 1, &d) < 0, "sign alone refused");
	CHECK(ff_parse_int64("-9223372036854775808", 20, &i) == 0 && i == INT64_MIN, "int64 min");
	CHECK(ff_parse_int64("9223372036854775808", 19, &i) < 0, "int64 overflow refused");
	CHECK(ff_parse_int64("12a", 3, &i) < 0, "letters refused");

	CHECK_STR(fmt(12.5), "12.5", "short decimal");
	CHECK_STR(fmt(8.9), "8.9", "inexact short decimal");
	CHECK_STR(fmt(100), "100", "integer");
	CHECK_STR(fmt(-0.25), "-0.25", "negative");
	CHECK_STR(fmt(0.0), "0", "zero");
	CHECK_STR(fmt(-0.0), "-0", "negative zero");
	CHECK_STR(fmt(1.0 / 3), "0.3333333333333333", "1/3 in its shortest form");
	CHECK_STR(fmt(28.0 / 3), "9.333333333333334", "shortest, not 17 digits");
	CHECK_STR(fmt(1e300), "1e+300", "large");
	CHECK_STR(fmt(0.1), "0.1", "0.1");
	CHECK_STR(fmt(0.1 + 0.2), "0.30000000000000004", "17 digits when needed");
	CHECK_STR(fmt(5e-324), "5e-324", "smallest subnormal");
	CHECK_STR(fmt(1e21), "1e+21", "1e21");
	CHECK_STR(fmt(9007199254740993.0), "9007199254740992", "2^53+1 (rounds to 2^53)");
	CHECK_STR(fmt(9007199254740994.0), "9007199254740994", "2^53+2");
	CHECK_STR(fmt(1e-7), "1e-07", "below the plain-decimal range");
	CHECK_STR(fmt(2.2250738585072014e-308), "2.2250738585072014e-308", "smallest normal");
	CHECK_STR(fmt(1.7976931348623157e308), "1.7976931348623157e+308", "largest");
	int all = 1;
	uint64_t x = 88172645463325252ULL;
	for (int k = 0; k < 200000; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		memcpy(&v, &x, sizeof v);
		if (!isfinite(v))
			continue;
		if (!round_trips(v) || !round_trips((double)(x % 100000) / 100) ||
		    !round_trips((double)(x % 1000) / 7) || !shortest(v) ||
		    !shortest((double)(x % 1000) / 7)) {
			all = 0;
			printf("# %.17g does not round-trip\n", v);
			break;
		}
	}
	CHECK(all, "random doubles read back to the same bits, in the fewest digits");
	CHECK(round_trips(4.9e-324) && round_trips(1.7976931348623157e308), "extremes round-trip");
	return UNIT_DONE();
}
