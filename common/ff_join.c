#include "ff_join.h"

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "ff_cell.h"
#include "ff_csv.h"
#include "ff_db.h"
#include "ff_online_redis.h"
#include "ff_rec_ahead.h"
#include "ff_redis.h"
#include "ff_store_history.h"
#include "ff_time.h"
#include "ff_util.h"

/* Where a column's value comes from when the output row is built. */
enum source { FROM_INPUT, FROM_DERIVED, FROM_FEATURE };

struct out_col {
	enum source from;
	size_t index;   /* input column, derived step, or feature slot */
};

struct lookup {
	const struct ff_lookup_def *def;
	struct ff_feature_table *table;   /* offline: the table in memory */
	sqlite3_stmt *online;             /* online: a point query */
	size_t nfeat;                     /* the features looked up */
	struct ff_column *feat;
	enum ff_match match;
	size_t *key_refs;    /* column references (see resolve) of the keys */
	long ts_ref;         /* reference of the timestamp column, -1 none */
	long event_ref;      /* reference of the time the timestamp derives from */
	long event_step;     /* a derived step whose source is event_ref, -1 none:
				its source time, parsed once a row, is the event time */
	size_t first_slot;   /* its features' slots in the feature cells */
	struct ff_cell *defaults; /* per feature; .null when no default */
	char *keybuf;             /* this row's key tuple, for the observer */
	size_t keybuf_cap;
	char *textbuf;            /* online: text features of the row found */
	size_t *remote_feat;      /* Redis: each feature's place among the table's */
	struct ff_cell *remote_cells; /* Redis: the row found, all its features */
	size_t remote_nall;
	size_t textbuf_cap;
	char **default_text;
};

struct ff_join {
	const struct ff_join_spec *spec;
	struct ff_store *store;
	const struct ff_as_of *as_of; /* while loading: one for all tables, or one per lookup */
	size_t nas_of;
	struct lookup *lookups;
	size_t nlookups, nslots;
	char **slot_names;       /* output name of each feature slot */

	/* set up per input stream */
	int schema_seen;
	struct ff_rec_schema in, out;
	long *prep_src;          /* per step: reference of its source column */
	struct out_col *cols;    /* output columns */
	struct ff_rec_writer *writer;
	FILE *out_file;
	enum ff_rec_format format;
	const struct ff_rec_reader *reader;
	const struct ff_rec_reader *where_reader; /* where_prefix is this reader's */
	char where_prefix[600];
	size_t where_prefix_len;
	const char *row_where;    /* rows given one at a time: where they come from */
	ff_join_observe_fn observe;
	ff_join_schema_fn schema_fn;
	void *ctx;

	/* per row scratch */
	int64_t *derived;
	int64_t *source_times;   /* per derived step: the time it was derived from */
	struct ff_cell *feature_cells;
	struct ff_cell *out_cells;
	int64_t *key_ids, *matches, *event_times;
	const char **key_bytes;
	size_t *key_lens;
	sqlite3 *online_db;              /* the online store, when looking up there */
	struct ff_online_reader *remote; /* or the Redis one (ff_online_redis.h) */
	const char *online_path;
	int untimed;             /* no started_ns (ff_join_untimed) */
	sqlite3_stmt *begin, *commit;
};

size_t ff_join_nlookups(const struct ff_join *j) { return j->nlookups; }
void ff_join_on_schema(struct ff_join *j, ff_join_schema_fn fn) { j->schema_fn = fn; }
void ff_join_untimed(struct ff_join *j) { j->untimed = 1; }
const struct ff_rec_schema *ff_join_output_schema(const struct ff_join *j) { return &j->out; }
const struct ff_rec_schema *ff_join_input_schema(const struct ff_join *j) { return &j->in; }

int ff_join_feature_has_default(const struct ff_join *j, const char *name)
{
	for (size_t l = 0; l < j->nlookups; l++) {
		const struct lookup *lk = &j->lookups[l];
		for (size_t f = 0; f < lk->nfeat; f++)
			if (strcmp(j->slot_names[lk->first_slot + f], name) == 0)
				return !lk->defaults[f].null;
	}
	return 0;
}

long ff_join_feature_lookup(const struct ff_join *j, const char *name)
{
	for (size_t l = 0; l < j->nlookups; l++) {
		const struct lookup *lk = &j->lookups[l];
		for (size_t f = 0; f < lk->nfeat; f++)
			if (strcmp(j->slot_names[lk->first_slot + f], name) == 0)
				return (long)l;
	}
	return -1;
}

const struct ff_feature_table *ff_join_table(const struct ff_join *j, size_t lookup)
{
	return j->lookups[lookup].table;
}

static int parse_default(struct ff_cell *c, enum ff_type type, const char *text)
{
	memset(c, 0, sizeof *c);
	switch (type) {
	case FF_TYPE_REAL: return ff_parse_double(text, strlen(text), &c->d);
	case FF_TYPE_TEXT: c->s = text; c->len = strlen(text); return 0;
	case FF_TYPE_TIMESTAMP: return ff_time_parse(text, strlen(text), 1, &c->i);
	default: return ff_parse_int64(text, strlen(text), &c->i);
	}
}

