/* Feature spec files (ff-spec(5)): loaded and finished, or one error. */
#include "ff_spec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *path = fuzz_file(data, size);
	struct ff_spec spec;
	ff_spec_init(&spec, path);
	if (ff_spec_load(&spec, path) == 0 && ff_spec_finish(&spec) == 0) {
		char buf[512];
		for (size_t i = 0; i < spec.nfeatures; i++)
			ff_feature_expr(&spec.features[i], buf, sizeof buf);
	}
	ff_spec_release(&spec);
	return 0;
}
