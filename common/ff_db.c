#include "ff_db.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ff_shard.h"
#include "ff_time.h"
#include "ff_util.h"

static int busy_ms = FF_DB_BUSY_MS;

int ff_db_wait(void)
{
	return busy_ms;
}

void ff_db_set_wait(int ms)
{
	busy_ms = ms;
}

/* The message of db's last error: SQLite's, or for a lock still held when
 * the wait ended, who holds it and what to do. */
static const char *db_message(sqlite3 *db, const char *sqlite_msg, char *buf, size_t size)
{
	if ((sqlite3_errcode(db) & 0xff) != SQLITE_BUSY)
		return sqlite_msg ? sqlite_msg : sqlite3_errmsg(db);
	snprintf(buf, size, "another ff run is writing this store (waited %g s); try again or "
		 "raise --wait", busy_ms / 1000.0);
	return buf;
}

/* The file: URI of path opened as immutable: no locks and no -shm, for a
 * WAL store in a directory the reader cannot write. Returns a malloc'd string. */
static char *immutable_uri(const char *path)
{
	size_t n = strlen(path);
	char *uri = ff_xmalloc(3 * n + 32), *p = uri;
	p += sprintf(p, "file:%s", path[0] == '/' ? "//" : "");
	for (const char *c = path; *c; c++)
		if (*c == '?' || *c == '#' || *c == '%')
			p += sprintf(p, "%%%02X", (unsigned char)*c);
		else
			*p++ = *c;
	strcpy(p, "?immutable=1");
	return uri;
}

/* A reader of a store in WAL mode needs the -shm file beside it, which it
 * cannot create in a directory it cannot write. When that is what failed
 * (SQLite says "attempt to write a readonly database" or "unable to open"),
 * and no other process has the store open (in WAL mode the -wal file lives
 * as long as a connection does, so none is there), the store is read as
 * immutable; else the failure is said as it is. Returns 0, 1 (*db reopened)
 * or -1 (reported). */
