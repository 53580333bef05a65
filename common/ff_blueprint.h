/* ff_blueprint: everything about a training set that serving needs to build
 * the same feature vector again (ff-blueprint(5)): the preprocessing steps,
 * the lookups with the table versions read, the label, the excluded columns,
 * the model's input vector in order with its types, fallback statistics
 * (mean of each feature, and per lookup key), the leakage count and content
 * hashes of the inputs and of the training set. ff-train-set fills one in
 * while it writes the training set. */
#ifndef FF_BLUEPRINT_H
#define FF_BLUEPRINT_H

#include <stdint.h>
#include <stdio.h>

#include "ff_join.h"

struct ff_blueprint;

/* A blueprint for the training set that j writes from spec (which must
 * name a label). store is the path as given. */
struct ff_blueprint *ff_blueprint_new(const struct ff_join_spec *spec, const struct ff_join *j,
				      const char *store);
void ff_blueprint_free(struct ff_blueprint *b);

/* The ff_join observer: checks the label and inputs of each row and adds it
 * to the statistics. Returns 0, or -1 for a bad row (reported). */
int ff_blueprint_observe(void *blueprint, const struct ff_join_row *row);

/* Rows seen, and rows that saw a feature whose window ends after the row's
 * own event time (leakage). */
int64_t ff_blueprint_rows(const struct ff_blueprint *b);
int64_t ff_blueprint_leaky_rows(const struct ff_blueprint *b);

/* Write the blueprint. Returns 0 or -1. */
int ff_blueprint_write(const struct ff_blueprint *b, FILE *out);

#endif
