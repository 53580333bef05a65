#include "ff_pg_store.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ff_cell.h"
#include "ff_db.h"
#include "ff_pg.h"
#include "ff_pg_history.h"
#include "ff_pg_stream.h"
#include "ff_pg_table.h"
#include "ff_time.h"
#include "ff_util.h"

/* ---- the catalog tables, as ff-store(5) has them, column by column ---- */

static const struct ff_pg_col catalog_cols[] = {
	{"name", FF_PG_TEXT}, {"version", FF_PG_INT}, {"primary_keys", FF_PG_TEXT},
	{"timestamp_key", FF_PG_TEXT}, {"partition_column", FF_PG_TEXT}, {"definition", FF_PG_TEXT},
	{"spec", FF_PG_TEXT}, {"created_at", FF_PG_CLOCK}, {"updated_at", FF_PG_CLOCK},
};
static const struct ff_pg_col columns_cols[] = {
	{"table_name", FF_PG_TEXT}, {"position", FF_PG_INT}, {"name", FF_PG_TEXT},
	{"type", FF_PG_TEXT}, {"role", FF_PG_TEXT}, {"description", FF_PG_TEXT},
};
static const struct ff_pg_col versions_cols[] = {
	{"table_name", FF_PG_TEXT}, {"version", FF_PG_INT}, {"operation", FF_PG_TEXT},
	{"committed_at", FF_PG_CLOCK}, {"inserted", FF_PG_INT}, {"updated", FF_PG_INT},
	{"deleted", FF_PG_INT}, {"range_start", FF_PG_EPOCH}, {"range_end", FF_PG_EPOCH},
	{"appended_from", FF_PG_EPOCH}, {"shard", FF_PG_TEXT},
};
static const struct ff_pg_col batches_cols[] = {
	{"table_name", FF_PG_TEXT}, {"batch", FF_PG_TEXT}, {"input_hash", FF_PG_TEXT},
	{"input_name", FF_PG_TEXT}, {"mode", FF_PG_TEXT}, {"range_start", FF_PG_EPOCH},
	{"range_end", FF_PG_EPOCH}, {"version", FF_PG_INT}, {"rows", FF_PG_INT},
	{"first_window", FF_PG_EPOCH}, {"last_window", FF_PG_EPOCH}, {"folded_at", FF_PG_CLOCK},
	{"shard", FF_PG_TEXT},
};
static const struct ff_pg_col info_cols[] = {{"id", FF_PG_TEXT}, {"created_at", FF_PG_CLOCK}};

struct cat_table {
	const char *name;
	const struct ff_pg_col *cols;
	size_t ncols;
	const char *pk;          /* PostgreSQL primary key, or NULL */
	const char *by_table;    /* the column naming the feature table, or NULL */
};
#define CAT(name, cols, pk, by) {name, cols, sizeof cols / sizeof *cols, pk, by}
enum { CAT_CATALOG, CAT_COLUMNS, CAT_VERSIONS, CAT_BATCHES, CAT_INFO, NCAT };
static const struct cat_table cat[NCAT] = {
	CAT("ff_catalog", catalog_cols, "name", "name"),
	CAT("ff_columns", columns_cols, "table_name, position", "table_name"),
	CAT("ff_versions", versions_cols, "table_name, version", "table_name"),
	CAT("ff_batches", batches_cols, NULL, "table_name"),
	CAT("ff_store_info", info_cols, NULL, NULL),
};

/* The longest name PostgreSQL keeps whole (NAMEDATALEN - 1). */
#define PG_NAME_MAX 63

/* ---- PostgreSQL to SQLite ---- */

/* The rows of a shard's keys (fields keys of a row). */
struct owned {
	const struct ff_shard *shard;
	const size_t *keys;
	size_t nkeys;
};

static int owned_row(void *ctx, const struct ff_cell *f)
{
	const struct owned *o = ctx;
	const char *v[FF_SHARD_KEYS_MAX];
	size_t l[FF_SHARD_KEYS_MAX];
	for (size_t k = 0; k < o->nkeys; k++) {
		v[k] = f[o->keys[k]].s ? f[o->keys[k]].s : "";
		l[k] = f[o->keys[k]].len;
	}
	return ff_shard_owns(o->shard, v, l, o->nkeys);
}

/* Copy the rows of "from" (a PostgreSQL table and condition) into the
 * SQLite table qtable of st, keeping only shard's keys (fields keys). */
static int pull(struct ff_pg *pg, struct ff_store *st, const char *qtable, const struct ff_pg_col *cols,
		size_t ncols, const char *from, const struct ff_shard *shard, const size_t *keys, size_t nkeys)
{
	struct owned o = {shard, keys, nkeys};
	return ff_pg_copy_to_db(pg, cols, ncols, from, ff_store_db(st), ff_store_path(st), qtable,
				shard && shard->n ? owned_row : NULL, &o);
}

/* A catalog table's rows (those of table, if given) into the copy. */
static int pull_catalog(struct ff_pg *pg, struct ff_store *st, int which, const char *table)
{
	const struct cat_table *c = &cat[which];
	char *from, q[FF_DB_IDENT_SIZE];
	size_t size;
	FILE *m = ff_pg_sql_open(&from, &size);
	fputs(c->name, m);
	if (table && c->by_table) {
		fprintf(m, " WHERE %s = ", c->by_table);
		ff_pg_literal(m, table);
	}
	ff_pg_sql_close(m, &from);
	ff_db_quote(q, sizeof q, c->name);
	size_t ncols = c->ncols;
	if (which == CAT_VERSIONS) {
		/* A store written before versions had shards: every key's (NULL). */
		char *has = NULL;
		if (ff_pg_value(pg, "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
				" AND table_name = 'ff_versions' AND column_name = 'shard'", 0, NULL, &has,
				"cannot read the catalog") < 0) {
			free(from);
			return -1;
		}
		if (!has)
			ncols--;
		free(has);
	}
	int rc = pull(pg, st, q, c->cols, ncols, from, NULL, NULL, 0);
	free(from);
	return rc;
}

/* A feature table's rows, states or change feed into the copy. */
static int pull_side(struct ff_pg *pg, struct ff_store *st, const char *qtable, const struct ff_pg_col *cols,
		     size_t ncols, const struct ff_shard *shard, const size_t *keys, size_t nkeys)
{
	return pull(pg, st, qtable, cols, ncols, qtable, shard, keys, nkeys);
}

/* Remove what runs killed before they could left in dir: the private
 * copies ff-pg-PID-* of processes that are gone. */
