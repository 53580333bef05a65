#include "ff_registry.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "ff_db.h"
#include "ff_model.h"
#include "ff_util.h"

#define FF_REGISTRY_APPLICATION_ID 0x66660002 /* "ff", format 2: a registry, not a store */
#define FF_REGISTRY_FORMAT 1                  /* PRAGMA user_version */
#define REF_PREFIX "models:/"

struct ff_registry {
	char *path;
	sqlite3 *db;     /* NULL: a WRITE registry not created yet */
	int writable;
	int in_tx;
	int created;     /* this run made the file: removed if no change took */
	int committed;
};

/* names keeps the last version given per name, so that a deleted version's
 * number is never given again. */
static const char *schema_sql =
	"CREATE TABLE names ("
	" name TEXT PRIMARY KEY,"
	" last_version INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE models ("
	" name TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" created_at TEXT NOT NULL,"
	" artifact BLOB NOT NULL,"
	" size INTEGER NOT NULL,"
	" hash TEXT NOT NULL,"
	" source TEXT,"
	" description TEXT,"
	" metrics TEXT,"
	" PRIMARY KEY (name, version));"
	"CREATE INDEX models_hash ON models (name, hash);"
	"CREATE TABLE aliases ("
	" name TEXT NOT NULL,"
	" alias TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" PRIMARY KEY (name, alias)) WITHOUT ROWID;"
	"CREATE TABLE lineage ("
	" name TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" lookup INTEGER NOT NULL,"
	" position INTEGER NOT NULL,"
	" table_name TEXT NOT NULL,"
	" table_version INTEGER,"
	" feature TEXT,"
	" PRIMARY KEY (name, version, lookup, position)) WITHOUT ROWID;"
	"CREATE INDEX lineage_table ON lineage (table_name, feature);";

/* ---- names and references ---- */

const char *ff_registry_path(const char *given)
{
	if (given && *given)
		return given;
	const char *env = getenv("FF_REGISTRY");
	return env && *env ? env : "models.db";
}

int ff_registry_is_ref(const char *ref)
{
	return ref && strncmp(ref, REF_PREFIX, strlen(REF_PREFIX)) == 0;
}

