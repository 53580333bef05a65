#include "ff_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ff_cell.h"
#include "ff_db.h"
#include "ff_output.h"
#include "ff_spec.h"
#include "ff_store_history.h"
#include "ff_pg.h"
#include "ff_pg_store.h"
#include "ff_time.h"
#include "ff_util.h"

#define FF_APPLICATION_ID 0x66660001 /* "ff", format 1: tells an ff store apart */

struct ff_store {
	char *path;
	char *tmp_path;  /* a new store being built, renamed on commit */
	sqlite3 *db;
	int in_tx;
	int borrowed;    /* db is the caller's (ff_store_borrow) */
	char schema[FF_NAME_MAX + 1]; /* where the catalog is: main, or an ATTACH name */
};

static const char *catalog_sql =
	"CREATE TABLE ff_catalog ("
	" name TEXT PRIMARY KEY,"
	" version INTEGER NOT NULL,"
	" primary_keys TEXT NOT NULL,"
	" timestamp_key TEXT,"
	" partition_column TEXT,"
	" definition TEXT NOT NULL,"
	" spec TEXT NOT NULL,"
	" created_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL);"
	"CREATE TABLE ff_columns ("
	" table_name TEXT NOT NULL,"
	" position INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" description TEXT,"
	" PRIMARY KEY (table_name, position)) WITHOUT ROWID;"
	"CREATE TABLE ff_versions ("
	" table_name TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" operation TEXT NOT NULL,"
	" committed_at TEXT NOT NULL,"
	" inserted INTEGER NOT NULL,"
	" updated INTEGER NOT NULL,"
	" deleted INTEGER NOT NULL,"
	" range_start INTEGER,"
	" range_end INTEGER,"
	" appended_from INTEGER,"
	" shard TEXT,"
	" PRIMARY KEY (table_name, version)) WITHOUT ROWID;";

int ff_sql_ident(char *buf, size_t size, const char *name)
{
	return ff_db_quote(buf, size, name);
}

static int db_error(struct ff_store *st, const char *what)
{
	return ff_db_error(st->db, st->path, what);
}

static int exec(struct ff_store *st, const char *sql)
{
	return ff_db_exec(st->db, st->path, sql);
}

/* A statement on the catalog tables: each '@' in sql stands for the schema. */
static int prepare_catalog(struct ff_store *st, const char *sql, sqlite3_stmt **s)
{
	char text[1024];
	size_t n = 0, ns = strlen(st->schema);
	for (const char *p = sql; *p && n + ns + 1 < sizeof text; p++) {
		if (*p == '@') {
			memcpy(text + n, st->schema, ns);
			n += ns;
		} else {
			text[n++] = *p;
		}
	}
	text[n] = '\0';
	return ff_db_prepare(st->db, st->path, text, s, "cannot read the catalog");
}

static int pragma_int(struct ff_store *st, const char *pragma, int64_t *out)
{
	char sql[200];
	snprintf(sql, sizeof sql, "PRAGMA %s.%s", st->schema, pragma);
	*out = 0;
	return ff_db_int(st->db, st->path, sql, NULL, NULL, out, "cannot read the store") < 0 ? -1 : 0;
}

/* 1 if the file is a store this ff reads, 0 if it is not a store (nothing
 * reported), -1 otherwise (reported). */
static int check_format(struct ff_store *st)
{
	int64_t app = 0, ver = 0;
	if (pragma_int(st, "application_id", &app) < 0)
		return -1;
	if (app != FF_APPLICATION_ID)
		return 0;
	if (pragma_int(st, "user_version", &ver) < 0)
		return -1;
	if (ver > FF_STORE_FORMAT)
		return ff_error("%s: store format %lld is newer than this ff understands (%d)",
				st->path, (long long)ver, FF_STORE_FORMAT);
	return 1;
}

static struct ff_store *store_new(const char *path)
{
	struct ff_store *st = ff_xcalloc(1, sizeof *st);
	st->path = ff_xstrdup(path);
	strcpy(st->schema, "main");
	return st;
}

int ff_store_open(const char *path, enum ff_store_mode mode, struct ff_store **out)
{
	if (ff_pg_is_uri(path)) {
		*out = NULL;
		if (mode == FF_STORE_READ)
			return ff_pg_store_open(path, out);
		return ff_error("%s: a PostgreSQL store is written by ff-compute only", path);
	}
	struct stat sb;
	/* A mistyped address is not a file to make. */
	if (strstr(path, "://") && stat(path, &sb) < 0) {
		*out = NULL;
		return ff_error("%s: not a PostgreSQL address (postgresql://...) and no such store file", path);
	}
	struct ff_store *st = store_new(path);
	int fresh = mode == FF_STORE_WRITE && stat(path, &sb) < 0 && errno == ENOENT;
	const char *open_path = path;
	if (fresh) {
		size_t n = strlen(path) + 32;
		st->tmp_path = ff_xmalloc(n);
		snprintf(st->tmp_path, n, "%s.new-%ld", path, (long)getpid());
		ff_output_remove_stale(path); /* what runs killed before their rename left */
		unlink(st->tmp_path);
		open_path = st->tmp_path;
	} else if (stat(path, &sb) < 0) {
		ff_error("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (ff_db_open_as(open_path, path, mode == FF_STORE_READ ? FF_DB_READER : FF_DB_WRITER,
			  fresh ? FF_DB_CREATE : 0, &st->db) < 0)
		goto fail;
	if (fresh) {
		/* Nobody can see the file before the rename: no journal needed. */
		char sql[256];
		snprintf(sql, sizeof sql,
			 "PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;"
			 "PRAGMA cache_size=-32768; PRAGMA application_id=%d; PRAGMA user_version=%d;",
			 FF_APPLICATION_ID, FF_STORE_FORMAT);
		if (exec(st, sql) < 0 || exec(st, catalog_sql) < 0)
			goto fail;
	} else {
		int ok = check_format(st);
		if (ok == 0)
			ff_error("%s: not an ff store", st->path);
		if (ok <= 0)
			goto fail;
		if (mode == FF_STORE_WRITE &&
		    (ff_db_wal(st->db, st->path) < 0 || exec(st, "PRAGMA cache_size=-32768;") < 0))
			goto fail;
	}
	*out = st;
	return 0;
fail:
	ff_store_close(st);
	return -1;
}

int ff_store_borrow(sqlite3 *db, const char *path, const char *schema, struct ff_store **out)
{
	struct ff_store *st = store_new(path);
	st->db = db;
	st->borrowed = 1;
	snprintf(st->schema, sizeof st->schema, "%s", schema);
	int ok = ff_is_identifier(schema) ? check_format(st) : ff_error("%s: bad schema name", path);
	if (ok <= 0) {
		ff_store_close(st);
		*out = NULL;
		return ok;
	}
	*out = st;
	return 1;
}

void ff_store_close(struct ff_store *st)
{
	if (!st)
		return;
	if (st->db && !st->borrowed) {
		if (st->in_tx)
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		ff_db_close(st->db);
	}
	if (st->tmp_path)
		unlink(st->tmp_path);
	free(st->tmp_path);
	free(st->path);
	free(st);
}
sqlite3 *ff_store_db(struct ff_store *st) { return st->db; }
const char *ff_store_schema(const struct ff_store *st) { return st->schema; }
void ff_store_set_name(struct ff_store *st, const char *name)
{
	free(st->path);
	st->path = ff_xstrdup(name);
}
const char *ff_store_path(const struct ff_store *st) { return st->path; }

