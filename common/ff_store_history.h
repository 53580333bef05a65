/* ff_store_history: time travel in a store (ff-store(5), History). Each
 * feature table NAME has a history table ff_history_NAME holding, for every
 * row a version replaced or deleted, the image it replaced, and for every
 * row a version inserted among the rows the table already spanned, a mark
 * that the key was absent; both with the version that ended them
 * (ff_valid_to). An image keeps the row's columns but the partition column,
 * which is the month of its time; beside it, in ff_histstate_NAME, are the
 * window states of images whose values do not rebuild them, and a NULL
 * state for each absent mark (ff-store(5), History, gives the cost).
 * Appended rows cost nothing: ff_versions.appended_from says
 * which rows a version appended (of the keys of its shard, if it has one:
 * a shard's write into PostgreSQL, ff_shard.h, ff_pg_store.h). The rows of
 * a table as of version V are
 *   the current rows older than every row appended after V (for their key)
 *   that no version after V changed,
 *   and the history images older than that, present, and the first change
 *   of their key after V.
 * That rule lives here in two forms run on the same data by
 * tests/unit/test_store_history.c: ff_store_rows, a merge of the table and
 * its history in their common key order (two scans, no lookup per row),
 * which the feature-table loader (ff_lookup) reads through; and
 * ff_store_rows_sql, one SQL SELECT (a NOT EXISTS look at the history per
 * row), for the readers that need the rows as SQL: ff-monitor (a subquery
 * of its own SELECT), ff-store restore (a table made from them, with their
 * states) and ff-sync-online --full (its SQLite and Redis copies, which
 * could read through ff_store_rows too). */
#ifndef FF_STORE_HISTORY_H
#define FF_STORE_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ff_cell.h"
#include "ff_schema.h"
#include "ff_store.h"

/* Which version of a table a reader reads: the latest, a version number,
 * or the version that was current at a time. */
enum ff_as_of_kind { FF_AS_OF_LATEST, FF_AS_OF_VERSION, FF_AS_OF_TIME };
struct ff_as_of {
	enum ff_as_of_kind kind;
	int64_t value; /* the version, or the time in microseconds */
};

/* Parse --as-of's value: a whole number is a version (from 1), anything
 * else a time as ff_time_parse reads it (a date alone is midnight UTC).
 * Returns 0 or -1 (nothing reported). */
int ff_as_of_parse(const char *text, struct ff_as_of *out);

/* The version of table that a names, checked readable: it exists, and
 * neither a replace nor a vacuum removed it (the message names the table,
 * the version and the oldest one kept). Returns 0 or -1 (reported). */
int ff_store_as_of_version(struct ff_store *st, const char *table, const struct ff_as_of *a,
			   int64_t *version);

/* The oldest version of table that can still be read: the latest create or
 * replace, the first version written with history kept, or the oldest one
 * a vacuum kept, whichever is latest. Returns 0 or -1 (reported). */
int ff_store_oldest_version(struct ff_store *st, const char *table, int64_t *oldest);

/* The oldest version whose change feed a vacuum kept: 1 and *version, 0
 * if it pruned none, -1 on error (reported). */
int ff_store_feed_from(struct ff_store *st, const char *table, int64_t *version);

/* Prune the history and change feed of every table to what reading its
 * last keep_versions versions needs (keep_versions > 0), or, with
 * keep_versions 0, the versions current at some time in the last keep
 * microseconds; report per table (NULL: no report) the oldest version
 * kept and the history rows removed. Runs its own transaction, then
 * VACUUM. Returns 0 or -1 (reported). */
struct ff_vacuum_result {
	char *table;
	int64_t oldest, history_rows, feed_rows;
};
int ff_store_vacuum(struct ff_store *st, int64_t keep_versions, int64_t keep, struct ff_vacuum_result **out,
		    size_t *n);
/* The oldest version of table a vacuum keeps (ff_store_vacuum's rule), and
 * the oldest one readable before it (history_from). Returns 0 or -1
 * (reported). */
int ff_store_vacuum_floor(struct ff_store *st, const char *table, int64_t keep_versions, int64_t keep,
			  int64_t *oldest, int64_t *history_from);

