/* ff_lookup: a feature table loaded for point-in-time lookups. The rows are
 * read once from the store and kept per key in time order, so that a lookup
 * is a hash of the key and a binary search of its times, by the as-of rule
 * below (ff-semantics(7)), which the online store's query follows too.
 * Memory is that of the table, whatever the input. */
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
/* The same as of a version or time (ff_store_history.h; NULL: the latest):
 * the rows the table held then, read by ff_store_rows, all in one read
 * transaction (unless the caller's connection is in one already). A
 * version that is gone (replaced, vacuumed) is an error that says so. */
struct ff_as_of;
int ff_feature_table_load_as_of(struct ff_store *st, const char *table, const struct ff_strlist *features,
				const struct ff_as_of *as_of, struct ff_feature_table **out);
/* The same from the store at path, opened here. A table of at least
 * split_rows rows (FF_LOOKUP_SPLIT_ROWS) is read in ranges of its times by
 * two connections at once, each in a read transaction, the second used
 * only if it sees the version of the table the first read (else the first
 * reads it all): the same table, key ids included, at no more memory, in
 * about half the time on two cores. */
#define FF_LOOKUP_SPLIT_ROWS ((size_t)1 << 20)
int ff_feature_table_load_path(const char *path, size_t split_rows, const char *table,
			       const struct ff_strlist *features, const struct ff_as_of *as_of,
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

/* ---- the as-of rule ----
 * One rule for both back-ends, the table in memory (ff_feature_table_find)
 * and the online store's point query (ff_asof_prepare, ff_asof_query): of
 * the rows with the lookup's key, the latest whose time lies in a window
 * [lo, hi] matches, and none does when no row lies in it. The window of a
 * row's time t (microseconds, like every time in memory) is
 *   FF_MATCH_ASOF    [t - lookback, t], or [-inf, t] when lookback <= 0
 *   FF_MATCH_EXACT   [t, t]
 *   FF_MATCH_LATEST  [-inf, +inf] (the lookup names no timestamp)
 * A miss (no key, a NULL in the key, no row in the window) gives the
 * lookup's defaults (ff_join). Stores keep whole seconds: a row at second s
 * is at s * 10^6 microseconds, so an exact lookup at a fractional second
 * matches nothing. */
enum ff_match { FF_MATCH_ASOF, FF_MATCH_EXACT, FF_MATCH_LATEST };

struct ff_asof_window {
	int64_t lo, hi; /* microseconds, both included */
};

/* The window of rows that may match time t. */
struct ff_asof_window ff_asof_window(enum ff_match match, int64_t time, int64_t lookback);

/* In memory: the row of key id (-1: no such key, a miss) that matches time
 * (microseconds), or -1 for none. It remembers each key's last row (not
 * thread-safe): time-ordered inputs find the next one at once. */
int64_t ff_feature_table_find(struct ff_feature_table *t, int64_t key, enum ff_match match,
			      int64_t time, int64_t lookback);

/* The window in the whole seconds stores keep: rows at second s are at
 * s * 10^6, so those in it are the seconds from ceil(lo / 10^6) to
 * floor(hi / 10^6). Returns 1 with *lo and *hi, or 0 when no whole second
 * lies in it (an exact time with a fraction). */
int ff_asof_seconds(enum ff_match match, int64_t time, int64_t lookback, int64_t *lo, int64_t *hi);

/* In SQL (the online store, ff-online(5)): prepare the point query of the
 * rule on db's table, whose key columns are keys (in the order of the key
 * tuples given to ff_asof_query) and whose timestamp column ts holds whole
 * seconds. The query selects the nfeat features, in order, then ts.
 * Returns 0, or -1 (sqlite3_errmsg(db) tells why; nothing reported). */
int ff_asof_prepare(sqlite3 *db, const char *table, const struct ff_strlist *keys, const char *ts,
		    const struct ff_column *feat, size_t nfeat, sqlite3_stmt **out);
/* Run it for a key tuple (values joined by NUL bytes, nkeys of them; NULL
 * when a part is NULL, a miss) at time t. Returns 1 with st on the matching
 * row (read it, then sqlite3_reset(st)), 0 for no match (st reset), or -1
 * on an SQLite error (st reset; sqlite3_errmsg tells why). */
int ff_asof_query(sqlite3_stmt *st, size_t nkeys, const char *key, size_t klen, enum ff_match match,
		  int64_t time, int64_t lookback);

/* The timestamp (microseconds) and the i-th feature value of a row. */
int64_t ff_feature_table_time(const struct ff_feature_table *t, int64_t row);
void ff_feature_table_value(const struct ff_feature_table *t, int64_t row, size_t i,
			    struct ff_cell *out);

#endif
