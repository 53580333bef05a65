#include "ff_compute.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "ff_agg.h"
#include "ff_cell.h"
#include "ff_csv.h"
#include "ff_db.h"
#include "ff_pg.h"
#include "ff_pg_store.h"
#include "ff_shard.h"
#include "ff_time.h"
#include "ff_util.h"

#define MAX_REPORTED_BAD 10
#define BATCH_ROWS 4096
#define BATCHES 8

/* Windows handed out by the aggregation, on their way to the store writer
 * thread: per row its window end, whether its window start was handed out
 * before, and its keys and state in arena. */
struct delta {
	int64_t window_end;
	int again;
	size_t key_off; /* nkeys lengths (size_t) then the key bytes */
	size_t state_off;
};

struct batch {
	struct target *t;
	size_t nrows;
	struct delta rows[BATCH_ROWS];
	unsigned char *arena;
	size_t arena_len, arena_cap;
	struct batch *next;
};

/* SQLite works on a thread of its own, so that parsing and aggregating the
 * input (one core) overlaps with merging and inserting (the other). */
struct writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake, freed;
	struct batch *head, *tail, *free_list;
	int done;
	atomic_int failed;
	atomic_int unordered;   /* streaming: a row came that CSV cannot take in order */
	struct batch *pool;
};

/* What the writer thread needs per table to fold a batch of windows in:
 * scratch for one batch of finished rows. */
struct folding {
	struct ff_cell *cells;        /* BATCH_ROWS rows of def.ncols */
	unsigned char *stored, *sum;  /* a state read back, a merged state */
	unsigned char *blobs;         /* encoded states, BATCH_ROWS of blob_cap */
	size_t blob_cap;
	const void **states;
	size_t *lens;
	unsigned char *had_state;     /* per row: a state was stored for it */
	char (*partitions)[8];
	char partition[8];            /* the month of partition_end */
	int64_t partition_end;
	int partition_known;
	struct ff_value *values;
	struct ff_cell *row;          /* a stored row read back */
};

/* A CSV row being built, and the text of the last time written: rows come
 * in runs of the same window end. */
struct csv_line {
	char *buf;
	size_t cap;
	int64_t time;
	char time_text[FF_CELL_TEXT_MAX];
	size_t time_len;
	int time_known;
};

struct target {
	const struct ff_spec *spec;
	struct ff_table_def def;
	struct ff_agg *agg;
	struct ff_table_writer *writer;
	struct writer *thread;
	struct batch *batch;            /* being filled */
	struct folding fold;
	int64_t rows;                   /* windows handed out */
	int64_t first_end, last_end;    /* window ends handed out, microseconds */
	int skip;                       /* the batch was folded in already */
	FILE *stream;                   /* CSV straight out while rows come in order */
	int64_t streamed_end;           /* the last row streamed: its window end (s) */
	char *last_key;                 /* and its keys: lengths (size_t), then bytes */
	size_t last_key_len, last_key_cap;
	int streamed;                   /* a row was streamed */
	struct csv_line line;           /* streaming */
	struct ff_pg_writer *pgw;       /* a PostgreSQL store: new rows streamed to it */
	size_t index;                   /* the table's among pgw's */
};

static void fold_init(struct target *t)
{
	struct folding *f = &t->fold;
	size_t size = ff_agg_state_size(t->agg);
	f->cells = ff_xcalloc((size_t)BATCH_ROWS * t->def.ncols, sizeof *f->cells);
	f->stored = ff_xmalloc(size);
	f->sum = ff_xmalloc(size);
	f->blob_cap = size + 16;
	f->blobs = ff_xmalloc(BATCH_ROWS * f->blob_cap);
	f->states = ff_xcalloc(BATCH_ROWS, sizeof *f->states);
	f->lens = ff_xcalloc(BATCH_ROWS, sizeof *f->lens);
	f->had_state = ff_xcalloc(BATCH_ROWS, 1);
	f->partitions = ff_xcalloc(BATCH_ROWS, sizeof *f->partitions);
	f->values = ff_xcalloc(t->spec->nfeatures, sizeof *f->values);
	f->row = ff_xcalloc(t->def.ncols, sizeof *f->row);
}

static void fold_release(struct folding *f)
{
	free(f->cells);
	free(f->stored);
	free(f->sum);
	free(f->blobs);
	free(f->states);
	free(f->lens);
	free(f->had_state);
	free(f->partitions);
	free(f->values);
	free(f->row);
}

static int is_fresh(const struct target *t, const struct delta *d)
{
	return !d->again && ff_table_writer_after_stored(t->writer, d->window_end);
}

/* Turn delta row r of b into a finished row: merged with the state stored
 * for its window unless the row is fresh (new to the table), its values
 * computed, its state encoded. Returns 0 or -1. */
