#include "ff_lookup.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_cell.h"
#include "ff_db.h"
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
	unsigned char *real;   /* per feature: a REAL, its bits a double's */
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
	free(t->real);
	ff_keyset_free(t->keys);
	free(t->start);
	free(t->ts);
	free(t->vals);
	free(t->nulls);
	free(t->hint);
	free(t);
}

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

/* The rows of one range of a table's times, as one reader read them: in
 * primary-key order (time, then key) from SQLite, with their keys' ids in a
 * key set of the range's own, the ids in order of first sight. */
struct part {
	struct ff_keyset *keys;
	uint32_t *ids;
	int64_t *ts;
	uint64_t *vals;
	unsigned char *nulls;
	size_t nrows, cap;
	int done;
};

static void part_release(struct part *p)
{
	ff_keyset_free(p->keys);
	free(p->ids);
	free(p->ts);
	free(p->vals);
	free(p->nulls);
	memset(p, 0, sizeof *p);
}

/* Room for cap rows of nf features, the rows so far kept: reserved for a
 * range's share of the table, doubled if it holds more. */
static void part_reserve(struct part *p, size_t cap, size_t nf)
{
	size_t cells = cap * (nf ? nf : 1);
	p->ids = ff_xrealloc(p->ids, cap * sizeof *p->ids);
	p->ts = ff_xrealloc(p->ts, cap * sizeof *p->ts);
	p->vals = ff_xrealloc(p->vals, cells * sizeof *p->vals);
	p->nulls = ff_xrealloc(p->nulls, cells);
	p->cap = cap;
}

/* The parts, in time order, into the table: one key set whose ids are in
 * order of first sight over all the rows, as one reader of all of them
 * would have made it, and a stable counting sort by key that keeps each
 * key's rows in time order (rows in another order are sorted by time per
 * key). Each part is released once copied. */