int ff_registry_is_name(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	size_t n = 1;
	for (s++; *s; s++, n++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-'))
			return 0;
	return n <= FF_NAME_MAX;
}

char *ff_registry_ref_text(const char *name, int64_t version)
{
	size_t n = strlen(REF_PREFIX) + strlen(name) + 32;
	char *s = ff_xmalloc(n);
	snprintf(s, n, REF_PREFIX "%s/%" PRId64, name, version);
	return s;
}

void ff_registry_ref_release(struct ff_registry_ref *ref)
{
	if (!ref)
		return;
	free(ref->name);
	free(ref->alias);
	memset(ref, 0, sizeof *ref);
}

int ff_registry_ref_parse(const char *text, struct ff_registry_ref *out)
{
	memset(out, 0, sizeof *out);
	const char *s = ff_registry_is_ref(text) ? text + strlen(REF_PREFIX) : text;
	size_t n = strcspn(s, "/@");
	out->name = ff_xstrndup(s, n);
	const char *why = NULL;
	if (strlen(out->name) > FF_NAME_MAX) {
		why = "a model name longer than " FF_NAME_MAX_TEXT " bytes";
	} else if (!ff_registry_is_name(out->name)) {
		why = "a bad model name";
	} else if (s[n] == '/') {
		int64_t v;
		if (ff_parse_int64(s + n + 1, strlen(s + n + 1), &v) < 0 || v < 1 ||
		    !isdigit((unsigned char)s[n + 1]))
			why = "a bad version: a whole number from 1";
		else
			out->version = v;
	} else if (s[n] == '@') {
		out->alias = ff_xstrdup(s + n + 1);
		if (!ff_registry_is_name(out->alias))
			why = "a bad alias";
	}
	if (!why)
		return 0;
	ff_registry_ref_release(out);
	return ff_error(
	    "bad model reference '%s': %s (use models:/NAME/VERSION, models:/NAME@ALIAS or "
	    "models:/NAME)",
	    text, why);
}

/* ---- opening ---- */

static int db_error(struct ff_registry *r, const char *what)
{
	return ff_db_error(r->db, r->path, what);
}

static int exec(struct ff_registry *r, const char *sql)
{
	return ff_db_exec(r->db, r->path, sql);
}

static int prepare(struct ff_registry *r, const char *sql, sqlite3_stmt **s)
{
	int rc = sqlite3_prepare_v2(r->db, sql, -1, s, NULL);
	if ((rc & 0xff) == SQLITE_NOTADB)
		return ff_error("%s: not an ff model registry (not an SQLite database)", r->path);
	if (rc != SQLITE_OK)
		return db_error(r, "cannot read the registry");
	return 0;
}

/* One integer from a query with no parameters (none: 0), a file that is
 * no database named as such. Returns 0 or -1 (reported). */
static int query_int(struct ff_registry *r, const char *sql, int64_t *out)
{
	*out = 0;
	if (ff_db_int(r->db, NULL, sql, NULL, NULL, out, NULL) >= 0)
		return 0;
	if ((sqlite3_extended_errcode(r->db) & 0xff) == SQLITE_NOTADB)
		return ff_error("%s: not an ff model registry (not an SQLite database)", r->path);
	return db_error(r, "cannot read the registry");
}

/* 1 if the file holds a registry, 0 if it is an empty database (a WRITE
 * registry fills it in), -1 (reported) if it is something else. */
static int check_format(struct ff_registry *r)
{
	int64_t app, ver, tables;
	if (query_int(r, "PRAGMA application_id", &app) < 0)
		return -1;
	if (app == 0) {
		if (query_int(r, "SELECT count(*) FROM sqlite_master", &tables) < 0)
			return -1;
		if (tables == 0 && r->writable)
			return 0;
	}
	if (app != FF_REGISTRY_APPLICATION_ID)
		return ff_error("%s: not an ff model registry", r->path);
	if (query_int(r, "PRAGMA user_version", &ver) < 0)
		return -1;
	if (ver > FF_REGISTRY_FORMAT)
		return ff_error("%s: registry format %" PRId64
				" is newer than this ff understands (%d)",
				r->path, ver, FF_REGISTRY_FORMAT);
	return 1;
}

/* A registry is read while written: WAL, so readers never wait. An empty
 * file gets it once its schema is committed. Switching needs the file to
 * itself: if another process is in it, the next change switches. */
static void try_wal(struct ff_registry *r)
{
	ff_db_wal(r->db, NULL);
}

static int open_db(struct ff_registry *r, int create)
{
	if (ff_db_open(r->path, r->writable ? FF_DB_WRITER : FF_DB_READER, create ? FF_DB_CREATE : 0,
		       &r->db) < 0)
		return -1;
	/* The header and the schema read in one transaction: a registry being
	 * created by another process is seen before or after, not half made. */
	if (exec(r, "BEGIN") < 0)
		return -1;
	int ok = check_format(r);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (ok < 0)
		return -1;
	if (ok == 1 && r->writable)
		try_wal(r);
	return 0;
}

int ff_registry_open(const char *path, enum ff_registry_mode mode, struct ff_registry **out)
{
	struct ff_registry *r = ff_xcalloc(1, sizeof *r);
	r->path = ff_xstrdup(path);
	r->writable = mode == FF_REGISTRY_WRITE;
	struct stat sb;
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT) {
			ff_error("%s: %s", path, strerror(errno));
			goto fail;
		}
		if (!r->writable) {
			ff_error("%s: no such model registry (ff-models register makes one)", path);
			goto fail;
		}
		/* Created by the first change, so a failed register leaves no file. */
		*out = r;
		return 0;
	}
	if (S_ISDIR(sb.st_mode)) {
		ff_error("%s: is a directory", path);
		goto fail;
	}
	if (open_db(r, 0) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	ff_registry_close(r);
	return -1;
}

void ff_registry_close(struct ff_registry *r)
{
	if (!r)
		return;
	if (r->db) {
		if (r->in_tx)
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close_v2(r->db);
	}
	/* A first change that failed (a full disk) left an empty file, which
	 * would read as "not an ff model registry": none is left. A file
	 * another process has filled meanwhile is not empty, and stays. */
	struct stat sb;
	if (r->created && !r->committed && stat(r->path, &sb) == 0 && sb.st_size == 0)
		unlink(r->path);
	free(r->path);
	free(r);
}