static int finish_row(struct target *t, struct batch *b, size_t r, int fresh)
{
	const struct ff_spec *s = t->spec;
	struct folding *f = &t->fold;
	const struct delta *d = &b->rows[r];
	struct ff_cell *cells = &f->cells[r * t->def.ncols];
	size_t c = 0;
	const size_t *lens = (const size_t *)(b->arena + d->key_off);
	const char *kp = (const char *)(lens + s->nkeys);
	for (size_t k = 0; k < s->nkeys; k++, c++) {
		cells[c] = (struct ff_cell){.s = kp, .len = lens[k]};
		kp += lens[k];
	}
	cells[c++] = (struct ff_cell){.i = d->window_end};
	memcpy(f->sum, b->arena + d->state_off, ff_agg_state_size(t->agg));
	f->had_state[r] = 0;
	if (!fresh) {
		const void *blob;
		size_t len;
		int found = ff_table_writer_state(t->writer, cells, &blob, &len);
		if (found < 0)
			return -1;
		if (!found) {
			/* No state kept: the stored row, if any, says it. */
			found = ff_table_writer_row(t->writer, cells, f->row);
			if (found < 0)
				return -1;
			if (found) {
				for (size_t v = 0; v < s->nfeatures; v++) {
					const struct ff_cell *x = &f->row[s->nkeys + 1 + v];
					f->values[v] = (struct ff_value){.null = x->null, .i = x->i, .d = x->d};
				}
				if (ff_agg_state_derive(t->agg, f->values, f->stored) < 0)
					return ff_error("table %s: a window has no stored state; "
							"recompute the table with --replace", t->def.name);
			}
		} else if (f->had_state[r] = 1, ff_agg_state_decode(t->agg, blob, len, f->stored) < 0) {
			return ff_error("table %s: the stored state of a window is damaged; "
					"recompute the table with --replace", t->def.name);
		}
		if (found)
			ff_agg_state_merge(t->agg, f->sum, f->stored);
	}
	ff_agg_values(t->agg, f->sum, d->window_end, f->values);
	for (size_t v = 0; v < s->nfeatures; v++, c++)
		cells[c] = (struct ff_cell){.null = f->values[v].null, .i = f->values[v].i, .d = f->values[v].d};
	if (s->partition) {
		/* Rows come in runs of the same window end. */
		if (!f->partition_known || d->window_end != f->partition_end) {
			ff_time_yyyy_mm(d->window_end, f->partition);
			f->partition_end = d->window_end;
			f->partition_known = 1;
		}
		memcpy(f->partitions[r], f->partition, sizeof f->partition);
		cells[c++] = (struct ff_cell){.s = f->partitions[r], .len = 7};
	}
	/* Store the state only where the row's values do not say it (and not
	 * at all for CSV streamed out). */
	if (t->stream || ff_agg_state_derivable(t->agg, f->sum, f->values, f->stored)) {
		f->states[r] = NULL;
		f->lens[r] = 0;
		return 0;
	}
	unsigned char *blob = f->blobs + r * f->blob_cap;
	f->lens[r] = ff_agg_state_encode(t->agg, f->sum, blob);
	f->states[r] = blob;
	return 0;
}

static int put_new(struct target *t, size_t from, size_t to)
{
	struct folding *f = &t->fold;
	if (to == from)
		return 0;
	if (t->pgw)
		return ff_pg_writer_put_new(t->pgw, t->index, t->writer, f->cells + from * t->def.ncols,
					    f->states + from, f->lens + from, to - from);
	return ff_table_writer_put_new(t->writer, f->cells + from * t->def.ncols, f->states + from,
				       f->lens + from, to - from);
}

/* Row r of the batch, that may exist: written in place. */
static int put_one(struct target *t, size_t r)
{
	struct folding *f = &t->fold;
	const struct ff_cell *cells = f->cells + r * t->def.ncols;
	if (t->pgw)
		return ff_pg_writer_put(t->pgw, t->index, t->writer, cells, f->states[r], f->lens[r], f->had_state[r]);
	return ff_table_writer_put(t->writer, cells, f->states[r], f->lens[r], f->had_state[r]);
}

/* Fold a batch into the table: runs of fresh rows by the fast path, the
 * others one by one, after the fresh rows before them (a window handed out
 * twice in one batch must find its first part stored). */
static int fold_batch(struct target *t, struct batch *b)
{
	size_t run = 0; /* first row of the current run of fresh rows */
	for (size_t r = 0; r < b->nrows; r++) {
		int fresh = is_fresh(t, &b->rows[r]);
		if (!fresh && put_new(t, run, r) < 0)
			return -1;
		/* A stored window: its day copied from PostgreSQL first. */
		if (!fresh && t->pgw && ff_pg_writer_need(t->pgw, t->index, b->rows[r].window_end) < 0)
			return -1;
		if (finish_row(t, b, r, fresh) < 0)
			return -1;
		if (fresh)
			continue;
		if (put_one(t, r) < 0)
			return -1;
		run = r + 1;
	}
	return put_new(t, run, b->nrows);
}

