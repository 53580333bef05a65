#include "ff_model.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_model_check.h"
#include "ff_trees.h"
#include "ff_util.h"

int ff_xgb_check(int rc, const char *what)
{
	if (rc == 0)
		return 0;
	/* XGBoost's message: "[10:03:17] file.cc:81: what\nStack trace: ...".
	 * Keep the what: one line, as every ff message. */
	const char *msg = XGBGetLastError();
	const char *p = msg[0] == '[' ? strchr(msg, ']') : NULL;
	const char *colon = p ? strstr(p, ": ") : NULL;
	if (colon)
		msg = colon + 2;
	size_t n = strcspn(msg, "\n");
	return ff_error("%s: %.*s", what, (int)n, msg);
}

int ff_xgb_predict(BoosterHandle booster, const float *x, size_t nrow, size_t ncol, float *out)
{
	DMatrixHandle d;
	if (ff_xgb_check(XGDMatrixCreateFromMat(x, (bst_ulong)nrow, (bst_ulong)ncol, NAN, &d),
			 "xgboost: matrix") < 0)
		return -1;
	bst_ulong len;
	const float *pred;
	int rc = ff_xgb_check(XGBoosterPredict(booster, d, 0, 0, 0, &len, &pred), "xgboost: predict");
	if (rc == 0 && len != nrow)
		rc = ff_error("xgboost: %llu predictions for %zu rows", (unsigned long long)len, nrow);
	if (rc == 0)
		memcpy(out, pred, nrow * sizeof *out);
	XGDMatrixFree(d);
	return rc;
}

int ff_xgb_predict_one(BoosterHandle booster, const float *x, size_t ncol, float *out)
{
	char values[256];
	snprintf(values, sizeof values,
		 "{\"data\": [%lu, true], \"shape\": [1, %zu], \"typestr\": \"<f4\", \"version\": 3}",
		 (unsigned long)(uintptr_t)x, ncol);
	static const char config[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"cache_id\": 0, "
				     "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN}";
	const bst_ulong *shape;
	bst_ulong dim;
	const float *result;
	if (ff_xgb_check(XGBoosterPredictFromDense(booster, values, config, NULL, &shape, &dim, &result),
			 "xgboost: predict") < 0)
		return -1;
	*out = result[0];
	return 0;
}

char *ff_xgb_attr(BoosterHandle booster, const char *key)
{
	const char *value = NULL;
	int success = 0;
	if (XGBoosterGetAttr(booster, key, &value, &success) != 0 || !success || !value)
		return NULL;
	return ff_xstrdup(value);
}

void ff_model_free(struct ff_model *m)
{
	if (!m)
		return;
	ff_vector_release(&m->vector);
	ff_blueprint_info_release(&m->bp);
	ff_trees_free(m->trees);
	if (m->booster)
		XGBoosterFree(m->booster);
	free(m->origin);
	free(m);
}

int ff_model_load_buffer(const void *data, size_t len, const char *origin, struct ff_model **out)
{
	struct ff_model *m = ff_xcalloc(1, sizeof *m);
	char *format = NULL, *blueprint = NULL, *codes = NULL;
	m->origin = ff_xstrdup(origin);
	char what[600];
	snprintf(what, sizeof what, "%s: not a model XGBoost can read", origin);
	/* An artifact is XGBoost JSON: anything else would go to XGBoost's old
	 * binary reader, which aborts on garbage instead of failing. */
	const char *p = data;
	size_t i = 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	if (i == len || p[i] != '{') {
		ff_error("%s: not an ff model (an XGBoost JSON model file)", origin);
		goto fail;
	}
	/* XGBoost trusts what it reads: check the trees first. */
	size_t num_feature;
	if (ff_model_check(data, len, origin, &num_feature) < 0)
		goto fail;
	if (ff_xgb_check(XGBoosterCreate(NULL, 0, &m->booster), "xgboost") < 0 ||
	    ff_xgb_check(XGBoosterLoadModelFromBuffer(m->booster, data, (bst_ulong)len), what) < 0)
		goto fail;
	format = ff_xgb_attr(m->booster, "ff_format");
	if (!format || strcmp(format, FF_MODEL_FORMAT) != 0) {
		ff_error("%s: not an ff model (no %s attributes)", origin, FF_MODEL_FORMAT);
		goto fail;
	}
	blueprint = ff_xgb_attr(m->booster, "ff_blueprint");
	codes = ff_xgb_attr(m->booster, "ff_categories");
	char bp_origin[600];
	snprintf(bp_origin, sizeof bp_origin, "%s (blueprint)", origin);
	if (!blueprint || ff_blueprint_parse(blueprint, bp_origin, &m->bp) < 0)
		goto fail;
	if (ff_vector_init(&m->vector, &m->bp, NULL) < 0 ||
	    ff_vector_load_codes(&m->vector, codes ? codes : "", origin) < 0)
		goto fail;
	if (num_feature != m->vector.n) {
		ff_error("%s: the trees take %zu features, the blueprint's vector has %zu", origin, num_feature,
			 m->vector.n);
		goto fail;
	}
	if (ff_trees_from_json(data, len, &m->trees) < 0)
		m->trees = NULL; /* XGBoost read it: let XGBoost predict */
	free(format);
	free(blueprint);
	free(codes);
	*out = m;
	return 0;
fail:
	free(format);
	free(blueprint);
	free(codes);
	ff_model_free(m);
	return -1;
}

int ff_model_load_file(const char *path, struct ff_model **out)
{
	char *data;
	size_t size;
	if (ff_read_file(path, &data, &size) < 0)
		return -1;
	int rc = ff_model_load_buffer(data, size, ff_input_name(path), out);
	free(data);
	return rc;
}
