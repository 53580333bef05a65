#include "ff_train.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ff_model.h"
#include "ff_time.h"
#include "ff_util.h"

void ff_train_options_init(struct ff_train_options *o)
{
	memset(o, 0, sizeof *o);
	o->rounds = 300;
	o->depth = 8;
	o->eta = 0.05;
	o->min_child_weight = 1;
	o->subsample = 0.8;
	o->colsample = 1;
	o->lambda = 1;
	o->seed = 0;
	o->threads = 2;
	o->objective = "reg:squarederror";
	o->holdout = 0.2;
	o->early_stopping = 0;
}

/* The training rows as read: the vector, the label and the time. */
struct rows {
	struct ff_vector *vec;
	const char *label;
	const char *time_column;
	const struct ff_join_spec *spec; /* how the input's times are written, their zone */
	long label_col, time_col;
	const struct ff_rec_reader *reader;
	float *x;
	float *y;
	int64_t *t;
	size_t n, cap;
	int64_t skipped;    /* rows without a label */
	int bound;
};

static int on_schema(void *ctx, const struct ff_rec_schema *s)
{
	struct rows *r = ctx;
	char where[600];
	ff_rec_where(r->reader, 1, where, sizeof where);
	if (ff_vector_bind(r->vec, s, where) < 0)
		return -1;
	if ((r->label_col = ff_rec_schema_find(s, r->label)) < 0)
		return ff_error("%s: no label column '%s'", where, r->label);
	r->time_col = -1;
	if (r->time_column && (r->time_col = ff_rec_schema_find(s, r->time_column)) < 0)
		return ff_error("%s: no time column '%s' to order the holdout by", where, r->time_column);
	r->bound = 1;
	return 0;
}

static int on_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	struct rows *r = ctx;
	char where[600];
	const struct ff_rec_schema *s = r->vec->schema;
	if (n != s->ncols) {
		ff_rec_where(r->reader, pos, where, sizeof where);
		return ff_error("%s: %zu fields, the header has %zu", where, n, s->ncols);
	}
	const struct ff_cell *label = &cells[r->label_col];
	if (label->null) {
		r->skipped++;
		return 0;
	}
	double y;
	if (s->types[r->label_col] == FF_TYPE_TEXT ? ff_parse_double(label->s, label->len, &y) < 0
	    : s->types[r->label_col] == FF_TYPE_REAL ? (y = label->d, 0)
	    : s->types[r->label_col] == FF_TYPE_INTEGER ? (y = (double)label->i, 0) : 1) {
		ff_rec_where(r->reader, pos, where, sizeof where);
		return ff_error("%s: label '%s': not a number", where, r->label);
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 65536;
		r->x = ff_xrealloc(r->x, r->cap * r->vec->n * sizeof *r->x);
		r->y = ff_xrealloc(r->y, r->cap * sizeof *r->y);
		r->t = ff_xrealloc(r->t, r->cap * sizeof *r->t);
	}
	const char *bad = NULL;
	if (ff_vector_fill(r->vec, cells, r->x + r->n * r->vec->n, &bad) < 0) {
		ff_rec_where(r->reader, pos, where, sizeof where);
		return ff_error("%s: column '%s': not a number", where, bad);
	}
	r->y[r->n] = (float)y;
	r->t[r->n] = 0;
	if (r->time_col >= 0) {
		const struct ff_cell *c = &cells[r->time_col];
		enum ff_type type = s->types[r->time_col];
		int bad_time = c->null;
		if (!bad_time && type == FF_TYPE_TIMESTAMP)
			r->t[r->n] = c->i;
		else if (!bad_time && type == FF_TYPE_INTEGER)
			bad_time = ff_time_from_epoch(c->i, r->spec->input_time_format, &r->t[r->n]) < 0;
		else if (!bad_time)
			bad_time = type != FF_TYPE_TEXT ||
			      ff_time_parse_input(c->s, c->len, r->spec->input_time_format,
						  r->spec->input_timezone, &r->t[r->n]) != 0;
		if (bad_time) {
			ff_rec_where(r->reader, pos, where, sizeof where);
			return ff_error("%s: column '%s': bad timestamp", where, r->time_column);
		}
	}
	r->n++;
	return 0;
}

static const int64_t *sort_times;

