/* ff_online_redis: the layout (keys, members), the catalog record and the
 * reader. The writer is ff_online_redis_sync.c. */
#include "ff_online_redis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_redis.h"
#include "ff_util.h"

/* ---- the layout ---- */

size_t ff_online_redis_key(char **buf, size_t *cap, const char *table, int64_t gen, const char *key,
			   size_t klen)
{
	size_t t = strlen(table);
	ff_grow(buf, cap, t + klen + 40, 1);
	int n = sprintf(*buf, "ff:%s:%" PRId64 ":{", table, gen);
	memcpy(*buf + n, key, klen);
	(*buf)[n + klen] = '}';
	return (size_t)n + klen + 1;
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

void ff_online_redis_head(char **buf, size_t *cap, size_t *len, int64_t version, int64_t ts, int kind)
{
	ff_grow(buf, cap, *len + FF_ONLINE_REDIS_HEAD, 1);
	unsigned char *p = (unsigned char *)*buf + *len;
	put_be(p, (uint64_t)version, 4);
	/* The sign bit flipped: the bytes order as the times do. */
	put_be(p + 4, (uint64_t)ts ^ (UINT64_C(1) << 63), 8);
	p[12] = (unsigned char)kind;
	*len += FF_ONLINE_REDIS_HEAD;
}

int ff_online_redis_parse_head(const char *m, size_t len, int64_t *version, int64_t *ts, int *kind)
{
	if (len < FF_ONLINE_REDIS_HEAD)
		return -1;
	const unsigned char *p = (const unsigned char *)m;
	*version = (int64_t)get_be(p, 4);
	*ts = (int64_t)(get_be(p + 4, 8) ^ (UINT64_C(1) << 63));
	*kind = p[12];
	return 0;
}

static void put_varint(char **buf, size_t *cap, size_t *len, uint64_t v)
{
	ff_grow(buf, cap, *len + 10, 1);
	do {
		unsigned char b = v & 0x7f;
		v >>= 7;
		(*buf)[(*len)++] = (char)(b | (v ? 0x80 : 0));
	} while (v);
}

static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		unsigned char b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* Each value: a tag, then its bytes. Integers (and timestamps, in
 * microseconds) as zigzag varints, reals as their 8 bytes, text as a
 * varint length and the bytes. */
void ff_online_redis_put(char **buf, size_t *cap, size_t *len, enum ff_type type, const struct ff_cell *c)
{
	ff_grow(buf, cap, *len + 10, 1);
	if (c->null) {
		(*buf)[(*len)++] = 'n';
	} else if (type == FF_TYPE_REAL) {
		(*buf)[(*len)++] = 'f';
		memcpy(*buf + *len, &c->d, 8);
		*len += 8;
	} else if (type == FF_TYPE_TEXT) {
		(*buf)[(*len)++] = 't';
		put_varint(buf, cap, len, c->len);
		ff_grow(buf, cap, *len + c->len, 1);
		memcpy(*buf + *len, c->s, c->len);
		*len += c->len;
	} else {
		(*buf)[(*len)++] = 'i';
		put_varint(buf, cap, len, ((uint64_t)c->i << 1) ^ (uint64_t)(c->i >> 63));
	}
}

int ff_online_redis_decode(const char *m, size_t len, struct ff_cell *cells, size_t n)
{
	if (len < FF_ONLINE_REDIS_HEAD)
		return -1;
	const unsigned char *p = (const unsigned char *)m + FF_ONLINE_REDIS_HEAD, *end = (const unsigned char *)m + len;
	for (size_t i = 0; i < n; i++) {
		struct ff_cell *c = &cells[i];
		memset(c, 0, sizeof *c);
		if (p >= end)
			return -1;
		uint64_t v;
		switch (*p++) {
		case 'n': c->null = 1; break;
		case 'f':
			if (end - p < 8)
				return -1;
			memcpy(&c->d, p, 8);
			p += 8;
			break;
		case 't':
			if (get_varint(&p, end, &v) < 0 || (uint64_t)(end - p) < v)
				return -1;
			c->s = (const char *)p;
			c->len = (size_t)v;
			p += v;
			break;
		case 'i':
			if (get_varint(&p, end, &v) < 0)
				return -1;
			c->i = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
			break;
		default: return -1;
		}
	}
	return p == end ? 0 : -1;
}

/* ---- the catalog record ---- */

void ff_online_redis_table_release(struct ff_online_redis_table *t)
{
	if (!t)
		return;
	free(t->source);
	free(t->definition);
	free(t->synced_at);
	free(t->store_id);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	memset(t, 0, sizeof *t);
}

/* "name\ttype\trole\n" per column. */
static int parse_columns(struct ff_online_redis_table *t, const char *p, size_t len)
{
	const char *end = p + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *t1 = memchr(p, '\t', (size_t)(e - p));
		const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(e - t1 - 1)) : NULL;
		if (!t2)
			return -1;
		char type[32], role[32];
		snprintf(type, sizeof type, "%.*s", (int)(t2 - t1 - 1), t1 + 1);
		snprintf(role, sizeof role, "%.*s", (int)(e - t2 - 1), t2 + 1);
		int ty = ff_type_parse(type), ro = ff_role_parse(role);
		if (ty < 0 || ro < 0)
			return -1;
		t->cols = ff_xrealloc(t->cols, (t->ncols + 1) * sizeof *t->cols);
		t->cols[t->ncols++] = (struct ff_column){ff_xstrndup(p, (size_t)(t1 - p)), (enum ff_type)ty,
							 (enum ff_role)ro, NULL};
		p = e + 1;
	}
	return 0;
}