static void remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		long pid;
		int end = 0;
		if (sscanf(e->d_name, "ff-pg-%ld-%*u.db%n", &pid, &end) != 1 || !end || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

/* A private store in TMPDIR: ff_store_open makes it under a temporary name
 * (removed by ff_store_close) and gives it this name on commit. */
static char *copy_path(void)
{
	static unsigned seq;
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	if (seq == 0)
		remove_stale(dir);
	char path[4096];
	snprintf(path, sizeof path, "%s/ff-pg-%ld-%u.db", dir, (long)getpid(), seq++);
	return ff_xstrdup(path);
}

/* A fresh private store inside its transaction, with the catalog tables
 * and the identity of the PostgreSQL store (none if it has none). */
static int open_copy(struct ff_pg *pg, const char *path, int has_catalog, struct ff_store **out)
{
	struct ff_store *st = NULL;
	*out = NULL;
	/* ff_store_begin makes an identity for a store without one: the
	 * PostgreSQL store's replaces it, or a first write pushes it. */
	if (ff_store_open(path, FF_STORE_WRITE, &st) < 0 || ff_store_begin(st) < 0 ||
	    ff_store_batch_table(st) < 0)
		goto fail;
	if (has_catalog) {
		int has_info = ff_pg_has(pg, "ff_store_info");
		char *id = NULL;
		if (has_info < 0 || (has_info && ff_pg_value(pg, "SELECT id FROM ff_store_info LIMIT 1", 0, NULL, &id,
							    "cannot read the identity") < 0))
			goto fail;
		int rc = !id ? 0 : ff_db_exec(ff_store_db(st), path, "DELETE FROM ff_store_info") < 0 ? -1
			: pull_catalog(pg, st, CAT_INFO, NULL);
		free(id);
		if (rc < 0)
			goto fail;
	}
	*out = st;
	return 0;
fail:
	ff_store_close(st);
	return -1;
}

/* ---- readers ---- */

/* A private copy of a store for the readers of this process, as of one
 * snapshot, which the transaction that made it keeps open (exported, so
 * that rows read later through other connections are of that snapshot). */
struct copy {
	char *conninfo, *file, *snapshot;
	char *const *only;     /* a sync's copy: only these tables, each */
	const int64_t *since;  /* all (-1) or changed after a version */
	size_t nonly;
	struct ff_pg *pg;      /* its transaction */
	struct copy *next;
};
static struct copy *copies;
static pthread_mutex_t copies_mu = PTHREAD_MUTEX_INITIALIZER;

static void copy_free(struct copy *c);

static void remove_copies(void)
{
	while (copies) {
		struct copy *c = copies;
		copies = c->next;
		copy_free(c);
	}
}

static void copy_free(struct copy *c)
{
	char side[4200];
	unlink(c->file);
	snprintf(side, sizeof side, "%s-wal", c->file);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", c->file);
	unlink(side);
	ff_pg_close(c->pg);
	free(c->conninfo);
	free(c->file);
	free(c->snapshot);
	free(c);
}

void ff_pg_store_forget(const char *conninfo)
{
	pthread_mutex_lock(&copies_mu);
	for (struct copy **p = &copies; *p;) {
		struct copy *c = *p;
		if (strcmp(c->conninfo, conninfo) == 0) {
			*p = c->next;
			copy_free(c);
		} else {
			p = &c->next;
		}
	}
	pthread_mutex_unlock(&copies_mu);
}

/* What a copy holds of a table: its rows, change feed and history
 * (COPY_ALL), its rows and history (COPY_AS_OF: since -1 of a copy of some
 * tables), nothing (COPY_NONE), or what a sync from version since reads
 * (since, 0 or more). */
enum { COPY_ALL = -1, COPY_NONE = -2, COPY_AS_OF = -3 };
static int64_t copy_mode(const struct copy *cp, const char *table)
{
	for (size_t i = 0; cp->only && i < cp->nonly; i++)
		if (strcmp(cp->only[i], table) == 0)
			return cp->since[i] < 0 ? COPY_AS_OF : cp->since[i];
	return COPY_NONE;
}

/* The rows a sync of the table from version since reads (ff_online.c,
 * apply_changes): the change feed after it, the rows it names and those
 * appended after since. */
static int pull_changed(struct ff_pg *pg, struct ff_store *st, const struct ff_pg_table *c, int64_t since)
{
	int64_t appended = 0;
	int found = ff_store_appended_from(st, c->name, since, &appended);
	char *from, q[FF_DB_IDENT_SIZE];
	size_t size;
	FILE *m = ff_pg_sql_open(&from, &size);
	fprintf(m, "%s WHERE version > %" PRId64, c->qchanges, since);
	ff_pg_sql_close(m, &from);
	int rc = found < 0 ? -1 : pull(pg, st, c->qchanges, c->changes, c->nchanges, from, NULL, NULL, 0);
	free(from);
	m = ff_pg_sql_open(&from, &size);
	fprintf(m, "%s AS t WHERE EXISTS (SELECT 1 FROM %s AS c WHERE c.version > %" PRId64, c->q, c->qchanges, since);
	for (size_t i = 0; i < c->npk; i++) {
		ff_db_quote(q, sizeof q, c->pk[i].name);
		fprintf(m, " AND c.%s = t.%s", q, q);
	}
	fputc(')', m);
	ff_db_quote(q, sizeof q, c->pk[0].name);
	if (found)
		fprintf(m, " OR t.%s >= to_timestamp(%" PRId64 ")::timestamp", q, appended);
	ff_pg_sql_close(m, &from);
	if (rc == 0)
		rc = pull(pg, st, c->q, c->rows, c->nrows, from, NULL, NULL, 0);
	free(from);
	return rc;
}

/* Copy the catalog and what copy_mode says of each table (never the
 * window states, which only writers read) into a new file. */
static int make_copy(struct copy *cp, const char *snapshot)
{
	struct ff_store *st = NULL;
	char **tables = NULL, *set = NULL;
	size_t size;
	int rc = -1;
	FILE *m = ff_pg_sql_open(&set, &size);
	fputs("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", m);
	if (snapshot) {
		/* As of the snapshot of the process's other copy: one store. */
		fputs("; SET TRANSACTION SNAPSHOT ", m);
		ff_pg_literal(m, snapshot);
	}
	ff_pg_sql_close(m, &set);
	if (ff_pg_connect(cp->conninfo, &cp->pg) < 0 || ff_pg_exec(cp->pg, set, "cannot read the store") < 0 ||
	    ff_pg_value(cp->pg, "SELECT pg_export_snapshot()", 0, NULL, &cp->snapshot, "cannot read the store") < 0)
		goto out;
	int has = ff_pg_has(cp->pg, "ff_catalog");
	if (has <= 0) {
		if (has == 0)
			ff_error("%s: not an ff store (no ff_catalog)", cp->conninfo);
		goto out;
	}
	if (open_copy(cp->pg, cp->file, 1, &st) < 0)
		goto out;
	for (int i = CAT_CATALOG; i < CAT_INFO; i++)
		if (pull_catalog(cp->pg, st, i, NULL) < 0)
			goto out;
	if (ff_pg_history_pull_catalog(cp->pg, st) < 0 || ff_store_tables(st, &tables) < 0)
		goto out;
	for (size_t i = 0; tables[i]; i++) {
		struct ff_table_def def;
		if (ff_store_table(st, tables[i], &def, NULL) <= 0)
			goto out;
		int64_t mode = copy_mode(cp, tables[i]);
		if (mode == COPY_NONE) {
			/* Whether the table has a history (its rows: not copied). */
			int ok = ff_pg_history_stub(cp->pg, st, &def) == 0;
			ff_table_def_release(&def);
			if (!ok)
				goto out;
			continue;
		}
		struct ff_pg_table c;
		ff_pg_table_init(&c, &def);
		int has_changes = ff_pg_has(cp->pg, c.qchanges);
		if (mode >= 0 && has_changes == 0)
			mode = COPY_ALL; /* no feed to follow: the sync copies it whole */
		int ok = has_changes >= 0 && ff_store_create_table(st, &def, 0) == 0;
		if (ok && mode >= 0)
			ok = pull_changed(cp->pg, st, &c, mode) == 0;
		else if (ok)
			ok = pull_side(cp->pg, st, c.q, c.rows, c.nrows, NULL, NULL, 0) == 0 &&
			 (!has_changes || mode == COPY_AS_OF ||
			  pull_side(cp->pg, st, c.qchanges, c.changes, c.nchanges, NULL, NULL, 0) == 0) &&
			 ff_pg_history_pull(cp->pg, st, &def) == 0;
		ff_pg_table_release(&c);
		ff_table_def_release(&def);
		if (!ok)
			goto out;
	}
	rc = ff_store_commit(st);
out:
	free(set);
	if (tables)
		for (size_t i = 0; tables[i]; i++)
			free(tables[i]);
	free(tables);
	ff_store_close(st);
	return rc;
}

/* The process's copy of conninfo (of its catalog at least), made if need
 * be; called with copies_mu held. */
static struct copy *get_copy(const char *conninfo)
{
	for (struct copy *c = copies; c; c = c->next)
		if (strcmp(c->conninfo, conninfo) == 0)
			return c;
	struct copy *c = ff_xcalloc(1, sizeof *c);
	c->conninfo = ff_xstrdup(conninfo);
	c->file = copy_path();
	if (make_copy(c, NULL) < 0) {
		copy_free(c);
		return NULL;
	}
	if (!copies)
		atexit(remove_copies);
	c->next = copies;
	copies = c;
	return c;
}

/* A new copy of the tables only (modes since, copy_mode), as of snapshot
 * (NULL: a new one), kept for the process. */
static struct copy *copy_only(const char *conninfo, char *const *tables, const int64_t *since, size_t n,
			      const char *snapshot)
{
	struct copy *c = ff_xcalloc(1, sizeof *c);
	c->conninfo = ff_xstrdup(conninfo);
	pthread_mutex_lock(&copies_mu);
	c->file = copy_path();
	pthread_mutex_unlock(&copies_mu);
	c->only = tables;
	c->since = since;
	c->nonly = n;
	int rc = make_copy(c, snapshot);
	c->only = NULL; /* the caller's */
	c->since = NULL;
	if (rc < 0) {
		copy_free(c);
		return NULL;
	}
	pthread_mutex_lock(&copies_mu);
	if (!copies)
		atexit(remove_copies);
	c->next = copies;
	copies = c;
	pthread_mutex_unlock(&copies_mu);
	return c;
}

const char *ff_pg_store_file_since(const char *conninfo, char *const *tables, const int64_t *since, size_t n)
{
	ff_pg_store_forget(conninfo);
	struct copy *c = copy_only(conninfo, tables, since, n, NULL);
	return c ? c->file : NULL;
}

const char *ff_pg_store_table_file(const char *conninfo, const char *table)
{
	pthread_mutex_lock(&copies_mu);
	struct copy *base = get_copy(conninfo);
	char *snapshot = base ? ff_xstrdup(base->snapshot) : NULL;
	pthread_mutex_unlock(&copies_mu);
	char *only[1] = {(char *)table};
	const int64_t mode[1] = {-1};
	struct copy *c = snapshot ? copy_only(conninfo, only, mode, 1, snapshot) : NULL;
	free(snapshot);
	return c ? c->file : NULL;
}

int ff_pg_store_open_as_of(const char *conninfo, const char *table, struct ff_store **out)
{
	*out = NULL;
	const char *file = ff_pg_store_table_file(conninfo, table);
	if (!file || ff_store_open(file, FF_STORE_READ, out) < 0)
		return -1;
	ff_store_set_name(*out, conninfo);
	return 0;
}

int ff_pg_store_open(const char *conninfo, struct ff_store **out)
{
	*out = NULL;
	pthread_mutex_lock(&copies_mu);
	struct copy *c = get_copy(conninfo);
	pthread_mutex_unlock(&copies_mu);
	if (!c || ff_store_open(c->file, FF_STORE_READ, out) < 0)
		return -1;
	ff_store_set_name(*out, conninfo);
	return 0;
}

int ff_pg_store_figures(const char *conninfo, const struct ff_table_def *def, struct ff_pg_figures *f)
{
	struct ff_pg_table c;
	ff_pg_table_init(&c, def);
	char qts[FF_DB_IDENT_SIZE], *sql, *v = NULL;
	ff_db_quote(qts, sizeof qts, c.pk[0].name);
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "SELECT concat_ws(' ', (SELECT count(*) FROM %s), (SELECT count(*) FROM (SELECT DISTINCT ", c.q);
	for (size_t k = 0; k < c.nkeys; k++)
		ff_pg_names(m, &c.rows[c.row_keys[k]], 1, k ? ", " : "");
	fprintf(m, "%s FROM %s) AS k)", c.nkeys ? "" : "1", c.q);
	/* Sizes of tables that may be missing: 0. */
	const char *side[5] = {c.q, c.qchanges, c.qstate, c.qhistory, c.qhiststate};
	for (int t = 0; t < 5; t++) {
		fputs(t == 0 || t == 3 ? ", " : " + ", m);
		fputs("coalesce(pg_total_relation_size(to_regclass(", m);
		ff_pg_literal(m, side[t]);
		fputs(")), 0)", m);
	}
	fprintf(m, ", (SELECT floor(extract(epoch FROM min(%s)))::bigint FROM %s),"
		   " (SELECT floor(extract(epoch FROM max(%s)))::bigint FROM %s))", qts, c.q, qts, c.q);
	ff_pg_sql_close(m, &sql);
	pthread_mutex_lock(&copies_mu);
	struct copy *cp = get_copy(conninfo);
	/* In the copy's transaction: as of its snapshot. */
	int rc = !cp ? -1 : ff_pg_value(cp->pg, sql, 0, NULL, &v, "cannot read the table");
	pthread_mutex_unlock(&copies_mu);
	long long x[6] = {0};
	int n = v ? sscanf(v, "%lld %lld %lld %lld %lld %lld", &x[0], &x[1], &x[2], &x[3], &x[4], &x[5]) : 0;
	if (rc == 0 && n != 4 && n != 6)
		rc = ff_error("%s: table %s: cannot read its figures", conninfo, def->name);
	*f = (struct ff_pg_figures){x[0], c.nkeys ? x[1] : 0, x[4], x[5], n == 6, x[2], x[3]};
	free(v);
	free(sql);
	ff_pg_table_release(&c);
	return rc;
}

