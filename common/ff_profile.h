/* ff_profile: what the values of a frame's columns look like: counts, NULLs,
 * distinct values, range, mean, standard deviation, quantiles, the most
 * frequent text values; whether a key is unique; rows per partition. All
 * exact: the values are in memory and sorted once per column. */
#ifndef FF_PROFILE_H
#define FF_PROFILE_H

#include <stddef.h>

#include "ff_frame.h"

#define FF_PROFILE_NQ 7
/* The quantiles profiled: p1 p5 p25 p50 p75 p95 p99. */
extern const double ff_profile_q[FF_PROFILE_NQ];

#define FF_PROFILE_NTOP 5

struct ff_top_value {
	const char *value; /* in the frame */
	size_t count;
};

struct ff_col_profile {
	size_t col;        /* in the frame */
	size_t count;      /* rows */
	size_t nulls;
	size_t distinct;   /* distinct non-NULL values */
	/* Numbers and timestamps (seconds); NaN when there is no value. */
	double min, max, mean, stddev; /* stddev: sample, NaN below 2 values */
	double q[FF_PROFILE_NQ];
	struct ff_top_value top[FF_PROFILE_NTOP]; /* text: most frequent first */
	size_t ntop;
};

/* Rows of the frame: an index list, or all rows when rows is NULL. */
struct ff_rows {
	const size_t *rows;
	size_t n;
};
#define FF_ROW(sel, i) ((sel)->rows ? (sel)->rows[i] : (i))

/* Profile column col over the rows sel. */
void ff_profile_column(const struct ff_frame *f, size_t col, const struct ff_rows *sel,
		       struct ff_col_profile *out);

/* Key uniqueness over the rows sel of the key columns cols. */
struct ff_key_check {
	size_t duplicates; /* rows whose key an earlier row has */
	size_t null_keys;  /* rows with a NULL in the key */
	size_t dup_row, first_row; /* an example: a duplicate and the row it repeats */
};
void ff_profile_key(const struct ff_frame *f, const size_t *cols, size_t ncols,
		    const struct ff_rows *sel, struct ff_key_check *out);

/* Rows per distinct value of the columns cols (rows with a NULL there left
 * out), in the order of the values: text bytewise, numbers by value. */
struct ff_group_count {
	size_t row; /* the first row holding the value */
	size_t count;
	double max; /* the greatest value of max_col in the group, NaN if none */
};
/* With max_col >= 0, each group's greatest value of that column (numbers or
 * timestamps). Returns the number of groups; *out is malloc'd. */
size_t ff_profile_groups(const struct ff_frame *f, const size_t *cols, size_t ncols,
			 long max_col, const struct ff_rows *sel, struct ff_group_count **out);

/* The sorted non-NULL numeric values of col over sel (malloc'd). */
double *ff_profile_values(const struct ff_frame *f, size_t col, const struct ff_rows *sel,
			  size_t *n);

#endif
