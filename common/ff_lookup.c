#include "ff_lookup.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ff_cell.h"
#include "ff_keyset.h"
#include "ff_pg.h"
#include "ff_pg_store.h"
#include "ff_spec.h"
#include "ff_store_history.h"
#include "ff_time.h"
#include "ff_util.h"

struct ff_feature_table {
	struct ff_table_def def;
	int64_t version;
	size_t nkeys;          /* key columns */
	size_t nfeat;
	size_t *feat_cols;     /* index in def.cols */
	struct ff_keyset *keys;
	size_t nrows;
	size_t *start;         /* rows of key id k: start[k] .. start[k+1] */
	int64_t *ts;           /* microseconds, ascending per key */
	uint64_t *vals;        /* nrows x nfeat: int64 or double bits */
	unsigned char *nulls;  /* nrows x nfeat */
	size_t *hint;          /* per key: the row found last, where the next
				  search of a time-ordered input begins */
};

const struct ff_table_def *ff_feature_table_def(const struct ff_feature_table *t) { return &t->def; }
int64_t ff_feature_table_version(const struct ff_feature_table *t) { return t->version; }
size_t ff_feature_table_nkeys(const struct ff_feature_table *t) { return t->nkeys; }
size_t ff_feature_table_nfeatures(const struct ff_feature_table *t) { return t->nfeat; }
size_t ff_feature_table_rows(const struct ff_feature_table *t) { return t->nrows; }

const struct ff_column *ff_feature_table_feature(const struct ff_feature_table *t, size_t i)
{
	return &t->def.cols[t->feat_cols[i]];
}

void ff_feature_table_free(struct ff_feature_table *t)
{
	if (!t)
		return;
	ff_table_def_release(&t->def);
	free(t->feat_cols);
	ff_keyset_free(t->keys);
	free(t->start);
	free(t->ts);
	free(t->vals);
	free(t->nulls);
	free(t->hint);
	free(t);
}

/* 1 if definition has the line "feature NAME=...". */
static int pick_features(struct ff_feature_table *t, const struct ff_strlist *features,
			 const char *store, int narrower)
{
	t->feat_cols = ff_xcalloc(t->def.ncols, sizeof *t->feat_cols);
	if (features->n == 0) {
		/* All the features of the definition read: an earlier one
		 * (narrower) had fewer, before the table was widened. */
		for (size_t i = 0; i < t->def.ncols; i++)
			if (t->def.cols[i].role == FF_ROLE_FEATURE &&
			    (!narrower || ff_spec_definition_has_feature(t->def.definition, t->def.cols[i].name)))
				t->feat_cols[t->nfeat++] = i;
		return 0;
	}
	for (size_t f = 0; f < features->n; f++) {
		size_t i = 0;
		while (i < t->def.ncols && strcmp(t->def.cols[i].name, features->v[f]) != 0)
			i++;
		if (i == t->def.ncols || t->def.cols[i].role != FF_ROLE_FEATURE)
			return ff_error("%s: table %s has no feature '%s'", store, t->def.name, features->v[f]);
		t->feat_cols[t->nfeat++] = i;
	}
	return 0;
}

static int by_time(const void *a, const void *b, void *ts)
{
	int64_t x = ((const int64_t *)ts)[*(const size_t *)a], y = ((const int64_t *)ts)[*(const size_t *)b];
	return x < y ? -1 : x > y;
}

/* Sort the rows [lo, hi) of one key by time, if they are not: rows read in
 * another order than the primary key's (a PostgreSQL table's heap). */
static void sort_key_rows(struct ff_feature_table *t, size_t lo, size_t hi)
{
	size_t r = lo + 1, nf = t->nfeat;
	while (r < hi && t->ts[r] >= t->ts[r - 1])
		r++;
	if (r >= hi)
		return;
	size_t m = hi - lo, cells = m * nf > 0 ? m * nf : 1, *idx = ff_xmalloc(m * sizeof *idx);
	for (size_t i = 0; i < m; i++)
		idx[i] = lo + i;
	qsort_r(idx, m, sizeof *idx, by_time, t->ts);
	int64_t *ts = ff_xmalloc(m * sizeof *ts);
	uint64_t *vals = ff_xmalloc(cells * sizeof *vals);
	unsigned char *nulls = ff_xmalloc(cells);
	for (size_t i = 0; i < m; i++) {
		ts[i] = t->ts[idx[i]];
		memcpy(vals + i * nf, t->vals + idx[i] * nf, nf * sizeof *vals);
		memcpy(nulls + i * nf, t->nulls + idx[i] * nf, nf);
	}
	memcpy(t->ts + lo, ts, m * sizeof *ts);
	memcpy(t->vals + lo * nf, vals, m * nf * sizeof *vals);
	memcpy(t->nulls + lo * nf, nulls, m * nf);
	free(idx);
	free(ts);
	free(vals);
	free(nulls);
}