static void now_text(char *buf);

/* The store's identity, made in the first write of a store that has none
 * (a new store, or one made before identities): 128 random bits in hex. */
static int ensure_id(struct ff_store *st)
{
	unsigned char bytes[16];
	size_t got = 0;
	while (got < sizeof bytes) {
		ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
		if (n < 0 && errno != EINTR)
			return ff_error("%s: cannot make the store's identity: %s", st->path, strerror(errno));
		got += n > 0 ? (size_t)n : 0;
	}
	char id[FF_STORE_ID_SIZE], now[32], sql[400];
	for (size_t i = 0; i < sizeof bytes; i++)
		snprintf(id + 2 * i, 3, "%02x", bytes[i]);
	now_text(now);
	snprintf(sql, sizeof sql,
		 "CREATE TABLE IF NOT EXISTS ff_store_info (id TEXT NOT NULL, created_at TEXT NOT NULL);"
		 "INSERT INTO ff_store_info SELECT '%s', '%s' WHERE NOT EXISTS (SELECT 1 FROM ff_store_info);",
		 id, now);
	return exec(st, sql);
}

int ff_store_begin(struct ff_store *st)
{
	if (exec(st, st->tmp_path ? "BEGIN" : "BEGIN IMMEDIATE") < 0)
		return -1;
	st->in_tx = 1;
	if (ensure_id(st) < 0) {
		ff_store_rollback(st);
		return -1;
	}
	return 0;
}