int ff_pg_store_rows(const char *conninfo, const struct ff_table_def *def, const size_t *cols, size_t n,
		     ff_pg_row_fn fn, void *ctx)
{
	pthread_mutex_lock(&copies_mu);
	struct copy *c = get_copy(conninfo);
	char *snapshot = c ? ff_xstrdup(c->snapshot) : NULL;
	pthread_mutex_unlock(&copies_mu);
	if (!snapshot)
		return -1;
	struct ff_pg *pg = NULL;
	struct ff_pg_col *pc = ff_xcalloc(n ? n : 1, sizeof *pc);
	for (size_t i = 0; i < n; i++)
		pc[i] = (struct ff_pg_col){def->cols[cols[i]].name, ff_pg_kind_of(def->cols[cols[i]].type)};
	char *set = NULL;
	size_t size;
	FILE *m = ff_pg_sql_open(&set, &size);
	fputs("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT ", m);
	ff_pg_literal(m, snapshot);
	ff_pg_sql_close(m, &set);
	/* In the heap's order: the loader sorts each key's rows by time. */
	char q[FF_DB_IDENT_SIZE];
	ff_db_quote(q, sizeof q, def->name);
	char *from = ff_xstrdup(q);
	int rc = ff_pg_connect(conninfo, &pg) < 0 || ff_pg_exec(pg, set, "cannot read the store") < 0 ||
			 ff_pg_copy_out(pg, pc, n, from, fn, ctx) < 0 || ff_pg_exec(pg, "COMMIT", "cannot read the store") < 0
		 ? -1 : 0;
	free(from);
	ff_pg_close(pg);
	free(set);
	free(pc);
	free(snapshot);
	return rc;
}

/* ---- writers ---- */

/* Bytes of rows sent by one COPY while the run computes. */
#define STREAM_BUFFER (1 << 20)

/* A table whose new rows go to its staging table as they are written. */
struct streamed {
	int on;
	struct ff_pg_table c;
	struct ff_pg_rows rows;  /* not sent yet */
	char stage[64];
	/* A table the write creates is not watched by triggers (they cost a
	 * fifth of the run's CPU): ff_pg_writer_put records the keys of the
	 * rows it writes, the only ones not streamed. */
	const struct ff_table_def *def;
	sqlite3_stmt *touch;     /* INSERT OR IGNORE INTO the touched keys */
};

/* A table a merge reads from PostgreSQL as it goes: the rows of the days
 * from its latest on (enough for the latest row of the keys written,
 * which tells new rows from stored ones), earlier days when a late window
 * reaches them (ff_pg_writer_need). */
struct lazy {
	int on;               /* rows before from are not in the copy yet */
	struct ff_table_def def;
	struct ff_pg_table c;
	int64_t from;         /* the copy holds the rows at or after it (seconds) */
	int64_t first, last;  /* the earliest and latest row in PostgreSQL */
	int64_t copied;       /* rows copied, for -v */
};

struct ff_pg_writer {
	struct ff_pg *pg;      /* the push's connection */
	struct ff_pg *snap;    /* the copy's reads: the snapshot, then the days a merge reaches */
	struct ff_store *st;
	char *path;
	size_t n;
	char **tables;
	int64_t *base;         /* each table's version when copied, 0 if none */
	struct ff_shard shard;
	int64_t batches_seen;  /* the copied batches' largest rowid */
	char tag[17];          /* names this run's staging tables: 64 random bits */
	int begun;             /* the push's transaction is open */
	int fast;              /* ff_table_writer_put_new is writing: the triggers leave its rows out */
	int pulling;           /* stored rows are being copied in: the triggers leave them out */
	struct lazy *lazy;     /* per table */
	struct ff_pg_stream *stream; /* sending streamed rows (started with the first buffer) */
	struct streamed *streamed;   /* per table */
};

/* The staging table of table i's rows or states. */
static void stage_name(const struct ff_pg_writer *w, size_t i, int rows, char buf[64])
{
	snprintf(buf, 64, "ff_stage_%s_%zu_%s", w->tag, i, rows ? "rows" : "states");
}

struct ff_store *ff_pg_writer_store(struct ff_pg_writer *w) { return w->st; }

void ff_pg_writer_close(struct ff_pg_writer *w)
{
	if (!w)
		return;
	ff_pg_stream_finish(w->stream, 1);
	ff_store_close(w->st);
	ff_pg_close(w->pg); /* a transaction left open is rolled back */
	ff_pg_close(w->snap);
	for (size_t i = 0; i < w->n; i++) {
		free(w->tables[i]);
		if (w->lazy[i].def.name) {
			ff_pg_table_release(&w->lazy[i].c);
			ff_table_def_release(&w->lazy[i].def);
		}
		if (w->streamed[i].on)
			ff_pg_table_release(&w->streamed[i].c);
		sqlite3_finalize(w->streamed[i].touch);
		ff_pg_rows_release(&w->streamed[i].rows);
	}
	free(w->streamed);
	free(w->lazy);
	free(w->tables);
	free(w->base);
	free(w->path);
	free(w);
}

/* What watch records of the write's changes: all of them; all but the
 * rows ff_pg_writer_put_new streams; or none (a table the write creates:
 * the temporary tables alone, for ff_pg_writer_put). */
enum watching { WATCH_ALL, WATCH_UNSTREAMED, WATCH_NONE };

/* Record the keys of the rows (and states) the write changes: triggers on
 * the copy, into temporary tables (made again on a table made again). */
static int watch(struct ff_pg_writer *w, const struct ff_pg_table *c, enum watching what)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	const char *tt[2] = {c->qtouched, c->qtouched_state}, *on[2] = {c->q, c->qstate};
	for (int t = 0; t < 2; t++) {
		fprintf(m, "CREATE TEMP TABLE IF NOT EXISTS %s (", tt[t]);
		char q[FF_DB_IDENT_SIZE];
		for (size_t i = 0; i < c->npk; i++) {
			ff_db_quote(q, sizeof q, c->pk[i].name);
			fprintf(m, "%s%s %s NOT NULL", i ? ", " : "", q, c->pk[i].kind == FF_PG_TEXT ? "TEXT" : "INTEGER");
		}
		fputs(", PRIMARY KEY (", m);
		ff_pg_names(m, c->pk, c->npk, "");
		fputs(")) WITHOUT ROWID;\n", m);
		static const char *const events[] = {"INSERT", "UPDATE", "DELETE"};
		for (int e = 0; e < 3; e++) {
			fprintf(m, "DROP TRIGGER IF EXISTS temp.\"ff_watch_%d_%d_%s\";\n", t, e, c->name);
			if (what == WATCH_NONE)
				continue;
			const char *when = t || e ? "" : what == WATCH_ALL ? " WHEN NOT ff_pg_pulling()"
						    : " WHEN NOT ff_pg_fast() AND NOT ff_pg_pulling()";
			fprintf(m, "CREATE TEMP TRIGGER \"ff_watch_%d_%d_%s\" AFTER %s ON main.%s%s BEGIN INSERT OR IGNORE"
				   " INTO %s VALUES (", t, e, c->name, events[e], on[t], when, tt[t]);
			ff_pg_names(m, c->pk, c->npk, e == 2 ? "OLD." : "NEW.");
			fputs("); END;\n", m);
		}
	}
	ff_pg_sql_close(m, &sql);
	int rc = ff_db_exec(ff_store_db(w->st), ff_store_path(w->st), sql);
	free(sql);
	return rc;
}

