/* ff_metrics: a server's counters and its latency histogram, updated from
 * any thread without locks, written in Prometheus' text format. */
#ifndef FF_METRICS_H
#define FF_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define FF_METRICS_BUCKETS 14

struct ff_metrics {
	atomic_uint_fast64_t by_code[600];       /* answered requests by HTTP status */
	atomic_uint_fast64_t bucket[FF_METRICS_BUCKETS + 1]; /* latency; the last is +Inf */
	atomic_uint_fast64_t latency_ns_sum;
	atomic_uint_fast64_t rows, lookups, misses, fallbacks;
	atomic_uint_fast64_t reloads, reload_failures;
	atomic_int_fast64_t inflight;
	int64_t started_at;                      /* wall clock, seconds */
};

void ff_metrics_init(struct ff_metrics *mx);
/* A request answered with status after latency_ns. */
void ff_metrics_request(struct ff_metrics *mx, int status, int64_t latency_ns);
/* Write the counters (not the model and log lines: the server adds them). */
void ff_metrics_write(struct ff_metrics *mx, FILE *out);

#endif
