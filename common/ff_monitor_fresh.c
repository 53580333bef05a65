/* ff-monitor freshness: the newest timestamp of each source (or of each key)
 * against now, and a maximum age. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_chart.h"
#include "ff_monitor.h"
#include "ff_output.h"
#include "ff_store.h"
#include "ff_time.h"
#include "ff_util.h"

/* Age as a duration ("2h30m", "-5m" for a time after now). */
static void format_age(double secs, char *buf)
{
	int64_t usec = (int64_t)llround(fabs(secs)) * FF_USEC;
	buf[0] = secs < 0 ? '-' : '\0';
	ff_duration_format(usec, buf + (secs < 0));
}

static int add_row(const struct ff_monitor_options *o, struct ff_report_table *t,
		   const char *source, const char *key, double newest)
{
	char when[32] = "", age[40] = "";
	int stale = isnan(newest) || (o->max_age >= 0 && o->now - newest > o->max_age);
	if (!isnan(newest)) {
		ff_frame_format_time(newest, when);
		format_age(o->now - newest, age);
	}
	ff_report_add(t, source);
	if (key)
		ff_report_add(t, key);
	ff_report_add(t, when);
	ff_report_add(t, age);
	/* To the microsecond: a difference of big numbers has noise below it. */
	ff_report_add_number(t, isnan(newest) ? NAN : round((o->now - newest) * 1e6) / 1e6);
	ff_report_add(t, stale ? "stale" : "ok");
	return stale;
}

static int fresh_one(const struct ff_monitor_options *o, const char *source,
		     struct ff_report_table *t)
{
	struct ff_frame f;
	int rc = -1, failed = 0;
	size_t *cols = NULL, ncols = 0;
	struct ff_group_count *g = NULL;
	if (ff_monitor_read(o, source, &f) < 0)
		goto out;
	long tc = ff_monitor_time_column(&f, o->time_column);
	if (tc < 0)
		goto out;
	const struct ff_frame_col *c = &f.cols[tc];
	struct ff_rows all = {NULL, f.nrows};
	if (!o->by_key) {
		double newest = NAN;
		for (size_t r = 0; r < f.nrows; r++)
			if (c->tag[r] == FF_CELL_TIME && !(c->v[r] <= newest))
				newest = c->v[r];
		if (add_row(o, t, f.name, NULL, newest)) {
			char age[40] = "";
			if (!isnan(newest))
				format_age(o->now - newest, age);
			failed = isnan(newest) ? ff_monitor_fail(f.name, "no rows with a time in '%s'",
								  c->name)
					       : ff_monitor_fail(f.name, "newest row %s old, more than --max-age",
								  age);
		}
		rc = failed;
		goto out;
	}
	/* The keys: --unique-key, else the store's primary key less its time. */
	char *keys = ff_xstrdup(o->unique_key ? o->unique_key : f.primary_keys ? f.primary_keys : "");
	if (!o->unique_key && f.timestamp_key) {
		struct ff_strlist l = {0};
		ff_strlist_add_split(&l, keys);
		keys[0] = '\0';
		for (size_t i = 0; i < l.n; i++)
			if (strcmp(l.v[i], f.timestamp_key) != 0)
				sprintf(keys + strlen(keys), "%s%s", keys[0] ? "," : "", l.v[i]);
		ff_strlist_release(&l);
	}
	if (!keys[0]) {
		free(keys);
		ff_error("%s: no key to group by: give --unique-key", f.name);
		goto out;
	}
	int bad = ff_monitor_columns(&f, keys, &cols, &ncols);
	free(keys);
	if (bad)
		goto out;
	size_t ng = ff_profile_groups(&f, cols, ncols, tc, &all, &g), nstale = 0;
	for (size_t i = 0; i < ng; i++) {
		char key[1024] = "", buf[32];
		for (size_t k = 0; k < ncols; k++)
			snprintf(key + strlen(key), sizeof key - strlen(key), "%s%s", k ? "," : "",
				 ff_frame_text(&f, cols[k], g[i].row, buf));
		nstale += add_row(o, t, f.name, key, g[i].max);
	}
	if (nstale)
		failed = ff_monitor_fail(f.name, "%zu of %zu keys stale", nstale, ng);
	rc = failed;
out:
	free(g);
	free(cols);
	ff_frame_release(&f);
	return rc;
}

