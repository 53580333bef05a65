#include "ff_agg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_csv.h"
#include "ff_keyset.h"
#include "ff_time.h"
#include "ff_util.h"

#define DEFAULT_MEMORY ((size_t)64 << 20)

/* Per numeric input column, each window keeps the count of values, their
 * sum and sum of squares as double-doubles (hi + lo: 106 bits, so that sums
 * of ordinary data are exact and thus the same in any order), min and max. */
struct acc {
	int64_t n;
	double sum_hi, sum_lo;
	double sq_hi, sq_lo;
	double min, max;
};

/* What a column's features need stored, beyond n. */
enum { NEED_SUM = 1, NEED_SQ = 2, NEED_MIN = 4, NEED_MAX = 8 };

/* An open window start (bucket): the states of the keys seen in it. */
struct bucket {
	int64_t k;          /* window start = k * slide */
	int again;          /* k was handed out before in this run */
	size_t pos, opos;   /* its place in open[], and in ontime[] unless again */
	uint32_t nstates;
	uint32_t slots_cap; /* power of two */
	uint32_t *slots;    /* key id + 1 -> via ids[]; 0 = empty */
	uint32_t *ids;      /* key id of each state */
	uint32_t states_cap;
	unsigned char *states;
};

struct ff_agg {
	const struct ff_spec *spec;
	struct ff_agg_options opt;
	ff_agg_emit_fn emit;
	void *ctx;

	/* input columns */
	size_t time_col;
	size_t *key_cols;
	size_t nnum;          /* distinct numeric input columns */
	size_t *num_cols;
	const char **num_names;
	unsigned *num_need;   /* NEED_* per numeric column */
	size_t *feature_num;  /* per feature: index into num columns */
	int need_rows;        /* a count(*) feature: rows are part of the stored state */
	int calendar;         /* a feature of the window's local time (is_weekend, ...) */
	size_t min_fields;

	/* staged row */
	int64_t st_time;
	int64_t st_kmin, st_kmax; /* windows it falls in, after the range filter */
	uint32_t st_key;
	double *st_nums;
	int *st_null;

	struct ff_keyset *keys;    /* interned key tuples */
	char *key_scratch;
	size_t key_scratch_cap;

	/* open windows: buckets by window start, found through a hash of k */
	size_t state_size;
	struct bucket **open;
	size_t nopen, open_cap;
	struct bucket **ontime;   /* the open buckets that are not again: few */
	size_t nontime, ontime_cap;
	struct bucket **map;      /* open addressing on k; map_cap a power of two */
	size_t map_cap;
	struct bucket *last;      /* the bucket found last */
	int64_t k_min_ontime;     /* smallest k of the open buckets that are not again */
	int64_t k_emitted;        /* largest window start handed out */
	size_t nstates;           /* key states in all open buckets */
	int64_t max_time;
	int64_t late_rows;

	/* emission scratch */
	uint32_t *order;
	size_t order_cap;
	uint64_t *ranked_order;  /* rank << 32 | state index */
	size_t ranked_order_cap;
	uint32_t *rank;          /* byte order of each key among all keys */
	uint32_t *by_rank;       /* scratch: state index by rank, UINT32_MAX for none */
	uint32_t nranked;        /* keys when rank was computed */
	const char **out_keys;
	size_t *out_key_lens;
	struct bucket **closing;
	size_t closing_cap;
};

static int64_t k_lowest(const struct ff_agg *a, int64_t t)
{
	return ff_floor_div(t - a->spec->window, a->spec->slide) + 1;
}

