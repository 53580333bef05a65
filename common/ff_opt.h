/* ff_opt: the option toolkit of every command. Value parsers check the
 * whole text and its range and end a bad value one way:
 *
 *     prog: bad --NAME 'VALUE': what a good value is
 *     Try 'prog --help' for more information.
 *
 * on stderr and exit 2, as ff_usage_error does. A command's getopt_long
 * string starts with ':' (after ff_opt_start), so that an unknown option, a
 * missing value and a value given to a flag all go to ff_opt_default. These are
 * for main() only: they exit. opt is the option as spelt ("--rows"). */
#ifndef FF_OPT_H
#define FF_OPT_H

#include <stdint.h>

/* The options every command has, to end its option table with: -q, -h,
 * -V (ff_opt_default handles them) and the table's end. */
#define FF_OPT_COMMON                                 \
	{"quiet", no_argument, NULL, 'q'},           \
	{"help", no_argument, NULL, 'h'},            \
	{"version", no_argument, NULL, 'V'},         \
	{NULL, 0, NULL, 0}

/* Start main: the program name for messages (argv[0] becomes it) and
 * getopt's own messages off (ff_opt_default reports). */
void ff_opt_start(int argc, char **argv);
/* The cases every command's option switch shares, for its default: -q
 * turns warnings off and returns; -h prints usage on stdout and -V the
 * version line, then exit 0 (1 if stdout fails); FF_OPT_DELIMITER and
 * FF_OPT_WAIT (below) are set, or end as a bad value; anything else is the one
 * bad-option path: the option getopt_long returned ':' or '?' for, by its
 * own spelling ("unknown option '--x'", "option '--x' needs a value",
 * "option '--x' takes no value"), and exit 2. */
void ff_opt_default(int c, char **argv, const char *usage);

/* Options that every command having them spells and handles alike: give
 * them these getopt_long values and ff_opt_default does the rest.
 * --delimiter CHAR: the delimiter of the CSV files read (ff_csv_set_delimiter);
 * --wait SECONDS: how long to wait for another run's lock on a store
 * (ff_db_set_wait). */
enum { FF_OPT_DELIMITER = 0x10000, FF_OPT_WAIT };

/* A whole number from lo to hi ("a whole number, LO or more" when hi is
 * INT64_MAX). */
int64_t ff_opt_int(const char *opt, const char *text, int64_t lo, int64_t hi);
/* A finite number from lo to hi (hi may be INFINITY). */
double ff_opt_real(const char *opt, const char *text, double lo, double hi);
/* A count of rows or a share of them (--max-bad): "N" (a whole number, 0
 * or more) returns N; "N%" (a number from 0 to 100) returns -1 and sets
 * *percent (ff_count_limit in ff_util.h applies it). */
int64_t ff_opt_count_or_percent(const char *opt, const char *text, double *percent);
/* A size: a whole number with an optional K, M or G (powers of 1024)
 * suffix, from lo to hi once scaled. */
uint64_t ff_opt_size(const char *opt, const char *text, uint64_t lo, uint64_t hi);
/* A duration (ff_duration_parse: 90s, 15m, 2h, 7d) in microseconds;
 * examples completes "a duration such as ...". */
int64_t ff_opt_duration(const char *opt, const char *text, const char *examples);
/* A time (ff_time_parse: a date, or a date and a time of day, UTC) in
 * microseconds since the epoch. */
int64_t ff_opt_time(const char *opt, const char *text);
/* A date alone (YYYY-MM-DD), in microseconds since the epoch. */
int64_t ff_opt_date(const char *opt, const char *text);
/* One of choices (NULL-terminated): its index. The message lists them:
 * "use a, b or c". */
int ff_opt_enum(const char *opt, const char *text, const char *const *choices);

#endif
