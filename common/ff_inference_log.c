#include "ff_inference_log.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_db.h"
#include "ff_util.h"

#define QUEUE_MAX 65536   /* entries waiting; beyond this they are dropped */
#define BATCH_MS 200      /* the writer wakes at least this often */
#define TABLES_MAX 64     /* models; fixed, so the writer reads them unlocked */

struct table {
	char *name;           /* inference_MODEL */
	char *model;
	size_t nfeat;
	struct ff_strlist features;
	sqlite3_stmt *insert;
};

struct entry {
	int table;
	int64_t logged_at_us;
	char *version, *fallbacks, *request_id;
	int64_t row;
	double latency_us;
	float prediction;
	float *x;
};

struct ff_inference_log {
	char *path;
	sqlite3 *db;
	struct table *tables;
	size_t ntables;
	pthread_t writer;
	int started;
	pthread_mutex_t lock;     /* the queue */
	pthread_cond_t wake;
	pthread_mutex_t db_lock;  /* the connection: a batch, or a new table */
	struct entry *queue;  /* a ring of QUEUE_MAX */
	size_t head, count;
	int stopping;
	atomic_uint_fast64_t written, dropped;
};

static int db_error(struct ff_inference_log *log, const char *what)
{
	return ff_db_error(log->db, log->path, what);
}

int ff_inference_log_open(const char *path, struct ff_inference_log **out)
{
	struct ff_inference_log *log = ff_xcalloc(1, sizeof *log);
	log->path = ff_xstrdup(path);
	pthread_mutex_init(&log->lock, NULL);
	pthread_mutex_init(&log->db_lock, NULL);
	log->tables = ff_xcalloc(TABLES_MAX, sizeof *log->tables);
	pthread_cond_init(&log->wake, NULL);
	log->queue = ff_xcalloc(QUEUE_MAX, sizeof *log->queue);
	if (ff_db_open(path, FF_DB_WRITER, FF_DB_CREATE | FF_DB_THREADED, &log->db) < 0) {
		ff_inference_log_close(log);
		return -1;
	}
	/* Monitoring reads it while the server writes. */
	if (ff_db_wal(log->db, NULL) < 0) {
		db_error(log, "not a SQLite file, or not writable");
		ff_inference_log_close(log);
		return -1;
	}
	*out = log;
	return 0;
}

static const char *const meta[] = {"logged_at", "model", "model_version", "request_id", "row",
				   "latency_us", "prediction", "fallbacks"};
#define NMETA (sizeof meta / sizeof *meta)

/* The columns the table has, or 0 if it has none (it is not there). */
static int same_columns(struct ff_inference_log *log, const char *table, const struct ff_strlist *features,
			int *exists)
{
	char *sql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q) ORDER BY cid", table);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(log->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return db_error(log, "cannot read the inference log");
	size_t k = 0;
	int same = 1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *want = k < NMETA ? meta[k] : k - NMETA < features->n ? features->v[k - NMETA] : NULL;
		if (!want || strcmp(name, want) != 0)
			same = 0;
		k++;
	}
	sqlite3_finalize(st);
	*exists = k > 0;
	return same && (k == 0 || k == NMETA + features->n);
}

static int add_table(struct ff_inference_log *log, const char *model, const struct ff_strlist *features);

int ff_inference_log_table(struct ff_inference_log *log, const char *model,
			   const struct ff_strlist *features)
{
	pthread_mutex_lock(&log->db_lock);
	int rc = add_table(log, model, features);
	pthread_mutex_unlock(&log->db_lock);
	return rc;
}

