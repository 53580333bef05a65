/* ff-monitor drift: PSI and Kolmogorov-Smirnov per feature between a
 * reference sample and a current one, thresholds, histograms. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_chart.h"
#include "ff_drift.h"
#include "ff_json.h"
#include "ff_monitor.h"
#include "ff_output.h"
#include "ff_util.h"

static int select_rows(const struct ff_monitor_options *o, struct ff_monitor_sample *s,
		       const struct ff_time_range *range)
{
	long tc = -1;
	if (range->set && (tc = ff_monitor_time_column(s->f, o->time_column)) < 0)
		return -1;
	ff_monitor_select(s->f, tc, range, &s->rows);
	return 0;
}

/* A column to compare: numbers, and a feature rather than a key or time. */
static int comparable(const struct ff_frame_col *c)
{
	return c->kind == FF_KIND_NUMBER &&
	       !(c->role && (strcmp(c->role, "key") == 0 || strcmp(c->role, "timestamp") == 0 ||
			     strcmp(c->role, "partition") == 0));
}

/* The columns compared: --columns, else the numeric features both share. */
static int pick_columns(const struct ff_monitor_options *o, const struct ff_monitor_sample *ref,
			const struct ff_monitor_sample *cur, struct ff_strlist *names)
{
	for (size_t i = 0; i < o->columns.n; i++) {
		const struct ff_monitor_sample *s[2] = {ref, cur};
		for (int k = 0; k < 2; k++) {
			long c = ff_frame_find(s[k]->f, o->columns.v[i]);
			if (c < 0)
				return ff_monitor_no_column(s[k]->f, o->columns.v[i]);
			const struct ff_frame_col *col = &s[k]->f->cols[c];
			if (col->kind != FF_KIND_NUMBER && col->kind != FF_KIND_EMPTY)
				return ff_error("%s: column '%s' holds %s, not numbers", s[k]->f->name,
						col->name, ff_frame_kind_name(col->kind));
		}
		ff_strlist_add(names, o->columns.v[i]);
	}
	for (size_t i = 0; !o->columns.n && i < ref->f->ncols; i++) {
		long c = ff_frame_find(cur->f, ref->f->cols[i].name);
		if (comparable(&ref->f->cols[i]) && c >= 0 && comparable(&cur->f->cols[c]))
			ff_strlist_add(names, ref->f->cols[i].name);
	}
	if (names->n == 0)
		return ff_error("%s and %s share no numeric column to compare", ref->f->name,
				cur->f->name);
	return 0;
}

static void describe(const struct ff_monitor_sample *s, const struct ff_time_range *r, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s, %zu rows", s->f->name, s->rows.n);
	if (r->set) {
		char from[32] = "", until[32] = "";
		if (isfinite(r->from))
			ff_frame_format_time(r->from, from);
		if (isfinite(r->until))
			ff_frame_format_time(r->until, until);
		if (!*from)
			snprintf(buf + n, size - (size_t)n, " before %s", until);
		else if (!*until)
			snprintf(buf + n, size - (size_t)n, " from %s", from);
		else
			snprintf(buf + n, size - (size_t)n, " in [%s, %s)", from, until);
	}
}

int ff_monitor_drift_print(const struct ff_monitor_options *o, const char *rdesc, const char *cdesc,
			   const struct ff_report_table *t, const char *key, int failed)
{
	if (o->format == FF_REPORT_TEXT) {
		printf("reference: %s\ncurrent:   %s\n\n", rdesc, cdesc);
		ff_report_text(t, stdout, "");
		return 1;
	}
	if (o->format == FF_REPORT_CSV) {
		ff_report_csv(t, stdout);
		return 0;
	}
	printf("{\"reference\": ");
	ff_json_string(stdout, rdesc);
	printf(",\n \"current\": ");
	ff_json_string(stdout, cdesc);
	printf(",\n ");
	ff_json_string(stdout, key);
	printf(": ");
	ff_report_json(t, stdout, 1);
	printf(",\n \"ok\": %s}\n", failed ? "false" : "true");
	return 0;
}

/* The report goes to out, opened before anything is read so that a path
 * that cannot be written fails the run before a word is printed. */
static int write_report(struct ff_output *out, const char *path, const struct ff_chart *charts,
			size_t n, const char *title)
{
	size_t len = strlen(path);
	int svg = len >= 4 && strcmp(path + len - 4, ".svg") == 0;
	int rc = svg ? ff_chart_svg(charts, n, title, out->f) : ff_chart_html(charts, n, title, out->f);
	return ff_output_close(out, rc == 0) == 0 && rc == 0 ? 0 : -1;
}