int ff_store_id(struct ff_store *st, char id[FF_STORE_ID_SIZE])
{
	sqlite3_stmt *s;
	if (prepare_catalog(st, "SELECT count(*) FROM @.sqlite_master WHERE type = 'table' AND name = 'ff_store_info'",
			    &s) < 0)
		return -1;
	int rc = sqlite3_step(s), has = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return db_error(st, "cannot read the store");
	if (!has)
		return 0;
	if (prepare_catalog(st, "SELECT id FROM @.ff_store_info LIMIT 1", &s) < 0)
		return -1;
	rc = sqlite3_step(s);
	int found = rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_TEXT;
	if (found)
		snprintf(id, FF_STORE_ID_SIZE, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(st, "cannot read the store");
	return found;
}

static int publish_new_store(struct ff_store *st)
{
	if (exec(st, "PRAGMA journal_mode=WAL") < 0)
		return -1;
	if (sqlite3_close_v2(st->db) != SQLITE_OK)
		return ff_error("%s: cannot close the new store", st->path);
	st->db = NULL;
	int fd = open(st->tmp_path, O_RDONLY);
	if (fd < 0 || fsync(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return ff_error("%s: %s", st->tmp_path, strerror(errno));
	}
	close(fd);
	if (renameat2(AT_FDCWD, st->tmp_path, AT_FDCWD, st->path, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST)
			return ff_error("%s: another run created the store meanwhile; nothing written, run again",
					st->path);
		if (errno != EINVAL && errno != ENOSYS)
			return ff_error("%s: %s", st->path, strerror(errno));
		/* A file system without RENAME_NOREPLACE: link fails if the name is taken. */
		if (link(st->tmp_path, st->path) < 0)
			return ff_error("%s: %s", st->path, strerror(errno));
		unlink(st->tmp_path);
	}
	free(st->tmp_path);
	st->tmp_path = NULL;
	return 0;
}

void ff_store_rollback(struct ff_store *st)
{
	if (st->in_tx)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
}

int ff_store_commit(struct ff_store *st)
{
	if (exec(st, "COMMIT") < 0)
		return -1;
	st->in_tx = 0;
	return st->tmp_path ? publish_new_store(st) : 0;
}

/* ---- reading the catalog ---- */

int ff_store_table(struct ff_store *st, const char *name, struct ff_table_def *def, int64_t *version)
{
	sqlite3_stmt *s = NULL;
	int found = 0;
	memset(def, 0, sizeof *def);
	if (prepare_catalog(st, "SELECT version, definition, spec FROM @.ff_catalog WHERE name = ?", &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		if (version)
			*version = sqlite3_column_int64(s, 0);
		def->name = ff_xstrdup(name);
		def->definition = ff_db_column_text(s, 1);
		def->spec = ff_db_column_text(s, 2);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(st, "cannot read the catalog");
	if (!found)
		return 0;
	if (prepare_catalog(st, "SELECT name, type, role, description FROM @.ff_columns"
				" WHERE table_name = ? ORDER BY position", &s) < 0) {
		ff_table_def_release(def);
		return -1;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	size_t cap = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ff_grow(&def->cols, &cap, def->ncols + 1, sizeof *def->cols);
		struct ff_column *c = &def->cols[def->ncols++];
		c->name = ff_db_column_text(s, 0);
		const char *type = (const char *)sqlite3_column_text(s, 1);
		const char *role = (const char *)sqlite3_column_text(s, 2);
		int t = type ? ff_type_parse(type) : -1, r = role ? ff_role_parse(role) : -1;
		c->type = t < 0 ? FF_TYPE_TEXT : (enum ff_type)t;
		c->role = r < 0 ? FF_ROLE_FEATURE : (enum ff_role)r;
		c->description = ff_db_column_text(s, 3);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		ff_table_def_release(def);
		return db_error(st, "cannot read the catalog");
	}
	return 1;
}

/* The text fields of a catalog entry, in the order of the catalog's columns
 * after its version. */
#define ENTRY_TEXTS 7
static void entry_texts(struct ff_catalog_entry *e, char **texts[ENTRY_TEXTS])
{
	char **t[ENTRY_TEXTS] = {&e->primary_keys, &e->timestamp_key, &e->partition_column,
				 &e->created_at, &e->updated_at, &e->definition, &e->spec};
	memcpy(texts, t, sizeof t);
}

void ff_catalog_entry_release(struct ff_catalog_entry *e)
{
	if (!e)
		return;
	char **texts[ENTRY_TEXTS];
	entry_texts(e, texts);
	for (size_t i = 0; i < ENTRY_TEXTS; i++)
		free(*texts[i]);
	memset(e, 0, sizeof *e);
}

int ff_store_catalog_entry(struct ff_store *st, const char *name, struct ff_catalog_entry *e)
{
	sqlite3_stmt *s;
	memset(e, 0, sizeof *e);
	if (prepare_catalog(st, "SELECT version, primary_keys, timestamp_key, partition_column,"
				" created_at, updated_at, definition, spec FROM @.ff_catalog WHERE name = ?",
			    &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		char **texts[ENTRY_TEXTS];
		entry_texts(e, texts);
		e->version = sqlite3_column_int64(s, 0);
		for (size_t i = 0; i < ENTRY_TEXTS; i++)
			*texts[i] = ff_db_column_text(s, (int)i + 1);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(st, "cannot read the catalog");
	return rc == SQLITE_ROW;
}

int ff_store_tables(struct ff_store *st, char ***tables)
{
	sqlite3_stmt *s;
	*tables = NULL;
	if (prepare_catalog(st, "SELECT name FROM @.ff_catalog ORDER BY name", &s) < 0)
		return -1;
	size_t n = 0;
	char **v = ff_xcalloc(1, sizeof *v);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = ff_xrealloc(v, (n + 2) * sizeof *v);
		v[n++] = ff_db_column_text(s, 0);
		v[n] = NULL;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return db_error(st, "cannot read the catalog");
	}
	*tables = v;
	return 0;
}

/* One integer (NULL: not found) of the versions of table after since. */
static int versions_int(struct ff_store *st, const char *sql, const char *table, int64_t since,
			int64_t *out)
{
	sqlite3_stmt *s;
	if (prepare_catalog(st, sql, &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, since);
	int rc = sqlite3_step(s), found = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(s, 0);
		found = 1;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(st, "cannot read the versions");
	return found;
}

int ff_store_appended_from(struct ff_store *st, const char *table, int64_t since, int64_t *from)
{
	return versions_int(st, "SELECT min(appended_from) FROM @.ff_versions"
				" WHERE table_name = ?1 AND version > ?2", table, since, from);
}

int ff_store_replaced_after(struct ff_store *st, const char *table, int64_t since, int64_t *version)
{
	/* A vacuum that pruned the feed up to feed_from leaves a reader of an
	 * earlier version as one of a replaced table: it reads all. */
	int pruned = ff_store_feed_from(st, table, version);
	if (pruned < 0)
		return -1;
	if (pruned && since < *version)
		return 1;
	return versions_int(st, "SELECT min(version) FROM @.ff_versions WHERE table_name = ?1"
				" AND operation IN ('create', 'replace') AND version > ?2",
			    table, since, version);
}

int ff_store_versions(struct ff_store *st, const char *table, struct ff_store_version **out,
		      size_t *n)
{
	sqlite3_stmt *s;
	*out = NULL;
	*n = 0;
	if (prepare_catalog(st, "SELECT version, operation, committed_at, inserted, updated, deleted"
				" FROM @.ff_versions WHERE table_name = ? ORDER BY version", &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
	int rc;
	size_t cap = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = ff_xrealloc(*out, cap * sizeof **out);
		}
		struct ff_store_version *v = &(*out)[(*n)++];
		v->version = sqlite3_column_int64(s, 0);
		snprintf(v->operation, sizeof v->operation, "%s", (const char *)sqlite3_column_text(s, 1));
		snprintf(v->committed_at, sizeof v->committed_at, "%s", (const char *)sqlite3_column_text(s, 2));
		v->inserted = sqlite3_column_int64(s, 3);
		v->updated = sqlite3_column_int64(s, 4);
		v->deleted = sqlite3_column_int64(s, 5);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return db_error(st, "cannot read the versions");
	}
	return 0;
}

/* ---- writing a table ---- */

struct ff_table_writer {
	struct ff_store *st;
	const struct ff_table_def *def;
	struct ff_write_options opt;
	int64_t old_version, version;
	int bulk;         /* new table: plain inserts, no lookups */
	int exists;       /* catalog row present */
	size_t nkey;      /* key columns + timestamp key */
	size_t *key_cols; /* indexes into def->cols of the primary key */
	size_t *val_cols; /* the other columns */
	size_t nval;
	sqlite3_stmt *insert, *insert_many, *select, *update, *change, *seen;
	sqlite3_stmt *state_get, *state_put, *state_put_many, *state_del; /* keep_state */
	sqlite3_stmt *seen_get;
	int64_t appended_from; /* earliest timestamp appended, INT64_MAX if none */
	size_t ts_col;    /* the timestamp key's column */
	int has_max;      /* the table had rows when the write began */
	int64_t max_ts;   /* their latest timestamp: later rows are all new */
	struct ff_write_stats stats;
	struct ff_history *history; /* images this version replaces (not for a new table) */
	char qtable[300], qchanges[300];
	char qseen[300];  /* overwrite: keys this write gave, one temp table per table */
	char qstate[300]; /* ff_state_NAME: the state of each row */
};

static void now_text(char *buf)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ff_time_format((int64_t)ts.tv_sec * FF_USEC, buf);
}

static int prepare(struct ff_table_writer *w, sqlite3_stmt **s, const char *sql)
{
	if (sqlite3_prepare_v2(w->st->db, sql, -1, s, NULL) != SQLITE_OK)
		return db_error(w->st, "cannot prepare a statement");
	return 0;
}

/* Append `"a", "b"` (or with a prefix and suffix per name) to a memstream. */
static void name_list(FILE *m, const struct ff_table_def *def, const size_t *cols, size_t n,
		      const char *sep, const char *suffix)
{
	char q[300];
	for (size_t i = 0; i < n; i++) {
		ff_sql_ident(q, sizeof q, def->cols[cols[i]].name);
		fprintf(m, "%s%s%s", i ? sep : "", q, suffix);
	}
}

static char *sql_printf(void (*build)(FILE *, struct ff_table_writer *), struct ff_table_writer *w)
{
	char *sql = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&sql, &size);
	if (!m)
		ff_die(1, "out of memory");
	build(m, w);
	fclose(m);
	return sql;
}

/* Key columns with their types: without the same affinity as the table's,
 * SQLite could not use ff_seen's primary key to look rows up. */
static void typed_key_list(FILE *m, struct ff_table_writer *w)
{
	char q[300];
	for (size_t i = 0; i < w->nkey; i++) {
		const struct ff_column *c = &w->def->cols[w->key_cols[i]];
		ff_sql_ident(q, sizeof q, c->name);
		fprintf(m, "%s%s %s NOT NULL", i ? ", " : "", q, c->type == FF_TYPE_TEXT ? "TEXT" : "INTEGER");
	}
}

static void build_create(FILE *m, struct ff_table_writer *w)
{
	const struct ff_table_def *def = w->def;
	char q[300];
	fprintf(m, "CREATE TABLE %s (", w->qtable);
	for (size_t i = 0; i < def->ncols; i++) {
		const struct ff_column *c = &def->cols[i];
		ff_sql_ident(q, sizeof q, c->name);
		const char *type = c->type == FF_TYPE_REAL ? "REAL" : c->type == FF_TYPE_TEXT ? "TEXT" : "INTEGER";
		int notnull = c->role == FF_ROLE_KEY || c->role == FF_ROLE_TIMESTAMP;
		fprintf(m, "%s%s %s%s", i ? ", " : "", q, type, notnull ? " NOT NULL" : "");
	}
	fprintf(m, ", PRIMARY KEY (");
	name_list(m, def, w->key_cols, w->nkey, ", ", "");
	fprintf(m, ")) WITHOUT ROWID;\nCREATE TABLE %s (version INTEGER NOT NULL, op TEXT NOT NULL, ", w->qchanges);
	typed_key_list(m, w);
	fprintf(m, ", PRIMARY KEY (version, ");
	name_list(m, def, w->key_cols, w->nkey, ", ", "");
	fprintf(m, ")) WITHOUT ROWID;");
	if (w->opt.keep_state) {
		fprintf(m, "\nCREATE TABLE %s (", w->qstate);
		typed_key_list(m, w);
		fprintf(m, ", state BLOB NOT NULL, PRIMARY KEY (");
		name_list(m, def, w->key_cols, w->nkey, ", ", "");
		fprintf(m, ")) WITHOUT ROWID;");
	}
	fprintf(m, "\n");
	ff_history_create_sql(m, def, w->key_cols, w->nkey);
}

/* "k1 = ?1 AND k2 = ?2 ...": a row of a side table by the primary key. */
static void where_key(FILE *m, struct ff_table_writer *w)
{
	char q[300];
	for (size_t i = 0; i < w->nkey; i++) {
		ff_sql_ident(q, sizeof q, w->def->cols[w->key_cols[i]].name);
		fprintf(m, "%s%s = ?%zu", i ? " AND " : "", q, i + 1);
	}
}

static void build_state_get(FILE *m, struct ff_table_writer *w)
{
	fprintf(m, "SELECT state FROM %s WHERE ", w->qstate);
	where_key(m, w);
}

static void build_state_del(FILE *m, struct ff_table_writer *w)
{
	fprintf(m, "DELETE FROM %s WHERE ", w->qstate);
	where_key(m, w);
}

static void build_state_put(FILE *m, struct ff_table_writer *w)
{
	fprintf(m, "INSERT OR REPLACE INTO %s VALUES (", w->qstate);
	for (size_t i = 0; i <= w->nkey; i++)
		fprintf(m, "%s?", i ? ", " : "");
	fprintf(m, ")");
}

/* "INSERT INTO t (columns) VALUES ": by name, for a table widened by
 * features (ff_spec_definition_adds) has its columns in another order. */
static void insert_into(FILE *m, struct ff_table_writer *w)
{
	char q[300];
	fprintf(m, "INSERT INTO %s (", w->qtable);
	for (size_t i = 0; i < w->def->ncols; i++) {
		ff_sql_ident(q, sizeof q, w->def->cols[i].name);
		fprintf(m, "%s%s", i ? ", " : "", q);
	}
	fprintf(m, ") VALUES ");
}

static void build_insert(FILE *m, struct ff_table_writer *w)
{
	insert_into(m, w);
	fprintf(m, "(");
	for (size_t i = 0; i < w->def->ncols; i++)
		fprintf(m, "%s?%zu", i ? ", " : "", i + 1);
	fprintf(m, ")");
}

/* Bulk writes bind this many rows per statement: a quarter of the per-row
 * cost of SQLite is the statement itself. */
#define ROWS_PER_INSERT 128

static void build_insert_many(FILE *m, struct ff_table_writer *w)
{
	insert_into(m, w);
	for (size_t r = 0; r < ROWS_PER_INSERT; r++) {
		fprintf(m, "%s(", r ? ", " : "");
		for (size_t i = 0; i < w->def->ncols; i++)
			fprintf(m, "%s?", i ? ", " : "");
		fprintf(m, ")");
	}
}

static void build_state_put_many(FILE *m, struct ff_table_writer *w)
{
	fprintf(m, "INSERT INTO %s VALUES ", w->qstate);
	for (size_t r = 0; r < ROWS_PER_INSERT; r++) {
		fprintf(m, "%s(", r ? ", " : "");
		for (size_t i = 0; i <= w->nkey; i++)
			fprintf(m, "%s?", i ? ", " : "");
		fprintf(m, ")");
	}
}

static void build_select(FILE *m, struct ff_table_writer *w)
{
	fprintf(m, "SELECT ");
	if (w->nval)
		name_list(m, w->def, w->val_cols, w->nval, ", ", "");
	else
		fprintf(m, "1");
	fprintf(m, " FROM %s WHERE ", w->qtable);
	char q[300];
	for (size_t i = 0; i < w->nkey; i++) {
		ff_sql_ident(q, sizeof q, w->def->cols[w->key_cols[i]].name);
		fprintf(m, "%s%s = ?%zu", i ? " AND " : "", q, w->key_cols[i] + 1);
	}
}

static void build_update(FILE *m, struct ff_table_writer *w)
{
	char q[300];
	fprintf(m, "UPDATE %s SET ", w->qtable);
	for (size_t i = 0; i < w->nval; i++) {
		ff_sql_ident(q, sizeof q, w->def->cols[w->val_cols[i]].name);
		fprintf(m, "%s%s = ?%zu", i ? ", " : "", q, w->val_cols[i] + 1);
	}
	fprintf(m, " WHERE ");
	for (size_t i = 0; i < w->nkey; i++) {
		ff_sql_ident(q, sizeof q, w->def->cols[w->key_cols[i]].name);
		fprintf(m, "%s%s = ?%zu", i ? " AND " : "", q, w->key_cols[i] + 1);
	}
}

static void build_change(FILE *m, struct ff_table_writer *w)
{
	fprintf(m, "INSERT OR IGNORE INTO %s VALUES (?, ?", w->qchanges);
	for (size_t i = 0; i < w->nkey; i++)
		fprintf(m, ", ?");
	fprintf(m, ")");
}

static void build_seen(FILE *m, struct ff_table_writer *w)
{
	fprintf(m, "CREATE TEMP TABLE %s (", w->qseen);
	typed_key_list(m, w);
	fprintf(m, ", PRIMARY KEY (");
	name_list(m, w->def, w->key_cols, w->nkey, ", ", "");
	fprintf(m, ")) WITHOUT ROWID");
}

static void build_seen_get(FILE *m, struct ff_table_writer *w)
{
	fprintf(m, "SELECT 1 FROM temp.%s WHERE ", w->qseen);
	where_key(m, w);
}

static void build_seen_insert(FILE *m, struct ff_table_writer *w)
{
	(void)w;
	fprintf(m, "INSERT OR IGNORE INTO temp.%s VALUES (?", w->qseen);
	for (size_t i = 1; i < w->nkey; i++)
		fprintf(m, ", ?");
	fprintf(m, ")");
}

static int exec_built(struct ff_table_writer *w, void (*build)(FILE *, struct ff_table_writer *))
{
	char *sql = sql_printf(build, w);
	int rc = exec(w->st, sql);
	free(sql);
	return rc;
}

static int prepare_built(struct ff_table_writer *w, sqlite3_stmt **s,
			 void (*build)(FILE *, struct ff_table_writer *))
{
	char *sql = sql_printf(build, w);
	int rc = prepare(w, s, sql);
	free(sql);
	return rc;
}

/* The first line in which two definitions differ, for the error message. */
static void first_difference(const char *a, const char *b, char *out, size_t size)
{
	while (*a && *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
		if (la != lb || memcmp(a, b, la) != 0) {
			snprintf(out, size, "stored '%.*s', spec '%.*s'", (int)la, a, (int)lb, b);
			return;
		}
		a += la + (ea != NULL);
		b += lb + (eb != NULL);
	}
	snprintf(out, size, "stored '%.80s', spec '%.80s'", *a ? a : "(end)", *b ? b : "(end)");
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

static int write_catalog(struct ff_table_writer *w)
{
	const struct ff_table_def *def = w->def;
	char now[32];
	now_text(now);
	sqlite3_stmt *s = NULL;
	int rc = -1;
	char *pk = NULL, *tskey = NULL, *part = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&pk, &size);
	if (!m)
		ff_die(1, "out of memory");
	int first = 1;
	for (size_t i = 0; i < def->ncols; i++) {
		if (def->cols[i].role == FF_ROLE_KEY || def->cols[i].role == FF_ROLE_TIMESTAMP) {
			fprintf(m, "%s%s", first ? "" : ",", def->cols[i].name);
			first = 0;
		}
		if (def->cols[i].role == FF_ROLE_TIMESTAMP)
			tskey = def->cols[i].name;
		if (def->cols[i].role == FF_ROLE_PARTITION)
			part = def->cols[i].name;
	}
	fclose(m);
	if (prepare(w, &s, "INSERT INTO ff_catalog VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
			   " ON CONFLICT (name) DO UPDATE SET version = ?2, primary_keys = ?3,"
			   " timestamp_key = ?4, partition_column = ?5, definition = ?6, spec = ?7,"
			   " updated_at = ?8") < 0)
		goto out;
	sqlite3_bind_text(s, 1, def->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, w->version);
	sqlite3_bind_text(s, 3, pk, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, tskey, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, part, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, def->definition, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, def->spec, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, now, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		db_error(w->st, "cannot write the catalog");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (prepare(w, &s, "DELETE FROM ff_columns WHERE table_name = ?") < 0)
		goto out;
	sqlite3_bind_text(s, 1, def->name, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		db_error(w->st, "cannot write the catalog");
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (prepare(w, &s, "INSERT INTO ff_columns VALUES (?, ?, ?, ?, ?, ?)") < 0)
		goto out;
	for (size_t i = 0; i < def->ncols; i++) {
		const struct ff_column *c = &def->cols[i];
		sqlite3_bind_text(s, 1, def->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)i + 1);
		sqlite3_bind_text(s, 3, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, ff_type_name(c->type), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, ff_role_name(c->role), -1, SQLITE_STATIC);
		if (c->description)
			sqlite3_bind_text(s, 6, c->description, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 6);
		if (sqlite3_step(s) != SQLITE_DONE) {
			db_error(w->st, "cannot write the catalog");
			goto out;
		}
		sqlite3_reset(s);
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	free(pk);
	return rc;
}

static int drop_table(struct ff_table_writer *w)
{
	char *sql = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&sql, &size);
	if (!m)
		ff_die(1, "out of memory");
	fprintf(m, "DROP TABLE IF EXISTS %s; DROP TABLE IF EXISTS %s; DROP TABLE IF EXISTS %s;", w->qtable,
		w->qchanges, w->qstate);
	ff_history_drop_sql(m, w->def->name);
	fclose(m);
	int rc = exec(w->st, sql);
	free(sql);
	return rc;
}

static int sqlite_table_exists(struct ff_store *st, const char *name)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM sqlite_schema WHERE name = ?", -1, &s, NULL) != SQLITE_OK)
		return db_error(st, "cannot read the schema");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	int found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

/* Rows later than everything stored are new: they need no lookup. */
static int read_max_ts(struct ff_table_writer *w)
{
	char sql[700], q[300];
	ff_sql_ident(q, sizeof q, w->def->cols[w->ts_col].name);
	snprintf(sql, sizeof sql, "SELECT max(%s) FROM %s", q, w->qtable);
	sqlite3_stmt *s;
	if (prepare(w, &s, sql) < 0)
		return -1;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		w->has_max = 1;
		w->max_ts = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : db_error(w->st, "cannot read the table");
}

/* " AND ff_shard(N, keys) = K": a sharded write touches only its keys. */
static void shard_filter(FILE *m, struct ff_table_writer *w, const char *alias)
{
	if (!w->opt.shard.n)
		return;
	fputs(" AND ", m);
	ff_shard_sql(m, &w->opt.shard, w->def, alias);
}

/* An existing table keeps states: they must be there, and an overwrite
 * starts its range afresh. */
static int open_state(struct ff_table_writer *w)
{
	char name[300];
	snprintf(name, sizeof name, "ff_state_%s", w->def->name);
	int found = sqlite_table_exists(w->st, name);
	if (found < 0)
		return -1;
	if (!found)
		return ff_error("%s: table %s was written by an earlier ff that kept no window state, "
				"so new events cannot be merged into it; recompute it with --replace",
				w->st->path, w->def->name);
	if (w->opt.mode != FF_WRITE_OVERWRITE)
		return 0;
	char *range = NULL, q[300], old[FF_DB_IDENT_SIZE];
	size_t size = 0;
	FILE *m = open_memstream(&range, &size);
	if (!m)
		ff_die(1, "out of memory");
	ff_sql_ident(q, sizeof q, w->def->cols[w->ts_col].name);
	fprintf(m, "1");
	if (w->opt.has_range)
		fprintf(m, " AND %s > %lld AND %s <= %lld", q, (long long)w->opt.start, q, (long long)w->opt.end);
	shard_filter(m, w, "");
	fclose(m);
	/* The states the range had, for the history of the rows it replaces. */
	ff_db_side_name(old, sizeof old, "ff_oldstate_", w->def->name);
	char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS temp.%s; CREATE TEMP TABLE %s AS SELECT * FROM %s WHERE %s;"
				    "DELETE FROM %s WHERE %s", old, old, w->qstate, range, w->qstate, range);
	free(range);
	int rc = exec(w->st, sql);
	sqlite3_free(sql);
	return rc;
}

/* A spec that adds features to the stored table: add their columns (NULL
 * in every row, and so in every earlier version) to the table and its
 * history. Their values come from a recompute of the events: an
 * overwrite of the whole table, whose window states are all made anew. */
static int widen(struct ff_table_writer *w, const struct ff_table_def *stored)
{
	const struct ff_table_def *def = w->def;
	if (w->opt.mode != FF_WRITE_OVERWRITE || w->opt.has_range)
		return ff_error("%s: table %s gains features: compute them from all the events of the table with "
				"--mode overwrite and no --start or --end (or drop the table with --replace)",
				w->st->path, def->name);
	char qh[FF_DB_IDENT_SIZE], name[FF_DB_IDENT_SIZE];
	ff_db_side_name(qh, sizeof qh, "ff_history_", def->name);
	snprintf(name, sizeof name, "ff_history_%s", def->name);
	int has_history = sqlite_table_exists(w->st, name);
	if (has_history < 0)
		return -1;
	for (size_t i = 0; i < def->ncols; i++) {
		size_t j = 0;
		while (j < stored->ncols && strcmp(stored->cols[j].name, def->cols[i].name) != 0)
			j++;
		if (j < stored->ncols)
			continue;
		char q[300], sql[1024];
		ff_sql_ident(q, sizeof q, def->cols[i].name);
		const char *type = def->cols[i].type == FF_TYPE_REAL ? "REAL" : "INTEGER";
		snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s;", w->qtable, q, type);
		if (has_history)
			snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "ALTER TABLE %s ADD COLUMN %s %s;", qh, q,
				 type);
		if (exec(w->st, sql) < 0)
			return -1;
	}
	return ff_history_widened(w->st, def->name, w->old_version, stored->definition);
}

/* A writer's columns and names, before it looks at the store. */
static struct ff_table_writer *writer_new(struct ff_store *st, const struct ff_table_def *def,
					  const struct ff_write_options *opt)
{
	struct ff_table_writer *w = ff_xcalloc(1, sizeof *w);
	w->st = st;
	w->def = def;
	w->opt = *opt;
	w->key_cols = ff_xcalloc(def->ncols, sizeof *w->key_cols);
	w->val_cols = ff_xcalloc(def->ncols, sizeof *w->val_cols);
	/* Time-major primary key: windows close in time order, so a bulk write
	 * appends to the b-tree instead of splitting pages all over it (1.6x
	 * faster on the taxi tables), and time ranges are contiguous. */
	for (size_t i = 0; i < def->ncols; i++)
		if (def->cols[i].role == FF_ROLE_TIMESTAMP) {
			w->ts_col = i;
			w->key_cols[w->nkey++] = i;
		}
	for (size_t i = 0; i < def->ncols; i++) {
		if (def->cols[i].role == FF_ROLE_KEY)
			w->key_cols[w->nkey++] = i;
		else if (def->cols[i].role != FF_ROLE_TIMESTAMP)
			w->val_cols[w->nval++] = i;
	}
	ff_sql_ident(w->qtable, sizeof w->qtable, def->name);
	char changes[300];
	snprintf(changes, sizeof changes, "ff_changes_%s", def->name);
	ff_sql_ident(w->qchanges, sizeof w->qchanges, changes);
	snprintf(changes, sizeof changes, "ff_seen_%s", def->name);
	ff_sql_ident(w->qseen, sizeof w->qseen, changes);
	snprintf(changes, sizeof changes, "ff_state_%s", def->name);
	ff_sql_ident(w->qstate, sizeof w->qstate, changes);
	return w;
}

int ff_store_create_table(struct ff_store *st, const struct ff_table_def *def, int keep_state)
{
	struct ff_write_options opt = {.keep_state = keep_state};
	struct ff_table_writer *w = writer_new(st, def, &opt);
	int rc = exec_built(w, build_create);
	ff_table_writer_free(w);
	return rc;
}

int ff_table_writer_open(struct ff_store *st, const struct ff_table_def *def,
			 const struct ff_write_options *opt, struct ff_table_writer **out)
{
	struct ff_table_writer *w = writer_new(st, def, opt);
	struct ff_table_def stored;
	if (strncmp(def->name, "ff_", 3) == 0) {
		ff_error("%s: table name %s: names starting with ff_ are the store's own", st->path, def->name);
		goto fail;
	}

	int found = ff_store_table(st, def->name, &stored, &w->old_version);
	if (found < 0)
		goto fail;
	if (found) {
		w->exists = 1;
		int adds = strcmp(stored.definition, def->definition) != 0 &&
			   ff_spec_definition_adds(stored.definition, def->definition);
		if (adds && !opt->replace) {
			int rc = widen(w, &stored);
			ff_table_def_release(&stored);
			if (rc < 0)
				goto fail;
		} else if (strcmp(stored.definition, def->definition) != 0) {
			if (!opt->replace) {
				char diff[400];
				first_difference(stored.definition, def->definition, diff, sizeof diff);
				ff_error("%s: table %s was computed by another definition (%s); "
					 "use --replace to drop it and store the new one", st->path,
					 def->name, diff);
				ff_table_def_release(&stored);
				goto fail;
			}
			if (drop_table(w) < 0) {
				ff_table_def_release(&stored);
				goto fail;
			}
			w->bulk = 1;
		} else if (opt->keep_state && opt->replace) {
			/* Stored by an ff that kept no window state: --replace stores it anew. */
			char name[300];
			snprintf(name, sizeof name, "ff_state_%s", def->name);
			int has_state = sqlite_table_exists(st, name);
			if (has_state < 0 || (!has_state && drop_table(w) < 0)) {
				ff_table_def_release(&stored);
				goto fail;
			}
			w->bulk = !has_state;
		}
		ff_table_def_release(&stored);
	} else {
		int clash = sqlite_table_exists(st, def->name);
		if (clash < 0)
			goto fail;
		if (clash) {
			ff_error("%s: a table named %s exists but is not in the catalog", st->path, def->name);
			goto fail;
		}
		w->bulk = 1;
	}
	w->version = w->old_version + 1;
	w->appended_from = INT64_MAX;
	w->stats.created = w->bulk;
	if (w->bulk && exec_built(w, build_create) < 0)
		goto fail;
	if (!w->bulk && opt->keep_state && open_state(w) < 0)
		goto fail;
	if (prepare_built(w, &w->insert, build_insert) < 0 ||
	    prepare_built(w, &w->insert_many, build_insert_many) < 0)
		goto fail;
	if (opt->keep_state &&
	    (prepare_built(w, &w->state_get, build_state_get) < 0 ||
	     prepare_built(w, &w->state_put, build_state_put) < 0 ||
	     prepare_built(w, &w->state_put_many, build_state_put_many) < 0 ||
	     prepare_built(w, &w->state_del, build_state_del) < 0))
		goto fail;
	if (prepare_built(w, &w->select, build_select) < 0 ||
	    (w->nval && prepare_built(w, &w->update, build_update) < 0) ||
	    prepare_built(w, &w->change, build_change) < 0)
		goto fail;
	if (!w->bulk) {
		if (read_max_ts(w) < 0)
			goto fail;
		char state_name[FF_DB_IDENT_SIZE];
		snprintf(state_name, sizeof state_name, "ff_state_%s", def->name);
		int has_state = sqlite_table_exists(st, state_name);
		if (has_state < 0)
			goto fail;
		enum ff_history_states from = !has_state ? FF_HISTORY_NO_STATE
					      : opt->keep_state && opt->mode == FF_WRITE_OVERWRITE ? FF_HISTORY_OLD_STATES
					      : FF_HISTORY_STATE_TABLE;
		if (ff_history_open(st, def, w->key_cols, w->nkey, from, w->version, w->old_version, &w->history) < 0)
			goto fail;
		if (opt->mode == FF_WRITE_OVERWRITE) {
			char drop[400];
			snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS temp.%s", w->qseen);
			if (exec(st, drop) < 0 ||
			    exec_built(w, build_seen) < 0 ||
			    prepare_built(w, &w->seen, build_seen_insert) < 0 ||
			    prepare_built(w, &w->seen_get, build_seen_get) < 0)
				goto fail;
		}
	}
	*out = w;
	return 0;
fail:
	ff_table_writer_free(w);
	return -1;
}

static void bind_cell(sqlite3_stmt *s, int idx, const struct ff_column *c, const struct ff_cell *v)
{
	ff_cell_bind(s, idx, c->type, v); /* timestamps stored in seconds */
}

/* Does the stored value (column i of the select) equal the cell? */
static int same_value(sqlite3_stmt *s, int i, const struct ff_column *c, const struct ff_cell *v)
{
	int null = sqlite3_column_type(s, i) == SQLITE_NULL;
	if (null || v->null)
		return null && v->null;
	switch (c->type) {
	case FF_TYPE_TEXT: {
		const void *t = sqlite3_column_blob(s, i);
		size_t n = (size_t)sqlite3_column_bytes(s, i);
		return n == v->len && (n == 0 || memcmp(t, v->s, n) == 0);
	}
	case FF_TYPE_REAL: {
		double d = sqlite3_column_double(s, i);
		return memcmp(&d, &v->d, sizeof d) == 0;
	}
	case FF_TYPE_TIMESTAMP:
		return sqlite3_column_int64(s, i) == ff_floor_div(v->i, FF_USEC);
	default:
		return sqlite3_column_int64(s, i) == v->i;
	}
}

static int step_done(struct ff_table_writer *w, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return ff_error("%s: table %s: %s: two rows with the same key", w->st->path,
					w->def->name, what);
		return ff_error("%s: table %s: %s: %s", w->st->path, w->def->name, what,
				sqlite3_errmsg(w->st->db));
	}
	return 0;
}

static int log_change(struct ff_table_writer *w, const char *op, const struct ff_cell *cells)
{
	sqlite3_bind_int64(w->change, 1, w->version);
	sqlite3_bind_text(w->change, 2, op, -1, SQLITE_STATIC);
	for (size_t i = 0; i < w->nkey; i++)
		bind_cell(w->change, (int)i + 3, &w->def->cols[w->key_cols[i]], &cells[w->key_cols[i]]);
	return step_done(w, w->change, "change feed");
}

static int is_new(const struct ff_table_writer *w, const struct ff_cell *cells)
{
	return !w->has_max || ff_floor_div(cells[w->ts_col].i, FF_USEC) > w->max_ts;
}

int ff_table_writer_after_stored(const struct ff_table_writer *w, int64_t ts)
{
	return w->bulk || !w->has_max || ff_floor_div(ts, FF_USEC) > w->max_ts;
}

/* Rows later than all the table held are appended. The change feed records
 * them as one range (ff_versions.appended_from), not row by row: every row
 * whose timestamp is at or after it was inserted by this version or a later
 * one, and the time-major key makes that range one contiguous scan. */
static void note_append(struct ff_table_writer *w, const struct ff_cell *first, size_t nrows)
{
	for (size_t r = 0; r < nrows; r++) {
		int64_t ts = ff_floor_div(first[r * w->def->ncols + w->ts_col].i, FF_USEC);
		if (ts < w->appended_from)
			w->appended_from = ts;
	}
	w->stats.inserted += (int64_t)nrows;
}

static void bind_keys(struct ff_table_writer *w, sqlite3_stmt *s, int first, const struct ff_cell *cells)
{
	for (size_t i = 0; i < w->nkey; i++)
		bind_cell(s, first + (int)i, &w->def->cols[w->key_cols[i]], &cells[w->key_cols[i]]);
}

int ff_table_writer_state(struct ff_table_writer *w, const struct ff_cell *cells,
			  const void **state, size_t *len)
{
	sqlite3_reset(w->state_get);
	bind_keys(w, w->state_get, 1, cells);
	int rc = sqlite3_step(w->state_get);
	if (rc == SQLITE_ROW) {
		*state = sqlite3_column_blob(w->state_get, 0);
		*len = (size_t)sqlite3_column_bytes(w->state_get, 0);
		return 1;
	}
	sqlite3_reset(w->state_get);
	if (rc != SQLITE_DONE)
		return db_error(w->st, "cannot read window states");
	return 0;
}

/* Keep a row's state, or forget it (NULL: the row itself says it). */
static int put_state(struct ff_table_writer *w, const struct ff_cell *cells, const void *state, size_t len)
{
	if (!w->opt.keep_state || (!state && len == SIZE_MAX))
		return 0;
	if (!state) {
		bind_keys(w, w->state_del, 1, cells);
		return step_done(w, w->state_del, "window state");
	}
	bind_keys(w, w->state_put, 1, cells);
	sqlite3_bind_blob(w->state_put, (int)w->nkey + 1, state, (int)len, SQLITE_STATIC);
	return step_done(w, w->state_put, "window state");
}

int ff_table_writer_row(struct ff_table_writer *w, const struct ff_cell *cells, struct ff_cell *out)
{
	const struct ff_table_def *def = w->def;
	/* An overwrite starts its range afresh: rows stored before it do not count. */
	if (w->seen_get && !is_new(w, cells)) {
		bind_keys(w, w->seen_get, 1, cells);
		int rc = sqlite3_step(w->seen_get);
		sqlite3_reset(w->seen_get);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return db_error(w->st, "cannot read the table");
	}
	sqlite3_reset(w->select);
	for (size_t i = 0; i < w->nkey; i++)
		bind_cell(w->select, (int)w->key_cols[i] + 1, &def->cols[w->key_cols[i]], &cells[w->key_cols[i]]);
	int rc = sqlite3_step(w->select);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(w->select);
		return rc == SQLITE_DONE ? 0 : db_error(w->st, "cannot read the table");
	}
	for (size_t i = 0; i < w->nkey; i++)
		out[w->key_cols[i]] = cells[w->key_cols[i]];
	for (size_t i = 0; i < w->nval; i++) {
		struct ff_cell *c = &out[w->val_cols[i]];
		int col = (int)i;
		*c = (struct ff_cell){.null = sqlite3_column_type(w->select, col) == SQLITE_NULL};
		switch (def->cols[w->val_cols[i]].type) {
		case FF_TYPE_TEXT: c->null = 1; break;
		case FF_TYPE_REAL: c->d = sqlite3_column_double(w->select, col); break;
		default: c->i = sqlite3_column_int64(w->select, col); break;
		}
	}
	sqlite3_reset(w->select);
	return 1;
}

int ff_table_writer_put(struct ff_table_writer *w, const struct ff_cell *cells,
			const void *state, size_t len, int had_state)
{
	/* No state stored and none to store: nothing to forget. */
	if (!state && !had_state)
		len = SIZE_MAX;
	const struct ff_table_def *def = w->def;
	if (w->seen) {
		bind_keys(w, w->seen, 1, cells);
		if (step_done(w, w->seen, "overwrite") < 0)
			return -1;
	}
	/* Rows in the range the table spanned are named in the change feed;
	 * later ones were appended by this write, once. */
	int stored_range = !is_new(w, cells);
	for (size_t i = 0; i < w->nkey; i++)
		bind_cell(w->select, (int)w->key_cols[i] + 1, &def->cols[w->key_cols[i]], &cells[w->key_cols[i]]);
	int rc = sqlite3_step(w->select);
	if (rc == SQLITE_ROW) {
		int same = 1;
		for (size_t i = 0; i < w->nval && same; i++)
			same = same_value(w->select, (int)i, &def->cols[w->val_cols[i]], &cells[w->val_cols[i]]);
		sqlite3_reset(w->select);
		if (same) {
			if (stored_range)
				w->stats.unchanged++;
			return put_state(w, cells, state, len);
		}
		if (stored_range) {
			if (log_change(w, "update", cells) < 0)
				return -1;
			/* A row already changed by this version is counted once, and
			 * its image before this version kept once. */
			if (sqlite3_changes(w->st->db) > 0) {
				w->stats.updated++;
				if (ff_history_save(w->history, cells) < 0)
					return -1;
			}
		}
		for (size_t i = 0; i < def->ncols; i++)
			bind_cell(w->update, (int)i + 1, &def->cols[i], &cells[i]);
		if (step_done(w, w->update, "update") < 0)
			return -1;
		return put_state(w, cells, state, len);
	}
	sqlite3_reset(w->select);
	if (rc != SQLITE_DONE)
		return db_error(w->st, "cannot read the table");
	for (size_t i = 0; i < def->ncols; i++)
		bind_cell(w->insert, (int)i + 1, &def->cols[i], &cells[i]);
	if (step_done(w, w->insert, "insert") < 0)
		return -1;
	if (stored_range) {
		if (log_change(w, "insert", cells) < 0 || ff_history_absent(w->history, cells) < 0)
			return -1;
		w->stats.inserted++;
	} else {
		note_append(w, cells, 1);
	}
	return put_state(w, cells, state, len);
}

/* Append ROWS_PER_INSERT new rows (in key order) with one statement each
 * for the rows and their states. */
static int insert_chunk(struct ff_table_writer *w, const struct ff_cell *row,
			const void *const *states, const size_t *lens)
{
	size_t ncols = w->def->ncols;
	for (size_t i = 0; i < ROWS_PER_INSERT * ncols; i++)
		bind_cell(w->insert_many, (int)i + 1, &w->def->cols[i % ncols], &row[i]);
	if (step_done(w, w->insert_many, "insert") < 0)
		return -1;
	size_t nstates = 0;
	for (size_t r = 0; states && r < ROWS_PER_INSERT; r++)
		nstates += states[r] != NULL;
	if (nstates && nstates < ROWS_PER_INSERT) {
		for (size_t r = 0; r < ROWS_PER_INSERT; r++)
			if (states[r] && put_state(w, row + r * ncols, states[r], lens[r]) < 0)
				return -1;
	} else if (nstates) {
		int per_row = (int)w->nkey + 1;
		for (size_t r = 0; r < ROWS_PER_INSERT; r++) {
			bind_keys(w, w->state_put_many, (int)r * per_row + 1, row + r * ncols);
			sqlite3_bind_blob(w->state_put_many, (int)(r + 1) * per_row, states[r], (int)lens[r],
					  SQLITE_STATIC);
		}
		if (step_done(w, w->state_put_many, "window state") < 0)
			return -1;
	}
	note_append(w, row, ROWS_PER_INSERT);
	return 0;
}

int ff_table_writer_put_new(struct ff_table_writer *w, const struct ff_cell *cells,
			    const void *const *states, const size_t *lens, size_t nrows)
{
	size_t ncols = w->def->ncols;
	size_t r = 0;
	for (; r + ROWS_PER_INSERT <= nrows; r += ROWS_PER_INSERT)
		if (insert_chunk(w, cells + r * ncols, states ? states + r : NULL, lens ? lens + r : NULL) < 0)
			return -1;
	for (; r < nrows; r++) {
		const struct ff_cell *row = cells + r * ncols;
		for (size_t i = 0; i < ncols; i++)
			bind_cell(w->insert, (int)i + 1, &w->def->cols[i], &row[i]);
		if (step_done(w, w->insert, "insert") < 0)
			return -1;
		if (w->seen) {
			bind_keys(w, w->seen, 1, row);
			if (step_done(w, w->seen, "overwrite") < 0)
				return -1;
		}
		if (states && states[r] && put_state(w, row, states[r], lens[r]) < 0)
			return -1;
		if (is_new(w, row))
			note_append(w, row, 1);
		else if (log_change(w, "insert", row) < 0 || ff_history_absent(w->history, row) < 0)
			return -1;
		else
			w->stats.inserted++;
	}
	return 0;
}

/* Overwrite: rows of the table (in the range) that this write did not give. */
static int delete_unseen(struct ff_table_writer *w)
{
	const struct ff_table_def *def = w->def;
	char *cond = NULL, *sql = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&cond, &size);
	if (!m)
		ff_die(1, "out of memory");
	char q[300];
	fprintf(m, "NOT EXISTS (SELECT 1 FROM temp.%s s WHERE ", w->qseen);
	for (size_t i = 0; i < w->nkey; i++) {
		ff_sql_ident(q, sizeof q, def->cols[w->key_cols[i]].name);
		fprintf(m, "%ss.%s = t.%s", i ? " AND " : "", q, q);
	}
	fprintf(m, ")");
	shard_filter(m, w, "t.");
	ff_sql_ident(q, sizeof q, def->cols[w->ts_col].name);
	fprintf(m, " AND t.%s <= %lld", q, (long long)w->max_ts); /* later rows are this write's */
	if (w->opt.has_range) {
		for (size_t i = 0; i < def->ncols; i++)
			if (def->cols[i].role == FF_ROLE_TIMESTAMP) {
				ff_sql_ident(q, sizeof q, def->cols[i].name);
				fprintf(m, " AND t.%s > %lld AND t.%s <= %lld", q, (long long)w->opt.start, q,
					(long long)w->opt.end);
			}
	}
	fclose(m);
	m = open_memstream(&sql, &size);
	if (!m)
		ff_die(1, "out of memory");
	fprintf(m, "INSERT INTO %s SELECT %lld, 'delete'", w->qchanges, (long long)w->version);
	for (size_t i = 0; i < w->nkey; i++) {
		ff_sql_ident(q, sizeof q, def->cols[w->key_cols[i]].name);
		fprintf(m, ", t.%s", q);
	}
	fprintf(m, " FROM %s t WHERE %s; DELETE FROM %s AS t WHERE %s; DROP TABLE temp.%s;",
		w->qtable, cond, w->qtable, cond, w->qseen);
	fclose(m);
	int rc = ff_history_save_where(w->history, cond) < 0 ? -1 : exec(w->st, sql);
	if (rc == 0)
		w->stats.deleted = sqlite3_changes64(w->st->db);
	free(cond);
	free(sql);
	return rc;
}

