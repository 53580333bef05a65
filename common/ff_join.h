/* ff_join: the point-in-time join of a record stream with feature tables,
 * shared by ff-join, ff-train-set and (later) ff-predict: apply the spec's
 * preprocessing steps, look each row's features up as of its own time, and
 * write the input columns, the derived ones and the features, in input
 * order, one output row per input row. */
#ifndef FF_JOIN_H
#define FF_JOIN_H

#include <stdio.h>

#include "ff_join_spec.h"
#include "ff_lookup.h"
#include "ff_rec.h"

struct ff_join;

/* Open the offline store and load the spec's tables in memory; or, with
 * online not NULL, look features up in that online store (ff-sync-online)
 * row by row. Returns 0 or -1 (reported). */
int ff_join_open(const struct ff_join_spec *spec, const char *store, const char *online,
		 struct ff_join **out);
/* The same, reading the offline tables as of a version or a time
 * (ff_store_history.h): as_of holds one for every table (nas_of 1) or one
 * per lookup (nas_of the spec's lookups); none (0) is the latest. */
struct ff_as_of;
int ff_join_open_as_of(const struct ff_join_spec *spec, const char *store, const char *online,
		       const struct ff_as_of *as_of, size_t nas_of, struct ff_join **out);
void ff_join_free(struct ff_join *j);

size_t ff_join_nlookups(const struct ff_join *j);
/* 1 if the spec gives the feature (by output name) a default for misses. */
int ff_join_feature_has_default(const struct ff_join *j, const char *name);
/* The lookup that gives the output column name, or -1 if none does. */
long ff_join_feature_lookup(const struct ff_join *j, const char *name);
/* The output and input columns, once the first input's header has been read. */
const struct ff_rec_schema *ff_join_output_schema(const struct ff_join *j);
const struct ff_rec_schema *ff_join_input_schema(const struct ff_join *j);
/* The loaded table of a lookup (offline joins only). */
const struct ff_feature_table *ff_join_table(const struct ff_join *j, size_t lookup);

/* What ff-train-set sees of each row besides the output. */
struct ff_join_row {
	const struct ff_cell *cells;       /* the output row */
	const struct ff_rec_schema *schema; /* of the output */
	const struct ff_cell *input;       /* the input row */
	const struct ff_rec_schema *input_schema;
	const char *where;                 /* "file:LINE" of the input row */
	const int64_t *key;                /* per lookup: key id or -1 (offline) */
	const int64_t *match;              /* per lookup: table row or -1 */
	const int64_t *event_time;         /* per lookup: the time the lookup's timestamp
					      was derived from (itself if not derived),
					      INT64_MIN without a timestamp */
	const char *const *key_bytes;      /* per lookup: the key tuple (values joined
					      by NUL), NULL if a part is NULL */
	const size_t *key_lens;
	int64_t started_ns;                /* monotonic clock when the row was read */
};
typedef int (*ff_join_observe_fn)(void *ctx, const struct ff_join_row *row);

/* Called once the first input's header is read, before any row: the output
 * and input columns, and "file:1" for messages. */
typedef int (*ff_join_schema_fn)(void *ctx, const struct ff_rec_schema *out,
				 const struct ff_rec_schema *in, const char *where);
void ff_join_on_schema(struct ff_join *j, ff_join_schema_fn fn);

/* Leave started_ns 0: an observer that does not read it (ff-train-set)
 * saves a clock read a row. Rows are timed by default (a server's latency). */
void ff_join_untimed(struct ff_join *j);

/* Join the inputs (paths, "-" stdin; none: stdin) into out in format (out
 * NULL: rows go to the observer only).
 * observe, if not NULL, is called for every row after it is written.
 * Columns named in the spec's exclude list are left out of the output.
 * Returns 0 or -1 (reported with file and line). */
int ff_join_run(struct ff_join *j, char **inputs, size_t ninputs, FILE *out,
		enum ff_rec_format format, ff_join_observe_fn observe, void *ctx);

/* Rows one at a time, with no reader (a server's requests): bind the input
 * columns once, then join each row and hand it to observe (no output
 * stream). where names the schema and the row in messages. Both return 0
 * or -1 (reported). */
int ff_join_bind(struct ff_join *j, const struct ff_rec_schema *in, const char *where);
int ff_join_row(struct ff_join *j, const struct ff_cell *cells, const char *where,
		ff_join_observe_fn observe, void *ctx);

#endif