static void sql_fast(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	const struct ff_pg_writer *w = sqlite3_user_data(ctx);
	sqlite3_result_int(ctx, w->fast);
}

static void sql_pulling(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	const struct ff_pg_writer *w = sqlite3_user_data(ctx);
	sqlite3_result_int(ctx, w->pulling);
}

static char *copy_text(struct ff_pg_writer *w, const char *sql, const char *arg, int64_t n);

#define DAY 86400

/* The stored rows of lazy table i with times in [lo, hi) (seconds;
 * INT64_MIN, INT64_MAX: unbounded) of the shard's keys into the copy,
 * each range in a transaction of its own (ff_pg_writer_open). */
static int pull_range(struct ff_pg_writer *w, struct lazy *lz, int64_t lo, int64_t hi)
{
	char *from;
	size_t size;
	FILE *m = ff_pg_sql_open(&from, &size);
	fprintf(m, "%s WHERE true", lz->c.q);
	char q[FF_DB_IDENT_SIZE];
	ff_db_quote(q, sizeof q, lz->c.pk[0].name);
	/* (The session's TimeZone is UTC: ff_pg_connect.) */
	if (lo != INT64_MIN)
		fprintf(m, " AND %s >= to_timestamp(%" PRId64 ")::timestamp", q, lo);
	if (hi != INT64_MAX)
		fprintf(m, " AND %s < to_timestamp(%" PRId64 ")::timestamp", q, hi);
	ff_pg_sql_close(m, &from);
	int64_t before = sqlite3_total_changes64(ff_store_db(w->st));
	w->pulling = 1;
	int rc = pull(w->snap, w->st, lz->c.q, lz->c.rows, lz->c.nrows, from, &w->shard, lz->c.row_keys,
		      lz->c.nkeys);
	w->pulling = 0;
	lz->copied += sqlite3_total_changes64(ff_store_db(w->st)) - before;
	free(from);
	return rc;
}

/* The start of the UTC day of t. */
static int64_t day_of(int64_t t) { return t - (((t % DAY) + DAY) % DAY); }

/* Copy the rows of table i that a merge needs first: from the day of
 * the latest row on, further back (doubling) until the copy holds a row of
 * the shard's keys: its latest is then the latest PostgreSQL holds of
 * them, which tells the write's new rows from stored ones. */
static int lazy_start(struct ff_pg_writer *w, size_t i)
{
	struct lazy *lz = &w->lazy[i];
	char *sql, *times = NULL;
	size_t size;
	if (ff_store_table(w->st, w->tables[i], &lz->def, NULL) <= 0) {
		memset(&lz->def, 0, sizeof lz->def);
		return ff_error("%s: table %s: not in the copy", ff_pg_name(w->snap), w->tables[i]);
	}
	ff_pg_table_init(&lz->c, &lz->def);
	char q[FF_DB_IDENT_SIZE];
	ff_db_quote(q, sizeof q, lz->c.pk[0].name);
	FILE *m = ff_pg_sql_open(&sql, &size);
	/* "first last", NULL for no rows. */
	fprintf(m, "SELECT floor(extract(epoch FROM min(%s)))::bigint || ' ' || floor(extract(epoch FROM max(%s)))::bigint"
		   " FROM %s", q, q, lz->c.q);
	ff_pg_sql_close(m, &sql);
	int rc = ff_pg_value(w->snap, sql, 0, NULL, &times, "cannot read the table");
	free(sql);
	long long first = 0, last = 0;
	if (rc == 0 && times && sscanf(times, "%lld %lld", &first, &last) != 2)
		rc = ff_error("%s: table %s: cannot read its times", ff_pg_name(w->snap), w->tables[i]);
	int none = !times;
	free(times);
	if (rc < 0 || none)
		return rc; /* no rows: none to copy */
	lz->first = first;
	lz->last = last;
	lz->from = day_of(lz->last);
	if (lz->from <= lz->first)
		lz->from = INT64_MIN;
	if (pull_range(w, lz, lz->from, INT64_MAX) < 0)
		return -1;
	m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "SELECT EXISTS (SELECT 1 FROM main.%s)", lz->c.q);
	ff_pg_sql_close(m, &sql);
	for (int64_t span = DAY; lz->from != INT64_MIN; span *= 2) {
		char *any = copy_text(w, sql, "", 0);
		if (!any) {
			free(sql);
			return -1;
		}
		int found = strcmp(any, "1") == 0;
		free(any);
		if (found)
			break;
		int64_t lo = lz->from - span <= lz->first ? INT64_MIN : lz->from - span;
		if (pull_range(w, lz, lo, lz->from) < 0) {
			free(sql);
			return -1;
		}
		lz->from = lo;
	}
	free(sql);
	lz->on = lz->from != INT64_MIN;
	return 0;
}

int ff_pg_writer_need(struct ff_pg_writer *w, size_t i, int64_t ts)
{
	struct lazy *lz = &w->lazy[i];
	int64_t t = ff_floor_div(ts, FF_USEC);
	if (!lz->on || t >= lz->from)
		return 0;
	/* Back to the day of t, and at least twice as far as before: a run
	 * of late windows copies few ranges. */
	int64_t lo = day_of(t), wide = lz->from - (lz->last - lz->from + DAY);
	if (wide < lo)
		lo = wide;
	if (lo <= lz->first)
		lo = INT64_MIN;
	if (pull_range(w, lz, lo, lz->from) < 0)
		return -1;
	lz->from = lo;
	lz->on = lo != INT64_MIN;
	return 0;
}

int64_t ff_pg_writer_copied(const struct ff_pg_writer *w, size_t i) { return w->lazy[i].copied; }

