/* ff_agg: windowed aggregation of an event stream into the rows of one feature
 * table, as defined by a spec. Windows are Spark's: [s, s+size) with s a
 * multiple of the slide since the epoch. Open windows live in memory until the
 * watermark (the latest event time seen minus the allowed lateness) passes
 * their end; then they are emitted, in order of window end and key, and their
 * memory is reused. Memory thus depends on keys x open windows, not on rows. */
#ifndef FF_AGG_H
#define FF_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "ff_csv.h"
#include "ff_spec.h"

/* One value of an output column: the column's type says which member holds it. */
struct ff_value {
	int null;
	int64_t i;
	double d;
};

/* A finished window of one key, handed to the emit callback. */
struct ff_agg_row {
	const char *const *keys;     /* spec->nkeys key values */
	const size_t *key_lens;
	int64_t window_end;          /* microseconds, whole seconds */
	const char *partition;       /* "YYYY-MM" of the window end, UTC */
	const struct ff_value *values; /* spec->nfeatures values */
};

typedef int (*ff_agg_emit_fn)(void *ctx, const struct ff_agg_row *row);

struct ff_agg_options {
	int has_start, has_end;     /* keep windows whose end is in (start, end] */
	int64_t start, end;
	int64_t lateness;           /* allowed lateness; < 0 means unbounded */
};

struct ff_agg;

/* A new aggregation for spec (which must outlive it). Rows are handed to
 * emit(ctx, row); a non-zero return from emit stops the run. */
struct ff_agg *ff_agg_new(const struct ff_spec *spec, const struct ff_agg_options *opt,
			  ff_agg_emit_fn emit, void *ctx);
void ff_agg_free(struct ff_agg *a);

/* Find the spec's columns in the input header. where names the input for
 * messages. Returns 0 or -1 (reported, naming the missing column). */
int ff_agg_bind(struct ff_agg *a, const struct ff_field *header, size_t n, const char *where);

/* Parse and check one input row without adding it. Returns 0, or -1 for a bad
 * row: msg (size msgsize) says what is wrong with which column, and *reason is
 * a short class for counting ("bad timestamp", "bad number", ...). */
int ff_agg_stage(struct ff_agg *a, const struct ff_field *row, size_t n, char *msg,
		 size_t msgsize, const char **reason);

/* Add the row last staged (from line `line` of input, a name that must
 * outlive the aggregation), then emit the windows the watermark has passed.
 * Returns 0, or the emit callback's non-zero value. */
int ff_agg_commit(struct ff_agg *a, const char *input, long line);

/* Emit every window still open. Returns 0 or the emit callback's value. */
int ff_agg_finish(struct ff_agg *a);

/* Number of windows currently open (for tests and progress). */
size_t ff_agg_open_windows(const struct ff_agg *a);

#endif
