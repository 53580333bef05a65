/* ff_compute: the ff-compute run: read CSV events once, feed every spec's
 * windowed aggregation, and fold the windows into a store (one transaction
 * for all tables, recorded as a batch so that it is folded in once) or into
 * a private store read out as CSV. */
#ifndef FF_COMPUTE_H
#define FF_COMPUTE_H

#include <stdint.h>
#include <stdio.h>

#include "ff_spec.h"
#include "ff_store.h"

struct ff_compute_options {
	const char *store;      /* NULL: write CSV to out */
	FILE *out;              /* with store == NULL */
	int mode;               /* enum ff_write_mode */
	int replace;
	int has_start, has_end;
	int64_t start, end;     /* microseconds */
	int64_t lateness;       /* keep windows open this long behind the newest
				 * event (microseconds; < 0: to the memory budget) */
	size_t memory;          /* bytes of open window state; 0: the default */
	const char *batch;      /* --batch: the batch's name, or NULL */
	int skip_bad;
	int64_t max_bad;        /* with skip_bad: the most rows skipped, or -1
				 * for max_bad_percent of the rows read */
	double max_bad_percent;
	struct ff_shard shard;  /* --shard K/N: only the keys of that shard */
	int verbose;
	int progress;           /* report rows read on stderr */
};

/* Run specs[0..nspecs) over the inputs (paths, "-" for stdin). Returns 0 on
 * success, -1 on failure (reported; the store is left as it was). */
int ff_compute_run(struct ff_spec *specs, size_t nspecs, char **inputs, size_t ninputs,
		   const struct ff_compute_options *opt);

#endif
