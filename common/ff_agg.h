/* ff_agg: windowed aggregation of an event stream into the rows of one feature
 * table, as defined by a spec. Windows are Spark's: [s, s+size) with s a
 * multiple of the slide since the epoch.
 *
 * What an open window holds is a mergeable state (rows; per numeric column
 * the count of values, their sum and sum of squares as exact double-doubles,
 * min and max), not finished values: a window handed out early can take more
 * events later, by merging the new state into the one handed out before.
 * Results therefore never depend on the order of the rows nor on when a
 * window is handed out; the watermark (newest time minus the lateness) and
 * the memory budget only decide when, to keep memory bounded. */
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

/* A window of one key handed out, with the state of the events seen for it
 * since it was last handed out. */
struct ff_agg_row {
	const char *const *keys;     /* spec->nkeys key values */
	const size_t *key_lens;
	int64_t window_end;          /* microseconds, whole seconds */
	const unsigned char *state;  /* ff_agg_state_size() bytes */
	int again;                   /* its window start was handed out before in this run */
};

typedef int (*ff_agg_emit_fn)(void *ctx, const struct ff_agg_row *row);

struct ff_agg_options {
	int has_start, has_end;     /* keep windows whose end is in (start, end] */
	int64_t start, end;
	int64_t lateness;           /* keep windows open this long behind the newest
				     * event; < 0: until the memory budget is full */
	size_t memory;              /* bytes of open state; 0: 64 MiB */
};

struct ff_agg;

/* A new aggregation for spec (which must outlive it). Rows are handed to
 * emit(ctx, row); a non-zero return from emit stops the run. */
struct ff_agg *ff_agg_new(const struct ff_spec *spec, const struct ff_agg_options *opt,
			  ff_agg_emit_fn emit, void *ctx);
void ff_agg_free(struct ff_agg *a);

/* Find the spec's columns in the input header. where names the input for
 * messages. Returns 0 or -1 (reported, naming the missing column). The
 * state layout depends on the spec alone, so that several inputs with other
 * column orders share it. */
int ff_agg_bind(struct ff_agg *a, const struct ff_field *header, size_t n, const char *where);

/* After ff_agg_bind: the input columns of the spec's keys, in its order. */
const size_t *ff_agg_key_columns(const struct ff_agg *a);

/* Parse and check one input row without adding it. Returns 0, or -1 for a bad
 * row: msg (size msgsize) says what is wrong with which column, and *reason is
 * a short class for counting ("bad timestamp", "bad number", ...). */
int ff_agg_stage(struct ff_agg *a, const struct ff_field *row, size_t n, char *msg,
		 size_t msgsize, const char **reason);

/* Add the row last staged, then hand out the windows that the watermark has
 * passed or that the memory budget needs. Returns 0, or the emit callback's
 * non-zero value. */
int ff_agg_commit(struct ff_agg *a);

/* Hand out every window still open. Returns 0 or the emit callback's value. */
int ff_agg_finish(struct ff_agg *a);

/* Windows (key states) currently open, and rows added to a window start
 * that had been handed out already (late rows), for reports and tests. */
size_t ff_agg_open_windows(const struct ff_agg *a);
/* Keys interned: at most about twice those of the open windows. */
size_t ff_agg_keys(const struct ff_agg *a);
int64_t ff_agg_late_rows(const struct ff_agg *a);

/* ---- window states: valid once ff_agg_bind succeeded; these only read the
 * aggregation, so another thread may call them while rows are added. ---- */

size_t ff_agg_state_size(const struct ff_agg *a);
/* dst = dst merged with src. */
void ff_agg_state_merge(const struct ff_agg *a, unsigned char *dst, const unsigned char *src);
/* The stored form of a state (ff-store(5)): at most ff_agg_state_size() + 16
 * bytes written to buf; returns their number. */
size_t ff_agg_state_encode(const struct ff_agg *a, const unsigned char *state, unsigned char *buf);
/* Read a stored state back. Returns 0, or -1 if the bytes are not a state
 * of this spec. */
int ff_agg_state_decode(const struct ff_agg *a, const void *buf, size_t len, unsigned char *state);
/* Most windows' states follow from their feature values (a count(*), a
 * mean times the count): those need not be stored. ff_agg_state_derive
 * rebuilds a state from values (0, or -1 if the features cannot say);
 * ff_agg_state_derivable says whether state is exactly what its values give
 * back (scratch: ff_agg_state_size() bytes). */
int ff_agg_state_derive(const struct ff_agg *a, const struct ff_value *values, unsigned char *state);
int ff_agg_state_derivable(const struct ff_agg *a, const unsigned char *state,
			   const struct ff_value *values, unsigned char *scratch);
/* The feature values (spec->nfeatures) of a window ending at window_end
 * (microseconds) whose events merged into state. */
void ff_agg_values(const struct ff_agg *a, const unsigned char *state, int64_t window_end,
		   struct ff_value *values);

#endif
