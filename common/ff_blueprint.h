/* ff_blueprint: everything about a training set that serving needs to build
 * the same feature vector again (ff-blueprint(5)): the preprocessing steps,
 * the lookups with the table versions read, the label, the excluded columns,
 * the model's input vector in order with its types, fallback statistics
 * (mean of each feature, and per lookup key), the leakage count and content
 * hashes of the inputs and of the training set. This is the blueprint as
 * read back, what a model carries (ff_model, ff_predict, ff_serve): it needs
 * the spec's grammar but none of the join or the store. ff-train-set makes
 * one with ff_blueprint_builder.h. */
#ifndef FF_BLUEPRINT_H
#define FF_BLUEPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "ff_join_spec.h"
#include "ff_keyset.h"
#include "ff_schema.h"

/* The per-key fallback means of one feature. */
struct ff_key_means {
	struct ff_keyset *keys;      /* key tuples, values joined by NUL */
	double *means;               /* by key id */
	size_t cap;
};

/* A blueprint read back: what ff-train and ff-predict need of it. */
struct ff_blueprint_info {
	char *text;                  /* the whole blueprint */
	char *store;                 /* the store the training set was made from, as given */
	char *store_path;            /* its absolute path; NULL in older blueprints */
	char *store_id;              /* its identity (ff_store_id); NULL if not recorded */
	int64_t *table_versions;     /* per lookup: the version read, -1 if not recorded */
	char **table_definitions;    /* per lookup: "xxh3-128:HEX" of the table's
					definition (ff_store_bind.h), NULL if not recorded */
	size_t ntables;              /* entries of the two: 0 in older blueprints */
	struct ff_join_spec spec;    /* preprocessing, lookups, label, exclusions */
	struct ff_strlist vector;    /* the model's input columns, in order */
	enum ff_type *vector_types;
	struct ff_strlist mean_of;   /* fallback means of features */
	double *means;
	struct ff_key_means *key_means; /* per entry of mean_of: means per lookup key */
	char *first_event;           /* the input column of the first derive, or NULL */
};

/* Parse blueprint text (origin names it in messages). Returns 0 or -1. */
int ff_blueprint_parse(const char *text, const char *origin, struct ff_blueprint_info *out);
/* Read and parse a blueprint file. Returns 0 or -1. */
int ff_blueprint_read(const char *path, struct ff_blueprint_info *out);
void ff_blueprint_info_release(struct ff_blueprint_info *b);

/* The fallback of a feature that a lookup missed: the mean for its key if
 * the training set saw the key, else the feature's mean. Returns 0, or -1
 * if the blueprint has neither. */
int ff_blueprint_fallback(const struct ff_blueprint_info *b, const char *feature, const char *key,
			  size_t key_len, double *value);

#endif
