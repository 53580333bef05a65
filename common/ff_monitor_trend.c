/* ff-monitor drift --by: the rows of the current sample cut into periods
 * (days, weeks, months of the time column, or the values of a partition
 * column), each compared with one reference: PSI, KS and the share of
 * NULLs of each feature, period by period. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_chart.h"
#include "ff_drift.h"
#include "ff_monitor.h"
#include "ff_output.h"
#include "ff_time.h"
#include "ff_util.h"

enum by { BY_DAY, BY_WEEK, BY_MONTH, BY_COLUMN };

struct item {
	double key;
	const char *text; /* the partition's text, or NULL for a number or time */
	size_t row;
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = x->text && y->text ? strcmp(x->text, y->text)
		: x->text || y->text  ? (x->text != NULL) - (y->text != NULL) /* numbers first */
				      : (x->key > y->key) - (x->key < y->key);
	return c ? c : (x->row > y->row) - (x->row < y->row);
}

/* The start of t's period, in seconds (weeks start on Monday, UTC). */
static double period_start(enum by by, double t, char *label, size_t size)
{
	int64_t days = (int64_t)floor(t / 86400), y;
	unsigned m, d;
	if (by == BY_WEEK)
		days -= ((days + 3) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
	ff_civil_from_days(days, &y, &m, &d);
	if (by == BY_MONTH) {
		if (label)
			snprintf(label, size, "%04lld-%02u", (long long)y, m);
		return (double)ff_days_from_civil(y, m, 1) * 86400;
	}
	if (label)
		snprintf(label, size, "%04lld-%02u-%02u", (long long)y, m, d);
	return (double)days * 86400;
}

struct periods {
	size_t n;
	char **label;
	size_t *start, *count; /* slices of rows */
	size_t *rows;
};

static void periods_release(struct periods *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->label[i]);
	free(p->label);
	free(p->start);
	free(p->count);
	free(p->rows);
}

/* Cut the rows sel of f into periods; rows with no time or partition are
 * left out. 0 or -1 (reported). */
static int cut(const struct ff_monitor_options *o, const struct ff_frame *f,
	       const struct ff_rows *sel, struct periods *p)
{
	static const char *const names[] = {"day", "week", "month"};
	enum by by = BY_COLUMN;
	for (int i = 0; i < 3; i++)
		if (strcmp(o->by, names[i]) == 0)
			by = (enum by)i;
	long col = by == BY_COLUMN ? ff_frame_find(f, o->by) : ff_monitor_time_column(f, o->time_column);
	if (col < 0)
		return by == BY_COLUMN ? ff_monitor_no_column(f, o->by) : -1;
	const struct ff_frame_col *c = &f->cols[col];
	struct item *it = ff_xmalloc((sel->n ? sel->n : 1) * sizeof *it);
	size_t n = 0;
	for (size_t i = 0; i < sel->n; i++) {
		size_t r = FF_ROW(sel, i);
		if (c->tag[r] == FF_CELL_NULL || (by != BY_COLUMN && c->tag[r] != FF_CELL_TIME))
			continue;
		it[n].row = r;
		it[n].text = c->tag[r] == FF_CELL_TEXT ? c->arena + c->off[r] : NULL;
		it[n].key = by == BY_COLUMN ? c->v[r] : period_start(by, c->v[r], NULL, 0);
		n++;
	}
	qsort(it, n, sizeof *it, item_cmp);
	memset(p, 0, sizeof *p);
	p->rows = ff_xmalloc((n ? n : 1) * sizeof *p->rows);
	size_t cap = 0;
	for (size_t i = 0; i < n; i++) {
		p->rows[i] = it[i].row;
		int same = i > 0 && (it[i].text && it[i - 1].text ? strcmp(it[i].text, it[i - 1].text) == 0
				     : !it[i].text && !it[i - 1].text && it[i].key == it[i - 1].key);
		if (same) {
			p->count[p->n - 1]++;
			continue;
		}
		if (p->n == cap) {
			cap = cap ? 2 * cap : 32;
			p->label = ff_xrealloc(p->label, cap * sizeof *p->label);
			p->start = ff_xrealloc(p->start, cap * sizeof *p->start);
			p->count = ff_xrealloc(p->count, cap * sizeof *p->count);
		}
		char buf[64];
		if (by == BY_COLUMN)
			p->label[p->n] = ff_xstrdup(ff_frame_text(f, (size_t)col, it[i].row, buf));
		else {
			period_start(by, it[i].key, buf, sizeof buf);
			p->label[p->n] = ff_xstrdup(buf);
		}
		p->start[p->n] = i;
		p->count[p->n++] = 1;
	}
	free(it);
	if (p->n == 0) {
		periods_release(p);
		return ff_error("%s: no row with a %s to cut into periods", f->name,
				by == BY_COLUMN ? "value of the partition column" : "time");
	}
	return 0;
}

/* The numbers of one feature over the periods. */
struct feature {
	double *nulls, *psi, *ks;
	int *bad;
};