static int setup_lookup(struct ff_join *j, struct lookup *lk, size_t nk)
{
	const struct ff_lookup_def *d = lk->def;
	if (d->keys.n != nk)
		return ff_error("%s: lookup %s: the table has %zu key column%s, the lookup gives %zu",
				j->spec->origin, d->table, nk, nk == 1 ? "" : "s", d->keys.n);
	lk->match = !d->timestamp ? FF_MATCH_LATEST : d->exact ? FF_MATCH_EXACT : FF_MATCH_ASOF;
	size_t nf = lk->nfeat;
	lk->first_slot = j->nslots;
	lk->defaults = ff_xcalloc(nf ? nf : 1, sizeof *lk->defaults);
	for (size_t f = 0; f < nf; f++) {
		const struct ff_column *c = &lk->feat[f];
		long r = ff_strlist_find(&d->rename_from, c->name);
		j->slot_names = ff_xrealloc(j->slot_names, (j->nslots + 1) * sizeof *j->slot_names);
		j->slot_names[j->nslots++] = ff_xstrdup(r >= 0 ? d->rename_to.v[r] : c->name);
		lk->defaults[f].null = 1;
		long di = ff_strlist_find(&d->default_of, c->name);
		if (di >= 0 && parse_default(&lk->defaults[f], c->type, d->default_value.v[di]) < 0)
			return ff_error("%s: lookup %s: default %s=%s: not a valid %s", j->spec->origin,
					d->table, c->name, d->default_value.v[di], ff_type_name(c->type));
	}
	for (size_t i = 0; i < d->rename_from.n; i++) {
		size_t f = 0;
		while (f < nf && strcmp(lk->feat[f].name, d->rename_from.v[i]) != 0)
			f++;
		if (f == nf)
			return ff_error("%s: lookup %s: rename %s: no such feature looked up", j->spec->origin,
					d->table, d->rename_from.v[i]);
	}
	for (size_t i = 0; i < d->default_of.n; i++) {
		size_t f = 0;
		while (f < nf && strcmp(lk->feat[f].name, d->default_of.v[i]) != 0)
			f++;
		if (f == nf)
			return ff_error("%s: lookup %s: default %s: no such feature looked up", j->spec->origin,
					d->table, d->default_of.v[i]);
	}
	return 0;
}

/* The features a loaded offline table gives. */
static void features_of_table(struct lookup *lk)
{
	lk->nfeat = ff_feature_table_nfeatures(lk->table);
	lk->feat = ff_xcalloc(lk->nfeat ? lk->nfeat : 1, sizeof *lk->feat);
	for (size_t f = 0; f < lk->nfeat; f++) {
		lk->feat[f] = *ff_feature_table_feature(lk->table, f);
		lk->feat[f].name = ff_xstrdup(lk->feat[f].name);
		lk->feat[f].description = NULL;
	}
}

/* Tables load on threads of their own, each with its own connection, and
 * a large one on two (ff_feature_table_load_path): both cores read SQLite
 * until the last table is in. */
struct loading {
	pthread_t thread;
	const char *store;
	const struct ff_lookup_def *def;
	const struct ff_as_of *as_of;
	struct ff_feature_table *table;
	int rc, started;
	char *messages;
	size_t messages_len;
};

static void *load_table(void *arg)
{
	struct loading *ld = arg;
	FILE *m = open_memstream(&ld->messages, &ld->messages_len);
	ff_hold_messages(m);
	ld->rc = ff_feature_table_load_path(ld->store, FF_LOOKUP_SPLIT_ROWS, ld->def->table, &ld->def->features,
					    ld->as_of, &ld->table);
	ff_hold_messages(NULL);
	if (m)
		fclose(m);
	return NULL;
}

static int load_tables(struct ff_join *j, const char *store)
{
	size_t n = j->nlookups;
	struct loading *ld = ff_xcalloc(n ? n : 1, sizeof *ld);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		ld[i] = (struct loading){.store = store, .def = j->lookups[i].def};
		if (j->nas_of)
			ld[i].as_of = &j->as_of[j->nas_of == n ? i : 0];
		ld[i].started = i + 1 < n && pthread_create(&ld[i].thread, NULL, load_table, &ld[i]) == 0;
		if (!ld[i].started)
			load_table(&ld[i]); /* the last one here, meanwhile */
	}
	for (size_t i = 0; i < n; i++) {
		if (ld[i].started)
			pthread_join(ld[i].thread, NULL);
		j->lookups[i].table = ld[i].table;
		if (ld[i].messages_len)
			fputs(ld[i].messages, stderr); /* in lookup order, whichever finished first */
		free(ld[i].messages);
		if (ld[i].rc < 0)
			rc = -1;
	}
	free(ld);
	return rc;
}

static int step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Online lookups: the table's columns from the online store's catalog and
 * one prepared point query per lookup (SQLite), or the place of each
 * feature asked for among the table's (Redis). */
