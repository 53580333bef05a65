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

/* A feature's drift period by period against one reference (ff-monitor
 * drift --by): the numbers of each period, NaN where a period has no value. */
struct ff_trend {
	const char *name;
	size_t n;                   /* periods */
	char *const *period;        /* their labels, in order */
	const size_t *rows;         /* rows of each period */
	const double *nulls;        /* share of NULLs of the feature in each period */
	const double *psi, *ks;
	const int *bad;             /* each period: over a threshold */
	double psi_threshold, ks_threshold; /* < 0: none */
};

/* Sparklines of the PSI, KS, NULL share and rows over the periods, scaled
 * from 0 to the largest value (the PSI and KS from 0 to twice their
 * threshold, clipped, so that the threshold is at half height), with a line of '^'
 * under the periods over a threshold. */
void ff_trend_text(const struct ff_trend *t, FILE *out, int ascii);
/* A page of every trend: a summary table (a table of contents when there
 * are many features), then per feature a line chart of the PSI over the
 * periods with the threshold as a dashed line, and a table of its numbers
 * (%.6g, as the text report). subtitle (may be NULL) under the title. */
int ff_trend_html(const struct ff_trend *t, size_t n, const char *title, const char *subtitle,
		  FILE *out);

/* A line over labelled points, for a page. */
struct ff_line {
	char *const *x;         /* the label of each point */
	const double *y;        /* its value; NaN: no point */
	const int *bad;         /* each point: drawn as over the limit (may be NULL) */
	size_t n;
	const char *series, *ylabel, *xlabel;
	double limit;           /* a dashed threshold line; < 0: none */
};
/* An SVG line chart of l: a legend, a y axis from 0 with ticks, the x
 * labels slanted (every kth when there are many), a dot per point with its
 * value as a tooltip. */
void ff_chart_line(const struct ff_line *l, FILE *out);

/* ---- the parts of a page, shared with ff_chart_trend ---- */

/* Text for XML and HTML: markup escaped; bytes that are not UTF-8, and
 * control characters (not allowed in XML 1.0 even as references), become
 * U+FFFD. */
void ff_chart_xml_text(FILE *out, const char *s);
/* The head of a self-contained page (no script, no file from elsewhere):
 * charset, viewport for phones, the style sheet, title as <title> and <h1>. */
void ff_chart_page_begin(FILE *out, const char *title);
/* Close the page. Returns 0 or -1 (write error). */
int ff_chart_page_end(FILE *out);
/* An SVG legend of two swatches at (x, y): a in fill_a, b in fill_b
 * (a and b are plain text, not escaped). */
void ff_chart_legend(FILE *out, double x, double y, const char *a, const char *fill_a,
		     const char *b, const char *fill_b);

#endif
