#include "ff_trees.h"

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

/* The text of "key": in [p, end), or NULL. */
static const char *find_key(const char *p, const char *end, const char *key)
{
	size_t n = strlen(key);
	while (p && p < end) {
		p = memchr(p, '"', (size_t)(end - p));
		if (!p || (size_t)(end - p) < n + 3)
			return NULL;
		if (memcmp(p + 1, key, n) == 0 && p[n + 1] == '"' && p[n + 2] == ':')
			return p + n + 3;
		p++;
	}
	return NULL;
}

/* A JSON array of numbers at p into out; returns the position after ']',
 * or NULL. */
static const char *numbers(const char *p, const char *end, double *out, size_t cap, size_t *n)
{
	if (!p || p >= end || *p != '[')
		return NULL;
	p++;
	*n = 0;
	while (p < end && *p != ']') {
		char *next;
		/* strtof: XGBoost writes each float in the shortest text that
		 * reads back to it as a float; through a double it could round twice. */
		double v = strtof(p, &next);
		if (next == p || *n >= cap)
			return NULL;
		out[(*n)++] = v;
		p = next;
		if (p < end && *p == ',')
			p++;
	}
	return p < end ? p + 1 : NULL;
}

/* A string value "..." at p (no escapes expected). */
static int string_is(const char *p, const char *end, const char *want)
{
	size_t n = strlen(want);
	return p && p + n + 2 <= end && p[0] == '"' && memcmp(p + 1, want, n) == 0 && p[n + 1] == '"';
}

int ff_trees_from_json(const char *json, size_t len, struct ff_trees **out)
{
	const char *end = json + len;
	const char *gb = find_key(json, end, "gradient_booster");
	const char *obj = find_key(json, end, "objective");
	const char *param = find_key(json, end, "learner_model_param");
	if (!gb || !obj || !param)
		return -1;
	/* Only what is matched bit for bit. */
	if (!string_is(find_key(gb, end, "name"), end, "gbtree") ||
	    !string_is(find_key(obj, end, "name"), end, "reg:squarederror") ||
	    !string_is(find_key(param, end, "num_class"), end, "0") ||
	    !string_is(find_key(param, end, "num_target"), end, "1") ||
	    !string_is(find_key(gb, end, "num_parallel_tree"), end, "1"))
		return 1;
	const char *bs = find_key(param, end, "base_score");
	const char *nt = find_key(gb, end, "num_trees");
	const char *nf = find_key(param, end, "num_feature");
	if (!bs || *bs != '"' || !nt || *nt != '"' || !nf || *nf != '"')
		return -1;
	unsigned long nfeatures = strtoul(nf + 1, NULL, 10);
	struct ff_trees *t = ff_xcalloc(1, sizeof *t);
	t->base_score = strtof(bs + 1, NULL);
	t->ntrees = (size_t)strtoul(nt + 1, NULL, 10);
	t->start = ff_xcalloc(t->ntrees + 1, sizeof *t->start);
	size_t cap = 0, total = 0;
	double *buf[5] = {NULL};
	size_t bufcap = 0;
	const char *p = find_key(gb, end, "trees");
	int rc = 1;
	static const char *keys[5] = {"default_left", "left_children", "right_children",
				      "split_conditions", "split_indices"};
	for (size_t i = 0; p && i < t->ntrees; i++) {
		size_t n[5];
		const char *tree_end = find_key(p, end, "tree_param");
		if (!tree_end)
			goto bad;
		/* All splits numeric: a categorical one is XGBoost's to take. */
		const char *st = find_key(p, tree_end, "split_type");
		const char *q;
		for (q = st ? st + 1 : NULL; q && q < tree_end && *q != ']'; q++)
			if (*q == '1')
				goto unsupported;
		for (int k = 0; k < 5; k++) {
			const char *a = find_key(p, tree_end, keys[k]);
			/* Count the items to size the buffers. */
			size_t items = 1;
			for (q = a; q && q < tree_end && *q != ']'; q++)
				items += *q == ',';
			if (items > bufcap) {
				bufcap = items * 2;
				for (int b = 0; b < 5; b++)
					buf[b] = ff_xrealloc(buf[b], bufcap * sizeof *buf[b]);
			}
			if (!numbers(a, tree_end, buf[k], bufcap, &n[k]))
				goto bad;
		}
		if (n[1] != n[0] || n[2] != n[0] || n[3] != n[0] || n[4] != n[0])
			goto bad;
		ff_grow(&t->nodes, &cap, total + n[0], sizeof *t->nodes);
		for (size_t j = 0; j < n[0]; j++) {
			struct node *nd = &t->nodes[total + j];
			/* ff_model_check has seen a tree; this walk also needs
			 * children after their parent (so that it ends): a tree that
			 * reused pruned nodes is left to XGBoost. Ranges are checked
			 * on the doubles, before a cast could overflow. */
			double l = buf[1][j], r = buf[2][j], f = buf[4][j];
			if (!(l >= -1 && l < (double)n[0] && r >= -1 && r < (double)n[0] && f >= 0 &&
			      f < (double)nfeatures) || (l < 0) != (r < 0))
				goto bad;
			nd->default_left = buf[0][j] != 0;
			nd->left = (int32_t)l;
			nd->right = (int32_t)r;
			nd->value = (float)buf[3][j];
			nd->feature = (uint32_t)f;
			if (nd->left >= 0 && (nd->left <= (int32_t)j || nd->right <= (int32_t)j))
				goto unsupported;
		}
		t->start[i] = total;
		total += n[0];
		t->start[i + 1] = total;
		p = tree_end;
	}
	if (!p)
		goto bad;
	for (int b = 0; b < 5; b++)
		free(buf[b]);
	*out = t;
	return 0;
bad:
	rc = -1;
unsupported:
	for (int b = 0; b < 5; b++)
		free(buf[b]);
	ff_trees_free(t);
	return rc;
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
