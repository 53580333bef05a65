/* ff_json: the one JSON writer of ff (reports, the model registry, the
 * server's answers). Strings: '"' and '\' escaped, a newline as \n, other
 * control bytes and DEL as \u00XX, and bytes that are not UTF-8 (a Latin-1
 * description, a request's own bytes) as U+FFFD, so that the output is
 * always JSON. Numbers: JSON's own grammar; NaN and infinities are null. */
#ifndef FF_JSON_H
#define FF_JSON_H

#include <stddef.h>
#include <stdio.h>

/* s as a JSON string, quotes included; NULL writes null. */
void ff_json_string(FILE *out, const char *s);
/* The n bytes at s (NUL bytes included, as \u0000) as a JSON string. */
void ff_json_string_n(FILE *out, const char *s, size_t n);

/* The most bytes ff_json_quote writes for n bytes of text, NUL included. */
#define FF_JSON_QUOTED_SIZE(n) (6 * (n) + 3)
/* The n bytes at s as a JSON string into dst, which holds at least
 * FF_JSON_QUOTED_SIZE(n) bytes; NUL-terminated. Returns the length. */
size_t ff_json_quote(char *dst, const char *s, size_t n);

/* 1 if s is a number in JSON's grammar: not "007", "+1", ".5", "inf". */
int ff_json_is_number(const char *s);
/* A number given as text: as written if JSON's grammar allows it, else as
 * ff_parse_double reads it (".5" as 0.5); null for NULL and empty text; a
 * string for text that is not a number ("nan", "inf"). */
void ff_json_number_text(FILE *out, const char *s);
/* A double in the fewest digits that read back the same; null for NaN and
 * infinities. */
void ff_json_double(FILE *out, double v);

#endif
