#include "ff_compute.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ff_agg.h"
#include "ff_csv.h"
#include "ff_time.h"
#include "ff_util.h"

#define MAX_REPORTED_BAD 10
#define BATCH_ROWS 4096
#define BATCHES 8

/* Finished rows of one table on their way to the store writer thread. Text
 * cells hold an offset into arena (in .i) until the writer points .s at it. */
struct batch {
	struct target *t;
	size_t nrows;
	struct ff_cell *cells;
	char *arena;
	size_t arena_len, arena_cap;
	struct batch *next;
};

/* SQLite writes on a thread of their own, so that parsing and aggregating
 * the input (one core) overlaps with inserting (the other). */
struct writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake, freed;
	struct batch *head, *tail, *free_list;
	int done;
	atomic_int failed;
	struct batch pool[BATCHES];
};

struct target {
	const struct ff_spec *spec;
	struct ff_table_def def;
	struct ff_agg *agg;
	struct ff_table_writer *writer; /* NULL when writing CSV */
	struct writer *thread;
	struct batch *batch;            /* being filled */
	FILE *out;
	struct ff_cell *cells;
	int64_t rows;
};

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
		if (!atomic_load(&wr->failed)) {
			size_t ncols = b->t->def.ncols;
			for (size_t r = 0; r < b->nrows; r++)
				for (size_t c = 0; c < ncols; c++) {
					struct ff_cell *cell = &b->cells[r * ncols + c];
					if (b->t->def.cols[c].type == FF_TYPE_TEXT && !cell->null)
						cell->s = b->arena + cell->i;
				}
			if (ff_table_writer_put_rows(b->t->writer, b->cells, b->nrows) < 0)
				atomic_store(&wr->failed, 1);
		}
		pthread_mutex_lock(&wr->mu);
		b->next = wr->free_list;
		wr->free_list = b;
		pthread_cond_signal(&wr->freed);
	}
	pthread_mutex_unlock(&wr->mu);
	return NULL;
}

