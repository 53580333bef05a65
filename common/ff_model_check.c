#include "ff_model_check.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

/* Caps that keep a damaged count from sizing an allocation. */
#define MAX_TREES (1LL << 24)
#define MAX_NODES (1LL << 28)
#define MAX_FEATURES (1LL << 24)
#define MAX_CATEGORY (1LL << 24) /* XGBoost keeps categories exact in a float */

struct check {
	const char *origin;
	char where[48];           /* "tree 3: " or "" */
	long long num_feature;
};

static int bad(const struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const struct check *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ff_error("%s: %s%s", c->origin, c->where, msg);
}

static json_t *member(const struct check *c, json_t *obj, const char *key, json_type type, const char *in)
{
	json_t *v = json_object_get(obj, key);
	if (!v || json_typeof(v) != type) {
		bad(c, "%s%s%s is missing or not %s", in, *in ? "." : "", key,
		    type == JSON_OBJECT ? "an object" : type == JSON_ARRAY ? "an array" : "a string");
		return NULL;
	}
	return v;
}

/* A count XGBoost writes as a string ("35"), in [lo, hi]. */
static int count(const struct check *c, json_t *obj, const char *key, const char *in, long long lo,
		 long long hi, long long *out)
{
	json_t *v = json_object_get(obj, key);
	const char *s = v && json_is_string(v) ? json_string_value(v) : NULL;
	if (v && json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (s && *s && strspn(s, "-0123456789") == strlen(s)) {
		errno = 0;
		char *end;
		*out = strtoll(s, &end, 10);
		if (errno || *end)
			return bad(c, "%s.%s = '%.30s' out of range", in, key, s);
	} else {
		return bad(c, "%s.%s is missing or not a whole number", in, key);
	}
	if (*out < lo || *out > hi)
		return bad(c, "%s.%s = %lld out of range (%lld to %lld)", in, key, *out, lo, hi);
	return 0;
}

/* A per-node array: exactly n items. */
static json_t *nodes_array(const struct check *c, json_t *tree, const char *key, long long n)
{
	json_t *a = member(c, tree, key, JSON_ARRAY, "");
	if (a && (long long)json_array_size(a) != n) {
		bad(c, "%s has %zu items, num_nodes is %lld", key, json_array_size(a), n);
		return NULL;
	}
	return a;
}

/* Item i of an array of whole numbers (booleans as 0 and 1). */
static int whole(const struct check *c, json_t *a, const char *key, size_t i, long long *out)
{
	json_t *v = json_array_get(a, i);
	if (json_is_integer(v))
		*out = json_integer_value(v);
	else if (json_is_boolean(v))
		*out = json_is_true(v);
	else
		return bad(c, "%s[%zu] is not a whole number", key, i);
	return 0;
}

static int numbers_only(const struct check *c, json_t *a, const char *key)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (!json_is_number(json_array_get(a, i)))
			return bad(c, "%s[%zu] is not a number", key, i);
	return 0;
}

/* The categorical splits: categories_nodes ascending, each a node whose
 * split_type is 1 (and every such node listed), its segment inside
 * categories and not empty, each category in [0, MAX_CATEGORY). */
