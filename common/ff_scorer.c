#include "ff_scorer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_join.h"
#include "ff_predict.h"
#include "ff_trees.h"
#include "ff_util.h"

struct ff_scorer {
	struct ff_model *m;
	struct ff_join *join;
	struct ff_vector vector;   /* the model's, with this scorer's own binding */
	struct ff_strlist columns;
	struct ff_rec_schema in;
	long *plan;                /* fallbacks: see ff_predict_fallback_plan */
	float *x;
	unsigned char *fell_back;
	struct ff_score score;
	int64_t started_ns;
};

/* XGBoost's own one-row prediction, for models ff_trees does not take, is
 * not known to be safe from several threads at once. */
static pthread_mutex_t xgb_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int is_derived(const struct ff_join_spec *spec, const char *name)
{
	for (size_t k = 0; k < spec->npreps; k++)
		if (strcmp(spec->preps[k].name, name) == 0)
			return 1;
	return 0;
}

/* A raw column the row must give, once. */
static void need(struct ff_scorer *s, const char *name)
{
	const struct ff_join_spec *spec = &s->m->bp.spec;
	if (is_derived(spec, name) || ff_join_feature_lookup(s->join, name) >= 0 ||
	    ff_strlist_find(&s->columns, name) >= 0)
		return;
	ff_strlist_add(&s->columns, name);
}

int ff_scorer_open(struct ff_model *m, const char *online, struct ff_scorer **out)
{
	struct ff_scorer *s = ff_xcalloc(1, sizeof *s);
	const struct ff_join_spec *spec = &m->bp.spec;
	s->m = m;
	ff_rec_schema_init(&s->in);
	if (ff_join_open(spec, NULL, online, &s->join) < 0)
		goto fail;
	for (size_t k = 0; k < spec->npreps; k++)
		need(s, spec->preps[k].column);
	for (size_t l = 0; l < spec->nlookups; l++) {
		for (size_t k = 0; k < spec->lookups[l].keys.n; k++)
			need(s, spec->lookups[l].keys.v[k]);
		if (spec->lookups[l].timestamp)
			need(s, spec->lookups[l].timestamp);
	}
	for (size_t i = 0; i < m->vector.n; i++)
		need(s, m->vector.names->v[i]);
	/* Text cells, as ff-predict reads CSV: the same parsing of each value. */
	for (size_t i = 0; i < s->columns.n; i++)
		ff_rec_schema_add(&s->in, s->columns.v[i], FF_TYPE_TEXT);
	if (ff_join_bind(s->join, &s->in, m->origin) < 0)
		goto fail;
	s->vector = m->vector;
	s->vector.col = ff_xcalloc(m->vector.n ? m->vector.n : 1, sizeof *s->vector.col);
	if (ff_vector_bind(&s->vector, ff_join_output_schema(s->join), m->origin) < 0)
		goto fail;
	s->plan = ff_predict_fallback_plan(m, s->join);
	s->x = ff_xcalloc(m->vector.n ? m->vector.n : 1, sizeof *s->x);
	s->fell_back = ff_xcalloc(m->vector.n ? m->vector.n : 1, 1);
	*out = s;
	return 0;
fail:
	ff_scorer_free(s);
	return -1;
}

void ff_scorer_free(struct ff_scorer *s)
{
	if (!s)
		return;
	ff_join_free(s->join);
	free(s->vector.col);
	ff_strlist_release(&s->columns);
	ff_rec_schema_release(&s->in);
	free(s->plan);
	free(s->x);
	free(s->fell_back);
	free(s);
}

const struct ff_strlist *ff_scorer_columns(const struct ff_scorer *s) { return &s->columns; }

static void note(void *ctx, size_t column)
{
	struct ff_scorer *s = ctx;
	s->fell_back[column] = 1;
}

static int observe(void *ctx, const struct ff_join_row *row)
{
	struct ff_scorer *s = ctx;
	const char *bad = NULL;
	if (ff_vector_fill(&s->vector, row->cells, s->x, &bad) < 0)
		return ff_error("%s: column '%s': not a number", row->where, bad);
	memset(s->fell_back, 0, s->vector.n);
	s->score.fallbacks = ff_predict_fallbacks(s->m, s->plan, row, s->x, note, s);
	size_t nl = ff_join_nlookups(s->join);
	s->score.lookups = nl;
	s->score.misses = 0;
	for (size_t l = 0; l < nl; l++)
		s->score.misses += row->match[l] < 0;
	s->started_ns = row->started_ns;
	return 0;
}

int ff_scorer_score(struct ff_scorer *s, const struct ff_cell *cells, const char *where,
		    struct ff_score *out)
{
	if (ff_join_row(s->join, cells, where, observe, s) < 0)
		return -1;
	s->score.lookup_ns = now_ns() - s->started_ns;
	if (s->m->trees) {
		s->score.prediction = ff_trees_predict(s->m->trees, s->x);
	} else {
		pthread_mutex_lock(&xgb_lock);
		int rc = ff_xgb_predict_one(s->m->booster, s->x, s->vector.n, &s->score.prediction);
		pthread_mutex_unlock(&xgb_lock);
		if (rc < 0)
			return -1;
	}
	s->score.x = s->x;
	s->score.fell_back = s->fell_back;
	*out = s->score;
	return 0;
}