int ff_pg_writer_open(const char *conninfo, const char *const *tables, size_t n,
		      const struct ff_shard *shard, int merge, struct ff_pg_writer **out)
{
	struct ff_pg_writer *w = ff_xcalloc(1, sizeof *w);
	*out = NULL;
	w->n = n;
	w->tables = ff_xcalloc(n ? n : 1, sizeof *w->tables);
	w->base = ff_xcalloc(n ? n : 1, sizeof *w->base);
	w->streamed = ff_xcalloc(n ? n : 1, sizeof *w->streamed);
	w->lazy = ff_xcalloc(n ? n : 1, sizeof *w->lazy);
	for (size_t i = 0; i < n; i++)
		w->tables[i] = ff_xstrdup(tables[i]);
	if (shard)
		w->shard = *shard;
	w->path = copy_path();
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
	snprintf(w->tag, sizeof w->tag, "%016" PRIx64, r);
	for (size_t i = 0; i < n; i++) {
		if (!ff_is_identifier(tables[i])) {
			ff_error("%s: bad table name '%s'", conninfo, tables[i]);
			goto fail;
		}
		/* PostgreSQL cuts names at 63 bytes: ff_changes_NAME must fit. */
		if (strlen(tables[i]) > PG_NAME_MAX - strlen("ff_changes_")) {
			ff_error("%s: table name %s is %zu bytes long, more than the %zu a PostgreSQL store takes",
				 conninfo, tables[i], strlen(tables[i]), PG_NAME_MAX - strlen("ff_changes_"));
			goto fail;
		}
	}
	if (ff_pg_connect(conninfo, &w->snap) < 0 ||
	    ff_pg_exec(w->snap, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "cannot read the store") < 0)
		goto fail;
	int has_catalog = ff_pg_has(w->snap, "ff_catalog");
	if (has_catalog < 0 || open_copy(w->snap, w->path, has_catalog, &w->st) < 0)
		goto fail;
	ff_store_set_name(w->st, conninfo); /* never committed: only messages name it */
	if (sqlite3_create_function(ff_store_db(w->st), "ff_pg_fast", 0, SQLITE_UTF8, w, sql_fast, NULL, NULL) !=
		    SQLITE_OK ||
	    sqlite3_create_function(ff_store_db(w->st), "ff_pg_pulling", 0, SQLITE_UTF8, w, sql_pulling, NULL, NULL) !=
		    SQLITE_OK) {
		ff_db_error(ff_store_db(w->st), w->path, "cannot set up the copy");
		goto fail;
	}
	for (size_t i = 0; i < n && has_catalog; i++) {
		if (pull_catalog(w->snap, w->st, CAT_CATALOG, tables[i]) < 0 ||
		    pull_catalog(w->snap, w->st, CAT_COLUMNS, tables[i]) < 0 ||
		    pull_catalog(w->snap, w->st, CAT_BATCHES, tables[i]) < 0)
			goto fail;
		struct ff_table_def def;
		int found = ff_store_table(w->st, tables[i], &def, &w->base[i]);
		if (found < 0)
			goto fail;
		if (!found)
			continue;
		struct ff_pg_table c;
		ff_pg_table_init(&c, &def);
		int64_t before = sqlite3_total_changes64(ff_store_db(w->st));
		int ok = ff_store_create_table(w->st, &def, 1) == 0 &&
			 (merge ? lazy_start(w, i)
				: pull_side(w->snap, w->st, c.q, c.rows, c.nrows, &w->shard, c.row_keys, c.nkeys)) == 0;
		if (ok && !merge)
			w->lazy[i].copied = sqlite3_total_changes64(ff_store_db(w->st)) - before;
		ok = ok && pull_side(w->snap, w->st, c.qstate, c.state, c.nstate, &w->shard, c.state_keys, c.nkeys) == 0 &&
		     watch(w, &c, WATCH_ALL) == 0;
		ff_pg_table_release(&c);
		ff_table_def_release(&def);
		if (!ok)
			goto fail;
	}
	sqlite3_stmt *s;
	if (ff_db_prepare(ff_store_db(w->st), w->path, "SELECT coalesce(max(rowid), 0) FROM ff_batches", &s,
			  "cannot read batches") < 0)
		goto fail;
	if (sqlite3_step(s) == SQLITE_ROW)
		w->batches_seen = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	/* The snapshot read, its locks let go: a run computing holds no lock
	 * on its tables (another shard's push may build a key again). The
	 * days a merge reads later come in transactions of their own: the
	 * rows of this run's keys are those of the snapshot, unless another
	 * run whose keys meet ours wrote them, and then the push fails
	 * (check_meanwhile). The push has a connection of its own. */
	if (ff_pg_exec(w->snap, "COMMIT", "cannot read the store") < 0 || ff_pg_connect(conninfo, &w->pg) < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	ff_pg_writer_close(w);
	return -1;
}

/* ---- pushing a write ---- */

/* The catalog tables, for a store's first write. */
static int bootstrap(struct ff_pg *pg)
{
	char *sql, q[FF_DB_IDENT_SIZE];
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	for (int t = 0; t < NCAT; t++) {
		fprintf(m, "CREATE TABLE IF NOT EXISTS %s (", cat[t].name);
		for (size_t i = 0; i < cat[t].ncols; i++) {
			ff_db_quote(q, sizeof q, cat[t].cols[i].name);
			fprintf(m, "%s%s %s", i ? ", " : "", q, ff_pg_type(cat[t].cols[i].kind));
		}
		if (cat[t].pk)
			fprintf(m, ", PRIMARY KEY (%s)", cat[t].pk);
		fputs(");\n", m);
	}
	fputs("CREATE INDEX IF NOT EXISTS ff_batches_input ON ff_batches (table_name, input_hash);", m);
	/* A store made before versions had shards gets their column (looked
	 * for first: ALTER TABLE would wait for every reader of the table). */
	fputs("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema ="
	      " current_schema() AND table_name = 'ff_versions' AND column_name = 'shard') THEN"
	      " ALTER TABLE ff_versions ADD COLUMN shard text; END IF; END $$;", m);
	int rc = ff_pg_sql_exec(pg, m, &sql, "cannot create the catalog");
	return rc;
}

static int copy_in(struct ff_pg_writer *w, const char *qtable, const struct ff_pg_col *cols, size_t n,
		   const char *select)
{
	return ff_pg_copy_in(w->pg, qtable, cols, n, ff_store_db(w->st), w->path, select);
}

static int is_pk(const struct ff_pg_table *c, const char *name)
{
	for (size_t i = 0; i < c->npk; i++)
		if (strcmp(c->pk[i].name, name) == 0)
			return 1;
	return 0;
}

/* Insert or update in qtable the rows of the table qsource, by the primary
 * key pk (a created_at stays as it was). */
static int upsert_from(struct ff_pg_writer *w, const char *qtable, const struct ff_pg_col *cols, size_t n,
		       const struct ff_pg_col *pk, size_t npk, const char *qsource)
{
	char *sql, q[FF_DB_IDENT_SIZE];
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "INSERT INTO %s (", qtable);
	ff_pg_names(m, cols, n, "");
	fputs(") SELECT ", m);
	ff_pg_names(m, cols, n, "");
	fprintf(m, " FROM %s ON CONFLICT (", qsource);
	ff_pg_names(m, pk, npk, "");
	fputs(") DO ", m);
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		int key = 0;
		for (size_t k = 0; k < npk; k++)
			key |= strcmp(pk[k].name, cols[i].name) == 0;
		if (key || strcmp(cols[i].name, "created_at") == 0)
			continue;
		ff_db_quote(q, sizeof q, cols[i].name);
		fprintf(m, "%s%s = EXCLUDED.%s", first ? "UPDATE SET " : ", ", q, q);
		first = 0;
	}
	if (first)
		fputs("NOTHING", m);
	return ff_pg_sql_exec(w->pg, m, &sql, "cannot write");
}

/* The same with the rows the copy's select gives. */
static int upsert(struct ff_pg_writer *w, const char *qtable, const struct ff_pg_col *cols, size_t n,
		  const struct ff_pg_col *pk, size_t npk, const char *select)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "DROP TABLE IF EXISTS ff_in; CREATE TEMP TABLE ff_in (LIKE %s)", qtable);
	if (ff_pg_sql_exec(w->pg, m, &sql, "cannot write") < 0 || copy_in(w, "ff_in", cols, n, select) < 0)
		return -1;
	return upsert_from(w, qtable, cols, n, pk, npk, "ff_in");
}

/* Delete from qtable the rows whose primary keys the table qgone holds. */
static int delete_from(struct ff_pg_writer *w, const char *qtable, const struct ff_pg_col *pk, size_t npk,
		       const char *qgone)
{
	char *sql, q[FF_DB_IDENT_SIZE];
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "DELETE FROM %s AS t USING %s AS g WHERE ", qtable, qgone);
	for (size_t i = 0; i < npk; i++) {
		ff_db_quote(q, sizeof q, pk[i].name);
		fprintf(m, "%st.%s = g.%s", i ? " AND " : "", q, q);
	}
	return ff_pg_sql_exec(w->pg, m, &sql, "cannot write");
}

/* CREATE TABLE qname for the rows of the table (rows: 1) or its window
 * states (0), without primary keys: they come after the rows. */
static void ddl(FILE *m, const struct ff_pg_table *c, const char *qname, int rows)
{
	char q[FF_DB_IDENT_SIZE];
	const struct ff_pg_col *cols = rows ? c->rows : c->state;
	size_t n = rows ? c->nrows : c->nstate;
	fprintf(m, "CREATE TABLE %s (", qname);
	for (size_t i = 0; i < n; i++) {
		ff_db_quote(q, sizeof q, cols[i].name);
		fprintf(m, "%s%s %s%s", i ? ", " : "", q, ff_pg_key_type(cols[i].kind),
			is_pk(c, cols[i].name) || cols[i].kind == FF_PG_BLOB ? " NOT NULL" : "");
	}
	fputs(");\n", m);
}

/* The change feed, a new table. */
static int pg_create_changes(struct ff_pg_writer *w, const struct ff_pg_table *c)
{
	char *sql, q[FF_DB_IDENT_SIZE];
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "CREATE TABLE %s (version bigint NOT NULL, op text NOT NULL", c->qchanges);
	for (size_t i = 0; i < c->npk; i++) {
		ff_db_quote(q, sizeof q, c->pk[i].name);
		fprintf(m, ", %s %s NOT NULL", q, ff_pg_key_type(c->pk[i].kind));
	}
	fputs(", PRIMARY KEY (version, ", m);
	ff_pg_names(m, c->pk, c->npk, "");
	fputs("));", m);
	return ff_pg_sql_exec(w->pg, m, &sql, "cannot create the table");
}

static int pg_add_keys(struct ff_pg_writer *w, const struct ff_pg_table *c)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	const char *tables[2] = {c->q, c->qstate};
	for (int t = 0; t < 2; t++) {
		fprintf(m, "ALTER TABLE %s ADD PRIMARY KEY (", tables[t]);
		ff_pg_names(m, c->pk, c->npk, "");
		fputs(");\n", m);
	}
	return ff_pg_sql_exec(w->pg, m, &sql, "cannot create the table");
}

/* "SELECT cols FROM main.table" (all rows), or only those whose keys the
 * temporary table touched names (present: 1), or the touched keys no
 * longer there (present: 0). */
