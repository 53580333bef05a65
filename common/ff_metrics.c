#include "ff_metrics.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

/* Upper bounds of the latency buckets, in seconds: a scoring request is
 * tens of microseconds, a slow one milliseconds. */
static const double bounds[FF_METRICS_BUCKETS] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
						  0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
						  1,       5};

void ff_metrics_init(struct ff_metrics *mx)
{
	memset(mx, 0, sizeof *mx);
	mx->started_at = (int64_t)time(NULL);
}

void ff_metrics_request(struct ff_metrics *mx, int status, int64_t latency_ns)
{
	if (status >= 0 && status < 600)
		atomic_fetch_add_explicit(&mx->by_code[status], 1, memory_order_relaxed);
	double secs = (double)latency_ns / 1e9;
	size_t b = 0;
	while (b < FF_METRICS_BUCKETS && secs > bounds[b])
		b++;
	atomic_fetch_add_explicit(&mx->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mx->latency_ns_sum, (uint_fast64_t)latency_ns, memory_order_relaxed);
}

static void counter(FILE *out, const char *name, const char *help, uint64_t v)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name, name, v);
}

void ff_metrics_write(struct ff_metrics *mx, FILE *out)
{
	uint64_t errors = 0;
	fputs("# HELP ff_serve_requests_total Requests by HTTP status; 408 and 499 were closed unanswered "
	      "(timed out; the client or a stop cut them short).\n"
	      "# TYPE ff_serve_requests_total counter\n", out);
	for (int code = 0; code < 600; code++) {
		uint64_t n = atomic_load(&mx->by_code[code]);
		if (!n)
			continue;
		fprintf(out, "ff_serve_requests_total{code=\"%d\"} %" PRIu64 "\n", code, n);
		if (code >= 400)
			errors += n;
	}
	counter(out, "ff_serve_errors_total", "Requests with a 4xx or 5xx status (408 and 499 included).", errors);
	fputs("# HELP ff_serve_request_duration_seconds Time from a request's headers to its answer.\n"
	      "# TYPE ff_serve_request_duration_seconds histogram\n", out);
	uint64_t cum = 0;
	for (size_t b = 0; b <= FF_METRICS_BUCKETS; b++) {
		cum += atomic_load(&mx->bucket[b]);
		if (b < FF_METRICS_BUCKETS)
			fprintf(out, "ff_serve_request_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n", bounds[b], cum);
		else
			fprintf(out, "ff_serve_request_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n", cum);
	}
	fprintf(out, "ff_serve_request_duration_seconds_sum %.9f\n",
		(double)atomic_load(&mx->latency_ns_sum) / 1e9);
	fprintf(out, "ff_serve_request_duration_seconds_count %" PRIu64 "\n", cum);
	counter(out, "ff_serve_rows_total", "Rows scored.", atomic_load(&mx->rows));
	counter(out, "ff_serve_lookups_total", "Feature lookups in the online store.", atomic_load(&mx->lookups));
	counter(out, "ff_serve_lookup_misses_total", "Lookups that found no row.", atomic_load(&mx->misses));
	counter(out, "ff_serve_fallbacks_total", "Features that took the blueprint's fallback.",
		atomic_load(&mx->fallbacks));
	counter(out, "ff_serve_reloads_total", "Model reloads (SIGHUP) that took effect.", atomic_load(&mx->reloads));
	counter(out, "ff_serve_reload_failures_total", "Model reloads that failed (the old models kept serving).",
		atomic_load(&mx->reload_failures));
	fprintf(out, "# HELP ff_serve_inflight_requests Requests being answered.\n"
		"# TYPE ff_serve_inflight_requests gauge\nff_serve_inflight_requests %" PRIdFAST64 "\n",
		atomic_load(&mx->inflight));
	fprintf(out, "# HELP ff_serve_start_time_seconds When the server started (Unix time).\n"
		"# TYPE ff_serve_start_time_seconds gauge\nff_serve_start_time_seconds %" PRId64 "\n",
		mx->started_at);
}
