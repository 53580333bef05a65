/* ff_store_batch: the store's record of the batches folded into each table
 * (ff_batches, ff-store(5)). A table keeps mergeable window states, so a
 * batch of events can be folded in at any time; the record is what makes
 * that exactly once: the same inputs fed again change nothing, and a
 * corrected batch is refused rather than counted twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "ff_db.h"
#include "ff_shard.h"
#include "ff_store.h"
#include "ff_time.h"
#include "ff_util.h"

static const char batches_sql[] =
	"CREATE TABLE IF NOT EXISTS ff_batches ("
	" table_name TEXT NOT NULL,"
	" batch TEXT NOT NULL,"
	" input_hash TEXT NOT NULL,"
	" input_name TEXT NOT NULL,"
	" mode TEXT NOT NULL,"
	" range_start INTEGER,"
	" range_end INTEGER,"
	" version INTEGER NOT NULL,"
	" rows INTEGER NOT NULL,"
	" first_window INTEGER,"
	" last_window INTEGER,"
	" folded_at TEXT NOT NULL,"
	" shard TEXT);"
	"CREATE INDEX IF NOT EXISTS ff_batches_input ON ff_batches (table_name, input_hash);"
	"CREATE INDEX IF NOT EXISTS ff_batches_batch ON ff_batches (table_name, batch);";

int ff_store_batch_table(struct ff_store *st)
{
	if (ff_db_exec(ff_store_db(st), ff_store_path(st), batches_sql) < 0)
		return -1;
	/* A store made before shards: add their column. */
	int has = ff_db_has_column(ff_store_db(st), ff_store_path(st), "main", "ff_batches", "shard");
	if (has < 0)
		return -1;
	return has ? 0 : ff_db_exec(ff_store_db(st), ff_store_path(st),
				    "ALTER TABLE ff_batches ADD COLUMN shard TEXT");
}

