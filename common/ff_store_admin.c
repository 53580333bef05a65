/* ff_store_admin: listing, history, backup and restore of a store
 * (ff_store_admin.h, ff-store(1)). */
#include "ff_store_admin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ff_cell.h"
#include "ff_db.h"
#include "ff_online_redis.h"
#include "ff_pg.h"
#include "ff_pg_store.h"
#include "ff_redis.h"
#include "ff_time.h"
#include "ff_util.h"

/* ---- ls ---- */

/* The bytes of the pages of the tables named like NAME and its side tables. */
static int64_t table_bytes(sqlite3 *db, const char *table, int history_only)
{
	sqlite3_stmt *s;
	int64_t n = 0;
	const char *sql = history_only
		? "SELECT sum(pgsize) FROM dbstat WHERE name IN ('ff_history_' || ?1, 'ff_histstate_' || ?1)"
		: "SELECT sum(pgsize) FROM dbstat WHERE name IN (?1, 'ff_changes_' || ?1, 'ff_state_' || ?1,"
		  " 'ff_history_' || ?1, 'ff_histstate_' || ?1)";
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void add_time(struct ff_report_table *t, int found, int64_t secs)
{
	char buf[32];
	if (!found) {
		ff_report_add(t, NULL);
		return;
	}
	ff_time_format(secs * FF_USEC, buf);
	ff_report_add(t, buf);
}

/* The online store's record of table: version and time of the last sync,
 * from a SQLite file (on) or Redis (rd, ff_online_redis.h). */
static void add_online(struct ff_report_table *t, sqlite3 *on, struct ff_online_reader *rd, const char *table)
{
	if (rd) {
		struct ff_online_redis_table r;
		int found = ff_online_reader_table(rd, table, &r) == 0 && r.found;
		if (found)
			ff_report_addf(t, "%lld", (long long)r.version);
		else
			ff_report_add(t, NULL);
		ff_report_add(t, found ? r.synced_at : NULL);
		ff_online_redis_table_release(&r);
		return;
	}
	sqlite3_stmt *s = NULL;
	int row = on && sqlite3_prepare_v2(on, "SELECT version, synced_at FROM ff_online_tables WHERE name = ?1", -1,
					   &s, NULL) == SQLITE_OK;
	if (row) {
		sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
		row = sqlite3_step(s) == SQLITE_ROW;
	}
	ff_report_add(t, row ? (const char *)sqlite3_column_text(s, 0) : NULL);
	ff_report_add(t, row ? (const char *)sqlite3_column_text(s, 1) : NULL);
	sqlite3_finalize(s);
}

static int ls_table(struct ff_store *st, const char *table, sqlite3 *on, struct ff_online_reader *rd,
		    struct ff_report_table *out)
{
	sqlite3 *db = ff_store_db(st);
	const char *path = ff_store_path(st);
	struct ff_catalog_entry e;
	int rc = ff_store_catalog_entry(st, table, &e);
	if (rc <= 0)
		return rc;
	char qt[FF_DB_IDENT_SIZE], qts[FF_DB_IDENT_SIZE], sql[4 * FF_DB_IDENT_SIZE + 200];
	ff_db_quote(qt, sizeof qt, table);
	ff_db_quote(qts, sizeof qts, e.timestamp_key ? e.timestamp_key : "");
	/* The key columns: the primary key but the timestamp key. */
	char keys[1024] = "", *kp = keys;
	for (char *p = e.primary_keys; p && *p;) {
		size_t n = strcspn(p, ",");
		char name[FF_NAME_MAX + 1], q[FF_DB_IDENT_SIZE];
		snprintf(name, sizeof name, "%.*s", (int)n, p);
		if (!e.timestamp_key || strcmp(name, e.timestamp_key) != 0) {
			ff_db_quote(q, sizeof q, name);
			kp += snprintf(kp, sizeof keys - (size_t)(kp - keys), "%s%s", kp == keys ? "" : ", ", q);
		}
		p += n + (p[n] == ',');
	}
	int64_t rows = 0, nkeys = 0, first = 0, last = 0, bytes = 0, history = 0;
	int f_first = 0, f_last = 0;
	if (ff_pg_is_uri(path)) {
		/* Counted by the server, the sizes its own (ff-store(5), "PostgreSQL"). */
		struct ff_table_def def;
		struct ff_pg_figures f = {0};
		int found = ff_store_table(st, table, &def, NULL);
		rc = found < 0 ? -1 : found == 0 ? ff_error("%s: no table %s in the store", path, table) : 0;
		if (rc == 0) {
			rc = ff_pg_store_figures(path, &def, &f);
			ff_table_def_release(&def);
		}
		rows = f.rows;
		nkeys = f.keys;
		first = f.first;
		last = f.last;
		f_first = f_last = f.has_times;
		bytes = f.bytes + f.history_bytes; /* as SQLite's: the history in */
		history = f.history_bytes;
	} else {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", qt);
		rc = ff_db_int(db, path, sql, NULL, NULL, &rows, "cannot read the store") < 0 ? -1 : 0;
		if (rc == 0 && *keys) {
			snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT DISTINCT %s FROM %s)", keys, qt);
			rc = ff_db_int(db, path, sql, NULL, NULL, &nkeys, "cannot read the store") < 0 ? -1 : 0;
		}
		if (rc == 0 && e.timestamp_key) {
			snprintf(sql, sizeof sql, "SELECT min(%s) FROM %s", qts, qt);
			f_first = ff_db_int(db, path, sql, NULL, NULL, &first, "cannot read the store");
			snprintf(sql, sizeof sql, "SELECT max(%s) FROM %s", qts, qt);
			if (f_first >= 0)
				f_last = ff_db_int(db, path, sql, NULL, NULL, &last, "cannot read the store");
			rc = f_first < 0 || f_last < 0 ? -1 : 0;
		}
		if (rc == 0) {
			bytes = table_bytes(db, table, 0);
			history = table_bytes(db, table, 1);
		}
	}
	if (rc == 0) {
		ff_report_add(out, table);
		ff_report_addf(out, "%lld", (long long)e.version);
		ff_report_addf(out, "%lld", (long long)rows);
		ff_report_addf(out, "%lld", (long long)nkeys);
		add_time(out, f_first, first);
		add_time(out, f_last, last);
		ff_report_add(out, e.updated_at);
		ff_report_addf(out, "%lld", (long long)bytes);
		ff_report_addf(out, "%lld", (long long)history);
		if (on || rd)
			add_online(out, on, rd, table);
	}
	ff_catalog_entry_release(&e);
	return rc < 0 ? -1 : 1;
}

