/* ff_predict: batch scoring with a model artifact. Each input row goes
 * through the blueprint's preprocessing and point-in-time lookups (the very
 * code of ff-train-set), missed lookups take the blueprint's fallbacks, the
 * vector is built as in training and XGBoost predicts, a few thousand rows
 * at a time. Output: the input columns and a prediction column. */
#ifndef FF_PREDICT_H
#define FF_PREDICT_H

#include <stdio.h>

#include "ff_join.h"
#include "ff_model.h"
#include "ff_rec.h"

enum ff_fallback {
	FF_FALLBACK_MEAN,    /* the key's mean in training, else the feature's mean */
	FF_FALLBACK_MISSING, /* leave it missing, as the training set had it */
};

struct ff_predict_options {
	const char *store;          /* the offline store; NULL: the blueprint's */
	int any_store;              /* accept a store with another identity (warned) */
	const char *online;         /* an online store: look features up there, row by
				       row, and answer each row at once (streaming) */
	int stats;                  /* latency statistics on stderr at the end */
	enum ff_rec_format format;
	enum ff_fallback fallback;
	int with_features;          /* add the looked-up features the model saw */
	int with_fallbacks;         /* add a column naming the features that fell back */
};

/* Score the inputs (paths; none: stdin) into out. Returns 0 or -1. */
int ff_predict_run(struct ff_model *m, char **inputs, size_t ninputs, FILE *out,
		   const struct ff_predict_options *o);

/* Build each input row's feature vector from the offline store and from the
 * online store, and report on out every value that differs (missing values
 * compare equal to each other only). The offline store is found and
 * checked as ff_store_bind.h says (store: --store or NULL). Returns 0 when none differ, 1 when
 * some do, -1 on error. Inputs must be files: they are read twice. */
int ff_skew_check(struct ff_model *m, const char *store, int any_store, const char *online,
		  char **inputs, size_t ninputs, FILE *out);

/* The fallbacks of misses, the one rule of batch and online scoring and of
 * ff-serve. The plan: per vector column of m, the lookup of j that gives
 * it, or -1 when a miss keeps its value (not a feature, or a spec default);
 * malloc'd. ff_predict_fallbacks puts the blueprint's fallback (key mean,
 * else feature mean) in x for each feature whose lookup the row missed,
 * calls note (if not NULL) with its column, and returns how many. */
long *ff_predict_fallback_plan(const struct ff_model *m, const struct ff_join *j);
size_t ff_predict_fallbacks(const struct ff_model *m, const long *plan, const struct ff_join_row *row,
			    float *x, void (*note)(void *ctx, size_t column), void *ctx);

#endif
