/* ff_csv: CSV rows over libcsv, each with the physical line it starts on for
 * error messages, and a CSV writer. Fields keep their text exactly (no
 * trimming of blanks); an empty unquoted field is NULL, a quoted "" is empty.
 * Lines with no quote and no CR are split by the reader itself (most data
 * lines, 3.5 times faster); libcsv reads the others, with the same result. */
#ifndef FF_CSV_H
#define FF_CSV_H

#include <stdio.h>
#include <stddef.h>

struct ff_field {
	const char *ptr; /* NUL-terminated; NULL for an empty unquoted field */
	size_t len;
};

struct ff_csv_reader;

/* Start reading f, named name in messages. The reader does not close f. */
struct ff_csv_reader *ff_csv_open(FILE *f, const char *name);
void ff_csv_close(struct ff_csv_reader *r);

/* Called for every row, the header included; fields are valid during the
 * call only. A non-zero return stops the reading and is returned. */
typedef int (*ff_csv_row_fn)(void *ctx, const struct ff_field *fields, size_t n, long line);

/* Read all rows of the input through fn. Returns 0 at the end of the input,
 * fn's non-zero value, or -1 on a read or CSV syntax error (reported). */
int ff_csv_each(struct ff_csv_reader *r, ff_csv_row_fn fn, void *ctx);

const char *ff_csv_name(const struct ff_csv_reader *r);

/* Feed bytes already read from f (a sniffed magic number) before the rest. */
void ff_csv_unread(struct ff_csv_reader *r, const void *data, size_t len);

/* The delimiter of the CSV files read from now on (written CSV keeps the
 * comma): one byte, or "tab". Returns 0, or -1 for anything else (a quote,
 * a line end, a letter or digit, more than one byte). For a --delimiter
 * option. */
int ff_csv_set_delimiter(const char *spec);

/* A hint to append to "no column 'name'" when a CSV header of n names lacks
 * name: "; the header is one field holding ';': is the file delimited by
 * ';'?" (likewise '|' and a tab), "; column ' name' has spaces around it",
 * or "". Written into buf (160 bytes will do); returns buf. */
const char *ff_csv_header_hint(const char *const *names, size_t n, const char *name, char *buf,
			       size_t size);

/* Have fn(ctx, bytes, n) see every byte of the input as it is read, the
 * bytes given back by ff_csv_unread included (to hash an input in passing). */
typedef void (*ff_csv_tap_fn)(void *ctx, const void *bytes, size_t n);
void ff_csv_tap(struct ff_csv_reader *r, ff_csv_tap_fn fn, void *ctx);

/* The CSV form of a field, the one quoting rule of every CSV ff writes: the
 * text as is, or quoted (quotes doubled) when it holds a comma, quote, CR or
 * LF or is the empty string (an unquoted empty field reads back as NULL).
 * dst must hold 2 * len + 2 bytes. Returns the length written. */
size_t ff_csv_quote(char *dst, const char *s, size_t len);

/* Write one field in that form. A NULL ptr writes nothing (an empty field,
 * read back as NULL). */
void ff_csv_put_field(FILE *out, const char *ptr, size_t len);

#endif
