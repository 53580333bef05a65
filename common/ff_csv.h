/* ff_csv: a pull reader of CSV rows over libcsv, with the physical line number
 * of every row for error messages, and a CSV writer. Fields keep their text
 * exactly (no trimming of blanks); an empty unquoted field is NULL. */
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

/* Read the next row into *fields and *nfields (valid until the next call). Returns
 * 1 for a row, 0 at end of input, -1 on a read or parse error (reported). */
int ff_csv_next(struct ff_csv_reader *r, struct ff_field **fields, size_t *nfields);

/* Physical line (1-based) on which the row last returned starts. */
long ff_csv_line(const struct ff_csv_reader *r);
const char *ff_csv_name(const struct ff_csv_reader *r);

/* Feed already-read bytes (data, len) ahead of the rest of f, as when the
 * caller has sniffed a magic number. Call before the first ff_csv_next. */
void ff_csv_unread(struct ff_csv_reader *r, const void *data, size_t len);

/* Write one field, quoted when it holds a comma, quote, CR or LF. A NULL ptr
 * writes nothing (an empty field). */
void ff_csv_put_field(FILE *out, const char *ptr, size_t len);

#endif
