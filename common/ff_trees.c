#include "ff_trees.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

struct node {
	int32_t left, right;  /* -1: a leaf */
	uint32_t feature;
	float value;          /* split condition, or the leaf's value */
	int default_left;
};

struct ff_trees {
	float base_score;
	size_t ntrees;
	size_t *start;        /* nodes of tree i: start[i] .. start[i+1] */
	struct node *nodes;
};

/* Why the last model of this thread was left to XGBoost. */
static _Thread_local char refusal[160];

const char *ff_trees_refusal(void) { return refusal; }

/* The model is of a kind not matched bit for bit: 1, and why. */
static int unsupported(const char *fmt, const char *what)
{
	snprintf(refusal, sizeof refusal, fmt, what);
	return 1;
}

/* The model is not what XGBoost writes: -1, said loudly, since XGBoost
 * read it and will score it, one row at a time, slower. */
static int malformed(const char *what)
{
	snprintf(refusal, sizeof refusal, "%s", what);
	ff_warn("the model's trees are not as XGBoost writes them (%s): XGBoost scores each "
		"row itself, slower", what);
	return -1;
}

/* obj.key as a string, or NULL. */
static const char *text_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A float written as XGBoost writes it, "5E-1" (2.x: "[5E-1]"). */
static int float_text(const char *s, float *out)
{
	if (!s)
		return -1;
	char *end;
	s += *s == '[';
	*out = strtof(s, &end);
	return end == s ? -1 : 0;
}

/* A number as a float, as XGBoost reads it from the model's text: the
 * text's nearest float. jansson gives the text's nearest double, and that
 * double's nearest float is the same: the two could differ only for a text
 * within half a double's ulp of a point halfway between two floats, yet not
 * on it. For the shortest texts XGBoost writes, the double is such a point
 * only when the text is that very point (a large integer), where both
 * roundings take the even float (30 million random floats checked: no
 * difference). */
static int as_float(const json_t *v, float *out)
{
	if (!json_is_number(v))
		return -1;
	*out = (float)json_number_value(v);
	return 0;
}

/* An integer array member of a tree: its n items into out (grown). */
static int int_array(const json_t *tree, const char *key, int64_t **out, size_t *cap, size_t *n)
{
	const json_t *a = json_object_get(tree, key);
	if (!json_is_array(a))
		return -1;
	*n = json_array_size(a);
	ff_grow(out, cap, *n, sizeof **out);
	for (size_t i = 0; i < *n; i++) {
		const json_t *v = json_array_get(a, i);
		if (json_is_boolean(v))
			(*out)[i] = json_is_true(v);
		else if (json_is_integer(v))
			(*out)[i] = json_integer_value(v);
		else
			return -1;
	}
	return 0;
}

/* The nodes of one tree of XGBoost's JSON model, appended to t. */
static int read_tree(struct ff_trees *t, const json_t *tree, size_t *cap, size_t nfeatures,
		     int64_t *ints[4], size_t icap[4])
{
	static const char *keys[4] = {"default_left", "left_children", "right_children",
				      "split_indices"};
	size_t n[4];
	for (int k = 0; k < 4; k++)
		if (int_array(tree, keys[k], &ints[k], &icap[k], &n[k]) < 0)
			return malformed(keys[k]);
	const json_t *cond = json_object_get(tree, "split_conditions");
	const json_t *type = json_object_get(tree, "split_type");
	size_t nodes = n[0];
	if (n[1] != nodes || n[2] != nodes || n[3] != nodes || nodes == 0 ||
	    json_array_size(cond) != nodes || (type && json_array_size(type) != nodes))
		return malformed("arrays of a tree differ in length");
	ff_grow(&t->nodes, cap, t->start[t->ntrees] + nodes, sizeof *t->nodes);
	struct node *out = t->nodes + t->start[t->ntrees];
	for (size_t j = 0; j < nodes; j++) {
		struct node *nd = &out[j];
		/* A categorical split is XGBoost's to take. */
		if (type && json_integer_value(json_array_get(type, j)) != 0)
			return unsupported("%s", "a split on a category");
		nd->default_left = ints[0][j] != 0;
		nd->left = (int32_t)ints[1][j];
		nd->right = (int32_t)ints[2][j];
		if (as_float(json_array_get(cond, j), &nd->value) < 0)
			return malformed("a split condition that is not a number");
		nd->feature = 0;
		if (ints[1][j] < 0)
			continue;
		/* Children follow their parent (no loops), features are inputs. */
		if (ints[1][j] <= (int64_t)j || ints[1][j] >= (int64_t)nodes ||
		    ints[2][j] <= (int64_t)j || ints[2][j] >= (int64_t)nodes ||
		    ints[3][j] < 0 || (uint64_t)ints[3][j] >= nfeatures)
			return malformed("a node's children or feature out of range");
		nd->feature = (uint32_t)ints[3][j];
	}
	t->start[t->ntrees + 1] = t->start[t->ntrees] + nodes;
	t->ntrees++;
	return 0;
}

