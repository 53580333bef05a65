#include "ff_serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ff_json.h"
#include "ff_metrics.h"
#include "ff_output.h"
#include "ff_redis.h"
#include "ff_request.h"
#include "ff_served.h"
#include "ff_util.h"

/* An open connection, for the deadline of its request in progress. */
struct conn {
	struct conn *prev, *next;
	int fd;
	int64_t since_ns;                /* its start, or the end of its last request */
	int cut;                         /* shut down for being late */
};

struct server {
	const struct ff_serve_options *o;
	struct MHD_Daemon *daemon;
	pthread_mutex_t conns_lock;
	struct conn conns;               /* the open connections: a ring */
	pthread_mutex_t lock;            /* current */
	struct ff_generation *current;
	struct ff_inference_log *log;
	struct ff_metrics metrics;
	atomic_int draining;
	atomic_int next_worker;
	atomic_uint_fast64_t requests;   /* scoring requests so far, for their ids */
	int64_t started_us;
	/* A Redis online store (ff_redis_is_url): the models wait for it when
	 * it is down at start (current NULL till then), and /health asks it. */
	int remote;
	pthread_mutex_t probe_lock;
	struct ff_redis *probe;
	char not_ready[300];             /* why current is NULL, under lock */
};

struct log_row {
	int64_t at_us;
	double latency_us;
	size_t fallbacks;                /* offset in log_text */
};

/* What one worker thread reuses from request to request. */
struct scratch {
	int worker;
	struct ff_request_rows rows;
	FILE *messages;                  /* ff_error's text while scoring */
	char message[1024];
	float *pred;
	size_t pred_cap;
	float *log_x;                    /* rows x vector, for the inference log */
	size_t log_x_cap;
	struct log_row *log_rows;
	size_t log_rows_cap;
	char *log_text;                  /* fallbacks, NUL-terminated each */
	size_t log_text_len, log_text_cap;
	char *out;                       /* the response being built */
	size_t out_len, out_cap;
};
static _Thread_local struct scratch *scratch;
static pthread_mutex_t scratches_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch **scratches;
static size_t nscratches;

/* A request while its body arrives. */
struct request {
	int route;
	const char *model;               /* /models/NAME/...: the name, in the URL */
	size_t model_len;
	char *body;
	size_t len, cap;
	int too_big;
	int status;
	int close;                       /* framing broken: answer, then close */
	int64_t started_ns;
	char request_id[72];             /* scoring: sent back as X-Request-Id */
};

enum route { R_SCORE, R_HEALTH, R_VERSION, R_METRICS, R_UNKNOWN };

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static struct scratch *my_scratch(struct server *sv)
{
	if (!scratch) {
		scratch = ff_xcalloc(1, sizeof *scratch);
		scratch->worker = atomic_fetch_add(&sv->next_worker, 1);
		scratch->messages = fmemopen(scratch->message, sizeof scratch->message, "w");
		setvbuf(scratch->messages, NULL, _IONBF, 0);
		pthread_mutex_lock(&scratches_lock);
		scratches = ff_xrealloc(scratches, (nscratches + 1) * sizeof *scratches);
		scratches[nscratches++] = scratch;
		pthread_mutex_unlock(&scratches_lock);
	}
	return scratch;
}

/* ---- building responses ---- */

static void put(struct scratch *s, const char *p, size_t n)
{
	ff_grow(&s->out, &s->out_cap, s->out_len + n + 1, 1);
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
	s->out[s->out_len] = '\0';
}

static void puts_(struct scratch *s, const char *p) { put(s, p, strlen(p)); }

/* A JSON string (ff_json.h): bytes that are not UTF-8 (a request's own,
 * echoed in a message) become U+FFFD, so that the answer stays JSON. */
static void put_json_string(struct scratch *s, const char *p, size_t n)
{
	ff_grow(&s->out, &s->out_cap, s->out_len + FF_JSON_QUOTED_SIZE(n), 1);
	s->out_len += ff_json_quote(s->out + s->out_len, p, n);
}

static void put_float(struct scratch *s, float f)
{
	char num[32];
	if (isnan(f) || isinf(f)) {
		puts_(s, "null");
		return;
	}
	put(s, num, (size_t)ff_format_float(num, f));
}

static enum MHD_Result reply(struct MHD_Connection *c, struct request *rq, int status, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (rq->request_id[0])
		MHD_add_response_header(r, "X-Request-Id", rq->request_id);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, rq->route == R_SCORE ? "POST" : "GET, HEAD");
	if (rq->close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	rq->status = status;
	return ret;
}

/* An error in MLflow's shape: {"error_code": ..., "message": ...}. */
static enum MHD_Result reply_error(struct MHD_Connection *c, struct request *rq, struct scratch *s,
				   int status, const char *code, const char *message)
{
	s->out_len = 0;
	puts_(s, "{\"error_code\":\"");
	puts_(s, code);
	puts_(s, "\",\"message\":");
	put_json_string(s, message, strlen(message));
	puts_(s, "}\n");
	return reply(c, rq, status, "application/json", s->out, s->out_len);
}

/* ---- scoring ---- */

