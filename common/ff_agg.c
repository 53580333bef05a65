#include "ff_agg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_csv.h"
#include "ff_keyset.h"
#include "ff_time.h"
#include "ff_util.h"

/* Per numeric input column, each window keeps: */
struct acc {
	int64_t n;        /* non-NULL values */
	double sum, min, max;
	double mean, m2;  /* Welford, only when a stddev or variance needs it */
};

/* An open window start (bucket): the states of the keys seen in it. */
struct bucket {
	int64_t k;          /* window start = k * slide */
	int used;
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
	int *num_welford;
	size_t *feature_num;  /* per feature: index into num columns */
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

	/* windows */
	size_t state_size;
	struct bucket *ring;   /* indexed by k & (ring_cap - 1) */
	size_t ring_cap;
	int64_t k_closed;      /* every window start <= this is closed */
	int64_t k_lo, k_hi;    /* open window starts lie in [k_lo, k_hi] */
	int any_open;
	int64_t max_time;
	const char *max_input; /* where the latest time was read */
	long max_line;

	/* emission scratch */
	uint32_t *order;
	size_t order_cap;
	uint64_t *ranked_order;  /* rank << 32 | state index */
	size_t ranked_order_cap;
	uint32_t *rank;          /* byte order of each key among all keys */
	uint32_t nranked;        /* keys when rank was computed */
	struct ff_value *values;
	const char **out_keys;
	size_t *out_key_lens;
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
	a->emit = emit;
	a->ctx = ctx;
	a->key_cols = ff_xcalloc(spec->nkeys, sizeof *a->key_cols);
	a->feature_num = ff_xcalloc(spec->nfeatures, sizeof *a->feature_num);
	a->num_cols = ff_xcalloc(spec->nfeatures, sizeof *a->num_cols);
	a->num_welford = ff_xcalloc(spec->nfeatures, sizeof *a->num_welford);
	a->st_nums = ff_xcalloc(spec->nfeatures, sizeof *a->st_nums);
	a->st_null = ff_xcalloc(spec->nfeatures, sizeof *a->st_null);
	a->values = ff_xcalloc(spec->nfeatures, sizeof *a->values);
	a->out_keys = ff_xcalloc(spec->nkeys, sizeof *a->out_keys);
	a->out_key_lens = ff_xcalloc(spec->nkeys, sizeof *a->out_key_lens);
	a->k_closed = INT64_MIN;
	a->max_time = INT64_MIN;
	a->ring_cap = 64;
	a->ring = ff_xcalloc(a->ring_cap, sizeof *a->ring);
	a->keys = ff_keyset_new();
	return a;
}

static void bucket_release(struct bucket *b)
{
	free(b->slots);
	free(b->ids);
	free(b->states);
}

void ff_agg_free(struct ff_agg *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ring_cap; i++)
		bucket_release(&a->ring[i]);
	free(a->ring);
	free(a->key_cols);
	free(a->feature_num);
	free(a->num_cols);
	free(a->num_welford);
	free(a->st_nums);
	free(a->st_null);
	free(a->values);
	free(a->out_keys);
	free(a->out_key_lens);
	ff_keyset_free(a->keys);
	free(a->key_scratch);
	free(a->order);
	free(a->ranked_order);
	free(a->rank);
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
	a->nnum = 0;
	for (size_t i = 0; i < s->nfeatures; i++) {
		const struct ff_feature *f = &s->features[i];
		if (f->kind == FF_COUNT_ROWS || f->kind >= FF_IS_WEEKEND)
			continue;
		size_t col;
		if (find_column(header, n, f->column, &col) < 0)
			return missing(header, n, where, f->column, "feature", f->name, s->table);
		if (col > need)
			need = col;
		size_t j = 0;
		while (j < a->nnum && a->num_cols[j] != col)
			j++;
		if (j == a->nnum)
			a->num_cols[a->nnum++] = col;
		a->feature_num[i] = j;
		if (f->kind == FF_STDDEV || f->kind == FF_VARIANCE)
			a->num_welford[j] = 1;
	}
	a->min_fields = need + 1;
	a->state_size = sizeof(int64_t) + a->nnum * sizeof(struct acc);
	return 0;
}

