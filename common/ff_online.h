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

/* What a sync from a PostgreSQL store copies of a table synced at version
 * (synced: it was synced before): the rows a sync from that version reads,
 * or with -1 the whole table (never synced, --full, --as-of). The one rule
 * of both back-ends; ff_sync_check_pulled checks the copy after the online
 * store is the sync's. */
int64_t ff_sync_pull_from(int synced, int64_t version, const struct ff_sync_options *o);
/* The rows of table and its change feed in the copy attached as schema
 * on db: what the sync read from a PostgreSQL store (-1 on error). */
int64_t ff_sync_pulled_rows(sqlite3 *db, const char *schema, const char *table);
/* 0 if a copy pulled for a sync from version pulled (-1: a full copy)
 * holds what the sync of table reads now that the online store is its
 * own (synced at version since, if synced); else -1 (reported: the online
 * store changed meanwhile, run again). */
int ff_sync_check_pulled(const char *online, const char *table, int64_t pulled, int synced, int64_t since,
			 const struct ff_sync_options *o);

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
