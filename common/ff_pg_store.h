/* ff_pg_store: an ff store kept in PostgreSQL (ff-store(5), "PostgreSQL"):
 * the same catalog, versions, change feed, window states, batches and
 * identity, in plain tables with primary keys, times as timestamp (UTC).
 *
 * ff_store (SQLite) stays the one implementation of the store's rules: a
 * PostgreSQL store is worked through a private SQLite copy in TMPDIR.
 * A reader copies the catalog in a REPEATABLE READ transaction whose
 * snapshot it exports, and reads the rows of a table as of that snapshot
 * (ff_pg_store_rows), or copies a table with its history for a read as
 * of an earlier version (ff_pg_store_table_file), or what a sync reads
 * (ff_pg_store_file_since: the change feed since the version synced and
 * the rows it names); the history of every write is kept (ff_pg_history.h); a
 * writer copies the catalog of its tables and their rows (only its
 * shard's with --shard), computes into the copy with the usual writer,
 * then pushes the version's changes back in one transaction: rows through
 * COPY and INSERT ... ON CONFLICT, deletes, states, change feed, versions,
 * batches and catalog. That transaction opens when the run starts: the
 * rows new to the table are streamed into it while the run computes
 * (ff_pg_writer_stream), and the push sends only the rest. Concurrent writers serialise only that push (an
 * advisory lock); versions are numbered then. A write that another run's
 * write could have overlapped (not a disjoint shard) fails and writes
 * nothing: run it again. */
#ifndef FF_PG_STORE_H
#define FF_PG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ff_pg.h"
#include "ff_shard.h"
#include "ff_store.h"
#include "ff_store_history.h"

/* Open the PostgreSQL store conninfo for reading: a private copy of its
 * catalog, versions, batches and identity, made once per process as of one
 * snapshot and shared by every open of the same store (removed at exit),
 * named conninfo in messages. Its feature tables are read with
 * ff_pg_store_rows. Returns 0 or -1 (reported). */
int ff_pg_store_open(const char *conninfo, struct ff_store **out);

/* The file of a fresh private copy for a sync (replacing the process's
 * others): the catalog, and of each table tables[i] either what a full
 * copy reads (since[i] -1: every row, and the history for --as-of) or what
 * a sync from version since[i] reads (the change feed after it, the rows
 * it names, the rows appended after it). NULL on error (reported). */
const char *ff_pg_store_file_since(const char *conninfo, char *const *tables, const int64_t *since, size_t n);
/* The file of a private copy of the catalog and of table's rows and
 * history, as of the snapshot of the process's copy: for a reader of one
 * table, as of any version (ff_store_rows, ff_store_rows_sql). NULL on
 * error (reported). */
const char *ff_pg_store_table_file(const char *conninfo, const char *table);
/* The same opened as a store named conninfo. Returns 0 or -1 (reported). */
int ff_pg_store_open_as_of(const char *conninfo, const char *table, struct ff_store **out);
/* What ff-store ls says of def's table, counted by the server as of the
 * snapshot of the process's copy: its rows, keys (distinct key tuples),
 * first and last times (seconds; has_times 0 if it has no rows), and the
 * bytes PostgreSQL gives the table, change feed and window states, and the
 * history (with their indexes and TOAST). Returns 0 or -1 (reported). */
struct ff_pg_figures {
	int64_t rows, keys, first, last;
	int has_times;
	int64_t bytes, history_bytes;
};
int ff_pg_store_figures(const char *conninfo, const struct ff_table_def *def, struct ff_pg_figures *f);
/* The columns cols (indexes into def->cols) of the rows of def's table,
 * as of the snapshot of the process's copy, straight from the server: the
 * fast path of the feature table loaders (ff_lookup.h). fn gets cells (ff_pg.h: texts,
 * numbers, times in microseconds). Returns 0 or -1 (reported). */
int ff_pg_store_rows(const char *conninfo, const struct ff_table_def *def, const size_t *cols, size_t n,
		     ff_pg_row_fn fn, void *ctx);

/* Serialises the pushes of every writer of a store (and vacuums): "ff"
 * format 1, as the SQLite store's application id. */
#define FF_PG_PUSH_LOCK "1717960705"

/* ff-store vacuum of the store conninfo (ff_pg_history.c): ff_store_vacuum's
 * pruning of the histories and change feeds, in one transaction under the
 * push lock; PostgreSQL's autovacuum gives the space back. Returns 0 or -1
 * (reported). */
int ff_pg_store_vacuum(const char *conninfo, int64_t keep_versions, int64_t keep, struct ff_vacuum_result **out,
		       size_t *n);

/* Drop the process's copies of conninfo (files and snapshots): the next
 * open reads the store anew. No store opened from them may be open. */
void ff_pg_store_forget(const char *conninfo);

struct ff_pg_writer;

/* Connect and copy what a write of tables[0..n) needs (only the keys of
 * shard, if it is one) into a private store, left inside its write
 * transaction: write it with ff_table_writer_* and ff_store_batch_*, not
 * ff_store_begin/commit. Returns 0 or -1 (reported). */
int ff_pg_writer_open(const char *conninfo, const char *const *tables, size_t n,
		      const struct ff_shard *shard, int merge, struct ff_pg_writer **out);
/* With merge (a write in merge mode, no --replace), a table's rows are
 * copied from the day of its latest row (of the shard's keys) on, and
 * earlier ones when the write reaches them: call this before reading or
 * writing a window of table i at time ts (microseconds) that is not later
 * than all stored rows (ff_table_writer_after_stored). Returns 0 or -1
 * (reported). */
int ff_pg_writer_need(struct ff_pg_writer *w, size_t i, int64_t ts);
/* The stored rows of table i copied so far (-v). */
int64_t ff_pg_writer_copied(const struct ff_pg_writer *w, size_t i);
/* The private store. */
struct ff_store *ff_pg_writer_store(struct ff_pg_writer *w);
/* Stream the rows of table i (tables[i] of the open, def its definition
 * as written, created if the write creates it: ff_table_writer_created)
 * that ff_pg_writer_put_new writes into PostgreSQL while the run goes on,
 * in the push's transaction: the push then sends only the rows that the
 * write changed otherwise. Call it after ff_table_writer_open of the table
 * on the private store, for each table before the first row is written.
 * Returns 0 or -1 (reported). */
int ff_pg_writer_stream(struct ff_pg_writer *w, size_t i, const struct ff_table_def *def, int created);
/* ff_table_writer_put_new(tw, ...) of table i on the private store, its
 * rows streamed (ff_pg_writer_stream). Returns 0 or -1 (reported). */
int ff_pg_writer_put_new(struct ff_pg_writer *w, size_t i, struct ff_table_writer *tw, const struct ff_cell *cells,
			 const void *const *states, const size_t *lens, size_t nrows);
/* ff_table_writer_put(tw, ...) of table i on the private store, for a
 * streamed table (ff_pg_writer_stream): its row is sent by the push.
 * Returns 0 or -1 (reported). */
int ff_pg_writer_put(struct ff_pg_writer *w, size_t i, struct ff_table_writer *tw, const struct ff_cell *cells,
		     const void *state, size_t len, int had_state);
/* Push what was written into PostgreSQL in one transaction; versions[i]
 * (may be NULL) gets the version of tables[i] there. Returns 0, or -1
 * (reported; PostgreSQL as it was). */
int ff_pg_writer_push(struct ff_pg_writer *w, int64_t *versions);
/* Close, removing the private store. Accepts NULL. */
void ff_pg_writer_close(struct ff_pg_writer *w);

#endif