static int online_columns(struct ff_join *j, struct lookup *lk, struct ff_strlist *keys, char **ts,
			  struct ff_column **all, size_t *nall)
{
	const struct ff_lookup_def *d = lk->def;
	if (j->remote) {
		struct ff_online_redis_table t;
		int rc = ff_online_reader_table(j->remote, d->table, &t);
		for (size_t i = 0; rc == 0 && i < t.ncols; i++) {
			const struct ff_column *c = &t.cols[i];
			if (c->role == FF_ROLE_KEY)
				ff_strlist_add(keys, c->name);
			else if (c->role == FF_ROLE_TIMESTAMP)
				*ts = ff_xstrdup(c->name);
			else if (c->role == FF_ROLE_FEATURE) {
				*all = ff_xrealloc(*all, (*nall + 1) * sizeof **all);
				(*all)[(*nall)++] = (struct ff_column){ff_xstrdup(c->name), c->type, FF_ROLE_FEATURE, NULL};
			}
		}
		ff_online_redis_table_release(&t);
		if (rc == 0 && *ts)
			rc = ff_online_reader_lookup(j->remote, (size_t)(lk - j->lookups), d->table);
		return rc;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->online_db, "SELECT name, type, role FROM ff_online_columns "
				"WHERE table_name = ? ORDER BY position", -1, &st, NULL) != SQLITE_OK) {
		int code = sqlite3_extended_errcode(j->online_db);
		/* A reader of a WAL file needs its -shm beside it: in a directory
		 * it cannot write, SQLite cannot make one, which is not the
		 * file's fault. */
		if ((code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_READONLY)
			return ff_error("%s: cannot read the store: %s (a WAL file's reader needs to create "
					"%s-shm beside it: make the directory writable for this user)",
					j->online_path, sqlite3_errmsg(j->online_db), j->online_path);
		return ff_error("%s: not an ff online store", j->online_path);
	}
	sqlite3_bind_text(st, 1, d->table, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int type = ff_type_parse((const char *)sqlite3_column_text(st, 1));
		int role = ff_role_parse((const char *)sqlite3_column_text(st, 2));
		if (role == FF_ROLE_KEY)
			ff_strlist_add(keys, name);
		else if (role == FF_ROLE_TIMESTAMP)
			*ts = ff_xstrdup(name);
		else if (role == FF_ROLE_FEATURE) {
			*all = ff_xrealloc(*all, (*nall + 1) * sizeof **all);
			(*all)[(*nall)++] = (struct ff_column){ff_xstrdup(name), type < 0 ? FF_TYPE_TEXT : (enum ff_type)type,
							       FF_ROLE_FEATURE, NULL};
		}
	}
	sqlite3_finalize(st);
	return 0;
}

static int prepare_online(struct ff_join *j, struct lookup *lk)
{
	const struct ff_lookup_def *d = lk->def;
	struct ff_strlist keys = {0};
	char *ts = NULL;
	struct ff_column *all = NULL;
	size_t nall = 0;
	int rc = online_columns(j, lk, &keys, &ts, &all, &nall);
	if (rc < 0)
		goto out;
	if (!ts) {
		rc = ff_error("%s: no table %s in the online store: run ff-sync-online", j->online_path, d->table);
		goto out;
	}
	/* The features asked for, in the order asked, as offline. */
	lk->feat = ff_xcalloc(nall ? nall : 1, sizeof *lk->feat);
	lk->remote_feat = ff_xcalloc(nall ? nall : 1, sizeof *lk->remote_feat);
	lk->remote_cells = ff_xcalloc(nall ? nall : 1, sizeof *lk->remote_cells);
	lk->remote_nall = nall;
	for (size_t i = 0; i < (d->features.n ? d->features.n : nall); i++) {
		size_t f = i;
		if (d->features.n) {
			for (f = 0; f < nall && strcmp(all[f].name, d->features.v[i]) != 0; f++)
				;
			if (f == nall) {
				rc = ff_error("%s: table %s has no feature '%s'", j->online_path, d->table, d->features.v[i]);
				goto out;
			}
		}
		lk->remote_feat[lk->nfeat] = f;
		lk->feat[lk->nfeat] = all[f];
		lk->feat[lk->nfeat++].name = ff_xstrdup(all[f].name);
	}
	if (!j->remote && ff_asof_prepare(j->online_db, d->table, &keys, ts, lk->feat, lk->nfeat, &lk->online) < 0)
		rc = ff_error("%s: table %s: %s", j->online_path, d->table, sqlite3_errmsg(j->online_db));
	if (rc == 0)
		rc = setup_lookup(j, lk, keys.n);
out:
	for (size_t i = 0; i < nall; i++)
		free(all[i].name);
	free(all);
	free(ts);
	ff_strlist_release(&keys);
	return rc;
}