static int read_model(const json_t *root, struct ff_trees *t)
{
	const json_t *learner = json_object_get(root, "learner");
	const json_t *gb = json_object_get(learner, "gradient_booster");
	const json_t *param = json_object_get(learner, "learner_model_param");
	const json_t *model = json_object_get(gb, "model");
	const json_t *trees = json_object_get(model, "trees");
	const json_t *gbparam = json_object_get(model, "gbtree_model_param");
	const char *booster = text_of(gb, "name");
	const char *objective = text_of(json_object_get(learner, "objective"), "name");
	if (!booster || !objective || !param)
		return malformed("no learner, booster or objective");
	/* Only what is matched bit for bit. */
	if (strcmp(booster, "gbtree") != 0)
		return unsupported("booster %s", booster);
	if (strcmp(objective, "reg:squarederror") != 0)
		return unsupported("objective %s", objective);
	const char *num_class = text_of(param, "num_class"), *num_target = text_of(param, "num_target");
	if ((num_class && strcmp(num_class, "0") != 0) || (num_target && strcmp(num_target, "1") != 0))
		return unsupported("%s", "more than one output");
	const char *parallel = text_of(gbparam, "num_parallel_tree");
	if (parallel && strcmp(parallel, "1") != 0)
		return unsupported("%s", "parallel trees (a forest)");
	const char *num_trees = text_of(gbparam, "num_trees");
	const char *num_feature = text_of(param, "num_feature");
	if (float_text(text_of(param, "base_score"), &t->base_score) < 0 || !num_trees ||
	    !num_feature || !json_is_array(trees))
		return malformed("no base_score, num_trees, num_feature or trees");
	size_t ntrees = (size_t)strtoull(num_trees, NULL, 10);
	size_t nfeatures = (size_t)strtoull(num_feature, NULL, 10);
	if (json_array_size(trees) != ntrees)
		return malformed("num_trees is not the number of trees");
	t->start = ff_xcalloc(ntrees + 1, sizeof *t->start);
	int64_t *ints[4] = {NULL};
	size_t icap[4] = {0}, cap = 0;
	int rc = 0;
	for (size_t i = 0; i < ntrees && rc == 0; i++)
		rc = read_tree(t, json_array_get(trees, i), &cap, nfeatures, ints, icap);
	for (int k = 0; k < 4; k++)
		free(ints[k]);
	return rc;
}

/* XGBoost writes NaN, Infinity and -Infinity (a categorical split's
 * condition, for one), which JSON does not have: a copy of the text with
 * them as null, for jansson. */
static char *without_nan(const char *json, size_t len, size_t *out_len)
{
	char *out = ff_xmalloc(len + len / 3 + 1);
	size_t n = 0;
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		char c = json[i];
		if (in_string) {
			if (c == '\\' && i + 1 < len)
				out[n++] = json[i++];
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == 'N' && len - i >= 3 && memcmp(json + i, "NaN", 3) == 0) {
			memcpy(out + n, "null", 4);
			n += 4;
			i += 2;
			continue;
		} else if ((c == 'I' || c == '-') && len - i >= 8 + (c == '-') &&
			   memcmp(json + i + (c == '-'), "Infinity", 8) == 0) {
			memcpy(out + n, "null", 4);
			n += 4;
			i += 7 + (c == '-');
			continue;
		}
		out[n++] = json[i];
	}
	*out_len = n;
	return out;
}

int ff_trees_from_json(const char *json, size_t len, struct ff_trees **out)
{
	refusal[0] = '\0';
	json_error_t err;
	size_t n;
	char *text = without_nan(json, len, &n);
	json_t *root = json_loadb(text, n, 0, &err);
	free(text);
	if (!root)
		return malformed(err.text);
	struct ff_trees *t = ff_xcalloc(1, sizeof *t);
	int rc = read_model(root, t);
	json_decref(root);
	if (rc != 0) {
		ff_trees_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void ff_trees_free(struct ff_trees *t)
{
	if (!t)
		return;
	free(t->start);
	free(t->nodes);
	free(t);
}

float ff_trees_predict(const struct ff_trees *t, const float *x)
{
	/* As XGBoost's CPU predictor: the margin starts at base_score and each
	 * tree's leaf is added in float, tree by tree. */
	float sum = t->base_score;
	for (size_t i = 0; i < t->ntrees; i++) {
		const struct node *nodes = t->nodes + t->start[i];
		int32_t n = 0;
		while (nodes[n].left >= 0) {
			float v = x[nodes[n].feature];
			if (isnan(v))
				n = nodes[n].default_left ? nodes[n].left : nodes[n].right;
			else
				n = v < nodes[n].value ? nodes[n].left : nodes[n].right;
		}
		sum += nodes[n].value;
	}
	return sum;
}
