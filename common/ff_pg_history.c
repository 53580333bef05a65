/* ff_pg_history: the history of a PostgreSQL store's feature tables
 * (ff_pg_history.h, ff-store(5) History and PostgreSQL). */
#include "ff_pg_history.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ff_db.h"
#include "ff_pg_store.h"
#include "ff_pg_table.h"
#include "ff_util.h"

static const char pg_catalog_sql[] =
	"CREATE TABLE IF NOT EXISTS ff_retention (table_name text PRIMARY KEY, history_from bigint NOT NULL,"
	" feed_from bigint NOT NULL, kept_by text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS ff_definitions (table_name text NOT NULL, until_version bigint NOT NULL,"
	" definition text NOT NULL, PRIMARY KEY (table_name, until_version));";

static const struct ff_pg_col retention_cols[] = {
	{"table_name", FF_PG_TEXT}, {"history_from", FF_PG_INT}, {"feed_from", FF_PG_INT}, {"kept_by", FF_PG_TEXT},
};
static const struct ff_pg_col definitions_cols[] = {
	{"table_name", FF_PG_TEXT}, {"until_version", FF_PG_INT}, {"definition", FF_PG_TEXT},
};

/* Close m and run its SQL on the copy. */
static int run_copy(struct ff_store *copy, FILE *m, char **sql)
{
	int rc = ff_db_exec(ff_store_db(copy), ff_store_path(copy), ff_pg_sql_close(m, sql));
	free(*sql);
	*sql = NULL;
	return rc;
}

/* CREATE TABLE of the history (cols: the image or the states) in PostgreSQL. */
static void pg_create(FILE *m, const struct ff_pg_table *h, const char *qname, const struct ff_pg_col *cols, size_t n)
{
	char q[FF_DB_IDENT_SIZE];
	fprintf(m, "CREATE TABLE %s (", qname);
	for (size_t i = 0; i < n; i++) {
		int key = strcmp(cols[i].name, "ff_valid_to") == 0;
		for (size_t k = 0; k < h->npk; k++)
			key |= strcmp(cols[i].name, h->pk[k].name) == 0;
		ff_db_quote(q, sizeof q, cols[i].name);
		fprintf(m, "%s%s %s%s", i ? ", " : "", q, ff_pg_key_type(cols[i].kind), key ? " NOT NULL" : "");
	}
	fputs(", PRIMARY KEY (", m);
	ff_pg_names(m, h->pk, h->npk, "");
	fputs(", ff_valid_to));\n", m);
}

/* ---- the push ---- */

