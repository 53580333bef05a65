/* ff_store_history: the history tables of a store and the one SELECT that
 * reads a table as of a version (ff_store_history.h, ff-store(5)). */
#include "ff_store_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_db.h"
#include "ff_shard.h"
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
	sqlite3_stmt *save, *save_state, *absent, *absent_mark;
	const struct ff_table_def *def;
	const size_t *key_cols;
	size_t nkey;
	int64_t version;
	char *save_head;  /* "INSERT ... SELECT ... FROM table AS t WHERE " */
	char *state_head; /* "INSERT ... SELECT ... FROM states AS ff_s", or NULL */
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

/* 1 if the store (in its schema) has a table of that name. */
static int has_table(struct ff_store *st, const char *name)
{
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\".sqlite_master WHERE type = 'table' AND name = ?1",
		 schema_of(st));
	int64_t n = 0;
	int rc = ff_db_int(ff_store_db(st), ff_store_path(st), sql, name, NULL, &n,
			   "cannot read the versions");
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
	int rc = ff_db_int(ff_store_db(st), ff_store_path(st), sql, table, NULL, &b->current,
			   "cannot read the versions");
	if (rc <= 0)
		return rc < 0 ? -1 : ff_error("%s: no table %s in the store", ff_store_path(st), table);
	snprintf(sql, sizeof sql, "SELECT max(version) FROM \"%s\".ff_versions WHERE table_name = ?1"
		 " AND operation IN ('create', 'replace')", sc);
	if ((rc = ff_db_int(ff_store_db(st), ff_store_path(st), sql, table, NULL, &b->replaced,
			    "cannot read the versions")) < 0)
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
		int rc = ff_db_int(ff_store_db(st), ff_store_path(st), sql, table, when, &v,
				   "cannot read the versions");
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

static const char *ts_name(const struct ff_table_def *def);

/* 1 if col is def's partition column: the month of the row's time
 * (ff_time_yyyy_mm, as ff-compute writes it), which history rows do not
 * keep. */
static int is_partition(const struct ff_table_def *def, const char *col)
{
	for (size_t i = 0; i < def->ncols; i++)
		if (def->cols[i].role == FF_ROLE_PARTITION && strcmp(def->cols[i].name, col) == 0)
			return 1;
	return 0;
}

/* The columns cols of alias's rows; with def, alias is a history table,
 * whose partition column is the month of the time. */
