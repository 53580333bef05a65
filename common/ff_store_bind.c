#include "ff_store_bind.h"
#include "ff_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "ff_db.h"
#include "ff_online_redis.h"
#include "ff_redis.h"
#include "ff_store.h"
#include "ff_util.h"

void ff_definition_hash(const char *definition, char out[FF_DEFINITION_HASH_SIZE])
{
	XXH128_hash_t d = XXH3_128bits(definition, strlen(definition));
	snprintf(out, FF_DEFINITION_HASH_SIZE, "xxh3-128:%016" PRIx64 "%016" PRIx64, (uint64_t)d.high64,
		 (uint64_t)d.low64);
}

int ff_store_bind_identity(const struct ff_blueprint_info *bp, const struct ff_bind_source *src,
			   const char *table, const char *id)
{
	/* A blueprint made before identities, or from a store that had none yet. */
	if (!bp->store_id || (id && strcmp(id, bp->store_id) == 0))
		return 0;
	char what[600];
	if (table)
		snprintf(what, sizeof what, "%s, %s: table %s was synced from another store", src->path, src->from,
			 table);
	else
		snprintf(what, sizeof what, "%s, %s, is another store", src->path, src->from);
	if (src->any_store) {
		/* Loud on purpose, -q or not: this model reads features it was not trained on. */
		fprintf(stderr, "%s: warning: %s (id %s, the model was trained on %s); used because of --any-store\n",
			ff_progname(), what, id ? id : "none", bp->store_id);
		return 0;
	}
	const char *hint = table ? "; sync it from the model's store, or give --any-store"
		: strstr(src->from, "--store") ? "; give --store with the store the model was trained on, or --any-store"
		: "; give --store";
	return ff_error("%s (id %s, the model was trained on %s)%s", what, id ? id : "none", bp->store_id, hint);
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
	if (!ff_pg_is_uri(path) && stat(path, &sb) < 0)
		return ff_error("%s, %s: %s%s", path, from, strerror(errno), given ? "" : "; give --store");
	struct ff_store *st = NULL;
	if (ff_store_open(path, FF_STORE_READ, &st) < 0)
		return -1;
	char id[FF_STORE_ID_SIZE];
	int has_id = ff_store_id(st, id);
	int rc = has_id < 0 ? -1 : ff_store_bind_identity(bp, &src, NULL, has_id ? id : NULL);
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

/* 1 if db has the table, 0 if not, -1 on error (reported). */
static int has_table(sqlite3 *db, const char *path, const char *name)
{
	sqlite3_stmt *st;
	if (ff_db_prepare(db, path, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", &st,
			  "cannot read the online store") < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ff_db_error(db, path, "cannot read the online store");
	return rc == SQLITE_ROW;
}

/* The same checks on a Redis online store's catalog (ff_online_redis.h). */
static int bind_redis(const struct ff_blueprint_info *bp, const struct ff_bind_source *src,
		      struct ff_store_binding *b)
{
	struct ff_online_reader *rd;
	int rc = ff_online_reader_open(src->path, &rd);
	if (rc < 0)
		return rc;
	size_t n = bp->spec.nlookups;
	b->tables = ff_xcalloc(n ? n : 1, sizeof *b->tables);
	b->ntables = n;
	for (size_t l = 0; l < n && rc == 0; l++) {
		const char *table = bp->spec.lookups[l].table;
		struct ff_online_redis_table t;
		if ((rc = ff_online_reader_table(rd, table, &t)) < 0)
			break;
		b->tables[l] = (struct ff_table_binding){
			.table = table,
			.trained = l < bp->ntables ? bp->table_versions[l] : -1,
			.current = t.version,
		};
		if (!t.found)
			rc = ff_error("%s: no table %s in the online store: run ff-sync-online", src->path, table);
		if (rc == 0)
			rc = ff_store_bind_identity(bp, src, table, t.store_id);
		if (rc == 0)
			rc = ff_store_bind_table(bp, src, l, t.definition ? t.definition : "");
		ff_online_redis_table_release(&t);
	}
	ff_online_reader_close(rd);
	return rc;
}

int ff_store_bind_online(const struct ff_blueprint_info *bp, const char *model, const char *online,
			 int any_store, struct ff_store_binding *b)
{
	memset(b, 0, sizeof *b);
	struct ff_bind_source src = {.model = model, .path = online, .from = "given with --online",
				     .any_store = any_store};
	if (ff_redis_is_url(online)) {
		int rc = bind_redis(bp, &src, b);
		if (rc < 0)
			ff_store_binding_release(b);
		else
			b->path = ff_xstrdup(online);
		return rc;
	}
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	if (ff_db_open(online, FF_DB_READER, 0, &db) < 0)
		return -1;
	/* An online store synced before identities has no ff_online_sources. */
	int has_sources = has_table(db, online, "ff_online_sources");
	const char *sql = has_sources > 0
		? "SELECT t.version, t.definition, s.store_id FROM ff_online_tables t"
		  " LEFT JOIN ff_online_sources s ON s.table_name = t.name WHERE t.name = ?"
		: "SELECT version, definition, NULL FROM ff_online_tables WHERE name = ?";
	int rc = has_sources < 0 ? -1 : ff_db_prepare(db, online, sql, &st, "cannot read the online store");
	size_t n = bp->spec.nlookups;
	b->tables = ff_xcalloc(n ? n : 1, sizeof *b->tables);
	b->ntables = n;
	for (size_t l = 0; l < n && rc == 0; l++) {
		const char *table = bp->spec.lookups[l].table;
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			const char *def = (const char *)sqlite3_column_text(st, 1);
			const char *id = (const char *)sqlite3_column_text(st, 2);
			b->tables[l] = (struct ff_table_binding){
				.table = table,
				.trained = l < bp->ntables ? bp->table_versions[l] : -1,
				.current = sqlite3_column_int64(st, 0),
			};
			rc = ff_store_bind_identity(bp, &src, table, id);
			if (rc == 0)
				rc = ff_store_bind_table(bp, &src, l, def ? def : "");
		} else if (step == SQLITE_DONE) {
			rc = ff_error("%s: no table %s in the online store: run ff-sync-online", online, table);
		} else {
			rc = ff_db_error(db, online, "cannot read the online store");
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	ff_db_close(db);
	if (rc < 0)
		ff_store_binding_release(b);
	else
		b->path = ff_xstrdup(online);
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

void ff_store_binding_report(const struct ff_store_binding *b, FILE *out)
{
	for (size_t l = 0; l < b->ntables; l++) {
		const struct ff_table_binding *t = &b->tables[l];
		fprintf(out, "%s%s %" PRId64, l ? ", " : "; table versions ", t->table, t->current);
		if (t->trained >= 0)
			fprintf(out, " (model %" PRId64 ", %+" PRId64 ")", t->trained, t->current - t->trained);
	}
}
