/* ff_vector: the model's input vector, built the same way in training and
 * in serving from a record's cells: the blueprint's vector columns in order,
 * numbers as float (XGBoost's type), NULLs as NaN (missing), categorical
 * columns as codes from the encoding fixed at training. An unseen category
 * is NaN: the model treats it as missing. */
#ifndef FF_VECTOR_H
#define FF_VECTOR_H

#include <stddef.h>

#include "ff_blueprint.h"
#include "ff_keyset.h"
#include "ff_rec.h"

struct ff_vector {
	size_t n;
	const struct ff_strlist *names;
	const enum ff_type *types;
	int *categorical;          /* per column */
	struct ff_keyset **codes;  /* per categorical column: value -> code */
	int frozen;                /* serving: no new codes */
	long *col;                 /* column in the bound schema */
	const struct ff_rec_schema *schema;
};

/* The vector of a blueprint. Text columns, and those in categorical, are
 * categorical. Returns 0 or -1 if categorical names a column not in it. */
int ff_vector_init(struct ff_vector *v, const struct ff_blueprint_info *bp,
		   const struct ff_strlist *categorical);
void ff_vector_release(struct ff_vector *v);

/* Find the columns in a record schema. Returns 0 or -1 (reported). */
int ff_vector_bind(struct ff_vector *v, const struct ff_rec_schema *s, const char *where);

/* Fill out[0..n) from a record. Returns 0, or -1 with the bad column's name
 * in *bad for a value that is not a number. */
int ff_vector_fill(struct ff_vector *v, const struct ff_cell *cells, float *out, const char **bad);

/* The encoding as text ("COLUMN<TAB>CODE<TAB>VALUE" lines, values %XX
 * escaped), and read back (which freezes it). Returns 0 or -1. */
char *ff_vector_codes_text(const struct ff_vector *v);
int ff_vector_load_codes(struct ff_vector *v, const char *text, const char *origin);

#endif
