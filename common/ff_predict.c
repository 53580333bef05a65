#include "ff_predict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_join.h"
#include "ff_store_bind.h"
#include "ff_trees.h"
#include "ff_util.h"

#define CHUNK_ROWS 4096

struct scoring {
	struct ff_model *m;
	const struct ff_predict_options *o;
	struct ff_join *join;
	FILE *out;
	struct ff_rec_writer *writer;
	struct ff_rec_schema schema;  /* of the output */
	int bound;
	long *vector_lookup;          /* per vector column: its lookup, or -1 */
	size_t *extra;                /* --with-features: vector columns added */
	size_t nextra;

	/* the chunk of rows waiting for their predictions */
	size_t nin;                   /* input columns */
	size_t rows;
	struct ff_cell *cells;        /* CHUNK_ROWS x nin, text as offsets into arena */
	char *arena;
	size_t arena_len, arena_cap;
	float *x, *pred;
	char **fell_back;             /* per row: names of the features that fell back */
	struct ff_cell *out_cells;
	size_t chunk;                 /* rows per prediction: 1 when streaming */

	/* --stats */
	int64_t *latency_ns, *started_ns;
	size_t nlatency, latency_cap;
	int64_t lookups, misses, fallbacks;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int bind(void *ctx, const struct ff_rec_schema *out, const struct ff_rec_schema *in,
		const char *where)
{
	struct scoring *sc = ctx;
	struct ff_vector *v = &sc->m->vector;
	if (sc->bound)
		return 0;
	if (ff_vector_bind(v, out, where) < 0)
		return -1;
	sc->nin = in->ncols;
	sc->vector_lookup = ff_predict_fallback_plan(sc->m, sc->join);
	for (size_t i = 0; i < sc->nin; i++)
		ff_rec_schema_add(&sc->schema, in->names[i], in->types[i]);
	if (ff_rec_schema_find(&sc->schema, "prediction") >= 0)
		return ff_error("%s: the input has a column named prediction already", where);
	/* XGBoost predicts floats: in CSV, the float's own shortest text; in a
	 * binary stream, the float as a real. */
	ff_rec_schema_add(&sc->schema, "prediction", sc->o->format == FF_REC_CSV ? FF_TYPE_TEXT : FF_TYPE_REAL);
	sc->extra = ff_xcalloc(v->n, sizeof *sc->extra);
	for (size_t i = 0; sc->o->with_features && i < v->n; i++)
		if (ff_rec_schema_find(&sc->schema, v->names->v[i]) < 0) {
			ff_rec_schema_add(&sc->schema, v->names->v[i], FF_TYPE_REAL);
			sc->extra[sc->nextra++] = i;
		}
	if (sc->o->with_fallbacks)
		ff_rec_schema_add(&sc->schema, "fallbacks", FF_TYPE_TEXT);
	sc->cells = ff_xcalloc(sc->chunk * (sc->nin ? sc->nin : 1), sizeof *sc->cells);
	sc->x = ff_xcalloc(sc->chunk * (v->n ? v->n : 1), sizeof *sc->x);
	sc->pred = ff_xcalloc(sc->chunk, sizeof *sc->pred);
	sc->fell_back = ff_xcalloc(sc->chunk, sizeof *sc->fell_back);
	sc->started_ns = ff_xcalloc(sc->chunk, sizeof *sc->started_ns);
	sc->out_cells = ff_xcalloc(sc->schema.ncols, sizeof *sc->out_cells);
	sc->writer = ff_rec_writer_open(sc->out, sc->o->format, &sc->schema);
	sc->bound = 1;
	if (sc->writer && sc->chunk > 1 && ff_rec_writer_async(sc->writer) < 0)
		return -1;
	return sc->writer ? 0 : -1;
}

static int flush(struct scoring *sc)
{
	struct ff_vector *v = &sc->m->vector;
	if (sc->rows == 0)
		return 0;
	int rc = 0;
	if (sc->chunk > 1)
		rc = ff_xgb_predict(sc->m->booster, sc->x, sc->rows, v->n, sc->pred);
	else if (sc->m->trees)
		sc->pred[0] = ff_trees_predict(sc->m->trees, sc->x);
	else
		rc = ff_xgb_predict_one(sc->m->booster, sc->x, v->n, sc->pred);
	if (rc < 0)
		return -1;
	/* Latency: from the row read to its prediction, before the write. */
	if (sc->o->stats) {
		int64_t done = now_ns();
		for (size_t r = 0; r < sc->rows; r++) {
			ff_grow(&sc->latency_ns, &sc->latency_cap, sc->nlatency + 1, sizeof *sc->latency_ns);
			sc->latency_ns[sc->nlatency++] = done - sc->started_ns[r];
		}
	}
	for (size_t r = 0; r < sc->rows; r++) {
		size_t c = 0;
		for (size_t i = 0; i < sc->nin; i++, c++) {
			sc->out_cells[c] = sc->cells[r * sc->nin + i];
			if (!sc->out_cells[c].null && sc->schema.types[c] == FF_TYPE_TEXT)
				sc->out_cells[c].s = sc->arena + sc->out_cells[c].i;
		}
		char text[32];
		int len = ff_format_float(text, sc->pred[r]);
		sc->out_cells[c++] = (struct ff_cell){.d = (double)sc->pred[r], .s = text, .len = (size_t)len};
		for (size_t e = 0; e < sc->nextra; e++, c++) {
			float f = sc->x[r * v->n + sc->extra[e]];
			sc->out_cells[c] = (struct ff_cell){.null = isnan(f), .d = (double)f};
		}
		if (sc->o->with_fallbacks) {
			const char *fb = sc->fell_back[r];
			sc->out_cells[c++] = (struct ff_cell){.null = !fb, .s = fb, .len = fb ? strlen(fb) : 0};
		}
		if (ff_rec_writer_put(sc->writer, sc->out_cells) < 0)
			return -1;
		free(sc->fell_back[r]);
		sc->fell_back[r] = NULL;
	}
	if (sc->chunk == 1 && ff_rec_writer_flush(sc->writer) < 0)
		return -1;
	sc->rows = 0;
	sc->arena_len = 0;
	return 0;
}

static void note_fallback(void *ctx, size_t column)
{
	struct scoring *sc = ctx;
	const char *name = sc->m->vector.names->v[column];
	char **fb = &sc->fell_back[sc->rows];
	size_t old = *fb ? strlen(*fb) : 0;
	*fb = ff_xrealloc(*fb, old + strlen(name) + 2);
	if (old)
		(*fb)[old++] = ' ';
	strcpy(*fb + old, name);
}

static int observe(void *ctx, const struct ff_join_row *row)
{
	struct scoring *sc = ctx;
	struct ff_vector *v = &sc->m->vector;
	float *x = sc->x + sc->rows * v->n;
	const char *bad = NULL;
	if (ff_vector_fill(v, row->cells, x, &bad) < 0)
		return ff_error("%s: column '%s': not a number", row->where, bad);
	if (sc->o->fallback == FF_FALLBACK_MEAN)
		sc->fallbacks += (int64_t)ff_predict_fallbacks(sc->m, sc->vector_lookup, row, x,
							      sc->o->with_fallbacks ? note_fallback : NULL, sc);
	size_t nl = ff_join_nlookups(sc->join);
	sc->lookups += (int64_t)nl;
	for (size_t l = 0; l < nl; l++)
		sc->misses += row->match[l] < 0;
	sc->started_ns[sc->rows] = row->started_ns;
	/* Keep the input row until its prediction is known. */
	for (size_t i = 0; i < sc->nin; i++) {
		struct ff_cell *c = &sc->cells[sc->rows * sc->nin + i];
		*c = row->input[i];
		if (!c->null && row->input_schema->types[i] == FF_TYPE_TEXT) {
			ff_grow(&sc->arena, &sc->arena_cap, sc->arena_len + c->len + 1, 1);
			memcpy(sc->arena + sc->arena_len, c->s, c->len);
			c->i = (int64_t)sc->arena_len;
			c->s = NULL;
			sc->arena_len += c->len;
		}
	}
	if (++sc->rows == sc->chunk)
		return flush(sc);
	return 0;
}

long *ff_predict_fallback_plan(const struct ff_model *m, const struct ff_join *j)
{
	const struct ff_vector *v = &m->vector;
	long *plan = ff_xcalloc(v->n ? v->n : 1, sizeof *plan);
	for (size_t i = 0; i < v->n; i++) {
		plan[i] = ff_join_feature_lookup(j, v->names->v[i]);
		/* A spec default is what training saw on a miss: keep it. */
		if (ff_join_feature_has_default(j, v->names->v[i]))
			plan[i] = -1;
	}
	return plan;
}

size_t ff_predict_fallbacks(const struct ff_model *m, const long *plan, const struct ff_join_row *row,
			    float *x, void (*note)(void *ctx, size_t column), void *ctx)
{
	const struct ff_vector *v = &m->vector;
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++) {
		long l = plan[i];
		if (l < 0 || row->match[l] >= 0)
			continue;
		/* The lookup missed: training saw this feature's value, serving did not. */
		double value;
		if (ff_blueprint_fallback(&m->bp, v->names->v[i], row->key_bytes[l], row->key_lens[l],
					  &value) == 0) {
			x[i] = (float)value;
			n++;
			if (note)
				note(ctx, i);
		}
	}
	return n;
}

