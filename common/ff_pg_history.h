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

#endif