static int open_online(struct ff_join *j, const char *path)
{
	j->online_path = path;
	if (ff_redis_is_url(path)) {
		if (ff_online_reader_open(path, &j->remote) < 0)
			return -1;
	} else {
		/* Read-write but query_only (ff_db.h): a read-only connection
		 * reopened the WAL files on every transaction (an open, fcntl and
		 * close per request); this one keeps them open and still never
		 * writes. */
		if (ff_db_open(path, FF_DB_ONLINE_READER, FF_DB_THREADED, &j->online_db) < 0)
			return -1;
		if (sqlite3_prepare_v2(j->online_db, "BEGIN", -1, &j->begin, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v2(j->online_db, "COMMIT", -1, &j->commit, NULL) != SQLITE_OK)
			return ff_error("%s: %s", path, sqlite3_errmsg(j->online_db));
	}
	for (size_t i = 0; i < j->nlookups; i++)
		if (prepare_online(j, &j->lookups[i]) < 0)
			return -1;
	return 0;
}

/* An online lookup's answer, its features in the feature cells: text
 * copied out of the store's buffers, which the next lookup reuses; a miss
 * takes the defaults. */
static void online_answer(struct ff_join *j, struct lookup *lk, size_t l, int found)
{
	size_t used = 0;
	for (size_t f = 0; found && f < lk->nfeat; f++) {
		struct ff_cell *c = &j->feature_cells[lk->first_slot + f];
		if (!c->null && lk->feat[f].type == FF_TYPE_TEXT) {
			/* Copied, pointed at once the buffer is final. */
			ff_grow(&lk->textbuf, &lk->textbuf_cap, used + c->len + 1, 1);
			memcpy(lk->textbuf + used, c->s, c->len);
			lk->textbuf[used + c->len] = '\0';
			c->i = (int64_t)used;
			used += c->len + 1;
		}
	}
	for (size_t f = 0; found && f < lk->nfeat; f++) {
		struct ff_cell *c = &j->feature_cells[lk->first_slot + f];
		if (!c->null && lk->feat[f].type == FF_TYPE_TEXT)
			c->s = lk->textbuf + c->i;
	}
	j->key_ids[l] = -1;
	j->matches[l] = found ? 0 : -1;
	if (!found)
		for (size_t f = 0; f < lk->nfeat; f++)
			j->feature_cells[lk->first_slot + f] = lk->defaults[f];
}

/* Redis: the lookup's answer, after the request's one round trip. */
static int remote_found(struct ff_join *j, struct lookup *lk, size_t l)
{
	int found = ff_online_reader_result(j->remote, l, lk->remote_cells, lk->remote_nall);
	if (found < 0)
		return -1;
	for (size_t f = 0; found && f < lk->nfeat; f++)
		j->feature_cells[lk->first_slot + f] = lk->remote_cells[lk->remote_feat[f]];
	online_answer(j, lk, l, found);
	return 0;
}

/* One online lookup: the as-of rule in SQL (ff_lookup.h). */
static int online_find(struct ff_join *j, struct lookup *lk, size_t l, const char *key, size_t klen,
		       int64_t t)
{
	sqlite3_stmt *st = lk->online;
	const struct ff_lookup_def *d = lk->def;
	int found = ff_asof_query(st, d->keys.n, key, klen, lk->match, t, d->lookback);
	if (found < 0)
		return ff_error("%s: table %s: %s", j->online_path, d->table, sqlite3_errmsg(j->online_db));
	for (size_t f = 0; found && f < lk->nfeat; f++)
		ff_cell_column(st, (int)f, lk->feat[f].type, &j->feature_cells[lk->first_slot + f]);
	online_answer(j, lk, l, found);
	if (found)
		sqlite3_reset(st);
	return 0;
}

int ff_join_open(const struct ff_join_spec *spec, const char *store, const char *online,
		 struct ff_join **out)
{
	return ff_join_open_as_of(spec, store, online, NULL, 0, out);
}

int ff_join_open_as_of(const struct ff_join_spec *spec, const char *store, const char *online,
		       const struct ff_as_of *as_of, size_t nas_of, struct ff_join **out)
{
	struct ff_join *j = ff_xcalloc(1, sizeof *j);
	j->spec = spec;
	j->as_of = as_of;
	j->nas_of = nas_of;
	j->nlookups = spec->nlookups;
	j->lookups = ff_xcalloc(spec->nlookups ? spec->nlookups : 1, sizeof *j->lookups);
	/* Load the input zone now, before a server's threads read times. */
	struct ff_local_time lt;
	if (spec->input_timezone && ff_time_local(spec->input_timezone, 0, &lt) < 0) {
		ff_error("%s: unknown time zone '%s'", spec->origin, spec->input_timezone);
		goto fail;
	}
	for (size_t i = 0; i < spec->nlookups; i++)
		j->lookups[i].def = &spec->lookups[i];
	if (online) {
		if (open_online(j, online) < 0)
			goto fail;
	} else {
		if (ff_store_open(store, FF_STORE_READ, &j->store) < 0 || load_tables(j, store) < 0)
			goto fail;
		for (size_t i = 0; i < spec->nlookups; i++) {
			features_of_table(&j->lookups[i]);
			if (setup_lookup(j, &j->lookups[i], ff_feature_table_nkeys(j->lookups[i].table)) < 0)
				goto fail;
		}
	}
	for (size_t a = 0; a < j->nslots; a++)
		for (size_t b = 0; b < a; b++)
			if (strcmp(j->slot_names[a], j->slot_names[b]) == 0) {
				ff_error("%s: two lookups give a column named %s: rename one", spec->origin,
					 j->slot_names[a]);
				goto fail;
			}
	j->feature_cells = ff_xcalloc(j->nslots ? j->nslots : 1, sizeof *j->feature_cells);
	j->derived = ff_xcalloc(spec->npreps ? spec->npreps : 1, sizeof *j->derived);
	j->source_times = ff_xcalloc(spec->npreps ? spec->npreps : 1, sizeof *j->source_times);
	size_t n = j->nlookups ? j->nlookups : 1;
	j->key_ids = ff_xcalloc(n, sizeof *j->key_ids);
	j->matches = ff_xcalloc(n, sizeof *j->matches);
	j->event_times = ff_xcalloc(n, sizeof *j->event_times);
	j->key_bytes = ff_xcalloc(n, sizeof *j->key_bytes);
	j->key_lens = ff_xcalloc(n, sizeof *j->key_lens);
	j->as_of = NULL;
	*out = j;
	return 0;
fail:
	ff_join_free(j);
	return -1;
}

void ff_join_free(struct ff_join *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nlookups; i++) {
		struct lookup *lk = &j->lookups[i];
		ff_feature_table_free(lk->table);
		sqlite3_finalize(lk->online);
		for (size_t f = 0; lk->feat && f < lk->nfeat; f++)
			free(lk->feat[f].name);
		free(lk->feat);
		free(lk->key_refs);
		free(lk->defaults);
		free(lk->keybuf);
		free(lk->textbuf);
		free(lk->remote_feat);
		free(lk->remote_cells);
	}
	ff_online_reader_close(j->remote);
	sqlite3_finalize(j->begin);
	sqlite3_finalize(j->commit);
	if (j->online_db)
		sqlite3_close_v2(j->online_db);
	free(j->key_bytes);
	free(j->key_lens);
	free(j->lookups);
	for (size_t i = 0; i < j->nslots; i++)
		free(j->slot_names[i]);
	free(j->slot_names);
	ff_rec_schema_release(&j->in);
	ff_rec_schema_release(&j->out);
	free(j->prep_src);
	free(j->cols);
	free(j->derived);
	free(j->source_times);
	free(j->feature_cells);
	free(j->out_cells);
	free(j->key_ids);
	free(j->matches);
	free(j->event_times);
	ff_store_close(j->store);
	free(j);
}