static int check_categories(const struct check *c, json_t *tree, json_t *split_type, long long n)
{
	json_t *cats = member(c, tree, "categories", JSON_ARRAY, "");
	json_t *cnodes = member(c, tree, "categories_nodes", JSON_ARRAY, "");
	json_t *segs = member(c, tree, "categories_segments", JSON_ARRAY, "");
	json_t *sizes = member(c, tree, "categories_sizes", JSON_ARRAY, "");
	if (!cats || !cnodes || !segs || !sizes)
		return -1;
	size_t k = json_array_size(cnodes), ncats = json_array_size(cats);
	if (json_array_size(segs) != k || json_array_size(sizes) != k)
		return bad(c, "categories_nodes, categories_segments and categories_sizes have %zu, %zu and %zu "
			   "items", k, json_array_size(segs), json_array_size(sizes));
	for (size_t i = 0; i < ncats; i++) {
		long long v;
		if (whole(c, cats, "categories", i, &v) < 0)
			return -1;
		if (v < 0 || v >= MAX_CATEGORY)
			return bad(c, "categories[%zu] = %lld out of range", i, v);
	}
	long long prev = -1;
	size_t listed = 0;
	for (size_t i = 0; i < k; i++) {
		long long node, seg, size, type = 0;
		if (whole(c, cnodes, "categories_nodes", i, &node) < 0 ||
		    whole(c, segs, "categories_segments", i, &seg) < 0 ||
		    whole(c, sizes, "categories_sizes", i, &size) < 0)
			return -1;
		if (node <= prev || node >= n)
			return bad(c, "categories_nodes[%zu] = %lld out of range or out of order", i, node);
		if (split_type && whole(c, split_type, "split_type", (size_t)node, &type) < 0)
			return -1;
		if (type != 1)
			return bad(c, "categories_nodes[%zu] = %lld is not a categorical split", i, node);
		if (seg < 0 || size < 1 || seg > (long long)ncats || size > (long long)ncats - seg)
			return bad(c, "categories_segments[%zu] = %lld, categories_sizes[%zu] = %lld: outside "
				   "the %zu categories", i, seg, i, size, ncats);
		prev = node;
		listed++;
	}
	size_t typed = 0;
	for (size_t i = 0; split_type && i < (size_t)n; i++) {
		long long type;
		if (whole(c, split_type, "split_type", i, &type) < 0)
			return -1;
		if (type != 0 && type != 1)
			return bad(c, "split_type[%zu] = %lld (0 numeric, 1 categorical)", i, type);
		typed += type == 1;
	}
	if (typed != listed)
		return bad(c, "%zu categorical splits, %zu of them with categories", typed, listed);
	return 0;
}

static const char *const per_node[] = {"left_children", "right_children", "parents", "split_indices",
				       "split_conditions", "default_left", "base_weights", "loss_changes",
				       "sum_hessian"};
enum { LEFT, RIGHT, PARENTS, SPLIT, CONDITIONS, DEFAULT_LEFT, NPER_NODE = 9 };