static int group_by_key(struct ff_feature_table *t, struct part *parts, size_t nparts, const char *store)
{
	size_t n = 0, nf = t->nfeat;
	uint32_t **map = ff_xcalloc(nparts, sizeof *map);
	/* One part (the usual read): its key set is the table's, ids as they are. */
	int one = nparts == 1 && parts[0].keys && ff_keyset_count(t->keys) == 0;
	if (one) {
		ff_keyset_free(t->keys);
		t->keys = parts[0].keys;
		parts[0].keys = NULL;
	}
	for (size_t p = 0; p < nparts; p++) {
		uint32_t pk = one ? ff_keyset_count(t->keys) : parts[p].keys ? ff_keyset_count(parts[p].keys) : 0;
		map[p] = ff_xmalloc(((size_t)pk + 1) * sizeof **map);
		for (uint32_t k = 0; k < pk && one; k++)
			map[p][k] = k;
		for (uint32_t k = 0; k < pk && !one; k++) {
			size_t len;
			const char *key = ff_keyset_bytes(parts[p].keys, k, &len);
			map[p][k] = ff_keyset_intern(t->keys, key, len);
		}
		n += parts[p].nrows;
	}
	uint32_t nk = ff_keyset_count(t->keys);
	t->nrows = n;
	t->start = ff_xcalloc((size_t)nk + 1, sizeof *t->start);
	for (size_t p = 0; p < nparts; p++)
		for (size_t r = 0; r < parts[p].nrows; r++)
			t->start[map[p][parts[p].ids[r]] + 1]++;
	for (uint32_t k = 0; k < nk; k++)
		t->start[k + 1] += t->start[k];
	size_t *next = ff_xmalloc(((size_t)nk + 1) * sizeof *next);
	memcpy(next, t->start, ((size_t)nk + 1) * sizeof *next);
	size_t cells = n * nf > 0 ? n * nf : 1;
	int64_t *ts = t->ts = ff_xmalloc((n ? n : 1) * sizeof *ts);
	uint64_t *vals = t->vals = ff_xmalloc(cells * sizeof *vals);
	unsigned char *nulls = t->nulls = ff_xmalloc(cells);
	for (size_t p = 0; p < nparts; p++) {
		const struct part *pt = &parts[p];
		for (size_t r = 0; r < pt->nrows; r++) {
			size_t d = next[map[p][pt->ids[r]]]++;
			ts[d] = pt->ts[r];
			/* A few features a row: a loop, not two calls of memcpy. */
			for (size_t f = 0; f < nf; f++) {
				vals[d * nf + f] = pt->vals[r * nf + f];
				nulls[d * nf + f] = pt->nulls[r * nf + f];
			}
		}
		part_release(&parts[p]);
		free(map[p]);
	}
	free(map);
	free(next);
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

/* The rows being read into a part: grown as they come. */
struct filling {
	const struct ff_feature_table *t;
	struct part *p;
	char *key;
	size_t key_cap;
};

/* Add one row: its key cells (text), its time (microseconds) and its
 * features, typed as the table's columns. The one step both sources of
 * rows share. */
static int add_row(void *ctx, const struct ff_cell *cells)
{
	struct filling *fl = ctx;
	const struct ff_feature_table *t = fl->t;
	struct part *p = fl->p;
	size_t r = p->nrows, nf = t->nfeat;
	if (r == p->cap)
		part_reserve(p, p->cap ? p->cap * 2 : 4096, nf);
	size_t klen = 0;
	const char *key = "";
	if (t->nkeys == 1 && !cells[0].null) {
		/* One key column: its text is the key tuple. */
		key = cells[0].s ? cells[0].s : "";
		klen = cells[0].len;
	} else if (t->nkeys > 1) {
		for (size_t k = 0; k < t->nkeys; k++) {
			size_t n = cells[k].null ? 0 : cells[k].len;
			ff_grow(&fl->key, &fl->key_cap, klen + n + 1, 1);
			if (k)
				fl->key[klen++] = '\0';
			if (n)
				memcpy(fl->key + klen, cells[k].s, n);
			klen += n;
		}
		key = fl->key;
	}
	p->ids[r] = ff_keyset_intern(p->keys, key, klen);
	p->ts[r] = cells[t->nkeys].i;
	for (size_t f = 0; f < nf; f++) {
		const struct ff_cell *v = &cells[t->nkeys + 1 + f];
		p->nulls[r * nf + f] = (unsigned char)v->null;
		uint64_t bits = (uint64_t)v->i;
		if (t->real[f])
			memcpy(&bits, &v->d, sizeof bits);
		p->vals[r * nf + f] = bits;
	}
	p->nrows++;
	return 0;
}

/* A read of a table's rows from SQLite in NPARTS ranges of its times,
 * which the readers take in turn as they finish the last. */
enum { NPARTS = 8 };

struct reading {
	const struct ff_feature_table *t;
	const char *table;
	const char **names;
	size_t ncols;
	int64_t bounds[NPARTS + 1]; /* part i: times in [bounds[i], bounds[i + 1]) */
	struct part parts[NPARTS];
	size_t nparts, per_part;
	pthread_mutex_t mu;
	size_t next;                /* the next part to read */
	/* a helper reader: its store, and what it must see to read */
	const char *path;
	const struct ff_as_of *as_of;
	int64_t latest;
};

/* Read part i on st. Returns 0, or -1 (reported) with the part not done. */
static int read_part(struct reading *rd, struct ff_store *st, size_t i, struct filling *fl)
{
	struct part *p = &rd->parts[i];
	part_release(p);
	p->keys = ff_keyset_new();
	part_reserve(p, rd->per_part, rd->t->nfeat);
	fl->p = p;
	if (ff_store_rows_between(st, rd->table, rd->names, rd->ncols, rd->t->version, rd->bounds[i],
				  rd->bounds[i + 1], add_row, fl) < 0)
		return -1;
	p->done = 1;
	return 0;
}

/* Read the parts no reader took yet on st, one after the other, until none
 * is left. Returns 0 or -1 (reported). */
static int read_parts(struct reading *rd, struct ff_store *st)
{
	struct filling fl = {.t = rd->t};
	int rc = 0;
	for (;;) {
		pthread_mutex_lock(&rd->mu);
		size_t i = rd->next < rd->nparts ? rd->next++ : SIZE_MAX;
		pthread_mutex_unlock(&rd->mu);
		if (i == SIZE_MAX)
			break;
		if ((rc = read_part(rd, st, i, &fl)) < 0) {
			/* The other reader stops too, at its next part. */
			pthread_mutex_lock(&rd->mu);
			rd->next = rd->nparts;
			pthread_mutex_unlock(&rd->mu);
			break;
		}
	}
	free(fl.key);
	return rc;
}

/* 1 if st, in its read transaction, holds the version of the table the
 * loader's own connection read, so that the rows of both are the same. */
static int same_version(struct reading *rd, struct ff_store *st)
{
	struct ff_table_def def;
	int64_t current, version = 0;
	int found = ff_store_table(st, rd->table, &def, &current);
	if (found <= 0)
		return 0;
	ff_table_def_release(&def);
	if (current != rd->latest)
		return 0;
	if (rd->as_of && ff_store_as_of_version(st, rd->table, rd->as_of, &version) < 0)
		return 0;
	return !rd->as_of || version == rd->t->version;
}

/* A second reader: its own connection and read transaction on the same
 * version of the table. What it could not read (a store it cannot open,
 * a writer's commit between the two transactions) the loader reads itself,
 * and tells why if it fails there too: its messages are dropped. */
static void *helper(void *arg)
{
	struct reading *rd = arg;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	ff_hold_messages(m);
	struct ff_store *st;
	if (ff_store_open(rd->path, FF_STORE_READ, &st) == 0) {
		sqlite3 *db = ff_store_db(st);
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
			if (same_version(rd, st))
				read_parts(rd, st);
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		}
		ff_store_close(st);
	}
	ff_hold_messages(NULL);
	if (m)
		fclose(m);
	free(buf);
	return NULL;
}