/* Where a row comes from, for messages: the reader's "file:LINE", or what
 * the caller of ff_join_row named it. The reader's text is made once per
 * input with line 0 and its digit replaced for each row: a snprintf per row
 * cost a tenth of the joining thread. */
static void where_of(struct ff_join *j, long pos, char *buf, size_t size)
{
	if (!j->reader) {
		snprintf(buf, size, "%s", j->row_where ? j->row_where : "row");
		return;
	}
	if (j->where_reader != j->reader) {
		ff_rec_where(j->reader, 0, j->where_prefix, sizeof j->where_prefix);
		size_t n = strlen(j->where_prefix);
		j->where_prefix_len = n && j->where_prefix[n - 1] == '0' ? n - 1 : 0;
		j->where_reader = j->reader;
	}
	size_t n = j->where_prefix_len;
	if (!n || pos < 0 || n + 24 > size) {
		ff_rec_where(j->reader, pos, buf, size);
		return;
	}
	char digits[24];
	size_t k = 0;
	do
		digits[k++] = (char)('0' + pos % 10);
	while ((pos /= 10) != 0);
	memcpy(buf, j->where_prefix, n);
	while (k)
		buf[n++] = digits[--k];
	buf[n] = '\0';
}

/* A column reference: an input column i is i, derived step k is
 * in.ncols + k (only steps before `before`). -1 if unknown. */
static long resolve(const struct ff_join *j, const char *name, size_t before)
{
	long i = ff_rec_schema_find(&j->in, name);
	if (i >= 0)
		return i;
	for (size_t k = 0; k < before && k < j->spec->npreps; k++)
		if (strcmp(j->spec->preps[k].name, name) == 0)
			return (long)(j->in.ncols + k);
	return -1;
}

static int missing_column(struct ff_join *j, const char *name, const char *what)
{
	char where[600], hint[160];
	where_of(j, 1, where, sizeof where);
	return ff_error("%s: no column '%s' (%s)%s", where, name, what,
			ff_csv_header_hint((const char *const *)j->in.names, j->in.ncols, name, hint,
					   sizeof hint));
}