/* ---- CSV output straight from the windows ----
 *
 * A table read out of the private store comes in the order of its primary
 * key (window end, then keys, as SQLite orders text) with the values the
 * store gives back (times in whole seconds, NaN as NULL). While the windows
 * come from the aggregation in that same order, each new (none handed out
 * twice), their rows are written as they come, with the same formatting as
 * dump_csv. The first that does not sets wr->unordered and stops the run;
 * ff_compute_run then starts again through the private store. */

/* One row built in a line, written by one call: the stream's lock and
 * bookkeeping per field cost more than the fields' text. */
static void put_csv_row(FILE *out, const struct ff_table_def *def, const struct ff_cell *cells,
			struct csv_line *line)
{
	char buf[FF_CELL_TEXT_MAX];
	size_t len = 0;
	for (size_t i = 0; i < def->ncols; i++) {
		size_t n;
		const char *text;
		const struct ff_cell *c = &cells[i];
		if (def->cols[i].type == FF_TYPE_TIMESTAMP && !c->null) {
			if (!line->time_known || c->i != line->time) {
				text = ff_cell_text(c, FF_TYPE_TIMESTAMP, buf, &n);
				memcpy(line->time_text, text, n);
				line->time_len = n;
				line->time = c->i;
				line->time_known = 1;
			}
			text = line->time_text;
			n = line->time_len;
		} else {
			text = ff_cell_text(c, def->cols[i].type, buf, &n);
		}
		ff_grow(&line->buf, &line->cap, len + 2 * n + 4, 1);
		if (i)
			line->buf[len++] = ',';
		if (text)
			len += ff_csv_quote(line->buf + len, text, n);
	}
	line->buf[len++] = '\n';
	fwrite_unlocked(line->buf, 1, len, out);
}

/* The row as the store would give it back; 0, or -1 when it would not
 * come back as is (a time with a fraction of a second). */
static int as_stored(const struct ff_table_def *def, struct ff_cell *cells)
{
	for (size_t i = 0; i < def->ncols; i++) {
		struct ff_cell *c = &cells[i];
		if (c->null)
			continue;
		if (def->cols[i].type == FF_TYPE_TIMESTAMP && c->i % FF_USEC != 0)
			return -1;
		if (def->cols[i].type == FF_TYPE_REAL && isnan(c->d))
			*c = (struct ff_cell){.null = 1};
	}
	return 0;
}

/* Does the delta row come after the last row streamed, in primary-key
 * order? Keeps it as the last one if so. */
static int in_order(struct target *t, const struct batch *b, const struct delta *d)
{
	size_t nkeys = t->spec->nkeys;
	const size_t *lens = (const size_t *)(b->arena + d->key_off);
	const char *kp = (const char *)(lens + nkeys);
	size_t klen = nkeys * sizeof *lens;
	for (size_t k = 0; k < nkeys; k++)
		klen += lens[k];
	int64_t end = d->window_end / FF_USEC;
	int cmp = !t->streamed || end > t->streamed_end ? 1 : end < t->streamed_end ? -1 : 0;
	if (cmp == 0) {
		const size_t *plens = (const size_t *)t->last_key;
		const char *pp = (const char *)(plens + nkeys);
		for (size_t k = 0; k < nkeys && cmp == 0; k++) {
			size_t n = lens[k] < plens[k] ? lens[k] : plens[k];
			cmp = memcmp(kp, pp, n);
			if (cmp == 0)
				cmp = (lens[k] > plens[k]) - (lens[k] < plens[k]);
			kp += lens[k];
			pp += plens[k];
		}
	}
	if (cmp <= 0)
		return 0;
	ff_grow(&t->last_key, &t->last_key_cap, klen, 1);
	memcpy(t->last_key, lens, klen);
	t->streamed_end = end;
	t->streamed = 1;
	return 1;
}

