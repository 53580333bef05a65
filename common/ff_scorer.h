/* ff_scorer: one raw row at a time through a model's blueprint against an
 * online store, for a server: derive, look up, fall back, build the vector,
 * predict, with the very code of ff-predict. A scorer belongs to one thread
 * (its own SQLite connection and buffers); the model is shared, read only. */
#ifndef FF_SCORER_H
#define FF_SCORER_H

#include <stddef.h>
#include <stdint.h>

#include "ff_model.h"

struct ff_scorer;

/* Open a scorer of m on the online store. Returns 0 or -1 (reported). */
int ff_scorer_open(struct ff_model *m, const char *online, struct ff_scorer **out);
void ff_scorer_free(struct ff_scorer *s);

/* The raw columns a row must give, in the order of the cells passed to
 * ff_scorer_score: the sources of the derive steps, the lookups' keys and
 * timestamps, and the vector's own columns. */
const struct ff_strlist *ff_scorer_columns(const struct ff_scorer *s);

struct ff_score {
	float prediction;
	const float *x;                 /* the vector the model saw; NaN: missing */
	const unsigned char *fell_back; /* per vector column: 1 if it took a fallback */
	size_t lookups, misses, fallbacks;
	int64_t lookup_ns;              /* derive steps, lookups and vector */
};

/* Score one row: text cells (or NULL) in the order of ff_scorer_columns.
 * where names the row in messages. The score's arrays live until the next
 * call. Returns 0 or -1 (reported: a bad timestamp, a value that is not a
 * number). */
int ff_scorer_score(struct ff_scorer *s, const struct ff_cell *cells, const char *where,
		    struct ff_score *out);

#endif