/* The output: input columns, derived columns, features; minus exclusions. */
static void add_out(struct ff_join *j, const char *name, enum ff_type type, enum source from,
		    size_t index)
{
	if (ff_strlist_find(&j->spec->exclude, name) >= 0)
		return;
	j->cols = ff_xrealloc(j->cols, (j->out.ncols + 1) * sizeof *j->cols);
	j->cols[j->out.ncols] = (struct out_col){from, index};
	ff_rec_schema_add(&j->out, name, type);
}

static int on_schema(void *ctx, const struct ff_rec_schema *schema)
{
	struct ff_join *j = ctx;
	const struct ff_join_spec *spec = j->spec;
	if (j->schema_seen) {
		/* A later input must have the same columns as the first. */
		int same = schema->ncols == j->in.ncols;
		for (size_t i = 0; same && i < schema->ncols; i++)
			same = strcmp(schema->names[i], j->in.names[i]) == 0 && schema->types[i] == j->in.types[i];
		if (!same) {
			char where[600];
			where_of(j, 1, where, sizeof where);
			return ff_error("%s: the columns differ from those of the first input", where);
		}
		return 0;
	}
	j->schema_seen = 1;
	for (size_t i = 0; i < schema->ncols; i++)
		ff_rec_schema_add(&j->in, schema->names[i], schema->types[i]);
	j->prep_src = ff_xcalloc(spec->npreps ? spec->npreps : 1, sizeof *j->prep_src);
	for (size_t k = 0; k < spec->npreps; k++) {
		const struct ff_prep *p = &spec->preps[k];
		if ((j->prep_src[k] = resolve(j, p->column, k)) < 0)
			return missing_column(j, p->column, "source of a derived column");
		if (resolve(j, p->name, k) >= 0) {
			char where[600];
			where_of(j, 1, where, sizeof where);
			return ff_error("%s: derived column '%s' is already a column", where, p->name);
		}
	}
	size_t nrefs = j->in.ncols + spec->npreps;
	for (size_t l = 0; l < j->nlookups; l++) {
		struct lookup *lk = &j->lookups[l];
		lk->key_refs = ff_xcalloc(lk->def->keys.n, sizeof *lk->key_refs);
		for (size_t k = 0; k < lk->def->keys.n; k++) {
			long r = resolve(j, lk->def->keys.v[k], spec->npreps);
			if (r < 0)
				return missing_column(j, lk->def->keys.v[k], "key of a lookup");
			lk->key_refs[k] = (size_t)r;
		}
		lk->ts_ref = lk->event_ref = -1;
		if (lk->def->timestamp) {
			lk->ts_ref = resolve(j, lk->def->timestamp, spec->npreps);
			if (lk->ts_ref < 0)
				return missing_column(j, lk->def->timestamp, "timestamp of a lookup");
			/* The event time: follow derived steps back to an input column. */
			lk->event_ref = lk->ts_ref;
			while ((size_t)lk->event_ref >= j->in.ncols && (size_t)lk->event_ref < nrefs)
				lk->event_ref = j->prep_src[(size_t)lk->event_ref - j->in.ncols];
		}
		lk->event_step = -1;
		for (size_t k = 0; lk->ts_ref >= 0 && k < spec->npreps && lk->event_step < 0; k++)
			if (j->prep_src[k] == lk->event_ref)
				lk->event_step = (long)k;
	}
	for (size_t i = 0; i < j->in.ncols; i++)
		add_out(j, j->in.names[i], j->in.types[i], FROM_INPUT, i);
	for (size_t k = 0; k < spec->npreps; k++)
		add_out(j, spec->preps[k].name, FF_TYPE_TIMESTAMP, FROM_DERIVED, k);
	for (size_t l = 0; l < j->nlookups; l++) {
		struct lookup *lk = &j->lookups[l];
		for (size_t f = 0; f < lk->nfeat; f++)
			add_out(j, j->slot_names[lk->first_slot + f], lk->feat[f].type, FROM_FEATURE,
				lk->first_slot + f);
	}
	for (size_t a = 0; a < j->out.ncols; a++)
		for (size_t b = 0; b < a; b++)
			if (strcmp(j->out.names[a], j->out.names[b]) == 0)
				return ff_error("%s: the output would have two columns named %s: rename the feature",
						j->spec->origin, j->out.names[a]);
	for (size_t e = 0; e < spec->exclude.n; e++) {
		int known = ff_rec_schema_find(&j->in, spec->exclude.v[e]) >= 0;
		for (size_t k = 0; !known && k < spec->npreps; k++)
			known = strcmp(spec->preps[k].name, spec->exclude.v[e]) == 0;
		for (size_t s = 0; !known && s < j->nslots; s++)
			known = strcmp(j->slot_names[s], spec->exclude.v[e]) == 0;
		if (!known)
			return missing_column(j, spec->exclude.v[e], "excluded");
	}
	j->out_cells = ff_xcalloc(j->out.ncols ? j->out.ncols : 1, sizeof *j->out_cells);
	if (j->schema_fn) {
		char where[600];
		where_of(j, 1, where, sizeof where);
		if (j->schema_fn(j->ctx, &j->out, &j->in, where) != 0)
			return -1;
	}
	if (!j->out_file)
		return 0; /* the observer takes the rows */
	j->writer = ff_rec_writer_open(j->out_file, j->format, &j->out);
	/* The output is formatted and written beside the joining. */
	return j->writer && ff_rec_writer_async(j->writer) == 0 ? 0 : -1;
}

