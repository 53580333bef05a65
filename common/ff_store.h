/* ff_store: the offline feature store, one SQLite file holding feature tables,
 * a catalog describing them, a numbered version per write and a change feed
 * (ff-store(5)). Every write is one transaction; readers go on reading while
 * a writer writes (WAL). */
#ifndef FF_STORE_H
#define FF_STORE_H

#include <sqlite3.h>
#include <stdint.h>

#include "ff_schema.h"
#include "ff_shard.h"

#define FF_STORE_FORMAT 1

enum ff_store_mode { FF_STORE_READ, FF_STORE_WRITE };

struct ff_store;

/* Open a store. FF_STORE_WRITE creates a missing file: a new store is built in
 * a temporary file beside it and renamed into place by ff_store_commit, so a
 * failed first run leaves no file behind. A PostgreSQL URI or conninfo
 * (ff_pg_is_uri) opens for reading a private copy of that store
 * (ff_pg_store.h). Returns 0 or -1 (reported). */
int ff_store_open(const char *path, enum ff_store_mode mode, struct ff_store **out);
/* Close, rolling back an uncommitted write. Accepts NULL. */
void ff_store_close(struct ff_store *st);
sqlite3 *ff_store_db(struct ff_store *st);
/* Name the store in messages (a copy is named after its original). */
void ff_store_set_name(struct ff_store *st, const char *name);
const char *ff_store_path(const struct ff_store *st);
/* Where the catalog lies: "main", or the name the store was ATTACHed as. */
const char *ff_store_schema(const struct ff_store *st);

/* Start the one write transaction of a run. */
int ff_store_begin(struct ff_store *st);
/* Roll it back. */
void ff_store_rollback(struct ff_store *st);
/* Commit it (and put a new store in place). Returns 0 or -1. */
int ff_store_commit(struct ff_store *st);

/* Use a connection opened elsewhere (ff_db_open) as a store whose catalog
 * lies in schema: "main", or the name the store was ATTACHed as (its
 * catalog then reads in the connection's own transaction). For catalog
 * reads; the connection stays the caller's. path names it in messages.
 * Returns 1, 0 if it is not an ff store (nothing reported), or -1
 * (reported: a newer format, an error). */
int ff_store_borrow(sqlite3 *db, const char *path, const char *schema, struct ff_store **out);

/* The store's identity (ff-store(5)): 32 lower-case hexadecimal digits,
 * 128 random bits made by the store's first write (ff_store_begin makes
 * one for a store that has none) and kept by copies of the file. Returns
 * 1 with id, 0 if the store has none yet, -1 on error (reported). */
#define FF_STORE_ID_SIZE 33
int ff_store_id(struct ff_store *st, char id[FF_STORE_ID_SIZE]);

/* ---- reading the catalog (ff-store(5)); the other modules read it only here ---- */

/* Read a table's definition from the catalog: 1 found, 0 not there, -1 error. */
int ff_store_table(struct ff_store *st, const char *name, struct ff_table_def *def,
		   int64_t *version);

/* A table's row in the catalog, as stored. */
struct ff_catalog_entry {
	int64_t version;
	char *primary_keys;      /* comma-separated */
	char *timestamp_key;     /* NULL if none */
	char *partition_column;  /* NULL if none */
	char *created_at, *updated_at;
	char *definition, *spec;
};
/* Read name's catalog row: 1 found, 0 not there, -1 error (reported). */
int ff_store_catalog_entry(struct ff_store *st, const char *name, struct ff_catalog_entry *e);
void ff_catalog_entry_release(struct ff_catalog_entry *e);

/* The tables of the catalog by name (NULL-terminated; caller frees each and
 * the array). Returns 0 or -1 (reported). */
int ff_store_tables(struct ff_store *st, char ***tables);

/* The earliest timestamp appended to table by a version after since:
 * 1 and *from, 0 if none, -1 error (reported). */
int ff_store_appended_from(struct ff_store *st, const char *table, int64_t since, int64_t *from);
/* The first version after since that created or replaced table, or, when
 * a vacuum pruned the change feed past since, the oldest version whose feed
 * it kept: either way a reader of since reads the table anew. 1 and
 * *version, 0 if none, -1 error (reported). */
int ff_store_replaced_after(struct ff_store *st, const char *table, int64_t since, int64_t *version);

/* One write of a table, as ff_versions records it. */
struct ff_store_version {
	int64_t version;
	char operation[16];      /* create, replace, merge or overwrite */
	char committed_at[32];   /* UTC, as stored */
	int64_t inserted, updated, deleted;
};
/* The writes of table, oldest first (*out malloc'd, *n of them; none for a
 * table never written). Returns 0 or -1 (reported). */
int ff_store_versions(struct ff_store *st, const char *table, struct ff_store_version **out,
		      size_t *n);

enum ff_write_mode {
	FF_WRITE_MERGE,     /* upsert by primary key */
	FF_WRITE_OVERWRITE, /* the written rows replace the table (or its range) */
};

struct ff_write_options {
	enum ff_write_mode mode;
	int replace;         /* drop a table whose definition differs */
	int has_range;       /* overwrite only timestamps in (start, end] */
	int64_t start, end;  /* seconds; INT64_MIN / INT64_MAX for an open end */
	int keep_state;      /* keep an opaque state per row in ff_state_NAME */
	const char *operation; /* ff_versions.operation of a write into an existing
				  table (NULL: merge or overwrite, by mode) */
	struct ff_shard shard; /* the write gives only this shard's keys: an
				* overwrite deletes and forgets only theirs */
};

