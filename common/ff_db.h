/* ff_db: the one SQLite layer under every ff file (stores, the online store,
 * the model registry, inference logs): opening by role with one busy timeout
 * and one set of pragmas, exec/prepare/step helpers whose errors read
 * "path: what: sqlite's message", and the one rule for the names that
 * become SQL identifiers (tables, features, keys, models), with a quoter
 * that fails rather than truncates. */
#ifndef FF_DB_H
#define FF_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* How long a statement waits for another process's lock, in ms, unless
 * ff_db_set_wait says otherwise (--wait). */
#define FF_DB_BUSY_MS 30000

/* The busy timeout of the handles opened from now on, in ms. When a wait
 * ends with the lock still held, errors read "path: another ff run is
 * writing this store (waited N s); try again or raise --wait". */
void ff_db_set_wait(int ms);
/* The wait set, in ms (other stores' locks wait as long). */
int ff_db_wait(void);

enum ff_db_role {
	FF_DB_READER,        /* an existing file, read-only */
	FF_DB_WRITER,        /* read-write (FF_DB_CREATE: created if missing) */
	FF_DB_ONLINE_READER, /* a file another process writes while we read it:
				read-write but query_only, so that the WAL files stay
				open between transactions; read-only if that fails */
};

/* Options of ff_db_open. */
enum {
	FF_DB_CREATE = 1,     /* FF_DB_WRITER: create a missing file */
	FF_DB_URI = 2,        /* file: URIs in ATTACH (the path itself stays a path
				 unless it starts with "file:") */
	FF_DB_THREADED = 4,   /* the handle is used from several threads (with the
				 caller's own lock): SQLite keeps its mutexes */
};

/* Open path in role with the busy timeout and extended result codes.
 * Returns 0, or -1 with "path: why" reported and *out NULL. */
int ff_db_open(const char *path, enum ff_db_role role, int options, sqlite3 **out);
/* The same, naming the file shown in messages (a new file built under a
 * temporary name is reported by the name it will have). */
int ff_db_open_as(const char *path, const char *shown, enum ff_db_role role, int options,
		  sqlite3 **out);
/* Close, accepting NULL. */
void ff_db_close(sqlite3 *db);
/* Put a file read while written into WAL mode with synchronous=NORMAL (the
 * pragmas of every ff file that is). Returns 0 or -1 (reported; path NULL:
 * not reported, for a file another process holds, which switches later). */
int ff_db_wal(sqlite3 *db, const char *path);

/* Report "path: what: sqlite's message" and return -1 (a lock held past
 * the wait: the message above, without what). */
int ff_db_error(sqlite3 *db, const char *path, const char *what);
/* Run sql (one or more statements). Returns 0, or -1 with "path: message". */
int ff_db_exec(sqlite3 *db, const char *path, const char *sql);
/* Prepare sql into *s. Returns 0, or -1 with "path: what: message". */
int ff_db_prepare(sqlite3 *db, const char *path, const char *sql, sqlite3_stmt **s,
		  const char *what);
/* Step s to its end (a statement that returns no row), then reset it and
 * clear its bindings for the next use. Returns 0, or -1 with "path: what:
 * message". */
int ff_db_step_done(sqlite3 *db, const char *path, sqlite3_stmt *s, const char *what);
/* The integer in the first column of the first row of sql, with ?1 and ?2
 * bound to the texts a1 and a2 where not NULL, into *out (left as it was
 * if there is none). Returns 1 if found, 0 if sql gives no row or NULL,
 * or -1 on an error, reported as "path: what: sqlite's message" (path
 * NULL: not reported; sqlite3_errcode(db) tells what it was). */
int ff_db_int(sqlite3 *db, const char *path, const char *sql, const char *a1, const char *a2,
	      int64_t *out, const char *what);
/* 1 if table (in schema: "main", or an ATTACH name) has column, 0 if not
 * (a store made before ff added it), -1 on an error (reported with path). */
int ff_db_has_column(sqlite3 *db, const char *path, const char *schema, const char *table, const char *column);
/* Column i as a malloc'd string, or NULL for SQL NULL. */
char *ff_db_column_text(sqlite3_stmt *s, int i);
/* The wall clock to the second as the catalogs write it ("YYYY-MM-DD
 * HH:MM:SS"); buf needs 32 bytes. */
void ff_db_now_text(char *buf);

/* ---- names ---- */

/* The longest name (table, feature, key, model, alias) in bytes: short
 * enough that every name derived from it (ff_changes_NAME, ff_seen_NAME,
 * inference_NAME, ...) still fits FF_DB_IDENT_SIZE when quoted. */
#define FF_NAME_MAX 128
#define FF_NAME_MAX_TEXT "128"
/* A buffer that holds any quoted name or side-table name of a valid name. */
#define FF_DB_IDENT_SIZE 300

/* 1 if s is a plain identifier [A-Za-z_][A-Za-z0-9_]* of at most FF_NAME_MAX
 * bytes: the names of tables, keys and features. */
int ff_is_identifier(const char *s);
/* 0 if name is at most FF_NAME_MAX bytes; else -1 with "where: what '...'
 * is N bytes long, more than the 128 a name may have" reported (where may
 * be NULL). Call it where a name enters, before the character check, so that
 * the message says what is wrong. */
int ff_name_check(const char *name, const char *what, const char *where);

/* Quote an SQL identifier into buf: "name" with quotes doubled. Returns 0,
 * or -1 (no message) if it does not fit: then buf holds a lone '"', which
 * no statement accepts, so a caller that goes on anyway fails rather than
 * using another (truncated) name. */
int ff_db_quote(char *buf, size_t size, const char *name);
/* The quoted name of a table kept beside table name: prefix then name, as
 * in "ff_changes_NAME". Returns 0 or -1 as ff_db_quote. */
int ff_db_side_name(char *buf, size_t size, const char *prefix, const char *name);

#endif