static char *select_rows(const struct ff_pg_table *c, const char *qtable, const struct ff_pg_col *cols, size_t n,
			 const char *touched, int present)
{
	char *sql, q[FF_DB_IDENT_SIZE];
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	if (!touched) {
		fputs("SELECT ", m);
		ff_pg_names(m, cols, n, "");
		fprintf(m, " FROM main.%s", qtable);
	} else if (present) {
		fputs("SELECT ", m);
		ff_pg_names(m, cols, n, "t.");
		fprintf(m, " FROM main.%s AS t JOIN temp.%s USING (", qtable, touched);
		ff_pg_names(m, c->pk, c->npk, "");
		fputc(')', m);
	} else {
		fputs("SELECT ", m);
		ff_pg_names(m, c->pk, c->npk, "g.");
		fprintf(m, " FROM temp.%s AS g WHERE NOT EXISTS (SELECT 1 FROM main.%s AS t WHERE ", touched, qtable);
		for (size_t i = 0; i < c->npk; i++) {
			ff_db_quote(q, sizeof q, c->pk[i].name);
			fprintf(m, "%st.%s = g.%s", i ? " AND " : "", q, q);
		}
		fputc(')', m);
	}
	return ff_pg_sql_close(m, &sql);
}

/* A text from the copy, ?1 and ?2 (if the statement has them) bound to
 * arg and n: the operation of a version. NULL if none, or on an error
 * (reported). */
static char *copy_text(struct ff_pg_writer *w, const char *sql, const char *arg, int64_t n)
{
	sqlite3_stmt *s;
	char *out = NULL;
	if (ff_db_prepare(ff_store_db(w->st), w->path, sql, &s, "cannot read the copy") < 0)
		return NULL;
	if (sqlite3_bind_parameter_count(s) >= 2) {
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, n);
	}
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		out = ff_db_column_text(s, 0);
	else if (rc != SQLITE_DONE)
		ff_db_error(ff_store_db(w->st), w->path, "cannot read the copy");
	sqlite3_finalize(s);
	return out;
}

/* ---- new rows streamed while the run computes ---- */

/* The push's transaction, from the first streamed row on: a run that
 * fails or dies leaves nothing behind it, its staging tables included. */
static int begin_push(struct ff_pg_writer *w)
{
	if (w->begun)
		return 0;
	if (ff_pg_exec(w->pg, "BEGIN; SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL work_mem = '64MB'",
		       "cannot write") < 0)
		return -1;
	w->begun = 1;
	return 0;
}

int ff_pg_writer_stream(struct ff_pg_writer *w, size_t i, const struct ff_table_def *def, int created)
{
	struct streamed *sm = &w->streamed[i];
	if (sm->on || w->stream)
		return 0;
	char *sql;
	size_t size;
	ff_pg_table_init(&sm->c, def);
	sm->on = 1;
	stage_name(w, i, 1, sm->stage);
	if (begin_push(w) < 0)
		return -1;
	FILE *m = ff_pg_sql_open(&sql, &size);
	/* Without its primary key: building it as the rows come costs the
	 * server half as much again as building it after them (measured). */
	ddl(m, &sm->c, sm->stage, 1);
	if (ff_pg_sql_exec(w->pg, m, &sql, "cannot write") < 0)
		return -1;
	if (watch(w, &sm->c, created ? WATCH_NONE : WATCH_UNSTREAMED) < 0)
		return -1;
	if (!created)
		return 0;
	sm->def = def;
	m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "INSERT OR IGNORE INTO temp.%s VALUES (", sm->c.qtouched);
	for (size_t k = 0; k < sm->c.npk; k++)
		fprintf(m, "%s?", k ? ", " : "");
	fputc(')', m);
	ff_pg_sql_close(m, &sql);
	int rc = ff_db_prepare(ff_store_db(w->st), w->path, sql, &sm->touch, "cannot set up the copy");
	free(sql);
	return rc;
}

int ff_pg_writer_put(struct ff_pg_writer *w, size_t i, struct ff_table_writer *tw, const struct ff_cell *cells,
		     const void *state, size_t len, int had_state)
{
	struct streamed *sm = &w->streamed[i];
	const struct lazy *lz = &w->lazy[i];
	/* A stored window whose day was not copied (ff_pg_writer_need not
	 * called) would be written without its stored state. */
	if (lz->on && ff_floor_div(cells[lz->c.pk_cols[0]].i, FF_USEC) < lz->from)
		return ff_error("%s: table %s: a window before the rows copied (internal error)", ff_pg_name(w->pg),
				lz->def.name);
	if (ff_table_writer_put(tw, cells, state, len, had_state) < 0)
		return -1;
	if (!sm->touch)
		return 0;
	/* The primary key's cells. */
	for (size_t k = 0; k < sm->c.npk; k++) {
		size_t col = sm->c.pk_cols[k];
		ff_cell_bind(sm->touch, (int)k + 1, sm->def->cols[col].type, &cells[col]);
	}
	return ff_db_step_done(ff_store_db(w->st), w->path, sm->touch, "cannot write the copy");
}

/* Queue the rows of table i not sent yet. */
static int stream_send(struct ff_pg_writer *w, struct streamed *sm)
{
	if (!w->stream && ff_pg_stream_start(w->pg, &w->stream) < 0)
		return -1;
	return ff_pg_stream_send(w->stream, sm->stage, sm->c.rows, sm->c.nrows, &sm->rows);
}

int ff_pg_writer_put_new(struct ff_pg_writer *w, size_t i, struct ff_table_writer *tw, const struct ff_cell *cells,
			 const void *const *states, const size_t *lens, size_t nrows)
{
	w->fast = 1;
	int rc = ff_table_writer_put_new(tw, cells, states, lens, nrows);
	w->fast = 0;
	struct streamed *sm = &w->streamed[i];
	if (rc < 0 || !sm->on)
		return rc;
	for (size_t r = 0; r < nrows; r++)
		ff_pg_rows_put(&sm->rows, sm->c.rows, sm->c.nrows, cells + r * sm->c.nrows);
	return sm->rows.len >= STREAM_BUFFER ? stream_send(w, sm) : 0;
}

/* The rest of the streamed rows sent, and the connection back. */
static int stream_end(struct ff_pg_writer *w)
{
	int rc = 0;
	for (size_t i = 0; i < w->n && rc == 0; i++)
		if (w->streamed[i].on && w->streamed[i].rows.nrows)
			rc = stream_send(w, &w->streamed[i]);
	if (ff_pg_stream_finish(w->stream, rc < 0) < 0)
		rc = -1;
	w->stream = NULL;
	return rc;
}

/* The staging table qstage of streamed rows made right: the rows of keys
 * the write changed otherwise than by ff_pg_writer_put_new (merged late,
 * deleted) taken out, and those still in the copy put in again. */
static int fix_streamed(struct ff_pg_writer *w, const struct ff_pg_table *c, const char *qstage)
{
	char *sql, *count = NULL;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "SELECT count(*) FROM temp.%s", c->qtouched);
	ff_pg_sql_close(m, &sql);
	count = copy_text(w, sql, "", 0);
	free(sql);
	if (!count)
		return -1;
	int none = strcmp(count, "0") == 0;
	free(count);
	if (none)
		return 0;
	m = ff_pg_sql_open(&sql, &size);
	fputs("DROP TABLE IF EXISTS ff_fix; CREATE TEMP TABLE ff_fix AS SELECT ", m);
	ff_pg_names(m, c->pk, c->npk, "");
	fprintf(m, " FROM %s WITH NO DATA", qstage);
	if (ff_pg_sql_exec(w->pg, m, &sql, "cannot write") < 0)
		return -1;
	m = ff_pg_sql_open(&sql, &size);
	fputs("SELECT ", m);
	ff_pg_names(m, c->pk, c->npk, "");
	fprintf(m, " FROM temp.%s", c->qtouched);
	ff_pg_sql_close(m, &sql);
	int rc = copy_in(w, "ff_fix", c->pk, c->npk, sql);
	free(sql);
	if (rc == 0)
		rc = delete_from(w, qstage, c->pk, c->npk, "ff_fix");
	char *sel = select_rows(c, c->q, c->rows, c->nrows, c->qtouched, 1);
	if (rc == 0)
		rc = copy_in(w, qstage, c->rows, c->nrows, sel);
	free(sel);
	return rc == 0 ? ff_pg_exec(w->pg, "DROP TABLE ff_fix", "cannot write") : -1;
}

/* What a table's write stages in PostgreSQL before the push takes its
 * lock (so that shards copy their rows at the same time): its rows and
 * states in tables of their own, the keys it deleted in temporary ones. */
struct staged {
	int written;            /* the copy has a new version of the table */
	int64_t mv;             /* that version, in the copy */
	char *op;               /* its operation */
	int created;            /* create or replace: every row is staged */
	int64_t fresh;          /* rows staged if none was there before (no update), else -1 */
	char rows[64], states[64], gone_rows[64], gone_states[64];
};

/* The staging table of streamed rows of table i, if any, dropped: the
 * write has no new version of the table. */
static int drop_streamed(struct ff_pg_writer *w, size_t i)
{
	char sql[128];
	if (!w->streamed[i].on)
		return 0;
	snprintf(sql, sizeof sql, "DROP TABLE %s", w->streamed[i].stage);
	return ff_pg_exec(w->pg, sql, "cannot write");
}

