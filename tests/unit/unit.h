/* unit.h: a few macros for the C unit tests of common/. Each check prints a
 * TAP line ("ok N - what" or "not ok N - what"); main returns the failures. */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond, what)                                                              \
	do {                                                                           \
		unit_n++;                                                              \
		if (cond) {                                                            \
			printf("ok %d - %s\n", unit_n, what);                          \
		} else {                                                               \
			unit_failed++;                                                 \
			printf("not ok %d - %s (%s:%d: %s)\n", unit_n, what, __FILE__, \
			       __LINE__, #cond);                                       \
		}                                                                      \
	} while (0)

#define CHECK_STR(got, want, what) CHECK(strcmp((got), (want)) == 0, what)

#define UNIT_DONE() (unit_failed != 0)

#endif
