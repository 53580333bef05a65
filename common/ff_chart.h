/* ff_chart: two distributions of a feature side by side, as terminal bars
 * (Unicode eighth blocks, or '#' in ASCII) or as a self-contained SVG or
 * HTML page for people who would rather look than read. */
#ifndef FF_CHART_H
#define FF_CHART_H

#include <stddef.h>
#include <stdio.h>

#define FF_CHART_BINS 12

/* A feature's two histograms over the same equal-width bins. */
struct ff_chart {
	const char *name;
	double psi, ks;
	const char *status;              /* "ok" or "drift" */
	double lo, hi;                   /* the range of the bins */
	size_t nbins;                    /* FF_CHART_BINS, or fewer for whole numbers */
	int whole;                       /* one bin per whole number from lo to hi */
	double ref[FF_CHART_BINS], cur[FF_CHART_BINS]; /* shares of each sample */
};

/* Bin two sorted samples over [lo, hi], from the 1st to the 99th
 * percentile of both (the values outside go to the end bins); whole numbers
 * spanning fewer values than FF_CHART_BINS get a bin each. */
void ff_chart_fill(struct ff_chart *c, const double *ref, size_t nref, const double *cur,
		   size_t ncur);

/* Print the bars of c, each bar at most width columns. */
void ff_chart_text(const struct ff_chart *c, FILE *out, int ascii);

/* A page of every chart: SVG alone, or HTML around a results table and the
 * SVG. title heads it. Returns 0 or -1 (write error). */
int ff_chart_svg(const struct ff_chart *charts, size_t n, const char *title, FILE *out);
int ff_chart_html(const struct ff_chart *charts, size_t n, const char *title, FILE *out);

#endif
