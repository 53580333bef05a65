/* Join specs (ff-join-spec(5)): loaded and finished, or one error; what is
 * taken writes its canonical text, which loads again to the same text. */
#include "ff_join_spec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	const char *path = fuzz_file(data, size);
	struct ff_join_spec s;
	ff_join_spec_init(&s, path);
	if (ff_join_spec_load(&s, path) == 0 && ff_join_spec_finish(&s) == 0) {
		char *text = ff_join_spec_text(&s);
		struct ff_join_spec again;
		path = fuzz_file((const uint8_t *)text, strlen(text));
		ff_join_spec_init(&again, path);
		if (ff_join_spec_load(&again, path) != 0 || ff_join_spec_finish(&again) != 0)
			abort();
		char *text2 = ff_join_spec_text(&again);
		if (strcmp(text, text2) != 0)
			abort();
		free(text2);
		ff_join_spec_release(&again);
		free(text);
	}
	ff_join_spec_release(&s);
	return 0;
}
