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

#include "ff_join_spec.h"

/* The registry file: given if not NULL, else $FF_REGISTRY, else models.db. */
const char *ff_registry_path(const char *given);

/* 1 if ref is a models:/ reference. */
int ff_registry_is_ref(const char *ref);

/* The artifact bytes of a models:/ reference (malloc'd into *data), and its
 * canonical name "models:/NAME/VERSION" (malloc'd, may be NULL). Returns 0
 * or -1 (reported: unknown name, version or alias, no registry). */
int ff_registry_fetch(const char *registry, const char *ref, void **data, size_t *len, char **label);

/* ---- names and references ---- */

/* 1 if s is a model name or alias: [A-Za-z_][A-Za-z0-9_.-]*. */
int ff_registry_is_name(const char *s);

/* "models:/NAME/VERSION" (malloc'd). */
char *ff_registry_ref_text(const char *name, int64_t version);

/* A reference taken apart: a name with a version, an alias, or neither (the
 * latest version). */
struct ff_registry_ref {
	char *name;
	int64_t version;   /* 0: none given */
	char *alias;       /* NULL: none given */
};

/* Parse models:/NAME/VERSION, models:/NAME@ALIAS or models:/NAME; the
 * models:/ prefix may be left out. Returns 0, or -1 (reported) for text that
 * is none of these. */
int ff_registry_ref_parse(const char *text, struct ff_registry_ref *out);
void ff_registry_ref_release(struct ff_registry_ref *ref);

/* ---- the registry ---- */

struct ff_registry;

enum ff_registry_mode {
	FF_REGISTRY_READ,  /* the file must exist */
	FF_REGISTRY_WRITE, /* created by the first change if missing */
};

/* Open the registry at path. Returns 0 or -1 (reported: no such registry,
 * not an ff registry, a newer format). */
int ff_registry_open(const char *path, enum ff_registry_mode mode, struct ff_registry **out);
void ff_registry_close(struct ff_registry *r);
const char *ff_registry_file(const struct ff_registry *r);

/* The version ref stands for. Returns 0 or -1 (reported: no model of that
 * name, no such version or alias). */
int ff_registry_resolve(struct ff_registry *r, const struct ff_registry_ref *ref, int64_t *version);

/* Register an artifact (data, len; origin names it in messages, and its
 * real path is kept as the source unless it is "-") as the next version of
 * name, in one transaction: its bytes, hash, metrics and lineage (the tables,
 * versions and features its blueprint looks up), and point each of aliases
 * (may be NULL) at it. An artifact identical to a version of name already
 * there gives that version (*existed = 1): no new version; the aliases are
 * still set, and description, if not NULL, replaces the old one. Returns 0
 * or -1 (reported: not an ff model, a bad alias). */
int ff_registry_register(struct ff_registry *r, const char *name, const void *data, size_t len,
			 const char *origin, const char *description,
			 const struct ff_strlist *aliases, int64_t *version, int *existed);

/* Point alias of name at version, moving it if it points elsewhere. Returns
 * 0 or -1 (reported: no such version). */
int ff_registry_set_alias(struct ff_registry *r, const char *name, int64_t version,
			  const char *alias);
/* Remove an alias. Returns 0 or -1 (reported: no such alias). */
int ff_registry_unset_alias(struct ff_registry *r, const char *name, const char *alias);
/* Delete a version, its artifact and lineage. A version an alias points to
 * is refused unless force, which removes those aliases too. Its number is
 * never given again. Returns 0 or -1 (reported). */
int ff_registry_delete(struct ff_registry *r, const char *name, int64_t version, int force);

/* The artifact of a version (malloc'd into *data). Returns 0 or -1. */
int ff_registry_artifact(struct ff_registry *r, const char *name, int64_t version, void **data,
			 size_t *len);

/* A registered version, as ff-models list and show print it. */
struct ff_registry_entry {
	char *name;
	int64_t version;
	char *created;               /* "YYYY-MM-DD HH:MM:SS" UTC */
	int64_t size;
	char *hash;                  /* "xxh3-128:" and 32 hex digits */
	char *source;                /* real path of the file registered, or NULL */
	char *description;           /* or NULL */
	char *metrics;               /* the artifact's ff_metrics text, or NULL */
	struct ff_strlist aliases;   /* in alphabetical order */
};
void ff_registry_entry_release(struct ff_registry_entry *e);

/* Call each for every version, of name or (name NULL) of every model, by
 * name then version; a nonzero return stops the walk and is returned.
 * Returns 0 or -1 (reported: no model of that name). */
typedef int (*ff_registry_entry_fn)(const struct ff_registry_entry *e, void *arg);
int ff_registry_list(struct ff_registry *r, const char *name, ff_registry_entry_fn each, void *arg);
/* One version. Returns 0 or -1 (reported). */
int ff_registry_get(struct ff_registry *r, const char *name, int64_t version,
		    struct ff_registry_entry *out);

/* One lookup of a version's blueprint: a table, the table version the
 * training set read (0 if the blueprint does not say) and the features it
 * takes (none: every feature of the table). */
struct ff_registry_need {
	const char *name;            /* the model */
	int64_t version;
	const char *table;
	int64_t table_version;
	const struct ff_strlist *features;
};
typedef int (*ff_registry_need_fn)(const struct ff_registry_need *n, void *arg);

/* The lookups of a version, in blueprint order. Returns 0, -1 (reported) or
 * what each returned. */
int ff_registry_needs(struct ff_registry *r, const char *name, int64_t version,
		      ff_registry_need_fn each, void *arg);
/* The lookups of every version that reads table (and, if feature is not NULL,
 * that feature, named or as one of every feature), by model name and
 * version. Returns 0, -1 (reported) or what each returned. */
int ff_registry_uses(struct ff_registry *r, const char *table, const char *feature,
		     ff_registry_need_fn each, void *arg);

#endif