static int check_tree(struct check *c, json_t *tree)
{
	if (!json_is_object(tree))
		return bad(c, "%s", "not an object");
	json_t *param = member(c, tree, "tree_param", JSON_OBJECT, "");
	long long n, leaf_vector = 0;
	if (!param || count(c, param, "num_nodes", "tree_param", 1, MAX_NODES, &n) < 0)
		return -1;
	if (json_object_get(param, "size_leaf_vector") &&
	    count(c, param, "size_leaf_vector", "tree_param", 0, 0, &leaf_vector) < 0)
		return -1;
	json_t *a[NPER_NODE];
	for (int k = 0; k < NPER_NODE; k++)
		if (!(a[k] = nodes_array(c, tree, per_node[k], n)))
			return -1;
	json_t *split_type = json_object_get(tree, "split_type");
	if (split_type && !(split_type = nodes_array(c, tree, "split_type", n)))
		return -1;
	for (int k = CONDITIONS; k < NPER_NODE; k++)
		if (k != DEFAULT_LEFT && numbers_only(c, a[k], per_node[k]) < 0)
			return -1;
	/* Every index in range first, then the shape. */
	long long v;
	for (size_t j = 0; j < (size_t)n; j++)
		for (int k = LEFT; k <= RIGHT; k++) {
			if (whole(c, a[k], per_node[k], j, &v) < 0)
				return -1;
			if (v < -1 || v >= n || v == 0)
				return bad(c, "%s[%zu] = %lld out of range", per_node[k], j, v);
		}
	for (size_t j = 0; j < (size_t)n; j++)
		if (whole(c, a[DEFAULT_LEFT], "default_left", j, &v) < 0 || whole(c, a[PARENTS], "parents", j, &v) < 0)
			return -1;
	if (whole(c, a[PARENTS], "parents", 0, &v) == 0 && v != -1 && v != INT32_MAX)
		return bad(c, "parents[0] = %lld: the root has no parent", v);
	unsigned char *seen = ff_xcalloc((size_t)n, 1);
	size_t *stack = ff_xmalloc((size_t)n * sizeof *stack), depth = 0;
	int rc = 0;
	stack[depth++] = 0;
	seen[0] = 1;
	while (rc == 0 && depth > 0) {
		size_t p = stack[--depth];
		long long l, r, si;
		whole(c, a[LEFT], "left_children", p, &l);
		whole(c, a[RIGHT], "right_children", p, &r);
		if (l == -1 && r == -1)
			continue;
		if (l == -1 || r == -1) {
			rc = bad(c, "node %zu has one child (left_children[%zu] = %lld, right_children[%zu] = %lld)",
				 p, p, l, p, r);
			break;
		}
		if (whole(c, a[SPLIT], "split_indices", p, &si) < 0) {
			rc = -1;
			break;
		}
		if (si < 0 || si >= c->num_feature) {
			rc = bad(c, "split_indices[%zu] = %lld out of range (num_feature %lld)", p, si,
				 c->num_feature);
			break;
		}
		for (int k = LEFT; k <= RIGHT && rc == 0; k++) {
			size_t child = (size_t)(k == LEFT ? l : r);
			long long parent;
			if (seen[child]) {
				rc = bad(c, "%s[%zu] = %zu: node %zu has two parents, not a tree", per_node[k], p,
					 child, child);
				break;
			}
			seen[child] = 1;
			whole(c, a[PARENTS], "parents", child, &parent);
			if ((parent & INT32_MAX) != (long long)p)
				rc = bad(c, "parents[%zu] = %lld, but node %zu is its parent", child, parent, p);
			stack[depth++] = child;
		}
	}
	/* Nodes the root does not reach (pruned ones) must be leaves. */
	for (size_t j = 0; rc == 0 && j < (size_t)n; j++) {
		long long l, r;
		whole(c, a[LEFT], "left_children", j, &l);
		whole(c, a[RIGHT], "right_children", j, &r);
		if (!seen[j] && (l != -1 || r != -1))
			rc = bad(c, "node %zu is not reached from the root but has children", j);
	}
	free(stack);
	free(seen);
	if (rc == 0)
		rc = check_categories(c, tree, split_type, n);
	return rc;
}

/* The trees of a gbtree model object. */
static int check_gbtree(struct check *c, json_t *model, long long groups)
{
	json_t *param = member(c, model, "gbtree_model_param", JSON_OBJECT, "gradient_booster.model");
	json_t *trees = member(c, model, "trees", JSON_ARRAY, "gradient_booster.model");
	json_t *info = member(c, model, "tree_info", JSON_ARRAY, "gradient_booster.model");
	long long ntrees;
	if (!param || !trees || !info ||
	    count(c, param, "num_trees", "gbtree_model_param", 0, MAX_TREES, &ntrees) < 0)
		return -1;
	if ((long long)json_array_size(trees) != ntrees)
		return bad(c, "num_trees is %lld but %zu trees are given", ntrees, json_array_size(trees));
	if ((long long)json_array_size(info) != ntrees)
		return bad(c, "num_trees is %lld but tree_info has %zu items", ntrees, json_array_size(info));
	for (size_t i = 0; i < (size_t)ntrees; i++) {
		long long group;
		if (whole(c, info, "tree_info", i, &group) < 0)
			return -1;
		if (group < 0 || group >= groups)
			return bad(c, "tree_info[%zu] = %lld out of range (%lld output groups)", i, group, groups);
	}
	for (size_t i = 0; i < (size_t)ntrees; i++) {
		json_t *tree = json_array_get(trees, i);
		snprintf(c->where, sizeof c->where, "tree %zu: ", i);
		if (check_tree(c, tree) < 0)
			return -1;
		/* XGBoost numbers its trees; a wrong id is refused by it, but
		 * say which tree. */
		json_t *id = json_object_get(tree, "id");
		if (id && (!json_is_integer(id) || json_integer_value(id) != (json_int_t)i))
			return bad(c, "%s", "id is not the tree's place in the list");
		c->where[0] = '\0';
	}
	return 0;
}

