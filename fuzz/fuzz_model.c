/* Model files (ff-model(5)): checked, then loaded by XGBoost, or one
 * error; a model that loads predicts a row through XGBoost and through
 * ff_trees, which must not crash whatever the trees say. */
#include <math.h>

#include "ff_model.h"
#include "ff_trees.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	fuzz_quiet();
	if (!once) {
		XGBSetGlobalConfig("{\"verbosity\": 0}");
		once = 1;
	}
	struct ff_model *m = NULL;
	if (ff_model_load_buffer(data, size, "fuzz.json", &m) == 0) {
		float x[256], out;
		size_t n = m->vector.n < 256 ? m->vector.n : 256;
		for (size_t i = 0; i < n; i++)
			x[i] = i % 2 ? NAN : (float)i;
		if (n == m->vector.n) {
			ff_xgb_predict_one(m->booster, x, n, &out);
			if (m->trees)
				out = ff_trees_predict(m->trees, x);
		}
		ff_model_free(m);
	}
	return 0;
}
