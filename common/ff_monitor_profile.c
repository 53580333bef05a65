/* ff-monitor profile: per column counts, NULLs, distinct values, range,
 * mean, standard deviation, quantiles and top values; key uniqueness; rows
 * per partition; a NULL-rate threshold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_json.h"
#include "ff_monitor.h"
#include "ff_util.h"

#define SUMMARY_HEADS "column,type,rows,nulls,null_rate,distinct,min,max,mean,stddev"
#define QUANTILE_HEADS "p1,p5,p25,p50,p75,p95,p99"

/* A value of a column: a timestamp for a time column. */
static void add_value(struct ff_report_table *t, const struct ff_frame_col *c, double v)
{
	char buf[32];
	if (v != v)
		ff_report_add(t, NULL);
	else if (c->kind == FF_KIND_TIME) {
		ff_frame_format_time(v, buf);
		ff_report_add(t, buf);
	} else
		ff_report_add_number(t, v);
}

static void top_text(const struct ff_col_profile *p, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < p->ntop && len < size; k++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s (%zu)", k ? ", " : "",
					p->top[k].value, p->top[k].count);
}

struct profile_tables {
	struct ff_report_table summary, quantiles, top, partitions;
};

static void profile_row(const struct ff_frame *f, const struct ff_col_profile *p,
			const struct ff_monitor_options *o, struct profile_tables *t)
{
	const struct ff_frame_col *c = &f->cols[p->col];
	struct ff_report_table *s = &t->summary;
	if (o->format == FF_REPORT_CSV)
		ff_report_add(s, f->name);
	ff_report_add(s, c->name);
	ff_report_add(s, ff_frame_kind_name(c->kind));
	ff_report_addf(s, "%zu", p->count);
	ff_report_addf(s, "%zu", p->nulls);
	ff_report_add_number(s, p->count ? (double)p->nulls / (double)p->count : NAN);
	ff_report_addf(s, "%zu", p->distinct);
	add_value(s, c, p->min);
	add_value(s, c, p->max);
	add_value(s, c, c->kind == FF_KIND_TIME ? NAN : p->mean);
	ff_report_add_number(s, c->kind == FF_KIND_TIME ? NAN : p->stddev);
	struct ff_report_table *q = o->format == FF_REPORT_TEXT ? &t->quantiles : s;
	if (o->format == FF_REPORT_TEXT && c->kind != FF_KIND_TEXT && c->kind != FF_KIND_EMPTY)
		ff_report_add(q, c->name);
	for (size_t k = 0; k < FF_PROFILE_NQ; k++)
		if (o->format != FF_REPORT_TEXT || (c->kind != FF_KIND_TEXT && c->kind != FF_KIND_EMPTY))
			add_value(q, c, p->q[k]);
	if (o->format != FF_REPORT_TEXT) {
		char buf[2048];
		top_text(p, buf, sizeof buf);
		ff_report_add(s, buf);
		return;
	}
	for (size_t k = 0; k < p->ntop; k++) {
		ff_report_add(&t->top, c->name);
		ff_report_add(&t->top, p->top[k].value);
		ff_report_addf(&t->top, "%zu", p->top[k].count);
		ff_report_add_number(&t->top, (double)p->top[k].count / (double)(p->count - p->nulls));
	}
}