int ff_store_ls(struct ff_store *st, const char *online, struct ff_report_table *out)
{
	sqlite3 *on = NULL;
	struct ff_online_reader *rd = NULL;
	char **tables = NULL;
	int rc = -1;
	ff_report_init(out, online ? "table,version,rows,keys,first_window,last_window,last_write,bytes,"
				     "history_bytes,online_version,synced_at"
				   : "table,version,rows,keys,first_window,last_window,last_write,bytes,"
				     "history_bytes");
	if (online && (ff_redis_is_url(online) ? ff_online_reader_open(online, &rd)
					       : ff_db_open(online, FF_DB_READER, 0, &on)) < 0)
		goto out;
	if (ff_store_tables(st, &tables) < 0)
		goto out;
	rc = 0;
	for (size_t i = 0; rc == 0 && tables[i]; i++)
		rc = ls_table(st, tables[i], on, rd, out) < 0 ? -1 : 0;
out:
	for (size_t i = 0; tables && tables[i]; i++)
		free(tables[i]);
	free(tables);
	ff_db_close(on);
	ff_online_reader_close(rd);
	return rc;
}

/* ---- history ---- */

/* What version v of table read: its batch ids, inputs and the shard its
 * keys were (K/N, none for all keys), from ff_batches; has_shard: the
 * store's ff_batches has the column (stores older than shards do not). */