static int record_version(struct ff_table_writer *w)
{
	char now[32];
	now_text(now);
	sqlite3_stmt *s;
	if (prepare(w, &s, "INSERT INTO ff_versions (table_name, version, operation, committed_at, inserted, updated,"
			 " deleted, range_start, range_end, appended_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") < 0)
		return -1;
	const char *op = w->stats.created ? (w->exists ? "replace" : "create")
			 : w->opt.operation	       ? w->opt.operation
			 : w->opt.mode == FF_WRITE_OVERWRITE ? "overwrite"
							     : "merge";
	sqlite3_bind_text(s, 1, w->def->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, w->version);
	sqlite3_bind_text(s, 3, op, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, now, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, w->stats.inserted);
	sqlite3_bind_int64(s, 6, w->stats.updated);
	sqlite3_bind_int64(s, 7, w->stats.deleted);
	if (w->opt.has_range && w->opt.start != INT64_MIN)
		sqlite3_bind_int64(s, 8, w->opt.start);
	if (w->opt.has_range && w->opt.end != INT64_MAX)
		sqlite3_bind_int64(s, 9, w->opt.end);
	if (w->appended_from != INT64_MAX)
		sqlite3_bind_int64(s, 10, w->appended_from);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_error(w->st, "cannot record the version");
	return 0;
}