/* The message ff_error left in a held stream, without "prog: " and the
 * newline: the first line only. */
static void held_message(char *text, char *msg, size_t size)
{
	const char *p = text ? text : "";
	size_t plen = strlen(ff_progname());
	if (strncmp(p, ff_progname(), plen) == 0 && strncmp(p + plen, ": ", 2) == 0)
		p += plen + 2;
	size_t n = strcspn(p, "\n");
	if (n == 0) {
		p = "the request could not be scored";
		n = strlen(p);
	}
	snprintf(msg, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

static int truthy(const char *v)
{
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
		     *v == '\0');
}

/* ?features, ?features=true (1, yes) ask for the features with the
 * predictions; MHD gives a bare ?features a NULL value. */
static enum MHD_Result features_asked(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	if (strcmp(key, "features") == 0)
		*(int *)cls = !value || truthy(value);
	return MHD_YES;
}

static void put_features(struct scratch *s, const struct ff_served_model *sm, const struct ff_score *sc)
{
	const struct ff_strlist *names = sm->m->vector.names;
	puts_(s, "{");
	for (size_t i = 0; i < names->n; i++) {
		if (i)
			puts_(s, ",");
		put_json_string(s, names->v[i], strlen(names->v[i]));
		puts_(s, ":");
		put_float(s, sc->x[i]);
	}
	puts_(s, "}");
}

/* The features that fell back, as a JSON list. */
static void put_fallbacks(struct scratch *s, const struct ff_served_model *sm, const struct ff_score *sc)
{
	const struct ff_strlist *names = sm->m->vector.names;
	int first = 1;
	puts_(s, "[");
	for (size_t i = 0; i < names->n; i++) {
		if (!sc->fell_back[i])
			continue;
		if (!first)
			puts_(s, ",");
		first = 0;
		put_json_string(s, names->v[i], strlen(names->v[i]));
	}
	puts_(s, "]");
}

/* A row for the inference log, kept until the request is known good: its
 * vector, and the names of the features that fell back, comma-separated,
 * appended to log_text. */
static void keep_for_log(struct scratch *s, const struct ff_served_model *sm, const struct ff_score *sc,
			 size_t r, int64_t took_ns)
{
	const struct ff_strlist *names = sm->m->vector.names;
	size_t nvec = names->n, start = s->log_text_len;
	memcpy(s->log_x + r * nvec, sc->x, nvec * sizeof *sc->x);
	for (size_t i = 0; i < nvec; i++) {
		if (!sc->fell_back[i])
			continue;
		size_t n = strlen(names->v[i]);
		ff_grow(&s->log_text, &s->log_text_cap, s->log_text_len + n + 2, 1);
		if (s->log_text_len > start)
			s->log_text[s->log_text_len++] = ',';
		memcpy(s->log_text + s->log_text_len, names->v[i], n);
		s->log_text_len += n;
	}
	ff_grow(&s->log_text, &s->log_text_cap, s->log_text_len + 1, 1);
	s->log_text[s->log_text_len++] = '\0';
	s->log_rows[r] = (struct log_row){wall_us(), (double)took_ns / 1000.0, start};
}

/* The client's X-Request-Id when it is a plain token, else one of ours:
 * the server's start (microseconds, hex) and a count, unique across runs. */
static void request_id(struct server *sv, struct MHD_Connection *c, struct request *rq)
{
	const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
	size_t n = given ? strlen(given) : 0;
	int plain = n > 0 && n < sizeof rq->request_id;
	for (size_t i = 0; plain && i < n; i++)
		plain = given[i] > 0x20 && given[i] < 0x7f && given[i] != '"' && given[i] != '\\';
	if (plain)
		memcpy(rq->request_id, given, n + 1);
	else
		snprintf(rq->request_id, sizeof rq->request_id, "%llx-%llu", (unsigned long long)sv->started_us,
			 (unsigned long long)atomic_fetch_add(&sv->requests, 1) + 1);
}

/* The models served now, held (release them), or NULL while a Redis
 * online store down at start keeps them from loading. */
static struct ff_generation *hold_current(struct server *sv)
{
	pthread_mutex_lock(&sv->lock);
	struct ff_generation *g = sv->current;
	if (g)
		atomic_fetch_add(&g->refs, 1);
	pthread_mutex_unlock(&sv->lock);
	return g;
}

static enum MHD_Result unavailable(struct MHD_Connection *c, struct request *rq, struct scratch *s,
				   const char *message)
{
	return reply_error(c, rq, s, MHD_HTTP_SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE", message);
}

static enum MHD_Result score(struct server *sv, struct MHD_Connection *c, struct request *rq)
{
	struct scratch *s = my_scratch(sv);
	request_id(sv, c, rq);
	struct ff_generation *g = hold_current(sv);
	if (!g) {
		char msg[400];
		pthread_mutex_lock(&sv->lock);
		snprintf(msg, sizeof msg, "the models are not loaded yet: %s", sv->not_ready);
		pthread_mutex_unlock(&sv->lock);
		return unavailable(c, rq, s, msg);
	}

	struct ff_served_model *sm = rq->model ? ff_generation_find(g, rq->model, rq->model_len) : &g->models[0];
	enum MHD_Result ret;
	if (!sm) {
		char msg[300];
		snprintf(msg, sizeof msg, "no model named '%.*s'", (int)(rq->model_len > 200 ? 200 : rq->model_len),
			 rq->model);
		ret = reply_error(c, rq, s, MHD_HTTP_NOT_FOUND, "RESOURCE_DOES_NOT_EXIST", msg);
		ff_generation_release(g);
		return ret;
	}
	int spare = s->worker < 0 || (size_t)s->worker >= g->workers;
	struct ff_scorer *scorer = sm->scorers[spare ? g->workers : (size_t)s->worker];
	if (spare)
		pthread_mutex_lock(&sm->spare_lock);

	const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	int explain = 0;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, features_asked, &explain);
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-FF-Features");
	explain |= h && truthy(h);

	/* Messages of the parsing and scoring go to the answer, not stderr. */
	rewind(s->messages);
	memset(s->message, 0, sizeof s->message);
	ff_hold_messages(s->messages);
	s->rows.columns = ff_scorer_columns(scorer);
	s->rows.max_rows = sv->o->max_rows;
	int rc = ff_request_parse(&s->rows, rq->body ? rq->body : "", rq->len, ctype);
	int unsupported = rc == FF_REQUEST_UNSUPPORTED;

	size_t nrows = rc == 0 ? s->rows.nrows : 0, ncols = s->rows.columns->n;
	size_t nvec = sm->m->vector.n;
	ff_grow(&s->pred, &s->pred_cap, nrows ? nrows : 1, sizeof *s->pred);
	float *pred = s->pred;
	/* What the log gets, kept until every row has been scored: a request
	 * answered 400 logs nothing. */
	int logging = sv->log && sm->log_table >= 0;
	if (logging) {
		ff_grow(&s->log_x, &s->log_x_cap, (nrows ? nrows : 1) * (nvec ? nvec : 1), sizeof *s->log_x);
		ff_grow(&s->log_rows, &s->log_rows_cap, nrows ? nrows : 1, sizeof *s->log_rows);
		s->log_text_len = 0;
	}
	char where[64];
	/* The answer with features is built as the rows are scored. */
	struct scratch ex = {0}, fbs = {0}, lat = {0};
	uint64_t lookups = 0, misses = 0, fallbacks = 0;
	if (explain) {
		puts_(&ex, ",\"features\":[");
		puts_(&fbs, ",\"fallbacks\":[");
		puts_(&lat, ",\"lookup_latency_us\":[");
	}
	for (size_t r = 0; rc == 0 && r < nrows; r++) {
		struct ff_score sc;
		snprintf(where, sizeof where, "row %zu", r + 1);
		int64_t t0 = now_ns();
		if ((rc = ff_scorer_score(scorer, s->rows.cells + r * ncols, where, &sc)) < 0)
			break;
		int64_t took = now_ns() - t0;
		pred[r] = sc.prediction;
		lookups += sc.lookups;
		misses += sc.misses;
		fallbacks += sc.fallbacks;
		if (explain) {
			if (r) {
				puts_(&ex, ",");
				puts_(&fbs, ",");
				puts_(&lat, ",");
			}
			put_features(&ex, sm, &sc);
			put_fallbacks(&fbs, sm, &sc);
			char num[40];
			snprintf(num, sizeof num, "%.3f", (double)sc.lookup_ns / 1000.0);
			puts_(&lat, num);
		}
		if (logging)
			keep_for_log(s, sm, &sc, r, took);
	}
	if (spare)
		pthread_mutex_unlock(&sm->spare_lock);
	ff_hold_messages(NULL);
	for (size_t r = 0; rc == 0 && logging && r < nrows; r++) {
		const char *fbr = s->log_text + s->log_rows[r].fallbacks;
		struct ff_inference_entry e = {sm->log_table, s->log_rows[r].at_us, sm->version, rq->request_id,
					       (int64_t)r + 1, s->log_rows[r].latency_us, pred[r], *fbr ? fbr : NULL,
					       s->log_x + r * nvec};
		ff_inference_log_put(sv->log, &e);
	}

	atomic_fetch_add_explicit(&sv->metrics.lookups, lookups, memory_order_relaxed);
	atomic_fetch_add_explicit(&sv->metrics.misses, misses, memory_order_relaxed);
	atomic_fetch_add_explicit(&sv->metrics.fallbacks, fallbacks, memory_order_relaxed);
	if (rc < 0) {
		char msg[1024];
		s->message[sizeof s->message - 1] = '\0';
		held_message(s->message, msg, sizeof msg);
		if (unsupported)
			ret = reply_error(c, rq, s, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", msg);
		else if (sv->remote && ff_redis_down()) /* not the request's fault: try again */
			ret = unavailable(c, rq, s, msg);
		else
			ret = reply_error(c, rq, s, MHD_HTTP_BAD_REQUEST, "BAD_REQUEST", msg);
	} else {
		atomic_fetch_add_explicit(&sv->metrics.rows, nrows, memory_order_relaxed);
		s->out_len = 0;
		puts_(s, "{\"predictions\":[");
		for (size_t r = 0; r < nrows; r++) {
			if (r)
				puts_(s, ",");
			put_float(s, pred[r]);
		}
		puts_(s, "]");
		if (explain) {
			puts_(&ex, "]");
			puts_(&fbs, "]");
			puts_(&lat, "]");
			put(s, ex.out, ex.out_len);
			put(s, fbs.out, fbs.out_len);
			put(s, lat.out, lat.out_len);
			puts_(s, ",\"model\":");
			put_json_string(s, sm->name, strlen(sm->name));
			puts_(s, ",\"model_version\":");
			put_json_string(s, sm->version, strlen(sm->version));
		}
		puts_(s, "}\n");
		ret = reply(c, rq, MHD_HTTP_OK, "application/json", s->out, s->out_len);
	}
	free(ex.out);
	free(fbs.out);
	free(lat.out);
	ff_generation_release(g);
	return ret;
}

/* ---- the other routes ---- */

/* Ask the Redis online store whether it answers: 0, or -1 with why. */
static int probe_online(struct server *sv, char *why, size_t size)
{
	char held[512] = "";
	FILE *msgs = fmemopen(held, sizeof held - 1, "w");
	if (msgs)
		setvbuf(msgs, NULL, _IONBF, 0);
	ff_hold_messages(msgs);
	pthread_mutex_lock(&sv->probe_lock);
	struct ff_redis_timeouts t = {500, 500};
	int rc = sv->probe ? 0 : ff_redis_open(sv->o->online, &t, &sv->probe);
	if (rc == 0) {
		const char *argv[] = {"PING"};
		redisReply **rep;
		ff_redis_addv(sv->probe, 1, NULL, 1, argv);
		rc = ff_redis_run(sv->probe, &rep);
	}
	pthread_mutex_unlock(&sv->probe_lock);
	ff_hold_messages(NULL);
	if (msgs)
		fclose(msgs);
	if (rc < 0)
		held_message(held, why, size);
	return rc < 0 ? -1 : 0;
}

static enum MHD_Result health(struct server *sv, struct MHD_Connection *c, struct request *rq)
{
	struct scratch *s = my_scratch(sv);
	if (atomic_load(&sv->draining)) {
		const char *body = "{\"status\":\"draining\"}\n";
		return reply(c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", body, strlen(body));
	}
	struct ff_generation *g = hold_current(sv);
	char why[400] = "";
	if (!g) {
		pthread_mutex_lock(&sv->lock);
		snprintf(why, sizeof why, "the models are not loaded yet: %s", sv->not_ready);
		pthread_mutex_unlock(&sv->lock);
	} else if (sv->remote) {
		probe_online(sv, why, sizeof why); /* the models are there, their features may not be */
	}
	size_t n = g ? g->n : 0;
	ff_generation_release(g);
	s->out_len = 0;
	if (why[0]) {
		puts_(s, "{\"status\":\"not ready\",\"reason\":");
		put_json_string(s, why, strlen(why));
		puts_(s, "}\n");
		return reply(c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", s->out, s->out_len);
	}
	char text[80];
	snprintf(text, sizeof text, "{\"status\":\"ready\",\"models\":%zu}\n", n);
	puts_(s, text);
	return reply(c, rq, MHD_HTTP_OK, "application/json", s->out, s->out_len);
}

static void put_models(struct scratch *s, struct ff_generation *g)
{
	puts_(s, "[");
	for (size_t i = 0; i < g->n; i++) {
		const struct ff_served_model *sm = &g->models[i];
		if (i)
			puts_(s, ",");
		puts_(s, "{\"name\":");
		put_json_string(s, sm->name, strlen(sm->name));
		puts_(s, ",\"ref\":");
		put_json_string(s, sm->ref, strlen(sm->ref));
		puts_(s, ",\"loaded\":");
		put_json_string(s, sm->label, strlen(sm->label));
		puts_(s, ",\"version\":");
		put_json_string(s, sm->version, strlen(sm->version));
		puts_(s, ",\"inputs\":[");
		const struct ff_strlist *cols = ff_scorer_columns(sm->scorers[0]);
		for (size_t k = 0; k < cols->n; k++) {
			if (k)
				puts_(s, ",");
			put_json_string(s, cols->v[k], strlen(cols->v[k]));
		}
		puts_(s, "]}");
	}
	puts_(s, "]");
}

static enum MHD_Result version(struct server *sv, struct MHD_Connection *c, struct request *rq)
{
	struct scratch *s = my_scratch(sv);
	struct ff_generation *g = hold_current(sv);
	s->out_len = 0;
	puts_(s, "{\"ff\":\"" FF_VERSION "\",\"models\":");
	if (g)
		put_models(s, g);
	else
		puts_(s, "[]");
	puts_(s, "}\n");
	ff_generation_release(g);
	return reply(c, rq, MHD_HTTP_OK, "application/json", s->out, s->out_len);
}

static void label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			putc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			putc(*v, out);
	}
}

static enum MHD_Result metrics(struct server *sv, struct MHD_Connection *c, struct request *rq)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	ff_metrics_write(&sv->metrics, out);
	struct ff_generation *g = hold_current(sv);
	fputs("# HELP ff_serve_model_info The models served: name, version and what was loaded.\n"
	      "# TYPE ff_serve_model_info gauge\n", out);
	for (size_t i = 0; g && i < g->n; i++) {
		fputs("ff_serve_model_info{model=\"", out);
		label_value(out, g->models[i].name);
		fputs("\",version=\"", out);
		label_value(out, g->models[i].version);
		fputs("\",loaded=\"", out);
		label_value(out, g->models[i].label);
		fputs("\"} 1\n", out);
	}
	fputs("# HELP ff_serve_table_versions_behind How many versions each table a model reads\n"
	      "# has moved on since the model was trained (the online store's last sync).\n"
	      "# TYPE ff_serve_table_versions_behind gauge\n", out);
	for (size_t i = 0; g && i < g->n; i++)
		for (size_t t = 0; t < g->models[i].bound.ntables; t++) {
			const struct ff_table_binding *tb = &g->models[i].bound.tables[t];
			if (tb->trained < 0)
				continue; /* a blueprint that does not say */
			fputs("ff_serve_table_versions_behind{model=\"", out);
			label_value(out, g->models[i].name);
			fputs("\",table=\"", out);
			label_value(out, tb->table);
			fprintf(out, "\"} %lld\n", (long long)(tb->current - tb->trained));
		}
	fprintf(out, "# HELP ff_serve_model_loaded_time_seconds When the models were (re)loaded.\n"
		"# TYPE ff_serve_model_loaded_time_seconds gauge\nff_serve_model_loaded_time_seconds %lld\n",
		g ? g->loaded_at : 0LL);
	ff_generation_release(g);
	if (sv->log) {
		uint64_t written, dropped;
		ff_inference_log_counts(sv->log, &written, &dropped);
		fprintf(out, "# HELP ff_serve_inference_log_rows_total Rows written to the inference log.\n"
			"# TYPE ff_serve_inference_log_rows_total counter\nff_serve_inference_log_rows_total %llu\n"
			"# HELP ff_serve_inference_log_dropped_total Rows the inference log could not keep.\n"
			"# TYPE ff_serve_inference_log_dropped_total counter\n"
			"ff_serve_inference_log_dropped_total %llu\n",
			(unsigned long long)written, (unsigned long long)dropped);
	}
	fclose(out);
	enum MHD_Result ret = reply(c, rq, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
	return ret;
}

/* ---- dispatch ---- */

static void route_of(const char *url, struct request *rq)
{
	rq->route = R_UNKNOWN;
	if (strcmp(url, "/invocations") == 0 || strcmp(url, "/predict") == 0) {
		rq->route = R_SCORE;
	} else if (strcmp(url, "/health") == 0 || strcmp(url, "/ping") == 0) {
		rq->route = R_HEALTH;
	} else if (strcmp(url, "/version") == 0) {
		rq->route = R_VERSION;
	} else if (strcmp(url, "/metrics") == 0) {
		rq->route = R_METRICS;
	} else if (strncmp(url, "/models/", 8) == 0) {
		const char *name = url + 8, *slash = strchr(name, '/');
		if (slash && slash > name &&
		    (strcmp(slash, "/invocations") == 0 || strcmp(slash, "/predict") == 0)) {
			rq->route = R_SCORE;
			rq->model = name;
			rq->model_len = (size_t)(slash - name);
		}
	}
}

/* The headers that say where a body ends. */
struct framing {
	unsigned lengths, codings;
	const char *coding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		f->lengths++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->codings++;
		f->coding = value;
	}
	return MHD_YES;
}

/* RFC 9112 6.3: where a request's end is ambiguous (a length and a coding,
 * two lengths, two codings), a proxy in front may read another request in
 * its body than we do: 400 and close. A coding other than chunked is 501
 * and close: libmicrohttpd would wait for the connection's end. Returns
 * MHD_YES with nothing queued when the framing is sound. */
static enum MHD_Result check_framing(struct MHD_Connection *c, struct request *rq, struct scratch *s,
				     int *answered)
{
	struct framing f = {0, 0, NULL};
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	char msg[200];
	int status = MHD_HTTP_BAD_REQUEST;
	const char *code = "BAD_REQUEST";
	if (f.lengths && f.codings)
		snprintf(msg, sizeof msg, "both Content-Length and Transfer-Encoding: send one of them");
	else if (f.lengths > 1 || f.codings > 1)
		snprintf(msg, sizeof msg, "%s given %u times: send it once",
			 f.lengths > 1 ? "Content-Length" : "Transfer-Encoding", f.lengths > 1 ? f.lengths : f.codings);
	else if (f.codings && strcasecmp(f.coding, "chunked") != 0) {
		snprintf(msg, sizeof msg, "Transfer-Encoding '%.64s' is not supported: send the body chunked "
			 "or with a Content-Length", f.coding);
		status = MHD_HTTP_NOT_IMPLEMENTED;
		code = "NOT_IMPLEMENTED";
	} else
		return MHD_YES;
	*answered = 1;
	rq->close = 1;
	return reply_error(c, rq, s, status, code, msg);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *http_version, const char *upload, size_t *upload_size,
				  void **req_cls)
{
	struct server *sv = cls;
	struct request *rq = *req_cls;
	(void)http_version;
	if (!rq) {
		/* The headers are in: route, method and declared size first. */
		rq = ff_xcalloc(1, sizeof *rq);
		rq->started_ns = now_ns();
		*req_cls = rq;
		atomic_fetch_add(&sv->metrics.inflight, 1);
		route_of(url, rq);
		struct scratch *s = my_scratch(sv);
		int answered = 0;
		enum MHD_Result framed = check_framing(c, rq, s, &answered);
		if (answered)
			return framed;
		int post = strcmp(method, "POST") == 0;
		int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
		if (rq->route == R_UNKNOWN) {
			char msg[400];
			snprintf(msg, sizeof msg, "no such endpoint: %.200s (POST /invocations, /predict or "
				 "/models/NAME/invocations; GET /health, /ping, /version or /metrics)", url);
			return reply_error(c, rq, s, MHD_HTTP_NOT_FOUND, "ENDPOINT_NOT_FOUND", msg);
		}
		if ((rq->route == R_SCORE && !post) || (rq->route != R_SCORE && !get)) {
			char msg[300];
			snprintf(msg, sizeof msg, "%.20s is not allowed on %.200s", method, url);
			return reply_error(c, rq, s, MHD_HTTP_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", msg);
		}
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
		const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
		/* HTTP/1.0 has no chunks: without a length its body cannot be told
		 * from none. */
		if (rq->route == R_SCORE && !cl && !te)
			return reply_error(c, rq, s, MHD_HTTP_LENGTH_REQUIRED, "LENGTH_REQUIRED",
					   "give the body's Content-Length (or send it chunked)");
		if (rq->route == R_SCORE && ce && strcasecmp(ce, "identity") != 0) {
			char msg[200];
			snprintf(msg, sizeof msg, "Content-Encoding '%.64s' is not supported: send the body "
				 "uncompressed", ce);
			return reply_error(c, rq, s, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", msg);
		}
		if (rq->route == R_SCORE && cl && strtoull(cl, NULL, 10) > sv->o->body_limit) {
			char msg[200];
			snprintf(msg, sizeof msg, "the body is larger than the limit of %zu bytes", sv->o->body_limit);
			return reply_error(c, rq, s, MHD_HTTP_CONTENT_TOO_LARGE, "REQUEST_LIMIT_EXCEEDED", msg);
		}
		return MHD_YES;
	}
	if (rq->status) {
		*upload_size = 0; /* answered already: the rest of the body goes unread */
		return MHD_YES;
	}
	if (*upload_size) {
		/* A slow client sending a byte now and then: the whole body has
		 * the timeout too, not only each pause. */
		if (now_ns() - rq->started_ns > (int64_t)sv->o->timeout * 1000000000) {
			*upload_size = 0;
			return MHD_NO;
		}
		if (rq->too_big || rq->len + *upload_size > sv->o->body_limit) {
			rq->too_big = 1;
		} else {
			ff_grow(&rq->body, &rq->cap, rq->len + *upload_size + 1, 1);
			memcpy(rq->body + rq->len, upload, *upload_size);
			rq->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	struct scratch *s = my_scratch(sv);
	if (rq->too_big) {
		char msg[200];
		snprintf(msg, sizeof msg, "the body is larger than the limit of %zu bytes", sv->o->body_limit);
		return reply_error(c, rq, s, MHD_HTTP_CONTENT_TOO_LARGE, "REQUEST_LIMIT_EXCEEDED", msg);
	}
	switch (rq->route) {
	case R_SCORE: return score(sv, c, rq);
	case R_HEALTH: return health(sv, c, rq);
	case R_VERSION: return version(sv, c, rq);
	default: return metrics(sv, c, rq);
	}
}

/* ---- the deadline of a request, headers included ----
 * libmicrohttpd's timeout is for silence: a header line every few seconds
 * kept a connection forever. Each open connection is known here with the
 * time its current request began (the connection's start, or the end of its
 * previous request); once a second the late ones are shut down, which
 * libmicrohttpd then closes. It closes a socket only after telling us, under
 * conns_lock, so a descriptor shut down is never another connection's. */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server *sv = cls;
	struct conn *k = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k = ff_xcalloc(1, sizeof *k);
		k->fd = info ? info->connect_fd : -1;
		k->since_ns = now_ns();
		pthread_mutex_lock(&sv->conns_lock);
		k->next = sv->conns.next;
		k->prev = &sv->conns;
		k->next->prev = k;
		sv->conns.next = k;
		pthread_mutex_unlock(&sv->conns_lock);
		*socket_context = k;
	} else if (k) {
		pthread_mutex_lock(&sv->conns_lock);
		k->prev->next = k->next;
		k->next->prev = k->prev;
		pthread_mutex_unlock(&sv->conns_lock);
		free(k);
		*socket_context = NULL;
	}
}

/* A request is over: the connection's next one starts its clock now. */
static void request_over(struct server *sv, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *k = info ? info->socket_context : NULL;
	if (!k)
		return;
	pthread_mutex_lock(&sv->conns_lock);
	k->since_ns = now_ns();
	pthread_mutex_unlock(&sv->conns_lock);
}

static void cut_late(struct server *sv)
{
	int64_t now = now_ns(), limit = (int64_t)sv->o->timeout * 1000000000;
	pthread_mutex_lock(&sv->conns_lock);
	for (struct conn *k = sv->conns.next; k != &sv->conns; k = k->next)
		if (!k->cut && k->fd >= 0 && now - k->since_ns > limit) {
			shutdown(k->fd, SHUT_RDWR);
			k->cut = 1;
		}
	pthread_mutex_unlock(&sv->conns_lock);
}

/* Connections in all and from one client address, below the descriptor
 * limit (raised to its hard limit first) less what the stores, the log and
 * a reload's second set of models take: past them, libmicrohttpd closes a
 * new connection at once instead of failing to accept at all, and one
 * client cannot take them all. */
static void connection_limits(const struct ff_serve_options *o, unsigned *total, unsigned *per_client)
{
	struct rlimit rl;
	rlim_t files = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536) {
			rl.rlim_cur = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		files = rl.rlim_cur;
	}
	rlim_t reserve = 64 + 4 * ((rlim_t)o->threads + 1) * o->nmodels;
	rlim_t n = files > reserve + 16 ? files - reserve : 16;
	*total = n > FF_SERVE_MAX_CONNECTIONS ? FF_SERVE_MAX_CONNECTIONS : (unsigned)n;
	*per_client = *total / 4 > 0 ? *total / 4 : 1;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server *sv = cls;
	struct request *rq = *req_cls;
	request_over(sv, c);
	if (!rq)
		return;
	/* A request cut short (timeout, a client gone) counts as 408/499. */
	int status = rq->status ? rq->status
				: toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? MHD_HTTP_REQUEST_TIMEOUT : 499;
	ff_metrics_request(&sv->metrics, status, now_ns() - rq->started_ns);
	atomic_fetch_sub(&sv->metrics.inflight, 1);
	free(rq->body);
	free(rq);
	*req_cls = NULL;
}

/* ---- life cycle ---- */

static int resolve_address(const char *address, unsigned port, struct sockaddr_storage *sa, socklen_t *len)
{
	struct addrinfo hints = {0}, *res = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	char service[16];
	snprintf(service, sizeof service, "%u", port);
	int rc = getaddrinfo(address, service, &hints, &res);
	if (rc != 0)
		return ff_error("address '%s': %s", address, gai_strerror(rc));
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int write_port_file(const char *path, unsigned port)
{
	struct ff_output out;
	if (ff_output_open(&out, path) < 0)
		return -1;
	fprintf(out.f, "%u\n", port);
	return ff_output_close(&out, 1);
}

/* Models not loaded for want of the Redis online store: try again, the
 * messages kept for /health and the first failure's on stderr. Returns 0
 * once loaded. */
static int load_waiting(struct server *sv, int first)
{
	char held[512] = "";
	FILE *msgs = first ? NULL : fmemopen(held, sizeof held - 1, "w");
	if (msgs)
		setvbuf(msgs, NULL, _IONBF, 0);
	ff_hold_messages(msgs);
	struct ff_generation *g = NULL;
	int rc = ff_generation_load(sv->o->models, sv->o->nmodels, sv->o->registry, sv->o->online, sv->o->any_store,
				    sv->o->threads, sv->log, &g);
	int down = ff_redis_down();
	ff_hold_messages(NULL);
	if (msgs)
		fclose(msgs);
	pthread_mutex_lock(&sv->lock);
	if (rc == 0)
		sv->current = g;
	else if (!first)
		held_message(held, sv->not_ready, sizeof sv->not_ready);
	else
		snprintf(sv->not_ready, sizeof sv->not_ready, "the online store does not answer");
	pthread_mutex_unlock(&sv->lock);
	if (rc == 0 && !first)
		fprintf(stderr, "%s: the online store answers again: models loaded\n", ff_progname());
	return rc < 0 && down ? 1 : rc;
}

static void reload(struct server *sv)
{
	struct ff_generation *g;
	if (ff_generation_load(sv->o->models, sv->o->nmodels, sv->o->registry, sv->o->online, sv->o->any_store,
			       sv->o->threads,
			       sv->log, &g) < 0) {
		atomic_fetch_add(&sv->metrics.reload_failures, 1);
		ff_error("reload failed: the models loaded before go on serving");
		return;
	}
	pthread_mutex_lock(&sv->lock);
	struct ff_generation *old = sv->current;
	sv->current = g;
	pthread_mutex_unlock(&sv->lock);
	ff_generation_release(old);
	atomic_fetch_add(&sv->metrics.reloads, 1);
}

/* Let the requests in flight finish, for up to grace seconds. */
static void drain(struct server *sv)
{
	atomic_store(&sv->draining, 1);
	MHD_socket listener = MHD_quiesce_daemon(sv->daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	int64_t until = now_ns() + (int64_t)sv->o->grace * 1000000000;
	while (atomic_load(&sv->metrics.inflight) > 0 && now_ns() < until) {
		struct timespec pause = {0, 10 * 1000000};
		nanosleep(&pause, NULL);
	}
}

int ff_serve_run(const struct ff_serve_options *o)
{
	struct server sv;
	memset(&sv, 0, sizeof sv);
	sv.o = o;
	pthread_mutex_init(&sv.lock, NULL);
	pthread_mutex_init(&sv.conns_lock, NULL);
	pthread_mutex_init(&sv.probe_lock, NULL);
	sv.conns.next = sv.conns.prev = &sv.conns;
	ff_metrics_init(&sv.metrics);
	sv.started_us = wall_us();
	int rc = -1, port_written = 0;
	struct sockaddr_storage sa;
	socklen_t salen;
	/* The signals are taken by this thread alone, with sigwait: block
	 * them before any thread starts, so every thread inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (resolve_address(o->address, o->port, &sa, &salen) < 0)
		goto out;
	if (o->log && ff_inference_log_open(o->log, &sv.log) < 0)
		goto out;
	sv.remote = ff_redis_is_url(o->online);
	/* A Redis store down at start is waited for: answer 503 meanwhile. */
	int waiting = load_waiting(&sv, 1);
	if (waiting < 0 || (waiting && !sv.remote))
		goto out;
	if (waiting)
		ff_warn("the online store %s does not answer: serving 503 until it does", o->online);
	/* Turbo: no shutdown() before close and optimistic reads, 15% less
	 * CPU per request measured. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO;
	/* "::" means every interface, IPv4 ones too; another IPv6 address is
	 * that address only. */
	if (sa.ss_family == AF_INET6)
		flags |= IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&sa)->sin6_addr) ? MHD_USE_DUAL_STACK
											   : MHD_USE_IPv6;
	unsigned max_conns, max_per_client;
	connection_limits(o, &max_conns, &max_per_client);
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_SOCK_ADDR, 0, &sa},
		{MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)o->timeout, NULL},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, &sv},
		{MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, &sv},
		{MHD_OPTION_CONNECTION_LIMIT, (intptr_t)max_conns, NULL},
		{MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)max_per_client, NULL},
		{MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
		/* Headers and answers of a few KiB: the default 32 KiB pool is
		 * cleared for every request. */
		{MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16 * 1024, NULL},
		{o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)o->threads, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	sv.daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, &sv, MHD_OPTION_ARRAY,
				     opts, MHD_OPTION_END);
	if (!sv.daemon) {
		ff_error("cannot listen on %s port %u: %s", o->address, o->port,
			 errno ? strerror(errno) : "libmicrohttpd failed");
		goto out;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(sv.daemon, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : o->port;
	/* Written under a temporary name and renamed, so a stale file from an
	 * earlier run is replaced whole; removed again on the way out. */
	if (o->port_file && write_port_file(o->port_file, port) < 0)
		goto out;
	port_written = o->port_file != NULL;
	if (isatty(2))
		fprintf(stderr, "%s: serving %zu model%s on http://%s%s%s:%u/\n", ff_progname(), o->nmodels,
			o->nmodels == 1 ? "" : "s", sa.ss_family == AF_INET6 ? "[" : "", o->address,
			sa.ss_family == AF_INET6 ? "]" : "", port);
	else /* cron, systemd: one line for the log */
		fprintf(stderr, "%s: listening on %s%s%s:%u\n", ff_progname(), sa.ss_family == AF_INET6 ? "[" : "",
			o->address, sa.ss_family == AF_INET6 ? "]" : "", port);
	for (;;) {
		/* Each second without a signal, the late requests are cut. */
		struct timespec second = {1, 0};
		int sig = sigtimedwait(&sigs, NULL, &second);
		if (sig < 0) {
			cut_late(&sv);
			if (waiting)
				waiting = load_waiting(&sv, 0) != 0;
			continue;
		}
		if (sig == SIGHUP && waiting) {
			waiting = load_waiting(&sv, 0) != 0;
			continue;
		}
		if (sig == SIGHUP) {
			reload(&sv);
			continue;
		}
		break;
	}
	drain(&sv);
	rc = 0;
out:
	if (port_written)
		unlink(o->port_file);
	if (sv.daemon)
		MHD_stop_daemon(sv.daemon);
	ff_inference_log_close(sv.log);
	ff_generation_release(sv.current);
	for (size_t i = 0; i < nscratches; i++) {
		ff_request_rows_release(&scratches[i]->rows);
		if (scratches[i]->messages)
			fclose(scratches[i]->messages);
		free(scratches[i]->pred);
		free(scratches[i]->log_x);
		free(scratches[i]->log_rows);
		free(scratches[i]->log_text);
		free(scratches[i]->out);
		free(scratches[i]);
	}
	free(scratches);
	scratches = NULL;
	nscratches = 0;
	pthread_mutex_destroy(&sv.conns_lock);
	pthread_mutex_destroy(&sv.probe_lock);
	ff_redis_close(sv.probe);
	pthread_mutex_destroy(&sv.lock);
	return rc;
}
