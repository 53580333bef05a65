/* ff_online_redis_sync: ff-sync-online into Redis (the layout in
 * ff_online_redis.h). A run: remove what the previous run left behind,
 * write each table (a full copy into a new generation, or the changes of
 * the offline change feed as members of the new version), then publish
 * every table's pointer and record in one MULTI/EXEC. */
#include "ff_online_redis.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ff_cell.h"
#include "ff_db.h"
#include "ff_keyset.h"
#include "ff_pg.h"
#include "ff_pg_store.h"
#include "ff_redis.h"
#include "ff_store.h"
#include "ff_store_history.h"
#include "ff_util.h"

/* Rows buffered before they go out, grouped by key, in one pipeline: a
 * full copy's, and the change feed's. The feed's are fewer, so that Redis
 * adds one batch while the next is read offline even when the changes are
 * a few thousand rows (a batch of them costs a ZADD per key). */
#define BATCH_ROWS 65536
#define CHANGE_BATCH_ROWS 8192
/* Entries of the dirty list read at a time when cleaning: the last index. */
#define DIRTY_CHUNK_LAST "8191"

struct row {
	uint32_t key;
	int64_t ts;
	size_t off, len; /* the member in members */
};

/* This run's hold on the store's syncs (take_lock). */
struct sync_lock {
	char token[400];
	long ms;           /* its life (lock_ms) */
	long long renewed; /* ms, monotonic */
};

struct rsync {
	struct ff_redis *r;
	struct sync_lock *lock;
	struct ff_store *st;
	sqlite3 *db;
	const char *offline;
	const struct ff_sync_options *o;
	/* the table being synced */
	const char *table;
	struct ff_sync_stats *stats;
	struct ff_table_def def;
	int64_t version, gen;
	struct ff_online_redis_table old;
	char ts_q[FF_DB_IDENT_SIZE];
	char *cols;          /* keys, timestamp, features: "a", "b", ... */
	char *keys_q;        /* "k1", "k2" */
	size_t nkeys, nfeat;
	enum ff_type *feat_type;
	/* the batch */
	struct ff_keyset *ks;
	struct row *rows;
	size_t nrows, rows_cap;
	char *members;
	size_t mlen, mcap;
	int dirty;           /* also list the rows in the dirty list */
	size_t batch;        /* rows a batch: BATCH_ROWS or CHANGE_BATCH_ROWS */
	int inflight;        /* a batch sent, its replies not read yet */
	size_t inflight_cmds;
	int publish;         /* changed: its record goes out with the run's */
	int64_t pulled;      /* a PostgreSQL store's copy: ff_sync_pull_from; -2: not one */
	int64_t cutoff;      /* of the retention */
	char *kbuf, *kbuf2;
	size_t kcap, kcap2;
};

static void key_name(char *buf, size_t size, const char *what, const char *table)
{
	snprintf(buf, size, "ff:{catalog}:%s:%s", what, table);
}

/* The replies of a batch of rows sent, or of the queue run; error
 * replies are failures too. */
static int check(struct rsync *s, size_t n, int rc, redisReply **rep)
{
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (rep[i]->type == REDIS_REPLY_ERROR)
			return ff_error("%s: table %s: %s", ff_redis_name(s->r), s->table, rep[i]->str);
	return 0;
}

/* The batch of rows in flight, if any: its replies. */
static int drain(struct rsync *s)
{
	if (!s->inflight)
		return 0;
	s->inflight = 0;
	redisReply **rep = NULL;
	int rc = ff_redis_recv(s->r, &rep);
	return check(s, s->inflight_cmds, rc, rep);
}

/* Run the queue; error replies are failures too. */
static int run(struct rsync *s, redisReply ***rep)
{
	size_t n = ff_redis_queued(s->r);
	int rc = ff_redis_run(s->r, rep);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((*rep)[i]->type == REDIS_REPLY_ERROR)
			return ff_error("%s: table %s: %s", ff_redis_name(s->r), s->table, (*rep)[i]->str);
	return 0;
}

/* ---- one sync at a time ---- */

/* The lock of the store's syncs: a key holding this run's token, which
 * expires by itself if the run dies. */
#define LOCK_KEY "ff:{catalog}:lock"

/* The lock's life: a run renews it while it writes, and publishes only
 * while it still holds it. FF_REDIS_LOCK_MS shortens it (tests). */
