#include "ff_sort.h"

#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

/* LSD radix sort, 11 bits a pass (the counts fit in the cache), skipping
 * the passes where every key has the same digit. */
#define DIGIT_BITS 11
#define DIGITS (1 << DIGIT_BITS)
void ff_sort_keyed(struct ff_keyed *a, size_t n)
{
	if (n < 2)
		return;
	struct ff_keyed *tmp = ff_xmalloc(n * sizeof *tmp), *src = a, *dst = tmp;
	size_t count[DIGITS];
	for (int shift = 0; shift < 64; shift += DIGIT_BITS) {
		memset(count, 0, sizeof count);
		for (size_t i = 0; i < n; i++)
			count[(src[i].key >> shift) & (DIGITS - 1)]++;
		if (count[(src[0].key >> shift) & (DIGITS - 1)] == n)
			continue;
		size_t sum = 0;
		for (size_t d = 0; d < DIGITS; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].key >> shift) & (DIGITS - 1)]++] = src[i];
		struct ff_keyed *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
	free(tmp);
}

uint64_t ff_sort_key_double(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u >> 63 ? ~u : u | (1ULL << 63);
}

void ff_sort_doubles(double *v, size_t n)
{
	struct ff_keyed *a = ff_xmalloc((n ? n : 1) * sizeof *a);
	for (size_t i = 0; i < n; i++)
		a[i] = (struct ff_keyed){ff_sort_key_double(v[i]), i};
	ff_sort_keyed(a, n);
	double *sorted = ff_xmalloc((n ? n : 1) * sizeof *sorted);
	for (size_t i = 0; i < n; i++)
		sorted[i] = v[a[i].row];
	memcpy(v, sorted, n * sizeof *v);
	free(sorted);
	free(a);
}