static int stage_table(struct ff_pg_writer *w, size_t i, struct staged *sg)
{
	const char *table = w->tables[i];
	struct ff_table_def def;
	memset(sg, 0, sizeof *sg);
	int found = ff_store_table(w->st, table, &def, &sg->mv);
	if (found <= 0)
		return found < 0 ? -1 : drop_streamed(w, i); /* not written */
	int rc = 0;
	if (sg->mv != w->base[i]) {
		sg->op = copy_text(w, "SELECT operation FROM ff_versions WHERE table_name = ?1 AND version = ?2", table,
				   sg->mv);
		if (!sg->op)
			rc = ff_error("%s: table %s: no version %" PRId64 " in the copy", ff_pg_name(w->pg), table, sg->mv);
	}
	sg->written = sg->op != NULL;
	sg->created = sg->op && (strcmp(sg->op, "create") == 0 || strcmp(sg->op, "replace") == 0);
	sg->fresh = -1;
	if (rc == 0 && sg->written) {
		char *fresh = copy_text(w, "SELECT CASE WHEN updated = 0 THEN inserted ELSE -1 END FROM ff_versions"
				       " WHERE table_name = ?1 AND version = ?2", table, sg->mv);
		if (!fresh)
			rc = -1;
		else
			sg->fresh = strtoll(fresh, NULL, 10);
		free(fresh);
	}
	if (rc == 0 && !sg->written)
		rc = drop_streamed(w, i);
	stage_name(w, i, 1, sg->rows);
	stage_name(w, i, 0, sg->states);
	snprintf(sg->gone_rows, sizeof sg->gone_rows, "ff_gone_%zu_rows", i);
	snprintf(sg->gone_states, sizeof sg->gone_states, "ff_gone_%zu_states", i);
	struct ff_pg_table c;
	ff_pg_table_init(&c, &def);
	const char *qt[2] = {c.q, c.qstate}, *touched[2] = {c.qtouched, c.qtouched_state};
	const char *stage[2] = {sg->rows, sg->states}, *gone[2] = {sg->gone_rows, sg->gone_states};
	const struct ff_pg_col *cols[2] = {c.rows, c.state};
	size_t ncols[2] = {c.nrows, c.nstate};
	for (int t = 0; t < 2 && rc == 0 && sg->written; t++) {
		char *sql;
		size_t size;
		int streamed = t == 0 && w->streamed[i].on;
		FILE *m = ff_pg_sql_open(&sql, &size);
		if (!streamed)
			ddl(m, &c, stage[t], t == 0);
		if (!sg->created) {
			fprintf(m, "CREATE TEMP TABLE %s AS SELECT ", gone[t]);
			ff_pg_names(m, c.pk, c.npk, "");
			fprintf(m, " FROM %s WITH NO DATA;", stage[t]);
		}
		if (ftell(m) > 0)
			rc = ff_pg_sql_exec(w->pg, m, &sql, "cannot write");
		else
			free(ff_pg_sql_close(m, &sql));
		if (streamed) {
			if (rc == 0)
				rc = fix_streamed(w, &w->streamed[i].c, stage[t]);
		} else {
			char *sel = select_rows(&c, qt[t], cols[t], ncols[t], sg->created ? NULL : touched[t], 1);
			if (rc == 0)
				rc = copy_in(w, stage[t], cols[t], ncols[t], sel);
			free(sel);
		}
		if (rc == 0 && !sg->created) {
			char *sel = select_rows(&c, qt[t], cols[t], ncols[t], touched[t], 0);
			rc = copy_in(w, gone[t], c.pk, c.npk, sel);
			free(sel);
		}
	}
	ff_pg_table_release(&c);
	ff_table_def_release(&def);
	return rc;
}

/* 1 if the n staged rows, all new to qtable, go in faster with its
 * primary key built again after them than through it: a quarter of the
 * rows it has or more (a shard's first write among another's rows). Index
 * insertions among stored keys cost about ten times a row of the build
 * (measured: 1.3M rows into 1.3M, 4.1 s through the key, 1.6 s built
 * again); a day appended after the stored ones goes through the key. */
static int bulk_insert(struct ff_pg_writer *w, const char *qtable, int64_t n, int *bulk)
{
	char *rows = NULL;
	const char *params[] = {qtable};
	*bulk = 0;
	if (n <= 0)
		return 0;
	if (ff_pg_value(w->pg, "SELECT reltuples::bigint FROM pg_class WHERE oid = $1::regclass", 1, params, &rows,
			"cannot write") < 0)
		return -1;
	/* -1: never counted (PostgreSQL 14 on); a key rebuilt on a guess
	 * could cost a daily append the whole table. */
	int64_t stored = rows ? strtoll(rows, NULL, 10) : -1;
	*bulk = stored >= 0 && n >= stored / 4;
	free(rows);
	return 0;
}

/* How long a push that would build a table's key again waits for the
 * transactions reading the table (readers copying it), those behind it
 * waiting too, before it puts its rows in through the key instead. */
#define REBUILD_WAIT_MS 500

/* Rows all new to the table qtable (it has none of their keys) into it,
 * with the columns cols (by name: a feature added to the table is its last
 * column there, not in the stage): through its primary key, or with the
 * key dropped and made again after them if the table can be had to itself
 * soon. The push's lock serialises the writers. */
static int insert_new(struct ff_pg_writer *w, const struct ff_pg_table *c, const char *qtable, const char *qstage,
		      const struct ff_pg_col *cols, size_t ncols, int rebuild)
{
	char *pkey = NULL, *sql;
	size_t size;
	const char *params[] = {qtable};
	int mine = rebuild ? ff_pg_try_lock(w->pg, qtable, REBUILD_WAIT_MS) : 0;
	if (mine < 0)
		return -1;
	if (!mine)
		return upsert_from(w, qtable, cols, ncols, c->pk, c->npk, qstage);
	if (ff_pg_value(w->pg, "SELECT quote_ident(conname) FROM pg_constraint WHERE conrelid = $1::regclass"
			" AND contype = 'p'", 1, params, &pkey, "cannot write") < 0)
		return -1;
	FILE *m = ff_pg_sql_open(&sql, &size);
	if (pkey)
		fprintf(m, "ALTER TABLE %s DROP CONSTRAINT %s;\n", qtable, pkey);
	fprintf(m, "INSERT INTO %s (", qtable);
	ff_pg_names(m, cols, ncols, "");
	fputs(") SELECT ", m);
	ff_pg_names(m, cols, ncols, "");
	fprintf(m, " FROM %s;\nALTER TABLE %s ADD PRIMARY KEY (", qstage, qtable);
	ff_pg_names(m, c->pk, c->npk, "");
	fputs(");", m);
	free(pkey);
	return ff_pg_sql_exec(w->pg, m, &sql, "cannot write");
}

/* The staged rows and states into the table: the staged tables become it
 * (recreate), or their rows go into a table another shard created
 * meanwhile (into_new: our keys' rows are all new there, it had none of
 * them when we read it), or they update it with the deletes (rows all
 * new and many: as into a new one). */
static int push_rows(struct ff_pg_writer *w, const struct ff_pg_table *c, const struct staged *sg, int recreate,
		     int into_new)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	const char *qt[2] = {c->q, c->qstate}, *stage[2] = {sg->rows, sg->states};
	const struct ff_pg_col *cols[2] = {c->rows, c->state};
	size_t ncols[2] = {c->nrows, c->nstate};
	int rc = 0;
	if (recreate) {
		for (int t = 0; t < 2; t++)
			fprintf(m, "ALTER TABLE %s RENAME TO %s;\n", stage[t], qt[t]);
		return ff_pg_sql_exec(w->pg, m, &sql, "cannot create the table") == 0 && pg_create_changes(w, c) == 0 &&
			       pg_add_keys(w, c) == 0 ? 0 : -1;
	}
	fclose(m);
	free(sql);
	for (int t = 0; t < 2 && rc == 0; t++) {
		/* The states of windows are few: only rows go in in bulk. */
		int bulk = into_new;
		if (!into_new && t == 0)
			rc = bulk_insert(w, qt[t], sg->fresh, &bulk);
		if (rc < 0)
			break;
		if (into_new) {
			rc = insert_new(w, c, qt[t], stage[t], cols[t], ncols[t], 1);
		} else {
			const char *gone = t == 0 ? sg->gone_rows : sg->gone_states;
			rc = delete_from(w, qt[t], c->pk, c->npk, gone) == 0 &&
				     insert_new(w, c, qt[t], stage[t], cols[t], ncols[t], bulk) == 0 ? 0 : -1;
		}
		if (rc == 0) {
			m = ff_pg_sql_open(&sql, &size);
			fprintf(m, "DROP TABLE %s", stage[t]);
			rc = ff_pg_sql_exec(w->pg, m, &sql, "cannot write");
		}
	}
	return rc;
}

/* 0 if the versions of table written since this run read it (after base)
 * were all by shards disjoint from ours (and created the table with our
 * definition, if any created it); else -1 (reported). */
