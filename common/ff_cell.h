/* ff_cell: one value of a row (struct ff_cell, ff_schema.h) as text, and
 * text as a value: the one text form of every typed value, which CSV
 * outputs write (ff_rec, ff-compute's CSV), categories compare (ff_vector)
 * and lookup keys are made of (ff_join). And the SQLite edge of the cell
 * model: in memory a timestamp is microseconds since the epoch, UTC; stores
 * keep whole seconds (ff-store(5), ff-online(5)), converted here only. */
#ifndef FF_CELL_H
#define FF_CELL_H

#include <sqlite3.h>
#include <stddef.h>

#include "ff_schema.h"

/* Bytes a typed value's text needs at most (ff_format_double's 32). */
enum { FF_CELL_TEXT_MAX = 32 };

/* The text of a cell of the given type: text as is (unquoted), integers in
 * decimal, reals in the shortest form that reads back to the same bits
 * (ff_format_double: inf, -inf, nan), timestamps as YYYY-MM-DD HH:MM:SS with
 * a fraction when there is one (ff_time_format). Numbers are formatted into
 * buf (FF_CELL_TEXT_MAX bytes, not NUL-terminated). Returns the text and
 * sets *len; a NULL cell gives NULL and 0. */
const char *ff_cell_text(const struct ff_cell *c, enum ff_type type, char *buf, size_t *len);

/* A cell of type from as one of type to, one of the two being text: a
 * typed value as its text (ff_cell_text, in buf of FF_CELL_TEXT_MAX bytes),
 * or text parsed as the type: an integer, a real (or inf, -inf, nan, -nan
 * as ff_cell_text writes them) or a timestamp (ff_time_parse). NULL stays
 * NULL; the same type is copied. Returns 0, or -1 if the text is not a value
 * of the type (no message). */
int ff_cell_convert(const struct ff_cell *in, enum ff_type from, enum ff_type to,
		    struct ff_cell *out, char *buf);

/* Bind a cell of the given type to parameter idx of st: NULL, text (not
 * copied: it must outlive the statement's step), a real, an integer, or a
 * timestamp as whole seconds (rounded down). */
void ff_cell_bind(sqlite3_stmt *st, int idx, enum ff_type type, const struct ff_cell *c);
/* Column col of st's current row as a cell of the given type; a text stays
 * valid until the statement steps or resets, a timestamp's whole seconds
 * become microseconds. */
void ff_cell_column(sqlite3_stmt *st, int col, enum ff_type type, struct ff_cell *out);

#endif