/* The rows of the table from SQLite: a large one (at least split_rows
 * rows, and path to open it again) in NPARTS ranges of its times, read by
 * this connection and a helper's at once. */
static int read_rows(struct ff_store *st, const char *path, size_t split_rows, struct reading *rd)
{
	const struct ff_feature_table *t = rd->t;
	char sql[700], qt[300], qts[300];
	ff_sql_ident(qt, sizeof qt, rd->table);
	/* SQLite counts b-tree cells without decoding rows. */
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", qt);
	int64_t nrows = 0, lo = 0, hi = 0; /* none, or unreadable: 0 */
	ff_db_int(ff_store_db(st), NULL, sql, NULL, NULL, &nrows, NULL);
	rd->nparts = 1;
	rd->bounds[0] = INT64_MIN;
	rd->bounds[1] = INT64_MAX;
	if (path && nrows >= (int64_t)split_rows) {
		/* Ranges of equal times: rows spread over the times as features of
		 * windows do are read in parts of about equal size, and a helper
		 * that finishes first takes the next. SQLite finds the least and
		 * the greatest time at the ends of the primary key, one query
		 * each. */
		ff_sql_ident(qts, sizeof qts, rd->names[t->nkeys]); /* the keys, then the time */
		snprintf(sql, sizeof sql, "SELECT min(%s) FROM %s", qts, qt);
		ff_db_int(ff_store_db(st), NULL, sql, NULL, NULL, &lo, NULL);
		snprintf(sql, sizeof sql, "SELECT max(%s) FROM %s", qts, qt);
		ff_db_int(ff_store_db(st), NULL, sql, NULL, NULL, &hi, NULL);
		int64_t step = hi > lo ? (int64_t)(((double)hi - (double)lo) / NPARTS) : 0;
		if (step > 0) {
			rd->nparts = NPARTS;
			for (size_t i = 1; i < NPARTS; i++)
				rd->bounds[i] = lo + (int64_t)i * step;
			rd->bounds[NPARTS] = INT64_MAX;
		}
	}
	/* Sized at once, about: growing copies and faults in the arrays again. */
	rd->per_part = (size_t)nrows / rd->nparts + (rd->nparts > 1 ? (size_t)nrows / 64 : 0) + 1;
	pthread_mutex_init(&rd->mu, NULL);
	pthread_t thread;
	int helped = rd->nparts > 1 && pthread_create(&thread, NULL, helper, rd) == 0;
	int rc = read_parts(rd, st);
	if (helped)
		pthread_join(thread, NULL);
	pthread_mutex_destroy(&rd->mu);
	/* The parts the helper left: read here. */
	struct filling fl = {.t = t};
	for (size_t i = 0; rc == 0 && i < rd->nparts; i++)
		if (!rd->parts[i].done)
			rc = read_part(rd, st, i, &fl);
	free(fl.key);
	return rc;
}

int ff_feature_table_load(struct ff_store *st, const char *table, const struct ff_strlist *features,
			  struct ff_feature_table **out)
{
	return ff_feature_table_load_as_of(st, table, features, NULL, out);
}

/* The loader of the three entry points: with path, a large table is read
 * by two connections at once (read_rows). */