static const char *column_name(const struct ff_agg *a, size_t col)
{
	if (col == a->time_col)
		return a->spec->time_column;
	for (size_t i = 0; i < a->spec->nkeys; i++)
		if (a->key_cols[i] == col)
			return a->spec->keys[i].column;
	for (size_t i = 0; i < a->spec->nfeatures; i++)
		if (a->spec->features[i].column && a->num_cols[a->feature_num[i]] == col &&
		    a->spec->features[i].kind < FF_IS_WEEKEND && a->spec->features[i].kind != FF_COUNT_ROWS)
			return a->spec->features[i].column;
	return "?";
}

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
	if (ff_time_parse(tf->ptr, tf->len, 0, &a->st_time) < 0) {
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
		if (f->ptr && ff_parse_double(f->ptr, f->len, &a->st_nums[j]) < 0) {
			*reason = "bad number";
			snprintf(msg, msgsize, "column '%s': bad number '%.64s'",
				 column_name(a, a->num_cols[j]), f->ptr);
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
	if (kmin <= kmax && kmin <= a->k_closed) {
		char t[32], w[32], l[32];
		ff_time_format(a->st_time, t);
		ff_time_format(a->max_time, w);
		ff_duration_format(a->opt.lateness, l);
		*reason = "late row";
		snprintf(msg, msgsize,
			 "column '%s': time %s is more than the allowed lateness (%s) behind %s "
			 "seen at %s:%ld, and its windows are closed; raise --lateness or sort the input",
			 s->time_column, t, l, w, a->max_input ? a->max_input : "?", a->max_line);
		return -1;
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

static struct bucket *bucket_for(struct ff_agg *a, int64_t k)
{
	int64_t lo = a->any_open && a->k_lo < k ? a->k_lo : k;
	int64_t hi = a->any_open && a->k_hi > k ? a->k_hi : k;
	/* The ring must hold every open start at once: grow it when k is too far off. */
	while ((uint64_t)(hi - lo) >= a->ring_cap) {
		size_t cap = a->ring_cap * 2;
		struct bucket *ring = ff_xcalloc(cap, sizeof *ring);
		for (size_t i = 0; i < a->ring_cap; i++) {
			struct bucket *b = &a->ring[i];
			if (b->used)
				ring[(uint64_t)b->k & (cap - 1)] = *b;
			else
				bucket_release(b);
		}
		free(a->ring);
		a->ring = ring;
		a->ring_cap = cap;
	}
	a->k_lo = lo;
	a->k_hi = hi;
	a->any_open = 1;
	struct bucket *b = &a->ring[(uint64_t)k & (a->ring_cap - 1)];
	if (!b->used) {
		b->used = 1;
		b->k = k;
		b->nstates = 0;
		if (b->slots)
			memset(b->slots, 0, b->slots_cap * sizeof *b->slots);
	}
	return b;
}

static unsigned char *state_for(struct ff_agg *a, struct bucket *b, uint32_t key)
{
	if (!b->slots || (b->nstates + 1) * 2 > b->slots_cap) {
		uint32_t cap = b->slots_cap ? b->slots_cap * 2 : 16;
		uint32_t *slots = ff_xcalloc(cap, sizeof *slots);
		for (uint32_t i = 0; i < b->nstates; i++) {
			uint32_t j = (b->ids[i] * 2654435761u) & (cap - 1);
			while (slots[j])
				j = (j + 1) & (cap - 1);
			slots[j] = i + 1;
		}
		free(b->slots);
		b->slots = slots;
		b->slots_cap = cap;
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
	b->slots[j] = i + 1;
	b->ids[i] = key;
	unsigned char *st = b->states + (size_t)i * a->state_size;
	memset(st, 0, a->state_size);
	struct acc *acc = (struct acc *)(st + sizeof(int64_t));
	for (size_t c = 0; c < a->nnum; c++) {
		acc[c].min = INFINITY;
		acc[c].max = -INFINITY;
	}
	return st;
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
		x->n++;
		x->sum += v;
		if (v < x->min)
			x->min = v;
		if (v > x->max)
			x->max = v;
		if (a->num_welford[c]) {
			double d = v - x->mean;
			x->mean += d / (double)x->n;
			x->m2 += d * (v - x->mean);
		}
	}
}

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

/* Put the bucket's states in key byte order into a->order. With a few
 * thousand keys (zips), rank every key once and sort integers; with many
 * keys (new ones keep coming) compare the bytes. */
static void order_by_key(struct ff_agg *a, struct bucket *b)
{
	ff_grow(&a->order, &a->order_cap, b->nstates, sizeof *a->order);
	sort_agg = a;
	sort_bucket = b;
	if (ff_keyset_count(a->keys) > 65536) {
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
		a->nranked = nkeys;
	}
	ff_grow(&a->ranked_order, &a->ranked_order_cap, b->nstates, sizeof *a->ranked_order);
	for (uint32_t i = 0; i < b->nstates; i++)
		a->ranked_order[i] = (uint64_t)a->rank[b->ids[i]] << 32 | i;
	qsort(a->ranked_order, b->nstates, sizeof *a->ranked_order, by_u64);
	for (uint32_t i = 0; i < b->nstates; i++)
		a->order[i] = (uint32_t)a->ranked_order[i];
}

static int close_bucket(struct ff_agg *a, struct bucket *b)
{
	const struct ff_spec *s = a->spec;
	int rc = 0;
	b->used = 0;
	if (b->nstates == 0)
		return 0;
	int64_t start = b->k * s->slide;
	int64_t end = start + s->window;
	char partition[8];
	ff_time_yyyy_mm(end, partition);
	struct ff_local_time lt_end, lt_start;
	int have_local = 0;
	for (size_t f = 0; f < s->nfeatures; f++)
		if (s->features[f].kind >= FF_IS_WEEKEND)
			have_local = 1;
	if (have_local) {
		ff_time_local(s->timezone, end, &lt_end);
		ff_time_local(s->timezone, start, &lt_start);
	}

	order_by_key(a, b);

	struct ff_agg_row row = {a->out_keys, a->out_key_lens, end, partition, a->values};
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
		const unsigned char *st = b->states + (size_t)i * a->state_size;
		int64_t rows = *(const int64_t *)st;
		const struct acc *acc = (const struct acc *)(st + sizeof(int64_t));
		for (size_t f = 0; f < s->nfeatures; f++) {
			const struct ff_feature *ft = &s->features[f];
			struct ff_value *v = &a->values[f];
			const struct acc *x = &acc[a->feature_num[f]];
			const struct ff_local_time *lt =
				ft->column && strcmp(ft->column, "window_start") == 0 ? &lt_start : &lt_end;
			v->null = 0;
			switch (ft->kind) {
			case FF_COUNT_ROWS: v->i = rows; break;
			case FF_COUNT: v->i = x->n; break;
			case FF_SUM: v->null = x->n == 0; v->d = x->sum; break;
			case FF_MEAN: v->null = x->n == 0; v->d = x->n ? x->sum / (double)x->n : 0; break;
			case FF_MIN: v->null = x->n == 0; v->d = x->min; break;
			case FF_MAX: v->null = x->n == 0; v->d = x->max; break;
			case FF_VARIANCE:
				v->null = x->n < 2;
				v->d = x->n < 2 ? 0 : x->m2 / (double)(x->n - 1);
				break;
			case FF_STDDEV:
				v->null = x->n < 2;
				v->d = x->n < 2 ? 0 : sqrt(x->m2 / (double)(x->n - 1));
				break;
			case FF_IS_WEEKEND: v->i = lt->day_of_week >= 6; break;
			case FF_HOUR: v->i = lt->hour; break;
			case FF_DAY_OF_WEEK: v->i = lt->day_of_week; break;
			}
		}
		rc = a->emit(a->ctx, &row);
	}
	return rc;
}

/* Close every open window start up to and including limit, in order. */
static int close_through(struct ff_agg *a, int64_t limit)
{
	if (a->any_open) {
		int64_t to = limit < a->k_hi ? limit : a->k_hi;
		for (int64_t k = a->k_lo; k <= to; k++) {
			struct bucket *b = &a->ring[(uint64_t)k & (a->ring_cap - 1)];
			if (b->used && b->k == k) {
				int rc = close_bucket(a, b);
				if (rc)
					return rc;
			}
		}
		if (limit >= a->k_hi)
			a->any_open = 0;
		else if (limit >= a->k_lo)
			a->k_lo = limit + 1;
	}
	if (limit > a->k_closed)
		a->k_closed = limit;
	return 0;
}

int ff_agg_commit(struct ff_agg *a, const char *input, long line)
{
	const struct ff_spec *s = a->spec;
	if (a->st_time > a->max_time) {
		a->max_time = a->st_time;
		a->max_input = input;
		a->max_line = line;
		if (a->opt.lateness >= 0) {
			int64_t limit = ff_floor_div(a->max_time - a->opt.lateness - s->window, s->slide);
			int rc = close_through(a, limit);
			if (rc)
				return rc;
		}
	}
	for (int64_t k = a->st_kmin; k <= a->st_kmax; k++)
		accumulate(a, state_for(a, bucket_for(a, k), a->st_key));
	return 0;
}

int ff_agg_finish(struct ff_agg *a)
{
	return a->any_open ? close_through(a, a->k_hi) : 0;
}

size_t ff_agg_open_windows(const struct ff_agg *a)
{
	size_t n = 0;
	for (size_t i = 0; i < a->ring_cap; i++)
		if (a->ring[i].used)
			n += a->ring[i].nstates;
	return n;
}