static long lock_ms(void)
{
	const char *e = getenv("FF_REDIS_LOCK_MS");
	long v = e ? atol(e) : 0;
	return v > 0 ? v : 600000;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char renew_script[] =
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('lost') end\n"
	"return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n";

static int lock_lost(struct ff_redis *r)
{
	return ff_error("%s: this sync's lock expired before it ended (another run may be writing the "
			"store): nothing published; run it again", ff_redis_name(r));
}

/* Renew the lock when a tenth of its life has gone by since the last time. */
static int keep_lock(struct ff_redis *r, struct sync_lock *l)
{
	long long now = now_ms();
	if (now - l->renewed < l->ms / 10)
		return 0;
	char ms[32];
	snprintf(ms, sizeof ms, "%ld", l->ms);
	const char *argv[] = {"EVAL", renew_script, "1", LOCK_KEY, l->token, ms};
	ff_redis_addv(r, 0, LOCK_KEY, 6, argv);
	redisReply **rep;
	int rc = ff_redis_run(r, &rep);
	if (rc < 0)
		return rc;
	if (rep[0]->type == REDIS_REPLY_ERROR)
		return lock_lost(r);
	l->renewed = now;
	return 0;
}

static int take_lock(struct ff_redis *r, struct sync_lock *l)
{
	char host[256] = "?", ms[32];
	gethostname(host, sizeof host - 1);
	snprintf(l->token, sizeof l->token, "%s:%ld:%lld", host, (long)getpid(), (long long)time(NULL));
	l->ms = lock_ms();
	snprintf(ms, sizeof ms, "%ld", l->ms);
	l->renewed = now_ms();
	int waited = 0, wait = ff_db_wait();
	for (;;) {
		const char *argv[] = {"SET", LOCK_KEY, l->token, "NX", "PX", ms};
		ff_redis_addv(r, 0, LOCK_KEY, 6, argv);
		redisReply **rep;
		int rc = ff_redis_run(r, &rep);
		if (rc < 0)
			return rc;
		if (rep[0]->type == REDIS_REPLY_STATUS)
			return 0;
		if (rep[0]->type == REDIS_REPLY_ERROR)
			return ff_error("%s: %s", ff_redis_name(r), rep[0]->str);
		if (waited >= wait)
			return ff_error("%s: another ff run is writing this store (waited %g s); try again or raise "
					"--wait", ff_redis_name(r), waited / 1000.0);
		struct timespec pause = {0, 100 * 1000000};
		nanosleep(&pause, NULL);
		waited += 100;
	}
}

static void drop_lock(struct ff_redis *r, const char *token)
{
	/* Ours still (it has not expired and been taken since): gone. */
	const char *get[] = {"GET", LOCK_KEY};
	redisReply **rep;
	ff_redis_addv(r, 0, LOCK_KEY, 2, get);
	if (ff_redis_run(r, &rep) == 0 && rep[0]->type == REDIS_REPLY_STRING && strcmp(rep[0]->str, token) == 0) {
		const char *del[] = {"DEL", LOCK_KEY};
		ff_redis_addv(r, 0, LOCK_KEY, 2, del);
		ff_redis_run(r, &rep);
	}
}

/* ---- what a previous run left ---- */

/* Each key matching pattern, on each master, a batch at a time: fn(s,
 * keys, lens, n). Returns 0, or what fn or Redis returned first. */
typedef int (*keys_fn)(struct rsync *s, char **keys, const size_t *lens, size_t n);

static int scan_keys(struct rsync *s, const char *pattern, keys_fn fn)
{
	for (size_t m = 0; m < ff_redis_masters(s->r); m++) {
		char cursor[32] = "0";
		do {
			const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
			ff_redis_add_master(s->r, m, 6, argv, NULL);
			redisReply **rep;
			int rc = run(s, &rep);
			if (rc < 0)
				return rc;
			redisReply *sc = rep[0];
			if (sc->type != REDIS_REPLY_ARRAY || sc->elements != 2)
				return ff_error("%s: SCAN: unexpected reply", ff_redis_name(s->r));
			snprintf(cursor, sizeof cursor, "%s", sc->element[0]->str);
			/* Copied: fn's own commands replace these replies. */
			size_t n = sc->element[1]->elements;
			char **keys = ff_xcalloc(n ? n : 1, sizeof *keys);
			size_t *lens = ff_xcalloc(n ? n : 1, sizeof *lens);
			for (size_t k = 0; k < n; k++) {
				const redisReply *e = sc->element[1]->element[k];
				keys[k] = ff_xstrndup(e->str, e->len);
				lens[k] = e->len;
			}
			rc = n ? fn(s, keys, lens, n) : 0;
			for (size_t k = 0; k < n; k++)
				free(keys[k]);
			free(keys);
			free(lens);
			if (rc < 0)
				return rc;
		} while (strcmp(cursor, "0") != 0);
	}
	return 0;
}

/* Each key on its own: in a cluster they lie in many slots. */
static int unlink_keys(struct rsync *s, char **keys, const size_t *lens, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const char *a[] = {"UNLINK", keys[k]};
		size_t l[] = {6, lens[k]};
		ff_redis_add(s->r, 0, keys[k], lens[k], 2, a, l);
	}
	redisReply **rep;
	return run(s, &rep);
}

static int drop_generation(struct rsync *s, int64_t gen)
{
	/* The table's name as a glob: its special bytes escaped. */
	char pattern[FF_DB_IDENT_SIZE * 2 + 64];
	size_t n = (size_t)snprintf(pattern, sizeof pattern, "ff:");
	for (const char *p = s->table; *p && n < sizeof pattern - 40; p++) {
		if (strchr("*?[]\\", *p))
			pattern[n++] = '\\';
		pattern[n++] = *p;
	}
	snprintf(pattern + n, sizeof pattern - n, ":%" PRId64 ":*", gen);
	return scan_keys(s, pattern, unlink_keys);
}

/* The members a previous incremental run superseded: per row it wrote (at
 * version v), the members of lower versions at its time, and the row
 * itself if it marks a deletion. */