int ff_online_redis_table_read(struct ff_redis *r, const char *table, struct ff_online_redis_table *t)
{
	memset(t, 0, sizeof *t);
	char key[400];
	snprintf(key, sizeof key, "ff:{catalog}:table:%s", table);
	const char *argv[] = {"HGETALL", key};
	ff_redis_addv(r, 1, key, 2, argv);
	redisReply **rep;
	int rc = ff_redis_run(r, &rep);
	if (rc < 0)
		return rc;
	if (rep[0]->type == REDIS_REPLY_ERROR)
		return ff_error("%s: %s", ff_redis_name(r), rep[0]->str);
	for (size_t i = 0; rep[0]->type == REDIS_REPLY_ARRAY && i + 1 < rep[0]->elements; i += 2) {
		const char *f = rep[0]->element[i]->str;
		const redisReply *v = rep[0]->element[i + 1];
		t->found = 1;
		if (strcmp(f, "gen") == 0)
			t->gen = strtoll(v->str, NULL, 10);
		else if (strcmp(f, "version") == 0)
			t->version = strtoll(v->str, NULL, 10);
		else if (strcmp(f, "rows") == 0)
			t->rows = strtoll(v->str, NULL, 10);
		else if (strcmp(f, "retention") == 0)
			t->retention = strtoll(v->str, NULL, 10);
		else if (strcmp(f, "pending_gen") == 0)
			t->pending_gen = strtoll(v->str, NULL, 10);
		else if (strcmp(f, "old_gen") == 0)
			t->old_gen = strtoll(v->str, NULL, 10);
		else if (strcmp(f, "source") == 0)
			t->source = ff_xstrndup(v->str, v->len);
		else if (strcmp(f, "definition") == 0)
			t->definition = ff_xstrndup(v->str, v->len);
		else if (strcmp(f, "synced_at") == 0)
			t->synced_at = ff_xstrndup(v->str, v->len);
		else if (strcmp(f, "store_id") == 0 && v->len)
			t->store_id = ff_xstrndup(v->str, v->len);
		else if (strcmp(f, "columns") == 0 && parse_columns(t, v->str, v->len) < 0) {
			ff_online_redis_table_release(t);
			return ff_error("%s: table %s: a damaged catalog record", ff_redis_name(r), table);
		}
	}
	return 0;
}

/* ---- the reader ---- */

struct slot {
	char *table;
	int64_t gen, version;   /* the pointer as last read */
	size_t nfeat;           /* the table's features */
	int queued, found;
	char *key;              /* the lookup's key tuple */
	size_t klen, kcap;
	char lo[24], hi[24];
	long limit;             /* members asked for */
	const char *row;        /* the member found */
	size_t rowlen;
};