static int compare(const struct ff_monitor_options *o, struct ff_monitor_sample *ref, struct ff_monitor_sample *cur,
		   struct ff_output *report)
{
	struct ff_strlist names = {0};
	struct ff_report_table t;
	struct ff_chart *charts = NULL;
	int rc = -1, failed = 0;
	ff_report_init(&t, "column,reference_rows,current_rows,psi,ks,status");
	t.rounded = o->format == FF_REPORT_TEXT;
	if (pick_columns(o, ref, cur, &names) < 0)
		goto out;
	if (o->by) {
		char rdesc[700];
		describe(ref, &o->reference, rdesc, sizeof rdesc);
		rc = ff_monitor_drift_by(o, ref, cur, &names, report, rdesc, sizeof rdesc);
		goto out;
	}
	charts = ff_xcalloc(names.n, sizeof *charts);
	double *cuts = ff_xmalloc((size_t)o->bins * sizeof *cuts);
	double *p = ff_xmalloc((size_t)o->bins * sizeof *p), *q = ff_xmalloc((size_t)o->bins * sizeof *q);
	size_t ncharts = 0;
	for (size_t i = 0; i < names.n; i++) {
		size_t nr, nc;
		double *a = ff_profile_values(ref->f, (size_t)ff_frame_find(ref->f, names.v[i]),
					      &ref->rows, &nr);
		double *b = ff_profile_values(cur->f, (size_t)ff_frame_find(cur->f, names.v[i]),
					      &cur->rows, &nc);
		ff_report_add(&t, names.v[i]);
		ff_report_addf(&t, "%zu", nr);
		ff_report_addf(&t, "%zu", nc);
		if (nr == 0 || nc == 0) {
			ff_report_add(&t, NULL);
			ff_report_add(&t, NULL);
			ff_report_add(&t, "no values");
			failed = ff_monitor_fail(nr ? cur->f->name : ref->f->name,
						 "column '%s': no values to compare", names.v[i]);
		} else {
			size_t ncuts = ff_psi_cuts(a, nr, (size_t)o->bins, cuts);
			ff_bin_shares(a, nr, cuts, ncuts, p);
			ff_bin_shares(b, nc, cuts, ncuts, q);
			double psi = ff_psi(p, q, ncuts + 1), ks = ff_ks(a, nr, b, nc);
			int bad = (o->psi_threshold >= 0 && psi > o->psi_threshold) ||
				  (o->ks_threshold >= 0 && ks > o->ks_threshold);
			ff_report_add_number(&t, psi);
			ff_report_add_number(&t, ks);
			ff_report_add(&t, bad ? "drift" : "ok");
			if (bad)
				failed = ff_monitor_fail(cur->f->name,
							 "column '%s': drift from %s: PSI %.6g (threshold %.6g), KS %.6g (threshold %.6g)",
							 names.v[i], ref->f->name, psi, o->psi_threshold, ks,
							 o->ks_threshold);
			struct ff_chart *c = &charts[ncharts++];
			c->name = names.v[i];
			c->psi = psi;
			c->ks = ks;
			c->status = bad ? "drift" : "ok";
			ff_chart_fill(c, a, nr, b, nc);
		}
		free(a);
		free(b);
	}
	free(cuts);
	free(p);
	free(q);
	char rdesc[700], cdesc[700];
	describe(ref, &o->reference, rdesc, sizeof rdesc);
	describe(cur, &o->current, cdesc, sizeof cdesc);
	if (ff_monitor_drift_print(o, rdesc, cdesc, &t, "features", failed))
		for (size_t i = 0; i < ncharts; i++) {
			putchar('\n');
			ff_chart_text(&charts[i], stdout, o->ascii);
		}
	char title[1500];
	snprintf(title, sizeof title, "Drift of %s against %s", cdesc, rdesc);
	if (o->report && write_report(report, o->report, charts, ncharts, title) < 0)
		goto out;
	rc = failed;
out:
	free(charts);
	ff_strlist_release(&names);
	ff_report_release(&t);
	return rc;
}

int ff_monitor_drift(const struct ff_monitor_options *o, char **sources, int n)
{
	struct ff_monitor_sample ref = {0}, cur = {0};
	struct ff_output report = {0};
	int rc = -1;
	if (o->report && ff_output_open(&report, o->report) < 0)
		return -1;
	if (ff_monitor_read(o, sources[0], &ref.frame) < 0)
		goto out;
	ref.f = &ref.frame;
	if (n == 2 && ff_monitor_read(o, sources[1], &cur.frame) < 0)
		goto out;
	cur.f = n == 2 ? &cur.frame : &ref.frame;
	if (select_rows(o, &ref, &o->reference) < 0 || select_rows(o, &cur, &o->current) < 0)
		goto out;
	ref.first_period = o->by && n == 1 && !o->reference.set;
	rc = compare(o, &ref, &cur, &report);
out:
	ff_output_close(&report, 0); /* written and closed by compare, unless it failed first */
	free((void *)ref.rows.rows);
	free((void *)cur.rows.rows);
	ff_frame_release(&ref.frame);
	ff_frame_release(&cur.frame);
	return rc;
}
