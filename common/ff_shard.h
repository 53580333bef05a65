/* ff_shard: the one split of a table's keys into N shards (ff-compute
 * --shard K/N, ff-compute(1)), simple enough to reproduce in any language:
 *   h = FNV-1a 64 of the key values, in the order of the spec's keys, each
 *       value's bytes followed by one NUL byte (offset basis
 *       0xcbf29ce484222325, prime 0x100000001b3), then MurmurHash3's
 *       finaliser (h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33;
 *       h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33; modulo 2^64);
 *   the key belongs to shard (h mod N) + 1.
 * The same function is registered in SQL as ff_shard(N, key1, key2, ...). */
#ifndef FF_SHARD_H
#define FF_SHARD_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ff_schema.h"

/* The most key columns ff_shard hashes (a spec has far fewer). */
#define FF_SHARD_KEYS_MAX 64

struct ff_shard {
	uint32_t k, n; /* shard k of n, 1 <= k <= n; n == 0: every key */
};

/* Parse "K/N" (1 <= K <= N <= 65536). Returns 0, or -1 (nothing reported). */
int ff_shard_parse(const char *text, struct ff_shard *out);
/* h above: FNV-1a 64 of the values, each followed by a NUL byte, mixed. */
uint64_t ff_shard_hash(const char *const *values, const size_t *lens, size_t n);
/* 1 if the key values belong to shard s (always, for n == 0). */
int ff_shard_owns(const struct ff_shard *s, const char *const *values, const size_t *lens, size_t n);
/* 1 if a key of hash h (ff_shard_hash) belongs to shard s. */
int ff_shard_has(const struct ff_shard *s, uint64_t h);
/* "ff_shard(N, A.key1, ...) = K" for shard s (n > 0) of def's keys, in
 * SQL (alias: "t." or ""), into m. */
void ff_shard_sql(FILE *m, const struct ff_shard *s, const struct ff_table_def *def, const char *alias);
/* 1 if two shards may share a key: every key (n == 0) meets any shard, and
 * k-1 = h mod n, k'-1 = h mod n' have a solution h when k-1 and k'-1 agree
 * modulo gcd(n, n') (shard 1/2 meets 1/4 and 3/4, not 2/4). */
int ff_shard_meet(const struct ff_shard *a, const struct ff_shard *b);
/* "K/N" into buf (16 bytes), or "" for every key. */
void ff_shard_text(const struct ff_shard *s, char buf[16]);
/* Register ff_shard(N, key...) -> the shard (1..N) of the key on db.
 * Returns 0, or -1 (sqlite3_errmsg tells why; nothing reported). */
int ff_shard_sql_register(sqlite3 *db);

#endif
