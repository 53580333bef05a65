#include "ff_profile.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ff_drift.h"
#include "ff_sort.h"
#include "ff_util.h"

const double ff_profile_q[FF_PROFILE_NQ] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};

double *ff_profile_values(const struct ff_frame *f, size_t col, const struct ff_rows *sel,
			  size_t *n)
{
	const struct ff_frame_col *c = &f->cols[col];
	double *v = ff_xmalloc((sel->n ? sel->n : 1) * sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < sel->n; i++) {
		size_t r = FF_ROW(sel, i);
		if (c->tag[r] == FF_CELL_NUMBER || c->tag[r] == FF_CELL_TIME)
			v[k++] = c->v[r];
	}
	ff_sort_doubles(v, k);
	*n = k;
	return v;
}

/* Order of values for grouping: numbers by value, texts by their interned
 * offsets (equal texts, equal offsets), not alphabetically. */
static int compare_value(const struct ff_frame_col *c, size_t x, size_t y)
{
	if (c->kind == FF_KIND_TEXT)
		return (c->off[x] > c->off[y]) - (c->off[x] < c->off[y]);
	return (c->v[x] > c->v[y]) - (c->v[x] < c->v[y]);
}

/* Alphabetical order of values, for output. */
static int compare_shown(const struct ff_frame_col *c, size_t x, size_t y)
{
	if (c->kind == FF_KIND_TEXT)
		return strcmp(c->arena + c->off[x], c->arena + c->off[y]);
	return compare_value(c, x, y);
}

static int same_value(const struct ff_frame_col *c, size_t x, size_t y)
{
	return compare_value(c, x, y) == 0;
}

struct columns {
	const struct ff_frame *f;
	const size_t *cols;
	size_t ncols;
};

/* Rows ordered by the values of some columns (text bytewise, numbers by
 * value), then by position. */
static int by_values(const void *a, const void *b, void *arg)
{
	const struct columns *cs = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	for (size_t k = 0; k < cs->ncols; k++) {
		int d = compare_value(&cs->f->cols[cs->cols[k]], x, y);
		if (d)
			return d;
	}
	return (x > y) - (x < y);
}

/* The rows of sel with no NULL in cols, sorted by their values (malloc'd). */
static size_t *sorted_rows(const struct ff_frame *f, const size_t *cols, size_t ncols,
			   const struct ff_rows *sel, size_t *n)
{
	size_t *rows = ff_xmalloc((sel->n ? sel->n : 1) * sizeof *rows), k = 0;
	for (size_t i = 0; i < sel->n; i++) {
		size_t r = FF_ROW(sel, i), c = 0;
		while (c < ncols && f->cols[cols[c]].tag[r] != FF_CELL_NULL)
			c++;
		if (c == ncols)
			rows[k++] = r;
	}
	*n = k;
	if (ncols > 1) {
		struct columns cs = {f, cols, ncols};
		qsort_r(rows, k, sizeof *rows, by_values, &cs);
		return rows;
	}
	/* One column: a radix sort on the text's offset or the number's bits. */
	const struct ff_frame_col *c = &f->cols[cols[0]];
	struct ff_keyed *a = ff_xmalloc((k ? k : 1) * sizeof *a);
	for (size_t i = 0; i < k; i++)
		a[i] = (struct ff_keyed){c->kind == FF_KIND_TEXT ? (uint64_t)c->off[rows[i]]
								  : ff_sort_key_double(c->v[rows[i]]),
					 rows[i]};
	ff_sort_keyed(a, k);
	for (size_t i = 0; i < k; i++)
		rows[i] = a[i].row;
	free(a);
	return rows;
}

static void keep_top(struct ff_col_profile *p, const char *value, size_t count)
{
	size_t at = p->ntop;
	while (at > 0 && p->top[at - 1].count < count)
		at--;
	if (at >= FF_PROFILE_NTOP)
		return;
	size_t last = p->ntop < FF_PROFILE_NTOP ? p->ntop : FF_PROFILE_NTOP - 1;
	memmove(&p->top[at + 1], &p->top[at], (last - at) * sizeof *p->top);
	p->top[at] = (struct ff_top_value){value, count};
	if (p->ntop < FF_PROFILE_NTOP)
		p->ntop++;
}