static int stream_batch(struct target *t, struct batch *b)
{
	struct folding *f = &t->fold;
	for (size_t r = 0; r < b->nrows; r++) {
		struct ff_cell *cells = f->cells + r * t->def.ncols;
		if (b->rows[r].again || !in_order(t, b, &b->rows[r]) || finish_row(t, b, r, 1) < 0 ||
		    as_stored(&t->def, cells) < 0) {
			atomic_store(&t->thread->unordered, 1);
			return -1;
		}
		put_csv_row(t->stream, &t->def, cells, &t->line);
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	pthread_mutex_lock(&wr->mu);
	for (;;) {
		while (!wr->head && !wr->done)
			pthread_cond_wait(&wr->wake, &wr->mu);
		struct batch *b = wr->head;
		if (!b)
			break;
		wr->head = b->next;
		if (!wr->head)
			wr->tail = NULL;
		pthread_mutex_unlock(&wr->mu);
		if (!atomic_load(&wr->failed) && (b->t->stream ? stream_batch(b->t, b) : fold_batch(b->t, b)) < 0)
			atomic_store(&wr->failed, 1);
		pthread_mutex_lock(&wr->mu);
		b->next = wr->free_list;
		wr->free_list = b;
		pthread_cond_signal(&wr->freed);
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

static int writer_start(struct writer *wr)
{
	memset(wr, 0, sizeof *wr);
	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->wake, NULL);
	pthread_cond_init(&wr->freed, NULL);
	wr->pool = ff_xcalloc(BATCHES, sizeof *wr->pool);
	for (size_t i = 0; i < BATCHES; i++) {
		wr->pool[i].next = wr->free_list;
		wr->free_list = &wr->pool[i];
	}
	if (pthread_create(&wr->thread, NULL, writer_main, wr) != 0)
		return ff_error("cannot start the writer thread");
	return 0;
}

static struct batch *batch_get(struct writer *wr, struct target *t)
{
	pthread_mutex_lock(&wr->mu);
	while (!wr->free_list)
		pthread_cond_wait(&wr->freed, &wr->mu);
	struct batch *b = wr->free_list;
	wr->free_list = b->next;
	pthread_mutex_unlock(&wr->mu);
	b->t = t;
	b->nrows = 0;
	b->arena_len = 0;
	b->next = NULL;
	return b;
}

static void batch_submit(struct writer *wr, struct batch *b)
{
	pthread_mutex_lock(&wr->mu);
	if (wr->tail)
		wr->tail->next = b;
	else
		wr->head = b;
	wr->tail = b;
	pthread_cond_signal(&wr->wake);
	pthread_mutex_unlock(&wr->mu);
}

/* Flush what is queued, stop the thread. Returns 0, or -1 if a write failed. */
static int writer_stop(struct writer *wr)
{
	pthread_mutex_lock(&wr->mu);
	wr->done = 1;
	pthread_cond_signal(&wr->wake);
	pthread_mutex_unlock(&wr->mu);
	pthread_join(wr->thread, NULL);
	for (size_t i = 0; i < BATCHES; i++)
		free(wr->pool[i].arena);
	free(wr->pool);
	pthread_mutex_destroy(&wr->mu);
	pthread_cond_destroy(&wr->wake);
	pthread_cond_destroy(&wr->freed);
	return atomic_load(&wr->failed) ? -1 : 0;
}

static size_t arena_put(struct batch *b, const void *p, size_t n)
{
	/* Keep every piece aligned for the state's int64 and doubles. */
	size_t off = (b->arena_len + 7) & ~(size_t)7;
	ff_grow(&b->arena, &b->arena_cap, off + n, 1);
	memcpy(b->arena + off, p, n);
	b->arena_len = off + n;
	return off;
}

/* A window handed out: into the table's batch, full batches to the writer. */
static int emit(void *ctx, const struct ff_agg_row *row)
{
	struct target *t = ctx;
	const struct ff_spec *s = t->spec;
	if (atomic_load(&t->thread->failed))
		return -1;
	if (!t->batch)
		t->batch = batch_get(t->thread, t);
	struct batch *b = t->batch;
	struct delta *d = &b->rows[b->nrows];
	d->window_end = row->window_end;
	d->again = row->again;
	d->key_off = arena_put(b, row->key_lens, s->nkeys * sizeof *row->key_lens);
	for (size_t k = 0; k < s->nkeys; k++) {
		ff_grow(&b->arena, &b->arena_cap, b->arena_len + row->key_lens[k], 1);
		memcpy(b->arena + b->arena_len, row->keys[k], row->key_lens[k]);
		b->arena_len += row->key_lens[k];
	}
	d->state_off = arena_put(b, row->state, ff_agg_state_size(t->agg));
	if (row->window_end < t->first_end)
		t->first_end = row->window_end;
	if (row->window_end > t->last_end)
		t->last_end = row->window_end;
	t->rows++;
	if (++b->nrows == BATCH_ROWS) {
		batch_submit(t->thread, b);
		t->batch = NULL;
	}
	return 0;
}

/* Reasons for skipping rows, counted for the report. */
struct bad_counts {
	const char *reason[16];
	int64_t count[16];
	size_t n;
	int64_t total;
};

static void count_bad(struct bad_counts *b, const char *reason)
{
	b->total++;
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->reason[i], reason) == 0) {
			b->count[i]++;
			return;
		}
	if (b->n < 16) {
		b->reason[b->n] = reason;
		b->count[b->n++] = 1;
	}
}

/* Report the rows skipped; -1 (reported, nothing to be written) when they
 * are more than --max-bad allows of the nrows read. */
static int report_bad(const struct bad_counts *bad, const struct ff_compute_options *opt,
		      int64_t nrows)
{
	if (!bad->total)
		return 0;
	char detail[512];
	size_t n = 0;
	detail[0] = '\0';
	for (size_t i = 0; i < bad->n && n < sizeof detail; i++)
		n += (size_t)snprintf(detail + n, sizeof detail - n, "%s%lld %s", i ? ", " : "",
				      (long long)bad->count[i], bad->reason[i]);
	/* Not a warning that -q silences: rows left out must always be said. */
	fprintf(stderr, "%s: skipped %lld bad row%s (%s)\n", ff_progname(), (long long)bad->total,
		bad->total == 1 ? "" : "s", detail);
	int64_t limit = ff_count_limit(opt->max_bad, opt->max_bad_percent, nrows);
	if (bad->total <= limit)
		return 0;
	char given[64];
	if (opt->max_bad >= 0)
		snprintf(given, sizeof given, "%lld", (long long)opt->max_bad);
	else
		snprintf(given, sizeof given, "%g%%", opt->max_bad_percent);
	return ff_error("%lld of %lld rows are bad, more than --max-bad %s allows (%lld); nothing "
			"written", (long long)bad->total, (long long)nrows, given, (long long)limit);
}

