/* ff_model: model artifacts (ff-model(5)). An artifact is XGBoost's own JSON
 * model, so Python xgboost loads it as it is; ff keeps what serving needs in
 * the model's attributes: the blueprint, the category encoding, the training
 * parameters, metrics, feature importance and lineage (jq -r
 * '.learner.attributes.ff_blueprint' shows one). */
#ifndef FF_MODEL_H
#define FF_MODEL_H

#include <stddef.h>
#include <xgboost/c_api.h>

#include "ff_blueprint.h"
#include "ff_vector.h"

#define FF_MODEL_FORMAT "ff-model 1"

/* Check an XGBoost call: 0, or -1 with "what: XGBoost's message". */
int ff_xgb_check(int rc, const char *what);

/* Predict nrow rows of ncol floats (NaN = missing) with a booster, the one
 * way ff-train and ff-predict both predict. Returns 0 or -1. */
int ff_xgb_predict(BoosterHandle booster, const float *x, size_t nrow, size_t ncol, float *out);

/* Predict one row in place (no matrix): the low-latency path of online
 * scoring, giving the same float as ff_xgb_predict. Returns 0 or -1. */
int ff_xgb_predict_one(BoosterHandle booster, const float *x, size_t ncol, float *out);

struct ff_trees;

struct ff_model {
	BoosterHandle booster;
	struct ff_trees *trees;        /* the same trees for one-row predictions, or
					  NULL where only XGBoost can match itself */
	char *origin;                  /* file or models:/ reference */
	struct ff_blueprint_info bp;
	struct ff_vector vector;       /* frozen encoding */
};

/* Load an artifact from a file, or "-" for stdin. Returns 0 or -1. */
int ff_model_load_file(const char *path, struct ff_model **out);
/* Load an artifact held in memory; origin names it in messages. */
int ff_model_load_buffer(const void *data, size_t len, const char *origin, struct ff_model **out);
void ff_model_free(struct ff_model *m);

/* An attribute of a booster (malloc'd copy), or NULL if absent. */
char *ff_xgb_attr(BoosterHandle booster, const char *key);

#endif
