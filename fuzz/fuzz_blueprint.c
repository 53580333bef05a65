/* Blueprints (ff-blueprint(5)), as a model carries them: parsed, and the
 * vector a model is served with made from them, or one error. */
#include "ff_blueprint.h"
#include "ff_vector.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	char *text = fuzz_text(data, size);
	struct ff_blueprint_info bp;
	memset(&bp, 0, sizeof bp);
	if (ff_blueprint_parse(text, "fuzz.bp", &bp) == 0) {
		struct ff_vector v;
		if (ff_vector_init(&v, &bp, NULL) == 0)
			ff_vector_release(&v);
	}
	ff_blueprint_info_release(&bp);
	free(text);
	return 0;
}