struct ff_online_reader {
	struct ff_redis *r;
	struct slot *slots;
	size_t nslots;
	char *kbuf;
	size_t kcap;
};

/* Members a lookup asks for: the row wanted is nearly always the first;
 * a later version not yet published, or a deleted row, may come first. */
#define FIRST_LIMIT 4

int ff_online_reader_open(const char *url, struct ff_online_reader **out)
{
	struct ff_online_reader *rd = ff_xcalloc(1, sizeof *rd);
	struct ff_redis_timeouts t = {1000, 1000};
	int rc = ff_redis_open(url, &t, &rd->r);
	if (rc < 0) {
		free(rd);
		return rc;
	}
	*out = rd;
	return 0;
}

void ff_online_reader_close(struct ff_online_reader *rd)
{
	if (!rd)
		return;
	for (size_t i = 0; i < rd->nslots; i++) {
		free(rd->slots[i].table);
		free(rd->slots[i].key);
	}
	free(rd->slots);
	free(rd->kbuf);
	ff_redis_close(rd->r);
	free(rd);
}

const char *ff_online_reader_name(const struct ff_online_reader *rd) { return ff_redis_name(rd->r); }

int ff_online_reader_table(struct ff_online_reader *rd, const char *table, struct ff_online_redis_table *t)
{
	return ff_online_redis_table_read(rd->r, table, t);
}

int ff_online_reader_lookup(struct ff_online_reader *rd, size_t l, const char *table)
{
	struct ff_online_redis_table t;
	int rc = ff_online_redis_table_read(rd->r, table, &t);
	if (rc < 0)
		return rc;
	if (!t.found) {
		ff_online_redis_table_release(&t);
		return ff_error("%s: no table %s in the online store: run ff-sync-online", ff_redis_name(rd->r), table);
	}
	if (l >= rd->nslots) {
		rd->slots = ff_xrealloc(rd->slots, (l + 1) * sizeof *rd->slots);
		memset(rd->slots + rd->nslots, 0, (l + 1 - rd->nslots) * sizeof *rd->slots);
		rd->nslots = l + 1;
	}
	struct slot *s = &rd->slots[l];
	s->table = ff_xstrdup(table);
	s->gen = t.gen;
	s->version = t.version;
	for (size_t i = 0; i < t.ncols; i++)
		s->nfeat += t.cols[i].role == FF_ROLE_FEATURE;
	ff_online_redis_table_release(&t);
	return 0;
}

void ff_online_reader_add(struct ff_online_reader *rd, size_t l, const char *key, size_t klen, int64_t lo,
			  int64_t hi)
{
	struct slot *s = &rd->slots[l];
	s->queued = key != NULL;
	s->found = 0;
	if (!key)
		return;
	ff_grow(&s->key, &s->kcap, klen + 1, 1);
	memcpy(s->key, key, klen);
	s->klen = klen;
	snprintf(s->lo, sizeof s->lo, "%" PRId64, lo);
	snprintf(s->hi, sizeof s->hi, "%" PRId64, hi);
	s->limit = FIRST_LIMIT;
}

/* The row of s among the members of its reply: per time from the latest
 * down, the member of the highest version the pointer allows decides (the
 * members of one time come in that order); a deleted row's time has no
 * row. Returns 1 found, 0 none, 2 when more members must be read. */
static int pick(struct slot *s, const redisReply *rep)
{
	int64_t decided = INT64_MIN;
	int any = 0;
	for (size_t i = 0; i < rep->elements; i++) {
		const redisReply *m = rep->element[i];
		int64_t v, ts;
		int kind;
		if (m->type != REDIS_REPLY_STRING || ff_online_redis_parse_head(m->str, m->len, &v, &ts, &kind) < 0)
			continue;
		if (v > s->version || (any && ts == decided))
			continue;
		if (kind == FF_ONLINE_REDIS_ROW) {
			s->row = m->str;
			s->rowlen = m->len;
			return 1;
		}
		decided = ts;
		any = 1;
	}
	return (long)rep->elements >= s->limit ? 2 : 0;
}

