/* ff_pg_table: a feature table of a PostgreSQL store as the SQL of
 * ff_pg_store.c and ff_pg_history.c sees it (ff-store(5), PostgreSQL):
 * the columns of its rows, window states, change feed and history, each
 * with the kind it travels as; its primary key; and the quoted names of
 * the tables kept beside it. The one place that works them out. */
#ifndef FF_PG_TABLE_H
#define FF_PG_TABLE_H

#include <stddef.h>

#include "ff_db.h"
#include "ff_pg.h"
#include "ff_schema.h"

struct ff_pg_table {
	const char *name;           /* def's (borrowed) */
	struct ff_pg_col *rows;     /* the table: def's columns, in order */
	struct ff_pg_col *pk;       /* the primary key: the timestamp key, then the keys */
	size_t *pk_cols;            /* those columns, as indexes into def->cols */
	struct ff_pg_col *state;    /* ff_state_NAME: the primary key, state */
	struct ff_pg_col *changes;  /* ff_changes_NAME: version, op, the primary key */
	struct ff_pg_col *img;      /* ff_history_NAME: the columns but the partition, ff_valid_to */
	struct ff_pg_col *hs;       /* ff_histstate_NAME: the primary key, ff_valid_to, state */
	size_t nrows, npk, nstate, nchanges, nimg, nhs;
	size_t nkeys;               /* key columns (without the timestamp key) */
	size_t *row_keys;           /* their fields among rows */
	size_t *state_keys;         /* and among state */
	/* Quoted: the table, its states, change feed and history, and the
	 * temporary tables of the keys a write touched (rows, states). */
	char q[FF_DB_IDENT_SIZE], qstate[FF_DB_IDENT_SIZE], qchanges[FF_DB_IDENT_SIZE];
	char qhistory[FF_DB_IDENT_SIZE], qhiststate[FF_DB_IDENT_SIZE];
	char qtouched[FF_DB_IDENT_SIZE], qtouched_state[FF_DB_IDENT_SIZE];
};

/* The columns of def's primary key in its order (ff-store(5)): the
 * timestamp key, then the keys, as indexes into def->cols, into cols
 * (room for def->ncols). Returns their number. */
size_t ff_pg_table_pk(const struct ff_table_def *def, size_t *cols);

/* Work t out for def (which must outlive it). */
void ff_pg_table_init(struct ff_pg_table *t, const struct ff_table_def *def);
/* Accepts a table zeroed or released. */
void ff_pg_table_release(struct ff_pg_table *t);

#endif
