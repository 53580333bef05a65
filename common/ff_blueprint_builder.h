/* ff_blueprint_builder: how ff-train-set makes a blueprint (ff-blueprint(5))
 * while it writes the training set: it observes each joined row (ff_join),
 * checks the label and inputs, gathers the fallback means, the misses and
 * the leakage per lookup, hashes the input and the output, and writes the
 * blueprint at the end. Reading one back is ff_blueprint.h, which needs
 * none of the join. */
#ifndef FF_BLUEPRINT_BUILDER_H
#define FF_BLUEPRINT_BUILDER_H

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
