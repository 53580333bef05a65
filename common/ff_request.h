/* ff_request: the rows of a scoring request body in MLflow's protocol, as
 * text cells over a fixed list of columns. JSON bodies:
 *   {"dataframe_records": [{"col": value, ...}, ...]}
 *   {"dataframe_split": {"columns": [...], "data": [[...], ...]}}
 *   {"inputs": ...} or {"instances": ...}: a list of records, or an object
 *     of columns (each a list of values, or one value for a single row)
 *   a bare list of records, or a bare split object (MLflow 1's
 *     format=pandas-records and format=pandas-split)
 * and text/csv bodies (a header line, then rows). Columns a request gives
 * beyond the needed ones are ignored; a needed one missing is an error.
 * Values: strings as they are, numbers in their shortest exact text,
 * true/false as 1/0, null as NULL. */
#ifndef FF_REQUEST_H
#define FF_REQUEST_H

#include <stddef.h>

#include "ff_join_spec.h"
#include "ff_schema.h"

struct ff_request_rows {
	const struct ff_strlist *columns;
	size_t nrows;
	struct ff_cell *cells;     /* nrows x columns->n */
	size_t cells_cap;
	char *text;                /* the cells' text */
	size_t text_len, text_cap;
	size_t max_rows;           /* more rows than this is an error; 0: no limit */
};

/* Parse a body of content_type (NULL or "application/json..." for JSON,
 * "text/csv..." for CSV) into rows, reusing rows' buffers. Returns 0, or -1
 * with the problem reported through ff_error (naming the record and column),
 * or FF_REQUEST_UNSUPPORTED (reported) for another content type. */
#define FF_REQUEST_UNSUPPORTED (-2)
int ff_request_parse(struct ff_request_rows *rows, const char *body, size_t len,
		     const char *content_type);
void ff_request_rows_release(struct ff_request_rows *rows);

#endif