/* The definition of table as of version (a table widened by features
 * since had fewer): *definition malloc'd. Returns 0 or -1 (reported). */
int ff_store_definition_as_of(struct ff_store *st, const char *table, int64_t version, char **definition);

/* The one SELECT of the rows of table as of version (a version checked by
 * ff_store_as_of_version), in primary-key order (timestamp, then keys):
 * the ncols columns named (which must include the timestamp key and the
 * keys), then, with with_state, the row's window state (a BLOB or NULL).
 * Table names carry the store's schema (ff_store_borrow). SQL: quoted
 * names, NOT EXISTS, UNION ALL, ORDER BY, and SQLite's strftime for the
 * partition column of history rows. Returns 0 with *sql malloc'd, or -1
 * (reported). */
int ff_store_rows_sql(struct ff_store *st, const char *table, const char *const *cols, size_t ncols,
		      int64_t version, int with_state, char **sql);
/* ff_store_rows_sql of every column of def (table's definition), in def's
 * order, without state. */
int ff_store_def_rows_sql(struct ff_store *st, const char *table, const struct ff_table_def *def,
			  int64_t version, char **sql);

/* The same rows as ff_store_rows_sql without state, in the same order,
 * merged in C: fn gets each row's ncols cells (ff_cell_column: texts valid
 * during the call, times in microseconds); a negative return from fn stops
 * the read and is returned. Returns 0 or -1 (reported). */
int ff_store_rows(struct ff_store *st, const char *table, const char *const *cols, size_t ncols,
		  int64_t version, int (*fn)(void *ctx, const struct ff_cell *cells), void *ctx);
/* The same rows whose timestamp key, in the whole seconds stored, lies in
 * [from, to): a table read in time ranges, each on a connection of its own
 * (ff_lookup), gives the same rows in the same order, range after range. */
int ff_store_rows_between(struct ff_store *st, const char *table, const char *const *cols, size_t ncols,
			  int64_t version, int64_t from, int64_t to,
			  int (*fn)(void *ctx, const struct ff_cell *cells), void *ctx);

/* ---- for the table writer (ff_store.c) ---- */

/* The history of one table while a version is written. */
struct ff_history;

/* Where the states of replaced rows are read from: nowhere, the state
 * table, or the copy an overwrite took before it cleared its range. */
enum ff_history_states { FF_HISTORY_NO_STATE, FF_HISTORY_STATE_TABLE, FF_HISTORY_OLD_STATES };

/* Begin keeping history for def (key_cols: the primary key's nkey columns
 * in def, timestamp first) while version is written; old_version is the
 * table's version before it. A table stored before history was kept gets
 * its history table now, readable from old_version on. Returns 0 or -1
 * (reported). */
int ff_history_open(struct ff_store *st, const struct ff_table_def *def, const size_t *key_cols,
		    size_t nkey, enum ff_history_states states, int64_t version, int64_t old_version,
		    struct ff_history **out);
void ff_history_free(struct ff_history *h);
/* SQL creating an empty history table for def (a new or replaced table). */
void ff_history_create_sql(FILE *m, const struct ff_table_def *def, const size_t *key_cols,
			   size_t nkey);
/* Keep the stored row with the key of cells before the version changes it. */
int ff_history_save(struct ff_history *h, const struct ff_cell *cells);
/* Note that the key of cells had no row before the version inserted it. */
int ff_history_absent(struct ff_history *h, const struct ff_cell *cells);
/* Keep the stored rows "t" that match cond (SQL on alias t) before the
 * version deletes them. */
int ff_history_save_where(struct ff_history *h, const char *cond);
/* Record that table was widened by features after version, when its
 * definition was definition (ff_definitions). Returns 0 or -1. */
int ff_history_widened(struct ff_store *st, const char *table, int64_t version, const char *definition);
/* Forget the history of table (dropped or replaced): SQL for its drop. */
void ff_history_drop_sql(FILE *m, const char *table);
/* SQL creating, if need be, the store's ff_retention and ff_definitions
 * (for a copy of a store that keeps them elsewhere: ff_pg_history). */
void ff_history_catalog_sql(FILE *m);

#endif
