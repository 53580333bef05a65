#include "ff_json.h"

#include <math.h>
#include <string.h>

#include "ff_util.h"

/* The JSON text of the character at s (n bytes left) into out (8 bytes);
 * *used gets the bytes of s it stands for. Returns the length written. */
static size_t escape_next(const char *s, size_t n, char *out, size_t *used)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = ff_utf8_length(s, n);
	*used = len ? len : 1;
	if (len == 0) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	if (*p == '"' || *p == '\\') {
		out[0] = '\\';
		out[1] = (char)*p;
		return 2;
	}
	if (*p == '\n') {
		memcpy(out, "\\n", 2);
		return 2;
	}
	if (*p < 0x20 || *p == 0x7f) {
		static const char hex[] = "0123456789abcdef";
		memcpy(out, "\\u00", 4);
		out[4] = hex[*p >> 4];
		out[5] = hex[*p & 15];
		return 6;
	}
	memcpy(out, s, len);
	return len;
}

size_t ff_json_quote(char *dst, const char *s, size_t n)
{
	size_t k = 0;
	dst[k++] = '"';
	for (size_t i = 0; i < n;) {
		size_t used;
		k += escape_next(s + i, n - i, dst + k, &used);
		i += used;
	}
	dst[k++] = '"';
	dst[k] = '\0';
	return k;
}

void ff_json_string_n(FILE *out, const char *s, size_t n)
{
	putc('"', out);
	for (size_t i = 0; i < n;) {
		/* Runs of plain bytes go out in one write. */
		size_t run = 0;
		while (i + run < n) {
			unsigned char c = (unsigned char)s[i + run];
			if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
				break;
			run++;
		}
		if (run) {
			fwrite(s + i, 1, run, out);
			i += run;
			continue;
		}
		char esc[8];
		size_t used, len = escape_next(s + i, n - i, esc, &used);
		fwrite(esc, 1, len, out);
		i += used;
	}
	putc('"', out);
}

void ff_json_string(FILE *out, const char *s)
{
	if (!s)
		fputs("null", out);
	else
		ff_json_string_n(out, s, strlen(s));
}

int ff_json_is_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

void ff_json_double(FILE *out, double v)
{
	char buf[32];
	if (!isfinite(v)) {
		fputs("null", out);
		return;
	}
	ff_format_double(buf, v);
	fputs(buf, out);
}

void ff_json_number_text(FILE *out, const char *s)
{
	double d;
	if (!s || !*s)
		fputs("null", out);
	else if (ff_json_is_number(s))
		fputs(s, out);
	else if (ff_parse_double(s, strlen(s), &d) == 0)
		ff_json_double(out, d);
	else
		ff_json_string(out, s);
}