static int clean_dirty(struct rsync *s)
{
	char dirty[400];
	key_name(dirty, sizeof dirty, "dirty", s->table);
	for (;;) {
		const char *argv[] = {"LRANGE", dirty, "0", DIRTY_CHUNK_LAST};
		ff_redis_addv(s->r, 0, dirty, 4, argv);
		redisReply **rep;
		int rc = run(s, &rep);
		if (rc < 0)
			return rc;
		redisReply *list = rep[0];
		size_t n = list->elements;
		if (n == 0)
			return 0;
		/* Keep the entries: the replies of the next run replace these. */
		struct entry { int64_t v, ts; int kind; char *key; size_t klen; } *e = ff_xcalloc(n, sizeof *e);
		for (size_t i = 0; i < n; i++) {
			const redisReply *x = list->element[i];
			/* An entry of a sync that never published is no one's leftover:
			 * the members below it are still the version readers see. */
			if (ff_online_redis_parse_head(x->str, x->len, &e[i].v, &e[i].ts, &e[i].kind) < 0 ||
			    e[i].v > s->old.version)
				continue;
			e[i].klen = ff_online_redis_key(&s->kbuf, &s->kcap, s->table, s->old.gen,
							x->str + FF_ONLINE_REDIS_HEAD, x->len - FF_ONLINE_REDIS_HEAD);
			e[i].key = ff_xstrndup(s->kbuf, e[i].klen);
		}
		for (size_t i = 0; i < n; i++) {
			char t[24];
			snprintf(t, sizeof t, "%" PRId64, e[i].ts);
			if (!e[i].key)
				e[i].v = INT64_MIN; /* skipped: removes nothing */
			const char *a[] = {"ZRANGEBYSCORE", e[i].key ? e[i].key : "", t, t};
			size_t l[] = {13, e[i].klen, strlen(t), strlen(t)};
			ff_redis_add(s->r, 0, a[1], l[1], 4, a, l);
		}
		rc = run(s, &rep);
		/* The members to remove, then one ZREM per key of the chunk. */
		struct ff_keyset *ks = ff_keyset_new();
		struct gone { uint32_t key; const char *m; size_t len; } *g = NULL;
		size_t ng = 0, gcap = 0;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			const redisReply *z = rep[i];
			for (size_t k = 0; k < z->elements; k++) {
				int64_t v, ts;
				int kind;
				const redisReply *m = z->element[k];
				if (ff_online_redis_parse_head(m->str, m->len, &v, &ts, &kind) < 0)
					continue;
				if (v < e[i].v || (v == e[i].v && kind == FF_ONLINE_REDIS_DELETED)) {
					ff_grow(&g, &gcap, ng + 1, sizeof *g);
					g[ng++] = (struct gone){ff_keyset_intern(ks, e[i].key, e[i].klen), m->str, m->len};
				}
			}
		}
		uint32_t nk = ff_keyset_count(ks);
		size_t *start = ff_xcalloc((size_t)nk + 1, sizeof *start);
		for (size_t i = 0; i < ng; i++)
			start[g[i].key + 1]++;
		for (uint32_t k = 0; k < nk; k++)
			start[k + 1] += start[k];
		const char **a = ff_xcalloc(ng + 2 * (size_t)nk + 1, sizeof *a);
		size_t *l = ff_xcalloc(ng + 2 * (size_t)nk + 1, sizeof *l), *next = ff_xcalloc((size_t)nk + 1, sizeof *next);
		/* Key k's ZREM at a + start[k] + 2k: the command, the key, its members. */
		for (uint32_t k = 0; k < nk; k++) {
			size_t at = start[k] + 2 * (size_t)k;
			a[at] = "ZREM";
			l[at] = 4;
			a[at + 1] = ff_keyset_bytes(ks, k, &l[at + 1]);
			next[k] = at + 2;
		}
		for (size_t i = 0; i < ng; i++) {
			a[next[g[i].key]] = g[i].m;
			l[next[g[i].key]++] = g[i].len;
		}
		/* The arguments are copied: the replies may go. */
		for (uint32_t k = 0; k < nk; k++) {
			size_t at = start[k] + 2 * (size_t)k;
			ff_redis_add(s->r, 0, a[at + 1], l[at + 1], (int)(start[k + 1] - start[k] + 2), a + at, l + at);
		}
		size_t nrem = nk;
		free(a);
		free(l);
		free(next);
		free(start);
		free(g);
		ff_keyset_free(ks);
		for (size_t i = 0; i < n; i++)
			free(e[i].key);
		free(e);
		if (rc == 0 && nrem)
			rc = run(s, &rep);
		if (rc < 0)
			return rc;
		char count[24];
		snprintf(count, sizeof count, "%zu", n);
		const char *trim[] = {"LTRIM", dirty, count, "-1"};
		ff_redis_addv(s->r, 0, dirty, 4, trim);
		if ((rc = run(s, &rep)) < 0)
			return rc;
	}
}

/* ---- writing rows ---- */

/* Queue the batch of rows and send it; its replies are read before the
 * next batch goes (drain), while the rows of that one are read offline. */
