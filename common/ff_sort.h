/* ff_sort: radix sorts for the large arrays of ff-monitor, linear where
 * qsort's comparisons through a function pointer dominate a profile. */
#ifndef FF_SORT_H
#define FF_SORT_H

#include <stddef.h>
#include <stdint.h>

/* A row and the 64-bit key it is sorted by. */
struct ff_keyed {
	uint64_t key;
	size_t row;
};

/* Sort by key, ties keeping their order (stable). */
void ff_sort_keyed(struct ff_keyed *a, size_t n);
/* The bits of a double as an unsigned number in the same order. */
uint64_t ff_sort_key_double(double d);
/* Sort doubles ascending (no NaN), -0 before +0. */
void ff_sort_doubles(double *v, size_t n);

#endif