void ff_profile_column(const struct ff_frame *f, size_t col, const struct ff_rows *sel,
		       struct ff_col_profile *out)
{
	const struct ff_frame_col *c = &f->cols[col];
	memset(out, 0, sizeof *out);
	out->col = col;
	out->count = sel->n;
	out->min = out->max = out->mean = out->stddev = NAN;
	for (size_t k = 0; k < FF_PROFILE_NQ; k++)
		out->q[k] = NAN;
	if (c->kind == FF_KIND_TEXT) {
		size_t n;
		size_t *rows = sorted_rows(f, &col, 1, sel, &n);
		out->nulls = sel->n - n;
		for (size_t i = 0; i < n;) {
			size_t j = i + 1;
			while (j < n && same_value(c, rows[i], rows[j]))
				j++;
			out->distinct++;
			keep_top(out, c->arena + c->off[rows[i]], j - i);
			i = j;
		}
		free(rows);
		return;
	}
	size_t n;
	double *v = ff_profile_values(f, col, sel, &n);
	out->nulls = sel->n - n;
	if (n > 0) {
		/* Welford's running mean and variance: no loss of precision on large sums. */
		double mean = 0, m2 = 0;
		for (size_t i = 0; i < n; i++) {
			double d = v[i] - mean;
			mean += d / (double)(i + 1);
			m2 += d * (v[i] - mean);
			out->distinct += i == 0 || v[i] != v[i - 1];
		}
		out->min = v[0];
		out->max = v[n - 1];
		out->mean = mean;
		if (n > 1)
			out->stddev = sqrt(m2 / (double)(n - 1));
		for (size_t k = 0; k < FF_PROFILE_NQ; k++)
			out->q[k] = ff_quantile(v, n, ff_profile_q[k]);
	}
	free(v);
}

static int same_key(const struct ff_frame *f, const size_t *cols, size_t ncols, size_t x,
		    size_t y)
{
	for (size_t k = 0; k < ncols; k++) {
		const struct ff_frame_col *c = &f->cols[cols[k]];
		if (c->tag[x] != c->tag[y] || !same_value(c, x, y))
			return 0;
	}
	return 1;
}

void ff_profile_key(const struct ff_frame *f, const size_t *cols, size_t ncols,
		    const struct ff_rows *sel, struct ff_key_check *out)
{
	memset(out, 0, sizeof *out);
	out->dup_row = out->first_row = SIZE_MAX;
	struct ff_keyed *kr = ff_xmalloc((sel->n ? sel->n : 1) * sizeof *kr);
	size_t n = 0;
	for (size_t i = 0; i < sel->n; i++) {
		size_t r = FF_ROW(sel, i);
		uint64_t h = 0;
		int null = 0;
		for (size_t k = 0; k < ncols; k++) {
			const struct ff_frame_col *c = &f->cols[cols[k]];
			if (c->tag[r] == FF_CELL_NULL)
				null = 1;
			else if (c->kind == FF_KIND_TEXT)
				h = XXH3_64bits_withSeed(&c->off[r], sizeof c->off[r], h);
			else
				h = XXH3_64bits_withSeed(&c->v[r], sizeof c->v[r], h);
		}
		if (null)
			out->null_keys++;
		else
			kr[n++] = (struct ff_keyed){h, r};
	}
	ff_sort_keyed(kr, n);
	for (size_t i = 1; i < n; i++) {
		/* Rows of one hash are adjacent; a collision of different keys is
		 * told apart by comparing the keys themselves. */
		for (size_t j = i; j-- > 0 && kr[j].key == kr[i].key;) {
			if (same_key(f, cols, ncols, kr[j].row, kr[i].row)) {
				/* Report the repeat that comes first in the input. */
				if (out->duplicates++ == 0 || kr[i].row < out->dup_row) {
					out->dup_row = kr[i].row;
					out->first_row = kr[j].row;
				}
				break;
			}
		}
	}
	free(kr);
}

static int by_shown(const void *a, const void *b, void *arg)
{
	const struct columns *cs = arg;
	size_t x = ((const struct ff_group_count *)a)->row, y = ((const struct ff_group_count *)b)->row;
	for (size_t k = 0; k < cs->ncols; k++) {
		int d = compare_shown(&cs->f->cols[cs->cols[k]], x, y);
		if (d)
			return d;
	}
	return 0;
}

size_t ff_profile_groups(const struct ff_frame *f, const size_t *cols, size_t ncols,
			 long max_col, const struct ff_rows *sel, struct ff_group_count **out)
{
	const struct ff_frame_col *m = max_col >= 0 ? &f->cols[max_col] : NULL;
	size_t n, ngroups = 0;
	size_t *rows = sorted_rows(f, cols, ncols, sel, &n);
	*out = ff_xmalloc((n ? n : 1) * sizeof **out);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && same_key(f, cols, ncols, rows[i], rows[j]))
			j++;
		double max = NAN;
		for (size_t k = i; m && k < j; k++)
			if (m->tag[rows[k]] == FF_CELL_NUMBER || m->tag[rows[k]] == FF_CELL_TIME)
				if (!(m->v[rows[k]] <= max))
					max = m->v[rows[k]];
		(*out)[ngroups++] = (struct ff_group_count){rows[i], j - i, max};
		i = j;
	}
	free(rows);
	struct columns cs = {f, cols, ncols};
	qsort_r(*out, ngroups, sizeof **out, by_shown, &cs);
	return ngroups;
}
