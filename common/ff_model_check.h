/* ff_model_check: an XGBoost JSON model checked before XGBoost reads it.
 * XGBoost 1.7's loader trusts its input: a tree count above the trees given
 * crashes it, child indices out of range crash the first prediction, split
 * indices out of range silently read other features, and arrays of unequal
 * lengths corrupt its heap. Every ff command loads models through
 * ff_model_load_buffer, which calls this first. */
#ifndef FF_MODEL_CHECK_H
#define FF_MODEL_CHECK_H

#include <stddef.h>

/* Check the model's JSON (data, len bytes): the booster is gbtree or dart;
 * num_trees equals the trees given (and tree_info's length); in each tree
 * every per-node array has num_nodes items; left and right children are in
 * range and form one tree from node 0 (nodes outside it are leaves); parents
 * agree; split indices of the splits are below num_feature; categorical
 * splits point inside their category list; feature names and types, when
 * given, number num_feature. Returns 0 and *num_feature, or -1 with a message
 * "origin: tree 3: left_children[5] = 99 out of range". */
int ff_model_check(const void *data, size_t len, const char *origin, size_t *num_feature);

#endif
