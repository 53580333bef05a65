/* ff_online: the online store (ff-online(5)), a SQLite file of feature tables
 * laid out for point lookups (primary key: keys, then timestamp), kept in step
 * with an offline store: a full copy, or only what the offline change feed
 * recorded since the version last synced. Each sync of a table is one
 * transaction: readers see the old rows or the new ones, never half. */
#ifndef FF_ONLINE_H
#define FF_ONLINE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct ff_sync_options {
	int full;              /* copy whole tables (also across a schema change) */
	int64_t retention;     /* seconds; > 0: drop rows older than the newest
				  minus this, but each key's latest row */
	int64_t key_ttl;       /* seconds; > 0: Redis keys expire this long after
				  their last write (ff-online(5), Redis) */
	int verbose;
	const struct ff_as_of *as_of; /* with full: the tables as of a version or
					 time (ff_store_history.h); NULL: the latest */
};

/* What one table's sync did. */
struct ff_sync_stats {
	int64_t from_version, to_version;
	int64_t upserted, deleted, expired;
	int full, unchanged;
	int64_t read;  /* rows of the table and its change feed a sync from a
			  PostgreSQL store copied from it; -1: not from one */
};

/* For a sync from a PostgreSQL store: the version each of tables[0..n)
 * will be synced from (-1: copied whole), as the online store's catalog
 * says, read before the sync takes it (ff_sync_check_pulled checks it
 * after). malloc'd; NULL on error (reported). */
int64_t *ff_sync_pulled_since(const char *online, char **tables, size_t n, const struct ff_sync_options *o);
/* The rows of table and its change feed in the copy attached as schema
 * on db: what the sync read from a PostgreSQL store (-1 on error). */
int64_t ff_sync_pulled_rows(sqlite3 *db, const char *schema, const char *table);
/* 0 if a copy pulled for a sync from version pulled (-1: a full copy)
 * holds what a sync of table from version since (full: a full copy)
 * reads; else -1 (reported: the online store changed meanwhile, run
 * again). */
int ff_sync_check_pulled(const char *online, const char *table, int64_t pulled, int full, int64_t since);

/* Sync tables[0..n) from the offline store into the online store (created
 * if missing), all in one transaction, stats[i] for each. The online store
 * is a SQLite file, or a Redis address (ff_redis_is_url: ff_online_redis.h).
 * Returns 0 or -1 (reported; the online store as it was). */
int ff_sync_tables(const char *offline, const char *online, char **tables, size_t n,
		   const struct ff_sync_options *o, struct ff_sync_stats *stats);

/* Whether a table synced before can follow the change feed (the rule of
 * both back-ends): synced from the same offline store (its real path), with
 * the same definition, not replaced offline since, not ahead of it.
 * Returns 0, or -1 naming the table and asking for --full (reported). */
struct ff_store;
struct ff_sync_follow {
	const char *online, *offline, *table;   /* for messages; offline as given */
	const char *synced_source;              /* as recorded by the last sync */
	const char *synced_definition;
	int64_t since;                          /* the version synced */
	const char *definition;                 /* the offline table's now */
	int64_t version;
};
int ff_sync_can_follow(struct ff_store *src, const struct ff_sync_follow *f);

/* What the online store records as a table's source: the offline store's
 * absolute path, or a PostgreSQL store's connection string (malloc'd; NULL
 * if the path cannot be resolved). */
char *ff_online_source(const char *offline);

/* The tables of an offline store's catalog (NULL-terminated, caller frees
 * each and the array). Returns 0 or -1. */
int ff_offline_tables(const char *offline, char ***tables);

#endif