static int flush(struct rsync *s)
{
	if (s->nrows == 0)
		return 0;
	int rc = drain(s);
	if (rc == 0)
		rc = keep_lock(s->r, s->lock);
	if (rc < 0)
		return rc;
	uint32_t nk = ff_keyset_count(s->ks);
	/* Rows by key: one ZADD per key. */
	size_t *start = ff_xcalloc((size_t)nk + 1, sizeof *start);
	for (size_t i = 0; i < s->nrows; i++)
		start[s->rows[i].key + 1]++;
	for (uint32_t k = 0; k < nk; k++)
		start[k + 1] += start[k];
	size_t *order = ff_xmalloc(s->nrows * sizeof *order), *next = ff_xmalloc(((size_t)nk + 1) * sizeof *next);
	memcpy(next, start, ((size_t)nk + 1) * sizeof *next);
	for (size_t i = 0; i < s->nrows; i++)
		order[next[s->rows[i].key]++] = i;
	size_t most = 0;
	for (uint32_t k = 0; k < nk; k++)
		if (start[k + 1] - start[k] > most)
			most = start[k + 1] - start[k];
	const char **argv = ff_xcalloc(2 * most + 2, sizeof *argv);
	size_t *lens = ff_xcalloc(2 * most + 2, sizeof *lens);
	char *scores = ff_xmalloc(most * 24 + 1);
	char ttl[24];
	snprintf(ttl, sizeof ttl, "%" PRId64, s->o->key_ttl);
	for (uint32_t k = 0; k < nk; k++) {
		size_t klen;
		const char *key = ff_keyset_bytes(s->ks, k, &klen);
		size_t kl = ff_online_redis_key(&s->kbuf, &s->kcap, s->table, s->gen, key, klen);
		int na = 2;
		argv[0] = "ZADD";
		lens[0] = 4;
		argv[1] = s->kbuf;
		lens[1] = kl;
		for (size_t i = start[k]; i < start[k + 1]; i++) {
			const struct row *rw = &s->rows[order[i]];
			char *sc = scores + (i - start[k]) * 24;
			lens[na] = (size_t)snprintf(sc, 24, "%" PRId64, rw->ts);
			argv[na++] = sc;
			argv[na] = s->members + rw->off;
			lens[na++] = rw->len;
		}
		ff_redis_add(s->r, 0, s->kbuf, kl, na, argv, lens);
		if (s->o->key_ttl > 0) {
			const char *a[] = {"EXPIRE", s->kbuf, ttl};
			size_t l[] = {6, kl, strlen(ttl)};
			ff_redis_add(s->r, 0, s->kbuf, kl, 3, a, l);
		}
	}
	if (s->dirty) {
		/* Each row written, as VERSION TS KIND KEY, for the next run to
		 * remove what it superseded. */
		char dirty[400];
		key_name(dirty, sizeof dirty, "dirty", s->table);
		char *ent = NULL;
		size_t ecap = 0, elen = 0;
		size_t *offs = ff_xmalloc(s->nrows * sizeof *offs);
		for (size_t i = 0; i < s->nrows; i++) {
			const struct row *rw = &s->rows[i];
			size_t klen;
			const char *key = ff_keyset_bytes(s->ks, rw->key, &klen);
			offs[i] = elen;
			ff_online_redis_head(&ent, &ecap, &elen, s->version, rw->ts,
					     (unsigned char)s->members[rw->off + 12]);
			ff_grow(&ent, &ecap, elen + klen, 1);
			memcpy(ent + elen, key, klen);
			elen += klen;
		}
		const char **a = ff_xcalloc(s->nrows + 2, sizeof *a);
		size_t *l = ff_xcalloc(s->nrows + 2, sizeof *l);
		a[0] = "RPUSH";
		l[0] = 5;
		a[1] = dirty;
		l[1] = strlen(dirty);
		for (size_t i = 0; i < s->nrows; i++) {
			a[i + 2] = ent + offs[i];
			l[i + 2] = (i + 1 < s->nrows ? offs[i + 1] : elen) - offs[i];
		}
		ff_redis_add(s->r, 0, dirty, l[1], (int)s->nrows + 2, a, l);
		free(a);
		free(l);
		free(offs);
		free(ent);
	}
	free(argv);
	free(lens);
	free(scores);
	free(start);
	free(order);
	free(next);
	s->inflight_cmds = ff_redis_queued(s->r);
	ff_redis_send(s->r);
	s->inflight = 1;
	ff_keyset_free(s->ks);
	s->ks = ff_keyset_new();
	s->nrows = 0;
	s->mlen = 0;
	return rc;
}

/* The rows of a query (keys, timestamp, features[, gone]) into the
 * generation: rows, or deletions where gone is 1. */
static int copy_rows(struct rsync *s, const char *sql, int with_gone)
{
	sqlite3_stmt *st;
	if (ff_db_prepare(s->db, s->offline, sql, &st, "cannot read the table") < 0)
		return -1;
	char *key = NULL;
	size_t kcap = 0;
	int rc, out = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t klen = 0;
		for (size_t k = 0; k < s->nkeys; k++) {
			const char *v = (const char *)sqlite3_column_text(st, (int)k);
			size_t n = (size_t)sqlite3_column_bytes(st, (int)k);
			ff_grow(&key, &kcap, klen + n + 1, 1);
			if (k)
				key[klen++] = '\0';
			memcpy(key + klen, v ? v : "", n);
			klen += n;
		}
		int64_t ts = sqlite3_column_int64(st, (int)s->nkeys);
		int gone = with_gone && sqlite3_column_int(st, (int)(s->nkeys + 1 + s->nfeat));
		ff_grow(&s->rows, &s->rows_cap, s->nrows + 1, sizeof *s->rows);
		struct row *rw = &s->rows[s->nrows++];
		rw->key = ff_keyset_intern(s->ks, key ? key : "", klen);
		rw->ts = ts;
		rw->off = s->mlen;
		ff_online_redis_head(&s->members, &s->mcap, &s->mlen, s->version, ts,
				     gone ? FF_ONLINE_REDIS_DELETED : FF_ONLINE_REDIS_ROW);
		for (size_t f = 0; !gone && f < s->nfeat; f++) {
			struct ff_cell c;
			ff_cell_column(st, (int)(s->nkeys + 1 + f), s->feat_type[f], &c);
			ff_online_redis_put(&s->members, &s->mcap, &s->mlen, s->feat_type[f], &c);
		}
		rw->len = s->mlen - rw->off;
		if (gone)
			s->stats->deleted++;
		else
			s->stats->upserted++;
		if (s->nrows == s->batch && (out = flush(s)) < 0)
			break;
	}
	if (out == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		out = ff_db_error(s->db, s->offline, "cannot read the table");
	sqlite3_finalize(st);
	free(key);
	if (out == 0)
		out = flush(s);
	int last = drain(s);
	return out < 0 ? out : last;
}

/* ---- one table ---- */

