/* ff_lookup: a feature table loaded for point-in-time lookups. The rows are
 * read once from the store and kept per key in time order, so that a lookup
 * is a hash of the key and a binary search of its times: the latest row at
 * or before the time (ff-semantics(7)), optionally within a lookback, or at
 * exactly the time. Memory is that of the table, whatever the input. */
#ifndef FF_LOOKUP_H
#define FF_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "ff_join_spec.h"
#include "ff_schema.h"
#include "ff_store.h"

struct ff_feature_table;

/* Load the features (all when the list is empty) of table from st. The
 * table must be in the catalog; two rows with the same key and timestamp are
 * an error. Returns 0 or -1 (reported). */
int ff_feature_table_load(struct ff_store *st, const char *table, const struct ff_strlist *features,
			  struct ff_feature_table **out);
void ff_feature_table_free(struct ff_feature_table *t);

/* The table as the catalog describes it, and its version when loaded. */
const struct ff_table_def *ff_feature_table_def(const struct ff_feature_table *t);
int64_t ff_feature_table_version(const struct ff_feature_table *t);
size_t ff_feature_table_nkeys(const struct ff_feature_table *t);
size_t ff_feature_table_nfeatures(const struct ff_feature_table *t);
/* The i-th loaded feature's column in the table definition. */
const struct ff_column *ff_feature_table_feature(const struct ff_feature_table *t, size_t i);
size_t ff_feature_table_rows(const struct ff_feature_table *t);

/* The id of a key tuple (key values joined by NUL bytes), or -1 if the table
 * has no row for it. */
int64_t ff_feature_table_key(const struct ff_feature_table *t, const char *key, size_t len);

/* The number of distinct keys, and the key tuple of a key id (values joined
 * by NUL bytes) with its length. */
size_t ff_feature_table_key_count(const struct ff_feature_table *t);
const char *ff_feature_table_key_bytes(const struct ff_feature_table *t, int64_t key, size_t *len);

enum ff_match { FF_MATCH_ASOF, FF_MATCH_EXACT, FF_MATCH_LATEST };

/* The row of key id for time t (microseconds): the latest at or before t,
 * not older than t - lookback when lookback > 0 (FF_MATCH_ASOF); the row at
 * exactly t (FF_MATCH_EXACT); the key's latest row (FF_MATCH_LATEST).
 * Returns the row, or -1 for no match. It remembers each key's last row
 * (not thread-safe): time-ordered inputs find the next one at once. */
int64_t ff_feature_table_find(struct ff_feature_table *t, int64_t key, enum ff_match match,
			      int64_t time, int64_t lookback);

/* The timestamp (microseconds) and the i-th feature value of a row. */
int64_t ff_feature_table_time(const struct ff_feature_table *t, int64_t row);
void ff_feature_table_value(const struct ff_feature_table *t, int64_t row, size_t i,
			    struct ff_cell *out);

#endif
