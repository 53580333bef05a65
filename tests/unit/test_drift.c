/* Unit tests of ff_drift and ff_sort: quantiles, PSI bins, PSI, KS and the
 * radix sorts, against values worked out by hand. */
#include <math.h>
#include <stdlib.h>

#include "ff_drift.h"
#include "ff_sort.h"
#include "unit.h"

static int near(double a, double b) { return fabs(a - b) <= 1e-12; }

int main(void)
{
	double x[] = {1, 2, 3, 4, 10};
	CHECK(near(ff_quantile(x, 5, 0.5), 3), "median of five");
	CHECK(near(ff_quantile(x, 5, 0.95), 8.8), "p95 interpolates between 4 and 10");
	CHECK(near(ff_quantile(x, 5, 0), 1) && near(ff_quantile(x, 5, 1), 10), "p0 and p100");
	CHECK(ff_count_le(x, 5, 3) == 3 && ff_count_le(x, 5, 0) == 0 && ff_count_le(x, 5, 99) == 5,
	      "count of values <= x");

	/* Ties collapse cut points: 0 0 0 0 0 0 0 1 1 1 at the deciles. */
	double w[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, cuts[9];
	size_t n = ff_psi_cuts(w, 10, 10, cuts);
	CHECK(n == 3 && cuts[0] == 0 && near(cuts[1], 0.3) && cuts[2] == 1, "repeated cut points dropped");

	/* Two bins at the median 2.5: reference 1 2 | 3 4, current 1 | 3 4 5. */
	double ref[] = {1, 2, 3, 4}, cur[] = {1, 3, 4, 5}, c1[1], p[2], q[2];
	n = ff_psi_cuts(ref, 4, 2, c1);
	ff_bin_shares(ref, 4, c1, n, p);
	ff_bin_shares(cur, 4, c1, n, q);
	CHECK(n == 1 && near(c1[0], 2.5) && p[0] == 0.5 && q[0] == 0.25, "bin shares");
	CHECK(near(ff_psi(p, q, 2), (0.25 - 0.5) * log(0.5) + (0.75 - 0.5) * log(1.5)), "PSI");
	double zero[] = {0, 1}, full[] = {1, 0};
	CHECK(near(ff_psi(zero, full, 2), 2 * (1 - 1e-4) * log(1 / 1e-4)), "PSI: empty bins take 1e-4");
	CHECK(ff_psi(p, p, 2) == 0, "PSI of a sample with itself");

	CHECK(near(ff_ks(ref, 4, cur, 4), 0.25), "KS");
	double a[] = {1, 1, 1, 2}, b[] = {1, 2, 2, 2};
	CHECK(near(ff_ks(a, 4, b, 4), 0.5), "KS steps past every copy of a value");
	CHECK(ff_ks(a, 4, b, 0) == 0, "KS of an empty sample");

	double v[] = {3, -1, 0.5, -0.0, 1e300, -1e-300, 2, 2};
	ff_sort_doubles(v, 8);
	int sorted = 1;
	for (int i = 1; i < 8; i++)
		sorted &= v[i - 1] <= v[i];
	CHECK(sorted && v[0] == -1 && v[7] == 1e300, "radix sort of doubles, negatives too");
	struct ff_keyed k[] = {{5, 0}, {1, 1}, {5, 2}, {1ULL << 40, 3}, {1, 4}};
	ff_sort_keyed(k, 5);
	CHECK(k[0].row == 1 && k[1].row == 4 && k[2].row == 0 && k[3].row == 2 && k[4].row == 3,
	      "radix sort of keys is stable");
	size_t counts[3];
	ff_histogram(x, 5, 1, 10, 3, counts);
	CHECK(counts[0] == 3 && counts[1] == 1 && counts[2] == 1, "histogram, the maximum in the last bin");
	return UNIT_DONE();
}