int ff_online_reader_run(struct ff_online_reader *rd)
{
	static const char ptr[] = "ff:{catalog}:ptr";
	for (int round = 0; round < 8; round++) {
		size_t nq = 0;
		for (size_t l = 0; l < rd->nslots; l++) {
			struct slot *s = &rd->slots[l];
			if (!s->queued || s->found)
				continue;
			size_t kl = ff_online_redis_key(&rd->kbuf, &rd->kcap, s->table, s->gen, s->key, s->klen);
			char limit[24];
			snprintf(limit, sizeof limit, "%ld", s->limit);
			const char *argv[] = {"ZREVRANGEBYSCORE", rd->kbuf, s->hi, s->lo, "LIMIT", "0", limit};
			size_t lens[] = {16, kl, strlen(s->hi), strlen(s->lo), 5, 1, strlen(limit)};
			ff_redis_add(rd->r, 1, rd->kbuf, kl, 7, argv, lens);
			nq++;
		}
		/* The pointers last: read after the rows, they name a version
		 * whose rows were there when the rows were read. */
		const char **argv = ff_xcalloc(rd->nslots + 2, sizeof *argv);
		argv[0] = "HMGET";
		argv[1] = ptr;
		for (size_t l = 0; l < rd->nslots; l++)
			argv[2 + l] = rd->slots[l].table;
		ff_redis_addv(rd->r, 1, ptr, (int)rd->nslots + 2, argv);
		free(argv);
		redisReply **rep;
		int rc = ff_redis_run(rd->r, &rep);
		if (rc < 0)
			return rc;
		const redisReply *p = rep[nq];
		if (p->type != REDIS_REPLY_ARRAY || p->elements != rd->nslots)
			return ff_error("%s: %s: %s", ff_redis_name(rd->r), ptr,
					p->type == REDIS_REPLY_ERROR ? p->str : "unexpected reply");
		int again = 0;
		for (size_t l = 0; l < rd->nslots; l++) {
			struct slot *s = &rd->slots[l];
			const redisReply *e = p->element[l];
			int64_t gen, version;
			if (e->type != REDIS_REPLY_STRING || sscanf(e->str, "%" SCNd64 " %" SCNd64, &gen, &version) != 2)
				return ff_error("%s: no table %s in the online store: run ff-sync-online",
						ff_redis_name(rd->r), s->table);
			if (gen != s->gen) /* a full sync made a new generation: read that */
				again = 1;
			s->gen = gen;
			s->version = version;
		}
		if (again) {
			for (size_t l = 0; l < rd->nslots; l++)
				rd->slots[l].found = 0;
			continue;
		}
		size_t i = 0;
		for (size_t l = 0; l < rd->nslots; l++) {
			struct slot *s = &rd->slots[l];
			if (!s->queued || s->found)
				continue;
			const redisReply *z = rep[i++];
			if (z->type != REDIS_REPLY_ARRAY)
				return ff_error("%s: table %s: %s", ff_redis_name(rd->r), s->table,
						z->type == REDIS_REPLY_ERROR ? z->str : "unexpected reply");
			int got = pick(s, z);
			if (got == 2) {
				s->limit *= 16;
				again = 1;
			} else {
				s->found = got ? 1 : -1;
			}
		}
		if (!again)
			return 0;
		/* The rows found point into replies the next run frees: ask again. */
		for (size_t l = 0; l < rd->nslots; l++)
			if (rd->slots[l].found == 1)
				rd->slots[l].found = 0;
	}
	return ff_error("%s: the lookups did not settle: syncs follow each other too fast", ff_redis_name(rd->r));
}

int ff_online_reader_result(struct ff_online_reader *rd, size_t l, struct ff_cell *cells, size_t nfeat)
{
	struct slot *s = &rd->slots[l];
	if (!s->queued || s->found != 1)
		return 0;
	if (nfeat != s->nfeat || ff_online_redis_decode(s->row, s->rowlen, cells, nfeat) < 0)
		return ff_error("%s: table %s: a damaged row", ff_redis_name(rd->r), s->table);
	return 1;
}