static int by_time(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	if (sort_times[i] != sort_times[j])
		return sort_times[i] < sort_times[j] ? -1 : 1;
	return (i > j) - (i < j); /* stable: input order among equal times */
}

static DMatrixHandle matrix(const struct rows *r, const size_t *idx, size_t n, float **x_out,
			    float **y_out)
{
	size_t d = r->vec->n;
	float *x = ff_xmalloc((n ? n : 1) * d * sizeof *x);
	float *y = ff_xmalloc((n ? n : 1) * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		memcpy(x + i * d, r->x + idx[i] * d, d * sizeof *x);
		y[i] = r->y[idx[i]];
	}
	DMatrixHandle m = NULL;
	if (ff_xgb_check(XGDMatrixCreateFromMat(x, (bst_ulong)n, (bst_ulong)d, NAN, &m), "xgboost: matrix") < 0 ||
	    ff_xgb_check(XGDMatrixSetFloatInfo(m, "label", y, (bst_ulong)n), "xgboost: labels") < 0) {
		free(x);
		free(y);
		return NULL;
	}
	const char **types = ff_xmalloc(d * sizeof *types);
	for (size_t i = 0; i < d; i++)
		types[i] = r->vec->categorical[i] ? "c" : "q";
	XGDMatrixSetStrFeatureInfo(m, "feature_type", types, (bst_ulong)d);
	XGDMatrixSetStrFeatureInfo(m, "feature_name", (const char **)r->vec->names->v, (bst_ulong)d);
	free(types);
	*x_out = x;
	*y_out = y;
	return m;
}

struct metrics {
	double rmse, mae;
};

static struct metrics score(const float *pred, const float *y, size_t n)
{
	struct metrics m = {0, 0};
	for (size_t i = 0; i < n; i++) {
		double e = (double)pred[i] - (double)y[i];
		m.rmse += e * e;
		m.mae += fabs(e);
	}
	if (n) {
		m.rmse = sqrt(m.rmse / (double)n);
		m.mae /= (double)n;
	}
	return m;
}

/* "[12]\ttrain-rmse:3.1\tvalid-rmse:3.5" -> 3.5 */
static double eval_value(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	return p ? strtod(p + strlen(name), NULL) : NAN;
}

static int set_param(BoosterHandle b, const char *name, const char *value)
{
	char what[300];
	snprintf(what, sizeof what, "xgboost: parameter %s=%s", name, value);
	return ff_xgb_check(XGBoosterSetParam(b, name, value), what);
}

static int set_params(BoosterHandle b, const struct ff_train_options *o, char **text)
{
	char buf[64];
	size_t size = 0;
	FILE *m = open_memstream(text, &size);
	struct {
		const char *name;
		char value[64];
	} p[12];
	size_t n = 0;
#define P(k, ...) (snprintf(p[n].value, sizeof p[n].value, __VA_ARGS__), p[n++].name = (k))
	P("tree_method", "hist");
	P("objective", "%s", o->objective);
	P("max_depth", "%d", o->depth);
	P("eta", "%s", (ff_format_double(buf, o->eta), buf));
	P("min_child_weight", "%s", (ff_format_double(buf, o->min_child_weight), buf));
	P("subsample", "%s", (ff_format_double(buf, o->subsample), buf));
	P("colsample_bytree", "%s", (ff_format_double(buf, o->colsample), buf));
	P("lambda", "%s", (ff_format_double(buf, o->lambda), buf));
	P("seed", "%d", o->seed);
	P("nthread", "%d", o->threads);
	P("eval_metric", "rmse");
	P("max_cat_to_onehot", "1");
#undef P
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = set_param(b, p[i].name, p[i].value);
		fprintf(m, "%s %s\n", p[i].name, p[i].value);
	}
	fclose(m);
	return rc;
}

static void report_importance(BoosterHandle b, FILE *out, char **text)
{
	bst_ulong nf = 0, dim = 0;
	const char **names = NULL;
	const bst_ulong *shape = NULL;
	const float *scores = NULL;
	size_t size = 0;
	FILE *m = open_memstream(text, &size);
	if (XGBoosterFeatureScore(b, "{\"importance_type\": \"total_gain\"}", &nf, &names, &dim, &shape,
				  &scores) == 0) {
		double total = 0;
		for (bst_ulong i = 0; i < nf; i++)
			total += scores[i];
		if (out)
			fprintf(out, "\n%-40s %14s %7s\n", "feature", "total gain", "share");
		for (bst_ulong i = 0; i < nf; i++) {
			fprintf(m, "%s %.6g\n", names[i], (double)scores[i]);
			if (out)
				fprintf(out, "%-40s %14.6g %6.1f%%\n", names[i], (double)scores[i],
					total > 0 ? 100.0 * scores[i] / total : 0.0);
		}
	}
	fclose(m);
}

