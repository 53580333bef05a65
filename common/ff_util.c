#include "ff_util.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *progname = "ff";
static int quiet;

void ff_set_quiet(int on) { quiet = on; }

void ff_set_progname(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	if (argv0)
		progname = slash ? slash + 1 : argv0;
}

const char *ff_progname(void) { return progname; }

/* Messages of a worker thread are held back, to be told in a set order. */
static _Thread_local FILE *held;

void ff_hold_messages(FILE *to) { held = to; }

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	FILE *out = held ? held : stderr;
	fprintf(out, "%s: %s", progname, prefix);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
}

int ff_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return -1;
}

void ff_warn(const char *fmt, ...)
{
	va_list ap;
	if (quiet)
		return;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void ff_die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	exit(status);
}

void ff_usage_hint(void)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
}

void ff_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	ff_usage_hint();
	exit(FF_EXIT_USAGE);
}

void ff_usage_bad_option(int c, char **argv)
{
	const char *bad = argv[optind - 1];
	if (c == ':')
		ff_usage_error("option '%s' needs a value", bad);
	char shortopt[3] = {'-', (char)optopt, '\0'};
	if (strncmp(bad, "--", 2) != 0)
		bad = shortopt;
	else if (strchr(bad, '=') && optopt)
		ff_usage_error("option '%s' takes no value", bad);
	ff_usage_error("unknown option '%s'", bad);
}

static void *check(void *p)
{
	if (!p) {
		/* Exit 1 like any failure, at once: no atexit handler nor other
		 * thread can be trusted now. The store's transaction and an -o
		 * file's temporary are left unfinished, so nothing is written. */
		fprintf(stderr, "%s: out of memory\n", progname);
		_exit(FF_EXIT_FAIL);
	}
	return p;
}

void *ff_xmalloc(size_t n) { return check(malloc(n ? n : 1)); }
void *ff_xcalloc(size_t n, size_t size) { return check(calloc(n ? n : 1, size ? size : 1)); }
void *ff_xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1)); }
char *ff_xstrdup(const char *s) { return check(strdup(s)); }
char *ff_xstrndup(const char *s, size_t n) { return check(strndup(s, n)); }

char *ff_xstrndup_trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return ff_xstrndup(s, n);
}

int64_t ff_count_limit(int64_t limit, double percent, int64_t total)
{
	return limit >= 0 ? limit : (int64_t)((double)total * percent / 100.0);
}

void ff_grow(void *buf, size_t *cap, size_t need, size_t elem)
{
	void **p = buf;
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 8;
	while (n < need)
		n *= 2;
	*p = ff_xrealloc(*p, n * elem);
	*cap = n;
}

void ff_print_version(void)
{
	printf("%s (ff) %s\n", progname, FF_VERSION);
}

static _Atomic(FILE *) failed_stream;
static atomic_int failed_errno;

void ff_write_failed(FILE *f, int err)
{
	FILE *none = NULL;
	if (err && atomic_compare_exchange_strong(&failed_stream, &none, f))
		atomic_store(&failed_errno, err);
}

int ff_write_errno(FILE *f)
{
	FILE *was = f;
	if (!f || !atomic_compare_exchange_strong(&failed_stream, &was, NULL))
		return 0;
	return atomic_exchange(&failed_errno, 0);
}

int ff_close_stdout(void)
{
	int failed = ferror(stdout), err = ff_write_errno(stdout);
	errno = 0;
	if (fclose(stdout) != 0) {
		failed = 1;
		if (!err)
			err = errno;
	}
	if (!failed || err == EPIPE) /* a reader that stopped reading (| head) */
		return 0;
	if (!err) /* the failed write was not told why: say no more than we know */
		return ff_error("write error on standard output");
	return ff_error("write error on standard output: %s", strerror(err));
}

/* Only digits, sign, point and exponent: strtod alone would take "nan", "inf",
 * hex floats and leading blanks, none of which is a number in a CSV file. */
