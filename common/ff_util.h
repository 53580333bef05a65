/* ff_util: program name, error reporting and checked allocation shared by every
 * command. Messages follow "prog: what went wrong" on stderr. */
#ifndef FF_UTIL_H
#define FF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ff_input.h" /* opening and reading inputs, once part of ff_util */

#define FF_VERSION "0.1.0"

/* Exit statuses of every ff command. A check (ff-monitor, ff-predict
 * --skew-check) exits FF_EXIT_FAIL when it failed and FF_EXIT_NO_CHECK when
 * it could not be made (a source unreadable, a write error), so that cron
 * tells bad data from a broken job. */
enum { FF_EXIT_OK = 0, FF_EXIT_FAIL = 1, FF_EXIT_USAGE = 2, FF_EXIT_NO_CHECK = 3 };

/* Remember the program name (basename of argv[0]) for messages. Commands
 * also set argv[0] = (char *)ff_progname() so that getopt's own messages
 * read "ff-x: ..." and not the path the command was run by. */
void ff_set_progname(const char *argv0);
const char *ff_progname(void);

/* Print "prog: message" to stderr and return -1, so callers can write
 * `return ff_error(...)`. */
int ff_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "prog: warning: message" to stderr, unless warnings are off. */
void ff_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Send this thread's messages to a stream (NULL: back to stderr), for a
 * worker whose messages the caller tells in a set order. */
void ff_hold_messages(FILE *to);

/* Turn warnings off (-q). */
void ff_set_quiet(int on);
/* Print "prog: message" and exit with status. For main() only. */
_Noreturn void ff_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usage error: "prog: message" and "Try 'prog --help' for more
 * information." on stderr, then exit 2. */
_Noreturn void ff_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For getopt_long with a leading ':' in its option string: report the
 * option getopt returned c (':' or '?') for, by its own spelling, and exit 2. */
_Noreturn void ff_usage_bad_option(int c, char **argv);
/* Just the "Try 'prog --help' ..." line, after a message already given. */
void ff_usage_hint(void);

/* Allocation that aborts the program on out-of-memory, the one failure
 * common/ does not hand back to the caller. */
void *ff_xmalloc(size_t n);
void *ff_xcalloc(size_t n, size_t size);
void *ff_xrealloc(void *p, size_t n);
char *ff_xstrdup(const char *s);
char *ff_xstrndup(const char *s, size_t n);
/* A copy of the first n bytes of s without the blanks around them. */
char *ff_xstrndup_trimmed(const char *s, size_t n);

/* Grow *buf (capacity *cap, element size elem) to hold at least need elements. */
void ff_grow(void *buf, size_t *cap, size_t need, size_t elem);

/* The count a limit allows of total: limit itself, or percent of total
 * (rounded down) when limit is -1 (ff_opt_count_or_percent's two forms). */
int64_t ff_count_limit(int64_t limit, double percent, int64_t total);

/* Print the --version line shared by every command. */
void ff_print_version(void);

/* Close stdout and report a write error once, with the errno of the write
 * that failed (see ff_write_failed): "write error on standard output: No
 * space left on device". A closed pipe is not reported. Returns 0 or -1. */
int ff_close_stdout(void);

/* Remember that a write on f failed with errno err, for the one message
 * given when f is closed (ff_close_stdout, ff_output_close): by then errno
 * may say something else (SQLite's clean-up sets it). The first failure is
 * kept; any thread may call this. ff_write_errno takes it back (0 if none). */
void ff_write_failed(FILE *f, int err);
int ff_write_errno(FILE *f);

/* Strict number parsers: the whole string must be a number in the C locale.
 * Return 0 on success, -1 otherwise (no message). */
int ff_parse_double(const char *s, size_t len, double *out);
int ff_parse_int64(const char *s, size_t len, int64_t *out);

/* Format a double in the shortest text that reads back to the same bits:
 * plain decimals when at most 6 decimals do (12.5, not 1.25e+01), else the
 * fewest significant digits in %g form (9.333333333333334, 1e+21, 5e-324).
 * The same bits always give the same text. Returns the length written; buf
 * needs 32 bytes. */
int ff_format_double(char *buf, double v);

/* Format a float (XGBoost's predictions) in the fewest digits that read
 * back to the same float. Returns the length; buf needs 32 bytes. */
int ff_format_float(char *buf, float f);

/* The length of the valid UTF-8 sequence at text (n bytes left), or 0 for
 * a byte that does not start one (overlong forms and surrogates count as
 * invalid): for writers of JSON and XML, which must not pass such bytes on. */
size_t ff_utf8_length(const char *text, size_t n);

/* FNV-1a hash of bytes. */
uint64_t ff_hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
