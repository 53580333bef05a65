/* fuzz.h: what the harnesses of fuzz/ share. Each fuzz_NAME.c defines
 * LLVMFuzzerTestOneInput for one parser of ff; `make fuzz` links it with
 * libFuzzer (clang), `make check` with replay.c, a plain main() that runs
 * the files of fuzz/corpus/NAME and fuzz/crashes/NAME through it under
 * gcc's sanitizers. An input may be refused, never crash, leak or hang. */
#ifndef FF_FUZZ_H
#define FF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ff_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ff's messages (every refused input has one) go nowhere, unless
 * FUZZ_VERBOSE is set (to see why a seed is refused). */
static inline void fuzz_quiet(void)
{
	static FILE *null;
	if (!null) {
		ff_set_progname("fuzz");
		null = fopen(getenv("FUZZ_VERBOSE") ? "/dev/stderr" : "/dev/null", "w");
	}
	ff_hold_messages(null);
	ff_set_quiet(1);
}

/* A file holding data, for parsers that read a path: a memory file reused
 * from input to input, named /proc/self/fd/N. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("fuzz", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	return path;
}

/* data as a NUL-terminated string (malloc'd). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