static int add_table(struct ff_inference_log *log, const char *model, const struct ff_strlist *features)
{
	char *name = NULL, *create = NULL, *insert = NULL;
	size_t clen = 0, ilen = 0;
	char qname[FF_DB_IDENT_SIZE], q[FF_DB_IDENT_SIZE];
	if (ff_name_check(model, "model name", log->path) < 0 ||
	    ff_db_side_name(qname, sizeof qname, "inference_", model) < 0)
		return -1;
	name = ff_xmalloc(strlen(model) + 16);
	sprintf(name, "inference_%s", model);
	/* A reload brings the model again: the same table, if the same features. */
	for (size_t t = 0; t < log->ntables; t++)
		if (strcmp(log->tables[t].name, name) == 0) {
			int same = log->tables[t].nfeat == features->n;
			for (size_t i = 0; same && i < features->n; i++)
				same = strcmp(log->tables[t].features.v[i], features->v[i]) == 0;
			free(name);
			if (!same)
				return ff_error("%s: table inference_%s has other columns than model %s's "
						"features: log to another file", log->path, model, model);
			return (int)t;
		}
	int exists;
	if (log->ntables == TABLES_MAX) {
		free(name);
		return ff_error("%s: more than %d models in one inference log", log->path, TABLES_MAX);
	}
	if (!same_columns(log, name, features, &exists)) {
		ff_error("%s: table %s has other columns than model %s's features: log to another file",
			 log->path, name, model);
		free(name);
		return -1;
	}
	for (size_t i = 0; i < features->n; i++)
		if (ff_db_quote(q, sizeof q, features->v[i]) < 0) {
			free(name);
			return ff_error("%s: feature name '%.24s...' too long for a column of %s", log->path,
					features->v[i], qname);
		}
	FILE *c = open_memstream(&create, &clen), *ins = open_memstream(&insert, &ilen);
	fprintf(c, "CREATE TABLE IF NOT EXISTS %s", qname);
	fputs(" (logged_at TEXT NOT NULL, model TEXT NOT NULL, model_version TEXT, request_id TEXT, "
	      "row INTEGER, latency_us REAL, prediction REAL, fallbacks TEXT", c);
	fprintf(ins, "INSERT INTO %s", qname);
	fputs(" VALUES (?,?,?,?,?,?,?,?", ins);
	for (size_t i = 0; i < features->n; i++) {
		ff_db_quote(q, sizeof q, features->v[i]);
		fprintf(c, ", %s REAL", q);
		fputs(",?", ins);
	}
	fputs(")", c);
	fputs(")", ins);
	fclose(c);
	fclose(ins);
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_exec(log->db, create, NULL, NULL, NULL) != SQLITE_OK)
		db_error(log, "cannot create the inference table");
	else if (sqlite3_prepare_v3(log->db, insert, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		db_error(log, "cannot prepare the inference insert");
	else
		rc = 0;
	free(create);
	free(insert);
	if (rc < 0) {
		free(name);
		return -1;
	}
	log->tables[log->ntables] = (struct table){name, ff_xstrdup(model), features->n, {0}, st};
	for (size_t i = 0; i < features->n; i++)
		ff_strlist_add(&log->tables[log->ntables].features, features->v[i]);
	return (int)log->ntables++;
}

static void entry_free(struct entry *e)
{
	free(e->version);
	free(e->fallbacks);
	free(e->request_id);
	free(e->x);
}

static void format_time(int64_t us, char *buf, size_t size)
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us / 1000 % 1000));
}

/* A float as the double of its shortest text: 2.1f is kept as 2.1, not
 * 2.0999999046325684, so the log compares with training sets as written. */
static double readable(float f)
{
	char text[32];
	ff_format_float(text, f);
	return strtod(text, NULL);
}

/* Write a batch in one transaction. A failure is reported once per batch
 * and the batch counted as dropped: the server goes on. */