static int compare_feature(const struct ff_monitor_options *o, const struct ff_monitor_sample *ref,
			   const struct ff_monitor_sample *cur, const struct periods *p,
			   const char *name, struct feature *ft)
{
	size_t na;
	double *a = ff_profile_values(ref->f, (size_t)ff_frame_find(ref->f, name), &ref->rows, &na);
	int failed = 0;
	if (na == 0) {
		free(a);
		return ff_error("%s: column '%s': no values in the reference", ref->f->name, name);
	}
	double *cuts = ff_xmalloc((size_t)o->bins * sizeof *cuts);
	double *ps = ff_xmalloc((size_t)o->bins * sizeof *ps), *q = ff_xmalloc((size_t)o->bins * sizeof *q);
	size_t ncuts = ff_psi_cuts(a, na, (size_t)o->bins, cuts);
	ff_bin_shares(a, na, cuts, ncuts, ps);
	size_t col = (size_t)ff_frame_find(cur->f, name);
	for (size_t i = 0; i < p->n; i++) {
		struct ff_rows slice = {p->rows + p->start[i], p->count[i]};
		size_t nb;
		double *b = ff_profile_values(cur->f, col, &slice, &nb);
		ft->nulls[i] = 1 - (double)nb / (double)slice.n;
		ft->psi[i] = ft->ks[i] = NAN;
		if (nb == 0) {
			ft->bad[i] = 1;
			failed = ff_monitor_fail(cur->f->name, "column '%s': period %s: no values",
						 name, p->label[i]);
		} else {
			ff_bin_shares(b, nb, cuts, ncuts, q);
			ft->psi[i] = ff_psi(ps, q, ncuts + 1);
			ft->ks[i] = ff_ks(a, na, b, nb);
			ft->bad[i] = (o->psi_threshold >= 0 && ft->psi[i] > o->psi_threshold) ||
				     (o->ks_threshold >= 0 && ft->ks[i] > o->ks_threshold);
			if (ft->bad[i])
				failed = ff_monitor_fail(
					cur->f->name,
					"column '%s': period %s: drift from the reference: PSI %.6g (threshold %.6g), KS %.6g (threshold %.6g)",
					name, p->label[i], ft->psi[i], o->psi_threshold, ft->ks[i],
					o->ks_threshold);
		}
		free(b);
	}
	free(a);
	free(cuts);
	free(ps);
	free(q);
	return failed;
}

int ff_monitor_drift_by(const struct ff_monitor_options *o, struct ff_monitor_sample *ref,
			const struct ff_monitor_sample *cur, const struct ff_strlist *names,
			struct ff_output *report, char *rdesc, size_t rsize)
{
	struct periods p;
	if (cut(o, cur->f, &cur->rows, &p) < 0)
		return -1;
	if (ref->first_period) { /* the reference: the first period */
		ref->rows.rows = p.rows + p.start[0];
		ref->rows.n = p.count[0];
		snprintf(rdesc, rsize, "%s, %zu rows, the first period (%s)", ref->f->name, ref->rows.n,
			 p.label[0]);
	}
	struct feature *fts = ff_xcalloc(names->n, sizeof *fts);
	struct ff_trend *trends = ff_xcalloc(names->n, sizeof *trends);
	int rc = -1, failed = 0;
	for (size_t i = 0; i < names->n; i++) {
		fts[i].nulls = ff_xmalloc(p.n * sizeof(double));
		fts[i].psi = ff_xmalloc(p.n * sizeof(double));
		fts[i].ks = ff_xmalloc(p.n * sizeof(double));
		fts[i].bad = ff_xcalloc(p.n, sizeof(int));
	}
	for (size_t i = 0; i < names->n; i++) {
		int r = compare_feature(o, ref, cur, &p, names->v[i], &fts[i]);
		if (r < 0)
			goto out;
		failed |= r;
	}
	struct ff_report_table t;
	ff_report_init(&t, "period,rows,column,null_share,psi,ks,status");
	t.rounded = o->format == FF_REPORT_TEXT;
	for (size_t j = 0; j < p.n; j++)
		for (size_t i = 0; i < names->n; i++) {
			ff_report_add(&t, p.label[j]);
			ff_report_addf(&t, "%zu", p.count[j]);
			ff_report_add(&t, names->v[i]);
			ff_report_add_number(&t, fts[i].nulls[j]);
			ff_report_add_number(&t, fts[i].psi[j]);
			ff_report_add_number(&t, fts[i].ks[j]);
			ff_report_add(&t, fts[i].psi[j] != fts[i].psi[j] ? "no values"
					  : fts[i].bad[j]		? "drift"
									: "ok");
		}
	size_t total = 0;
	for (size_t j = 0; j < p.n; j++)
		total += p.count[j];
	char cdesc[700];
	snprintf(cdesc, sizeof cdesc, "%s, %zu rows by %s, %zu periods from %s to %s", cur->f->name,
		 total, o->by, p.n, p.label[0], p.label[p.n - 1]);
	for (size_t i = 0; i < names->n; i++)
		trends[i] = (struct ff_trend){names->v[i], p.n,	    p.label,	 p.count,
					      fts[i].nulls, fts[i].psi, fts[i].ks, fts[i].bad,
					      o->psi_threshold, o->ks_threshold};
	if (ff_monitor_drift_print(o, rdesc, cdesc, &t, "periods", failed))
		for (size_t i = 0; i < names->n; i++) {
			putchar('\n');
			ff_trend_text(&trends[i], stdout, o->ascii);
		}
	ff_report_release(&t);
	if (o->report) {
		char title[1600], sub[1600];
		snprintf(title, sizeof title, "Drift of %s by %s", cur->f->name, o->by);
		snprintf(sub, sizeof sub, "Reference: %s. Current: %s.", rdesc, cdesc);
		int w = ff_trend_html(trends, names->n, title, sub, report->f);
		if (ff_output_close(report, w == 0) < 0 || w < 0)
			goto out;
	}
	rc = failed;
out:
	for (size_t i = 0; i < names->n; i++) {
		free(fts[i].nulls);
		free(fts[i].psi);
		free(fts[i].ks);
		free(fts[i].bad);
	}
	free(fts);
	free(trends);
	if (ref->first_period)
		ref->rows.rows = NULL; /* p's, freed below */
	periods_release(&p);
	return rc;
}