/* The time in a cell: a timestamp, or text parsed as one. */
static int cell_time(const struct ff_join *j, const struct ff_cell *cells, long ref, int64_t *t,
		     const char **text)
{
	if ((size_t)ref >= j->in.ncols) {
		*t = j->derived[(size_t)ref - j->in.ncols];
		return 0;
	}
	const struct ff_cell *c = &cells[ref];
	*text = c->null ? "" : j->in.types[ref] == FF_TYPE_TEXT ? c->s : "(not a text or timestamp column)";
	if (c->null)
		return -1;
	if (j->in.types[ref] == FF_TYPE_TIMESTAMP) {
		*t = c->i;
		return 0;
	}
	if (j->in.types[ref] == FF_TYPE_INTEGER)
		return ff_time_from_epoch(c->i, j->spec->input_time_format, t);
	if (j->in.types[ref] != FF_TYPE_TEXT)
		return -1;
	return ff_time_parse_input(c->s, c->len, j->spec->input_time_format, j->spec->input_timezone, t);
}

static const char *ref_name(const struct ff_join *j, long ref);

/* The message of a time cell_time could not read. */
static int bad_time(const struct ff_join *j, const char *where, long ref, const char *text, int rc)
{
	if (rc == FF_TIME_GAP)
		return ff_error("%s: column '%s': '%.64s' does not exist in %s (the clocks skipped it)", where,
				ref_name(j, ref), text, j->spec->input_timezone);
	return ff_error("%s: column '%s': bad timestamp '%.64s'", where, ref_name(j, ref), text);
}

static const char *ref_name(const struct ff_join *j, long ref)
{
	return (size_t)ref < j->in.ncols ? j->in.names[ref] : j->spec->preps[(size_t)ref - j->in.ncols].name;
}

/* The key tuple of a lookup, values joined by NUL, in the lookup's own
 * buffer (NUL-terminated), where the observer finds it too; NULL if a part
 * is NULL. */