static int by_ns(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void report_stats(struct scoring *sc, const struct ff_store_binding *bound)
{
	size_t n = sc->nlatency;
	if (n)
		qsort(sc->latency_ns, n, sizeof *sc->latency_ns, by_ns);
#define Q(p) (n ? (double)sc->latency_ns[(size_t)((double)(n - 1) * (p))] / 1000.0 : 0.0)
	/* Which scorer answered: one-row XGBoost is several times slower. */
	char scorer[200];
	if (sc->chunk > 1)
		snprintf(scorer, sizeof scorer, "XGBoost, in batches");
	else if (sc->m->trees)
		snprintf(scorer, sizeof scorer, "ff_trees");
	else
		snprintf(scorer, sizeof scorer, "XGBoost, one row at a time (ff_trees does not take %s)",
			 *ff_trees_refusal() ? ff_trees_refusal() : "this model");
	fprintf(stderr, "%s: %zu requests: latency p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us; "
		"%lld lookups, %lld misses, %lld fallbacks", ff_progname(), n, Q(0.5),
		Q(0.9), Q(0.99), n ? (double)sc->latency_ns[n - 1] / 1000.0 : 0.0,
		(long long)sc->lookups, (long long)sc->misses, (long long)sc->fallbacks);
	ff_store_binding_report(bound, stderr);
	fprintf(stderr, "; scorer %s\n", scorer);
#undef Q
}

int ff_predict_run(struct ff_model *m, char **inputs, size_t ninputs, FILE *out,
		   const struct ff_predict_options *o)
{
	struct scoring sc;
	memset(&sc, 0, sizeof sc);
	ff_rec_schema_init(&sc.schema);
	sc.m = m;
	sc.o = o;
	sc.out = out;
	sc.chunk = o->online ? 1 : CHUNK_ROWS;
	/* One row at a time: XGBoost's threads would only wait on each other. */
	if (o->online && ff_xgb_check(XGBoosterSetParam(m->booster, "nthread", "1"), "xgboost") < 0)
		return -1;
	struct ff_store_binding bound;
	memset(&bound, 0, sizeof bound);
	if ((o->online ? ff_store_bind_online(&m->bp, m->origin, o->online, o->any_store, &bound)
		       : ff_store_bind(&m->bp, m->origin, o->store, o->any_store, &bound)) < 0)
		return -1;
	int rc = ff_join_open(&m->bp.spec, o->online ? NULL : bound.path, o->online, &sc.join);
	if (rc == 0) {
		ff_join_on_schema(sc.join, bind);
		rc = ff_join_run(sc.join, inputs, ninputs, NULL, o->format, observe, &sc);
	}
	if (rc == 0)
		rc = flush(&sc);
	if (ff_rec_writer_close(sc.writer) < 0 && rc == 0)
		rc = -1;
	if (rc == 0 && o->stats)
		report_stats(&sc, &bound);
	ff_store_binding_release(&bound);
	for (size_t r = 0; sc.fell_back && r < sc.chunk; r++)
		free(sc.fell_back[r]);
	free(sc.started_ns);
	free(sc.latency_ns);
	free(sc.fell_back);
	free(sc.cells);
	free(sc.arena);
	free(sc.x);
	free(sc.pred);
	free(sc.out_cells);
	free(sc.vector_lookup);
	free(sc.extra);
	ff_rec_schema_release(&sc.schema);
	ff_join_free(sc.join);
	return rc;
}

/* ---- skew check ---- */

struct vectors {
	struct ff_model *m;
	float *x;
	char **where;
	size_t n, cap;
	int bound;
};

static int collect(void *ctx, const struct ff_join_row *row)
{
	struct vectors *vs = ctx;
	struct ff_vector *v = &vs->m->vector;
	if (!vs->bound) {
		if (ff_vector_bind(v, row->schema, row->where) < 0)
			return -1;
		vs->bound = 1;
	}
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? vs->cap * 2 : 1024;
		vs->x = ff_xrealloc(vs->x, vs->cap * (v->n ? v->n : 1) * sizeof *vs->x);
		vs->where = ff_xrealloc(vs->where, vs->cap * sizeof *vs->where);
	}
	const char *bad;
	if (ff_vector_fill(v, row->cells, vs->x + vs->n * v->n, &bad) < 0)
		return ff_error("%s: column '%s': not a number", row->where, bad);
	vs->where[vs->n++] = ff_xstrdup(row->where);
	return 0;
}

