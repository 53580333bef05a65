#include "ff_store_bind.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "ff_store.h"
#include "ff_util.h"

void ff_definition_hash(const char *definition, char out[FF_DEFINITION_HASH_SIZE])
{
	XXH128_hash_t d = XXH3_128bits(definition, strlen(definition));
	snprintf(out, FF_DEFINITION_HASH_SIZE, "xxh3-128:%016" PRIx64 "%016" PRIx64, (uint64_t)d.high64,
		 (uint64_t)d.low64);
}

int ff_store_bind_identity(const struct ff_blueprint_info *bp, const struct ff_bind_source *src,
			   const char *id)
{
	/* A blueprint made before identities, or from a store that had none yet. */
	if (!bp->store_id || (id && strcmp(id, bp->store_id) == 0))
		return 0;
	if (src->any_store) {
		/* Loud on purpose, -q or not: this model reads features it was not trained on. */
		fprintf(stderr, "%s: warning: %s, %s, is another store (id %s, the model was trained on %s); "
			"used because of --any-store\n", ff_progname(), src->path, src->from, id ? id : "none",
			bp->store_id);
		return 0;
	}
	return ff_error("%s, %s, is another store (id %s, the model was trained on %s); give --store%s",
			src->path, src->from, id ? id : "none", bp->store_id,
			strstr(src->from, "--store") ? " with the store the model was trained on, or --any-store" : "");
}

int ff_store_bind_table(const struct ff_blueprint_info *bp, const struct ff_bind_source *src,
			size_t lookup, const char *definition)
{
	const char *table = bp->spec.lookups[lookup].table;
	if (!definition)
		return ff_error("%s, %s: no table %s, which %s reads", src->path, src->from, table, src->model);
	const char *want = lookup < bp->ntables ? bp->table_definitions[lookup] : NULL;
	if (!want)
		return 0; /* a blueprint made before definitions were recorded */
	char have[FF_DEFINITION_HASH_SIZE];
	ff_definition_hash(definition, have);
	if (strcmp(have, want) == 0)
		return 0;
	return ff_error("%s, %s: table %s was redefined since %s was trained (definition %s, trained on %s); "
			"retrain the model", src->path, src->from, table, src->model, have, want);
}

int ff_store_bind(const struct ff_blueprint_info *bp, const char *model, const char *given,
		  int any_store, struct ff_store_binding *b)
{
	memset(b, 0, sizeof *b);
	char from[512];
	const char *path = given;
	if (given)
		snprintf(from, sizeof from, "given with --store");
	else if ((path = bp->store_path) != NULL || (path = bp->store) != NULL)
		snprintf(from, sizeof from, "named in %s's blueprint", model);
	else
		return ff_error("%s: the blueprint names no store: give --store STORE", model);
	struct ff_bind_source src = {.model = model, .path = path, .from = from, .any_store = any_store};
	struct stat sb;
	if (stat(path, &sb) < 0)
		return ff_error("%s, %s: %s; give --store", path, from, strerror(errno));
	struct ff_store *st = NULL;
	if (ff_store_open(path, FF_STORE_READ, &st) < 0)
		return -1;
	char id[FF_STORE_ID_SIZE];
	int has_id = ff_store_id(st, id);
	int rc = has_id < 0 ? -1 : ff_store_bind_identity(bp, &src, has_id ? id : NULL);
	size_t n = bp->spec.nlookups;
	b->tables = ff_xcalloc(n ? n : 1, sizeof *b->tables);
	b->ntables = n;
	for (size_t l = 0; l < n && rc == 0; l++) {
		struct ff_catalog_entry e;
		memset(&e, 0, sizeof e);
		int found = ff_store_catalog_entry(st, bp->spec.lookups[l].table, &e);
		rc = found < 0 ? -1 : ff_store_bind_table(bp, &src, l, found ? e.definition : NULL);
		b->tables[l] = (struct ff_table_binding){
			.table = bp->spec.lookups[l].table,
			.trained = l < bp->ntables ? bp->table_versions[l] : -1,
			.current = e.version,
		};
		ff_catalog_entry_release(&e);
	}
	ff_store_close(st);
	if (rc == 0)
		b->path = ff_xstrdup(path);
	else
		ff_store_binding_release(b);
	return rc;
}

void ff_store_binding_release(struct ff_store_binding *b)
{
	if (!b)
		return;
	free(b->path);
	free(b->tables);
	memset(b, 0, sizeof *b);
}

void ff_store_binding_report(const struct ff_store_binding *b)
{
	for (size_t l = 0; l < b->ntables; l++) {
		const struct ff_table_binding *t = &b->tables[l];
		if (t->trained < 0)
			fprintf(stderr, "%s: table %s: version %" PRId64 " (the model's blueprint does not say which it "
				"was trained on)\n", ff_progname(), t->table, t->current);
		else
			fprintf(stderr, "%s: table %s: version %" PRId64 ", %" PRId64 " after the model's %" PRId64 "\n",
				ff_progname(), t->table, t->current, t->current - t->trained, t->trained);
	}
}
