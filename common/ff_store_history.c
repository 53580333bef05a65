/* ff_store_history: the history tables of a store and the one SELECT that
 * reads a table as of a version (ff_store_history.h, ff-store(5)). */
#include "ff_store_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_db.h"
#include "ff_time.h"
#include "ff_util.h"

/* The oldest version readable per table, when it is not the latest create
 * or replace: history_from (kept_by 'vacuum', or 'start' for a table
 * stored before history was kept) and feed_from, the oldest version whose
 * change feed a vacuum kept (readers that saw an earlier one read all). */
static const char retention_sql[] =
	"CREATE TABLE IF NOT EXISTS ff_retention ("
	" table_name TEXT PRIMARY KEY,"
	" history_from INTEGER NOT NULL,"
	" feed_from INTEGER NOT NULL,"
	" kept_by TEXT NOT NULL)";

/* The definitions of tables before features were added to them: in force
 * up to until_version. */
static const char definitions_sql[] =
	"CREATE TABLE IF NOT EXISTS ff_definitions ("
	" table_name TEXT NOT NULL,"
	" until_version INTEGER NOT NULL,"
	" definition TEXT NOT NULL,"
	" PRIMARY KEY (table_name, until_version)) WITHOUT ROWID";

struct ff_history {
	struct ff_store *st;
	sqlite3_stmt *save, *absent;
	const struct ff_table_def *def;
	const size_t *key_cols;
	size_t nkey;
	char *save_head; /* "INSERT ... SELECT ... FROM table AS t WHERE " */
};

int ff_as_of_parse(const char *text, struct ff_as_of *out)
{
	int64_t v;
	if (ff_parse_int64(text, strlen(text), &v) == 0) {
		if (v < 1)
			return -1;
		*out = (struct ff_as_of){FF_AS_OF_VERSION, v};
		return 0;
	}
	if (ff_time_parse(text, strlen(text), 1, &v) < 0)
		return -1;
	*out = (struct ff_as_of){FF_AS_OF_TIME, v};
	return 0;
}

static const char *schema_of(struct ff_store *st)
{
	return ff_store_schema(st);
}

/* One integer from sql with ?1 bound to table: 1 found (not NULL), 0 not, -1 error. */
static int query_int(struct ff_store *st, const char *sql, const char *table, const char *text2,
		     int64_t *out)
{
	sqlite3_stmt *s;
	if (ff_db_prepare(ff_store_db(st), ff_store_path(st), sql, &s, "cannot read the versions") < 0)
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
	if (text2)
		sqlite3_bind_text(s, 2, text2, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s), found = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(s, 0);
		found = 1;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read the versions");
	return found;
}

/* 1 if the store (in its schema) has a table of that name. */
static int has_table(struct ff_store *st, const char *name)
{
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\".sqlite_master WHERE type = 'table' AND name = ?1",
		 schema_of(st));
	int64_t n = 0;
	int rc = query_int(st, sql, name, NULL, &n);
	return rc < 0 ? -1 : n > 0;
}

/* What bounds the versions of table a reader can read. */
struct bounds {
	int64_t current, replaced, history_from;
	int has_history;
	char kept_by[16];
};

static int read_bounds(struct ff_store *st, const char *table, struct bounds *b)
{
	char sql[400], name[FF_DB_IDENT_SIZE + 16];
	const char *sc = schema_of(st);
	memset(b, 0, sizeof *b);
	snprintf(sql, sizeof sql, "SELECT version FROM \"%s\".ff_catalog WHERE name = ?1", sc);
	int rc = query_int(st, sql, table, NULL, &b->current);
	if (rc <= 0)
		return rc < 0 ? -1 : ff_error("%s: no table %s in the store", ff_store_path(st), table);
	snprintf(sql, sizeof sql, "SELECT max(version) FROM \"%s\".ff_versions WHERE table_name = ?1"
		 " AND operation IN ('create', 'replace')", sc);
	if ((rc = query_int(st, sql, table, NULL, &b->replaced)) < 0)
		return -1;
	if (rc == 0)
		b->replaced = 1;
	snprintf(name, sizeof name, "ff_history_%s", table);
	if ((b->has_history = has_table(st, name)) < 0)
		return -1;
	b->history_from = b->has_history ? 0 : b->current;
	snprintf(b->kept_by, sizeof b->kept_by, "%s", "start");
	int kept = has_table(st, "ff_retention");
	if (kept < 0)
		return -1;
	if (kept && b->has_history) {
		sqlite3_stmt *s;
		snprintf(sql, sizeof sql, "SELECT history_from, kept_by FROM \"%s\".ff_retention WHERE table_name = ?1",
			 sc);
		if (ff_db_prepare(ff_store_db(st), ff_store_path(st), sql, &s, "cannot read the versions") < 0)
			return -1;
		sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			b->history_from = sqlite3_column_int64(s, 0);
			snprintf(b->kept_by, sizeof b->kept_by, "%s", (const char *)sqlite3_column_text(s, 1));
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read the versions");
	}
	return 0;
}

