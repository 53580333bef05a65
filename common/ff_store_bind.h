/* ff_store_bind: a model bound to the offline store it was trained on
 * (ff-blueprint(5), Binding). The blueprint records the store's identity
 * (ff_store_id), its absolute path, and each table's version and a hash of
 * its definition; ff-predict and ff-serve find the store here and refuse
 * one with another identity or another definition of a table, saying where
 * its path came from. A newer version of a table is normal: how many
 * versions it is past training's is reported, not refused. */
#ifndef FF_STORE_BIND_H
#define FF_STORE_BIND_H

#include <stdint.h>
#include <stdio.h>

#include "ff_blueprint.h"

/* "xxh3-128:" and 32 hexadecimal digits, the form of a table-definition line. */
#define FF_DEFINITION_HASH_SIZE 42
void ff_definition_hash(const char *definition, char out[FF_DEFINITION_HASH_SIZE]);

/* A table as training read it and as the store holds it now. */
struct ff_table_binding {
	const char *table;        /* the lookup's table */
	int64_t trained, current; /* versions; trained -1 if the blueprint has none */
};

struct ff_store_binding {
	char *path;                      /* the store to open */
	struct ff_table_binding *tables; /* per lookup of the blueprint */
	size_t ntables;
};

/* The expected identity and tables, and what the store holds. id: the
 * store's (NULL if it has none); definition: a lookup table's definition
 * text in the store, NULL if the store has no such table. A table checked
 * by ff_store_bind_table; the identity by ff_store_bind_identity (table:
 * NULL for an offline store, else the online table synced from it). Both
 * return 0 or -1 (reported, with path and from in the message). */
struct ff_bind_source {
	const char *model;        /* the model, in messages */
	const char *path;         /* the store as opened */
	const char *from;         /* where the path came from: "named in M's blueprint",
				     "given with --store", ... */
	int any_store;            /* accept another identity, with a warning */
};
int ff_store_bind_identity(const struct ff_blueprint_info *bp, const struct ff_bind_source *src,
			   const char *table, const char *id);
int ff_store_bind_table(const struct ff_blueprint_info *bp, const struct ff_bind_source *src,
			size_t lookup, const char *definition);

/* Find the offline store of a model's blueprint: given (--store) if not
 * NULL, else the blueprint's store-path, else (a blueprint made before
 * store-path) its store line as typed, relative to the current directory.
 * Open it, check its identity and its tables' definitions, and read the
 * tables' versions into b. Returns 0, or -1 (reported). */
int ff_store_bind(const struct ff_blueprint_info *bp, const char *model, const char *given,
		  int any_store, struct ff_store_binding *b);
/* The same for an online store (ff-online(5)): each table of the
 * blueprint's lookups must have been synced from a store with the
 * blueprint's identity (when both record one) and have its definition;
 * the versions read are those last synced. Returns 0, or -1 (reported). */
int ff_store_bind_online(const struct ff_blueprint_info *bp, const char *model, const char *online,
			 int any_store, struct ff_store_binding *b);
void ff_store_binding_release(struct ff_store_binding *b);

/* For --stats: "; table versions T N (model M, +K), ..." on out, N the
 * version read, M training's, K how many it moved on since (-K: the
 * store is behind training, an online store not synced since). */
void ff_store_binding_report(const struct ff_store_binding *b, FILE *out);

#endif