const char *ff_registry_file(const struct ff_registry *r) { return r->path; }

/* Fail a read of a registry that does not exist yet. */
static int need_db(struct ff_registry *r)
{
	if (r->db)
		return 0;
	return ff_error("%s: no such model registry (ff-models register makes one)", r->path);
}

/* BEGIN IMMEDIATE, creating the file and its schema if need be: the schema
 * of a new registry is committed with its first change. */
static int begin_change(struct ff_registry *r)
{
	if (!r->db) {
		r->created = 1;
		if (open_db(r, 1) < 0)
			return -1;
	}
	if (exec(r, "BEGIN IMMEDIATE") < 0)
		return -1;
	r->in_tx = 1;
	int ok = check_format(r);
	if (ok < 0)
		return -1;
	if (ok == 0) {
		char sql[128];
		snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
			 FF_REGISTRY_APPLICATION_ID, FF_REGISTRY_FORMAT);
		if (exec(r, sql) < 0 || exec(r, schema_sql) < 0)
			return -1;
	}
	return 0;
}

static int commit_change(struct ff_registry *r)
{
	if (exec(r, "COMMIT") < 0)
		return -1;
	r->in_tx = 0;
	r->committed = 1;
	try_wal(r);
	return 0;
}

static void rollback(struct ff_registry *r)
{
	if (r->in_tx) {
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
		r->in_tx = 0;
	}
}

/* ---- looking versions up ---- */

static int no_model(struct ff_registry *r, const char *name)
{
	return ff_error("%s: no model named '%s'", r->path, name);
}