/* Rows come in primary-key order (time, then key) from SQLite; a stable
 * counting sort by key keeps each key's rows in time order (rows in another
 * order are sorted by time per key). */
static int group_by_key(struct ff_feature_table *t, uint32_t *ids, const char *store)
{
	uint32_t nk = ff_keyset_count(t->keys);
	size_t n = t->nrows, nf = t->nfeat;
	t->start = ff_xcalloc((size_t)nk + 1, sizeof *t->start);
	for (size_t r = 0; r < n; r++)
		t->start[ids[r] + 1]++;
	for (uint32_t k = 0; k < nk; k++)
		t->start[k + 1] += t->start[k];
	size_t *next = ff_xmalloc(((size_t)nk + 1) * sizeof *next);
	memcpy(next, t->start, ((size_t)nk + 1) * sizeof *next);
	int64_t *ts = ff_xmalloc((n ? n : 1) * sizeof *ts);
	size_t cells = n * nf > 0 ? n * nf : 1;
	uint64_t *vals = ff_xmalloc(cells * sizeof *vals);
	unsigned char *nulls = ff_xmalloc(cells);
	for (size_t r = 0; r < n; r++) {
		size_t d = next[ids[r]]++;
		ts[d] = t->ts[r];
		memcpy(vals + d * nf, t->vals + r * nf, nf * sizeof *vals);
		memcpy(nulls + d * nf, t->nulls + r * nf, nf);
	}
	free(next);
	free(t->ts);
	free(t->vals);
	free(t->nulls);
	t->ts = ts;
	t->vals = vals;
	t->nulls = nulls;
	for (uint32_t k = 0; k < nk; k++)
		sort_key_rows(t, t->start[k], t->start[k + 1]);
	for (uint32_t k = 0; k < nk; k++)
		for (size_t r = t->start[k] + 1; r < t->start[k + 1]; r++)
			if (ts[r] == ts[r - 1]) {
				size_t len;
				const char *key = ff_keyset_bytes(t->keys, k, &len);
				char when[32];
				ff_time_format(ts[r], when);
				return ff_error("%s: table %s has two rows for key '%s' at %s", store,
						t->def.name, key, when);
			}
	return 0;
}