/* One input being read through every target. */
struct reading {
	struct target *targets;
	size_t ntargets;
	const char *name;
	const struct ff_compute_options *opt;
	struct bad_counts *bad;
	int64_t *nrows;
	int64_t rows;    /* of this input */
	size_t header_n; /* 0 until the header is read */
};

/* 1 if the row's key for target t lies in the shard (ff_shard.h): other
 * shards' keys are never converted nor aggregated, their rows checked only
 * by their own shard (ff_compute_run checks that the keys are at most
 * FF_SHARD_KEYS_MAX). The key fields are hashed as they are, before
 * anything else of the row is looked at. */
static int owns(const struct ff_shard *shard, const struct target *t, const struct ff_field *fields)
{
	if (!shard->n)
		return 1;
	size_t nkeys = t->spec->nkeys;
	const size_t *cols = ff_agg_key_columns(t->agg);
	const char *values[FF_SHARD_KEYS_MAX];
	size_t lens[FF_SHARD_KEYS_MAX];
	for (size_t k = 0; k < nkeys; k++) {
		values[k] = fields[cols[k]].ptr;
		lens[k] = fields[cols[k]].len;
	}
	return ff_shard_owns(shard, values, lens, nkeys);
}

static int on_row(void *ctx, const struct ff_field *fields, size_t n, long line)
{
	struct reading *rd = ctx;
	char msg[512];
	const char *reason = NULL;
	if (rd->header_n == 0) {
		char where[512];
		snprintf(where, sizeof where, "%s:%ld", rd->name, line);
		for (size_t i = 0; i < rd->ntargets; i++)
			if (ff_agg_bind(rd->targets[i].agg, fields, n, where) < 0)
				return -1;
		rd->header_n = n;
		return 0;
	}
	int64_t nrows = ++*rd->nrows;
	rd->rows++;
	if (rd->opt->progress && (nrows & 0xfffff) == 0)
		fprintf(stderr, "%s: %lld rows\r", ff_progname(), (long long)nrows);
	int ok = 1;
	if (n != rd->header_n) {
		snprintf(msg, sizeof msg, "%zu fields, the header has %zu", n, rd->header_n);
		reason = "wrong field count";
		ok = 0;
	}
	for (size_t i = 0; i < rd->ntargets && ok; i++)
		if (owns(&rd->opt->shard, &rd->targets[i], fields) &&
		    ff_agg_stage(rd->targets[i].agg, fields, n, msg, sizeof msg, &reason) < 0)
			ok = 0;
	if (!ok) {
		if (!rd->opt->skip_bad)
			return ff_error("%s:%ld: %s", rd->name, line, msg);
		if (rd->bad->total < MAX_REPORTED_BAD)
			ff_warn("%s:%ld: skipped: %s", rd->name, line, msg);
		count_bad(rd->bad, reason);
		return 0;
	}
	for (size_t i = 0; i < rd->ntargets; i++)
		if (owns(&rd->opt->shard, &rd->targets[i], fields) && ff_agg_commit(rd->targets[i].agg) != 0)
			return -1;
	return 0;
}

static void hash_bytes(void *ctx, const void *p, size_t n)
{
	XXH3_128bits_update(ctx, p, n);
}