/* What one table write did. */
struct ff_write_stats {
	int64_t version;     /* new version, or the old one if nothing changed */
	int64_t inserted, updated, deleted, unchanged;
	int created;         /* the table was created (or replaced) */
};

struct ff_table_writer;

/* Begin writing rows of def into its table inside the store's transaction.
 * A stored table with another definition is an error unless opt->replace.
 * Returns 0 or -1 (reported). */
int ff_table_writer_open(struct ff_store *st, const struct ff_table_def *def,
			 const struct ff_write_options *opt, struct ff_table_writer **out);
/* 1 if a row with timestamp ts (microseconds) is later than every row the table
 * held when the write began: only this write can have written it. */
int ff_table_writer_after_stored(const struct ff_table_writer *w, int64_t ts);
/* With keep_state: the state stored with the row whose primary key the
 * cells (in def's column order) hold. Returns 1 with *state and *len (valid
 * until the next call), 0 if there is none, -1 on error (reported). */
int ff_table_writer_state(struct ff_table_writer *w, const struct ff_cell *cells,
			  const void **state, size_t *len);
/* The stored row with the primary key of cells: 1 with its numbers in out
 * (def's column order; other columns NULL but the key), 0 if there is none
 * (in overwrite mode: none written by this write), -1 on error (reported). */
int ff_table_writer_row(struct ff_table_writer *w, const struct ff_cell *cells, struct ff_cell *out);
/* Write nrows new rows, cells laid out row after row in def's column order,
 * with their states (NULL without keep_state; a NULL state stores none,
 * for a row whose values say it all). The rows must be unique by
 * key, exist neither in the table nor among the rows this write wrote, and
 * come in primary-key order: they go in by the fastest path. */
int ff_table_writer_put_new(struct ff_table_writer *w, const struct ff_cell *cells,
			    const void *const *states, const size_t *lens, size_t nrows);
/* Write one row that may exist, stored before this write or written by it
 * already: inserted or updated in place; the change feed names it once per
 * version. A NULL state forgets the row's state, if had_state says it may
 * have one. */
int ff_table_writer_put(struct ff_table_writer *w, const struct ff_cell *cells,
			const void *state, size_t len, int had_state);
/* Create def's empty table with its change feed (and window states) as a
 * writer would, without a catalog entry: for a copy of a store that fills
 * them itself (ff_pg_store). Returns 0 or -1 (reported). */
int ff_store_create_table(struct ff_store *st, const struct ff_table_def *def, int keep_state);
/* 1 if this write created the table (new, or replaced). */
int ff_table_writer_created(const struct ff_table_writer *w);
/* Finish (overwrite deletes, version and change feed). Returns 0 or -1. */
int ff_table_writer_finish(struct ff_table_writer *w, struct ff_write_stats *stats);
void ff_table_writer_free(struct ff_table_writer *w);

/* ---- batches: which inputs were folded into which table (ff-store(5)),
 * so that a batch fed twice is counted once. ---- */

struct ff_batch_input {
	const char *name;      /* as given: a path, or "-" */
	char hash[33];         /* XXH3-128 of its bytes, in hex */
	int64_t rows;          /* events read from it */
};

struct ff_batch {
	const char *id;        /* --batch NAME, or NULL for the inputs' combined hash */
	struct ff_batch_input *inputs;
	size_t ninputs;
	int overwrite;         /* a recompute: replaces, never counts twice */
	int64_t range_start, range_end; /* window ends in (start, end], seconds;
					 * INT64_MIN / INT64_MAX when open */
	struct ff_shard shard;  /* the keys it folded in: a shard, or all (n == 0) */
};

/* Was batch b folded into table already? Returns 0 if not (fold it), 1 if
 * exactly this batch was (nothing to do; *version says at which version),
 * -1 if it must be refused (reported): a batch id seen before with other
 * content, or an input folded before over windows that overlap these. */
int ff_store_batch_check(struct ff_store *st, const char *table, const struct ff_batch *b,
			 int64_t *version);
/* Record that b was folded into table at version, touching the windows
 * ending in [first_end, last_end] (seconds). A recompute that changed
 * nothing and was recorded before is not recorded again. Returns 0 or -1. */
int ff_store_batch_record(struct ff_store *st, const char *table, const struct ff_batch *b,
			  int64_t version, int64_t first_end, int64_t last_end, int changed);
/* Create ff_batches if the store has none yet. Returns 0 or -1. */
int ff_store_batch_table(struct ff_store *st);
/* Forget the batches of a table created anew. Returns 0 or -1. */
int ff_store_batch_forget(struct ff_store *st, const char *table);
/* Forget the batches folded into table after version (a table rolled
 * back to it: they may be fed again). Returns 0 or -1. */
int ff_store_batch_forget_after(struct ff_store *st, const char *table, int64_t version);

/* Quote an SQL identifier into buf ("name" with quotes doubled): ff_db_quote,
 * which fails (-1, and a buf no statement accepts) rather than truncate. A
 * buffer of FF_DB_IDENT_SIZE holds any valid name (ff_db.h). */
int ff_sql_ident(char *buf, size_t size, const char *name);

#endif