/* The key's uniqueness: text for the report, and a check. */
static int check_key(const struct ff_frame *f, const char *keys, const struct ff_rows *sel,
		     char *text, size_t size)
{
	size_t *cols, ncols;
	struct ff_key_check k;
	if (ff_monitor_columns(f, keys, &cols, &ncols) < 0)
		return -1;
	ff_profile_key(f, cols, ncols, sel, &k);
	int failed = 0;
	if (k.duplicates) {
		char dup[600], first[600];
		ff_frame_where(f, k.dup_row, dup, sizeof dup);
		ff_frame_where(f, k.first_row, first, sizeof first);
		char value[600] = "", buf[32];
		for (size_t c = 0; c < ncols; c++)
			snprintf(value + strlen(value), sizeof value - strlen(value), "%s%s", c ? "," : "",
				 ff_frame_text(f, cols[c], k.dup_row, buf));
		snprintf(text, size, "%zu duplicates", k.duplicates);
		failed = ff_monitor_fail(dup, "key (%s) = (%s) repeats the key of %s (%zu duplicate%s)", keys,
					 value, first, k.duplicates, k.duplicates == 1 ? "" : "s");
	}
	if (k.null_keys) {
		snprintf(text + strlen(text), size - strlen(text), "%s%zu rows with a NULL key",
			 k.duplicates ? ", " : "", k.null_keys);
		failed = ff_monitor_fail(f->name, "key (%s): %zu rows with a NULL in the key", keys,
					 k.null_keys);
	}
	if (!failed)
		snprintf(text, size, "unique");
	free(cols);
	return failed;
}

static int partition_counts(const struct ff_frame *f, const char *name, const struct ff_rows *sel,
			    struct ff_report_table *t)
{
	long col = ff_frame_find(f, name);
	if (col < 0)
		return ff_monitor_no_column(f, name);
	struct ff_group_count *g;
	size_t col_index = (size_t)col, ng = ff_profile_groups(f, &col_index, 1, -1, sel, &g);
	for (size_t i = 0; i < ng; i++) {
		char buf[32];
		ff_report_add(t, ff_frame_text(f, col_index, g[i].row, buf));
		ff_report_addf(t, "%zu", g[i].count);
	}
	free(g);
	return 0;
}

static void print_json(const struct ff_frame *f, const struct ff_rows *sel, const char *keys,
		       const char *key_text, const char *partition, struct profile_tables *t,
		       int ok, int first)
{
	printf("%s\n  {\"source\": ", first ? "" : ",");
	ff_json_string(stdout, f->name);
	printf(", \"rows\": %zu,\n   \"columns\": ", sel->n);
	ff_report_json(&t->summary, stdout, 3);
	printf(",\n   \"key\": ");
	if (keys) {
		printf("{\"columns\": ");
		ff_json_string(stdout, keys);
		printf(", \"result\": ");
		ff_json_string(stdout, key_text);
		putchar('}');
	} else
		printf("null");
	printf(",\n   \"partition\": ");
	ff_json_string(stdout, partition);
	printf(", \"partitions\": ");
	ff_report_json(&t->partitions, stdout, 3);
	printf(",\n   \"ok\": %s}", ok ? "true" : "false");
}

static void print_text(const struct ff_frame *f, const struct ff_rows *sel, const char *keys,
		       const char *key_text, const char *partition, struct profile_tables *t,
		       int first)
{
	printf("%s%s: %zu rows\n\n", first ? "" : "\n", f->name, sel->n);
	ff_report_text(&t->summary, stdout, "");
	if (ff_report_rows(&t->quantiles)) {
		putchar('\n');
		ff_report_text(&t->quantiles, stdout, "");
	}
	if (ff_report_rows(&t->top)) {
		putchar('\n');
		ff_report_text(&t->top, stdout, "");
	}
	if (keys)
		printf("\nkey (%s): %s\n", keys, key_text);
	if (partition) {
		putchar('\n');
		ff_report_text(&t->partitions, stdout, "");
	}
}