/* Rows of a table; SQLite counts b-tree cells without decoding rows. */
static int64_t count_rows(struct ff_store *st, const char *table)
{
	char sql[400], q[300];
	ff_sql_ident(q, sizeof q, table);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", q);
	sqlite3_stmt *s;
	int64_t n = 0;
	if (sqlite3_prepare_v2(ff_store_db(st), sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	return n;
}

/* The rows being read into a table: grown as they come. */
struct filling {
	struct ff_feature_table *t;
	uint32_t *ids;
	size_t cap;
	char *key;
	size_t key_cap;
};

/* Add one row: its key cells (text), its time (microseconds) and its
 * features, typed as the table's columns. The one step both sources of
 * rows share. */
static int add_row(void *ctx, const struct ff_cell *cells)
{
	struct filling *fl = ctx;
	struct ff_feature_table *t = fl->t;
	size_t r = t->nrows, nf = t->nfeat;
	if (r == fl->cap) {
		fl->cap = fl->cap ? fl->cap * 2 : 4096;
		fl->ids = ff_xrealloc(fl->ids, fl->cap * sizeof *fl->ids);
		t->ts = ff_xrealloc(t->ts, fl->cap * sizeof *t->ts);
		t->vals = ff_xrealloc(t->vals, fl->cap * (nf ? nf : 1) * sizeof *t->vals);
		t->nulls = ff_xrealloc(t->nulls, fl->cap * (nf ? nf : 1));
	}
	size_t klen = 0;
	for (size_t k = 0; k < t->nkeys; k++) {
		size_t n = cells[k].null ? 0 : cells[k].len;
		ff_grow(&fl->key, &fl->key_cap, klen + n + 1, 1);
		if (k)
			fl->key[klen++] = '\0';
		if (n)
			memcpy(fl->key + klen, cells[k].s, n);
		klen += n;
	}
	fl->ids[r] = ff_keyset_intern(t->keys, fl->key ? fl->key : "", klen);
	t->ts[r] = cells[t->nkeys].i;
	for (size_t f = 0; f < nf; f++) {
		const struct ff_cell *v = &cells[t->nkeys + 1 + f];
		t->nulls[r * nf + f] = (unsigned char)v->null;
		uint64_t bits = (uint64_t)v->i;
		if (t->def.cols[t->feat_cols[f]].type == FF_TYPE_REAL)
			memcpy(&bits, &v->d, sizeof bits);
		t->vals[r * nf + f] = bits;
	}
	t->nrows++;
	return 0;
}

int ff_feature_table_load(struct ff_store *st, const char *table, const struct ff_strlist *features,
			  struct ff_feature_table **out)
{
	return ff_feature_table_load_as_of(st, table, features, NULL, out);
}

int ff_feature_table_load_as_of(struct ff_store *st, const char *table, const struct ff_strlist *features,
				const struct ff_as_of *as_of, struct ff_feature_table **out)
{
	struct ff_feature_table *t = ff_xcalloc(1, sizeof *t);
	const char *store = ff_store_path(st);
	struct filling fl = {.t = t};
	struct ff_store *hist = NULL;
	size_t *cols = NULL;
	int rc = ff_store_table(st, table, &t->def, &t->version);
	if (rc <= 0) {
		if (rc == 0)
			ff_error("%s: no table %s in the store", store, table);
		goto fail;
	}
	int64_t latest = t->version;
	int narrower = 0;
	if (as_of) {
		char *definition;
		if (ff_store_as_of_version(st, table, as_of, &t->version) < 0 ||
		    ff_store_definition_as_of(st, table, t->version, &definition) < 0)
			goto fail;
		narrower = strcmp(definition, t->def.definition) != 0;
		free(t->def.definition);
		t->def.definition = definition;
	}
	size_t ts_col = SIZE_MAX;
	for (size_t i = 0; i < t->def.ncols; i++) {
		if (t->def.cols[i].role == FF_ROLE_KEY)
			t->nkeys++;
		if (t->def.cols[i].role == FF_ROLE_TIMESTAMP)
			ts_col = i;
	}
	if (ts_col == SIZE_MAX) {
		ff_error("%s: table %s has no timestamp key", store, table);
		goto fail;
	}
	if (pick_features(t, features, store, narrower) < 0)
		goto fail;

	/* The columns read: the keys, the timestamp key, the features. */
	size_t ncols = 0;
	cols = ff_xcalloc(t->def.ncols, sizeof *cols);
	for (size_t i = 0; i < t->def.ncols; i++)
		if (t->def.cols[i].role == FF_ROLE_KEY)
			cols[ncols++] = i;
	cols[ncols++] = ts_col;
	for (size_t f = 0; f < t->nfeat; f++)
		cols[ncols++] = t->feat_cols[f];
	t->keys = ff_keyset_new();
	if (ff_pg_is_uri(store) && t->version == latest) {
		/* A PostgreSQL store's latest rows: straight from the server. */
		if (ff_pg_store_rows(store, &t->def, cols, ncols, add_row, &fl) < 0)
			goto fail;
	} else {
		/* A PostgreSQL store's earlier versions: from a copy of the table
		 * and its history, as of the same snapshot (ff_pg_store.h). */
		if (ff_pg_is_uri(store) && ff_pg_store_open_as_of(store, table, &hist) < 0)
			goto fail;
		struct ff_store *from = hist ? hist : st;
		/* The rows as of the version (ff_store_history.h). */
		const char **names = ff_xcalloc(ncols + 1, sizeof *names);
		for (size_t i = 0; i < ncols; i++)
			names[i] = t->def.cols[cols[i]].name;
		/* Sized once: growing by doubling copied and faulted in the arrays twice. */
		size_t nf = t->nfeat;
		fl.cap = (size_t)count_rows(from, table) + 1;
		fl.ids = ff_xmalloc(fl.cap * sizeof *fl.ids);
		t->ts = ff_xmalloc(fl.cap * sizeof *t->ts);
		t->vals = ff_xmalloc(fl.cap * (nf ? nf : 1) * sizeof *t->vals);
		t->nulls = ff_xmalloc(fl.cap * (nf ? nf : 1));
		rc = ff_store_rows(from, table, names, ncols, t->version, add_row, &fl);
		free((void *)names);
		if (rc < 0)
			goto fail;
	}
	if (group_by_key(t, fl.ids, store) < 0)
		goto fail;
	t->hint = ff_xcalloc(ff_keyset_count(t->keys) + 1, sizeof *t->hint);
	free(fl.ids);
	free(fl.key);
	free(cols);
	ff_store_close(hist);
	*out = t;
	return 0;
fail:
	free(fl.ids);
	free(fl.key);
	free(cols);
	ff_store_close(hist);
	ff_feature_table_free(t);
	return -1;
}

int64_t ff_feature_table_key(const struct ff_feature_table *t, const char *key, size_t len)
{
	return ff_keyset_find(t->keys, key, len);
}

const char *ff_feature_table_key_bytes(const struct ff_feature_table *t, int64_t key, size_t *len)
{
	return ff_keyset_bytes(t->keys, (uint32_t)key, len);
}

size_t ff_feature_table_key_count(const struct ff_feature_table *t)
{
	return ff_keyset_count(t->keys);
}

struct ff_asof_window ff_asof_window(enum ff_match match, int64_t time, int64_t lookback)
{
	switch (match) {
	case FF_MATCH_EXACT: return (struct ff_asof_window){time, time};
	case FF_MATCH_LATEST: return (struct ff_asof_window){INT64_MIN, INT64_MAX};
	default: break;
	}
	int64_t lo = lookback > 0 && time >= INT64_MIN + lookback ? time - lookback : INT64_MIN;
	return (struct ff_asof_window){lo, time};
}

int64_t ff_feature_table_find(struct ff_feature_table *t, int64_t key, enum ff_match match,
			      int64_t time, int64_t lookback)
{
	if (key < 0)
		return -1;
	size_t lo = t->start[key], hi = t->start[key + 1];
	if (lo == hi)
		return -1;
	struct ff_asof_window w = ff_asof_window(match, time, lookback);
	size_t a = lo, b = hi; /* first row with ts > w.hi */
	/* Inputs mostly come in time order: gallop from the row found last for
	 * this key before falling back to a search of all its rows. */
	size_t h = t->hint[key];
	if (h >= lo && h < hi) {
		if (t->ts[h] <= w.hi) {
			size_t step = 1, from = h;
			while (from + step < hi && t->ts[from + step] <= w.hi) {
				from += step;
				step *= 2;
			}
			a = from + 1;
			b = from + step < hi ? from + step : hi;
		} else {
			b = h;
		}
	}
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (t->ts[mid] <= w.hi)
			a = mid + 1;
		else
			b = mid;
	}
	if (a == lo)
		return -1;
	int64_t row = (int64_t)a - 1;
	t->hint[key] = (size_t)row;
	return t->ts[row] >= w.lo ? row : -1;
}

/* ---- the same rule in SQL ---- */

int ff_asof_prepare(sqlite3 *db, const char *table, const struct ff_strlist *keys, const char *ts,
		    const struct ff_column *feat, size_t nfeat, sqlite3_stmt **out)
{
	char *sql = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&sql, &size);
	char q[300], qts[300];
	fprintf(m, "SELECT ");
	for (size_t f = 0; f < nfeat; f++) {
		ff_sql_ident(q, sizeof q, feat[f].name);
		fprintf(m, "%s, ", q);
	}
	ff_sql_ident(qts, sizeof qts, ts);
	ff_sql_ident(q, sizeof q, table);
	fprintf(m, "%s FROM %s WHERE ", qts, q);
	for (size_t k = 0; k < keys->n; k++) {
		ff_sql_ident(q, sizeof q, keys->v[k]);
		fprintf(m, "%s = ?%zu AND ", q, k + 1);
	}
	/* The window in whole seconds (see ff_asof_query); the latest row in it. */
	fprintf(m, "%s BETWEEN ?%zu AND ?%zu ORDER BY %s DESC LIMIT 1", qts, keys->n + 1, keys->n + 2, qts);
	fclose(m);
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) == SQLITE_OK ? 0 : -1;
	free(sql);
	return rc;
}

