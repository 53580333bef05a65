/* ff_pg_history: the history of a PostgreSQL store's feature tables
 * (ff-store(5), History and PostgreSQL): ff_history_NAME and
 * ff_histstate_NAME with the columns and primary keys of the SQLite
 * store's, times as timestamp, and ff_retention and ff_definitions.
 *
 * A writer's private copy starts each table's history empty: what its
 * write keeps there (the images it replaced, the marks of keys it inserted
 * among stored rows) is pushed renumbered to the version PostgreSQL gives
 * it. A reader that reads a table as of a version copies the table and its
 * history under its snapshot, and reads them with ff_store_rows: one
 * implementation of the as-of rule. */
#ifndef FF_PG_HISTORY_H
#define FF_PG_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ff_pg.h"
#include "ff_store.h"
#include "ff_store_history.h"

/* Before the push of version v of def: if the write added features to the
 * table (ff-store(5), Adding features), their columns in PostgreSQL's table
 * and history, and the definition it had in ff_definitions. Returns 0 or
 * -1 (reported). */
int ff_pg_history_widen(struct ff_pg *pg, struct ff_store *copy, const struct ff_table_def *def, int64_t v);

/* Push the copy's history of version mv of def as version v: a table
 * created or replaced (recreate) gets an empty history and loses its
 * retention and earlier definitions; a table written before PostgreSQL
 * stores kept history gets one, readable from cur, the version before v.
 * Returns 0 or -1 (reported; in the push's transaction). */
int ff_pg_history_push(struct ff_pg *pg, struct ff_store *copy, const struct ff_table_def *def, int64_t mv,
		       int64_t v, int64_t cur, int recreate);

/* Into a reader's copy: ff_retention and ff_definitions (empty if
 * PostgreSQL has none). Returns 0 or -1 (reported). */
int ff_pg_history_pull_catalog(struct ff_pg *pg, struct ff_store *copy);
/* Into a reader's copy, where def's table was created with its (empty)
 * history: the rows of its history, or no history tables at all if
 * PostgreSQL has none (its earlier versions cannot be read). Returns 0 or
 * -1 (reported). */
int ff_pg_history_pull(struct ff_pg *pg, struct ff_store *copy, const struct ff_table_def *def);

/* Into a reader's copy of the catalog: def's history tables, empty, if
 * PostgreSQL has them (the versions they make readable are those of
 * ff_store_as_of_version). Returns 0 or -1 (reported). */
int ff_pg_history_stub(struct ff_pg *pg, struct ff_store *copy, const struct ff_table_def *def);

/* ---- from ff_pg_store.c ---- */

/* Serialises the pushes of every writer of a store (and vacuums): "ff"
 * format 1, as the SQLite store's application id. */
#define FF_PG_PUSH_LOCK "1717960705"

/* The kind a column of type t travels as. */
enum ff_pg_kind ff_pg_kind_of(enum ff_type t);
/* The PostgreSQL type of a key column (texts compare bytewise). */
const char *ff_pg_key_type(enum ff_pg_kind kind);
/* "a", "b", ... each after prefix, into m. */
void ff_pg_names(FILE *m, const struct ff_pg_col *cols, size_t n, const char *prefix);
/* 'text' as an SQL literal (quotes doubled), into m. */
void ff_pg_literal(FILE *m, const char *text);
/* 1 if PostgreSQL has the table (unquoted name), 0 if not, -1 on error. */
int ff_pg_has(struct ff_pg *pg, const char *name);
/* Copy the rows of from (a PostgreSQL table and condition) into the
 * SQLite table qtable of st. Returns 0 or -1 (reported). */
int ff_pg_pull(struct ff_pg *pg, struct ff_store *st, const char *qtable, const struct ff_pg_col *cols,
	       size_t ncols, const char *from);

#endif