static int check_meanwhile(struct ff_pg_writer *w, const char *table, int64_t base, int64_t cur,
			   int created, int same_definition)
{
	char since[32], *list = NULL;
	snprintf(since, sizeof since, "%" PRId64, base);
	const char *params[] = {table, since};
	if (ff_pg_value(w->pg,
			"SELECT string_agg(v.operation || ' ' || coalesce(b.shard, '*'), ',') FROM ff_versions AS v"
			" LEFT JOIN (SELECT DISTINCT table_name, version, shard FROM ff_batches) AS b"
			" USING (table_name, version) WHERE v.table_name = $1 AND v.version > $2::bigint",
			2, params, &list, "cannot read the versions") < 0)
		return -1;
	int ok = 1;
	for (char *item = list ? strtok(list, ",") : NULL; item && ok; item = strtok(NULL, ",")) {
		char *sp = strchr(item, ' ');
		struct ff_shard other;
		if (!sp || ff_shard_parse(sp + 1, &other) < 0 || ff_shard_meet(&other, &w->shard))
			ok = 0;
		else if (strncmp(item, "create ", 7) == 0 || strncmp(item, "replace ", 8) == 0)
			ok = created && same_definition;
	}
	free(list);
	if (!ok)
		return ff_error("%s: table %s was written by another run since this one read it (version %" PRId64
				", now %" PRId64 "); nothing written: run again",
				ff_pg_name(w->pg), table, base, cur);
	return 0;
}

/* The catalog row and columns of table at version v. */
static int push_catalog(struct ff_pg_writer *w, const char *table, int64_t v)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "SELECT name, %" PRId64 ", primary_keys, timestamp_key, partition_column, definition, spec,"
		   " created_at, updated_at FROM ff_catalog WHERE name = ", v);
	ff_pg_literal(m, table);
	ff_pg_sql_close(m, &sql);
	const struct ff_pg_col *pk = &catalog_cols[0];
	int rc = upsert(w, "ff_catalog", catalog_cols, cat[CAT_CATALOG].ncols, pk, 1, sql);
	free(sql);
	m = ff_pg_sql_open(&sql, &size);
	fputs("DELETE FROM ff_columns WHERE table_name = ", m);
	ff_pg_literal(m, table);
	ff_pg_sql_close(m, &sql);
	if (rc == 0)
		rc = ff_pg_exec(w->pg, sql, "cannot write the catalog");
	free(sql);
	m = ff_pg_sql_open(&sql, &size);
	fputs("SELECT table_name, position, name, type, role, description FROM ff_columns WHERE table_name = ", m);
	ff_pg_literal(m, table);
	ff_pg_sql_close(m, &sql);
	if (rc == 0)
		rc = copy_in(w, "ff_columns", columns_cols, cat[CAT_COLUMNS].ncols, sql);
	free(sql);
	return rc;
}

/* Versions, change feed and batches of the write, renumbered from the
 * copy's version mv to v (op: the operation to record). */
static int push_history(struct ff_pg_writer *w, const struct ff_pg_table *c, int64_t mv, int64_t v, const char *op)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "SELECT %" PRId64 ", op, ", v);
	ff_pg_names(m, c->pk, c->npk, "");
	fprintf(m, " FROM main.%s WHERE version = %" PRId64, c->qchanges, mv);
	ff_pg_sql_close(m, &sql);
	int rc = copy_in(w, c->qchanges, c->changes, c->nchanges, sql);
	free(sql);
	m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "SELECT table_name, %" PRId64 ", ", v);
	ff_pg_literal(m, op);
	/* A shard's copy held its keys' rows only: its appends are of them. */
	char shard[16];
	ff_shard_text(&w->shard, shard);
	fputs(", committed_at, inserted, updated, deleted, range_start, range_end, appended_from, ", m);
	if (*shard)
		ff_pg_literal(m, shard);
	else
		fputs("NULL", m);
	fputs(" FROM ff_versions WHERE table_name = ", m);
	ff_pg_literal(m, c->name);
	fprintf(m, " AND version = %" PRId64, mv);
	ff_pg_sql_close(m, &sql);
	if (rc == 0)
		rc = copy_in(w, "ff_versions", versions_cols, cat[CAT_VERSIONS].ncols, sql);
	free(sql);
	return rc;
}

static int push_batches(struct ff_pg_writer *w, const char *table, int64_t mv, int64_t v)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "SELECT table_name, batch, input_hash, input_name, mode, range_start, range_end,"
		   " CASE WHEN version = %" PRId64 " THEN %" PRId64 " ELSE version END, rows, first_window,"
		   " last_window, folded_at, shard FROM ff_batches WHERE rowid > %" PRId64 " AND table_name = ",
		mv, v, w->batches_seen);
	ff_pg_literal(m, table);
	ff_pg_sql_close(m, &sql);
	int rc = copy_in(w, "ff_batches", batches_cols, cat[CAT_BATCHES].ncols, sql);
	free(sql);
	return rc;
}

static int push_table(struct ff_pg_writer *w, size_t i, const struct staged *sg, int64_t *version)
{
	const char *table = w->tables[i];
	struct ff_table_def def;
	int64_t mv = 0, base = w->base[i], cur = 0;
	int found = ff_store_table(w->st, table, &def, &mv);
	if (found <= 0)
		return found; /* not written */
	struct ff_pg_table c;
	ff_pg_table_init(&c, &def);
	char *cur_version = NULL, *cur_def = NULL, *cur_spec = NULL;
	const char *params[] = {table};
	int rc = -1;
	if (ff_pg_value(w->pg, "SELECT version FROM ff_catalog WHERE name = $1", 1, params, &cur_version,
			"cannot read the catalog") < 0 ||
	    ff_pg_value(w->pg, "SELECT definition FROM ff_catalog WHERE name = $1", 1, params, &cur_def,
			"cannot read the catalog") < 0 ||
	    ff_pg_value(w->pg, "SELECT spec FROM ff_catalog WHERE name = $1", 1, params, &cur_spec,
			"cannot read the catalog") < 0)
		goto out;
	cur = cur_version ? strtoll(cur_version, NULL, 10) : 0;
	if (cur != base && check_meanwhile(w, table, base, cur, sg->created,
					   cur_def && strcmp(cur_def, def.definition) == 0) < 0)
		goto out;
	*version = cur;
	if (!sg->written) {
		/* Descriptions are not part of the definition: keep them current. */
		rc = cur && cur_spec && strcmp(cur_spec, def.spec) != 0 ? push_catalog(w, table, cur) : 0;
		if (rc == 0)
			rc = push_batches(w, table, mv, cur);
		goto out;
	}
	/* Another shard created the table meanwhile: merge into it. */
	int into_new = sg->created && cur != base;
	int recreate = sg->created && !into_new;
	int64_t v = cur + 1;
	char *drop = NULL;
	size_t size;
	FILE *m = ff_pg_sql_open(&drop, &size);
	fprintf(m, "DROP TABLE IF EXISTS %s, %s, %s; DELETE FROM ff_batches WHERE table_name = ", c.q, c.qchanges,
		c.qstate);
	ff_pg_literal(m, table);
	int ok = !recreate || ff_pg_sql_exec(w->pg, m, &drop, "cannot replace the table") == 0;
	if (!recreate) {
		fclose(m);
		free(drop);
	}
	if (!ok || (!recreate && ff_pg_history_widen(w->pg, w->st, &def, v) < 0) ||
	    push_rows(w, &c, sg, recreate, into_new) < 0 ||
	    ff_pg_history_push(w->pg, w->st, &def, mv, v, cur, recreate) < 0 ||
	    push_history(w, &c, mv, v, into_new ? "merge" : sg->op) < 0 || push_catalog(w, table, v) < 0 ||
	    push_batches(w, table, mv, v) < 0)
		goto out;
	*version = v;
	rc = 0;
out:
	free(cur_version);
	free(cur_def);
	free(cur_spec);
	ff_pg_table_release(&c);
	ff_table_def_release(&def);
	return rc;
}

int ff_pg_writer_push(struct ff_pg_writer *w, int64_t *versions)
{
	char *has_id = NULL;
	struct staged *sg = ff_xcalloc(w->n ? w->n : 1, sizeof *sg);
	ff_pg_close(w->snap); /* the copy has all the write read */
	w->snap = NULL;
	/* The rows first, before the lock: shards copy theirs at the same time. */
	if (stream_end(w) < 0 || begin_push(w) < 0) {
		free(sg);
		return -1;
	}
	for (size_t i = 0; i < w->n; i++)
		if (stage_table(w, i, &sg[i]) < 0)
			goto fail;
	if (ff_pg_exec(w->pg, "SELECT pg_advisory_xact_lock(" FF_PG_PUSH_LOCK ")", "cannot lock the store") < 0 ||
	    bootstrap(w->pg) < 0)
		goto fail;
	for (size_t i = 0; i < w->n; i++) {
		int64_t v = 0;
		if (push_table(w, i, &sg[i], &v) < 0)
			goto fail;
		if (versions)
			versions[i] = v;
	}
	if (ff_pg_value(w->pg, "SELECT id FROM ff_store_info LIMIT 1", 0, NULL, &has_id, "cannot read the identity") < 0 ||
	    (!has_id && copy_in(w, "ff_store_info", info_cols, cat[CAT_INFO].ncols,
				"SELECT id, created_at FROM ff_store_info") < 0))
		goto fail;
	free(has_id);
	for (size_t i = 0; i < w->n; i++)
		free(sg[i].op);
	free(sg);
	w->begun = 0;
	return ff_pg_exec(w->pg, "COMMIT", "cannot commit");
fail:
	free(has_id);
	for (size_t i = 0; i < w->n; i++)
		free(sg[i].op);
	free(sg);
	w->begun = 0;
	ff_pg_exec(w->pg, "ROLLBACK", "cannot roll back");
	return -1;
}