static int read_source(struct rsync *s)
{
	int found = ff_store_table(s->st, s->table, &s->def, &s->version);
	if (found < 0)
		return -1;
	if (!found)
		return ff_error("%s: no table %s in the store", s->offline, s->table);
	if (s->o->as_of && ff_store_as_of_version(s->st, s->table, s->o->as_of, &s->version) < 0)
		return -1;
	if (s->version > UINT32_MAX)
		return ff_error("%s: table %s: version %" PRId64 " is past what the Redis layout holds", s->offline,
				s->table, s->version);
	char *cols = NULL, *keys = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *m1 = open_memstream(&cols, &n1), *m2 = open_memstream(&keys, &n2);
	s->feat_type = ff_xcalloc(s->def.ncols + 1, sizeof *s->feat_type);
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < s->def.ncols; i++) {
			const struct ff_column *c = &s->def.cols[i];
			enum ff_role want = pass == 0 ? FF_ROLE_KEY : pass == 1 ? FF_ROLE_TIMESTAMP : FF_ROLE_FEATURE;
			if (c->role != want)
				continue;
			char q[FF_DB_IDENT_SIZE];
			if (ff_db_quote(q, sizeof q, c->name) < 0) {
				fclose(m1);
				fclose(m2);
				free(cols);
				free(keys);
				return ff_error("%s: table %s: column name '%.24s...' too long", s->offline, s->table,
						c->name);
			}
			fprintf(m1, "%s%s", pass || i ? ", " : "", q);
			if (pass == 0) {
				fprintf(m2, "%s%s", s->nkeys ? ", " : "", q);
				s->nkeys++;
			} else if (pass == 1) {
				memcpy(s->ts_q, q, sizeof q);
			} else {
				s->feat_type[s->nfeat++] = c->type;
			}
		}
	fclose(m1);
	fclose(m2);
	s->cols = cols;
	s->keys_q = keys;
	/* The first column written began with ", " when it was not a key. */
	if (s->cols[0] == ',')
		memmove(s->cols, s->cols + 2, strlen(s->cols + 2) + 1);
	return 0;
}

static int full_copy(struct rsync *s)
{
	char tk[400];
	key_name(tk, sizeof tk, "table", s->table);
	/* Generations count per table, never reused. */
	const char *incr[] = {"HINCRBY", tk, "last_gen", "1"};
	ff_redis_addv(s->r, 0, tk, 4, incr);
	redisReply **rep;
	int rc = run(s, &rep);
	if (rc < 0)
		return rc;
	s->gen = rep[0]->integer;
	/* Noted before the first row: a run that dies leaves a generation the
	 * next run knows to remove. */
	char g[24];
	snprintf(g, sizeof g, "%" PRId64, s->gen);
	const char *pend[] = {"HSET", tk, "pending_gen", g};
	ff_redis_addv(s->r, 0, tk, 4, pend);
	if ((rc = run(s, &rep)) < 0)
		return rc;
	if (s->o->as_of) {
		/* As of a version: the one reader of a table's past rows, the
		 * columns in the order of s->cols (keys, timestamp, features). */
		const char **names = ff_xcalloc(s->def.ncols + 1, sizeof *names);
		size_t nn = 0;
		for (int pass = 0; pass < 3; pass++)
			for (size_t i = 0; i < s->def.ncols; i++)
				if (s->def.cols[i].role == (pass == 0 ? FF_ROLE_KEY : pass == 1 ? FF_ROLE_TIMESTAMP
											    : FF_ROLE_FEATURE))
					names[nn++] = s->def.cols[i].name;
		char *rows = NULL;
		rc = ff_store_rows_sql(s->st, s->table, names, nn, s->version, 0, &rows);
		free(names);
		if (rc == 0)
			rc = copy_rows(s, rows, 0);
		free(rows);
		return rc;
	}
	char q[FF_DB_IDENT_SIZE];
	ff_db_quote(q, sizeof q, s->table);
	char *sql = sqlite3_mprintf("SELECT %s FROM %s", s->cols, q);
	rc = copy_rows(s, sql, 0);
	sqlite3_free(sql);
	return rc;
}

/* The one version of the change feed after since: 1 and *v, 0 if it
 * holds several (or none), -1 on error (reported). */
static int only_version(struct rsync *s, const char *changes, int64_t since, int64_t *v)
{
	char *sql = sqlite3_mprintf("SELECT min(version), max(version) FROM %s WHERE version > %lld", changes,
				    (long long)since);
	sqlite3_stmt *st;
	int rc = ff_db_prepare(s->db, s->offline, sql, &st, "cannot read the change feed");
	sqlite3_free(sql);
	if (rc < 0)
		return -1;
	int one = 0;
	/* min() of no row is one NULL row: versions that only appended. */
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*v = sqlite3_column_int64(st, 0);
			one = *v == sqlite3_column_int64(st, 1);
		}
	} else if (rc != SQLITE_DONE) {
		one = ff_db_error(s->db, s->offline, "cannot read the change feed");
	}
	sqlite3_finalize(st);
	return one;
}