int ff_parse_double(const char *s, size_t len, double *out)
{
	char tmp[64];
	if (len == 0 || len >= sizeof tmp)
		return -1;
	int digits = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			digits = 1;
		else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E')
			return -1;
	}
	if (!digits)
		return -1;
	/* Fast path for plain decimals such as "12.5": an integer of at most
	 * 15 digits divided by an exact power of ten is correctly rounded by
	 * IEEE division, so it equals what strtod gives. */
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
				       1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	size_t i = s[0] == '-' || s[0] == '+';
	int64_t m = 0;
	int nd = 0, frac = -1;
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			m = m * 10 + (s[i] - '0');
			if (++nd > 15)
				break;
			if (frac >= 0)
				frac++;
		} else if (s[i] == '.' && frac < 0) {
			frac = 0;
		} else {
			break;
		}
	}
	if (i == len && nd > 0) {
		double v = (double)m / pow10[frac > 0 ? frac : 0];
		*out = s[0] == '-' ? -v : v;
		return 0;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (end != tmp + len || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int ff_parse_int64(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	if (len == 0)
		return -1;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
		if (len == 1)
			return -1;
	}
	uint64_t v = 0;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Write |m| (an integer below 2^53) with k digits after the point. */
static int fixed_digits(char *buf, int negative, uint64_t m, int k)
{
	char tmp[32];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + m % 10);
		m /= 10;
	} while (m || n <= k);
	int len = 0;
	if (negative)
		buf[len++] = '-';
	for (int i = n - 1; i >= 0; i--) {
		buf[len++] = tmp[i];
		if (i == k && k > 0)
			buf[len++] = '.';
	}
	buf[len] = '\0';
	return len;
}

int ff_format_double(char *buf, double v)
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
	double a = fabs(v);
	/* Fast path for values with few decimals, like most fares and means:
	 * the fewest decimals k with m / 10^k == v, m an integer. strtod of
	 * that text is the correctly rounded m / 10^k, that is v again. */
	if (a >= 1e-6 && a < 1e15) {
		for (int k = 0; k <= 6; k++) {
			double x = a * pow10[k];
			if (x >= 9007199254740992.0)
				break;
			double m = nearbyint(x);
			if (m / pow10[k] == a)
				return fixed_digits(buf, signbit(v) != 0, (uint64_t)m, k);
		}
	}
	if (v == 0)
		return snprintf(buf, 32, "%s", signbit(v) ? "-0" : "0");
	/* printf is slow, and a feature value is written for many rows in a
	 * row: keep the last texts by bits. */
	static _Thread_local struct {
		uint64_t bits;
		int len;
		char text[28];
	} cache[1024];
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	size_t slot = (size_t)((bits * 0x9E3779B97F4A7C15ULL) >> 54);
	if (cache[slot].len && cache[slot].bits == bits) {
		memcpy(buf, cache[slot].text, (size_t)cache[slot].len + 1);
		return cache[slot].len;
	}
	/* The fewest significant digits that read back: a normal double's
	 * shortest text of up to 15 digits is also its %.15g (one ulp is finer
	 * than the 15-digit grid), so only 15, 16 and 17 need trying; a
	 * subnormal has fewer bits, and may need as little as one digit
	 * (5e-324). 17 always read back. */
	int n = 0;
	for (int prec = a < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			break;
	}
	if (n < (int)sizeof cache[slot].text) {
		cache[slot].bits = bits;
		cache[slot].len = n;
		memcpy(cache[slot].text, buf, (size_t)n + 1);
	}
	return n;
}

int ff_format_float(char *buf, float f)
{
	/* The fewest significant digits (6 to 9) that read back to the same
	 * float; 9 always do. */
	int n = 0;
	for (int prec = 6; prec <= 9; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, (double)f);
		if (strtof(buf, NULL) == f || prec == 9)
			break;
	}
	return n;
}

uint64_t ff_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ULL ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

size_t ff_utf8_length(const char *text, size_t n)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
		   : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	for (size_t k = 1; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and values past U+10FFFF. */
	unsigned cp = len == 1 ? p[0] : len == 2 ? (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu)
		    : len == 3 ? (p[0] & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu)
			       : (p[0] & 0x07u) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
	static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < least[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}