static void put_cols(FILE *m, const char *alias, const char *const *cols, size_t ncols,
		     const struct ff_table_def *def)
{
	char q[FF_DB_IDENT_SIZE], qts[FF_DB_IDENT_SIZE];
	for (size_t i = 0; i < ncols; i++) {
		ff_db_quote(q, sizeof q, cols[i]);
		if (def && is_partition(def, cols[i])) {
			ff_db_quote(qts, sizeof qts, ts_name(def));
			fprintf(m, "%sstrftime('%%Y-%%m', %s.%s, 'unixepoch') AS %s", i ? ", " : "", alias, qts, q);
		} else {
			fprintf(m, "%s%s.%s AS %s", i ? ", " : "", alias, q, q);
		}
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

/* The primary key in its stored order: the timestamp key, then the keys
 * (of alias a, or unqualified). */
static void key_order(FILE *m, const struct ff_table_def *def, const char *a)
{
	char q[FF_DB_IDENT_SIZE];
	int first = 1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < def->ncols; i++) {
			if (def->cols[i].role != (pass == 0 ? FF_ROLE_TIMESTAMP : FF_ROLE_KEY))
				continue;
			ff_db_quote(q, sizeof q, def->cols[i].name);
			fprintf(m, "%s%s%s%s", first ? "" : ", ", a ? a : "", a ? "." : "", q);
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

/* A version after the one read that appended: the rows at or after from
 * (of the keys of its shard, if it has one) are newer than the one read
 * (ff_versions.appended_from and shard). */
struct append {
	int64_t version, from;
	struct ff_shard shard; /* n == 0: every key */
};

/* What a read of table as of version needs: the table, the rows no later
 * version touched, the versions after it that appended. */
struct rows_plan {
	struct ff_table_def def;
	int64_t current;
	const char *ts;
	char sc[FF_DB_IDENT_SIZE], qt[FF_DB_IDENT_SIZE], qh[FF_DB_IDENT_SIZE], qs[FF_DB_IDENT_SIZE];
	char qm[FF_DB_IDENT_SIZE], qts[FF_DB_IDENT_SIZE];
	int64_t appended; /* rows at or after it were appended after version */
	int64_t scoped;   /* rows at or after it may have been, by a shard's append */
	int64_t changed;  /* the earliest row a later version changed (INT64_MAX: none) */
	struct append *appends;
	size_t nappends;
};

static void plan_release(struct rows_plan *p)
{
	ff_table_def_release(&p->def);
	free(p->appends);
}

/* The versions after version that appended, in version order, and the
 * least time each kind of append covers (p->appended: every key's,
 * p->scoped: a shard's). A store made before versions had shards has all
 * its appends for every key. Returns 0 or -1 (reported). */
static int appends_after(struct ff_store *st, const char *table, int64_t version, struct rows_plan *p)
{
	sqlite3_stmt *s;
	int has_shard = ff_db_has_column(ff_store_db(st), ff_store_path(st), schema_of(st), "ff_versions", "shard");
	if (has_shard < 0 ||
	    prepare_at(st, has_shard ? "SELECT version, appended_from, shard FROM \"%s\".ff_versions WHERE table_name = ?1"
				       " AND version > ?2 AND appended_from IS NOT NULL ORDER BY version"
				     : "SELECT version, appended_from, NULL FROM \"%s\".ff_versions WHERE table_name = ?1"
				       " AND version > ?2 AND appended_from IS NOT NULL ORDER BY version",
		       table, version, &s) < 0)
		return -1;
	int rc;
	size_t cap = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ff_grow(&p->appends, &cap, p->nappends + 1, sizeof *p->appends);
		struct append *a = &p->appends[p->nappends++];
		*a = (struct append){sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), {0, 0}};
		const char *shard = (const char *)sqlite3_column_text(s, 2);
		if (shard && *shard && ff_shard_parse(shard, &a->shard) < 0) {
			sqlite3_finalize(s);
			return ff_error("%s: table %s: version %lld has a bad shard '%s'", ff_store_path(st), table,
					(long long)a->version, shard);
		}
		int64_t *least = a->shard.n ? &p->scoped : &p->appended;
		if (a->from < *least)
			*least = a->from;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read the versions");
}

/* " AND NOT (t.ts >= from AND ff_shard(N, keys) = K)" for each shard's
 * append after the version read (with "AND t.ff_valid_to > version" for
 * images: images), the keys of alias t. */
static void scoped_cut(FILE *m, const struct rows_plan *p, int images)
{
	for (size_t i = 0; i < p->nappends; i++) {
		const struct append *a = &p->appends[i];
		if (!a->shard.n)
			continue;
		fprintf(m, " AND NOT (t.%s >= %lld", p->qts, (long long)a->from);
		if (images)
			fprintf(m, " AND t.ff_valid_to > %lld", (long long)a->version);
		fputs(" AND ", m);
		ff_shard_sql(m, &a->shard, &p->def, "t.");
		fputc(')', m);
	}
}

/* 1 if the row of time ts whose nkeys key values are the columns kpos[1..] of
 * s was appended after the version read by a shard's append. */
static int scoped_append(const struct rows_plan *p, sqlite3_stmt *s, const int *kpos, size_t nkeys, int64_t ts,
			 int64_t valid_to)
{
	/* (A shard's table has at most FF_SHARD_KEYS_MAX keys: ff-compute.) */
	if (ts < p->scoped || nkeys > FF_SHARD_KEYS_MAX)
		return 0;
	/* The values as text, as ff_shard() in SQL reads them, without
	 * converting the statement's own (its column types must hold). */
	const char *v[FF_SHARD_KEYS_MAX] = {NULL};
	size_t len[FF_SHARD_KEYS_MAX] = {0};
	char num[FF_SHARD_KEYS_MAX][24];
	sqlite3_value *dup[FF_SHARD_KEYS_MAX] = {NULL};
	for (size_t k = 0; k < nkeys; k++) {
		int c = kpos[k + 1];
		switch (sqlite3_column_type(s, c)) {
		case SQLITE_INTEGER:
			len[k] = (size_t)snprintf(num[k], sizeof num[k], "%lld", (long long)sqlite3_column_int64(s, c));
			v[k] = num[k];
			break;
		case SQLITE_TEXT:
			v[k] = (const char *)sqlite3_column_text(s, c);
			len[k] = (size_t)sqlite3_column_bytes(s, c);
			break;
		case SQLITE_NULL:
			v[k] = "";
			len[k] = 0;
			break;
		default:
			dup[k] = sqlite3_value_dup(sqlite3_column_value(s, c));
			if (!dup[k])
				ff_die(1, "out of memory");
			v[k] = (const char *)sqlite3_value_text(dup[k]);
			len[k] = (size_t)sqlite3_value_bytes(dup[k]);
			if (!v[k])
				v[k] = "";
		}
	}
	uint64_t h = ff_shard_hash(v, len, nkeys);
	for (size_t k = 0; k < nkeys; k++)
		sqlite3_value_free(dup[k]);
	for (size_t i = 0; i < p->nappends; i++) {
		const struct append *a = &p->appends[i];
		if (a->shard.n && ts >= a->from && valid_to > a->version && ff_shard_has(&a->shard, h))
			return 1;
	}
	return 0;
}

static int plan_rows(struct ff_store *st, const char *table, const char *const *cols, size_t ncols,
		     int64_t version, struct rows_plan *p)
{
	const char *path = ff_store_path(st);
	memset(p, 0, sizeof *p);
	p->appended = p->scoped = p->changed = INT64_MAX;
	int found = ff_store_table(st, table, &p->def, &p->current);
	if (found <= 0)
		return found < 0 ? -1 : ff_error("%s: no table %s in the store", path, table);
	p->ts = ts_name(&p->def);
	for (size_t i = 0; i < p->def.ncols; i++) {
		if (p->def.cols[i].role != FF_ROLE_KEY && p->def.cols[i].role != FF_ROLE_TIMESTAMP)
			continue;
		size_t c = 0;
		while (c < ncols && strcmp(cols[c], p->def.cols[i].name) != 0)
			c++;
		if (c == ncols) {
			ff_error("%s: table %s: a read of rows needs the key '%s'", path, table, p->def.cols[i].name);
			goto fail;
		}
	}
	if (!p->ts) {
		ff_error("%s: table %s has no timestamp key", path, table);
		goto fail;
	}
	ff_db_quote(p->sc, sizeof p->sc, ff_store_schema(st));
	ff_db_quote(p->qt, sizeof p->qt, table);
	ff_db_side_name(p->qh, sizeof p->qh, "ff_history_", table);
	ff_db_side_name(p->qs, sizeof p->qs, "ff_state_", table);
	ff_db_side_name(p->qm, sizeof p->qm, "ff_histstate_", table);
	ff_db_quote(p->qts, sizeof p->qts, p->ts);
	if (version == p->current)
		return 0;
	char q[1200];
	snprintf(q, sizeof q, "ff_histstate_%s", table);
	int form = has_table(st, q);
	if (form <= 0) {
		if (form == 0)
			ff_error("%s: table %s: its history has the form of an earlier ff: write the table once "
				 "with this one (ff-compute) to read its earlier versions", path, table);
		goto fail;
	}
	/* Rows appended after version are newer than it: at or after A. */
	if (appends_after(st, table, version, p) < 0)
		goto fail;
	/* The earliest row a later version replaced: the rows before it need
	 * no look at the history (appends leave none). */
	snprintf(q, sizeof q, "SELECT min(%s) FROM %s.%s WHERE ff_valid_to > %lld", p->qts, p->sc, p->qh,
		 (long long)version);
	if (ff_db_int(ff_store_db(st), ff_store_path(st), q, table, NULL, &p->changed,
		      "cannot read the versions") < 0)
		goto fail;
	return 0;
fail:
	plan_release(p);
	return -1;
}

int ff_store_def_rows_sql(struct ff_store *st, const char *table, const struct ff_table_def *def,
			  int64_t version, char **sql)
{
	const char **names = ff_xcalloc(def->ncols + 1, sizeof *names);
	for (size_t i = 0; i < def->ncols; i++)
		names[i] = def->cols[i].name;
	int rc = ff_store_rows_sql(st, table, names, def->ncols, version, 0, sql);
	free((void *)names);
	return rc;
}

int ff_store_rows_sql(struct ff_store *st, const char *table, const char *const *cols, size_t ncols,
		      int64_t version, int with_state, char **sql)
{
	struct rows_plan p;
	*sql = NULL;
	if (plan_rows(st, table, cols, ncols, version, &p) < 0)
		return -1;
	size_t size = 0;
	FILE *m = open_memstream(sql, &size);
	if (!m)
		ff_die(1, "out of memory");
	fprintf(m, "SELECT ");
	put_cols(m, "t", cols, ncols, NULL);
	if (with_state) {
		fprintf(m, ", (SELECT s.state FROM %s.%s AS s WHERE ", p.sc, p.qs);
		key_match(m, &p.def, "s", "t");
		fprintf(m, ") AS ff_state");
	}
	fprintf(m, " FROM %s.%s AS t", p.sc, p.qt);
	if (version != p.current) {
		fprintf(m, " WHERE t.%s < %lld", p.qts, (long long)p.appended);
		scoped_cut(m, &p, 0);
		if (p.changed != INT64_MAX) {
			/* Current rows no later version changed (but appended). */
			fprintf(m, " AND (t.%s < %lld OR NOT EXISTS (SELECT 1 FROM %s.%s AS h WHERE ", p.qts,
				(long long)p.changed, p.sc, p.qh);
			key_match(m, &p.def, "h", "t");
			fprintf(m, " AND h.ff_valid_to > %lld))", (long long)version);
			/* With the images the first change after version replaced. */
			fprintf(m, " UNION ALL SELECT ");
			put_cols(m, "t", cols, ncols, &p.def);
			if (with_state) {
				fprintf(m, ", (SELECT s.state FROM %s.%s AS s WHERE ", p.sc, p.qm);
				key_match(m, &p.def, "s", "t");
				fprintf(m, " AND s.ff_valid_to = t.ff_valid_to) AS ff_state");
			}
			fprintf(m, " FROM %s.%s AS t WHERE t.ff_valid_to > %lld AND NOT EXISTS (SELECT 1 FROM %s.%s AS s"
				   " WHERE ", p.sc, p.qh, (long long)version, p.sc, p.qm);
			key_match(m, &p.def, "s", "t");
			fprintf(m, " AND s.ff_valid_to = t.ff_valid_to AND s.state IS NULL)"
				   " AND NOT EXISTS (SELECT 1 FROM %s.%s AS h WHERE ", p.sc, p.qh);
			key_match(m, &p.def, "h", "t");
			fprintf(m, " AND h.ff_valid_to > %lld AND h.ff_valid_to < t.ff_valid_to)", (long long)version);
			/* An image of a row appended after version (and replaced since)
			 * lies at or after what a version between them appended: one
			 * test per version that appended, with its numbers written in. */
			for (size_t i = 0; i < p.nappends; i++)
				if (!p.appends[i].shard.n)
					fprintf(m, " AND NOT (t.%s >= %lld AND t.ff_valid_to > %lld)", p.qts,
						(long long)p.appends[i].from, (long long)p.appends[i].version);
			scoped_cut(m, &p, 1);
		}
	}
	fprintf(m, " ORDER BY ");
	key_order(m, &p.def, NULL);
	if (fclose(m) != 0)
		ff_die(1, "out of memory");
	plan_release(&p);
	return 0;
}

/* ---- the same rows, merged in C ---- */

/* A key column of a row: its SQLite type and value (p: text or blob
 * bytes, the statement's until it steps, or a copy's). */
struct keyval {
	int type;
	int64_t i;
	double d;
	const void *p;
	int n;
};

/* The key columns kpos[0..nkey) of s's row. */
static void key_load(sqlite3_stmt *s, const int *kpos, size_t nkey, struct keyval *k)
{
	for (size_t j = 0; j < nkey; j++) {
		int c = kpos[j];
		k[j].type = sqlite3_column_type(s, c);
		if (k[j].type == SQLITE_INTEGER)
			k[j].i = sqlite3_column_int64(s, c);
		else if (k[j].type == SQLITE_FLOAT)
			k[j].d = sqlite3_column_double(s, c);
		else if (k[j].type != SQLITE_NULL) {
			k[j].p = k[j].type == SQLITE_TEXT ? (const void *)sqlite3_column_text(s, c) : sqlite3_column_blob(s, c);
			k[j].n = sqlite3_column_bytes(s, c);
		}
	}
}

/* A copy of key k in dst, its bytes in *buf (reused). */
static void key_keep(struct keyval *dst, const struct keyval *k, size_t nkey, char **buf, size_t *cap)
{
	size_t need = 0;
	for (size_t j = 0; j < nkey; j++)
		need += k[j].p ? (size_t)k[j].n : 0;
	ff_grow(buf, cap, need + 1, 1);
	need = 0;
	for (size_t j = 0; j < nkey; j++) {
		dst[j] = k[j];
		if (k[j].p && k[j].n) {
			memcpy(*buf + need, k[j].p, (size_t)k[j].n);
			dst[j].p = *buf + need;
			need += (size_t)k[j].n;
		}
	}
}

/* The order of SQLite's values: NULL, numbers, text, blobs. */
static int type_rank(int type)
{
	return type == SQLITE_NULL ? 0 : type == SQLITE_TEXT ? 2 : type == SQLITE_BLOB ? 3 : 1;
}

/* Compare two keys as SQLite orders them (text by its bytes: the BINARY
 * collation of the keys). */
static int key_cmp(const struct keyval *a, const struct keyval *b, size_t nkey)
{
	for (size_t j = 0; j < nkey; j++) {
		int ra = type_rank(a[j].type), rb = type_rank(b[j].type);
		if (ra != rb)
			return ra < rb ? -1 : 1;
		if (a[j].type == SQLITE_INTEGER && b[j].type == SQLITE_INTEGER) {
			if (a[j].i != b[j].i)
				return a[j].i < b[j].i ? -1 : 1;
		} else if (ra == 1) {
			double x = a[j].type == SQLITE_INTEGER ? (double)a[j].i : a[j].d;
			double y = b[j].type == SQLITE_INTEGER ? (double)b[j].i : b[j].d;
			if (x != y)
				return x < y ? -1 : 1;
		} else if (ra > 1) {
			int r = memcmp(a[j].p, b[j].p, (size_t)(a[j].n < b[j].n ? a[j].n : b[j].n));
			if (r != 0 || a[j].n != b[j].n)
				return r ? r : a[j].n < b[j].n ? -1 : 1;
		}
	}
	return 0;
}

/* Hand the ncols columns of s's row to fn as cells. */
static int emit(sqlite3_stmt *s, const enum ff_type *types, size_t ncols, struct ff_cell *cells,
		int (*fn)(void *ctx, const struct ff_cell *cells), void *ctx)
{
	for (size_t i = 0; i < ncols; i++)
		ff_cell_column(s, (int)i, types[i], &cells[i]);
	return fn(ctx, cells);
}

/* The next current row of cur that no shard's append after the version
 * read wrote. */
static int next_current(sqlite3_stmt *cur, const struct rows_plan *p, const int *kpos, size_t nkeys)
{
	int rc;
	while ((rc = sqlite3_step(cur)) == SQLITE_ROW && p->scoped != INT64_MAX &&
	       scoped_append(p, cur, kpos, nkeys, sqlite3_column_int64(cur, kpos[0]), INT64_MAX))
		;
	return rc;
}

int ff_store_rows(struct ff_store *st, const char *table, const char *const *cols, size_t ncols,
		  int64_t version, int (*fn)(void *ctx, const struct ff_cell *cells), void *ctx)
{
	return ff_store_rows_between(st, table, cols, ncols, version, INT64_MIN, INT64_MAX, fn, ctx);
}

/* " AND t.ts >= from AND t.ts < to", the bounds that are not infinite. */
static void time_range(FILE *m, const struct rows_plan *p, int64_t from, int64_t to)
{
	if (from != INT64_MIN)
		fprintf(m, " AND t.%s >= %lld", p->qts, (long long)from);
	if (to != INT64_MAX)
		fprintf(m, " AND t.%s < %lld", p->qts, (long long)to);
}

int ff_store_rows_between(struct ff_store *st, const char *table, const char *const *cols, size_t ncols,
			  int64_t version, int64_t from, int64_t to,
			  int (*fn)(void *ctx, const struct ff_cell *cells), void *ctx)
{
	struct rows_plan p;
	if (plan_rows(st, table, cols, ncols, version, &p) < 0)
		return -1;
	sqlite3 *db = ff_store_db(st);
	const char *path = ff_store_path(st);
	sqlite3_stmt *cur = NULL, *old = NULL;
	enum ff_type *types = ff_xcalloc(ncols + 1, sizeof *types);
	struct ff_cell *cells = ff_xcalloc(ncols + 1, sizeof *cells);
	struct keyval *kcur = NULL;
	char *keybuf = NULL;
	size_t keycap = 0;
	/* Where the primary key's columns are among cols, in its order. */
	int *kpos = ff_xcalloc(p.def.ncols + 1, sizeof *kpos);
	size_t nkey = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p.def.ncols; i++) {
			const struct ff_column *c = &p.def.cols[i];
			for (size_t j = 0; j < ncols; j++)
				if (strcmp(cols[j], c->name) == 0) {
					types[j] = c->type;
					if (c->role == (pass ? FF_ROLE_KEY : FF_ROLE_TIMESTAMP))
						kpos[nkey++] = (int)j;
				}
		}
	char *sql = NULL;
	size_t size = 0;
	int rc = -1;
	/* The current rows not appended after version, then (their keys) ... */
	FILE *m = open_memstream(&sql, &size);
	fprintf(m, "SELECT ");
	put_cols(m, "t", cols, ncols, NULL);
	fprintf(m, " FROM %s.%s AS t WHERE 1", p.sc, p.qt);
	time_range(m, &p, from, p.appended < to ? p.appended : to);
	fprintf(m, " ORDER BY ");
	key_order(m, &p.def, "t");
	fclose(m);
	if (ff_db_prepare(db, path, sql, &cur, "cannot read the table") < 0)
		goto out;
	free(sql);
	sql = NULL;
	if (version != p.current && p.changed != INT64_MAX) {
		/* ... per key a later version changed, the image the first change
		 * after version replaced: the first row of each key (the least
		 * ff_valid_to after version), in key order as the table's, from
		 * the history's own order (key, ff_valid_to); with whether it
		 * marks a key absent (looked up only if some mark after version
		 * exists). */
		char q[3 * FF_DB_IDENT_SIZE + 128];
		int64_t marks = 0;
		snprintf(q, sizeof q, "SELECT count(*) FROM (SELECT 1 FROM %s.%s WHERE state IS NULL AND ff_valid_to > %lld"
			 " LIMIT 1)", p.sc, p.qm, (long long)version);
		if (ff_db_int(ff_store_db(st), ff_store_path(st), q, table, NULL, &marks,
			      "cannot read the versions") < 0)
			goto out;
		m = open_memstream(&sql, &size);
		fprintf(m, "SELECT ");
		put_cols(m, "t", cols, ncols, &p.def);
		if (marks) {
			fprintf(m, ", t.ff_valid_to, s.ff_valid_to IS NULL OR s.state IS NOT NULL FROM %s.%s AS t"
				   " LEFT JOIN %s.%s AS s ON ", p.sc, p.qh, p.sc, p.qm);
			key_match(m, &p.def, "s", "t");
			fprintf(m, " AND s.ff_valid_to = t.ff_valid_to");
		} else {
			fprintf(m, ", t.ff_valid_to, 1 FROM %s.%s AS t", p.sc, p.qh);
		}
		fprintf(m, " WHERE t.ff_valid_to > %lld", (long long)version);
		time_range(m, &p, from, to);
		fprintf(m, " ORDER BY ");
		key_order(m, &p.def, "t");
		fprintf(m, ", t.ff_valid_to");
		fclose(m);
		if (ff_db_prepare(db, path, sql, &old, "cannot read the history") < 0)
			goto out;
	}
	/* Merge the two in key order: a key in both was changed after version
	 * and reads as its image; an image of a row deleted, absent (a later
	 * insert's mark) or appended after version reads as nothing. */
	kcur = ff_xcalloc(3 * nkey + 1, sizeof *kcur);
	struct keyval *kold = kcur + nkey, *kprev = kold + nkey;
	int kc = (int)ncols, rc_cur = next_current(cur, &p, kpos, nkey - 1), rc_old = old ? sqlite3_step(old) : SQLITE_DONE;
	if (rc_cur == SQLITE_ROW && old)
		key_load(cur, kpos, nkey, kcur);
	if (rc_old == SQLITE_ROW)
		key_load(old, kpos, nkey, kold);
	while (rc_cur == SQLITE_ROW || rc_old == SQLITE_ROW) {
		int c = rc_old != SQLITE_ROW ? -1 : rc_cur != SQLITE_ROW ? 1 : key_cmp(kcur, kold, nkey);
		if (c < 0) {
			if (emit(cur, types, ncols, cells, fn, ctx) < 0)
				goto out;
			/* Keys are compared only while history rows remain. */
			if ((rc_cur = next_current(cur, &p, kpos, nkey - 1)) == SQLITE_ROW && rc_old == SQLITE_ROW)
				key_load(cur, kpos, nkey, kcur);
			continue;
		}
		/* The time as stored, in whole seconds, as appended_from is. */
		int64_t ts = sqlite3_column_int64(old, kpos[0]), valid_to = sqlite3_column_int64(old, kc);
		int keep = sqlite3_column_int(old, kc + 1) == 1;
		for (size_t i = 0; keep && i < p.nappends; i++)
			keep = p.appends[i].shard.n || !(ts >= p.appends[i].from && valid_to > p.appends[i].version);
		keep = keep && !scoped_append(&p, old, kpos, nkey - 1, ts, valid_to);
		if (keep && emit(old, types, ncols, cells, fn, ctx) < 0)
			goto out;
		if (c == 0 && (rc_cur = next_current(cur, &p, kpos, nkey - 1)) == SQLITE_ROW)
			key_load(cur, kpos, nkey, kcur);
		/* The key's later changes are not the first. */
		key_keep(kprev, kold, nkey, &keybuf, &keycap);
		while ((rc_old = sqlite3_step(old)) == SQLITE_ROW) {
			key_load(old, kpos, nkey, kold);
			if (key_cmp(kold, kprev, nkey) != 0)
				break;
		}
	}
	if (rc_cur != SQLITE_DONE || rc_old != SQLITE_DONE) {
		ff_db_error(db, path, "cannot read the table");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(cur);
	sqlite3_finalize(old);
	free(kcur);
	free(keybuf);
	free(sql);
	free(types);
	free(kpos);
	free(cells);
	plan_release(&p);
	return rc;
}

/* ---- writing history ---- */

static void type_sql(FILE *m, const struct ff_column *c)
{
	const char *type = c->type == FF_TYPE_REAL ? "REAL" : c->type == FF_TYPE_TEXT ? "TEXT" : "INTEGER";
	int notnull = c->role == FF_ROLE_KEY || c->role == FF_ROLE_TIMESTAMP;
	fprintf(m, " %s%s", type, notnull ? " NOT NULL" : "");
}

/* The keys of def (key_cols) as a column list, each after prefix. */
static void put_keys(FILE *m, const struct ff_table_def *def, const size_t *key_cols, size_t nkey,
		     const char *prefix)
{
	char q[FF_DB_IDENT_SIZE];
	for (size_t i = 0; i < nkey; i++) {
		ff_db_quote(q, sizeof q, def->cols[key_cols[i]].name);
		fprintf(m, "%s%s%s", i ? ", " : "", prefix, q);
	}
}

/* "a.k1 = ?1 AND ...": the key bound in key_cols order. */
static void key_params(FILE *m, const struct ff_table_def *def, const size_t *key_cols, size_t nkey,
		       const char *a)
{
	char q[FF_DB_IDENT_SIZE];
	for (size_t i = 0; i < nkey; i++) {
		ff_db_quote(q, sizeof q, def->cols[key_cols[i]].name);
		fprintf(m, "%s%s.%s = ?%zu", i ? " AND " : "", a, q, i + 1);
	}
}

void ff_history_create_sql(FILE *m, const struct ff_table_def *def, const size_t *key_cols, size_t nkey)
{
	char q[FF_DB_IDENT_SIZE];
	ff_db_side_name(q, sizeof q, "ff_history_", def->name);
	fprintf(m, "CREATE TABLE %s (", q);
	for (size_t i = 0; i < def->ncols; i++) {
		if (def->cols[i].role == FF_ROLE_PARTITION)
			continue;
		ff_db_quote(q, sizeof q, def->cols[i].name);
		fprintf(m, "%s", q);
		type_sql(m, &def->cols[i]);
		fprintf(m, ", ");
	}
	fprintf(m, "ff_valid_to INTEGER NOT NULL, PRIMARY KEY (");
	put_keys(m, def, key_cols, nkey, "");
	fprintf(m, ", ff_valid_to)) WITHOUT ROWID;");
	ff_db_side_name(q, sizeof q, "ff_histstate_", def->name);
	fprintf(m, "CREATE TABLE %s (", q);
	for (size_t i = 0; i < nkey; i++) {
		ff_db_quote(q, sizeof q, def->cols[key_cols[i]].name);
		fprintf(m, "%s", q);
		type_sql(m, &def->cols[key_cols[i]]);
		fprintf(m, ", ");
	}
	fprintf(m, "ff_valid_to INTEGER NOT NULL, state BLOB, PRIMARY KEY (");
	put_keys(m, def, key_cols, nkey, "");
	fprintf(m, ", ff_valid_to)) WITHOUT ROWID;");
}

void ff_history_drop_sql(FILE *m, const char *table)
{
	char q[FF_DB_IDENT_SIZE];
	ff_db_side_name(q, sizeof q, "ff_history_", table);
	fprintf(m, "DROP TABLE IF EXISTS %s;", q);
	ff_db_side_name(q, sizeof q, "ff_histstate_", table);
	fprintf(m, "DROP TABLE IF EXISTS %s;%s;", q, retention_sql);
	char *del = sqlite3_mprintf("DELETE FROM ff_retention WHERE table_name = %Q;%s;"
				    "DELETE FROM ff_definitions WHERE table_name = %Q;",
				    table, definitions_sql, table);
	fprintf(m, "%s", del);
	sqlite3_free(del);
}

void ff_history_catalog_sql(FILE *m)
{
	fprintf(m, "%s;%s;", retention_sql, definitions_sql);
}

static int exec_sql(struct ff_store *st, const char *sql)
{
	return ff_db_exec(ff_store_db(st), ff_store_path(st), sql);
}

/* Prepare the statement sql (from a memstream, freed). */
static int prepare_owned(struct ff_history *h, char *sql, sqlite3_stmt **s)
{
	int rc = ff_db_prepare(ff_store_db(h->st), ff_store_path(h->st), sql, s, "cannot keep history");
	free(sql);
	return rc;
}

/* The columns of def a history row keeps (all but the partition), each
 * after prefix and followed by a comma. */
static void put_image_cols(FILE *m, const struct ff_table_def *def, const char *prefix)
{
	char q[FF_DB_IDENT_SIZE];
	for (size_t i = 0; i < def->ncols; i++)
		if (def->cols[i].role != FF_ROLE_PARTITION) {
			ff_db_quote(q, sizeof q, def->cols[i].name);
			fprintf(m, "%s%s, ", prefix, q);
		}
}

/* A memstream into *sql (freed by the caller). */
static FILE *sql_stream(char **sql, size_t *size)
{
	*sql = NULL;
	FILE *m = open_memstream(sql, size);
	if (!m)
		ff_die(1, "out of memory");
	return m;
}

/* A history written before ff_histstate_ (with the partition column,
 * ff_present and ff_state in its rows) in today's form, within the
 * writer's transaction. Returns 0 or -1 (reported). */
static int migrate(struct ff_store *st, const struct ff_table_def *def, const size_t *key_cols, size_t nkey)
{
	char name[FF_DB_IDENT_SIZE + 16], qh[FF_DB_IDENT_SIZE], qo[FF_DB_IDENT_SIZE], qm[FF_DB_IDENT_SIZE];
	snprintf(name, sizeof name, "ff_histstate_%s", def->name);
	int found = has_table(st, name);
	if (found != 0)
		return found < 0 ? -1 : 0;
	ff_db_side_name(qh, sizeof qh, "ff_history_", def->name);
	ff_db_side_name(qo, sizeof qo, "ff_oldhistory_", def->name);
	ff_db_side_name(qm, sizeof qm, "ff_histstate_", def->name);
	char *sql;
	size_t size;
	FILE *m = sql_stream(&sql, &size);
	fprintf(m, "ALTER TABLE %s RENAME TO %s;", qh, qo);
	ff_history_create_sql(m, def, key_cols, nkey);
	fprintf(m, "INSERT INTO %s (", qh);
	put_image_cols(m, def, "");
	fprintf(m, "ff_valid_to) SELECT ");
	put_image_cols(m, def, "");
	fprintf(m, "ff_valid_to FROM %s; INSERT INTO %s (", qo, qm);
	put_keys(m, def, key_cols, nkey, "");
	fprintf(m, ", ff_valid_to, state) SELECT ");
	put_keys(m, def, key_cols, nkey, "");
	fprintf(m, ", ff_valid_to, CASE WHEN ff_present THEN ff_state END FROM %s"
		   " WHERE ff_present = 0 OR ff_state IS NOT NULL; DROP TABLE %s;", qo, qo);
	fclose(m);
	int rc = exec_sql(st, sql);
	free(sql);
	return rc;
}

/* Prepare head, then where, then "a.k1 = ?1 AND ..." over the key. */
static int prepare_keyed(struct ff_history *h, const char *head, const char *where, const char *a,
			 sqlite3_stmt **s)
{
	char *sql;
	size_t size;
	FILE *m = sql_stream(&sql, &size);
	fprintf(m, "%s%s", head, where);
	key_params(m, h->def, h->key_cols, h->nkey, a);
	fclose(m);
	return prepare_owned(h, sql, s);
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
	char qm[FF_DB_IDENT_SIZE], qs[FF_DB_IDENT_SIZE + 8];
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
	ff_db_side_name(qm, sizeof qm, "ff_histstate_", def->name);
	ff_db_quote(qt, sizeof qt, def->name);
	if (found && migrate(st, def, key_cols, nkey) < 0)
		goto fail;
	/* The image: the row's columns but the partition (the month of its
	 * time), as "INSERT ... SELECT ... FROM table AS t WHERE ". */
	m = open_memstream(&sql, &size);
	fprintf(m, "INSERT OR IGNORE INTO %s (", qh);
	put_image_cols(m, def, "");
	fprintf(m, "ff_valid_to) SELECT ");
	put_image_cols(m, def, "t.");
	fprintf(m, "%lld FROM %s AS t WHERE ", (long long)version, qt);
	fclose(m);
	h->save_head = sql;
	sql = NULL;
	if (prepare_keyed(h, h->save_head, "", "t", &h->save) < 0)
		goto fail;
	/* Its window state, when the row's values do not rebuild it: kept
	 * beside (ff_histstate_), as the state table keeps it beside the row. */
	if (states != FF_HISTORY_NO_STATE) {
		if (states == FF_HISTORY_STATE_TABLE)
			ff_db_side_name(qs, sizeof qs, "ff_state_", def->name);
		else {
			ff_db_side_name(q, sizeof q, "ff_oldstate_", def->name);
			snprintf(qs, sizeof qs, "temp.%s", q);
		}
		m = open_memstream(&sql, &size);
		fprintf(m, "INSERT OR IGNORE INTO %s (", qm);
		put_keys(m, def, key_cols, nkey, "");
		fprintf(m, ", ff_valid_to, state) SELECT ");
		put_keys(m, def, key_cols, nkey, "ff_s.");
		fprintf(m, ", %lld, ff_s.state FROM %s AS ff_s", (long long)version, qs);
		fclose(m);
		h->state_head = sql;
		sql = NULL;
		if (prepare_keyed(h, h->state_head, " WHERE ", "ff_s", &h->save_state) < 0)
			goto fail;
	}
	/* A key absent before the version: a history row of the key alone,
	 * and beside it a state of NULL. */
	for (int pass = 0; pass < 2; pass++) {
		m = open_memstream(&sql, &size);
		fprintf(m, "INSERT OR IGNORE INTO %s (", pass ? qm : qh);
		put_keys(m, def, key_cols, nkey, "");
		fprintf(m, ", ff_valid_to) VALUES (");
		for (size_t i = 0; i < nkey; i++)
			fprintf(m, "?%zu, ", i + 1);
		fprintf(m, "%lld)", (long long)version);
		fclose(m);
		if (prepare_owned(h, sql, pass ? &h->absent_mark : &h->absent) < 0)
			goto fail;
		sql = NULL;
	}
	h->version = version;
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
	sqlite3_finalize(h->save_state);
	sqlite3_finalize(h->absent);
	sqlite3_finalize(h->absent_mark);
	free(h->save_head);
	free(h->state_head);
	free(h);
}

/* Run s with the key of cells; then, if it kept a row (the first change
 * of the key in the version), then too. */
static int run_keyed(struct ff_history *h, sqlite3_stmt *s, sqlite3_stmt *then, const struct ff_cell *cells)
{
	sqlite3 *db = ff_store_db(h->st);
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_stmt *x = pass ? then : s;
		for (size_t i = 0; i < h->nkey; i++) {
			const struct ff_column *c = &h->def->cols[h->key_cols[i]];
			ff_cell_bind(x, (int)i + 1, c->type, &cells[h->key_cols[i]]);
		}
		if (ff_db_step_done(db, ff_store_path(h->st), x, "cannot keep history") < 0)
			return -1;
		if (!then || sqlite3_changes(db) == 0)
			break;
	}
	return 0;
}

int ff_history_save(struct ff_history *h, const struct ff_cell *cells)
{
	return run_keyed(h, h->save, h->save_state, cells);
}

int ff_history_absent(struct ff_history *h, const struct ff_cell *cells)
{
	return run_keyed(h, h->absent, h->absent_mark, cells);
}

int ff_history_save_where(struct ff_history *h, const char *cond)
{
	char *sql = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&sql, &size);
	if (h->state_head) {
		/* The states first, of the rows whose image the version has not
		 * kept yet (an image kept earlier keeps its state). */
		char qt[FF_DB_IDENT_SIZE], qh[FF_DB_IDENT_SIZE];
		ff_db_quote(qt, sizeof qt, h->def->name);
		ff_db_side_name(qh, sizeof qh, "ff_history_", h->def->name);
		fprintf(m, "%s JOIN %s AS t ON ", h->state_head, qt);
		key_match(m, h->def, "ff_s", "t");
		fprintf(m, " WHERE (%s) AND NOT EXISTS (SELECT 1 FROM %s AS ff_h WHERE ", cond, qh);
		key_match(m, h->def, "ff_h", "t");
		fprintf(m, " AND ff_h.ff_valid_to = %lld);", (long long)h->version);
	}
	fprintf(m, "%s%s", h->save_head, cond);
	fclose(m);
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
	return ff_db_int(ff_store_db(st), ff_store_path(st), sql, table, NULL, version,
			 "cannot read the versions");
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
		int rc = ff_db_int(ff_store_db(st), ff_store_path(st), sql, table, when, &v,
				   "cannot read the versions");
		if (rc < 0)
			return -1;
		if (rc && v > k)
			k = v;
	}
	*floor = k;
	return 0;
}

int ff_store_vacuum_floor(struct ff_store *st, const char *table, int64_t keep_versions, int64_t keep,
			  int64_t *oldest, int64_t *history_from)
{
	struct bounds b;
	if (read_bounds(st, table, &b) < 0 || vacuum_floor(st, table, keep_versions, keep, &b, oldest) < 0)
		return -1;
	*history_from = b.history_from;
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
	char qm[FF_DB_IDENT_SIZE];
	ff_db_side_name(qm, sizeof qm, "ff_histstate_", table);
	char *sql = sqlite3_mprintf("DELETE FROM %s WHERE ff_valid_to <= %lld", qh, (long long)r->oldest);
	int rc = b.has_history ? exec_sql(st, sql) : 0;
	sqlite3_free(sql);
	if (rc < 0)
		return -1;
	r->history_rows = b.has_history ? sqlite3_changes64(ff_store_db(st)) : 0;
	sql = sqlite3_mprintf("DELETE FROM %s WHERE ff_valid_to <= %lld", qm, (long long)r->oldest);
	rc = b.has_history ? exec_sql(st, sql) : 0;
	sqlite3_free(sql);
	if (rc < 0)
		return -1;
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