static int apply_changes(struct rsync *s, int64_t since)
{
	char changes[FF_DB_IDENT_SIZE], q[FF_DB_IDENT_SIZE];
	if (ff_db_side_name(changes, sizeof changes, "ff_changes_", s->table) < 0)
		return ff_error("%s: table %s: its change feed's name is too long", s->offline, s->table);
	ff_db_quote(q, sizeof q, s->table);
	int64_t appended = 0;
	int found = ff_store_appended_from(s->st, s->table, since, &appended);
	if (found < 0)
		return -1;
	/* One version since (the usual case): its keys are distinct by the
	 * feed's primary key, and SQLite skips the sort of the DISTINCT. */
	int64_t only = 0;
	int one = only_version(s, changes, since, &only);
	if (one < 0)
		return -1;
	char versions[64];
	snprintf(versions, sizeof versions, one ? "version = %" PRId64 : "version > %" PRId64, one ? only : since);
	s->gen = s->old.gen;
	s->dirty = 1;
	s->batch = CHANGE_BATCH_ROWS;
	/* The rows the feed names: as they are now, or gone. Those of the
	 * appended range come with the range below. */
	char *match = NULL, *ckeys = NULL, *tfeat = NULL;
	size_t n1 = 0, n2 = 0, n3 = 0;
	FILE *m1 = open_memstream(&match, &n1), *m2 = open_memstream(&ckeys, &n2), *m3 = open_memstream(&tfeat, &n3);
	size_t nk = 0, nf = 0;
	for (size_t i = 0; i < s->def.ncols; i++) {
		char c[FF_DB_IDENT_SIZE];
		ff_db_quote(c, sizeof c, s->def.cols[i].name);
		if (s->def.cols[i].role == FF_ROLE_KEY) {
			fprintf(m1, "%st.%s = c.%s", nk ? " AND " : "", c, c);
			fprintf(m2, "%sc.%s", nk++ ? ", " : "", c);
		} else if (s->def.cols[i].role == FF_ROLE_FEATURE) {
			fprintf(m3, ", t.%s", c);
			nf++;
		}
	}
	fclose(m1);
	fclose(m2);
	fclose(m3);
	char range[2 * FF_DB_IDENT_SIZE + 64] = "";
	if (found)
		snprintf(range, sizeof range, " WHERE t.%s IS NULL OR t.%s < %" PRId64, s->ts_q, s->ts_q, appended);
	char *sql = sqlite3_mprintf(
		"SELECT %s, c.%s%s, t.%s IS NULL FROM (SELECT DISTINCT %s, %s FROM %s WHERE %s) AS c "
		"LEFT JOIN %s AS t ON %s AND t.%s = c.%s%s",
		ckeys, s->ts_q, tfeat, s->ts_q, s->keys_q, s->ts_q, changes, versions, q, match, s->ts_q, s->ts_q,
		range);
	/* A range's columns keep their names for the WHERE above. */
	(void)nf;
	int rc = copy_rows(s, sql, 1);
	sqlite3_free(sql);
	free(match);
	free(ckeys);
	free(tfeat);
	if (rc == 0 && found) {
		s->batch = BATCH_ROWS; /* rows of whole days: a full copy's batches */
		sql = sqlite3_mprintf("SELECT %s FROM %s WHERE %s >= %" PRId64, s->cols, q, s->ts_q, appended);
		rc = copy_rows(s, sql, 0);
		sqlite3_free(sql);
	}
	return rc;
}

/* Retention of keys: the members older than the cutoff, but those of the
 * key's latest time. */
static int expire_keys(struct rsync *s, char **keys, const size_t *lens, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const char *a[] = {"ZREVRANGEBYSCORE", keys[k], "+inf", "-inf", "WITHSCORES", "LIMIT", "0", "1"};
		size_t l[] = {16, lens[k], 4, 4, 10, 5, 1, 1};
		ff_redis_add(s->r, 0, keys[k], lens[k], 8, a, l);
	}
	redisReply **rep;
	int rc = run(s, &rep);
	if (rc < 0)
		return rc;
	size_t queued = 0;
	for (size_t k = 0; k < n; k++) {
		if (rep[k]->elements < 2)
			continue;
		int64_t latest = strtoll(rep[k]->element[1]->str, NULL, 10);
		char bound[32];
		snprintf(bound, sizeof bound, "(%" PRId64, latest < s->cutoff ? latest : s->cutoff);
		const char *a[] = {"ZREMRANGEBYSCORE", keys[k], "-inf", bound};
		size_t l[] = {16, lens[k], 4, strlen(bound)};
		ff_redis_add(s->r, 0, keys[k], lens[k], 4, a, l);
		queued++;
	}
	if (queued && (rc = run(s, &rep)) == 0)
		for (size_t k = 0; k < queued; k++)
			s->stats->expired += rep[k]->integer;
	return rc;
}

/* Retention: per key of the generation, the members older than the
 * newest time of the table minus the retention, but the key's latest. */
static int expire(struct rsync *s)
{
	char q[FF_DB_IDENT_SIZE];
	ff_db_quote(q, sizeof q, s->table);
	char *sql = sqlite3_mprintf("SELECT max(%s) FROM %s", s->ts_q, q);
	sqlite3_stmt *st;
	int rc = ff_db_prepare(s->db, s->offline, sql, &st, "cannot read the table");
	sqlite3_free(sql);
	if (rc < 0)
		return -1;
	int has = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
	int64_t newest = has ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (!has)
		return 0;
	int64_t cutoff = newest - s->o->retention;
	s->cutoff = cutoff;
	char pattern[FF_DB_IDENT_SIZE + 64];
	snprintf(pattern, sizeof pattern, "ff:%s:%" PRId64 ":*", s->table, s->gen);
	return scan_keys(s, pattern, expire_keys);
}

/* The rows of the online table: the offline table's, less what the
 * retention removed (every row not older than the cutoff, and each older
 * key's latest row). */
static int64_t count_rows(struct rsync *s, int64_t cutoff)
{
	/* Followed through the feed without retention: the rows before and
	 * the net of the versions since, not a count of the whole table. */
	struct ff_store_version *v = NULL;
	size_t nv = 0;
	if (!s->stats->full && s->o->retention <= 0 && s->old.retention <= 0 &&
	    ff_store_versions(s->st, s->table, &v, &nv) == 0) {
		int64_t rows = s->old.rows;
		for (size_t i = 0; i < nv; i++)
			if (v[i].version > s->stats->from_version && v[i].version <= s->version)
				rows += v[i].inserted - v[i].deleted;
		free(v);
		return rows;
	}
	char q[FF_DB_IDENT_SIZE];
	ff_db_quote(q, sizeof q, s->table);
	char *sql = s->o->retention > 0
		? sqlite3_mprintf("SELECT (SELECT count(*) FROM %s WHERE %s >= %lld) + (SELECT count(*) FROM "
				  "(SELECT 1 FROM %s GROUP BY %s HAVING max(%s) < %lld))", q, s->ts_q,
				  (long long)cutoff, q, s->keys_q, s->ts_q, (long long)cutoff)
		: sqlite3_mprintf("SELECT count(*) FROM %s", q);
	sqlite3_stmt *st;
	int64_t n = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_free(sql);
	return n;
}

