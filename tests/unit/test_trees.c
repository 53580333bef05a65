/* Unit tests of common/ff_trees: any layout of an XGBoost JSON model gives the
 * same trees; models it does not take, or that are damaged, are refused. */
#include <math.h>
#include <stdlib.h>

#include "ff_trees.h"
#include "ff_util.h"
#include "unit.h"

/* Two trees over two features, base_score 0.5: a split on feature 0 at 1.5
 * (missing goes left) to leaves 0.25 and -0.125, then a single leaf 1. The
 * NaN is XGBoost's own (not JSON): its base weight of a categorical node. */
#define TREE1 "{\"base_weights\":[NaN,0,0],\"default_left\":[1,0,0],\"left_children\":[1,-1,-1]," \
	      "\"right_children\":[2,-1,-1],\"split_conditions\":[1.5E0,2.5E-1,-1.25E-1]," \
	      "\"split_indices\":[0,0,0],\"split_type\":[%s]}"
#define TREE2 "{\"default_left\":[0],\"left_children\":[-1],\"right_children\":[-1]," \
	      "\"split_conditions\":[1E0],\"split_indices\":[0],\"split_type\":[0]}"

static char *model(const char *objective, const char *split_type, const char *left)
{
	static char tree1[512], text[2048];
	snprintf(tree1, sizeof tree1, TREE1, split_type);
	if (left) { /* damaged children */
		char *p = strstr(tree1, "[1,-1,-1]");
		memcpy(p, left, strlen(left));
	}
	snprintf(text, sizeof text,
		 "{\"learner\":{\"attributes\":{\"note\":\"a \\\"quoted\\\" NaN, Infinity\"},"
		 "\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":\"1\","
		 "\"num_trees\":\"2\"},\"trees\":[%s," TREE2 "]},\"name\":\"gbtree\"},"
		 "\"learner_model_param\":{\"base_score\":\"5E-1\",\"num_class\":\"0\","
		 "\"num_feature\":\"2\",\"num_target\":\"1\"},\"objective\":{\"name\":\"%s\"}},"
		 "\"version\":[1,7,4]}",
		 tree1, objective);
	return text;
}

/* The same JSON laid out as `jq .` or Python would: a newline and indent
 * after each comma and brace outside strings, a space after each colon. */
static char *pretty(const char *json)
{
	char *out = ff_xmalloc(strlen(json) * 4 + 1);
	size_t n = 0;
	int in_string = 0;
	for (const char *p = json; *p; p++) {
		out[n++] = *p;
		if (in_string) {
			if (*p == '\\')
				out[n++] = *++p;
			else if (*p == '"')
				in_string = 0;
		} else if (*p == '"') {
			in_string = 1;
		} else if (*p == ',' || *p == '{' || *p == '[') {
			memcpy(out + n, "\n    ", 5);
			n += 5;
		} else if (*p == ':') {
			out[n++] = ' ';
		}
	}
	out[n] = '\0';
	return out;
}

static int predicts(const char *json, float want[3])
{
	struct ff_trees *t = NULL;
	if (ff_trees_from_json(json, strlen(json), &t) != 0)
		return 0;
	float rows[3][2] = {{1, 0}, {2, 0}, {NAN, 0}};
	int ok = 1;
	for (int r = 0; r < 3; r++)
		ok &= ff_trees_predict(t, rows[r]) == want[r];
	ff_trees_free(t);
	return ok;
}

int main(void)
{
	float want[3] = {1.75f, 1.375f, 1.75f};
	char *compact = ff_xstrdup(model("reg:squarederror", "0,0,0", NULL));
	char *spaced = pretty(compact);
	CHECK(predicts(compact, want), "the trees of a compact model, missing values to the default side");
	CHECK(predicts(spaced, want), "the same trees from the model pretty-printed");
	CHECK(strchr(spaced, '\n') && strstr(spaced, "\"learner\": {"), "the pretty copy is pretty");

	struct ff_trees *t = NULL;
	const char *m = model("binary:logistic", "0,0,0", NULL);
	CHECK(ff_trees_from_json(m, strlen(m), &t) == 1 && !t, "another objective is XGBoost's");
	CHECK_STR(ff_trees_refusal(), "objective binary:logistic", "and says which");
	m = model("reg:squarederror", "1,0,0", NULL);
	CHECK(ff_trees_from_json(m, strlen(m), &t) == 1, "a categorical split is XGBoost's");
	CHECK_STR(ff_trees_refusal(), "a split on a category", "and says so");

	ff_set_quiet(1); /* the warnings of damaged models */
	m = model("reg:squarederror", "0,0,0", "[0,-1,-1]");
	CHECK(ff_trees_from_json(m, strlen(m), &t) == -1, "a node that is its own child is refused");
	m = model("reg:squarederror", "0,0,0", "[7,-1,-1]");
	CHECK(ff_trees_from_json(m, strlen(m), &t) == -1, "a child out of the tree is refused");
	CHECK(ff_trees_from_json("{\"learner\":", 11, &t) == -1, "cut JSON is refused");
	CHECK(*ff_trees_refusal() != '\0', "with a reason");
	free(compact);
	free(spaced);
	return UNIT_DONE();
}