struct ff_agg *ff_agg_new(const struct ff_spec *spec, const struct ff_agg_options *opt,
			  ff_agg_emit_fn emit, void *ctx)
{
	struct ff_agg *a = ff_xcalloc(1, sizeof *a);
	a->spec = spec;
	a->opt = *opt;
	if (!a->opt.memory)
		a->opt.memory = DEFAULT_MEMORY;
	a->emit = emit;
	a->ctx = ctx;
	a->key_cols = ff_xcalloc(spec->nkeys, sizeof *a->key_cols);
	a->feature_num = ff_xcalloc(spec->nfeatures, sizeof *a->feature_num);
	a->num_cols = ff_xcalloc(spec->nfeatures, sizeof *a->num_cols);
	a->num_names = ff_xcalloc(spec->nfeatures, sizeof *a->num_names);
	a->num_need = ff_xcalloc(spec->nfeatures, sizeof *a->num_need);
	a->st_nums = ff_xcalloc(spec->nfeatures, sizeof *a->st_nums);
	a->st_null = ff_xcalloc(spec->nfeatures, sizeof *a->st_null);
	a->out_keys = ff_xcalloc(spec->nkeys, sizeof *a->out_keys);
	a->out_key_lens = ff_xcalloc(spec->nkeys, sizeof *a->out_key_lens);
	a->k_emitted = INT64_MIN;
	a->k_min_ontime = INT64_MAX;
	a->max_time = INT64_MIN;
	a->keys = ff_keyset_new();

	/* The numeric columns in order of first use by a feature: the state's
	 * layout follows from the spec alone. */
	for (size_t i = 0; i < spec->nfeatures; i++) {
		const struct ff_feature *f = &spec->features[i];
		a->need_rows |= f->kind == FF_COUNT_ROWS;
		a->calendar |= f->kind >= FF_IS_WEEKEND;
		if (f->kind == FF_COUNT_ROWS || f->kind >= FF_IS_WEEKEND)
			continue;
		size_t j = 0;
		while (j < a->nnum && strcmp(a->num_names[j], f->column) != 0)
			j++;
		if (j == a->nnum)
			a->num_names[a->nnum++] = f->column;
		a->feature_num[i] = j;
		switch (f->kind) {
		case FF_SUM: case FF_MEAN: a->num_need[j] |= NEED_SUM; break;
		case FF_STDDEV: case FF_VARIANCE: a->num_need[j] |= NEED_SUM | NEED_SQ; break;
		case FF_MIN: a->num_need[j] |= NEED_MIN; break;
		case FF_MAX: a->num_need[j] |= NEED_MAX; break;
		default: break;
		}
	}
	a->state_size = sizeof(int64_t) + a->nnum * sizeof(struct acc);
	return a;
}

static void bucket_free(struct bucket *b)
{
	if (!b)
		return;
	free(b->slots);
	free(b->ids);
	free(b->states);
	free(b);
}

void ff_agg_free(struct ff_agg *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nopen; i++)
		bucket_free(a->open[i]);
	free(a->open);
	free(a->ontime);
	free(a->map);
	free(a->closing);
	free(a->key_cols);
	free(a->feature_num);
	free(a->num_cols);
	free(a->num_names);
	free(a->num_need);
	free(a->st_nums);
	free(a->st_null);
	free(a->out_keys);
	free(a->out_key_lens);
	ff_keyset_free(a->keys);
	free(a->key_scratch);
	free(a->order);
	free(a->ranked_order);
	free(a->rank);
	free(a->by_rank);
	free(a);
}