/* The arguments of the publication (publish_script) for the table: its
 * name, its pointer, the fields of its record. */
struct args {
	char **v;
	size_t n, cap;
};

static void arg(struct args *a, const char *v)
{
	ff_grow(&a->v, &a->cap, a->n + 1, sizeof *a->v);
	a->v[a->n++] = ff_xstrdup(v);
}

static void record_args(struct rsync *s, struct args *keys, struct args *a)
{
	char tk[400], now[32], num[64];
	key_name(tk, sizeof tk, "table", s->table);
	arg(keys, tk);
	arg(a, s->table);
	snprintf(num, sizeof num, "%" PRId64 " %" PRId64, s->gen, s->version);
	arg(a, num);
	arg(a, "10");
	ff_db_now_text(now);
	char id[FF_STORE_ID_SIZE] = "";
	if (ff_store_id(s->st, id) <= 0)
		id[0] = '\0';
	char *real = ff_online_source(s->offline);
	char *cols = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&cols, &n);
	for (size_t i = 0; i < s->def.ncols; i++)
		fprintf(m, "%s\t%s\t%s\n", s->def.cols[i].name, ff_type_name(s->def.cols[i].type),
			ff_role_name(s->def.cols[i].role));
	fclose(m);
	if (n)
		cols[--n] = '\0';
	arg(a, "gen");
	snprintf(num, sizeof num, "%" PRId64, s->gen);
	arg(a, num);
	arg(a, "version");
	snprintf(num, sizeof num, "%" PRId64, s->version);
	arg(a, num);
	arg(a, "source");
	arg(a, real ? real : s->offline);
	arg(a, "definition");
	arg(a, s->def.definition);
	arg(a, "synced_at");
	arg(a, now);
	arg(a, "rows");
	snprintf(num, sizeof num, "%" PRId64, count_rows(s, s->cutoff));
	arg(a, num);
	arg(a, "retention");
	snprintf(num, sizeof num, "%" PRId64, s->o->retention > 0 ? s->o->retention : 0);
	arg(a, num);
	arg(a, "store_id");
	arg(a, id);
	arg(a, "columns");
	arg(a, cols);
	/* The generation a full copy replaced: the next run removes it. */
	arg(a, "old_gen");
	snprintf(num, sizeof num, "%" PRId64, s->old.found && s->old.gen && s->old.gen != s->gen ? s->old.gen : 0);
	arg(a, num);
	free(real);
	free(cols);
}

/* Every table's record and pointer in one script, which Redis runs
 * whole: readers see all of the run or none of it, and only while the run
 * holds the lock. KEYS: the pointer hash, then each table's record, then
 * the lock; ARGV per table: name, pointer, the number of fields, the
 * fields and values; then the run's token. */
static const char publish_script[] =
	"if redis.call('GET', KEYS[#KEYS]) ~= ARGV[#ARGV] then return redis.error_reply('lost') end\n"
	"local a = 1\n"
	"for i = 2, #KEYS - 1 do\n"
	"  local name, ptr, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])\n"
	"  a = a + 3\n"
	"  for k = 0, n - 1 do redis.call('HSET', KEYS[i], ARGV[a + 2 * k], ARGV[a + 2 * k + 1]) end\n"
	"  a = a + 2 * n\n"
	"  redis.call('HDEL', KEYS[i], 'pending_gen')\n"
	"  redis.call('HSET', KEYS[1], name, ptr)\n"
	"end\n"
	"return #KEYS - 2\n";

/* Sync one table up to (not including) its publication. */
static int sync_one(struct rsync *s)
{
	struct ff_sync_stats *stats = s->stats;
	memset(stats, 0, sizeof *stats);
	if (ff_name_check(s->table, "table name", s->offline) < 0 || read_source(s) < 0)
		return -1;
	int rc = ff_online_redis_table_read(s->r, s->table, &s->old);
	if (rc < 0)
		return rc;
	/* What the previous runs left: a generation given up (a full copy
	 * that failed, or the one a full copy replaced) and superseded rows. */
	if (s->old.pending_gen && s->old.pending_gen != s->old.gen && (rc = drop_generation(s, s->old.pending_gen)) < 0)
		return rc;
	if (s->old.old_gen && s->old.old_gen != s->old.gen && (rc = drop_generation(s, s->old.old_gen)) < 0)
		return rc;
	if (s->old.pending_gen || s->old.old_gen) {
		char tk[400];
		key_name(tk, sizeof tk, "table", s->table);
		const char *a[] = {"HDEL", tk, "pending_gen", "old_gen"};
		ff_redis_addv(s->r, 0, tk, 4, a);
		redisReply **rep;
		if ((rc = run(s, &rep)) < 0)
			return rc;
	}
	int synced = s->old.found && s->old.gen > 0;
	/* Renewed between the long steps too, not only per batch of rows. */
	if ((rc = keep_lock(s->r, s->lock)) < 0 || (synced && (rc = clean_dirty(s)) < 0) ||
	    (rc = keep_lock(s->r, s->lock)) < 0)
		return rc;
	int64_t since = synced ? s->old.version : 0;
	stats->from_version = since;
	stats->to_version = s->version;
	stats->read = -1;
	if (s->pulled != -2) {
		stats->read = ff_sync_pulled_rows(s->db, "main", s->table);
		if (ff_sync_check_pulled(ff_redis_name(s->r), s->table, s->pulled, synced, since, s->o) < 0)
			return -1;
	}
	if (!synced || s->o->full) {
		stats->full = 1;
		rc = full_copy(s);
	} else {
		struct ff_sync_follow f = {.online = ff_redis_name(s->r), .offline = s->offline, .table = s->table,
					   .synced_source = s->old.source, .synced_definition = s->old.definition,
					   .since = since, .definition = s->def.definition, .version = s->version};
		if (ff_sync_can_follow(s->st, &f) < 0)
			return -1;
		s->gen = s->old.gen;
		rc = since < s->version ? apply_changes(s, since) : 0;
	}
	if (rc == 0 && s->o->retention > 0 && (rc = keep_lock(s->r, s->lock)) == 0)
		rc = expire(s);
	if (rc < 0)
		return rc;
	if (!stats->full && since == s->version && stats->expired == 0) {
		stats->unchanged = 1;
		return 0;
	}
	s->publish = 1;
	return 0;
}

