/* ff_pg_stream: rows copied into PostgreSQL by a thread of their own while
 * the caller goes on computing: buffers of rows in binary COPY form
 * (ff_pg_rows), each sent by one COPY into its table, in the order they
 * were queued, all on one connection (so inside its open transaction). */
#ifndef FF_PG_STREAM_H
#define FF_PG_STREAM_H

#include <stddef.h>

#include "ff_pg.h"

struct ff_pg_stream;

/* Start the thread; pg is its own until ff_pg_stream_finish (no other use
 * of pg meanwhile). Returns 0 or -1 (reported). */
int ff_pg_stream_start(struct ff_pg *pg, struct ff_pg_stream **out);
/* Queue the rows of *rows for the table qtable (quoted, at most 63 bytes),
 * columns cols (which must live until ff_pg_stream_finish); *rows gets an
 * empty buffer back. Waits while a few buffers are queued already.
 * Returns 0, or -1 if a copy failed (reported by the thread). */
int ff_pg_stream_send(struct ff_pg_stream *s, const char *qtable, const struct ff_pg_col *cols, size_t ncols,
		      struct ff_pg_rows *rows);
/* Send what is queued (abort: drop it), stop the thread and free s; pg is
 * the caller's again. Returns 0, or -1 if a copy failed (reported).
 * Accepts NULL. */
int ff_pg_stream_finish(struct ff_pg_stream *s, int abort);

#endif