static int add_batches(struct ff_store *st, int has_batches, int has_shard, const char *table, int64_t v,
		       struct ff_report_table *out)
{
	if (!has_batches) {
		for (int i = 0; i < 3; i++)
			ff_report_add(out, NULL);
		return 0;
	}
	sqlite3_stmt *s;
	char sql[200];
	snprintf(sql, sizeof sql, "SELECT batch, input_name, input_hash, %s FROM ff_batches"
		 " WHERE table_name = ?1 AND version = ?2 ORDER BY rowid", has_shard ? "shard" : "NULL");
	if (ff_db_prepare(ff_store_db(st), ff_store_path(st), sql, &s, "cannot read batches") < 0)
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, v);
	char *batches = NULL, *inputs = NULL, *shards = NULL, last[80] = "", last_shard[32] = "";
	size_t nb = 0, ni = 0, ns = 0;
	FILE *mb = open_memstream(&batches, &nb), *mi = open_memstream(&inputs, &ni),
	     *ms = open_memstream(&shards, &ns);
	int rc, any = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *b = (const char *)sqlite3_column_text(s, 0);
		if (strcmp(b, last) != 0) {
			fprintf(mb, "%s%s", *last ? " " : "", b);
			snprintf(last, sizeof last, "%s", b);
		}
		fprintf(mi, "%s%s=xxh3-128:%s", any ? " " : "", (const char *)sqlite3_column_text(s, 1),
			(const char *)sqlite3_column_text(s, 2));
		const char *sh = (const char *)sqlite3_column_text(s, 3);
		if (sh && strcmp(sh, last_shard) != 0) {
			fprintf(ms, "%s%s", *last_shard ? " " : "", sh);
			snprintf(last_shard, sizeof last_shard, "%s", sh);
		}
		any = 1;
	}
	sqlite3_finalize(s);
	fclose(mb);
	fclose(mi);
	fclose(ms);
	ff_report_add(out, any ? batches : NULL);
	ff_report_add(out, any ? inputs : NULL);
	ff_report_add(out, *last_shard ? shards : NULL);
	free(batches);
	free(inputs);
	free(shards);
	return rc == SQLITE_DONE ? 0 : ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read batches");
}

int ff_store_history_report(struct ff_store *st, const char *table, struct ff_report_table *out)
{
	ff_report_init(out, "version,committed_at,operation,inserted,updated,deleted,range_start,range_end,"
			    "appended_from,batches,inputs,shard");
	int64_t cur;
	struct ff_table_def def;
	int found = ff_store_table(st, table, &def, &cur);
	if (found <= 0)
		return found < 0 ? -1 : ff_error("%s: no table %s in the store", ff_store_path(st), table);
	ff_table_def_release(&def);
	int64_t n = 0;
	if (ff_db_int(ff_store_db(st), ff_store_path(st),
		      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'ff_batches'", NULL, NULL,
		      &n, "cannot read the store") < 0)
		return -1;
	int with_shard = n > 0 ? ff_db_has_column(ff_store_db(st), ff_store_path(st), "main", "ff_batches", "shard") : 0;
	if (with_shard < 0)
		return -1;
	sqlite3_stmt *s;
	if (ff_db_prepare(ff_store_db(st), ff_store_path(st),
			  "SELECT version, committed_at, operation, inserted, updated, deleted, range_start,"
			  " range_end, appended_from FROM ff_versions WHERE table_name = ?1 ORDER BY version",
			  &s, "cannot read the versions") < 0)
		return -1;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 0; i < 6; i++)
			ff_report_add(out, (const char *)sqlite3_column_text(s, i));
		for (int i = 6; i < 9; i++)
			add_time(out, sqlite3_column_type(s, i) != SQLITE_NULL, sqlite3_column_int64(s, i));
		if (add_batches(st, n > 0, with_shard > 0, table, sqlite3_column_int64(s, 0), out) < 0) {
			sqlite3_finalize(s);
			return -1;
		}
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read the versions");
}

/* ---- backup ---- */