static const char *key_bytes(struct ff_join *j, struct lookup *lk, const struct ff_cell *cells, size_t *len)
{
	size_t n = 0;
	for (size_t k = 0; k < lk->def->keys.n; k++) {
		size_t ref = lk->key_refs[k];
		char num[FF_CELL_TEXT_MAX];
		size_t plen;
		const char *p;
		if (ref >= j->in.ncols) { /* a derived timestamp */
			struct ff_cell derived = {.i = j->derived[ref - j->in.ncols]};
			p = ff_cell_text(&derived, FF_TYPE_TIMESTAMP, num, &plen);
		} else if (!(p = ff_cell_text(&cells[ref], j->in.types[ref], num, &plen))) {
			return NULL;
		}
		if (n + plen + 2 > lk->keybuf_cap)
			ff_grow(&lk->keybuf, &lk->keybuf_cap, n + plen + 2, 1);
		if (k)
			lk->keybuf[n++] = '\0';
		memcpy(lk->keybuf + n, p, plen);
		n += plen;
	}
	if (!lk->keybuf)
		ff_grow(&lk->keybuf, &lk->keybuf_cap, 1, 1);
	lk->keybuf[n] = '\0';
	*len = n;
	return lk->keybuf;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int on_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	struct ff_join *j = ctx;
	int64_t started = j->observe && !j->untimed ? now_ns() : 0;
	const struct ff_join_spec *spec = j->spec;
	char where[600];
	const char *text = "";
	if (n != j->in.ncols) {
		where_of(j, pos, where, sizeof where);
		return ff_error("%s: %zu fields, the header has %zu", where, n, j->in.ncols);
	}
	for (size_t k = 0; k < spec->npreps; k++) {
		int64_t t;
		int rc = cell_time(j, cells, j->prep_src[k], &t, &text);
		if (rc < 0) {
			where_of(j, pos, where, sizeof where);
			return bad_time(j, where, j->prep_src[k], text, rc);
		}
		j->source_times[k] = t;
		j->derived[k] = ff_prep_apply(&spec->preps[k], t);
	}
	/* One read transaction for all of a row's online lookups: they see one
	 * version of the store, whatever a sync commits meanwhile. */
	if (j->online_db && step_reset(j->begin) < 0)
		return ff_error("%s: %s", j->online_path, sqlite3_errmsg(j->online_db));
	for (size_t l = 0; l < j->nlookups; l++) {
		struct lookup *lk = &j->lookups[l];
		size_t nf = lk->nfeat;
		size_t klen = 0;
		const char *key = key_bytes(j, lk, cells, &klen);
		int64_t t = 0;
		j->event_times[l] = INT64_MIN;
		if (lk->ts_ref >= 0) {
			int rc = cell_time(j, cells, lk->ts_ref, &t, &text);
			if (rc < 0) {
				if (j->online_db)
					step_reset(j->commit);
				where_of(j, pos, where, sizeof where);
				return bad_time(j, where, lk->ts_ref, text, rc);
			}
			int64_t ev;
			if (lk->event_step >= 0)
				j->event_times[l] = j->source_times[lk->event_step];
			else
				j->event_times[l] = cell_time(j, cells, lk->event_ref, &ev, &text) == 0 ? ev : t;
		}
		/* The key tuple, kept for the observer (fallbacks by key). */
		j->key_bytes[l] = key;
		j->key_lens[l] = key ? klen : 0;
		if (j->remote) {
			int64_t lo, hi;
			int any = ff_asof_seconds(lk->match, t, lk->def->lookback, &lo, &hi);
			ff_online_reader_add(j->remote, l, any ? key : NULL, klen, lo, hi);
		} else if (j->online_db) {
			if (online_find(j, lk, l, key, klen, t) < 0)
				return -1;
		} else {
			j->key_ids[l] = key ? ff_feature_table_key(lk->table, key, klen) : -1;
			j->matches[l] = ff_feature_table_find(lk->table, j->key_ids[l], lk->match, t, lk->def->lookback);
			for (size_t f = 0; f < nf; f++) {
				struct ff_cell *c = &j->feature_cells[lk->first_slot + f];
				if (j->matches[l] >= 0)
					ff_feature_table_value(lk->table, j->matches[l], f, c);
				else
					*c = lk->defaults[f];
			}
		}
	}
	if (j->online_db && step_reset(j->commit) < 0)
		return ff_error("%s: %s", j->online_path, sqlite3_errmsg(j->online_db));
	/* Redis: every lookup of the row in one round trip. */
	if (j->remote) {
		if (ff_online_reader_run(j->remote) < 0) {
			where_of(j, pos, where, sizeof where);
			return ff_error("%s: the lookups of this request failed", where);
		}
		for (size_t l = 0; l < j->nlookups; l++)
			if (remote_found(j, &j->lookups[l], l) < 0)
				return -1;
	}
	for (size_t c = 0; c < j->out.ncols; c++) {
		const struct out_col *oc = &j->cols[c];
		switch (oc->from) {
		case FROM_INPUT: j->out_cells[c] = cells[oc->index]; break;
		case FROM_DERIVED: j->out_cells[c] = (struct ff_cell){.i = j->derived[oc->index]}; break;
		case FROM_FEATURE: j->out_cells[c] = j->feature_cells[oc->index]; break;
		}
	}
	if (j->writer && ff_rec_writer_put(j->writer, j->out_cells) < 0)
		return -1;
	if (j->observe) {
		where_of(j, pos, where, sizeof where);
		struct ff_join_row row = {j->out_cells, &j->out, cells, &j->in, where,
					  j->key_ids, j->matches, j->event_times, j->key_bytes, j->key_lens,
					  started};
		return j->observe(j->ctx, &row);
	}
	return 0;
}

int ff_join_run(struct ff_join *j, char **inputs, size_t ninputs, FILE *out,
		enum ff_rec_format format, ff_join_observe_fn observe, void *ctx)
{
	char *stdin_only[] = {"-"};
	if (ninputs == 0) {
		inputs = stdin_only;
		ninputs = 1;
	}
	j->out_file = out;
	j->format = format;
	j->observe = observe;
	j->ctx = ctx;
	int rc = 0;
	for (size_t i = 0; i < ninputs && rc == 0; i++) {
		FILE *f = ff_open_input(inputs[i]);
		if (!f) {
			rc = -1;
			break;
		}
		struct ff_rec_reader *r = ff_rec_open(f, ff_input_name(inputs[i]));
		j->reader = r;
		/* A file is parsed a few thousand rows ahead, on a thread of its
		 * own; a pipe may be a client waiting for each answer. */
		struct stat sb;
		int ahead = !j->online_db && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode);
		rc = (ahead ? ff_rec_each_ahead : ff_rec_each)(r, on_schema, on_row, j) == 0 ? 0 : -1;
		j->reader = NULL;
		ff_rec_close(r);
		if (f != stdin)
			fclose(f);
	}
	/* A write error is told once, by whoever closes the output. */
	if (ff_rec_writer_close(j->writer) < 0)
		rc = -1;
	j->writer = NULL;
	return rc;
}

int ff_join_bind(struct ff_join *j, const struct ff_rec_schema *in, const char *where)
{
	j->row_where = where;
	int rc = on_schema(j, in);
	j->row_where = NULL;
	return rc;
}

int ff_join_row(struct ff_join *j, const struct ff_cell *cells, const char *where,
		ff_join_observe_fn observe, void *ctx)
{
	j->observe = observe;
	j->ctx = ctx;
	j->row_where = where;
	int rc = on_row(j, cells, j->in.ncols, 1);
	j->row_where = NULL;
	return rc;
}