/* Bind the batch's shard ("K/N", NULL for every key) to parameter i. */
static void bind_shard(sqlite3_stmt *s, int i, const struct ff_batch *b)
{
	char text[16];
	ff_shard_text(&b->shard, text);
	if (*text)
		sqlite3_bind_text(s, i, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* 1 if the keys of the stored shard text (NULL: every key) and of b's
 * shard may meet (ff_shard_meet). */
static int shards_meet(const unsigned char *stored, const struct ff_batch *b)
{
	struct ff_shard o = {0, 0};
	if (stored && ff_shard_parse((const char *)stored, &o) < 0)
		return 1;
	return ff_shard_meet(&o, &b->shard);
}

static int same_shard(const unsigned char *stored, const struct ff_batch *b)
{
	char text[16];
	ff_shard_text(&b->shard, text);
	return stored ? strcmp((const char *)stored, text) == 0 : !*text;
}

/* Prepare sql with ?1 bound to the table and ?2 to the batch id, if any. */
static int prepare(struct ff_store *st, const char *sql, const char *table, const char *id,
		   sqlite3_stmt **s)
{
	if (ff_db_prepare(ff_store_db(st), ff_store_path(st), sql, s, "cannot read batches") < 0)
		return -1;
	sqlite3_bind_text(*s, 1, table, -1, SQLITE_STATIC);
	if (id)
		sqlite3_bind_text(*s, 2, id, -1, SQLITE_STATIC);
	return 0;
}

static int read_error(struct ff_store *st)
{
	return ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read batches");
}

static int by_hash(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The id of a batch without --batch: XXH3-128 of its inputs' sorted hashes,
 * so that the same files given in another order are the same batch. */
static void batch_id(const struct ff_batch *b, char *out)
{
	if (b->id) {
		snprintf(out, 256, "%s", b->id);
		return;
	}
	const char **h = ff_xcalloc(b->ninputs ? b->ninputs : 1, sizeof *h);
	for (size_t i = 0; i < b->ninputs; i++)
		h[i] = b->inputs[i].hash;
	qsort(h, b->ninputs, sizeof *h, by_hash);
	XXH3_state_t *x = XXH3_createState();
	XXH3_128bits_reset(x);
	for (size_t i = 0; i < b->ninputs; i++)
		XXH3_128bits_update(x, h[i], strlen(h[i]));
	XXH128_hash_t v = XXH3_128bits_digest(x);
	XXH3_freeState(x);
	free(h);
	snprintf(out, 256, "%016llx%016llx", (unsigned long long)v.high64, (unsigned long long)v.low64);
}

static void range_text(int64_t start, int64_t end, char *out, size_t size)
{
	char a[32] = "the beginning", b[32] = "the end";
	if (start != INT64_MIN)
		ff_time_format(start * FF_USEC, a);
	if (end != INT64_MAX)
		ff_time_format(end * FF_USEC, b);
	snprintf(out, size, "(%s, %s]", a, b);
}

static int64_t column_bound(sqlite3_stmt *s, int i, int64_t open)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? open : sqlite3_column_int64(s, i);
}

/* The batch id was folded before with other inputs: refuse, saying how to
 * correct the windows it touched. */
static int check_id(struct ff_store *st, const char *table, const struct ff_batch *b, const char *id)
{
	sqlite3_stmt *s;
	if (prepare(st, "SELECT input_hash, version, first_window, last_window, shard FROM ff_batches"
			" WHERE table_name = ?1 AND batch = ?2", table, id, &s) < 0)
		return -1;
	int seen = 0, mine = 0, same = 1, rc;
	int64_t version = 0, first = INT64_MAX, last = INT64_MIN;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(s, 0);
		int found = 0;
		for (size_t i = 0; i < b->ninputs && !found; i++)
			found = h && strcmp(h, b->inputs[i].hash) == 0;
		same &= found;
		seen++;
		mine += same_shard(sqlite3_column_text(s, 4), b);
		version = sqlite3_column_int64(s, 1);
		int64_t f = column_bound(s, 2, INT64_MAX), l = column_bound(s, 3, INT64_MIN);
		first = f < first ? f : first;
		last = l > last ? l : last;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return read_error(st);
	/* The same batch folded by another shard is this shard's to fold. */
	if (!seen || (same && (!mine || (size_t)mine == b->ninputs)))
		return 0;
	char fs[32] = "", ls[32] = "";
	if (first <= last) {
		ff_time_format((first - 1) * FF_USEC, fs);
		ff_time_format(last * FF_USEC, ls);
		return ff_error("%s: batch '%s' was folded into %s at version %lld with other content; "
				"ff cannot take its events back out: recompute the windows it touched from all "
				"their events with --mode overwrite --start '%s' --end '%s'",
				ff_store_path(st), id, table, (long long)version, fs, ls);
	}
	return ff_error("%s: batch '%s' was folded into %s at version %lld with other content; "
			"ff cannot take its events back out", ff_store_path(st), id, table, (long long)version);
}

int ff_store_batch_check(struct ff_store *st, const char *table, const struct ff_batch *b,
			 int64_t *version)
{
	char id[256];
	*version = 0;
	if (ff_store_batch_table(st) < 0)
		return -1;
	batch_id(b, id);
	if (b->id && check_id(st, table, b, id) < 0)
		return -1;
	if (b->overwrite)
		return 0; /* a recompute replaces the windows it covers */
	sqlite3_stmt *s;
	if (prepare(st, "SELECT range_start, range_end, version, batch, mode, shard FROM ff_batches"
			" WHERE table_name = ?1 AND input_hash = ?2 ORDER BY version", table, NULL, &s) < 0)
		return -1;
	size_t folded = 0;
	const char *folded_name = NULL;
	int rc = SQLITE_DONE, refused = 0;
	for (size_t i = 0; i < b->ninputs && !refused; i++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 2, b->inputs[i].hash, -1, SQLITE_STATIC);
		int same = 0, overlap = 0;
		int64_t ors = 0, ore = 0, ov = 0;
		char obatch[256] = "", oshard[32] = "";
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t rs = column_bound(s, 0, INT64_MIN), re = column_bound(s, 1, INT64_MAX);
			int64_t v = sqlite3_column_int64(s, 2);
			const unsigned char *shard = sqlite3_column_text(s, 5);
			if (!shards_meet(shard, b))
				continue;
			if (rs == b->range_start && re == b->range_end && same_shard(shard, b)) {
				same = 1;
				*version = v;
			} else if (!overlap && rs < b->range_end && b->range_start < re) {
				overlap = 1;
				ors = rs;
				ore = re;
				ov = v;
				snprintf(obatch, sizeof obatch, "%s", (const char *)sqlite3_column_text(s, 3));
				snprintf(oshard, sizeof oshard, "%s", shard ? (const char *)shard : "");
			}
		}
		/* Exactly this batch folded before: nothing to do, whatever else
		 * was done to the range since. */
		if (!same && overlap && rc == SQLITE_DONE) {
			char was[96], now[96], mine[16], split[80] = "", as[40] = "";
			range_text(ors, ore, was, sizeof was);
			range_text(b->range_start, b->range_end, now, sizeof now);
			/* Shards name their split: a key of both would be counted twice. */
			ff_shard_text(&b->shard, mine);
			if (*oshard || *mine) {
				snprintf(split, sizeof split, ", %s%s", *oshard ? "shard " : "all keys", oshard);
				snprintf(as, sizeof as, " %s%s", *mine ? "as shard " : "for all keys", mine);
			}
			ff_error("%s: %s was folded into %s at version %lld (batch %s%s, windows ending in %s); "
				 "folding it over %s%s would count its events twice",
				 ff_store_path(st), b->inputs[i].name, table, (long long)ov, obatch, split, was, now, as);
			refused = 1;
		}
		if (!refused && rc != SQLITE_DONE)
			break;
		if (same) {
			folded++;
			folded_name = b->inputs[i].name;
		}
	}
	sqlite3_finalize(s);
	if (refused)
		return -1;
	if (rc != SQLITE_DONE)
		return read_error(st);
	if (folded && folded < b->ninputs)
		return ff_error("%s: %s was folded into %s already (version %lld) but other inputs of this "
				"run were not: run again without it", ff_store_path(st), folded_name, table,
				(long long)*version);
	return folded ? 1 : 0;
}

