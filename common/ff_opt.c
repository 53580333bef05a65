#include "ff_opt.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_csv.h"
#include "ff_db.h"
#include "ff_time.h"
#include "ff_util.h"

void ff_opt_start(int argc, char **argv)
{
	(void)argc;
	ff_set_progname(argv[0]);
	argv[0] = (char *)ff_progname();
	opterr = 0;
}

static _Noreturn void print_and_exit(const char *text)
{
	if (text)
		fputs(text, stdout);
	else
		ff_print_version();
	exit(ff_close_stdout() ? FF_EXIT_FAIL : FF_EXIT_OK);
}

/* The one message of a bad value. */
static _Noreturn void bad_value(const char *opt, const char *text, const char *expected)
{
	ff_usage_error("bad %s '%s': %s", opt, text, expected);
}

void ff_opt_default(int c, char **argv, const char *usage)
{
	if (c == 'q')
		ff_set_quiet(1);
	else if (c == 'h' || c == 'V')
		print_and_exit(c == 'h' ? usage : NULL);
	else if (c == FF_OPT_DELIMITER && ff_csv_set_delimiter(optarg) < 0)
		bad_value("--delimiter", optarg, "one byte such as ';' or '|', or tab");
	else if (c == FF_OPT_WAIT)
		ff_db_set_wait((int)(ff_opt_real("--wait", optarg, 0, 86400) * 1000));
	else if (c != FF_OPT_DELIMITER)
		ff_usage_bad_option(c, argv);
}

int64_t ff_opt_int(const char *opt, const char *text, int64_t lo, int64_t hi)
{
	int64_t v;
	if (ff_parse_int64(text, strlen(text), &v) == 0 && v >= lo && v <= hi)
		return v;
	char expected[96];
	if (hi == INT64_MAX)
		snprintf(expected, sizeof expected, "a whole number, %" PRId64 " or more", lo);
	else
		snprintf(expected, sizeof expected, "a whole number from %" PRId64 " to %" PRId64, lo, hi);
	bad_value(opt, text, expected);
}

double ff_opt_real(const char *opt, const char *text, double lo, double hi)
{
	double d;
	if (ff_parse_double(text, strlen(text), &d) == 0 && isfinite(d) && d >= lo && d <= hi)
		return d;
	char expected[96];
	if (isinf(hi))
		snprintf(expected, sizeof expected, "a finite number, %g or more", lo);
	else
		snprintf(expected, sizeof expected, "a number from %g to %g", lo, hi);
	bad_value(opt, text, expected);
}

int64_t ff_opt_count_or_percent(const char *opt, const char *text, double *percent)
{
	int64_t v;
	double d;
	size_t len = strlen(text);
	if (len > 1 && text[len - 1] == '%') {
		if (ff_parse_double(text, len - 1, &d) == 0 && isfinite(d) && d >= 0 && d <= 100) {
			*percent = d;
			return -1;
		}
	} else if (ff_parse_int64(text, len, &v) == 0 && v >= 0) {
		return v;
	}
	bad_value(opt, text, "a number of rows such as 100, or a percentage such as 1%");
}

uint64_t ff_opt_size(const char *opt, const char *text, uint64_t lo, uint64_t hi)
{
	int64_t v;
	size_t len = strlen(text);
	uint64_t scale = 1;
	if (len > 1 && strchr("kKmMgG", text[len - 1])) {
		scale = strchr("kK", text[len - 1]) ? 1024 : strchr("mM", text[len - 1]) ? 1024 * 1024
										       : 1024 * 1024 * 1024;
		len--;
	}
	if (ff_parse_int64(text, len, &v) == 0 && v >= 0 && (uint64_t)v <= hi / scale &&
	    (uint64_t)v * scale >= lo)
		return (uint64_t)v * scale;
	char expected[128];
	snprintf(expected, sizeof expected,
		 "a whole number from %" PRIu64 " to %" PRIu64 " (K, M and G suffixes)", lo, hi);
	bad_value(opt, text, expected);
}

int64_t ff_opt_duration(const char *opt, const char *text, const char *examples)
{
	int64_t usec;
	if (ff_duration_parse(text, &usec) == 0)
		return usec;
	char expected[128];
	snprintf(expected, sizeof expected, "a duration such as %s", examples);
	bad_value(opt, text, expected);
}

int64_t ff_opt_time(const char *opt, const char *text)
{
	int64_t usec;
	if (ff_time_parse(text, strlen(text), 1, &usec) == 0)
		return usec;
	bad_value(opt, text, "a time such as 2018-07-01 or 2018-07-01 12:00:00");
}

int64_t ff_opt_date(const char *opt, const char *text)
{
	int64_t usec;
	if (strlen(text) == 10 && ff_time_parse(text, 10, 1, &usec) == 0)
		return usec;
	bad_value(opt, text, "use a date YYYY-MM-DD");
}

int ff_opt_enum(const char *opt, const char *text, const char *const *choices)
{
	size_t n = 0;
	for (; choices[n]; n++)
		if (strcmp(text, choices[n]) == 0)
			return (int)n;
	char expected[256] = "use ";
	size_t len = strlen(expected);
	for (size_t i = 0; i < n && len < sizeof expected; i++)
		len += (size_t)snprintf(expected + len, sizeof expected - len, "%s%s",
					i == 0 ? "" : i + 1 == n ? " or " : ", ", choices[i]);
	bad_value(opt, text, expected);
}
