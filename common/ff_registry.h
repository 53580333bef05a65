/* ff_registry: a model registry in one SQLite file (ff-registry(5)): models
 * registered under a name get versions 1, 2, ... and optional aliases such
 * as champion; a model is referenced by file path, models:/NAME/VERSION,
 * models:/NAME@ALIAS or models:/NAME (its latest version). The registry
 * keeps a copy of each artifact, and what it needs (tables, versions,
 * features) for lineage queries. */
#ifndef FF_REGISTRY_H
#define FF_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

/* The registry file: given if not NULL, else $FF_REGISTRY, else models.db. */
const char *ff_registry_path(const char *given);

/* 1 if ref is a models:/ reference. */
int ff_registry_is_ref(const char *ref);

/* The artifact bytes of a models:/ reference (malloc'd into *data), and its
 * canonical name "models:/NAME/VERSION" (malloc'd, may be NULL). Returns 0
 * or -1 (reported: unknown name, version or alias, no registry). */
int ff_registry_fetch(const char *registry, const char *ref, void **data, size_t *len, char **label);

#endif
