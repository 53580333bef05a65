/* Records read ahead on a thread (ff_rec_ahead.h).
 *
 * The reading thread copies each record into a batch (cells, and the bytes
 * of its text cells in an arena) and hands over full batches through a ring
 * of NBATCHES; the caller's thread runs the callbacks on them in order. The
 * reading thread's messages (a bad record, a warning) are held and told by
 * the caller's thread before the rows of the batch they came with (those of
 * the last batch after its rows), and only as far as the caller's thread
 * got: as a single thread would tell them, to the batch. */
#include "ff_rec_ahead.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

enum {
	BATCH_ROWS = 2048,
	NBATCHES = 4,
	ARENA_FULL = 1 << 18, /* a batch of long texts hands over early */
};

struct batch {
	struct ff_cell *cells;   /* the records' cells, one after the other */
	size_t ncells, cells_cap;
	size_t *start, *n;       /* per record: first cell, number of cells */
	long *pos;
	size_t nrows;
	char *arena;             /* text bytes; cells hold offsets until handed over */
	size_t arena_len, arena_cap;
	char *messages;          /* the reading thread's, while it filled this batch */
};

struct ahead {
	struct ff_rec_reader *r;
	enum ff_rec_format format;
	pthread_mutex_t mu;
	pthread_cond_t changed;
	struct batch b[NBATCHES];
	size_t head, count;      /* batches handed over: b[head], ... (mod NBATCHES) */
	struct batch *fill;      /* the one the reading thread fills */
	int stop;                /* the caller's thread gave up */
	int done, rc;            /* the reading thread ended, with ff_rec_each's value */
	char *end_messages;
	int have_schema;
	struct ff_rec_schema schema;
	FILE *held;
	char *held_buf;
	size_t held_len;
};

/* The reading thread's messages so far, taken (NULL if none). */
static char *take_messages(struct ahead *a)
{
	if (!a->held)
		return NULL;
	fflush(a->held);
	char *m = a->held_len ? ff_xstrndup(a->held_buf, a->held_len) : NULL;
	rewind(a->held);
	a->held_len = 0;
	if (a->held_buf)
		a->held_buf[0] = '\0';
	return m;
}

static int read_schema(void *ctx, const struct ff_rec_schema *schema)
{
	struct ahead *a = ctx;
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < schema->ncols; i++)
		ff_rec_schema_add(&a->schema, schema->names[i], schema->types[i]);
	a->have_schema = 1;
	pthread_cond_broadcast(&a->changed);
	int stop = a->stop;
	pthread_mutex_unlock(&a->mu);
	return stop;
}

static void hand_over(struct ahead *a)
{
	struct batch *b = a->fill;
	b->messages = take_messages(a);
	pthread_mutex_lock(&a->mu);
	a->count++;
	pthread_cond_broadcast(&a->changed);
	pthread_mutex_unlock(&a->mu);
	a->fill = NULL;
}

static int is_text(const struct ahead *a, size_t col)
{
	if (col < a->schema.ncols)
		return a->schema.types[col] == FF_TYPE_TEXT;
	return a->format == FF_REC_CSV; /* a CSV line longer than its header */
}

static int read_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	struct ahead *a = ctx;
	if (!a->fill) {
		pthread_mutex_lock(&a->mu);
		while (a->count == NBATCHES && !a->stop)
			pthread_cond_wait(&a->changed, &a->mu);
		int stop = a->stop;
		if (!stop)
			a->fill = &a->b[(a->head + a->count) % NBATCHES];
		pthread_mutex_unlock(&a->mu);
		if (stop)
			return 1;
		struct batch *b = a->fill;
		b->ncells = b->nrows = b->arena_len = 0;
	}
	struct batch *b = a->fill;
	if (b->ncells + n > b->cells_cap)
		ff_grow(&b->cells, &b->cells_cap, b->ncells + n, sizeof *b->cells);
	struct ff_cell *to = b->cells + b->ncells;
	memcpy(to, cells, n * sizeof *cells);
	for (size_t i = 0; i < n; i++) {
		if (to[i].null || !is_text(a, i))
			continue;
		if (b->arena_len + to[i].len + 1 > b->arena_cap)
			ff_grow(&b->arena, &b->arena_cap, b->arena_len + to[i].len + 1, 1);
		if (to[i].len)
			memcpy(b->arena + b->arena_len, to[i].s, to[i].len);
		b->arena[b->arena_len + to[i].len] = '\0';
		to[i].s = NULL;
		to[i].i = (int64_t)b->arena_len;
		b->arena_len += to[i].len + 1;
	}
	b->start[b->nrows] = b->ncells;
	b->n[b->nrows] = n;
	b->pos[b->nrows++] = pos;
	b->ncells += n;
	if (b->nrows == BATCH_ROWS || b->arena_len >= ARENA_FULL)
		hand_over(a);
	return 0;
}