/* Read one input through every target, hashing its bytes. Returns 0 or -1. */
static int read_input(struct target *targets, size_t ntargets, const char *path,
		      const struct ff_compute_options *opt, struct bad_counts *bad, int64_t *nrows,
		      struct ff_batch_input *in)
{
	FILE *f = ff_open_input(path);
	if (!f)
		return -1;
	struct reading rd = {targets, ntargets, ff_input_name(path), opt, bad, nrows, 0, 0};
	struct ff_csv_reader *r = ff_csv_open(f, rd.name);
	XXH3_state_t *hash = XXH3_createState();
	XXH3_128bits_reset(hash);
	ff_csv_tap(r, hash_bytes, hash);
	int rc = ff_csv_each(r, on_row, &rd);
	if (rc == 0 && rd.header_n == 0)
		rc = ff_error("%s: empty input: a header line is required", rd.name);
	XXH128_hash_t h = XXH3_128bits_digest(hash);
	XXH3_freeState(hash);
	snprintf(in->hash, sizeof in->hash, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	in->name = path;
	in->rows = rd.rows;
	ff_csv_close(r);
	if (f != stdin)
		fclose(f);
	return rc == 0 ? 0 : -1;
}

/* ---- CSV output: the windows are folded in a private store, then read out
 * in order, so that late rows are counted in their windows there too. ---- */

static void write_csv_header(FILE *out, const struct ff_table_def *def)
{
	for (size_t i = 0; i < def->ncols; i++) {
		if (i)
			putc(',', out);
		ff_csv_put_field(out, def->cols[i].name, strlen(def->cols[i].name));
	}
	putc('\n', out);
}

static int dump_csv(struct ff_store *st, const struct ff_table_def *def, FILE *out)
{
	char q[300], *sql = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&sql, &size);
	if (!m)
		ff_die(1, "out of memory");
	fprintf(m, "SELECT ");
	for (size_t i = 0; i < def->ncols; i++) {
		ff_sql_ident(q, sizeof q, def->cols[i].name);
		fprintf(m, "%s%s", i ? ", " : "", q);
	}
	ff_sql_ident(q, sizeof q, def->name);
	fprintf(m, " FROM %s ORDER BY ", q);
	/* Window end, then keys: the primary key, read in its own order. */
	for (size_t i = 0; i < def->ncols; i++)
		if (def->cols[i].role == FF_ROLE_TIMESTAMP) {
			ff_sql_ident(q, sizeof q, def->cols[i].name);
			fprintf(m, "%s", q);
		}
	for (size_t i = 0; i < def->ncols; i++)
		if (def->cols[i].role == FF_ROLE_KEY) {
			ff_sql_ident(q, sizeof q, def->cols[i].name);
			fprintf(m, ", %s", q);
		}
	fclose(m);
	sqlite3_stmt *s;
	int rc = ff_db_prepare(ff_store_db(st), ff_store_path(st), sql, &s, "cannot read the computed table");
	free(sql);
	if (rc < 0)
		return -1;
	write_csv_header(out, def);
	struct ff_cell *cells = ff_xcalloc(def->ncols ? def->ncols : 1, sizeof *cells);
	struct csv_line line = {0};
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (size_t i = 0; i < def->ncols; i++)
			ff_cell_column(s, (int)i, def->cols[i].type, &cells[i]);
		put_csv_row(out, def, cells, &line);
	}
	free(line.buf);
	free(cells);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return ff_db_error(ff_store_db(st), ff_store_path(st), "cannot read the computed table");
	return 0;
}

/* A batch folded in already: undo the fold, but keep the tables'
 * descriptions current as any run does (they are not their definition). */
static int keep_descriptions(struct ff_store *st, struct target *targets, size_t n)
{
	struct ff_write_options wopt = {.mode = FF_WRITE_MERGE, .keep_state = 1};
	ff_store_rollback(st);
	if (ff_store_begin(st) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ff_table_writer_free(targets[i].writer);
		targets[i].writer = NULL;
		if (ff_table_writer_open(st, &targets[i].def, &wopt, &targets[i].writer) < 0 ||
		    ff_table_writer_finish(targets[i].writer, NULL) < 0)
			return -1;
	}
	return ff_store_commit(st);
}

static int open_private_store(struct ff_store **st)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/ff-compute-%ld.db", dir && *dir ? dir : "/tmp", (long)getpid());
	return ff_store_open(path, FF_STORE_WRITE, st);
}

/* A PostgreSQL store: the table's new rows go to it while the run computes. */
static int stream_to_pg(struct target *t, struct ff_pg_writer *pgw, size_t i)
{
	t->pgw = pgw;
	t->index = i;
	return ff_pg_writer_stream(pgw, i, &t->def, ff_table_writer_created(t->writer));
}

/* One run; stream: CSV out straight from the windows (no private store),
 * setting *unordered and failing when they come out of order. */
