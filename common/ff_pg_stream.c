#include "ff_pg_stream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

/* Buffers queued or being sent at most: the writer waits beyond. */
#define QUEUED_MAX 8

struct item {
	char qtable[80];
	const struct ff_pg_col *cols;
	size_t ncols;
	struct ff_pg_rows rows;
};

struct ff_pg_stream {
	struct ff_pg *pg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake, freed;
	struct item queue[QUEUED_MAX];
	size_t head, n;          /* queued items: queue[head..head+n) mod QUEUED_MAX */
	int done, abort, failed;
};

static void *stream_main(void *arg)
{
	struct ff_pg_stream *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->n && !s->done)
			pthread_cond_wait(&s->wake, &s->mu);
		if (!s->n)
			break;
		struct item *it = &s->queue[s->head];
		int skip = s->failed || s->abort;
		pthread_mutex_unlock(&s->mu);
		int rc = skip ? 0 : ff_pg_rows_send(s->pg, it->qtable, it->cols, it->ncols, &it->rows);
		pthread_mutex_lock(&s->mu);
		if (rc < 0)
			s->failed = 1;
		it->rows.len = it->rows.nrows = 0;
		s->head = (s->head + 1) % QUEUED_MAX;
		s->n--;
		pthread_cond_signal(&s->freed);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int ff_pg_stream_start(struct ff_pg *pg, struct ff_pg_stream **out)
{
	struct ff_pg_stream *s = ff_xcalloc(1, sizeof *s);
	*out = NULL;
	s->pg = pg;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->freed, NULL);
	if (pthread_create(&s->thread, NULL, stream_main, s) != 0) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->wake);
		pthread_cond_destroy(&s->freed);
		free(s);
		return ff_error("cannot start the thread that writes into PostgreSQL");
	}
	*out = s;
	return 0;
}

int ff_pg_stream_send(struct ff_pg_stream *s, const char *qtable, const struct ff_pg_col *cols, size_t ncols,
		      struct ff_pg_rows *rows)
{
	pthread_mutex_lock(&s->mu);
	while (s->n == QUEUED_MAX && !s->failed)
		pthread_cond_wait(&s->freed, &s->mu);
	if (s->failed) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	struct item *it = &s->queue[(s->head + s->n) % QUEUED_MAX];
	snprintf(it->qtable, sizeof it->qtable, "%s", qtable);
	it->cols = cols;
	it->ncols = ncols;
	/* Swap: the queue slot's empty buffer (kept from its last use) back. */
	struct ff_pg_rows empty = it->rows;
	it->rows = *rows;
	*rows = empty;
	s->n++;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int ff_pg_stream_finish(struct ff_pg_stream *s, int abort)
{
	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	s->done = 1;
	s->abort |= abort;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	int rc = s->failed ? -1 : 0;
	for (size_t i = 0; i < QUEUED_MAX; i++)
		ff_pg_rows_release(&s->queue[i].rows);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->freed);
	free(s);
	return rc;
}