int ff_store_backup(const char *path, const char *dest)
{
	struct stat sb;
	if (stat(dest, &sb) == 0)
		return ff_error("%s: exists; a backup goes to a new file", dest);
	struct ff_store *st = NULL;
	sqlite3 *to = NULL;
	size_t n = strlen(dest) + 32;
	char *tmp = ff_xmalloc(n);
	snprintf(tmp, n, "%s.new-%ld", dest, (long)getpid());
	int rc = -1;
	if (ff_store_open(path, FF_STORE_READ, &st) < 0)
		goto out;
	unlink(tmp);
	if (sqlite3_open_v2(tmp, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		ff_error("%s: %s", dest, to ? sqlite3_errmsg(to) : "cannot create");
		goto out;
	}
	/* One read transaction: the copy is the store as of its start, whatever
	 * a writer commits meanwhile (WAL). */
	sqlite3 *db = ff_store_db(st);
	int64_t v = 0;
	if (ff_db_exec(db, path, "BEGIN") < 0 ||
	    ff_db_int(db, path, "SELECT count(*) FROM ff_catalog", NULL, NULL, &v, "cannot read the store") < 0)
		goto out;
	sqlite3_backup *b = sqlite3_backup_init(to, "main", db, "main");
	if (!b) {
		ff_error("%s: cannot back up: %s", dest, sqlite3_errmsg(to));
		goto out;
	}
	int step = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (step != SQLITE_DONE) {
		ff_error("%s: cannot back up %s: %s", dest, path, sqlite3_errstr(step));
		goto out;
	}
	if (sqlite3_close(to) != SQLITE_OK) {
		ff_error("%s: cannot close the copy", dest);
		goto out;
	}
	to = NULL;
	int fd = open(tmp, O_RDONLY);
	if (fd < 0 || fsync(fd) < 0) {
		ff_error("%s: %s", dest, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	if (link(tmp, dest) < 0) {
		ff_error("%s: %s", dest, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (to)
		sqlite3_close(to);
	unlink(tmp);
	free(tmp);
	ff_store_close(st);
	return rc;
}

/* ---- restore ---- */

/* Put every row of the materialized temp.ff_restore through the writer. */
static int put_rows(struct ff_store *st, const struct ff_table_def *def, struct ff_table_writer *w)
{
	sqlite3_stmt *s;
	if (ff_db_prepare(ff_store_db(st), ff_store_path(st), "SELECT * FROM temp.ff_restore ORDER BY rowid", &s,
			  "cannot restore") < 0)
		return -1;
	struct ff_cell *cells = ff_xcalloc(def->ncols + 1, sizeof *cells);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (size_t i = 0; i < def->ncols; i++)
			ff_cell_column(s, (int)i, def->cols[i].type, &cells[i]);
		int col = (int)def->ncols;
		const void *state = sqlite3_column_blob(s, col);
		size_t len = (size_t)sqlite3_column_bytes(s, col);
		if (ff_table_writer_put(w, cells, state, len, 1) < 0) {
			rc = -1;
			break;
		}
	}
	free(cells);
	sqlite3_finalize(s);
	if (rc == -1)
		return -1;
	return rc == SQLITE_DONE ? 0 : ff_db_error(ff_store_db(st), ff_store_path(st), "cannot restore");
}

int ff_store_restore(struct ff_store *st, const char *table, const struct ff_as_of *a, int64_t *from,
		     struct ff_write_stats *stats)
{
	struct ff_table_def def;
	struct ff_table_writer *w = NULL;
	const char **cols = NULL;
	char *rows = NULL, *sql = NULL;
	int64_t current;
	memset(stats, 0, sizeof *stats);
	if (ff_store_begin(st) < 0)
		return -1;
	int rc = ff_store_table(st, table, &def, &current);
	if (rc <= 0) {
		if (rc == 0)
			ff_error("%s: no table %s in the store", ff_store_path(st), table);
		ff_store_rollback(st);
		return -1;
	}
	rc = -1;
	if (ff_store_as_of_version(st, table, a, from) < 0)
		goto out;
	cols = ff_xcalloc(def.ncols + 1, sizeof *cols);
	for (size_t i = 0; i < def.ncols; i++)
		cols[i] = def.cols[i].name;
	char state_name[FF_DB_IDENT_SIZE];
	snprintf(state_name, sizeof state_name, "ff_state_%s", table);
	int64_t has_state = 0;
	if (ff_db_int(ff_store_db(st), ff_store_path(st),
		      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", state_name, NULL,
		      &has_state, "cannot read the store") < 0 ||
	    ff_store_rows_sql(st, table, cols, def.ncols, *from, has_state > 0, &rows) < 0)
		goto out;
	/* The rows as of the version, before the writer changes the table. */
	sql = has_state > 0 ? sqlite3_mprintf("DROP TABLE IF EXISTS temp.ff_restore; CREATE TEMP TABLE ff_restore AS %s",
					      rows)
			    : sqlite3_mprintf("DROP TABLE IF EXISTS temp.ff_restore;"
					      " CREATE TEMP TABLE ff_restore AS SELECT *, NULL AS ff_state FROM (%s)",
					      rows);
	if (ff_db_exec(ff_store_db(st), ff_store_path(st), sql) < 0)
		goto out;
	struct ff_write_options opt = {.mode = FF_WRITE_OVERWRITE, .keep_state = has_state > 0,
				       .operation = "restore"};
	if (ff_table_writer_open(st, &def, &opt, &w) < 0 || put_rows(st, &def, w) < 0 ||
	    ff_table_writer_finish(w, stats) < 0 ||
	    ff_db_exec(ff_store_db(st), ff_store_path(st), "DROP TABLE temp.ff_restore") < 0)
		goto out;
	/* What was folded in after it is undone: it may be fed again. */
	rc = ff_store_batch_forget_after(st, table, *from);
out:
	ff_table_writer_free(w);
	if (rc == 0)
		rc = ff_store_commit(st);
	else
		ff_store_rollback(st);
	sqlite3_free(sql);
	free(rows);
	free((void *)cols);
	ff_table_def_release(&def);
	return rc;
}
