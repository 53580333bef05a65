/* Times and durations (ff_time): the first byte picks the parser. What
 * parses formats back to text that parses to the same value, and a time
 * plus or minus any duration does not overflow. */
#include "ff_time.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *s = fuzz_text(data + 1, size - 1);
	int64_t v, again;
	char buf[64];
	switch (data[0] % 3) {
	case 0:
	case 1:
		if (ff_time_parse(s, size - 1, data[0] % 3, &v) == 0) {
			int n = ff_time_format(v, buf);
			if (ff_time_parse(buf, (size_t)n, 0, &again) == 0 && again != v)
				abort();
			int64_t sum;
			if (__builtin_add_overflow(v, FF_DURATION_MAX, &sum) ||
			    __builtin_sub_overflow(v, FF_DURATION_MAX, &sum))
				abort();
		}
		break;
	default:
		if (ff_duration_parse(s, &v) == 0) {
			if (v <= 0 || v > FF_DURATION_MAX)
				abort();
			ff_duration_format(v, buf);
			if (ff_duration_parse(buf, &again) != 0 || again != v)
				abort();
		}
		break;
	}
	free(s);
	return 0;
}