static int find_column(const struct ff_field *header, size_t n, const char *name, size_t *out)
{
	for (size_t i = 0; i < n; i++)
		if (header[i].ptr && strcmp(header[i].ptr, name) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

/* "no column 'name' (role [feature] of table T)", with a hint when the
 * header looks mistaken. */
static int missing(const struct ff_field *header, size_t n, const char *where, const char *name,
		   const char *role, const char *feature, const char *table)
{
	const char **names = ff_xcalloc(n, sizeof *names);
	for (size_t i = 0; i < n; i++)
		names[i] = header[i].ptr;
	char hint[160];
	ff_csv_header_hint(names, n, name, hint, sizeof hint);
	free(names);
	return ff_error("%s: no column '%s' (%s%s%s of table %s)%s", where, name, role,
			feature ? " " : "", feature ? feature : "", table, hint);
}

int ff_agg_bind(struct ff_agg *a, const struct ff_field *header, size_t n, const char *where)
{
	const struct ff_spec *s = a->spec;
	size_t need = 0;
	if (find_column(header, n, s->time_column, &a->time_col) < 0)
		return missing(header, n, where, s->time_column, "time column", NULL, s->table);
	need = a->time_col;
	for (size_t i = 0; i < s->nkeys; i++) {
		if (find_column(header, n, s->keys[i].column, &a->key_cols[i]) < 0)
			return missing(header, n, where, s->keys[i].column, "key", NULL, s->table);
		if (a->key_cols[i] > need)
			need = a->key_cols[i];
	}
	for (size_t j = 0; j < a->nnum; j++) {
		if (find_column(header, n, a->num_names[j], &a->num_cols[j]) < 0) {
			for (size_t i = 0; i < s->nfeatures; i++)
				if (s->features[i].column && a->feature_num[i] == j &&
				    s->features[i].kind != FF_COUNT_ROWS && s->features[i].kind < FF_IS_WEEKEND)
					return missing(header, n, where, a->num_names[j], "feature",
						       s->features[i].name, s->table);
		}
		if (a->num_cols[j] > need)
			need = a->num_cols[j];
	}
	a->min_fields = need + 1;
	return 0;
}

const size_t *ff_agg_key_columns(const struct ff_agg *a) { return a->key_cols; }

int ff_agg_stage(struct ff_agg *a, const struct ff_field *row, size_t n, char *msg,
		 size_t msgsize, const char **reason)
{
	const struct ff_spec *s = a->spec;
	if (n < a->min_fields) {
		*reason = "wrong field count";
		snprintf(msg, msgsize, "%zu fields, expected at least %zu", n, a->min_fields);
		return -1;
	}
	const struct ff_field *tf = &row[a->time_col];
	if (!tf->ptr) {
		*reason = "empty time";
		snprintf(msg, msgsize, "column '%s': empty time", s->time_column);
		return -1;
	}
	int trc = ff_time_parse_input(tf->ptr, tf->len, s->input_time_format, s->input_timezone, &a->st_time);
	if (trc == FF_TIME_GAP) {
		*reason = "bad timestamp";
		snprintf(msg, msgsize, "column '%s': '%.64s' does not exist in %s (the clocks skipped it)",
			 s->time_column, tf->ptr, s->input_timezone);
		return -1;
	}
	if (trc < 0) {
		*reason = "bad timestamp";
		snprintf(msg, msgsize, "column '%s': bad timestamp '%.64s'", s->time_column, tf->ptr);
		return -1;
	}
	/* Key tuple, joined by NUL so that bytewise order is tuple order. */
	size_t klen = 0;
	for (size_t i = 0; i < s->nkeys; i++) {
		const struct ff_field *kf = &row[a->key_cols[i]];
		if (!kf->ptr) {
			*reason = "empty key";
			snprintf(msg, msgsize, "column '%s': empty key", s->keys[i].column);
			return -1;
		}
		klen += kf->len + 1;
	}
	for (size_t j = 0; j < a->nnum; j++) {
		const struct ff_field *f = &row[a->num_cols[j]];
		a->st_null[j] = f->ptr == NULL;
		if (f->ptr && (ff_parse_double(f->ptr, f->len, &a->st_nums[j]) < 0 ||
			       !isfinite(a->st_nums[j]))) {
			*reason = "bad number";
			snprintf(msg, msgsize, "column '%s': bad number '%.64s'", a->num_names[j], f->ptr);
			return -1;
		}
	}
	int64_t kmin = k_lowest(a, a->st_time);
	int64_t kmax = ff_floor_div(a->st_time, s->slide);
	if (a->opt.has_start) {
		int64_t lo = ff_floor_div(a->opt.start - s->window, s->slide) + 1;
		if (kmin < lo)
			kmin = lo;
	}
	if (a->opt.has_end) {
		int64_t hi = ff_floor_div(a->opt.end - s->window, s->slide);
		if (kmax > hi)
			kmax = hi;
	}
	a->st_kmin = kmin;
	a->st_kmax = kmax;
	if (kmin <= kmax) {
		ff_grow(&a->key_scratch, &a->key_scratch_cap, klen, 1);
		size_t off = 0;
		for (size_t i = 0; i < s->nkeys; i++) {
			const struct ff_field *kf = &row[a->key_cols[i]];
			memcpy(a->key_scratch + off, kf->ptr, kf->len);
			off += kf->len;
			if (i + 1 < s->nkeys)
				a->key_scratch[off++] = '\0';
		}
		a->st_key = ff_keyset_intern(a->keys, a->key_scratch, off);
	}
	return 0;
}

/* ---- the map of open buckets ---- */

static size_t map_slot(const struct ff_agg *a, int64_t k)
{
	return (size_t)(((uint64_t)k * 0x9E3779B97F4A7C15ull) >> 20) & (a->map_cap - 1);
}

static void map_put(struct ff_agg *a, struct bucket *b)
{
	size_t j = map_slot(a, b->k);
	while (a->map[j])
		j = (j + 1) & (a->map_cap - 1);
	a->map[j] = b;
}

static void map_rebuild(struct ff_agg *a)
{
	size_t cap = 64;
	while (cap < a->nopen * 2 + 2)
		cap *= 2;
	free(a->map);
	a->map = ff_xcalloc(cap, sizeof *a->map);
	a->map_cap = cap;
	for (size_t i = 0; i < a->nopen; i++)
		map_put(a, a->open[i]);
}

/* Linear probing: after a removal, move up the entries of the cluster that
 * the hole would cut off from their slot. */
static void map_remove(struct ff_agg *a, const struct bucket *b)
{
	size_t mask = a->map_cap - 1, i = map_slot(a, b->k);
	while (a->map[i] != b)
		i = (i + 1) & mask;
	a->map[i] = NULL;
	for (size_t j = (i + 1) & mask; a->map[j]; j = (j + 1) & mask) {
		size_t home = map_slot(a, a->map[j]->k);
		/* Keep map[j] where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		a->map[i] = a->map[j];
		a->map[j] = NULL;
		i = j;
	}
}

static void min_ontime(struct ff_agg *a)
{
	a->k_min_ontime = INT64_MAX;
	for (size_t i = 0; i < a->nontime; i++)
		if (a->ontime[i]->k < a->k_min_ontime)
			a->k_min_ontime = a->ontime[i]->k;
}

/* Forget an open bucket (the caller frees it). */
static void bucket_remove(struct ff_agg *a, struct bucket *b)
{
	map_remove(a, b);
	a->open[b->pos] = a->open[--a->nopen];
	a->open[b->pos]->pos = b->pos;
	if (!b->again) {
		a->ontime[b->opos] = a->ontime[--a->nontime];
		a->ontime[b->opos]->opos = b->opos;
	}
	if (a->last == b)
		a->last = NULL;
}

static struct bucket *bucket_for(struct ff_agg *a, int64_t k)
{
	if (a->last && a->last->k == k)
		return a->last;
	if (a->map_cap) {
		for (size_t j = map_slot(a, k); a->map[j]; j = (j + 1) & (a->map_cap - 1))
			if (a->map[j]->k == k)
				return a->last = a->map[j];
	}
	struct bucket *b = ff_xcalloc(1, sizeof *b);
	b->k = k;
	b->again = k <= a->k_emitted;
	ff_grow(&a->open, &a->open_cap, a->nopen + 1, sizeof *a->open);
	b->pos = a->nopen;
	a->open[a->nopen++] = b;
	if (!b->again) {
		ff_grow(&a->ontime, &a->ontime_cap, a->nontime + 1, sizeof *a->ontime);
		b->opos = a->nontime;
		a->ontime[a->nontime++] = b;
		if (k < a->k_min_ontime)
			a->k_min_ontime = k;
	}
	if ((a->nopen + 1) * 2 > a->map_cap)
		map_rebuild(a);
	else
		map_put(a, b);
	return a->last = b;
}

static void state_init(const struct ff_agg *a, unsigned char *st)
{
	memset(st, 0, a->state_size);
	struct acc *acc = (struct acc *)(st + sizeof(int64_t));
	for (size_t c = 0; c < a->nnum; c++) {
		acc[c].min = INFINITY;
		acc[c].max = -INFINITY;
	}
}

/* Hash the bucket's key ids into its slots (slots_cap of them). */
static void rehash_slots(struct bucket *b)
{
	uint32_t mask = b->slots_cap - 1;
	memset(b->slots, 0, b->slots_cap * sizeof *b->slots);
	for (uint32_t i = 0; i < b->nstates; i++) {
		uint32_t j = (b->ids[i] * 2654435761u) & mask;
		while (b->slots[j])
			j = (j + 1) & mask;
		b->slots[j] = i + 1;
	}
}

static unsigned char *state_for(struct ff_agg *a, struct bucket *b, uint32_t key)
{
	if (!b->slots || (b->nstates + 1) * 2 > b->slots_cap) {
		free(b->slots);
		b->slots_cap = b->slots_cap ? b->slots_cap * 2 : 16;
		b->slots = ff_xmalloc(b->slots_cap * sizeof *b->slots);
		rehash_slots(b);
	}
	uint32_t mask = b->slots_cap - 1;
	uint32_t j = (key * 2654435761u) & mask;
	for (; b->slots[j]; j = (j + 1) & mask) {
		uint32_t i = b->slots[j] - 1;
		if (b->ids[i] == key)
			return b->states + (size_t)i * a->state_size;
	}
	if (b->nstates == b->states_cap) {
		b->states_cap = b->states_cap ? b->states_cap * 2 : 8;
		b->ids = ff_xrealloc(b->ids, b->states_cap * sizeof *b->ids);
		b->states = ff_xrealloc(b->states, b->states_cap * a->state_size);
	}
	uint32_t i = b->nstates++;
	a->nstates++;
	b->slots[j] = i + 1;
	b->ids[i] = key;
	unsigned char *st = b->states + (size_t)i * a->state_size;
	state_init(a, st);
	return st;
}

/* ---- double-double arithmetic: exact sums of ordinary data ---- */

static void two_sum(double a, double b, double *s, double *e)
{
	*s = a + b;
	double bb = *s - a;
	*e = (a - (*s - bb)) + (b - bb);
}

static void fast_two_sum(double a, double b, double *s, double *e)
{
	*s = a + b;
	*e = b - (*s - a);
}

static void dd_add(double *hi, double *lo, double bhi, double blo)
{
	double s, e, t, f;
	two_sum(*hi, bhi, &s, &e);
	two_sum(*lo, blo, &t, &f);
	e += t;
	fast_two_sum(s, e, &s, &e);
	e += f;
	fast_two_sum(s, e, hi, lo);
}

static void accumulate(struct ff_agg *a, unsigned char *st)
{
	(*(int64_t *)st)++;
	struct acc *acc = (struct acc *)(st + sizeof(int64_t));
	for (size_t c = 0; c < a->nnum; c++) {
		if (a->st_null[c])
			continue;
		double v = a->st_nums[c];
		struct acc *x = &acc[c];
		unsigned need = a->num_need[c];
		x->n++;
		if (need & NEED_SUM)
			dd_add(&x->sum_hi, &x->sum_lo, v, 0);
		if (need & NEED_SQ) {
			double p = v * v;
			dd_add(&x->sq_hi, &x->sq_lo, p, fma(v, v, -p));
		}
		if (v < x->min)
			x->min = v;
		if (v > x->max)
			x->max = v;
	}
}

void ff_agg_state_merge(const struct ff_agg *a, unsigned char *dst, const unsigned char *src)
{
	*(int64_t *)dst += *(const int64_t *)src;
	struct acc *d = (struct acc *)(dst + sizeof(int64_t));
	const struct acc *s = (const struct acc *)(src + sizeof(int64_t));
	for (size_t c = 0; c < a->nnum; c++) {
		if (!s[c].n)
			continue;
		d[c].n += s[c].n;
		dd_add(&d[c].sum_hi, &d[c].sum_lo, s[c].sum_hi, s[c].sum_lo);
		dd_add(&d[c].sq_hi, &d[c].sq_lo, s[c].sq_hi, s[c].sq_lo);
		if (s[c].min < d[c].min)
			d[c].min = s[c].min;
		if (s[c].max > d[c].max)
			d[c].max = s[c].max;
	}
}

size_t ff_agg_state_size(const struct ff_agg *a) { return a->state_size; }

/* ---- the stored form: varints and little-endian doubles, only what the
 * spec's features need (ff-store(5)) ---- */

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		unsigned char c = *(*p)++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

static size_t put_double(unsigned char *p, double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
	return 8;
}

static int get_double(const unsigned char **p, const unsigned char *end, double *d)
{
	if (end - *p < 8)
		return -1;
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)(*p)[i] << (8 * i);
	memcpy(d, &u, sizeof u);
	*p += 8;
	return 0;
}

size_t ff_agg_state_encode(const struct ff_agg *a, const unsigned char *state, unsigned char *buf)
{
	size_t n = a->need_rows ? put_varint(buf, (uint64_t)*(const int64_t *)state) : 0;
	const struct acc *acc = (const struct acc *)(state + sizeof(int64_t));
	for (size_t c = 0; c < a->nnum; c++) {
		const struct acc *x = &acc[c];
		unsigned need = a->num_need[c];
		n += put_varint(buf + n, (uint64_t)x->n);
		if (!x->n)
			continue;
		/* A low part is stored only where it is not zero: flag bits 1, 2. */
		unsigned flags = (x->sum_lo != 0) | (x->sq_lo != 0) << 1;
		buf[n++] = (unsigned char)flags;
		if (need & NEED_SUM) {
			n += put_double(buf + n, x->sum_hi);
			if (flags & 1)
				n += put_double(buf + n, x->sum_lo);
		}
		if (need & NEED_SQ) {
			n += put_double(buf + n, x->sq_hi);
			if (flags & 2)
				n += put_double(buf + n, x->sq_lo);
		}
		if (need & NEED_MIN)
			n += put_double(buf + n, x->min);
		if (need & NEED_MAX)
			n += put_double(buf + n, x->max);
	}
	return n;
}

int ff_agg_state_decode(const struct ff_agg *a, const void *buf, size_t len, unsigned char *state)
{
	const unsigned char *p = buf, *end = p + len;
	uint64_t v;
	state_init(a, state);
	if (a->need_rows) {
		if (get_varint(&p, end, &v) < 0 || v > INT64_MAX)
			return -1;
		*(int64_t *)state = (int64_t)v;
	}
	struct acc *acc = (struct acc *)(state + sizeof(int64_t));
	for (size_t c = 0; c < a->nnum; c++) {
		struct acc *x = &acc[c];
		unsigned need = a->num_need[c];
		if (get_varint(&p, end, &v) < 0 || v > INT64_MAX)
			return -1;
		x->n = (int64_t)v;
		if (!x->n)
			continue;
		if (p == end)
			return -1;
		unsigned flags = *p++;
		if (flags > 3)
			return -1;
		if (need & NEED_SUM) {
			if (get_double(&p, end, &x->sum_hi) < 0 ||
			    ((flags & 1) && get_double(&p, end, &x->sum_lo) < 0))
				return -1;
		}
		if (need & NEED_SQ) {
			if (get_double(&p, end, &x->sq_hi) < 0 ||
			    ((flags & 2) && get_double(&p, end, &x->sq_lo) < 0))
				return -1;
		}
		if (((need & NEED_MIN) && get_double(&p, end, &x->min) < 0) ||
		    ((need & NEED_MAX) && get_double(&p, end, &x->max) < 0))
			return -1;
	}
	return p == end ? 0 : -1;
}

/* What the features say of the state: rows from count(*), n from count(col)
 * or else from count(*), the sum from sum(col) or else mean times n, min and
 * max from theirs. A guess that ff_agg_state_derivable checks. */
int ff_agg_state_derive(const struct ff_agg *a, const struct ff_value *values, unsigned char *state)
{
	const struct ff_spec *s = a->spec;
	state_init(a, state);
	int64_t rows = -1;
	for (size_t f = 0; f < s->nfeatures; f++)
		if (s->features[f].kind == FF_COUNT_ROWS)
			rows = values[f].i;
	if (a->need_rows)
		*(int64_t *)state = rows;
	struct acc *acc = (struct acc *)(state + sizeof(int64_t));
	for (size_t j = 0; j < a->nnum; j++) {
		struct acc *x = &acc[j];
		const struct ff_value *sum = NULL, *mean = NULL;
		x->n = -1;
		for (size_t f = 0; f < s->nfeatures; f++) {
			const struct ff_feature *ft = &s->features[f];
			if (ft->kind == FF_COUNT_ROWS || ft->kind >= FF_IS_WEEKEND || a->feature_num[f] != j)
				continue;
			const struct ff_value *v = &values[f];
			switch (ft->kind) {
			case FF_COUNT: x->n = v->i; break;
			case FF_SUM: sum = v; break;
			case FF_MEAN: mean = v; break;
			case FF_MIN: if (!v->null) x->min = v->d; break;
			case FF_MAX: if (!v->null) x->max = v->d; break;
			case FF_STDDEV: case FF_VARIANCE: return -1;
			default: break;
			}
		}
		if (x->n < 0)
			x->n = rows;
		if (x->n < 0)
			return -1;
		if (sum && !sum->null)
			x->sum_hi = sum->d;
		else if (mean && !mean->null)
			x->sum_hi = mean->d * (double)x->n;
	}
	return 0;
}

int ff_agg_state_derivable(const struct ff_agg *a, const unsigned char *state, const struct ff_value *values,
			   unsigned char *scratch)
{
	if (ff_agg_state_derive(a, values, scratch) < 0)
		return 0;
	unsigned char x[512], y[512];
	if (a->state_size + 16 > sizeof x)
		return 0;
	size_t nx = ff_agg_state_encode(a, state, x), ny = ff_agg_state_encode(a, scratch, y);
	return nx == ny && memcmp(x, y, nx) == 0;
}

/* Sample variance from n, sum S and sum of squares Q kept as double-doubles:
 * (Q - S*S/n) / (n - 1), the products and the difference in double-double. */
static double variance(const struct acc *x)
{
	double n = (double)x->n;
	double p = x->sum_hi * x->sum_hi;
	double e = fma(x->sum_hi, x->sum_hi, -p) + 2 * x->sum_hi * x->sum_lo;
	fast_two_sum(p, e, &p, &e);
	double q1 = p / n;
	double r = fma(-q1, n, p) + e;
	double q2 = r / n;
	fast_two_sum(q1, q2, &q1, &q2);
	double dhi = x->sq_hi, dlo = x->sq_lo;
	dd_add(&dhi, &dlo, -q1, -q2);
	double v = (dhi + dlo) / (n - 1);
	return v > 0 ? v : 0;
}

void ff_agg_values(const struct ff_agg *a, const unsigned char *state, int64_t window_end,
		   struct ff_value *values)
{
	const struct ff_spec *s = a->spec;
	int64_t rows = *(const int64_t *)state;
	const struct acc *acc = (const struct acc *)(state + sizeof(int64_t));
	struct ff_local_time lt_end, lt_start;
	if (a->calendar) {
		ff_time_local(s->timezone, window_end, &lt_end);
		ff_time_local(s->timezone, window_end - s->window, &lt_start);
	}
	for (size_t f = 0; f < s->nfeatures; f++) {
		const struct ff_feature *ft = &s->features[f];
		struct ff_value *v = &values[f];
		const struct acc *x = &acc[a->feature_num[f]];
		const struct ff_local_time *lt =
			ft->column && strcmp(ft->column, "window_start") == 0 ? &lt_start : &lt_end;
		v->null = 0;
		v->i = 0;
		v->d = 0;
		switch (ft->kind) {
		case FF_COUNT_ROWS: v->i = rows; break;
		case FF_COUNT: v->i = x->n; break;
		case FF_SUM: v->null = x->n == 0; v->d = x->sum_hi; break;
		case FF_MEAN: v->null = x->n == 0; v->d = x->n ? x->sum_hi / (double)x->n : 0; break;
		case FF_MIN: v->null = x->n == 0; v->d = x->n ? x->min : 0; break;
		case FF_MAX: v->null = x->n == 0; v->d = x->n ? x->max : 0; break;
		case FF_VARIANCE: v->null = x->n < 2; v->d = x->n < 2 ? 0 : variance(x); break;
		case FF_STDDEV: v->null = x->n < 2; v->d = x->n < 2 ? 0 : sqrt(variance(x)); break;
		case FF_IS_WEEKEND: v->i = lt->day_of_week >= 6; break;
		case FF_HOUR: v->i = lt->hour; break;
		case FF_DAY_OF_WEEK: v->i = lt->day_of_week; break;
		}
	}
}

/* ---- handing windows out ---- */

static const struct ff_agg *sort_agg;
static const struct bucket *sort_bucket;

static int by_key(const void *pa, const void *pb)
{
	return ff_keyset_compare(sort_agg->keys, sort_bucket->ids[*(const uint32_t *)pa],
				 sort_bucket->ids[*(const uint32_t *)pb]);
}

static int by_u64(const void *pa, const void *pb)
{
	uint64_t x = *(const uint64_t *)pa, y = *(const uint64_t *)pb;
	return (x > y) - (x < y);
}

static int by_id(const void *pa, const void *pb)
{
	return ff_keyset_compare(sort_agg->keys, *(const uint32_t *)pa, *(const uint32_t *)pb);
}

static int by_bucket_k(const void *pa, const void *pb)
{
	int64_t x = (*(struct bucket *const *)pa)->k, y = (*(struct bucket *const *)pb)->k;
	return (x > y) - (x < y);
}

/* Put the bucket's states in key byte order into a->order. With a few
 * thousand keys (zips), rank every key once and sort integers; with many
 * keys (new ones keep coming) compare the bytes. */
static void order_by_key(struct ff_agg *a, struct bucket *b)
{
	ff_grow(&a->order, &a->order_cap, b->nstates, sizeof *a->order);
	sort_agg = a;
	sort_bucket = b;
	/* Ranking every key pays when the keys are few and come back (zips);
	 * when new keys keep coming, sort the bucket's own. */
	uint32_t count = ff_keyset_count(a->keys);
	if (count > 65536 || (a->nranked != count && count > 4 * b->nstates)) {
		for (uint32_t i = 0; i < b->nstates; i++)
			a->order[i] = i;
		qsort(a->order, b->nstates, sizeof *a->order, by_key);
		return;
	}
	uint32_t nkeys = ff_keyset_count(a->keys);
	if (a->nranked != nkeys) {
		uint32_t *ids = ff_xmalloc(nkeys * sizeof *ids);
		for (uint32_t i = 0; i < nkeys; i++)
			ids[i] = i;
		qsort(ids, nkeys, sizeof *ids, by_id);
		a->rank = ff_xrealloc(a->rank, nkeys * sizeof *a->rank);
		for (uint32_t r = 0; r < nkeys; r++)
			a->rank[ids[r]] = r;
		free(ids);
		a->by_rank = ff_xrealloc(a->by_rank, nkeys * sizeof *a->by_rank);
		memset(a->by_rank, 0xff, nkeys * sizeof *a->by_rank);
		a->nranked = nkeys;
	}
	if (nkeys <= 16 * (size_t)b->nstates) {
		/* Most keys are in the bucket (zips): place each state at its
		 * rank and read the ranks in order, no comparisons. */
		for (uint32_t i = 0; i < b->nstates; i++)
			a->by_rank[a->rank[b->ids[i]]] = i;
		uint32_t o = 0;
		for (uint32_t r = 0; r < nkeys; r++)
			if (a->by_rank[r] != UINT32_MAX) {
				a->order[o++] = a->by_rank[r];
				a->by_rank[r] = UINT32_MAX;
			}
		return;
	}
	ff_grow(&a->ranked_order, &a->ranked_order_cap, b->nstates, sizeof *a->ranked_order);
	for (uint32_t i = 0; i < b->nstates; i++)
		a->ranked_order[i] = (uint64_t)a->rank[b->ids[i]] << 32 | i;
	qsort(a->ranked_order, b->nstates, sizeof *a->ranked_order, by_u64);
	for (uint32_t i = 0; i < b->nstates; i++)
		a->order[i] = (uint32_t)a->ranked_order[i];
}

static int emit_bucket(struct ff_agg *a, struct bucket *b)
{
	const struct ff_spec *s = a->spec;
	int rc = 0;
	if (b->nstates == 0)
		return 0;
	if (b->k > a->k_emitted)
		a->k_emitted = b->k;
	order_by_key(a, b);
	struct ff_agg_row row = {a->out_keys, a->out_key_lens, b->k * s->slide + s->window, NULL, b->again};
	for (uint32_t oi = 0; oi < b->nstates && rc == 0; oi++) {
		uint32_t i = a->order[oi];
		size_t klen;
		const char *kp = ff_keyset_bytes(a->keys, b->ids[i], &klen);
		const char *kend = kp + klen;
		for (size_t k = 0; k < s->nkeys; k++) {
			const char *z = k + 1 < s->nkeys ? memchr(kp, '\0', (size_t)(kend - kp)) : kend;
			a->out_keys[k] = kp;
			a->out_key_lens[k] = (size_t)(z - kp);
			kp = z + 1;
		}
		row.state = b->states + (size_t)i * a->state_size;
		rc = a->emit(a->ctx, &row);
	}
	return rc;
}

/* Hand out the open buckets that pick() chooses, among the on-time ones
 * only or all, in order of window start, and forget them. */
static int close_where(struct ff_agg *a, int ontime_only,
		       int (*pick)(const struct ff_agg *, const struct bucket *, int64_t), int64_t arg)
{
	struct bucket **list = ontime_only ? a->ontime : a->open;
	size_t n = ontime_only ? a->nontime : a->nopen, nclose = 0;
	for (size_t i = 0; i < n; i++)
		if (pick(a, list[i], arg)) {
			ff_grow(&a->closing, &a->closing_cap, nclose + 1, sizeof *a->closing);
			a->closing[nclose++] = list[i];
		}
	if (!nclose)
		return 0;
	for (size_t i = 0; i < nclose; i++)
		bucket_remove(a, a->closing[i]);
	min_ontime(a);
	qsort(a->closing, nclose, sizeof *a->closing, by_bucket_k);
	int rc = 0;
	for (size_t i = 0; i < nclose; i++) {
		if (rc == 0)
			rc = emit_bucket(a, a->closing[i]);
		a->nstates -= a->closing[i]->nstates;
		bucket_free(a->closing[i]);
	}
	return rc;
}

static int ontime_through(const struct ff_agg *a, const struct bucket *b, int64_t limit)
{
	(void)a;
	return !b->again && b->k <= limit;
}

static int any_through(const struct ff_agg *a, const struct bucket *b, int64_t limit)
{
	(void)a;
	return b->k <= limit;
}

static int is_again(const struct ff_agg *a, const struct bucket *b, int64_t unused)
{
	(void)a;
	(void)unused;
	return b->again;
}

/* Over the memory budget: hand out the late buckets, then the oldest until
 * half the budget is free. */
static int relieve_memory(struct ff_agg *a)
{
	int rc = close_where(a, 0, is_again, 0);
	if (rc)
		return rc;
	size_t budget = a->opt.memory / 2;
	while (rc == 0 && a->nopen && a->nstates * a->state_size > budget) {
		int64_t k = INT64_MAX;
		for (size_t i = 0; i < a->nopen; i++)
			if (a->open[i]->k < k)
				k = a->open[i]->k;
		rc = close_where(a, 0, any_through, k);
	}
	return rc;
}

/* Keys are interned for the open windows; once most interned keys have no
 * open window left (new keys keep coming: trips, users), intern again only
 * those that have, so that memory follows the open windows, not every key
 * ever seen. Amortised: it runs after at least as many new keys. */
static void forget_closed_keys(struct ff_agg *a)
{
	uint32_t nkeys = ff_keyset_count(a->keys);
	size_t live_bound = a->nstates > 65536 ? a->nstates : 65536;
	if (nkeys < 2 * live_bound)
		return;
	struct ff_keyset *keep = ff_keyset_new();
	uint32_t *map = ff_xmalloc((size_t)nkeys * sizeof *map);
	memset(map, 0xff, (size_t)nkeys * sizeof *map);
	for (size_t i = 0; i < a->nopen; i++) {
		struct bucket *b = a->open[i];
		for (uint32_t j = 0; j < b->nstates; j++) {
			uint32_t id = b->ids[j];
			if (map[id] == UINT32_MAX) {
				size_t len;
				const char *bytes = ff_keyset_bytes(a->keys, id, &len);
				map[id] = ff_keyset_intern(keep, bytes, len);
			}
			b->ids[j] = map[id];
		}
		/* The slots hash the ids: rebuild them. */
		if (b->slots)
			rehash_slots(b);
	}
	free(map);
	ff_keyset_free(a->keys);
	a->keys = keep;
	a->nranked = 0; /* key ranks are by id */
}

int ff_agg_commit(struct ff_agg *a)
{
	const struct ff_spec *s = a->spec;
	if (a->st_kmin > a->st_kmax)
		return 0;
	if (a->st_time > a->max_time) {
		a->max_time = a->st_time;
		if (a->opt.lateness >= 0) {
			int64_t limit = ff_floor_div(a->max_time - a->opt.lateness - s->window, s->slide);
			if (limit >= a->k_min_ontime) {
				int rc = close_where(a, 1, ontime_through, limit);
				if (rc)
					return rc;
			}
		}
	}
	int late = 0;
	for (int64_t k = a->st_kmin; k <= a->st_kmax; k++) {
		struct bucket *b = bucket_for(a, k);
		late |= b->again;
		accumulate(a, state_for(a, b, a->st_key));
	}
	a->late_rows += late;
	int rc = a->nstates * a->state_size > a->opt.memory ? relieve_memory(a) : 0;
	if (rc == 0)
		forget_closed_keys(a);
	return rc;
}

int ff_agg_finish(struct ff_agg *a)
{
	return close_where(a, 0, any_through, INT64_MAX);
}

size_t ff_agg_open_windows(const struct ff_agg *a) { return a->nstates; }
int64_t ff_agg_late_rows(const struct ff_agg *a) { return a->late_rows; }
size_t ff_agg_keys(const struct ff_agg *a) { return ff_keyset_count(a->keys); }
