#include "ff_drift.h"

#include <math.h>

int ff_double_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double ff_quantile(const double *sorted, size_t n, double p)
{
	double h = (double)(n - 1) * p;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

size_t ff_count_le(const double *sorted, size_t n, double x)
{
	size_t lo = 0, hi = n; /* the first index whose value is > x */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t ff_psi_cuts(const double *ref, size_t nref, size_t bins, double *cuts)
{
	size_t ncuts = 0;
	for (size_t k = 1; k < bins && nref > 0; k++) {
		double c = ff_quantile(ref, nref, (double)k / (double)bins);
		if (ncuts == 0 || c > cuts[ncuts - 1])
			cuts[ncuts++] = c;
	}
	return ncuts;
}

void ff_bin_shares(const double *sorted, size_t n, const double *cuts, size_t ncuts,
		   double *share)
{
	size_t below = 0;
	for (size_t j = 0; j <= ncuts; j++) {
		size_t upto = j < ncuts ? ff_count_le(sorted, n, cuts[j]) : n;
		share[j] = n ? (double)(upto - below) / (double)n : 0;
		below = upto;
	}
}

double ff_psi(const double *p, const double *q, size_t nbins)
{
	double psi = 0;
	for (size_t j = 0; j < nbins; j++) {
		double a = p[j] > 0 ? p[j] : FF_PSI_EPSILON, b = q[j] > 0 ? q[j] : FF_PSI_EPSILON;
		psi += (b - a) * log(b / a);
	}
	return psi;
}

double ff_ks(const double *a, size_t na, const double *b, size_t nb)
{
	if (na == 0 || nb == 0)
		return 0;
	size_t i = 0, j = 0;
	double d = 0;
	/* Step past every copy of the next value in both samples, then compare. */
	while (i < na || j < nb) {
		double x = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j];
		while (i < na && a[i] <= x)
			i++;
		while (j < nb && b[j] <= x)
			j++;
		double diff = fabs((double)i / (double)na - (double)j / (double)nb);
		if (diff > d)
			d = diff;
	}
	return d;
}

void ff_histogram(const double *sorted, size_t n, double lo, double hi, size_t nbins,
		  size_t *counts)
{
	for (size_t j = 0; j < nbins; j++)
		counts[j] = 0;
	double width = (hi - lo) / (double)nbins;
	for (size_t i = 0; i < n; i++) {
		double k = width > 0 ? floor((sorted[i] - lo) / width) : 0;
		size_t bin = k < 0 ? 0 : k >= (double)nbins ? nbins - 1 : (size_t)k;
		counts[bin]++;
	}
}
