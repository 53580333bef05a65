/* replay: run files through a harness of fuzz/ without libFuzzer, as
 * `make check` does with the seed corpora and every crash ever found:
 *   replay_NAME FILE...
 * Exits 0 if every file went through (a crash aborts, under the sanitizers). */
#include "fuzz.h"

int main(int argc, char **argv)
{
	int files = 0;
	for (int i = 1; i < argc; i++) {
		char *data;
		size_t len;
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		data = NULL;
		len = 0;
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
			char *grown = realloc(data, len + n);
			if (!grown)
				abort();
			data = grown;
			memcpy(data + len, buf, n);
			len += n;
		}
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		free(data);
		files++;
	}
	printf("%d files replayed\n", files);
	return 0;
}
