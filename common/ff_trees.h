/* ff_trees: XGBoost's trees evaluated here for one row at a time, the hot
 * path of online scoring. XGBoost's own single-row prediction reads the
 * cgroup CPU quota files on every call (two opens, reads and closes per
 * request). This evaluator follows XGBoost's arithmetic exactly (float
 * compares, a float sum from base_score, tree by tree) and takes only what
 * it can match bit for bit: gbtree models of reg:squarederror with numeric
 * splits; anything else is left to XGBoost. */
#ifndef FF_TREES_H
#define FF_TREES_H

#include <stddef.h>

struct ff_trees;

/* Read the trees of an XGBoost JSON model, parsed as JSON (any layout:
 * pretty-printed, keys in any order). Returns 0 and *out; 1 if the model is
 * of a kind this evaluator does not take (use XGBoost); -1, with a warning,
 * if it is not a model as XGBoost writes them. */
int ff_trees_from_json(const char *json, size_t len, struct ff_trees **out);
/* Why the last ff_trees_from_json of this thread did not take its model
 * ("objective binary:logistic", "a split on a category"), or "". */
const char *ff_trees_refusal(void);
void ff_trees_free(struct ff_trees *t);

/* The prediction for one row of floats (NaN: missing). */
float ff_trees_predict(const struct ff_trees *t, const float *x);

#endif