/* Ceiling division for possibly negative numerators, without overflow. */
static int64_t ceil_div(int64_t a, int64_t b)
{
	return a / b + (a % b > 0);
}

int ff_asof_seconds(enum ff_match match, int64_t time, int64_t lookback, int64_t *lo, int64_t *hi)
{
	struct ff_asof_window w = ff_asof_window(match, time, lookback);
	*lo = ceil_div(w.lo, FF_USEC);
	*hi = ff_floor_div(w.hi, FF_USEC);
	return *lo <= *hi;
}

int ff_asof_query(sqlite3_stmt *st, size_t nkeys, const char *key, size_t klen, enum ff_match match,
		  int64_t time, int64_t lookback)
{
	int64_t lo, hi;
	if (!key || !ff_asof_seconds(match, time, lookback, &lo, &hi))
		return 0;
	const char *p = key, *end = key + klen;
	for (size_t k = 0; k < nkeys; k++) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		if (!z)
			z = end;
		sqlite3_bind_text(st, (int)k + 1, p, (int)(z - p), SQLITE_STATIC);
		p = z < end ? z + 1 : end;
	}
	sqlite3_bind_int64(st, (int)nkeys + 1, lo);
	sqlite3_bind_int64(st, (int)nkeys + 2, hi);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int64_t ff_feature_table_time(const struct ff_feature_table *t, int64_t row)
{
	return t->ts[row];
}

void ff_feature_table_value(const struct ff_feature_table *t, int64_t row, size_t i, struct ff_cell *out)
{
	size_t at = (size_t)row * t->nfeat + i;
	memset(out, 0, sizeof *out);
	out->null = t->nulls[at];
	if (ff_feature_table_feature(t, i)->type == FF_TYPE_REAL)
		memcpy(&out->d, &t->vals[at], sizeof out->d);
	else
		out->i = (int64_t)t->vals[at];
}
