/* ff_inference_log: what a server scored, appended to a SQLite file for
 * monitoring, off the request path. One table per model, inference_NAME:
 * logged_at (ISO 8601 UTC, milliseconds), model, model_version, request_id
 * (the client's X-Request-Id, or one made by the server: it joins labels
 * known later), row (in the request, from 1), latency_us, prediction,
 * fallbacks (comma-separated feature names), then one REAL column per
 * feature of the model's vector, named as in its training set.
 * Requests hand entries to a queue; a thread of its own writes them in
 * batches, one transaction each. A full queue drops entries and counts them
 * rather than slow the requests down. */
#ifndef FF_INFERENCE_LOG_H
#define FF_INFERENCE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "ff_join_spec.h"

struct ff_inference_log;

/* Open (create) the log file and start its writer. Returns 0 or -1
 * (reported). */
int ff_inference_log_open(const char *path, struct ff_inference_log **out);
/* Write what is queued, stop the writer and close. */
void ff_inference_log_close(struct ff_inference_log *log);

/* Make sure model's table is there with these feature columns: created if
 * missing, an error if it has other columns. Returns a table handle >= 0,
 * or -1 (reported). Safe while the writer runs (a reload calls it), from
 * one thread at a time. */
int ff_inference_log_table(struct ff_inference_log *log, const char *model,
			   const struct ff_strlist *features);

struct ff_inference_entry {
	int table;
	int64_t logged_at_us;      /* wall clock, microseconds since the epoch */
	const char *model_version;
	const char *request_id;
	int64_t row;               /* in the request, from 1 */
	double latency_us;
	float prediction;
	const char *fallbacks;     /* may be NULL */
	const float *x;            /* the features; NaN: NULL */
};

/* Queue an entry (copied). Thread-safe. Returns 0, or -1 if the queue was
 * full and the entry dropped. */
int ff_inference_log_put(struct ff_inference_log *log, const struct ff_inference_entry *e);

/* Entries written and dropped so far. */
void ff_inference_log_counts(struct ff_inference_log *log, uint64_t *written, uint64_t *dropped);

#endif
