/* ff_online_redis: the online store in Redis (ff-online(5), Redis), the
 * second back-end beside the SQLite file of ff_online.c, with the same
 * as-of rule (ff_lookup.h) and the same catalog. The layout, for table T:
 *
 *   ff:{catalog}:ptr          hash  T -> "GEN VERSION", the version readers see
 *   ff:{catalog}:table:T      hash  the catalog record of T (ff-online(5))
 *   ff:{catalog}:dirty:T      list  rows the last sync superseded, cleaned next
 *   ff:T:GEN:{KEY}            zset  one per key tuple (values joined by NUL):
 *                                   score the timestamp in seconds, member
 *                                   VERSION(4) TS(8) KIND(1) FEATURES (below)
 *
 * A full sync writes a new generation and switches the pointer; an
 * incremental one adds members of the new version to the generation in
 * use and then moves the pointer's version. Readers take the pointer in the
 * same round trip as their lookups and ignore members of a later version:
 * they see the old version or the new one, never half. What a sync
 * leaves behind (the previous generation, superseded members) goes at the
 * start of the next sync. */
#ifndef FF_ONLINE_REDIS_H
#define FF_ONLINE_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "ff_online.h"
#include "ff_schema.h"

/* ---- the catalog ---- */

/* A table's catalog record as a sync left it. */
struct ff_online_redis_table {
	int found;
	int64_t gen, version, rows, retention;
	int64_t pending_gen, old_gen; /* generations to remove, 0 if none */
	char *source, *definition, *synced_at, *store_id; /* NULL if absent */
	struct ff_column *cols;       /* every column, catalog order */
	size_t ncols;
};
void ff_online_redis_table_release(struct ff_online_redis_table *t);

struct ff_redis;
/* Read table's record. Returns 0 (t->found 0 if the table was never
 * synced), or -1 / FF_REDIS_DOWN (reported). */
int ff_online_redis_table_read(struct ff_redis *r, const char *table, struct ff_online_redis_table *t);

/* ---- reading: the lookups of a request in one round trip ---- */

struct ff_online_reader;
/* Connect for lookups (timeouts for serving: 1 s to connect, 1 s a round
 * trip, unless the address says otherwise). Returns 0, -1 or FF_REDIS_DOWN
 * (reported). */
int ff_online_reader_open(const char *url, struct ff_online_reader **out);
void ff_online_reader_close(struct ff_online_reader *rd);
const char *ff_online_reader_name(const struct ff_online_reader *rd);
/* The catalog record of a table read at open (columns, version). */
int ff_online_reader_table(struct ff_online_reader *rd, const char *table, struct ff_online_redis_table *t);

/* Register the lookup slot l on table (once, before lookups); the table's
 * generation is read then and followed afterwards. Returns 0 or -1. */
int ff_online_reader_lookup(struct ff_online_reader *rd, size_t l, const char *table);
/* Queue lookup l: key tuple (NULL: a miss, nothing sent) and the window
 * [lo, hi] in microseconds (ff_asof_window). */
void ff_online_reader_add(struct ff_online_reader *rd, size_t l, const char *key, size_t klen, int64_t lo,
			  int64_t hi);
/* Send the queued lookups and the pointers in one pipeline. Returns 0, or
 * -1 / FF_REDIS_DOWN (reported). */
int ff_online_reader_run(struct ff_online_reader *rd);
/* The row lookup l found: 1 with its features decoded into cells
 * (nfeat, in the table's feature order; text points into the reply, valid
 * until the next run), 0 for none. */
int ff_online_reader_result(struct ff_online_reader *rd, size_t l, struct ff_cell *cells, size_t nfeat);

/* ---- writing ---- */

/* ff_sync_tables for a Redis address (ff_online.h). */
int ff_online_redis_sync(const char *offline, const char *url, char **tables, size_t n,
			 const struct ff_sync_options *o, struct ff_sync_stats *stats);

/* ---- the layout, shared by both halves ---- */

#define FF_ONLINE_REDIS_ROW 'r'
#define FF_ONLINE_REDIS_DELETED 'd'
#define FF_ONLINE_REDIS_HEAD 13 /* version, timestamp, kind */

/* The data key of a key tuple in a generation, into *buf (grown). Returns
 * its length. */
size_t ff_online_redis_key(char **buf, size_t *cap, const char *table, int64_t gen, const char *key,
			   size_t klen);
/* Append a member's head to *buf at *len. */
void ff_online_redis_head(char **buf, size_t *cap, size_t *len, int64_t version, int64_t ts, int kind);
/* Append one feature value of type. */
void ff_online_redis_put(char **buf, size_t *cap, size_t *len, enum ff_type type, const struct ff_cell *c);
/* The n features of a member into cells (text points into m). Returns 0,
 * or -1 if the member is malformed. */
int ff_online_redis_decode(const char *m, size_t len, struct ff_cell *cells, size_t n);
/* A member's version, timestamp (seconds) and kind; -1 if it is too short. */
int ff_online_redis_parse_head(const char *m, size_t len, int64_t *version, int64_t *ts, int *kind);

#endif
