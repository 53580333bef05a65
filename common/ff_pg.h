/* ff_pg: the one PostgreSQL layer of ff (libpq): connecting to a store
 * named by a libpq URI or conninfo string (the password from PGPASSFILE or
 * PGPASSWORD, never from the command line), errors that read "store: what:
 * the server's message", and bulk copies in both directions through COPY in
 * text form, converting between PostgreSQL's types and the SQLite forms of
 * ff-store(5) by column kind. */
#ifndef FF_PG_H
#define FF_PG_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ff_schema.h"

struct ff_pg;

/* 1 if store names a PostgreSQL database: a postgresql:// or postgres://
 * URI, or a conninfo string ("host=... dbname=..."). */
int ff_pg_is_uri(const char *store);

/* Connect, with the session in UTC. A password in the string is refused.
 * Returns 0, or -1 (reported) with *out NULL. */
int ff_pg_connect(const char *conninfo, struct ff_pg **out);
/* Close (a transaction still open is rolled back). Accepts NULL. */
void ff_pg_close(struct ff_pg *pg);
/* The store's name for messages: the string given. */
const char *ff_pg_name(const struct ff_pg *pg);

/* Run sql (one or more statements, no result rows wanted). Returns 0, or
 * -1 with "name: what: message" reported. */
int ff_pg_exec(struct ff_pg *pg, const char *sql, const char *what);
/* Inside the open transaction, take the ACCESS EXCLUSIVE lock of the table
 * qtable (quoted) if no other transaction holds a lock on it for longer
 * than wait_ms: 1 taken (until the transaction ends), 0 not (the
 * transaction goes on as before), -1 on another error (reported). */
int ff_pg_try_lock(struct ff_pg *pg, const char *qtable, int wait_ms);
/* Run sql with text parameters (NULL: SQL NULL) and give the first column
 * of its first row as a malloc'd string in *out (NULL: no row, or NULL).
 * Returns 0 or -1 (reported). */
int ff_pg_value(struct ff_pg *pg, const char *sql, int nparams, const char *const *params,
		char **out, const char *what);

/* How a column travels between PostgreSQL and SQLite. */
enum ff_pg_kind {
	FF_PG_TEXT,   /* text both sides */
	FF_PG_INT,    /* bigint / INTEGER */
	FF_PG_REAL,   /* double precision / REAL, bit for bit */
	FF_PG_EPOCH,  /* timestamp / INTEGER seconds since the epoch */
	FF_PG_CLOCK,  /* timestamp / TEXT 'YYYY-MM-DD HH:MM:SS' */
	FF_PG_BLOB,   /* bytea / BLOB */
};
struct ff_pg_col {
	const char *name;
	enum ff_pg_kind kind;
};
/* The PostgreSQL type of a kind. */
const char *ff_pg_type(enum ff_pg_kind kind);
/* The PostgreSQL type of a key column of a kind: texts compare bytewise,
 * as in SQLite, whatever the database's locale (text COLLATE "C"; and
 * keys sort several times faster). */
const char *ff_pg_key_type(enum ff_pg_kind kind);
/* The kind a feature table's column of type t travels as. */
enum ff_pg_kind ff_pg_kind_of(enum ff_type t);

/* ---- SQL text, built in a memstream ---- */

/* A memstream into *buf (NULL until closed; out of memory exits). */
FILE *ff_pg_sql_open(char **buf, size_t *size);
/* Close m, the memstream of *buf, and return *buf (the caller frees it). */
char *ff_pg_sql_close(FILE *m, char **buf);
/* Close m, run its SQL on pg (ff_pg_exec) and free it, *buf NULL after.
 * Returns 0 or -1 (reported). */
int ff_pg_sql_exec(struct ff_pg *pg, FILE *m, char **buf, const char *what);
/* The names of cols quoted, each after prefix ("t." or ""), separated by
 * ", ", into m. */
void ff_pg_names(FILE *m, const struct ff_pg_col *cols, size_t n, const char *prefix);
/* 'text' as an SQL literal (quotes doubled), into m. */
void ff_pg_literal(FILE *m, const char *text);

/* 1 if PostgreSQL has the table qname, 0 if not; -1 on error (reported).
 * qname as SQL reads it: quoted (ff_db_quote, ff_db_side_name), or a
 * lowercase name ("ff_catalog"). */
int ff_pg_has(struct ff_pg *pg, const char *qname);

/* One row read by ff_pg_copy_out: ncols cells (ff_schema.h), valid until
 * the next row: text, a clock and a blob in s and len (not NUL-terminated),
 * an integer in i, a real in d, an epoch in i as microseconds since
 * 1970-01-01 UTC. A non-zero return stops the copy. */
typedef int (*ff_pg_row_fn)(void *ctx, const struct ff_cell *cells);

/* COPY (SELECT cols FROM from) TO STDOUT in binary form: from is the rest
 * of the query ("table WHERE ..."). Returns 0, or -1 (reported; a
 * callback's non-zero return is -1 too, reported by the callback). */
int ff_pg_copy_out(struct ff_pg *pg, const struct ff_pg_col *cols, size_t ncols, const char *from,
		   ff_pg_row_fn fn, void *ctx);

/* Keep (1) or leave out (0) a row ff_pg_copy_to_db reads. */
typedef int (*ff_pg_keep_fn)(void *ctx, const struct ff_cell *cells);

/* ff_pg_copy_out into the SQLite table qtable (quoted, in main) of db:
 * INSERT INTO it (cols) of each row, or of those keep (if not NULL)
 * keeps. Returns 0 or -1 (reported). */
int ff_pg_copy_to_db(struct ff_pg *pg, const struct ff_pg_col *cols, size_t ncols, const char *from,
		     sqlite3 *db, const char *db_name, const char *qtable, ff_pg_keep_fn keep, void *ctx);

/* COPY pg_table (cols) FROM STDIN in binary form with the rows of the
 * SQLite query select on db (its columns those of cols, in their SQLite
 * form). Returns 0 or -1 (reported). */
int ff_pg_copy_in(struct ff_pg *pg, const char *pg_table, const struct ff_pg_col *cols, size_t ncols,
		  sqlite3 *db, const char *db_name, const char *select);

/* Rows for a later COPY in binary form, built in memory (no connection):
 * ff_pg_rows_put appends one row of ncols cells as ff_pg_copy_out gives
 * them (an epoch in microseconds, cut to the second as a store keeps it; a
 * NaN real as NULL and -0 as 0, as SQLite keeps them), ff_pg_rows_send
 * copies them into a table. */
struct ff_pg_rows {
	unsigned char *p;
	size_t len, cap;
	size_t nrows;
};
void ff_pg_rows_put(struct ff_pg_rows *b, const struct ff_pg_col *cols, size_t ncols, const struct ff_cell *cells);
/* COPY pg_table (cols) FROM STDIN with the rows of b (b is left as it
 * was). Returns 0 or -1 (reported). */
int ff_pg_rows_send(struct ff_pg *pg, const char *pg_table, const struct ff_pg_col *cols, size_t ncols,
		    const struct ff_pg_rows *b);
void ff_pg_rows_release(struct ff_pg_rows *b);

#endif