static void write_batch(struct ff_inference_log *log, struct entry *batch, size_t n)
{
	int ok = sqlite3_exec(log->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
	for (size_t k = 0; ok && k < n; k++) {
		struct entry *e = &batch[k];
		struct table *t = &log->tables[e->table];
		sqlite3_stmt *st = t->insert;
		char when[80];
		format_time(e->logged_at_us, when, sizeof when);
		sqlite3_bind_text(st, 1, when, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, t->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, e->version, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, e->request_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, e->row);
		sqlite3_bind_double(st, 6, e->latency_us);
		sqlite3_bind_double(st, 7, readable(e->prediction));
		if (e->fallbacks)
			sqlite3_bind_text(st, 8, e->fallbacks, -1, SQLITE_STATIC);
		else
			sqlite3_bind_text(st, 8, "", 0, SQLITE_STATIC);
		for (size_t i = 0; i < t->nfeat; i++)
			if (isnan(e->x[i]))
				sqlite3_bind_null(st, (int)(NMETA + i + 1));
			else
				sqlite3_bind_double(st, (int)(NMETA + i + 1), readable(e->x[i]));
		ok = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_reset(st);
	}
	if (ok)
		ok = sqlite3_exec(log->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
	if (ok) {
		atomic_fetch_add(&log->written, n);
	} else {
		db_error(log, "inference log write failed");
		sqlite3_exec(log->db, "ROLLBACK", NULL, NULL, NULL);
		atomic_fetch_add(&log->dropped, n);
	}
	for (size_t k = 0; k < n; k++)
		entry_free(&batch[k]);
}

static void *writer(void *arg)
{
	struct ff_inference_log *log = arg;
	struct entry *batch = ff_xcalloc(QUEUE_MAX, sizeof *batch);
	pthread_mutex_lock(&log->lock);
	for (;;) {
		while (log->count == 0 && !log->stopping) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += BATCH_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&log->wake, &log->lock, &until);
		}
		if (log->count == 0 && log->stopping)
			break;
		size_t n = log->count;
		for (size_t k = 0; k < n; k++)
			batch[k] = log->queue[(log->head + k) % QUEUE_MAX];
		log->head = (log->head + n) % QUEUE_MAX;
		log->count = 0;
		pthread_mutex_unlock(&log->lock);
		pthread_mutex_lock(&log->db_lock);
		write_batch(log, batch, n);
		pthread_mutex_unlock(&log->db_lock);
		pthread_mutex_lock(&log->lock);
	}
	pthread_mutex_unlock(&log->lock);
	free(batch);
	return NULL;
}

int ff_inference_log_put(struct ff_inference_log *log, const struct ff_inference_entry *e)
{
	const struct table *t = &log->tables[e->table];
	struct entry copy = {e->table, e->logged_at_us, ff_xstrdup(e->model_version ? e->model_version : ""),
			     e->fallbacks ? ff_xstrdup(e->fallbacks) : NULL,
			     ff_xstrdup(e->request_id ? e->request_id : ""), e->row, e->latency_us, e->prediction,
			     ff_xmalloc((t->nfeat ? t->nfeat : 1) * sizeof(float))};
	memcpy(copy.x, e->x, t->nfeat * sizeof(float));
	pthread_mutex_lock(&log->lock);
	if (!log->started) {
		log->started = pthread_create(&log->writer, NULL, writer, log) == 0;
	}
	int full = log->count == QUEUE_MAX;
	if (!full) {
		log->queue[(log->head + log->count) % QUEUE_MAX] = copy;
		log->count++;
	}
	pthread_mutex_unlock(&log->lock);
	if (full) {
		entry_free(&copy);
		atomic_fetch_add(&log->dropped, 1);
		return -1;
	}
	return 0;
}

void ff_inference_log_counts(struct ff_inference_log *log, uint64_t *written, uint64_t *dropped)
{
	*written = atomic_load(&log->written);
	*dropped = atomic_load(&log->dropped);
}

void ff_inference_log_close(struct ff_inference_log *log)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->lock);
	log->stopping = 1;
	pthread_cond_signal(&log->wake);
	int started = log->started;
	pthread_mutex_unlock(&log->lock);
	if (started)
		pthread_join(log->writer, NULL);
	for (size_t k = 0; k < log->count; k++)
		entry_free(&log->queue[(log->head + k) % QUEUE_MAX]);
	for (size_t t = 0; t < log->ntables; t++) {
		sqlite3_finalize(log->tables[t].insert);
		free(log->tables[t].name);
		free(log->tables[t].model);
		ff_strlist_release(&log->tables[t].features);
	}
	free(log->tables);
	if (log->db)
		sqlite3_close_v2(log->db);
	pthread_mutex_destroy(&log->lock);
	pthread_mutex_destroy(&log->db_lock);
	pthread_cond_destroy(&log->wake);
	free(log->queue);
	free(log->path);
	free(log);
}