static int load(struct ff_store *st, const char *path, size_t split_rows, const char *table,
		const struct ff_strlist *features, const struct ff_as_of *as_of, struct ff_feature_table **out)
{
	struct ff_feature_table *t = ff_xcalloc(1, sizeof *t);
	const char *store = ff_store_path(st);
	struct reading rd = {.t = t, .table = table, .as_of = as_of, .path = path};
	struct ff_store *hist = NULL;
	size_t *cols = NULL;
	sqlite3 *db = ff_pg_is_uri(store) ? NULL : ff_store_db(st);
	/* One read transaction for all this connection reads, the version
	 * from the catalog and every part of the rows. */
	int began = db && sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	int rc = ff_store_table(st, table, &t->def, &t->version);
	if (rc <= 0) {
		if (rc == 0)
			ff_error("%s: no table %s in the store", store, table);
		goto fail;
	}
	rd.latest = t->version;
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
	t->real = ff_xcalloc(t->nfeat + 1, 1);
	for (size_t f = 0; f < t->nfeat; f++)
		t->real[f] = ff_feature_table_feature(t, f)->type == FF_TYPE_REAL;

	/* The columns read: the keys, the timestamp key, the features. */
	cols = ff_xcalloc(t->def.ncols, sizeof *cols);
	for (size_t i = 0; i < t->def.ncols; i++)
		if (t->def.cols[i].role == FF_ROLE_KEY)
			cols[rd.ncols++] = i;
	cols[rd.ncols++] = ts_col;
	for (size_t f = 0; f < t->nfeat; f++)
		cols[rd.ncols++] = t->feat_cols[f];
	t->keys = ff_keyset_new();
	if (ff_pg_is_uri(store) && t->version == rd.latest) {
		/* A PostgreSQL store's latest rows: straight from the server. */
		rd.nparts = 1;
		rd.parts[0].keys = ff_keyset_new();
		struct filling fl = {.t = t, .p = &rd.parts[0]};
		rc = ff_pg_store_rows(store, &t->def, cols, rd.ncols, add_row, &fl);
		free(fl.key);
		if (rc < 0)
			goto fail;
	} else {
		/* A PostgreSQL store's earlier versions: from a copy of the table
		 * and its history, as of the same snapshot (ff_pg_store.h). */
		if (ff_pg_is_uri(store) && ff_pg_store_open_as_of(store, table, &hist) < 0)
			goto fail;
		struct ff_store *from = hist ? hist : st;
		/* The rows as of the version (ff_store_history.h). */
		rd.names = ff_xcalloc(rd.ncols + 1, sizeof *rd.names);
		for (size_t i = 0; i < rd.ncols; i++)
			rd.names[i] = t->def.cols[cols[i]].name;
		/* The copy is read by this connection alone. */
		if (hist)
			rd.path = NULL;
		rc = read_rows(from, rd.path, split_rows, &rd);
		free((void *)rd.names);
		if (rc < 0)
			goto fail;
	}
	if (began)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	began = 0;
	if (group_by_key(t, rd.parts, rd.nparts, store) < 0)
		goto fail;
	t->hint = ff_xcalloc(ff_keyset_count(t->keys) + 1, sizeof *t->hint);
	free(cols);
	ff_store_close(hist);
	*out = t;
	return 0;
fail:
	if (began)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	for (size_t i = 0; i < NPARTS; i++)
		part_release(&rd.parts[i]);
	free(cols);
	ff_store_close(hist);
	ff_feature_table_free(t);
	return -1;
}

int ff_feature_table_load_as_of(struct ff_store *st, const char *table, const struct ff_strlist *features,
				const struct ff_as_of *as_of, struct ff_feature_table **out)
{
	return load(st, NULL, 0, table, features, as_of, out);
}

int ff_feature_table_load_path(const char *path, size_t split_rows, const char *table,
			       const struct ff_strlist *features, const struct ff_as_of *as_of,
			       struct ff_feature_table **out)
{
	struct ff_store *st;
	*out = NULL;
	if (ff_store_open(path, FF_STORE_READ, &st) < 0)
		return -1;
	int rc = load(st, path, split_rows, table, features, as_of, out);
	ff_store_close(st);
	return rc;
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
	/* Inputs mostly come in about time order: gallop from the row found
	 * last for this key, forward or back (a lookup by a time the input is
	 * not sorted by, such as the dropoff of trips in pickup order, is often
	 * a little earlier than the last), before a search of all its rows. */
	size_t h = t->hint[key];
	if (h >= lo && h < hi) {
		/* The row found last is mostly the one found again: its features
		 * come into the cache while its time is read, not after. */
		__builtin_prefetch(t->vals + h * t->nfeat);
		__builtin_prefetch(t->nulls + h * t->nfeat);
		size_t step = 1;
		if (t->ts[h] <= w.hi) {
			size_t from = h;
			while (from + step < hi && t->ts[from + step] <= w.hi) {
				from += step;
				step *= 2;
			}
			a = from + 1;
			b = from + step < hi ? from + step : hi;
		} else {
			size_t top = h; /* ts[top] > w.hi */
			while (top >= lo + step && t->ts[top - step] > w.hi) {
				top -= step;
				step *= 2;
			}
			a = top >= lo + step ? top - step + 1 : lo;
			b = top;
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
	*out = (struct ff_cell){.null = t->nulls[at]};
	if (t->real[i])
		memcpy(&out->d, &t->vals[at], sizeof out->d);
	else
		out->i = (int64_t)t->vals[at];
}