static void rsync_release(struct rsync *s)
{
	ff_table_def_release(&s->def);
	ff_online_redis_table_release(&s->old);
	free(s->cols);
	free(s->keys_q);
	free(s->feat_type);
	free(s->rows);
	free(s->members);
	free(s->kbuf);
	free(s->kbuf2);
	ff_keyset_free(s->ks);
}

int ff_online_redis_sync(const char *offline, const char *url, char **tables, size_t n,
			 const struct ff_sync_options *o, struct ff_sync_stats *stats)
{
	struct ff_redis *r = NULL;
	struct ff_store *st = NULL;
	int pg = ff_pg_is_uri(offline);
	if (!pg && access(offline, R_OK) < 0)
		return ff_error("%s: %s", offline, strerror(errno));
	if (!pg && ff_store_open(offline, FF_STORE_READ, &st) < 0)
		return -1;
	/* Long round trips: a pipeline of a batch of rows. */
	struct ff_redis_timeouts t = {2000, 60000};
	int rc = ff_redis_open(url, &t, &r);
	struct sync_lock lock = {0};
	int locked = rc == 0 && (rc = take_lock(r, &lock)) == 0;
	/* A PostgreSQL store is read from a private copy, made anew each sync
	 * once the lock is ours: of the tables it copies whole, every row; of
	 * the others, the change feed since the version synced and the rows it
	 * names (ff_pg_store.h). */
	int64_t *pulled = NULL;
	if (rc == 0 && pg) {
		pulled = ff_xcalloc(n ? n : 1, sizeof *pulled);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct ff_online_redis_table old;
			rc = ff_online_redis_table_read(r, tables[i], &old);
			pulled[i] = rc == 0 ? ff_sync_pull_from(old.found && old.gen > 0, old.version, o) : -1;
			ff_online_redis_table_release(&old);
		}
		const char *file = rc == 0 ? ff_pg_store_file_since(offline, tables, pulled, n) : NULL;
		if (rc == 0 && (!file || ff_store_open(file, FF_STORE_READ, &st) < 0))
			rc = -1;
		if (st)
			ff_store_set_name(st, offline);
	}
	/* One read transaction: every table as of one moment offline. */
	int in_tx = rc == 0 && (rc = ff_db_exec(ff_store_db(st), offline, "BEGIN")) == 0;
	struct rsync *all = ff_xcalloc(n ? n : 1, sizeof *all);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct rsync *s = &all[i];
		*s = (struct rsync){.r = r, .lock = &lock, .st = st, .db = ff_store_db(st), .offline = offline, .o = o,
				    .table = tables[i], .stats = &stats[i], .pulled = pulled ? pulled[i] : -2};
		s->ks = ff_keyset_new();
		s->batch = BATCH_ROWS;
		rc = sync_one(s);
	}
	size_t publish = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		publish += all[i].publish;
	if (rc == 0 && publish) {
		struct args keys = {0}, a = {0};
		arg(&keys, "ff:{catalog}:ptr");
		for (size_t i = 0; i < n; i++)
			if (all[i].publish)
				record_args(&all[i], &keys, &a);
		arg(&keys, LOCK_KEY);
		arg(&a, lock.token);
		struct args cmd = {0};
		char nkeys[24];
		snprintf(nkeys, sizeof nkeys, "%zu", keys.n);
		arg(&cmd, "EVAL");
		arg(&cmd, publish_script);
		arg(&cmd, nkeys);
		for (size_t i = 0; i < keys.n; i++)
			arg(&cmd, keys.v[i]);
		for (size_t i = 0; i < a.n; i++)
			arg(&cmd, a.v[i]);
		ff_redis_addv(r, 0, keys.v[0], (int)cmd.n, (const char *const *)cmd.v);
		redisReply **rep;
		if ((rc = ff_redis_run(r, &rep)) == 0 && rep[0]->type == REDIS_REPLY_ERROR)
			rc = strstr(rep[0]->str, "lost") ? lock_lost(r)
			     : ff_error("%s: publishing the sync failed: %s", ff_redis_name(r), rep[0]->str);
		for (struct args *x = &keys; x; x = x == &keys ? &a : x == &a ? &cmd : NULL) {
			for (size_t i = 0; i < x->n; i++)
				free(x->v[i]);
			free(x->v);
		}
	}
	if (in_tx)
		sqlite3_exec(ff_store_db(st), "COMMIT", NULL, NULL, NULL);
	free(pulled);
	if (locked && !ff_redis_down())
		drop_lock(r, lock.token);
	for (size_t i = 0; i < n; i++)
		rsync_release(&all[i]);
	free(all);
	ff_redis_close(r);
	ff_store_close(st);
	if (pg)
		ff_pg_store_forget(offline);
	return rc;
}