static void *reading_thread(void *arg)
{
	struct ahead *a = arg;
	a->held = open_memstream(&a->held_buf, &a->held_len);
	ff_hold_messages(a->held);
	int rc = ff_rec_each(a->r, read_schema, read_row, a);
	/* What the reader said at its end (a bad last record) comes after the
	 * rows before it, the last batch included. */
	char *m = take_messages(a);
	if (a->fill)
		hand_over(a);
	ff_hold_messages(NULL);
	if (a->held)
		fclose(a->held);
	pthread_mutex_lock(&a->mu);
	a->end_messages = m;
	a->rc = rc;
	a->done = 1;
	pthread_cond_broadcast(&a->changed);
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* The callbacks on the rows of one batch; their first non-zero value. */
static int run_batch(const struct ahead *a, struct batch *b, ff_rec_row_fn on_row, void *ctx)
{
	for (size_t r = 0; r < b->nrows; r++) {
		struct ff_cell *cells = b->cells + b->start[r];
		for (size_t i = 0; i < b->n[r]; i++)
			if (!cells[i].null && is_text(a, i))
				cells[i].s = b->arena + cells[i].i;
		int rc = on_row(ctx, cells, b->n[r], b->pos[r]);
		if (rc)
			return rc;
	}
	return 0;
}

static void tell(char **messages)
{
	if (*messages)
		fputs(*messages, stderr);
	free(*messages);
	*messages = NULL;
}

int ff_rec_each_ahead(struct ff_rec_reader *r, ff_rec_schema_fn on_schema, ff_rec_row_fn on_row,
		      void *ctx)
{
	struct ahead a = {.r = r, .format = ff_rec_input_format(r)};
	for (size_t i = 0; i < NBATCHES; i++) {
		a.b[i].start = ff_xmalloc(BATCH_ROWS * sizeof *a.b[i].start);
		a.b[i].n = ff_xmalloc(BATCH_ROWS * sizeof *a.b[i].n);
		a.b[i].pos = ff_xmalloc(BATCH_ROWS * sizeof *a.b[i].pos);
	}
	pthread_mutex_init(&a.mu, NULL);
	pthread_cond_init(&a.changed, NULL);
	pthread_t thread;
	int rc = 0;
	if (pthread_create(&thread, NULL, reading_thread, &a) != 0) {
		rc = ff_rec_each(r, on_schema, on_row, ctx);
		goto out;
	}
	int schema_told = 0;
	pthread_mutex_lock(&a.mu);
	for (;;) {
		while (!a.count && !a.done && (a.have_schema == schema_told))
			pthread_cond_wait(&a.changed, &a.mu);
		if (a.have_schema && !schema_told) {
			pthread_mutex_unlock(&a.mu);
			schema_told = 1;
			rc = on_schema(ctx, &a.schema);
			pthread_mutex_lock(&a.mu);
			if (rc)
				break;
			continue;
		}
		if (!a.count)
			break; /* done, and every batch run */
		struct batch *b = &a.b[a.head];
		pthread_mutex_unlock(&a.mu);
		tell(&b->messages);
		rc = run_batch(&a, b, on_row, ctx);
		pthread_mutex_lock(&a.mu);
		a.head = (a.head + 1) % NBATCHES;
		a.count--;
		pthread_cond_broadcast(&a.changed);
		if (rc)
			break;
	}
	a.stop = rc != 0;
	pthread_cond_broadcast(&a.changed);
	pthread_mutex_unlock(&a.mu);
	pthread_join(thread, NULL);
	if (rc == 0) {
		tell(&a.end_messages);
		rc = a.rc;
	}
out:
	free(a.end_messages);
	free(a.held_buf);
	for (size_t i = 0; i < NBATCHES; i++) {
		free(a.b[i].cells);
		free(a.b[i].start);
		free(a.b[i].n);
		free(a.b[i].pos);
		free(a.b[i].arena);
		free(a.b[i].messages);
	}
	ff_rec_schema_release(&a.schema);
	pthread_cond_destroy(&a.changed);
	pthread_mutex_destroy(&a.mu);
	return rc;
}
