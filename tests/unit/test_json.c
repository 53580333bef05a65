/* Unit tests of common/ff_json: the one JSON escaper (UTF-8 repaired) and
 * JSON-grammar numbers. */
#include <math.h>
#include <stdlib.h>

#include "ff_json.h"
#include "unit.h"

/* What f wrote into a memory stream. */
static char out[4096];

static const char *str(const char *s, size_t n)
{
	FILE *f = fmemopen(out, sizeof out, "w");
	ff_json_string_n(f, s, n);
	fclose(f);
	return out;
}

static const char *num(const char *s)
{
	FILE *f = fmemopen(out, sizeof out, "w");
	ff_json_number_text(f, s);
	fclose(f);
	return out;
}

static const char *dbl(double v)
{
	FILE *f = fmemopen(out, sizeof out, "w");
	ff_json_double(f, v);
	fclose(f);
	return out;
}

int main(void)
{
	CHECK_STR(str("plain", 5), "\"plain\"", "plain text");
	CHECK_STR(str("a\"b\\c", 5), "\"a\\\"b\\\\c\"", "quote and backslash");
	CHECK_STR(str("a\nb\tc\001\177", 7), "\"a\\nb\\u0009c\\u0001\\u007f\"", "control bytes");
	CHECK_STR(str("caf\xe9", 4), "\"caf\\ufffd\"", "a Latin-1 byte becomes U+FFFD");
	CHECK_STR(str("caf\xc3\xa9", 5), "\"caf\xc3\xa9\"", "UTF-8 passes as it is");
	CHECK_STR(str("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"", "an overlong form is two bad bytes");
	CHECK_STR(str("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"", "a surrogate is refused");
	CHECK_STR(str("a\0b", 3), "\"a\\u0000b\"", "a NUL byte");
	CHECK_STR(str("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"", "four-byte UTF-8");

	FILE *f = fmemopen(out, sizeof out, "w");
	ff_json_string(f, NULL);
	fclose(f);
	CHECK_STR(out, "null", "NULL is null");

	char q[FF_JSON_QUOTED_SIZE(4)];
	size_t n = ff_json_quote(q, "\x01\x02\x03\x04", 4);
	CHECK(n == strlen(q) && n == 26, "the quoted size bound is reached by control bytes");
	CHECK_STR(q, "\"\\u0001\\u0002\\u0003\\u0004\"", "quote into a buffer");
	ff_json_quote(q, "\xe9", 1);
	CHECK_STR(q, "\"\\ufffd\"", "the buffer escaper repairs too");

	CHECK(ff_json_is_number("0") && ff_json_is_number("-1.5e+3") && ff_json_is_number("10"),
	      "JSON numbers");
	CHECK(!ff_json_is_number("007") && !ff_json_is_number("+1") && !ff_json_is_number(".5") &&
		      !ff_json_is_number("1.") && !ff_json_is_number("inf") && !ff_json_is_number(""),
	      "not JSON numbers");
	CHECK_STR(num("2.5"), "2.5", "a number as written");
	CHECK_STR(num(".5"), "0.5", "a C number rewritten in JSON's grammar");
	CHECK_STR(num("1e999"), "1e999", "JSON grammar is enough: 1e999 is a JSON number");
	CHECK_STR(num("nan"), "\"nan\"", "the word nan is text");
	CHECK_STR(num(""), "null", "empty is null");
	CHECK_STR(num(NULL), "null", "NULL is null");
	CHECK_STR(num("abc"), "\"abc\"", "text stays a string");
	CHECK_STR(dbl(0.1), "0.1", "a double");
	CHECK_STR(dbl(NAN), "null", "a NaN double");
	CHECK_STR(dbl(-INFINITY), "null", "an infinite double");
	return UNIT_DONE();
}