int ff_table_writer_created(const struct ff_table_writer *w) { return w->stats.created; }

int ff_table_writer_finish(struct ff_table_writer *w, struct ff_write_stats *stats)
{
	if (w->state_get)
		sqlite3_reset(w->state_get); /* let the transaction end */
	if (w->seen) {
		sqlite3_finalize(w->seen);
		w->seen = NULL;
		sqlite3_finalize(w->seen_get);
		w->seen_get = NULL;
		if (w->has_max && delete_unseen(w) < 0)
			return -1;
	}
	int changed = w->stats.created || w->stats.inserted || w->stats.updated || w->stats.deleted;
	if (changed) {
		if (record_version(w) < 0 || write_catalog(w) < 0)
			return -1;
		w->stats.version = w->version;
	} else {
		w->stats.version = w->old_version;
		/* Descriptions are not part of the definition: keep them current. */
		struct ff_table_def stored;
		int found = ff_store_table(w->st, w->def->name, &stored, NULL);
		if (found < 0)
			return -1;
		int same_spec = found && stored.spec && strcmp(stored.spec, w->def->spec) == 0;
		ff_table_def_release(&stored);
		if (!same_spec) {
			w->version = w->old_version;
			if (write_catalog(w) < 0)
				return -1;
		}
	}
	if (stats)
		*stats = w->stats;
	return 0;
}

void ff_table_writer_free(struct ff_table_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->insert);
	sqlite3_finalize(w->insert_many);
	sqlite3_finalize(w->select);
	sqlite3_finalize(w->update);
	sqlite3_finalize(w->change);
	sqlite3_finalize(w->seen);
	sqlite3_finalize(w->state_get);
	sqlite3_finalize(w->state_put);
	sqlite3_finalize(w->state_put_many);
	sqlite3_finalize(w->state_del);
	sqlite3_finalize(w->seen_get);
	ff_history_free(w->history);
	free(w->key_cols);
	free(w->val_cols);
	free(w);
}