int ff_store_batch_forget(struct ff_store *st, const char *table)
{
	return ff_store_batch_forget_after(st, table, 0);
}

int ff_store_batch_forget_after(struct ff_store *st, const char *table, int64_t version)
{
	sqlite3_stmt *s;
	if (ff_store_batch_table(st) < 0 ||
	    prepare(st, "DELETE FROM ff_batches WHERE table_name = ?1 AND version > ?2", table, NULL, &s) < 0)
		return -1;
	sqlite3_bind_int64(s, 2, version);
	int rc = ff_db_step_done(ff_store_db(st), ff_store_path(st), s, "cannot record batches");
	sqlite3_finalize(s);
	return rc;
}

/* 1 if this batch was recorded over the same range before. */
static int recorded(struct ff_store *st, const char *table, const struct ff_batch *b, const char *id)
{
	sqlite3_stmt *s;
	if (prepare(st, "SELECT count(*) FROM ff_batches WHERE table_name = ?1 AND batch = ?2"
			" AND range_start IS ?3 AND range_end IS ?4 AND shard IS ?5", table, id, &s) < 0)
		return -1;
	bind_shard(s, 5, b);
	if (b->range_start != INT64_MIN)
		sqlite3_bind_int64(s, 3, b->range_start);
	if (b->range_end != INT64_MAX)
		sqlite3_bind_int64(s, 4, b->range_end);
	int rc = sqlite3_step(s);
	int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return read_error(st);
	return n > 0;
}

int ff_store_batch_record(struct ff_store *st, const char *table, const struct ff_batch *b,
			  int64_t version, int64_t first_end, int64_t last_end, int changed)
{
	char id[256], now[32];
	batch_id(b, id);
	if (ff_store_batch_table(st) < 0)
		return -1;
	if (b->overwrite && !changed) {
		int r = recorded(st, table, b, id);
		if (r)
			return r < 0 ? -1 : 0;
	}
	ff_db_now_text(now);
	sqlite3_stmt *s;
	if (ff_db_prepare(ff_store_db(st), ff_store_path(st),
			  "INSERT INTO ff_batches (table_name, batch, input_hash, input_name, mode,"
			  " range_start, range_end, version, rows, first_window, last_window, folded_at,"
			  " shard) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &s,
			  "cannot record the batch") < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < b->ninputs && rc == 0; i++) {
		sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, b->inputs[i].hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, b->inputs[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, b->overwrite ? "overwrite" : "merge", -1, SQLITE_STATIC);
		if (b->range_start != INT64_MIN)
			sqlite3_bind_int64(s, 6, b->range_start);
		if (b->range_end != INT64_MAX)
			sqlite3_bind_int64(s, 7, b->range_end);
		sqlite3_bind_int64(s, 8, version);
		sqlite3_bind_int64(s, 9, b->inputs[i].rows);
		if (first_end <= last_end) {
			sqlite3_bind_int64(s, 10, first_end);
			sqlite3_bind_int64(s, 11, last_end);
		}
		sqlite3_bind_text(s, 12, now, -1, SQLITE_STATIC);
		bind_shard(s, 13, b);
		rc = ff_db_step_done(ff_store_db(st), ff_store_path(st), s, "cannot record the batch");
	}
	sqlite3_finalize(s);
	return rc;
}