static int open_unshared(const char *path, const char *shown, int flags, sqlite3 **db)
{
	if (sqlite3_exec(*db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	int code = sqlite3_errcode(*db) & 0xff;
	if (code != SQLITE_READONLY && code != SQLITE_CANTOPEN)
		return 0; /* not this failure: the caller's first statement reports it */
	size_t n = strlen(path) + 8;
	char *wal = ff_xmalloc(n);
	snprintf(wal, n, "%s-wal", path);
	int in_use = access(wal, F_OK) == 0;
	free(wal);
	if (in_use)
		return ff_error("%s: cannot read the store: another process has it open (%s-wal "
				"exists) and its directory is not writable, so the %s-shm file "
				"readers share cannot be created; read it once that process is done, "
				"or from a copy", shown, shown, shown);
	char *uri = immutable_uri(path);
	sqlite3_close_v2(*db);
	*db = NULL;
	int rc = sqlite3_open_v2(uri, db, flags | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return ff_error("%s: %s", shown, *db ? sqlite3_errmsg(*db) : "cannot open");
	return 1;
}

int ff_db_open(const char *path, enum ff_db_role role, int options, sqlite3 **out)
{
	return ff_db_open_as(path, path, role, options, out);
}

int ff_db_open_as(const char *path, const char *shown, enum ff_db_role role, int options,
		  sqlite3 **out)
{
	int flags = role == FF_DB_READER ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (role == FF_DB_WRITER && (options & FF_DB_CREATE))
		flags |= SQLITE_OPEN_CREATE;
	if (options & FF_DB_URI)
		flags |= SQLITE_OPEN_URI;
	if (!(options & FF_DB_THREADED))
		flags |= SQLITE_OPEN_NOMUTEX;
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK && role == FF_DB_ONLINE_READER) {
		sqlite3_close_v2(db);
		db = NULL;
		flags = (flags & ~SQLITE_OPEN_READWRITE) | SQLITE_OPEN_READONLY;
		rc = sqlite3_open_v2(path, &db, flags, NULL);
	}
	if (rc != SQLITE_OK) {
		ff_error("%s: %s", shown, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close_v2(db);
		*out = NULL;
		return -1;
	}
	if (role == FF_DB_READER && !(options & FF_DB_URI) && open_unshared(path, shown, flags, &db) < 0) {
		sqlite3_close_v2(db);
		*out = NULL;
		return -1;
	}
	sqlite3_busy_timeout(db, busy_ms);
	sqlite3_extended_result_codes(db, 1);
	/* The as-of rule of a table some shards appended to asks for it. */
	if (ff_shard_sql_register(db) < 0) {
		ff_error("%s: cannot register ff_shard: %s", shown, sqlite3_errmsg(db));
		sqlite3_close_v2(db);
		*out = NULL;
		return -1;
	}
	if (role == FF_DB_ONLINE_READER)
		sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL);
	*out = db;
	return 0;
}

void ff_db_close(sqlite3 *db)
{
	if (db)
		sqlite3_close_v2(db);
}

int ff_db_wal(sqlite3 *db, const char *path)
{
	static const char *const pragmas[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"};
	int rc = 0;
	for (size_t i = 0; i < 2; i++)
		if (path ? ff_db_exec(db, path, pragmas[i]) < 0
			 : sqlite3_exec(db, pragmas[i], NULL, NULL, NULL) != SQLITE_OK)
			rc = -1;
	return rc;
}

int ff_db_error(sqlite3 *db, const char *path, const char *what)
{
	char buf[160];
	const char *msg = db_message(db, NULL, buf, sizeof buf);
	if (msg == buf)
		return ff_error("%s: %s", path, msg);
	return ff_error("%s: %s: %s", path, what, sqlite3_errmsg(db));
}

int ff_db_exec(sqlite3 *db, const char *path, const char *sql)
{
	char *msg = NULL, buf[160];
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ff_error("%s: %s", path, db_message(db, msg, buf, sizeof buf));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int ff_db_prepare(sqlite3 *db, const char *path, const char *sql, sqlite3_stmt **s,
		  const char *what)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return ff_db_error(db, path, what);
	}
	return 0;
}

int ff_db_step_done(sqlite3 *db, const char *path, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : ff_db_error(db, path, what);
}

int ff_db_int(sqlite3 *db, const char *path, const char *sql, const char *a1, const char *a2,
	      int64_t *out, const char *what)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return path ? ff_db_error(db, path, what) : -1;
	if (a1)
		sqlite3_bind_text(s, 1, a1, -1, SQLITE_STATIC);
	if (a2)
		sqlite3_bind_text(s, 2, a2, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s), found = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(s, 0);
		found = 1;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return path ? ff_db_error(db, path, what) : -1;
	return found;
}

int ff_db_has_column(sqlite3 *db, const char *path, const char *schema, const char *table, const char *column)
{
	char sql[FF_DB_IDENT_SIZE + 80], q[FF_DB_IDENT_SIZE];
	ff_db_quote(q, sizeof q, schema);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.pragma_table_info(?1) WHERE name = ?2", q);
	int64_t n = 0;
	return ff_db_int(db, path, sql, table, column, &n, "cannot read the schema") < 0 ? -1 : n > 0;
}

char *ff_db_column_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? ff_xstrdup((const char *)t) : NULL;
}

void ff_db_now_text(char *buf)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ff_time_format((int64_t)ts.tv_sec * FF_USEC, buf);
}

/* ---- names ---- */

int ff_is_identifier(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	size_t n = 1;
	for (s++; *s; s++, n++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return n <= FF_NAME_MAX;
}

int ff_name_check(const char *name, const char *what, const char *where)
{
	size_t n = strlen(name);
	if (n <= FF_NAME_MAX)
		return 0;
	return ff_error("%s%s%s '%.24s...' is %zu bytes long, more than the %d a name may have",
			where ? where : "", where ? ": " : "", what, name, n, FF_NAME_MAX);
}

/* The failed quote: a lone '"', which no statement accepts. */
static int quote_failed(char *buf, size_t size)
{
	if (size >= 2)
		memcpy(buf, "\"", 2);
	else if (size)
		buf[0] = '\0';
	return -1;
}

int ff_db_quote(char *buf, size_t size, const char *name)
{
	size_t n = 0;
	if (size < 3)
		return quote_failed(buf, size);
	buf[n++] = '"';
	for (const char *p = name; *p; p++) {
		if (n + (*p == '"') + 3 > size)
			return quote_failed(buf, size);
		if (*p == '"')
			buf[n++] = '"';
		buf[n++] = *p;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return 0;
}

int ff_db_side_name(char *buf, size_t size, const char *prefix, const char *name)
{
	char joined[FF_DB_IDENT_SIZE];
	size_t np = strlen(prefix), nn = strlen(name);
	if (np + nn >= sizeof joined)
		return quote_failed(buf, size);
	memcpy(joined, prefix, np);
	memcpy(joined + np, name, nn + 1);
	return ff_db_quote(buf, size, joined);
}