static int writer_start(struct writer *wr, size_t max_cols)
{
	memset(wr, 0, sizeof *wr);
	pthread_mutex_init(&wr->mu, NULL);
	pthread_cond_init(&wr->wake, NULL);
	pthread_cond_init(&wr->freed, NULL);
	for (size_t i = 0; i < BATCHES; i++) {
		wr->pool[i].cells = ff_xcalloc(BATCH_ROWS * max_cols, sizeof *wr->pool[i].cells);
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
	for (size_t i = 0; i < BATCHES; i++) {
		free(wr->pool[i].cells);
		free(wr->pool[i].arena);
	}
	pthread_mutex_destroy(&wr->mu);
	pthread_cond_destroy(&wr->wake);
	pthread_cond_destroy(&wr->freed);
	return atomic_load(&wr->failed) ? -1 : 0;
}

/* Copy a finished row into the table's batch, handing full batches over. */
static int queue_row(struct target *t)
{
	if (atomic_load(&t->thread->failed))
		return -1;
	if (!t->batch)
		t->batch = batch_get(t->thread, t);
	struct batch *b = t->batch;
	size_t ncols = t->def.ncols;
	struct ff_cell *dst = &b->cells[b->nrows * ncols];
	for (size_t c = 0; c < ncols; c++) {
		dst[c] = t->cells[c];
		if (t->def.cols[c].type == FF_TYPE_TEXT && !dst[c].null) {
			ff_grow(&b->arena, &b->arena_cap, b->arena_len + dst[c].len, 1);
			memcpy(b->arena + b->arena_len, dst[c].s, dst[c].len);
			dst[c].i = (int64_t)b->arena_len;
			dst[c].s = NULL;
			b->arena_len += dst[c].len;
		}
	}
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

static void write_csv_row(struct target *t)
{
	const struct ff_table_def *def = &t->def;
	char buf[64];
	for (size_t i = 0; i < def->ncols; i++) {
		const struct ff_cell *c = &t->cells[i];
		if (i)
			putc(',', t->out);
		if (c->null)
			continue;
		switch (def->cols[i].type) {
		case FF_TYPE_TEXT: ff_csv_put_field(t->out, c->s, c->len); break;
		case FF_TYPE_REAL: fwrite(buf, 1, (size_t)ff_format_double(buf, c->d), t->out); break;
		case FF_TYPE_TIMESTAMP: fwrite(buf, 1, (size_t)ff_time_format(c->i * FF_USEC, buf), t->out); break;
		case FF_TYPE_INTEGER: fprintf(t->out, "%lld", (long long)c->i); break;
		}
	}
	putc('\n', t->out);
}

static void write_csv_header(struct target *t);

static int emit(void *ctx, const struct ff_agg_row *row)
{
	struct target *t = ctx;
	const struct ff_spec *s = t->spec;
	size_t c = 0;
	for (size_t k = 0; k < s->nkeys; k++, c++)
		t->cells[c] = (struct ff_cell){.s = row->keys[k], .len = row->key_lens[k]};
	t->cells[c++] = (struct ff_cell){.i = row->window_end / FF_USEC};
	for (size_t f = 0; f < s->nfeatures; f++, c++)
		t->cells[c] = (struct ff_cell){.null = row->values[f].null, .i = row->values[f].i,
					       .d = row->values[f].d};
	if (s->partition)
		t->cells[c++] = (struct ff_cell){.s = row->partition, .len = 7};
	t->rows++;
	if (t->writer)
		return queue_row(t);
	if (t->rows == 1) /* the header with the first row: none before a failure */
		write_csv_header(t);
	write_csv_row(t);
	return 0;
}

static void write_csv_header(struct target *t)
{
	for (size_t i = 0; i < t->def.ncols; i++) {
		if (i)
			putc(',', t->out);
		ff_csv_put_field(t->out, t->def.cols[i].name, strlen(t->def.cols[i].name));
	}
	putc('\n', t->out);
}

static void report_bad(const struct bad_counts *bad)
{
	if (!bad->total)
		return;
	char detail[512];
	size_t n = 0;
	detail[0] = '\0';
	for (size_t i = 0; i < bad->n && n < sizeof detail; i++)
		n += (size_t)snprintf(detail + n, sizeof detail - n, "%s%lld %s", i ? ", " : "",
				      (long long)bad->count[i], bad->reason[i]);
	/* Not a warning that -q silences: rows left out must always be said. */
	fprintf(stderr, "%s: skipped %lld bad row%s (%s)\n", ff_progname(), (long long)bad->total,
		bad->total == 1 ? "" : "s", detail);
}

/* One input being read through every target. */
struct reading {
	struct target *targets;
	size_t ntargets;
	const char *name;
	const struct ff_compute_options *opt;
	struct bad_counts *bad;
	int64_t *nrows;
	size_t header_n; /* 0 until the header is read */
};

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
	if (rd->opt->progress && (nrows & 0xfffff) == 0)
		fprintf(stderr, "%s: %lld rows\r", ff_progname(), (long long)nrows);
	int ok = 1;
	if (n != rd->header_n) {
		snprintf(msg, sizeof msg, "%zu fields, the header has %zu", n, rd->header_n);
		reason = "wrong field count";
		ok = 0;
	}
	for (size_t i = 0; i < rd->ntargets && ok; i++)
		if (ff_agg_stage(rd->targets[i].agg, fields, n, msg, sizeof msg, &reason) < 0)
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
		if (ff_agg_commit(rd->targets[i].agg, rd->name, line) != 0)
			return -1;
	return 0;
}

/* Read one input through every target. Returns 0 or -1. */
static int read_input(struct target *targets, size_t ntargets, const char *path,
		      const struct ff_compute_options *opt, struct bad_counts *bad, int64_t *nrows)
{
	FILE *f = ff_open_input(path);
	if (!f)
		return -1;
	struct reading rd = {targets, ntargets, ff_input_name(path), opt, bad, nrows, 0};
	struct ff_csv_reader *r = ff_csv_open(f, rd.name);
	int rc = ff_csv_each(r, on_row, &rd);
	if (rc == 0 && rd.header_n == 0)
		rc = ff_error("%s: empty input: a header line is required", rd.name);
	ff_csv_close(r);
	if (f != stdin)
		fclose(f);
	return rc == 0 ? 0 : -1;
}

int ff_compute_run(struct ff_spec *specs, size_t nspecs, char **inputs, size_t ninputs,
		   const struct ff_compute_options *opt)
{
	struct target *targets = ff_xcalloc(nspecs, sizeof *targets);
	struct ff_store *st = NULL;
	struct bad_counts bad = {0};
	int64_t nrows = 0;
	struct writer wr;
	int writer_running = 0;
	int rc = -1;
	struct ff_agg_options aopt = {
		.has_start = opt->has_start, .has_end = opt->has_end,
		.start = opt->start, .end = opt->end, .lateness = opt->lateness,
	};
	struct ff_write_options wopt = {
		.mode = (enum ff_write_mode)opt->mode, .replace = opt->replace,
		.has_range = opt->has_start || opt->has_end,
		.start = opt->has_start ? ff_floor_div(opt->start, FF_USEC) : INT64_MIN,
		.end = opt->has_end ? ff_floor_div(opt->end, FF_USEC) : INT64_MAX,
	};

	for (size_t i = 0; i < nspecs; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(specs[i].table, specs[j].table) == 0) {
				ff_error("table %s is defined twice (%s, %s)", specs[i].table,
					 specs[j].origin, specs[i].origin);
				goto out;
			}
	if (opt->store) {
		if (ff_store_open(opt->store, FF_STORE_WRITE, &st) < 0 || ff_store_begin(st) < 0)
			goto out;
	}
	for (size_t i = 0; i < nspecs; i++) {
		struct target *t = &targets[i];
		t->spec = &specs[i];
		ff_spec_table_def(t->spec, &t->def);
		t->cells = ff_xcalloc(t->def.ncols, sizeof *t->cells);
		t->agg = ff_agg_new(t->spec, &aopt, emit, t);
		if (st) {
			if (ff_table_writer_open(st, &t->def, &wopt, &t->writer) < 0)
				goto out;
		} else {
			t->out = opt->out;
		}
	}
	if (st) {
		size_t max_cols = 0;
		for (size_t i = 0; i < nspecs; i++)
			if (targets[i].def.ncols > max_cols)
				max_cols = targets[i].def.ncols;
		if (writer_start(&wr, max_cols) < 0)
			goto out;
		writer_running = 1;
		for (size_t i = 0; i < nspecs; i++)
			targets[i].thread = &wr;
	}
	char *stdin_only[] = {"-"};
	if (ninputs == 0) {
		inputs = stdin_only;
		ninputs = 1;
	}
	for (size_t i = 0; i < ninputs; i++)
		if (read_input(targets, nspecs, inputs[i], opt, &bad, &nrows) < 0)
			goto out;
	for (size_t i = 0; i < nspecs; i++)
		if (ff_agg_finish(targets[i].agg) != 0)
			goto out;
	for (size_t i = 0; i < nspecs; i++)
		if (!st && targets[i].rows == 0)
			write_csv_header(&targets[i]);
	if (writer_running) {
		for (size_t i = 0; i < nspecs; i++)
			if (targets[i].batch) {
				batch_submit(&wr, targets[i].batch);
				targets[i].batch = NULL;
			}
		writer_running = 0;
		if (writer_stop(&wr) < 0)
			goto out;
	}
	if (opt->progress)
		fprintf(stderr, "%*s\r", 40, "");
	report_bad(&bad);
	if (st) {
		struct ff_write_stats ws[nspecs ? nspecs : 1];
		for (size_t i = 0; i < nspecs; i++)
			if (ff_table_writer_finish(targets[i].writer, &ws[i]) < 0)
				goto out;
		if (ff_store_commit(st) < 0)
			goto out;
		for (size_t i = 0; i < nspecs && opt->verbose; i++)
			fprintf(stderr, "%s: %s: version %lld: %lld inserted, %lld updated, %lld deleted, "
				"%lld unchanged\n", ff_progname(), targets[i].def.name, (long long)ws[i].version,
				(long long)ws[i].inserted, (long long)ws[i].updated,
				(long long)ws[i].deleted, (long long)ws[i].unchanged);
	}
	if (opt->verbose)
		fprintf(stderr, "%s: %lld row%s read\n", ff_progname(), (long long)nrows, nrows == 1 ? "" : "s");
	rc = 0;
out:
	if (writer_running) {
		atomic_store(&wr.failed, 1);
		for (size_t i = 0; i < nspecs; i++)
			if (targets[i].batch)
				batch_submit(&wr, targets[i].batch);
		writer_stop(&wr);
	}
	for (size_t i = 0; i < nspecs; i++) {
		ff_table_writer_free(targets[i].writer);
		ff_agg_free(targets[i].agg);
		ff_table_def_release(&targets[i].def);
		free(targets[i].cells);
	}
	free(targets);
	ff_store_close(st);
	return rc;
}
