/* ff_drift: how far apart two samples of a numeric feature are: the
 * population stability index over bins cut at the reference's quantiles, the
 * two-sample Kolmogorov-Smirnov statistic, and equal-width histograms to
 * draw them. Every function takes values sorted in ascending order, NULLs
 * left out; quantiles are exact (the values are all in memory). */
#ifndef FF_DRIFT_H
#define FF_DRIFT_H

#include <stddef.h>

/* Proportion that stands in for an empty bin in the PSI. */
#define FF_PSI_EPSILON 1e-4

/* qsort comparison of doubles, ascending. */
int ff_double_cmp(const void *a, const void *b);

/* The p-quantile (0 <= p <= 1) of n > 0 sorted values by linear
 * interpolation between order statistics (Hyndman and Fan type 7, numpy's
 * default): h = (n - 1) p, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]). */
double ff_quantile(const double *sorted, size_t n, double p);

/* Number of the n sorted values <= x. */
size_t ff_count_le(const double *sorted, size_t n, double x);

/* The PSI bins: the distinct values among the reference quantiles at k/bins,
 * k = 1 .. bins - 1, into cuts (room for bins - 1). Bin 0 is (-inf, cuts[0]],
 * bin j is (cuts[j-1], cuts[j]], the last (cuts[ncuts-1], +inf). Returns
 * ncuts; there are ncuts + 1 bins. */
size_t ff_psi_cuts(const double *ref, size_t nref, size_t bins, double *cuts);

/* The share of the n sorted values in each of the ncuts + 1 bins. */
void ff_bin_shares(const double *sorted, size_t n, const double *cuts, size_t ncuts,
		   double *share);

/* PSI = sum over bins of (q - p) ln(q / p), p the reference's share of the
 * bin and q the current sample's, a share of 0 taken as FF_PSI_EPSILON. */
double ff_psi(const double *p, const double *q, size_t nbins);

/* D = sup over x of |F_a(x) - F_b(x)|, F the empirical distribution
 * functions, evaluated at every value of either sample. 0 if either is
 * empty. */
double ff_ks(const double *a, size_t na, const double *b, size_t nb);

/* Counts of the sorted values in nbins equal-width bins over [lo, hi];
 * values outside go to the first or the last bin. */
void ff_histogram(const double *sorted, size_t n, double lo, double hi, size_t nbins,
		  size_t *counts);

#endif