static int compute(struct ff_spec *specs, size_t nspecs, char **inputs, size_t ninputs,
		   const struct ff_compute_options *opt, int stream, int *unordered)
{
	struct target *targets = ff_xcalloc(nspecs, sizeof *targets);
	struct ff_store *st = NULL;
	struct ff_pg_writer *pgw = NULL;
	struct bad_counts bad = {0};
	int64_t nrows = 0;
	struct writer wr;
	int writer_running = 0;
	int rc = -1;
	char *stdin_only[] = {"-"};
	if (ninputs == 0) {
		inputs = stdin_only;
		ninputs = 1;
	}
	struct ff_batch_input *ins = ff_xcalloc(ninputs, sizeof *ins);
	struct ff_write_stats *ws = ff_xcalloc(nspecs ? nspecs : 1, sizeof *ws);
	struct ff_agg_options aopt = {
		.has_start = opt->has_start, .has_end = opt->has_end,
		.start = opt->start, .end = opt->end, .lateness = opt->lateness, .memory = opt->memory,
	};
	struct ff_write_options wopt = {
		.mode = (enum ff_write_mode)opt->mode, .replace = opt->replace,
		.has_range = opt->has_start || opt->has_end,
		.start = opt->has_start ? ff_floor_div(opt->start, FF_USEC) : INT64_MIN,
		.end = opt->has_end ? ff_floor_div(opt->end, FF_USEC) : INT64_MAX,
		.keep_state = 1, .shard = opt->shard,
	};
	struct ff_batch batch = {
		.id = opt->batch, .inputs = ins, .ninputs = ninputs,
		.overwrite = opt->mode == FF_WRITE_OVERWRITE,
		.range_start = wopt.start, .range_end = wopt.end, .shard = opt->shard,
	};

	for (size_t i = 0; i < nspecs; i++)
		if (opt->shard.n && specs[i].nkeys > FF_SHARD_KEYS_MAX) {
			ff_error("table %s: --shard takes at most %d keys", specs[i].table, FF_SHARD_KEYS_MAX);
			goto out;
		}
	for (size_t i = 0; i < nspecs; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(specs[i].table, specs[j].table) == 0) {
				ff_error("table %s is defined twice (%s, %s)", specs[i].table,
					 specs[j].origin, specs[i].origin);
				goto out;
			}
	if (stream) {
		/* No store: the rows go straight to the output. */
	} else if (opt->store && ff_pg_is_uri(opt->store)) {
		/* A PostgreSQL store: written through a private copy (ff_pg_store.h). */
		const char **names = ff_xcalloc(nspecs ? nspecs : 1, sizeof *names);
		for (size_t i = 0; i < nspecs; i++)
			names[i] = specs[i].table;
		int pg_rc = ff_pg_writer_open(opt->store, names, nspecs, &opt->shard,
					      opt->mode == FF_WRITE_MERGE && !opt->replace, &pgw);
		free(names);
		if (pg_rc < 0)
			goto out;
		st = ff_pg_writer_store(pgw);
	} else if (opt->store ? ff_store_open(opt->store, FF_STORE_WRITE, &st) < 0 || ff_store_begin(st) < 0
			      : open_private_store(&st) < 0 || ff_store_begin(st) < 0) {
		goto out;
	}
	for (size_t i = 0; i < nspecs; i++) {
		struct target *t = &targets[i];
		t->spec = &specs[i];
		ff_spec_table_def(t->spec, &t->def);
		t->agg = ff_agg_new(t->spec, &aopt, emit, t);
		t->first_end = INT64_MAX;
		t->last_end = INT64_MIN;
		fold_init(t);
		if (stream) {
			t->stream = opt->out;
			write_csv_header(opt->out, &t->def);
		} else if (ff_table_writer_open(st, &t->def, &wopt, &t->writer) < 0 ||
			   (pgw && stream_to_pg(t, pgw, i) < 0)) {
			goto out;
		}
	}
	if (writer_start(&wr) < 0)
		goto out;
	writer_running = 1;
	for (size_t i = 0; i < nspecs; i++)
		targets[i].thread = &wr;
	for (size_t i = 0; i < ninputs; i++)
		if (read_input(targets, nspecs, inputs[i], opt, &bad, &nrows, &ins[i]) < 0)
			goto out;
	for (size_t i = 0; i < nspecs; i++)
		if (ff_agg_finish(targets[i].agg) != 0)
			goto out;
	for (size_t i = 0; i < nspecs; i++)
		if (targets[i].batch) {
			batch_submit(&wr, targets[i].batch);
			targets[i].batch = NULL;
		}
	writer_running = 0;
	int stopped = writer_stop(&wr);
	if (stream && atomic_load(&wr.unordered)) {
		*unordered = 1;
		goto out;
	}
	if (stopped < 0)
		goto out;
	if (opt->progress)
		fprintf(stderr, "%*s\r", 40, "");
	for (size_t i = 0; i < ninputs; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(ins[i].hash, ins[j].hash) == 0) {
				ff_error("%s and %s have the same content: one batch would count its events twice",
					 ins[j].name, ins[i].name);
				goto out;
			}
	if (report_bad(&bad, opt, nrows) < 0)
		goto out;
	if (!opt->store) {
		if (!stream && dump_csv(st, &targets[0].def, opt->out) < 0)
			goto out;
		rc = 0;
		goto out;
	}

	/* Exactly once: a batch folded in already changes nothing. */
	size_t skipped = 0;
	int64_t folded_version = 0;
	for (size_t i = 0; i < nspecs; i++) {
		struct target *t = &targets[i];
		int c = ff_table_writer_created(t->writer) ? ff_store_batch_forget(st, t->def.name)
			: ff_store_batch_check(st, t->def.name, &batch, &folded_version);
		if (c < 0)
			goto out;
		t->skip = c;
		skipped += (size_t)c;
	}
	if (skipped == nspecs) {
		ff_warn("%s: already folded into the table%s (version %lld); nothing written",
			ninputs == 1 ? ff_input_name(inputs[0]) : "these inputs", nspecs == 1 ? "" : "s",
			(long long)folded_version);
		/* A PostgreSQL store: nothing to push (descriptions wait for the next write). */
		rc = pgw ? 0 : keep_descriptions(st, targets, nspecs);
		goto out;
	}
	if (skipped) {
		for (size_t i = 0; i < nspecs; i++)
			if (targets[i].skip)
				ff_error("%s: already folded into %s, but not into the other tables: compute "
					 "those alone", ninputs == 1 ? ff_input_name(inputs[0]) : "these inputs",
					 targets[i].def.name);
		goto out;
	}
	for (size_t i = 0; i < nspecs; i++) {
		struct target *t = &targets[i];
		if (ff_table_writer_finish(t->writer, &ws[i]) < 0)
			goto out;
		int changed = ws[i].created || ws[i].inserted || ws[i].updated || ws[i].deleted;
		if (ff_store_batch_record(st, t->def.name, &batch, ws[i].version,
					  t->rows ? t->first_end / FF_USEC : 1, t->rows ? t->last_end / FF_USEC : 0,
					  changed) < 0)
			goto out;
	}
	if (pgw) {
		int64_t *versions = ff_xcalloc(nspecs, sizeof *versions);
		int pushed = ff_pg_writer_push(pgw, versions);
		for (size_t i = 0; i < nspecs; i++)
			ws[i].version = versions[i];
		free(versions);
		if (pushed < 0)
			goto out;
	} else if (ff_store_commit(st) < 0) {
		goto out;
	}
	for (size_t i = 0; i < nspecs && opt->verbose; i++) {
		fprintf(stderr, "%s: %s: version %lld: %lld inserted, %lld updated, %lld deleted, "
			"%lld unchanged", ff_progname(), targets[i].def.name, (long long)ws[i].version,
			(long long)ws[i].inserted, (long long)ws[i].updated,
			(long long)ws[i].deleted, (long long)ws[i].unchanged);
		/* What the write read of the table from PostgreSQL. */
		if (pgw)
			fprintf(stderr, "; %lld stored rows copied", (long long)ff_pg_writer_copied(pgw, i));
		fputc('\n', stderr);
	}
	if (opt->verbose) {
		int64_t late = 0;
		for (size_t i = 0; i < nspecs; i++)
			late += ff_agg_late_rows(targets[i].agg);
		fprintf(stderr, "%s: %lld row%s read", ff_progname(), (long long)nrows, nrows == 1 ? "" : "s");
		if (late)
			fprintf(stderr, ", %lld folded into windows written earlier in the run", (long long)late);
		fputc('\n', stderr);
	}
	rc = 0;
out:
	if (writer_running) {
		atomic_store(&wr.failed, 1);
		for (size_t i = 0; i < nspecs; i++)
			if (targets[i].batch)
				batch_submit(&wr, targets[i].batch);
		writer_stop(&wr);
		if (stream && atomic_load(&wr.unordered))
			*unordered = 1;
	}
	for (size_t i = 0; i < nspecs; i++) {
		free(targets[i].last_key);
		free(targets[i].line.buf);
		ff_table_writer_free(targets[i].writer);
		ff_agg_free(targets[i].agg);
		ff_table_def_release(&targets[i].def);
		fold_release(&targets[i].fold);
	}
	free(targets);
	free(ins);
	free(ws);
	if (pgw)
		ff_pg_writer_close(pgw); /* and its private store */
	else
		ff_store_close(st);
	return rc;
}

