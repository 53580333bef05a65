/* ff_served: the models a server answers with, as one generation: each
 * model loaded from its reference, with one scorer per worker thread. A
 * reload builds a new generation beside the old; requests hold a reference
 * to the generation they started with, and the old one is freed when the
 * last of them ends. */
#ifndef FF_SERVED_H
#define FF_SERVED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "ff_inference_log.h"
#include "ff_model.h"
#include "ff_scorer.h"
#include "ff_store_bind.h"

struct ff_served_model {
	char *name;              /* in routes and in the inference log */
	char *ref;               /* as given: a file or a models:/ reference */
	char *label;             /* what was loaded: models:/NAME/VERSION or the file */
	char *version;           /* the registry version, or file:HASH of the file's bytes */
	struct ff_model *m;
	struct ff_store_binding bound; /* its tables in the online store (ff_store_bind.h) */
	struct ff_scorer **scorers; /* one per worker, and a spare shared under lock */
	pthread_mutex_t spare_lock;
	int log_table;           /* -1: not logged */
};

struct ff_generation {
	struct ff_served_model *models;
	size_t n;
	size_t workers;
	atomic_int refs;
	long long loaded_at;     /* wall clock, seconds */
};

/* Load the models ("[NAME=]REF" each), check that the online store holds
 * the tables each was trained on (ff_store_bind_online; any_store: from
 * another store too, warned), and open workers scorers per model on it; with log, make each model's inference table. Returns
 * 0 and *out (one reference held), or -1 (reported). */
int ff_generation_load(char **specs, size_t n, const char *registry, const char *online, int any_store,
		       size_t workers, struct ff_inference_log *log, struct ff_generation **out);
/* Drop a reference; the last frees the generation. */
void ff_generation_release(struct ff_generation *g);

/* The model of that name, or NULL. */
struct ff_served_model *ff_generation_find(struct ff_generation *g, const char *name, size_t len);

#endif
