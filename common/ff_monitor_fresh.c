/* ff-monitor freshness: the newest timestamp of each source (or of each key)
 * against now, and a maximum age. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_monitor.h"
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

int ff_monitor_freshness(const struct ff_monitor_options *o, char **sources, int n)
{
	struct ff_report_table t;
	int rc = 0;
	ff_report_init(&t, o->by_key ? "source,key,newest,age,age_seconds,status"
				     : "source,newest,age,age_seconds,status");
	for (int i = 0; i < n && rc >= 0; i++) {
		int r = fresh_one(o, sources[i], &t);
		rc = r < 0 ? -1 : rc | r;
	}
	if (rc >= 0)
		ff_report_write(&t, o->format, stdout);
	ff_report_release(&t);
	return rc;
}