static int64_t oldest_of(const struct bounds *b)
{
	int64_t o = b->replaced > b->history_from ? b->replaced : b->history_from;
	return o > b->current ? b->current : o;
}

int ff_store_oldest_version(struct ff_store *st, const char *table, int64_t *oldest)
{
	struct bounds b;
	if (read_bounds(st, table, &b) < 0)
		return -1;
	*oldest = oldest_of(&b);
	return 0;
}

int ff_store_as_of_version(struct ff_store *st, const char *table, const struct ff_as_of *a,
			   int64_t *version)
{
	struct bounds b;
	const char *path = ff_store_path(st);
	if (read_bounds(st, table, &b) < 0)
		return -1;
	int64_t v = b.current;
	if (a && a->kind == FF_AS_OF_VERSION) {
		v = a->value;
	} else if (a && a->kind == FF_AS_OF_TIME) {
		char when[32], sql[300];
		ff_time_format(ff_floor_div(a->value, FF_USEC) * FF_USEC, when);
		snprintf(sql, sizeof sql, "SELECT max(version) FROM \"%s\".ff_versions WHERE table_name = ?1"
			 " AND committed_at <= ?2", schema_of(st));
		int rc = query_int(st, sql, table, when, &v);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return ff_error("%s: table %s had no version yet at %s", path, table, when);
	}
	if (v > b.current || v < 1)
		return ff_error("%s: table %s has no version %lld: its latest is %lld", path, table, (long long)v,
				(long long)b.current);
	if (v < b.replaced)
		return ff_error("%s: table %s: version %lld is gone: the table was replaced at version %lld, "
				"the oldest one kept", path, table, (long long)v, (long long)b.replaced);
	if (v < b.history_from) {
		if (strcmp(b.kept_by, "vacuum") == 0)
			return ff_error("%s: table %s: version %lld was removed by vacuum; the oldest version "
					"kept is %lld", path, table, (long long)v, (long long)b.history_from);
		return ff_error("%s: table %s: version %lld was written before the store kept history; "
				"the oldest version kept is %lld", path, table, (long long)v,
				(long long)b.history_from);
	}
	*version = v;
	return 0;
}

/* ---- the one SELECT ---- */

static void put_cols(FILE *m, const char *alias, const char *const *cols, size_t ncols)
{
	char q[FF_DB_IDENT_SIZE];
	for (size_t i = 0; i < ncols; i++) {
		ff_db_quote(q, sizeof q, cols[i]);
		fprintf(m, "%s%s.%s AS %s", i ? ", " : "", alias, q, q);
	}
}

/* "a.k = b.k AND ..." over the primary key. */
static void key_match(FILE *m, const struct ff_table_def *def, const char *a, const char *b)
{
	char q[FF_DB_IDENT_SIZE];
	int first = 1;
	for (size_t i = 0; i < def->ncols; i++) {
		if (def->cols[i].role != FF_ROLE_KEY && def->cols[i].role != FF_ROLE_TIMESTAMP)
			continue;
		ff_db_quote(q, sizeof q, def->cols[i].name);
		fprintf(m, "%s%s.%s = %s.%s", first ? "" : " AND ", a, q, b, q);
		first = 0;
	}
}

