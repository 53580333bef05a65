/* ff_rec: record streams between ff commands, as CSV or as ff's binary
 * record format (ff-rec(5)). A reader detects the format from the first
 * bytes; a writer writes either. CSV columns are text (passed through
 * unchanged); binary columns carry their type, so numbers cross a pipe
 * without being formatted and parsed again, bit for bit. */
#ifndef FF_REC_H
#define FF_REC_H

#include <stdio.h>

#include "ff_schema.h"

enum ff_rec_format { FF_REC_CSV, FF_REC_BIN };

/* The names of the formats by enum value, NULL-terminated (for ff_opt_enum). */
extern const char *const ff_rec_format_names[];
/* Parse "csv" or "bin"; -1 if neither. */
int ff_rec_format_parse(const char *name);

/* Column names and types of a stream. In a record stream a timestamp is
 * microseconds since the epoch, UTC (struct ff_cell .i). */
struct ff_rec_schema {
	size_t ncols;
	char **names;
	enum ff_type *types;
};

void ff_rec_schema_init(struct ff_rec_schema *s);
void ff_rec_schema_add(struct ff_rec_schema *s, const char *name, enum ff_type type);
void ff_rec_schema_release(struct ff_rec_schema *s);
/* Index of a column by name, or -1. */
long ff_rec_schema_find(const struct ff_rec_schema *s, const char *name);

struct ff_rec_reader;

/* Start reading f (named name in messages); the format is detected from the
 * first bytes. The reader does not close f. */
struct ff_rec_reader *ff_rec_open(FILE *f, const char *name);
void ff_rec_close(struct ff_rec_reader *r);
/* The detected format, valid once ff_rec_each has started. */
enum ff_rec_format ff_rec_input_format(const struct ff_rec_reader *r);

/* Called once with the stream's schema (for CSV: the header, all columns
 * text), then once per record. cells are valid during the call only. pos is
 * the record's line in a CSV file or its number (from 1) in a binary one;
 * ff_rec_where turns it into "file:LINE" or "file: record N". A non-zero
 * return stops the reading and is returned. */
typedef int (*ff_rec_schema_fn)(void *ctx, const struct ff_rec_schema *schema);
typedef int (*ff_rec_row_fn)(void *ctx, const struct ff_cell *cells, size_t n, long pos);

/* Read the whole stream. Returns 0 at its end, the callbacks' non-zero
 * value, or -1 on a read or format error (reported with file and line or
 * record). An empty input (no header) is an error. */
int ff_rec_each(struct ff_rec_reader *r, ff_rec_schema_fn on_schema, ff_rec_row_fn on_row,
		void *ctx);

/* "file:LINE" (CSV) or "file: record N" (binary) for messages. */
void ff_rec_where(const struct ff_rec_reader *r, long pos, char *buf, size_t size);

struct ff_rec_writer;

/* Write a stream of the given schema to out (not closed by the writer).
 * CSV: a header, then text as is (NULL as an empty field, an empty string
 * as ""), integers in decimal, reals in the shortest form that reads back
 * to the same bits, timestamps as YYYY-MM-DD HH:MM:SS[.ffffff]. */
struct ff_rec_writer *ff_rec_writer_open(FILE *out, enum ff_rec_format format,
					 const struct ff_rec_schema *schema);
/* Format and write on a thread of the writer's own from now on, beside the
 * caller's work (puts copy the record). For batch outputs; a stream answered
 * record by record (ff_rec_writer_flush after each) gains nothing. Call
 * before the first put. Returns 0 or -1. */
int ff_rec_writer_async(struct ff_rec_writer *w);
/* Write one record: schema->ncols cells. Returns 0 or -1 (write error). */
int ff_rec_writer_put(struct ff_rec_writer *w, const struct ff_cell *cells);
/* Write out what is buffered (a coprocess answers each request at once).
 * Returns 0 or -1. */
int ff_rec_writer_flush(struct ff_rec_writer *w);
/* Flush and free. Returns 0 or -1 if a write failed. Accepts NULL. */
int ff_rec_writer_close(struct ff_rec_writer *w);

#endif