/* Can the CSV output be streamed, and started again through the private
 * store if the windows come out of order? Inputs that can be read twice
 * (named regular files) and an output that can be cut back (a regular
 * file). */
static int can_stream(char **inputs, size_t ninputs, FILE *out)
{
	struct stat sb;
	/* An output opened for appending (>>) has no offset to cut back to. */
	int flags = fcntl(fileno(out), F_GETFL);
	if (ninputs == 0 || flags < 0 || (flags & O_APPEND) || fstat(fileno(out), &sb) < 0 ||
	    !S_ISREG(sb.st_mode) || ftell(out) < 0)
		return 0;
	for (size_t i = 0; i < ninputs; i++)
		if (strcmp(inputs[i], "-") == 0 || stat(inputs[i], &sb) < 0 || !S_ISREG(sb.st_mode))
			return 0;
	return 1;
}

int ff_compute_run(struct ff_spec *specs, size_t nspecs, char **inputs, size_t ninputs,
		   const struct ff_compute_options *opt)
{
	if (opt->store || nspecs != 1 || !can_stream(inputs, ninputs, opt->out))
		return compute(specs, nspecs, inputs, ninputs, opt, 0, NULL);
	/* The streamed run's messages are told only if it stands. */
	long at = ftell(opt->out);
	char *held = NULL;
	size_t held_len = 0;
	FILE *m = open_memstream(&held, &held_len);
	ff_hold_messages(m);
	int unordered = 0;
	int rc = compute(specs, nspecs, inputs, ninputs, opt, 1, &unordered);
	ff_hold_messages(NULL);
	if (m)
		fclose(m);
	if (!unordered) {
		if (held_len)
			fputs(held, stderr);
		free(held);
		return rc;
	}
	free(held);
	if (fflush(opt->out) != 0 || ftruncate(fileno(opt->out), at) < 0 || fseek(opt->out, at, SEEK_SET) < 0)
		return ff_error("cannot start the CSV output again: %s", strerror(errno));
	return compute(specs, nspecs, inputs, ninputs, opt, 0, NULL);
}