int ff_pg_history_widen(struct ff_pg *pg, struct ff_store *copy, const struct ff_table_def *def, int64_t v)
{
	sqlite3_stmt *s;
	char q[FF_DB_IDENT_SIZE], *before = NULL;
	/* Only a widening write has definitions in the copy (never pulled). */
	if (ff_db_prepare(ff_store_db(copy), ff_store_path(copy), "SELECT 1 FROM sqlite_schema WHERE name = 'ff_definitions'",
			  &s, "cannot read the copy") < 0)
		return -1;
	int rc = sqlite3_step(s), has_definitions = rc == SQLITE_ROW;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ff_db_error(ff_store_db(copy), ff_store_path(copy), "cannot read the copy");
	if (has_definitions) {
		if (ff_db_prepare(ff_store_db(copy), ff_store_path(copy),
				  "SELECT definition FROM ff_definitions WHERE table_name = ?1", &s, "cannot read the copy") < 0)
			return -1;
		sqlite3_bind_text(s, 1, def->name, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			before = ff_db_column_text(s, 0);
		sqlite3_finalize(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return ff_db_error(ff_store_db(copy), ff_store_path(copy), "cannot read the copy");
	}
	if (!before)
		return 0;
	struct ff_pg_table h;
	ff_pg_table_init(&h, def);
	int has = ff_pg_has(pg, h.qhistory);
	if (has < 0) {
		ff_pg_table_release(&h);
		free(before);
		return -1;
	}
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fputs(pg_catalog_sql, m);
	/* The features added: NULL in every row, and in every image. */
	for (size_t i = 0; i < def->ncols; i++) {
		if (def->cols[i].role != FF_ROLE_FEATURE)
			continue;
		ff_db_quote(q, sizeof q, def->cols[i].name);
		const char *type = ff_pg_type(ff_pg_kind_of(def->cols[i].type));
		fprintf(m, "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s;\n", h.q, q, type);
		if (has > 0)
			fprintf(m, "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s;\n", h.qhistory, q, type);
	}
	/* The definition it had up to the version before this one. */
	fputs("INSERT INTO ff_definitions VALUES (", m);
	ff_pg_literal(m, def->name);
	fprintf(m, ", %" PRId64 ", ", v - 1);
	ff_pg_literal(m, before);
	fputs(") ON CONFLICT (table_name, until_version) DO UPDATE SET definition = excluded.definition", m);
	free(before);
	ff_pg_table_release(&h);
	return ff_pg_sql_exec(pg, m, &sql, "cannot add the features");
}

int ff_pg_history_push(struct ff_pg *pg, struct ff_store *copy, const struct ff_table_def *def, int64_t mv,
		       int64_t v, int64_t cur, int recreate)
{
	struct ff_pg_table h;
	ff_pg_table_init(&h, def);
	char *sql = NULL;
	size_t size;
	int rc = -1;
	int has = recreate ? 0 : ff_pg_has(pg, h.qhistory);
	if (has < 0 || ff_pg_exec(pg, pg_catalog_sql, "cannot create the catalog") < 0)
		goto out;
	if (!has) {
		FILE *m = ff_pg_sql_open(&sql, &size);
		fprintf(m, "DROP TABLE IF EXISTS %s, %s;\n", h.qhistory, h.qhiststate);
		pg_create(m, &h, h.qhistory, h.img, h.nimg);
		pg_create(m, &h, h.qhiststate, h.hs, h.nhs);
		const char *side[2] = {"ff_retention", "ff_definitions"};
		for (int t = 0; t < 2; t++) {
			fprintf(m, "DELETE FROM %s WHERE table_name = ", side[t]);
			ff_pg_literal(m, def->name);
			fputs(";\n", m);
		}
		if (!recreate) {
			/* Written before the store kept history: readable from cur. */
			fputs("INSERT INTO ff_retention VALUES (", m);
			ff_pg_literal(m, def->name);
			fprintf(m, ", %" PRId64 ", 0, 'start');", cur);
		}
		if (ff_pg_sql_exec(pg, m, &sql, "cannot create the history") < 0)
			goto out;
	}
	/* The images and states this version kept, as of version v. */
	const char *qn[2] = {h.qhistory, h.qhiststate};
	const struct ff_pg_col *cols[2] = {h.img, h.hs};
	size_t ncols[2] = {h.nimg, h.nhs};
	for (int t = 0; t < 2; t++) {
		FILE *m = ff_pg_sql_open(&sql, &size);
		fputs("SELECT ", m);
		ff_pg_names(m, cols[t], ncols[t] - (t ? 2 : 1), "");
		fprintf(m, ", %" PRId64 "%s FROM main.%s WHERE ff_valid_to = %" PRId64, v, t ? ", state" : "", qn[t], mv);
		ff_pg_sql_close(m, &sql);
		int r = ff_pg_copy_in(pg, qn[t], cols[t], ncols[t], ff_store_db(copy), ff_store_path(copy), sql);
		free(sql);
		sql = NULL;
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	free(sql);
	ff_pg_table_release(&h);
	return rc;
}

/* ---- readers ---- */

int ff_pg_history_pull_catalog(struct ff_pg *pg, struct ff_store *copy)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	ff_history_catalog_sql(m);
	if (run_copy(copy, m, &sql) < 0)
		return -1;
	const char *side[2] = {"ff_retention", "ff_definitions"};
	const struct ff_pg_col *cols[2] = {retention_cols, definitions_cols};
	size_t ncols[2] = {sizeof retention_cols / sizeof *retention_cols,
			   sizeof definitions_cols / sizeof *definitions_cols};
	for (int t = 0; t < 2; t++) {
		int has = ff_pg_has(pg, side[t]);
		if (has < 0 || (has && ff_pg_copy_to_db(pg, cols[t], ncols[t], side[t], ff_store_db(copy),
							ff_store_path(copy), side[t], NULL, NULL) < 0))
			return -1;
	}
	return 0;
}

int ff_pg_history_pull(struct ff_pg *pg, struct ff_store *copy, const struct ff_table_def *def)
{
	struct ff_pg_table h;
	ff_pg_table_init(&h, def);
	char *sql;
	size_t size;
	int has = ff_pg_has(pg, h.qhistory), rc = -1;
	if (has < 0)
		goto out;
	if (!has) {
		/* Stored before PostgreSQL stores kept history: none to read. */
		FILE *m = ff_pg_sql_open(&sql, &size);
		fprintf(m, "DROP TABLE main.%s; DROP TABLE main.%s;", h.qhistory, h.qhiststate);
		rc = run_copy(copy, m, &sql);
		goto out;
	}
	sqlite3 *db = ff_store_db(copy);
	const char *db_name = ff_store_path(copy);
	rc = ff_pg_copy_to_db(pg, h.img, h.nimg, h.qhistory, db, db_name, h.qhistory, NULL, NULL) < 0 ||
		     ff_pg_copy_to_db(pg, h.hs, h.nhs, h.qhiststate, db, db_name, h.qhiststate, NULL, NULL) < 0
		     ? -1 : 0;
out:
	ff_pg_table_release(&h);
	return rc;
}

int ff_pg_history_stub(struct ff_pg *pg, struct ff_store *copy, const struct ff_table_def *def)
{
	struct ff_pg_table h;
	ff_pg_table_init(&h, def);
	char *sql;
	size_t size;
	int has = ff_pg_has(pg, h.qhistory), rc = has < 0 ? -1 : 0;
	if (has > 0) {
		FILE *m = ff_pg_sql_open(&sql, &size);
		ff_history_create_sql(m, def, h.pk_cols, h.npk);
		rc = run_copy(copy, m, &sql);
	}
	ff_pg_table_release(&h);
	return rc;
}

/* ---- vacuum ---- */

/* Run "DELETE FROM qtable WHERE cond" on PostgreSQL, its rows into *n. */
static int delete_count(struct ff_pg *pg, const char *qtable, const char *cond, int64_t *n)
{
	char *sql, *v = NULL;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "WITH d AS (DELETE FROM %s WHERE %s RETURNING 1) SELECT count(*) FROM d", qtable, cond);
	ff_pg_sql_close(m, &sql);
	int rc = ff_pg_value(pg, sql, 0, NULL, &v, "cannot vacuum");
	*n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	free(sql);
	return rc;
}

static int vacuum_table(struct ff_pg *pg, struct ff_store *st, const char *table, int64_t keep_versions,
			int64_t keep, struct ff_vacuum_result *r)
{
	int64_t history_from = 0, n = 0;
	if (ff_store_vacuum_floor(st, table, keep_versions, keep, &r->oldest, &history_from) < 0)
		return -1;
	char cond[64], q[FF_DB_IDENT_SIZE];
	snprintf(cond, sizeof cond, "ff_valid_to <= %" PRId64, r->oldest);
	const char *side[3] = {"ff_history_", "ff_histstate_", "ff_changes_"};
	for (int t = 0; t < 3; t++) {
		ff_db_side_name(q, sizeof q, side[t], table);
		if (t == 2)
			snprintf(cond, sizeof cond, "version <= %" PRId64, r->oldest);
		int has = ff_pg_has(pg, q);
		if (has < 0 || (has && delete_count(pg, q, cond, &n) < 0))
			return -1;
		if (t == 0)
			r->history_rows = has ? n : 0;
		if (t == 2)
			r->feed_rows = has ? n : 0;
	}
	if (r->oldest <= history_from && r->feed_rows == 0)
		return 0;
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fputs("INSERT INTO ff_retention VALUES (", m);
	ff_pg_literal(m, table);
	fprintf(m, ", %" PRId64 ", %" PRId64 ", 'vacuum') ON CONFLICT (table_name) DO UPDATE SET"
		   " history_from = greatest(ff_retention.history_from, excluded.history_from),"
		   " feed_from = excluded.feed_from, kept_by = 'vacuum'", r->oldest, r->oldest);
	return ff_pg_sql_exec(pg, m, &sql, "cannot vacuum");
}

int ff_pg_store_vacuum(const char *conninfo, int64_t keep_versions, int64_t keep, struct ff_vacuum_result **out,
		       size_t *n)
{
	struct ff_pg *pg = NULL;
	struct ff_store *st = NULL;
	char **tables = NULL;
	struct ff_vacuum_result *res = NULL;
	size_t count = 0;
	int rc = -1;
	*out = NULL;
	*n = 0;
	/* The lock first: the catalog read after it stays current. */
	if (ff_pg_connect(conninfo, &pg) < 0 ||
	    ff_pg_exec(pg, "BEGIN; SELECT pg_advisory_xact_lock(" FF_PG_PUSH_LOCK ")", "cannot lock the store") < 0 ||
	    ff_pg_exec(pg, pg_catalog_sql, "cannot create the catalog") < 0 || ff_pg_store_open(conninfo, &st) < 0 ||
	    ff_store_tables(st, &tables) < 0)
		goto out;
	while (tables[count])
		count++;
	res = ff_xcalloc(count ? count : 1, sizeof *res);
	for (size_t i = 0; i < count; i++) {
		res[i].table = ff_xstrdup(tables[i]);
		if (vacuum_table(pg, st, tables[i], keep_versions, keep, &res[i]) < 0)
			goto out;
	}
	if (ff_pg_exec(pg, "COMMIT", "cannot commit") < 0)
		goto out;
	*out = res;
	*n = count;
	res = NULL;
	rc = 0;
out:
	for (size_t i = 0; res && i < count; i++)
		free(res[i].table);
	free(res);
	for (size_t i = 0; tables && tables[i]; i++)
		free(tables[i]);
	free(tables);
	ff_store_close(st);
	ff_pg_close(pg); /* rolls back what a failure left */
	ff_pg_store_forget(conninfo);
	return rc;
}