/* 1 if name has a registered version, 0 if not, -1 on error. */
static int has_model(struct ff_registry *r, const char *name)
{
	sqlite3_stmt *s;
	if (prepare(r, "SELECT 1 FROM models WHERE name = ? LIMIT 1", &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(r, "cannot read the registry");
	return rc == SQLITE_ROW;
}

/* 0 if the version exists, -1 (reported) if not. */
static int check_version(struct ff_registry *r, const char *name, int64_t version)
{
	sqlite3_stmt *s;
	if (prepare(r, "SELECT 1 FROM models WHERE name = ? AND version = ?", &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, version);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return db_error(r, "cannot read the registry");
	int has = has_model(r, name);
	if (has < 0)
		return -1;
	if (!has)
		return no_model(r, name);
	return ff_error("%s: model '%s' has no version %" PRId64, r->path, name, version);
}

int ff_registry_resolve(struct ff_registry *r, const struct ff_registry_ref *ref, int64_t *version)
{
	if (need_db(r) < 0)
		return -1;
	if (ref->version) {
		if (check_version(r, ref->name, ref->version) < 0)
			return -1;
		*version = ref->version;
		return 0;
	}
	sqlite3_stmt *s;
	const char *sql = ref->alias ? "SELECT version FROM aliases WHERE name = ? AND alias = ?"
				     : "SELECT max(version) FROM models WHERE name = ?";
	if (prepare(r, sql, &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, ref->name, -1, SQLITE_STATIC);
	if (ref->alias)
		sqlite3_bind_text(s, 2, ref->alias, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	int found = rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL;
	if (found)
		*version = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(r, "cannot read the registry");
	if (found)
		return 0;
	int has = has_model(r, ref->name);
	if (has < 0)
		return -1;
	if (!has)
		return no_model(r, ref->name);
	return ff_error("%s: model '%s' has no alias '%s'", r->path, ref->name, ref->alias);
}

int ff_registry_artifact(struct ff_registry *r, const char *name, int64_t version, void **data,
			 size_t *len)
{
	if (need_db(r) < 0 || check_version(r, name, version) < 0)
		return -1;
	sqlite3_stmt *s;
	if (prepare(r, "SELECT artifact FROM models WHERE name = ? AND version = ?", &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, version);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);
		*data = ff_xmalloc(n);
		if (n)
			memcpy(*data, blob, n);
		*len = n;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return db_error(r, "cannot read the artifact");
	return 0;
}

int ff_registry_fetch(const char *registry, const char *ref, void **data, size_t *len, char **label)
{
	struct ff_registry_ref parsed;
	struct ff_registry *r = NULL;
	int64_t version;
	int rc = -1;
	*data = NULL;
	*len = 0;
	if (label)
		*label = NULL;
	if (ff_registry_ref_parse(ref, &parsed) < 0)
		return -1;
	if (ff_registry_open(ff_registry_path(registry), FF_REGISTRY_READ, &r) < 0 ||
	    ff_registry_resolve(r, &parsed, &version) < 0 ||
	    ff_registry_artifact(r, parsed.name, version, data, len) < 0)
		goto out;
	if (label)
		*label = ff_registry_ref_text(parsed.name, version);
	rc = 0;
out:
	ff_registry_close(r);
	ff_registry_ref_release(&parsed);
	return rc;
}

/* ---- registering ---- */

/* The table version of each lookup of a blueprint, in order: ff_blueprint_parse
 * keeps the spec but not the "table-version N" line after each "lookup". */
static int64_t *table_versions(const char *text, size_t nlookups)
{
	int64_t *v = ff_xcalloc(nlookups ? nlookups : 1, sizeof *v);
	size_t lookup = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		if (n > 7 && strncmp(line, "lookup ", 7) == 0) {
			lookup++;
		} else if (n > 14 && strncmp(line, "table-version ", 14) == 0 && lookup &&
			   lookup <= nlookups) {
			int64_t t;
			if (ff_parse_int64(line + 14, n - 14, &t) == 0)
				v[lookup - 1] = t;
		}
		line = end ? end + 1 : NULL;
	}
	return v;
}

/* The version of name holding exactly these bytes, or 0. */
static int find_same(struct ff_registry *r, const char *name, const char *hash, const void *data,
		     size_t len, int64_t *version)
{
	sqlite3_stmt *s;
	*version = 0;
	if (prepare(
		r,
		"SELECT version, artifact FROM models WHERE name = ? AND hash = ? ORDER BY version",
		&s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((size_t)sqlite3_column_bytes(s, 1) == len &&
		    (len == 0 || memcmp(sqlite3_column_blob(s, 1), data, len) == 0)) {
			*version = sqlite3_column_int64(s, 0);
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(r, "cannot read the registry");
	return 0;
}

static int next_version(struct ff_registry *r, const char *name, int64_t *version)
{
	sqlite3_stmt *s;
	if (prepare(
		r,
		"INSERT INTO names (name, last_version) VALUES (?, 1) ON CONFLICT (name) DO UPDATE"
		" SET last_version = last_version + 1 RETURNING last_version",
		&s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : db_error(r, "cannot number the version");
}

static int step_done(struct ff_registry *r, sqlite3_stmt *s, const char *what)
{
	return ff_db_step_done(r->db, r->path, s, what);
}

static int insert_lineage(struct ff_registry *r, const char *name, int64_t version,
			  const struct ff_model *m)
{
	const struct ff_join_spec *spec = &m->bp.spec;
	int64_t *tv = table_versions(m->bp.text, spec->nlookups);
	sqlite3_stmt *s;
	int rc = prepare(r,
			 "INSERT INTO lineage (name, version, lookup, position, table_name, "
			 "table_version, feature)"
			 " VALUES (?, ?, ?, ?, ?, ?, ?)",
			 &s);
	for (size_t l = 0; rc == 0 && l < spec->nlookups; l++) {
		const struct ff_lookup_def *d = &spec->lookups[l];
		size_t nrows = d->features.n ? d->features.n : 1;
		for (size_t i = 0; rc == 0 && i < nrows; i++) {
			sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 2, version);
			sqlite3_bind_int64(s, 3, (int64_t)l);
			sqlite3_bind_int64(s, 4, (int64_t)i);
			sqlite3_bind_text(s, 5, d->table, -1, SQLITE_STATIC);
			if (tv[l])
				sqlite3_bind_int64(s, 6, tv[l]);
			else
				sqlite3_bind_null(s, 6);
			/* No features line: every feature of the table, a NULL feature. */
			if (d->features.n)
				sqlite3_bind_text(s, 7, d->features.v[i], -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, 7);
			rc = step_done(r, s, "cannot record the lineage");
		}
	}
	for (size_t l = 0; l < spec->nlookups; l++)
		if (!tv[l])
			ff_warn("%s: the blueprint gives no table version of lookup %s", m->origin,
				spec->lookups[l].table);
	sqlite3_finalize(s);
	free(tv);
	return rc;
}

static int put_alias(struct ff_registry *r, const char *name, int64_t version, const char *alias)
{
	sqlite3_stmt *s;
	if (prepare(r,
		    "INSERT INTO aliases (name, alias, version) VALUES (?, ?, ?)"
		    " ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
		    &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, alias, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, version);
	int rc = step_done(r, s, "cannot set the alias");
	sqlite3_finalize(s);
	return rc;
}

int ff_registry_register(struct ff_registry *r, const char *name, const void *data, size_t len,
			 const char *origin, const char *description,
			 const struct ff_strlist *aliases, int64_t *version, int *existed)
{
	if (ff_name_check(name, "model name", NULL) < 0)
		return -1;
	if (!ff_registry_is_name(name))
		return ff_error(
		    "bad model name '%s': use letters, digits, _ . - and a letter or _ first",
		    name);
	for (size_t i = 0; aliases && i < aliases->n; i++)
		if (ff_name_check(aliases->v[i], "alias", NULL) < 0)
			return -1;
		else if (!ff_registry_is_name(aliases->v[i]))
			return ff_error(
			    "bad alias '%s': use letters, digits, _ . - and a letter or _ first",
			    aliases->v[i]);
	/* An ff model is XGBoost JSON: anything else would go to XGBoost's
	 * legacy binary reader, which trusts the lengths it reads. */
	const char *p = data;
	size_t skip = 0;
	while (skip < len && isspace((unsigned char)p[skip]))
		skip++;
	if (skip == len || p[skip] != '{')
		return ff_error("%s: not an ff model (not an XGBoost JSON model)",
				ff_input_name(origin));
	struct ff_model *m = NULL;
	if (ff_model_load_buffer(data, len, ff_input_name(origin), &m) < 0)
		return -1;
	char *metrics = ff_xgb_attr(m->booster, "ff_metrics");
	char *source = NULL;
	if (origin && strcmp(origin, "-") != 0) {
		source = realpath(origin, NULL);
		if (!source)
			source = ff_xstrdup(origin);
	}
	XXH128_hash_t h = XXH3_128bits(data, len);
	char hash[64], created[32];
	snprintf(hash, sizeof hash, "xxh3-128:%016" PRIx64 "%016" PRIx64, (uint64_t)h.high64,
		 (uint64_t)h.low64);
	ff_db_now_text(created);
	sqlite3_stmt *s = NULL;
	int rc = -1;
	*existed = 0;
	if (begin_change(r) < 0 || find_same(r, name, hash, data, len, version) < 0)
		goto out;
	if (*version) {
		*existed = 1;
		if (description) {
			if (prepare(
				r,
				"UPDATE models SET description = ? WHERE name = ? AND version = ?",
				&s) < 0)
				goto out;
			sqlite3_bind_text(s, 1, description, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 3, *version);
			if (step_done(r, s, "cannot set the description") < 0)
				goto out;
		}
	} else {
		if (next_version(r, name, version) < 0 ||
		    prepare(r,
			    "INSERT INTO models (name, version, created_at, artifact, size, hash, "
			    "source,"
			    " description, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    &s) < 0)
			goto out;
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, *version);
		sqlite3_bind_text(s, 3, created, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(s, 4, data, len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, (int64_t)len);
		sqlite3_bind_text(s, 6, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 7, source, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 8, description, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 9, metrics, -1, SQLITE_STATIC);
		if (step_done(r, s, "cannot store the model") < 0 ||
		    insert_lineage(r, name, *version, m) < 0)
			goto out;
	}
	for (size_t i = 0; aliases && i < aliases->n; i++)
		if (put_alias(r, name, *version, aliases->v[i]) < 0)
			goto out;
	rc = commit_change(r);
out:
	if (rc < 0 && r->db)
		rollback(r);
	sqlite3_finalize(s);
	free(source);
	free(metrics);
	ff_model_free(m);
	return rc;
}

/* ---- aliases and deleting ---- */

int ff_registry_set_alias(struct ff_registry *r, const char *name, int64_t version,
			  const char *alias)
{
	if (need_db(r) < 0)
		return -1;
	if (ff_name_check(alias, "alias", NULL) < 0)
		return -1;
	if (!ff_registry_is_name(alias))
		return ff_error(
		    "bad alias '%s': use letters, digits, _ . - and a letter or _ first", alias);
	if (begin_change(r) < 0 || check_version(r, name, version) < 0 ||
	    put_alias(r, name, version, alias) < 0 || commit_change(r) < 0) {
		rollback(r);
		return -1;
	}
	return 0;
}

int ff_registry_unset_alias(struct ff_registry *r, const char *name, const char *alias)
{
	if (need_db(r) < 0)
		return -1;
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (begin_change(r) < 0 ||
	    prepare(r, "DELETE FROM aliases WHERE name = ? AND alias = ?", &s) < 0)
		goto out;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, alias, -1, SQLITE_STATIC);
	if (step_done(r, s, "cannot remove the alias") < 0)
		goto out;
	if (sqlite3_changes(r->db) == 0) {
		int has = has_model(r, name);
		if (has == 0)
			no_model(r, name);
		else if (has > 0)
			ff_error("%s: model '%s' has no alias '%s'", r->path, name, alias);
		goto out;
	}
	rc = commit_change(r);
out:
	if (rc < 0)
		rollback(r);
	sqlite3_finalize(s);
	return rc;
}

/* The aliases pointing at a version, comma-separated (malloc'd), or NULL. */
static char *aliases_of(struct ff_registry *r, const char *name, int64_t version)
{
	sqlite3_stmt *s;
	if (prepare(r, "SELECT group_concat(alias, ',') FROM (SELECT alias FROM aliases"
		       " WHERE name = ? AND version = ? ORDER BY alias)", &s) < 0)
		return NULL;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, version);
	char *list = NULL;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		list = ff_xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return list;
}

int ff_registry_delete(struct ff_registry *r, const char *name, int64_t version, int force)
{
	if (need_db(r) < 0)
		return -1;
	static const char *const sql[] = {
		"DELETE FROM aliases WHERE name = ?1 AND version = ?2",
		"DELETE FROM lineage WHERE name = ?1 AND version = ?2",
		"DELETE FROM models WHERE name = ?1 AND version = ?2",
	};
	char *aliases = NULL;
	int rc = -1;
	if (begin_change(r) < 0 || check_version(r, name, version) < 0)
		goto out;
	aliases = aliases_of(r, name, version);
	if (aliases && !force) {
		ff_error("%s: models:/%s/%" PRId64
			 " has alias %s: move or remove it first, or use --force",
			 r->path, name, version, aliases);
		goto out;
	}
	for (size_t i = 0; i < sizeof sql / sizeof *sql; i++) {
		sqlite3_stmt *s;
		if (prepare(r, sql[i], &s) < 0)
			goto out;
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, version);
		int e = step_done(r, s, "cannot delete the version");
		sqlite3_finalize(s);
		if (e < 0)
			goto out;
	}
	rc = commit_change(r);
out:
	if (rc < 0)
		rollback(r);
	free(aliases);
	return rc;
}

/* ---- listing ---- */

void ff_registry_entry_release(struct ff_registry_entry *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->created);
	free(e->hash);
	free(e->source);
	free(e->description);
	free(e->metrics);
	ff_strlist_release(&e->aliases);
	memset(e, 0, sizeof *e);
}

static const char *entry_sql =
    "SELECT m.name, m.version, m.created_at, m.size, m.hash, m.source, m.description, m.metrics,"
    " (SELECT group_concat(alias, ',') FROM (SELECT alias FROM aliases a"
    "  WHERE a.name = m.name AND a.version = m.version ORDER BY alias))"
    " FROM models m";

static void read_entry(sqlite3_stmt *s, struct ff_registry_entry *e)
{
	memset(e, 0, sizeof *e);
	e->name = ff_db_column_text(s, 0);
	e->version = sqlite3_column_int64(s, 1);
	e->created = ff_db_column_text(s, 2);
	e->size = sqlite3_column_int64(s, 3);
	e->hash = ff_db_column_text(s, 4);
	e->source = ff_db_column_text(s, 5);
	e->description = ff_db_column_text(s, 6);
	e->metrics = ff_db_column_text(s, 7);
	if (sqlite3_column_type(s, 8) != SQLITE_NULL)
		ff_strlist_add_split(&e->aliases, (const char *)sqlite3_column_text(s, 8));
}

int ff_registry_list(struct ff_registry *r, const char *name, ff_registry_entry_fn each, void *arg)
{
	if (need_db(r) < 0)
		return -1;
	char sql[1024];
	snprintf(sql, sizeof sql, "%s%s ORDER BY m.name, m.version", entry_sql,
		 name ? " WHERE m.name = ?" : "");
	sqlite3_stmt *s;
	if (prepare(r, sql, &s) < 0)
		return -1;
	if (name)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc, ret = 0, rows = 0;
	while (ret == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ff_registry_entry e;
		read_entry(s, &e);
		ret = each(&e, arg);
		ff_registry_entry_release(&e);
		rows++;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(r, "cannot read the registry");
	sqlite3_finalize(s);
	if (ret == 0 && name && rows == 0)
		ret = no_model(r, name);
	return ret;
}

int ff_registry_get(struct ff_registry *r, const char *name, int64_t version,
		    struct ff_registry_entry *out)
{
	if (need_db(r) < 0 || check_version(r, name, version) < 0)
		return -1;
	char sql[1024];
	snprintf(sql, sizeof sql, "%s WHERE m.name = ? AND m.version = ?", entry_sql);
	sqlite3_stmt *s;
	if (prepare(r, sql, &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, version);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		read_entry(s, out);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : db_error(r, "cannot read the registry");
}

/* ---- lineage ---- */

/* Walk lineage rows ordered by name, version, lookup, position, calling
 * each once per lookup. */
static int walk_lookups(struct ff_registry *r, sqlite3_stmt *s, ff_registry_need_fn each, void *arg)
{
	struct ff_strlist features = {0};
	char *name = NULL, *table = NULL;
	int64_t version = 0, lookup = -1, table_version = 0;
	int rc, ret = 0;
	for (;;) {
		rc = sqlite3_step(s);
		const char *n = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
		int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 1) : 0;
		int64_t l = rc == SQLITE_ROW ? sqlite3_column_int64(s, 2) : 0;
		if (name &&
		    (rc != SQLITE_ROW || strcmp(n, name) != 0 || v != version || l != lookup)) {
			struct ff_registry_need need = {name, version, table, table_version,
							&features};
			ret = each(&need, arg);
			ff_strlist_release(&features);
			free(name);
			free(table);
			name = table = NULL;
			if (ret)
				break;
		}
		if (rc != SQLITE_ROW)
			break;
		if (!name) {
			name = ff_xstrdup(n);
			version = v;
			lookup = l;
			table = ff_db_column_text(s, 3);
			table_version = sqlite3_column_int64(s, 4);
		}
		if (sqlite3_column_type(s, 5) != SQLITE_NULL)
			ff_strlist_add(&features, (const char *)sqlite3_column_text(s, 5));
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(r, "cannot read the lineage");
	ff_strlist_release(&features);
	free(name);
	free(table);
	return ret;
}

int ff_registry_needs(struct ff_registry *r, const char *name, int64_t version,
		      ff_registry_need_fn each, void *arg)
{
	if (need_db(r) < 0 || check_version(r, name, version) < 0)
		return -1;
	sqlite3_stmt *s;
	if (prepare(r,
		    "SELECT name, version, lookup, table_name, table_version, feature FROM lineage"
		    " WHERE name = ? AND version = ? ORDER BY lookup, position",
		    &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, version);
	int rc = walk_lookups(r, s, each, arg);
	sqlite3_finalize(s);
	return rc;
}

int ff_registry_uses(struct ff_registry *r, const char *table, const char *feature,
		     ff_registry_need_fn each, void *arg)
{
	if (need_db(r) < 0)
		return -1;
	/* The whole lookups that match, so each sees all their features. */
	sqlite3_stmt *s;
	if (prepare(r,
		    "SELECT l.name, l.version, l.lookup, l.table_name, l.table_version, l.feature"
		    " FROM lineage l JOIN (SELECT DISTINCT name, version, lookup FROM lineage"
		    "  WHERE table_name = ?1 AND (?2 IS NULL OR feature IS NULL OR feature = ?2)) k"
		    " USING (name, version, lookup)"
		    " ORDER BY l.name, l.version, l.lookup, l.position",
		    &s) < 0)
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	if (feature)
		sqlite3_bind_text(s, 2, feature, -1, SQLITE_STATIC);
	int rc = walk_lookups(r, s, each, arg);
	sqlite3_finalize(s);
	return rc;
}