/* The versions of a store's table, oldest first, with the rows after each
 * write (a create or replace starts again from its rows), into t, and as a
 * line chart with its table on the page out (if not NULL). */
static int history_one(struct ff_store *st, const char *table, struct ff_report_table *t,
		       FILE *page)
{
	struct ff_store_version *v;
	size_t n;
	if (ff_store_versions(st, table, &v, &n) < 0)
		return -1;
	struct ff_report_table own;
	ff_report_init(&own, "version,operation,committed_at,inserted,updated,deleted,rows");
	char **labels = ff_xcalloc(n ? n : 1, sizeof *labels);
	double *rows = ff_xmalloc((n ? n : 1) * sizeof *rows), total = 0;
	for (size_t i = 0; i < n; i++) {
		int fresh = strcmp(v[i].operation, "create") == 0 || strcmp(v[i].operation, "replace") == 0;
		total = (fresh ? 0 : total) + (double)v[i].inserted - (double)(fresh ? 0 : v[i].deleted);
		rows[i] = total;
		char label[64];
		snprintf(label, sizeof label, "v%lld %.16s", (long long)v[i].version, v[i].committed_at);
		labels[i] = ff_xstrdup(label);
		struct ff_report_table *dst[2] = {t, &own};
		for (int k = 0; k < 2; k++) {
			if (k == 0)
				ff_report_add(dst[k], table);
			ff_report_addf(dst[k], "%lld", (long long)v[i].version);
			ff_report_add(dst[k], v[i].operation);
			ff_report_add(dst[k], v[i].committed_at);
			ff_report_addf(dst[k], "%lld", (long long)v[i].inserted);
			ff_report_addf(dst[k], "%lld", (long long)v[i].updated);
			ff_report_addf(dst[k], "%lld", (long long)v[i].deleted);
			ff_report_addf(dst[k], "%.0f", total);
		}
	}
	if (page) {
		fputs("<section><h2>", page);
		ff_chart_xml_text(page, table);
		fputs(": rows after each version</h2>\n", page);
		struct ff_line l = {labels, rows, NULL, n, "rows of the table after the version", "rows",
				    "version and time of commit (UTC)", -1};
		ff_chart_line(&l, page);
		ff_report_html(&own, page);
		fputs("</section>\n", page);
	}
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	free(labels);
	free(rows);
	ff_report_release(&own);
	free(v);
	return 0;
}

int ff_monitor_freshness(const struct ff_monitor_options *o, char **sources, int n)
{
	struct ff_report_table t, h;
	struct ff_output page = {0};
	struct ff_store *st = NULL;
	int rc = 0;
	if ((o->history || o->report) && !o->store)
		return ff_error("freshness: --history and --report read a store's versions: give --store");
	if (o->report && ff_output_open(&page, o->report) < 0)
		return -1;
	ff_report_init(&t, o->by_key ? "source,key,newest,age,age_seconds,status"
				     : "source,newest,age,age_seconds,status");
	ff_report_init(&h, "table,version,operation,committed_at,inserted,updated,deleted,rows");
	for (int i = 0; i < n && rc >= 0; i++) {
		int r = fresh_one(o, sources[i], &t);
		rc = r < 0 ? -1 : rc | r;
	}
	if (rc >= 0 && (o->history || o->report) && ff_store_open(o->store, FF_STORE_READ, &st) < 0)
		rc = -1;
	if (rc >= 0 && o->report) {
		char title[600];
		snprintf(title, sizeof title, "Freshness and versions of %s", o->store);
		ff_chart_page_begin(page.f, title);
		ff_report_html(&t, page.f);
	}
	for (int i = 0; i < n && rc >= 0 && st; i++)
		if (history_one(st, sources[i], &h, o->report ? page.f : NULL) < 0)
			rc = -1;
	if (rc >= 0) {
		ff_report_write(&t, o->format, stdout);
		if (o->history && o->format == FF_REPORT_TEXT)
			putchar('\n');
		if (o->history)
			ff_report_write(&h, o->format, stdout);
	}
	if (o->report) {
		int w = rc >= 0 ? ff_chart_page_end(page.f) : -1;
		if (ff_output_close(&page, w == 0) < 0 && rc >= 0)
			rc = -1;
	}
	ff_store_close(st);
	ff_report_release(&h);
	ff_report_release(&t);
	return rc;
}