/* XGBoost writes NaN and Infinity where JSON has no number (the split
 * condition of a categorical split): a copy of the text with those words,
 * outside strings, made 0 padded with blanks, for jansson. Only the shape
 * is checked here, so their values do not matter. */
static char *plain_json(const char *p, size_t len)
{
	char *t = ff_xmalloc(len + 1);
	memcpy(t, p, len);
	t[len] = '\0';
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (t[i] == '\\')
				i++;
			else if (t[i] == '"')
				in_string = 0;
		} else if (t[i] == '"') {
			in_string = 1;
		} else if (t[i] == 'N' && len - i >= 3 && memcmp(t + i, "NaN", 3) == 0) {
			memcpy(t + i, "0  ", 3);
			i += 2;
		} else if (t[i] == 'I' && len - i >= 8 && memcmp(t + i, "Infinity", 8) == 0) {
			memcpy(t + i, "0       ", 8);
			i += 7;
		}
	}
	return t;
}

int ff_model_check(const void *data, size_t len, const char *origin, size_t *num_feature)
{
	struct check c = {origin, "", 0};
	json_error_t jerr;
	char *text = plain_json(data, len);
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!root)
		return ff_error("%s:%d: not valid JSON: %s", origin, jerr.line, jerr.text);
	int rc = -1;
	json_t *learner = member(&c, root, "learner", JSON_OBJECT, "");
	json_t *lparam = learner ? member(&c, learner, "learner_model_param", JSON_OBJECT, "learner") : NULL;
	json_t *gb = learner ? member(&c, learner, "gradient_booster", JSON_OBJECT, "learner") : NULL;
	json_t *name = gb ? member(&c, gb, "name", JSON_STRING, "gradient_booster") : NULL;
	long long nclass = 0, ntarget = 1;
	if (!name || count(&c, lparam, "num_feature", "learner_model_param", 1, MAX_FEATURES, &c.num_feature) < 0 ||
	    count(&c, lparam, "num_class", "learner_model_param", 0, 1 << 20, &nclass) < 0)
		goto out;
	if (json_object_get(lparam, "num_target") &&
	    count(&c, lparam, "num_target", "learner_model_param", 1, 1 << 20, &ntarget) < 0)
		goto out;
	static const char *const named[] = {"feature_names", "feature_types"};
	for (int k = 0; k < 2; k++) {
		json_t *a = json_object_get(learner, named[k]);
		if (a && (!json_is_array(a) || (json_array_size(a) && (long long)json_array_size(a) != c.num_feature))) {
			bad(&c, "learner.%s has %zu items, num_feature is %lld", named[k],
			    json_is_array(a) ? json_array_size(a) : 0, c.num_feature);
			goto out;
		}
	}
	long long groups = nclass > ntarget ? nclass : ntarget;
	const char *booster = json_string_value(name);
	if (strcmp(booster, "gbtree") == 0) {
		json_t *model = member(&c, gb, "model", JSON_OBJECT, "gradient_booster");
		rc = model ? check_gbtree(&c, model, groups) : -1;
	} else if (strcmp(booster, "dart") == 0) {
		json_t *inner = member(&c, gb, "gbtree", JSON_OBJECT, "gradient_booster");
		json_t *model = inner ? member(&c, inner, "model", JSON_OBJECT, "gradient_booster.gbtree") : NULL;
		json_t *drop = model ? member(&c, gb, "weight_drop", JSON_ARRAY, "gradient_booster") : NULL;
		rc = drop ? check_gbtree(&c, model, groups) : -1;
		if (rc == 0 && json_array_size(drop) != json_array_size(json_object_get(model, "trees")))
			rc = bad(&c, "weight_drop has %zu items for %zu trees", json_array_size(drop),
				 json_array_size(json_object_get(model, "trees")));
		if (rc == 0)
			rc = numbers_only(&c, drop, "weight_drop");
	} else {
		bad(&c, "booster '%.40s': ff serves tree models (gbtree, dart)", booster);
	}
out:
	json_decref(root);
	if (rc == 0 && num_feature)
		*num_feature = (size_t)c.num_feature;
	return rc;
}