int ff_train_run(const char *blueprint_path, char **inputs, size_t ninputs,
		 const struct ff_train_options *o, FILE *out)
{
	struct ff_blueprint_info bp;
	struct ff_vector vec;
	struct rows r;
	memset(&r, 0, sizeof r);
	size_t *idx = NULL;
	float *xt = NULL, *yt = NULL, *xv = NULL, *yv = NULL, *pt = NULL, *pv = NULL;
	DMatrixHandle dtrain = NULL, dvalid = NULL;
	BoosterHandle booster = NULL;
	char *params = NULL, *importance = NULL, *codes = NULL, *metrics = NULL, *lineage = NULL;
	int rc = -1;
	if (ff_blueprint_read(blueprint_path, &bp) < 0)
		return -1;
	memset(&vec, 0, sizeof vec);
	if (ff_vector_init(&vec, &bp, &o->categorical) < 0)
		goto out;
	r.vec = &vec;
	r.label = bp.spec.label;
	r.time_column = o->time_column ? o->time_column : bp.first_event;
	r.spec = &bp.spec;

	char *stdin_only[] = {"-"};
	if (ninputs == 0) {
		inputs = stdin_only;
		ninputs = 1;
	}
	for (size_t i = 0; i < ninputs; i++) {
		FILE *f = ff_open_input(inputs[i]);
		if (!f)
			goto out;
		struct ff_rec_reader *rd = ff_rec_open(f, ff_input_name(inputs[i]));
		r.reader = rd;
		int e = ff_rec_each(rd, on_schema, on_row, &r);
		ff_rec_close(rd);
		if (f != stdin)
			fclose(f);
		if (e != 0)
			goto out;
	}
	if (r.skipped)
		ff_warn("%" PRId64 " rows without a label left out", r.skipped);
	size_t nvalid = (size_t)((double)r.n * o->holdout);
	size_t ntrain = r.n - nvalid;
	if (ntrain == 0) {
		ff_error("no rows to train on");
		goto out;
	}
	/* The holdout is the latest rows by time: the future the model will see. */
	idx = ff_xmalloc((r.n ? r.n : 1) * sizeof *idx);
	for (size_t i = 0; i < r.n; i++)
		idx[i] = i;
	if (r.time_col >= 0) {
		sort_times = r.t;
		qsort(idx, r.n, sizeof *idx, by_time);
	}
	if (!(dtrain = matrix(&r, idx, ntrain, &xt, &yt)))
		goto out;
	if (nvalid && !(dvalid = matrix(&r, idx + ntrain, nvalid, &xv, &yv)))
		goto out;
	DMatrixHandle both[2] = {dtrain, dvalid};
	const char *names[2] = {"train", "valid"};
	if (ff_xgb_check(XGBoosterCreate(both, nvalid ? 2 : 1, &booster), "xgboost") < 0 ||
	    set_params(booster, o, &params) < 0)
		goto out;
	/* Names in the model: the importance table and Python see them. */
	const char **types = ff_xmalloc(vec.n * sizeof *types);
	for (size_t i = 0; i < vec.n; i++)
		types[i] = vec.categorical[i] ? "c" : "q";
	int named = ff_xgb_check(XGBoosterSetStrFeatureInfo(booster, "feature_name", (const char **)vec.names->v,
							    (bst_ulong)vec.n), "xgboost: names") == 0 &&
		    ff_xgb_check(XGBoosterSetStrFeatureInfo(booster, "feature_type", types, (bst_ulong)vec.n),
				 "xgboost: types") == 0;
	free(types);
	if (!named)
		goto out;
	double best = INFINITY;
	int best_round = -1, rounds = 0;
	for (int i = 0; i < o->rounds; i++) {
		if (ff_xgb_check(XGBoosterUpdateOneIter(booster, i, dtrain), "xgboost: training") < 0)
			goto out;
		rounds = i + 1;
		if (!nvalid || !o->early_stopping)
			continue;
		const char *eval;
		if (ff_xgb_check(XGBoosterEvalOneIter(booster, i, both + 1, names + 1, 1, &eval),
				 "xgboost: eval") < 0)
			goto out;
		double v = eval_value(eval, "valid-rmse:");
		if (v < best) {
			best = v;
			best_round = i;
		} else if (i - best_round >= o->early_stopping) {
			break;
		}
	}
	if (best_round >= 0 && best_round + 1 < rounds) {
		BoosterHandle sliced;
		if (ff_xgb_check(XGBoosterSlice(booster, 0, best_round + 1, 1, &sliced), "xgboost: slice") < 0)
			goto out;
		XGBoosterFree(booster);
		booster = sliced;
		rounds = best_round + 1;
	}
	pt = ff_xmalloc(ntrain * sizeof *pt);
	pv = ff_xmalloc((nvalid ? nvalid : 1) * sizeof *pv);
	if (ff_xgb_predict(booster, xt, ntrain, vec.n, pt) < 0 ||
	    (nvalid && ff_xgb_predict(booster, xv, nvalid, vec.n, pv) < 0))
		goto out;
	struct metrics mt = score(pt, yt, ntrain), mv = score(pv, yv, nvalid);
	size_t size = 0;
	FILE *m = open_memstream(&metrics, &size);
	fprintf(m, "rows %zu\ntrain_rows %zu\nholdout_rows %zu\nrounds %d\n", r.n, ntrain, nvalid, rounds);
	fprintf(m, "train_rmse %.6f\ntrain_mae %.6f\n", mt.rmse, mt.mae);
	if (nvalid)
		fprintf(m, "holdout_rmse %.6f\nholdout_mae %.6f\n", mv.rmse, mv.mae);
	fclose(m);
	if (o->report) {
		fprintf(o->report, "%-10s %10s %10s %10s\n", "set", "rows", "rmse", "mae");
		fprintf(o->report, "%-10s %10zu %10.4f %10.4f\n", "train", ntrain, mt.rmse, mt.mae);
		if (nvalid)
			fprintf(o->report, "%-10s %10zu %10.4f %10.4f\n", "holdout", nvalid, mv.rmse, mv.mae);
		fprintf(o->report, "rounds: %d\n", rounds);
	}
	report_importance(booster, o->report, &importance);
	codes = ff_vector_codes_text(&vec);
	m = open_memstream(&lineage, &size);
	for (size_t l = 0; l < bp.spec.nlookups; l++)
		fprintf(m, "table %s\n", bp.spec.lookups[l].table);
	fclose(m);
	const char *attrs[][2] = {
		{"ff_format", FF_MODEL_FORMAT}, {"ff_blueprint", bp.text}, {"ff_categories", codes},
		{"ff_params", params},          {"ff_metrics", metrics},   {"ff_importance", importance},
		{"ff_lineage", lineage},
	};
	/* An empty attribute is left out: Python xgboost asserts they are not. */
	for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++)
		if (attrs[i][1] && *attrs[i][1] &&
		    ff_xgb_check(XGBoosterSetAttr(booster, attrs[i][0], attrs[i][1]), "xgboost: attribute") < 0)
			goto out;
	bst_ulong len;
	const char *json;
	if (ff_xgb_check(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}", &len, &json),
			 "xgboost: save") < 0)
		goto out;
	if (fwrite(json, 1, (size_t)len, out) != (size_t)len || fflush(out) != 0) {
		/* Told once, with this errno, when the output is closed. */
		ff_write_failed(out, errno);
		goto out;
	}
	rc = 0;
out:
	if (booster)
		XGBoosterFree(booster);
	if (dtrain)
		XGDMatrixFree(dtrain);
	if (dvalid)
		XGDMatrixFree(dvalid);
	free(idx);
	free(xt);
	free(yt);
	free(xv);
	free(yv);
	free(pt);
	free(pv);
	free(r.x);
	free(r.y);
	free(r.t);
	free(params);
	free(importance);
	free(codes);
	free(metrics);
	free(lineage);
	ff_vector_release(&vec);
	ff_blueprint_info_release(&bp);
	return rc;
}