/* The primary key in its stored order: the timestamp key, then the keys. */
static void key_order(FILE *m, const struct ff_table_def *def)
{
	char q[FF_DB_IDENT_SIZE];
	int first = 1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < def->ncols; i++) {
			if (def->cols[i].role != (pass == 0 ? FF_ROLE_TIMESTAMP : FF_ROLE_KEY))
				continue;
			ff_db_quote(q, sizeof q, def->cols[i].name);
			fprintf(m, "%s%s", first ? "" : ", ", q);
			first = 0;
		}
}

static const char *ts_name(const struct ff_table_def *def)
{
	for (size_t i = 0; i < def->ncols; i++)
		if (def->cols[i].role == FF_ROLE_TIMESTAMP)
			return def->cols[i].name;
	return NULL;
}

/* Prepare sql, whose %s is the schema, with ?1 bound to table and ?2 to
 * version. Returns 0 or -1 (reported). */
static int prepare_at(struct ff_store *st, const char *sql, const char *table, int64_t version,
		      sqlite3_stmt **s)
{
	char text[400];
	snprintf(text, sizeof text, sql, schema_of(st));
	if (ff_db_prepare(ff_store_db(st), ff_store_path(st), text, s, "cannot read the versions") < 0)
		return -1;
	sqlite3_bind_text(*s, 1, table, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(*s, 2, version);
	return 0;
}

/* " AND NOT (t.ts >= A AND t.ff_valid_to > W)" for each version W after
 * version that appended from A. Returns 0 or -1 (reported). */
static int appends_after(struct ff_store *st, const char *table, int64_t version, FILE *m, const char *qts)
{
	sqlite3_stmt *s;
	if (prepare_at(st, "SELECT version, appended_from FROM \"%s\".ff_versions WHERE table_name = ?1"
			   " AND version > ?2 AND appended_from IS NOT NULL ORDER BY version", table, version, &s) < 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fprintf(m, " AND NOT (t.%s >= %lld AND t.ff_valid_to > %lld)", qts,
			(long long)sqlite3_column_int64(s, 1), (long long)sqlite3_column_int64(s, 0));
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read the versions");
}

int ff_store_rows_sql(struct ff_store *st, const char *table, const char *const *cols, size_t ncols,
		      int64_t version, int with_state, char **sql)
{
	struct ff_table_def def;
	int64_t current = 0;
	const char *path = ff_store_path(st);
	int found = ff_store_table(st, table, &def, &current);
	if (found <= 0)
		return found < 0 ? -1 : ff_error("%s: no table %s in the store", path, table);
	int rc = -1;
	const char *ts = ts_name(&def);
	for (size_t i = 0; i < def.ncols; i++) {
		if (def.cols[i].role != FF_ROLE_KEY && def.cols[i].role != FF_ROLE_TIMESTAMP)
			continue;
		size_t c = 0;
		while (c < ncols && strcmp(cols[c], def.cols[i].name) != 0)
			c++;
		if (c == ncols) {
			ff_error("%s: table %s: a read of rows needs the key '%s'", path, table, def.cols[i].name);
			goto out;
		}
	}
	if (!ts) {
		ff_error("%s: table %s has no timestamp key", path, table);
		goto out;
	}
	char sc[FF_DB_IDENT_SIZE], qt[FF_DB_IDENT_SIZE], qh[FF_DB_IDENT_SIZE], qs[FF_DB_IDENT_SIZE];
	char qts[FF_DB_IDENT_SIZE];
	ff_db_quote(sc, sizeof sc, ff_store_schema(st));
	ff_db_quote(qt, sizeof qt, table);
	ff_db_side_name(qh, sizeof qh, "ff_history_", table);
	ff_db_side_name(qs, sizeof qs, "ff_state_", table);
	ff_db_quote(qts, sizeof qts, ts);
	size_t size = 0;
	FILE *m = open_memstream(sql, &size);
	if (!m)
		ff_die(1, "out of memory");
	char state_of_t[3 * FF_DB_IDENT_SIZE + 64];
	snprintf(state_of_t, sizeof state_of_t, "(SELECT s.state FROM %s.%s AS s WHERE ", sc, qs);
	fprintf(m, "SELECT ");
	put_cols(m, "t", cols, ncols);
	if (with_state) {
		fprintf(m, ", %s", state_of_t);
		key_match(m, &def, "s", "t");
		fprintf(m, ") AS ff_state");
	}
	fprintf(m, " FROM %s.%s AS t", sc, qt);
	if (version != current) {
		/* Rows appended after version are newer than it: at or after A. */
		char q[1200];
		snprintf(q, sizeof q, "SELECT min(appended_from) FROM \"%s\".ff_versions WHERE table_name = ?1"
			 " AND version > %lld", ff_store_schema(st), (long long)version);
		int64_t appended = INT64_MAX;
		if (query_int(st, q, table, NULL, &appended) < 0) {
			fclose(m);
			goto out;
		}
		/* The earliest row a later version replaced: the rows before it
		 * need no look at the history (appends leave none). */
		snprintf(q, sizeof q, "SELECT min(%s) FROM %s.%s WHERE ff_valid_to > %lld", qts, sc,
			 qh, (long long)version);
		int64_t changed = INT64_MAX;
		if (query_int(st, q, table, NULL, &changed) < 0) {
			fclose(m);
			goto out;
		}
		fprintf(m, " WHERE t.%s < %lld", qts, (long long)appended);
		if (changed != INT64_MAX) {
			/* Current rows no later version changed (but appended). */
			fprintf(m, " AND (t.%s < %lld OR NOT EXISTS (SELECT 1 FROM %s.%s AS h WHERE ", qts,
				(long long)changed, sc, qh);
			key_match(m, &def, "h", "t");
			fprintf(m, " AND h.ff_valid_to > %lld))", (long long)version);
			/* With the images the first change after version replaced. */
			fprintf(m, " UNION ALL SELECT ");
			put_cols(m, "t", cols, ncols);
			if (with_state)
				fprintf(m, ", t.ff_state");
			fprintf(m, " FROM %s.%s AS t WHERE t.ff_valid_to > %lld AND t.ff_present = 1"
				   " AND NOT EXISTS (SELECT 1 FROM %s.%s AS h WHERE ", sc, qh, (long long)version, sc, qh);
			key_match(m, &def, "h", "t");
			fprintf(m, " AND h.ff_valid_to > %lld AND h.ff_valid_to < t.ff_valid_to)", (long long)version);
			/* An image of a row appended after version (and replaced since)
			 * lies at or after what a version between them appended: one
			 * test per version that appended, with its numbers written in. */
			if (appends_after(st, table, version, m, qts) < 0) {
				fclose(m);
				goto out;
			}
		}
	}
	fprintf(m, " ORDER BY ");
	key_order(m, &def);
	if (fclose(m) != 0)
		ff_die(1, "out of memory");
	rc = 0;
out:
	if (rc < 0) {
		free(*sql);
		*sql = NULL;
	}
	ff_table_def_release(&def);
	return rc;
}

/* ---- writing history ---- */

static void type_sql(FILE *m, const struct ff_column *c)
{
	const char *type = c->type == FF_TYPE_REAL ? "REAL" : c->type == FF_TYPE_TEXT ? "TEXT" : "INTEGER";
	int notnull = c->role == FF_ROLE_KEY || c->role == FF_ROLE_TIMESTAMP;
	fprintf(m, " %s%s", type, notnull ? " NOT NULL" : "");
}

void ff_history_create_sql(FILE *m, const struct ff_table_def *def, const size_t *key_cols, size_t nkey)
{
	char q[FF_DB_IDENT_SIZE];
	ff_db_side_name(q, sizeof q, "ff_history_", def->name);
	fprintf(m, "CREATE TABLE %s (", q);
	for (size_t i = 0; i < def->ncols; i++) {
		ff_db_quote(q, sizeof q, def->cols[i].name);
		fprintf(m, "%s", q);
		type_sql(m, &def->cols[i]);
		fprintf(m, ", ");
	}
	fprintf(m, "ff_valid_to INTEGER NOT NULL, ff_present INTEGER NOT NULL, ff_state BLOB, PRIMARY KEY (");
	for (size_t i = 0; i < nkey; i++) {
		ff_db_quote(q, sizeof q, def->cols[key_cols[i]].name);
		fprintf(m, "%s, ", q);
	}
	fprintf(m, "ff_valid_to)) WITHOUT ROWID;");
}

void ff_history_drop_sql(FILE *m, const char *table)
{
	char q[FF_DB_IDENT_SIZE];
	ff_db_side_name(q, sizeof q, "ff_history_", table);
	fprintf(m, "DROP TABLE IF EXISTS %s;%s;", q, retention_sql);
	char *del = sqlite3_mprintf("DELETE FROM ff_retention WHERE table_name = %Q;%s;"
				    "DELETE FROM ff_definitions WHERE table_name = %Q;",
				    table, definitions_sql, table);
	fprintf(m, "%s", del);
	sqlite3_free(del);
}

static int exec_sql(struct ff_store *st, const char *sql)
{
	return ff_db_exec(ff_store_db(st), ff_store_path(st), sql);
}

int ff_history_open(struct ff_store *st, const struct ff_table_def *def, const size_t *key_cols,
		    size_t nkey, enum ff_history_states states, int64_t version, int64_t old_version,
		    struct ff_history **out)
{
	struct ff_history *h = ff_xcalloc(1, sizeof *h);
	h->st = st;
	h->def = def;
	h->key_cols = key_cols;
	h->nkey = nkey;
	char name[FF_DB_IDENT_SIZE + 16], qh[FF_DB_IDENT_SIZE], qt[FF_DB_IDENT_SIZE], q[FF_DB_IDENT_SIZE];
	char *sql = NULL;
	size_t size = 0;
	FILE *m;
	snprintf(name, sizeof name, "ff_history_%s", def->name);
	int found = has_table(st, name);
	if (found < 0)
		goto fail;
	if (!found) {
		/* Stored before history was kept: readable from now on. */
		m = open_memstream(&sql, &size);
		fprintf(m, "%s;", retention_sql);
		ff_history_create_sql(m, def, key_cols, nkey);
		char *kept = sqlite3_mprintf("INSERT OR REPLACE INTO ff_retention VALUES (%Q, %lld, 0, 'start');",
					     def->name, (long long)old_version);
		fprintf(m, "%s", kept);
		sqlite3_free(kept);
		fclose(m);
		int rc = exec_sql(st, sql);
		free(sql);
		sql = NULL;
		if (rc < 0)
			goto fail;
	}
	ff_db_side_name(qh, sizeof qh, "ff_history_", def->name);
	ff_db_quote(qt, sizeof qt, def->name);
	m = open_memstream(&sql, &size);
	fprintf(m, "INSERT OR IGNORE INTO %s (", qh);
	for (size_t i = 0; i < def->ncols; i++) {
		ff_db_quote(q, sizeof q, def->cols[i].name);
		fprintf(m, "%s, ", q);
	}
	fprintf(m, "ff_valid_to, ff_present, ff_state) SELECT ");
	for (size_t i = 0; i < def->ncols; i++) {
		ff_db_quote(q, sizeof q, def->cols[i].name);
		fprintf(m, "t.%s, ", q);
	}
	fprintf(m, "%lld, 1, ", (long long)version);
	if (states == FF_HISTORY_NO_STATE) {
		fprintf(m, "NULL");
	} else {
		if (states == FF_HISTORY_STATE_TABLE)
			ff_db_side_name(q, sizeof q, "ff_state_", def->name);
		else
			ff_db_side_name(q, sizeof q, "ff_oldstate_", def->name);
		fprintf(m, "(SELECT s.state FROM %s%s AS s WHERE ", states == FF_HISTORY_OLD_STATES ? "temp." : "",
			q);
		key_match(m, def, "s", "t");
		fprintf(m, ")");
	}
	fprintf(m, " FROM %s AS t WHERE ", qt);
	fclose(m);
	h->save_head = sql;
	sql = NULL;
	m = open_memstream(&sql, &size);
	fprintf(m, "%s", h->save_head);
	for (size_t i = 0; i < nkey; i++) {
		ff_db_quote(q, sizeof q, def->cols[key_cols[i]].name);
		fprintf(m, "%st.%s = ?%zu", i ? " AND " : "", q, i + 1);
	}
	fclose(m);
	int rc = ff_db_prepare(ff_store_db(st), ff_store_path(st), sql, &h->save, "cannot keep history");
	free(sql);
	sql = NULL;
	if (rc < 0)
		goto fail;
	m = open_memstream(&sql, &size);
	fprintf(m, "INSERT OR IGNORE INTO %s (", qh);
	for (size_t i = 0; i < nkey; i++) {
		ff_db_quote(q, sizeof q, def->cols[key_cols[i]].name);
		fprintf(m, "%s, ", q);
	}
	fprintf(m, "ff_valid_to, ff_present) VALUES (");
	for (size_t i = 0; i < nkey; i++)
		fprintf(m, "?%zu, ", i + 1);
	fprintf(m, "%lld, 0)", (long long)version);
	fclose(m);
	rc = ff_db_prepare(ff_store_db(st), ff_store_path(st), sql, &h->absent, "cannot keep history");
	free(sql);
	if (rc < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	ff_history_free(h);
	return -1;
}

void ff_history_free(struct ff_history *h)
{
	if (!h)
		return;
	sqlite3_finalize(h->save);
	sqlite3_finalize(h->absent);
	free(h->save_head);
	free(h);
}

static int run_keyed(struct ff_history *h, sqlite3_stmt *s, const struct ff_cell *cells)
{
	for (size_t i = 0; i < h->nkey; i++) {
		const struct ff_column *c = &h->def->cols[h->key_cols[i]];
		ff_cell_bind(s, (int)i + 1, c->type, &cells[h->key_cols[i]]);
	}
	return ff_db_step_done(ff_store_db(h->st), ff_store_path(h->st), s, "cannot keep history");
}

int ff_history_save(struct ff_history *h, const struct ff_cell *cells)
{
	return run_keyed(h, h->save, cells);
}

int ff_history_absent(struct ff_history *h, const struct ff_cell *cells)
{
	return run_keyed(h, h->absent, cells);
}

int ff_history_save_where(struct ff_history *h, const char *cond)
{
	size_t n = strlen(h->save_head) + strlen(cond) + 1;
	char *sql = ff_xmalloc(n);
	snprintf(sql, n, "%s%s", h->save_head, cond);
	int rc = exec_sql(h->st, sql);
	free(sql);
	return rc;
}

int ff_store_feed_from(struct ff_store *st, const char *table, int64_t *version)
{
	int kept = has_table(st, "ff_retention");
	if (kept <= 0)
		return kept;
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT feed_from FROM \"%s\".ff_retention WHERE table_name = ?1 AND feed_from > 0",
		 schema_of(st));
	return query_int(st, sql, table, NULL, version);
}

/* ---- vacuum ---- */

/* The oldest version of table to keep. */
static int vacuum_floor(struct ff_store *st, const char *table, int64_t keep_versions, int64_t keep,
			const struct bounds *b, int64_t *floor)
{
	int64_t k = oldest_of(b);
	if (keep_versions > 0) {
		int64_t want = b->current - keep_versions + 1;
		if (want > k)
			k = want;
	} else {
		/* The version current at the start of the window, kept whole. */
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		char when[32], sql[300];
		ff_time_format(((int64_t)now.tv_sec - keep / FF_USEC) * FF_USEC, when);
		snprintf(sql, sizeof sql, "SELECT max(version) FROM ff_versions WHERE table_name = ?1"
			 " AND committed_at <= ?2");
		int64_t v;
		int rc = query_int(st, sql, table, when, &v);
		if (rc < 0)
			return -1;
		if (rc && v > k)
			k = v;
	}
	*floor = k;
	return 0;
}

static int vacuum_table(struct ff_store *st, const char *table, int64_t keep_versions, int64_t keep,
			struct ff_vacuum_result *r)
{
	struct bounds b;
	if (read_bounds(st, table, &b) < 0 || vacuum_floor(st, table, keep_versions, keep, &b, &r->oldest) < 0)
		return -1;
	char qh[FF_DB_IDENT_SIZE], qc[FF_DB_IDENT_SIZE];
	ff_db_side_name(qh, sizeof qh, "ff_history_", table);
	ff_db_side_name(qc, sizeof qc, "ff_changes_", table);
	char *sql = sqlite3_mprintf("DELETE FROM %s WHERE ff_valid_to <= %lld", qh, (long long)r->oldest);
	int rc = b.has_history ? exec_sql(st, sql) : 0;
	sqlite3_free(sql);
	if (rc < 0)
		return -1;
	r->history_rows = b.has_history ? sqlite3_changes64(ff_store_db(st)) : 0;
	sql = sqlite3_mprintf("DELETE FROM %s WHERE version <= %lld", qc, (long long)r->oldest);
	rc = exec_sql(st, sql);
	sqlite3_free(sql);
	if (rc < 0)
		return -1;
	r->feed_rows = sqlite3_changes64(ff_store_db(st));
	if (r->oldest <= b.history_from && r->feed_rows == 0)
		return 0;
	sql = sqlite3_mprintf("INSERT INTO ff_retention VALUES (%Q, %lld, %lld, 'vacuum') ON CONFLICT (table_name)"
			      " DO UPDATE SET history_from = max(history_from, excluded.history_from),"
			      " feed_from = excluded.feed_from, kept_by = 'vacuum'",
			      table, (long long)r->oldest, (long long)r->oldest);
	rc = exec_sql(st, sql);
	sqlite3_free(sql);
	return rc;
}

int ff_store_vacuum(struct ff_store *st, int64_t keep_versions, int64_t keep, struct ff_vacuum_result **out,
		    size_t *n)
{
	char **tables = NULL;
	*out = NULL;
	*n = 0;
	if (ff_store_begin(st) < 0)
		return -1;
	int rc = exec_sql(st, retention_sql) < 0 || ff_store_tables(st, &tables) < 0 ? -1 : 0;
	size_t count = 0;
	while (tables && tables[count])
		count++;
	struct ff_vacuum_result *res = ff_xcalloc(count ? count : 1, sizeof *res);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		res[i].table = ff_xstrdup(tables[i]);
		rc = vacuum_table(st, tables[i], keep_versions, keep, &res[i]);
	}
	for (size_t i = 0; i < count; i++)
		free(tables[i]);
	free(tables);
	if (rc == 0)
		rc = ff_store_commit(st);
	else
		ff_store_rollback(st);
	/* Give the space back: the store is rewritten (readers go on reading). */
	if (rc == 0)
		rc = exec_sql(st, "VACUUM");
	if (rc < 0) {
		for (size_t i = 0; i < count; i++)
			free(res[i].table);
		free(res);
		return -1;
	}
	*out = res;
	*n = count;
	return 0;
}

int ff_history_widened(struct ff_store *st, const char *table, int64_t version, const char *definition)
{
	char *sql = sqlite3_mprintf("%s; INSERT OR REPLACE INTO ff_definitions VALUES (%Q, %lld, %Q)", definitions_sql,
				    table, (long long)version, definition);
	int rc = exec_sql(st, sql);
	sqlite3_free(sql);
	return rc;
}

int ff_store_definition_as_of(struct ff_store *st, const char *table, int64_t version, char **definition)
{
	*definition = NULL;
	int has = has_table(st, "ff_definitions");
	if (has < 0)
		return -1;
	if (has) {
		sqlite3_stmt *s;
		if (prepare_at(st, "SELECT definition FROM \"%s\".ff_definitions WHERE table_name = ?1"
				   " AND until_version >= ?2 ORDER BY until_version LIMIT 1", table, version, &s) < 0)
			return -1;
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			*definition = ff_db_column_text(s, 0);
		sqlite3_finalize(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read the catalog");
	}
	if (!*definition) {
		struct ff_table_def def;
		int found = ff_store_table(st, table, &def, NULL);
		if (found <= 0)
			return found < 0 ? -1 : ff_error("%s: no table %s in the store", ff_store_path(st), table);
		*definition = def.definition;
		def.definition = NULL;
		ff_table_def_release(&def);
	}
	return 0;
}