static int vectors_of(struct ff_model *m, const char *store, const char *online, char **inputs,
		      size_t ninputs, int any_store, struct vectors *vs)
{
	struct ff_join *j = NULL;
	struct ff_store_binding bound;
	memset(&bound, 0, sizeof bound);
	memset(vs, 0, sizeof *vs);
	vs->m = m;
	if ((online ? ff_store_bind_online(&m->bp, m->origin, online, any_store, &bound)
		    : ff_store_bind(&m->bp, m->origin, store, any_store, &bound)) < 0)
		return -1;
	int rc = ff_join_open(&m->bp.spec, online ? NULL : bound.path, online, &j);
	ff_store_binding_release(&bound);
	if (rc == 0)
		rc = ff_join_run(j, inputs, ninputs, NULL, FF_REC_CSV, collect, vs);
	ff_join_free(j);
	return rc;
}

static void vectors_free(struct vectors *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		free(vs->where[i]);
	free(vs->where);
	free(vs->x);
}

int ff_skew_check(struct ff_model *m, const char *store, int any_store, const char *online,
		  char **inputs, size_t ninputs, FILE *out)
{
	struct vectors off, on;
	memset(&off, 0, sizeof off);
	memset(&on, 0, sizeof on);
	if (ninputs == 0)
		return ff_error("the skew check reads its requests twice: give them as files");
	for (size_t i = 0; i < ninputs; i++)
		if (strcmp(inputs[i], "-") == 0)
			return ff_error("the skew check reads its requests twice: give them as files, not stdin");
	int rc = vectors_of(m, store, NULL, inputs, ninputs, any_store, &off);
	if (rc == 0)
		rc = vectors_of(m, store, online, inputs, ninputs, any_store, &on);
	size_t diffs = 0, d = m->vector.n;
	if (rc == 0) {
		for (size_t r = 0; r < off.n && r < on.n; r++)
			for (size_t i = 0; i < d; i++) {
				float a = off.x[r * d + i], b = on.x[r * d + i];
				if ((isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0)
					continue;
				char ta[32], tb[32];
				if (isnan(a))
					strcpy(ta, "missing");
				else
					ff_format_float(ta, a);
				if (isnan(b))
					strcpy(tb, "missing");
				else
					ff_format_float(tb, b);
				fprintf(out, "%s: %s: offline %s, online %s\n", off.where[r], m->vector.names->v[i], ta, tb);
				diffs++;
			}
		fprintf(out, "%zu rows, %zu features each, %zu differences\n", off.n, d, diffs);
	}
	vectors_free(&off);
	vectors_free(&on);
	return rc < 0 ? -1 : diffs ? 1 : 0;
}