static int profile_one(const struct ff_monitor_options *o, const char *source, int first,
		       struct ff_report_table *csv)
{
	struct ff_frame f;
	struct ff_rows sel = {NULL, 0};
	struct profile_tables t;
	char key_text[200] = "";
	int rc = -1, failed = 0;
	ff_report_init(&t.summary, o->format == FF_REPORT_TEXT ? SUMMARY_HEADS
					: SUMMARY_HEADS "," QUANTILE_HEADS ",top");
	ff_report_init(&t.quantiles, "column," QUANTILE_HEADS);
	ff_report_init(&t.top, "column,top_value,count,share");
	t.summary.rounded = t.quantiles.rounded = t.top.rounded = o->format == FF_REPORT_TEXT;
	memset(&t.partitions, 0, sizeof t.partitions);
	if (ff_monitor_read(o, source, &f) < 0)
		goto out;
	const char *partition = o->partition ? o->partition : f.partition;
	char heads[300];
	snprintf(heads, sizeof heads, "%s,rows", partition ? partition : "partition");
	ff_report_init(&t.partitions, heads);
	if (o->range.set) {
		long tc = ff_monitor_time_column(&f, o->time_column);
		if (tc < 0)
			goto out;
		ff_monitor_select(&f, tc, &o->range, &sel);
	} else
		ff_monitor_select(&f, -1, &o->range, &sel);
	size_t *cols, ncols = f.ncols;
	if (o->columns.n) {
		char *list = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&list, &len);
		for (size_t i = 0; i < o->columns.n; i++)
			fprintf(m, "%s%s", i ? "," : "", o->columns.v[i]);
		fclose(m);
		int bad = ff_monitor_columns(&f, list, &cols, &ncols);
		free(list);
		if (bad)
			goto out;
	} else {
		cols = ff_xmalloc((f.ncols ? f.ncols : 1) * sizeof *cols);
		for (size_t i = 0; i < f.ncols; i++)
			cols[i] = i;
	}
	for (size_t i = 0; i < ncols; i++) {
		struct ff_col_profile p;
		ff_profile_column(&f, cols[i], &sel, &p);
		profile_row(&f, &p, o, &t);
		double rate = p.count ? (double)p.nulls / (double)p.count : 0;
		if (o->max_null_rate >= 0 && rate > o->max_null_rate)
			failed = ff_monitor_fail(f.name, "column '%s': NULL rate %.6g above %.6g (%zu of %zu rows)",
						 f.cols[cols[i]].name, rate, o->max_null_rate, p.nulls, p.count);
	}
	free(cols);
	const char *keys = o->unique_key ? o->unique_key : f.primary_keys;
	if (keys) {
		int k = check_key(&f, keys, &sel, key_text, sizeof key_text);
		if (k < 0)
			goto out;
		failed |= k;
	}
	if (partition && partition_counts(&f, partition, &sel, &t.partitions) < 0)
		goto out;
	if (o->format == FF_REPORT_TEXT)
		print_text(&f, &sel, keys, key_text, partition, &t, first);
	else if (o->format == FF_REPORT_JSON)
		print_json(&f, &sel, keys, key_text, partition, &t, !failed, first);
	else
		for (size_t i = 0; i < t.summary.cells.n; i++)
			ff_report_add(csv, t.summary.cells.v[i]);
	rc = failed;
out:
	ff_report_release(&t.summary);
	ff_report_release(&t.quantiles);
	ff_report_release(&t.top);
	ff_report_release(&t.partitions);
	free((void *)sel.rows);
	ff_frame_release(&f);
	return rc;
}

int ff_monitor_profile(const struct ff_monitor_options *o, char **sources, int n)
{
	struct ff_report_table csv;
	int rc = 0;
	ff_report_init(&csv, "source," SUMMARY_HEADS "," QUANTILE_HEADS ",top");
	if (o->format == FF_REPORT_JSON)
		putchar('[');
	for (int i = 0; i < n && rc >= 0; i++) {
		int r = profile_one(o, sources[i], i == 0, &csv);
		rc = r < 0 ? -1 : rc | r;
	}
	if (rc >= 0 && o->format == FF_REPORT_JSON)
		printf("\n]\n");
	if (rc >= 0 && o->format == FF_REPORT_CSV)
		ff_report_csv(&csv, stdout);
	ff_report_release(&csv);
	return rc;
}
