#include "ff_monitor.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_csv.h"
#include "ff_time.h"
#include "ff_util.h"

static int parse_end(const char *s, size_t len, double open, double *out)
{
	int64_t usec;
	if (len == 0) {
		*out = open;
		return 0;
	}
	if (ff_time_parse(s, len, 1, &usec) < 0)
		return -1;
	*out = (double)usec / FF_USEC;
	return 0;
}

int ff_time_range_parse(const char *s, struct ff_time_range *out)
{
	const char *dots = strstr(s, "..");
	if (!dots || parse_end(s, (size_t)(dots - s), -INFINITY, &out->from) < 0 ||
	    parse_end(dots + 2, strlen(dots + 2), INFINITY, &out->until) < 0 ||
	    out->from >= out->until)
		return -1;
	out->set = 1;
	return 0;
}

int ff_monitor_read(const struct ff_monitor_options *o, const char *source, struct ff_frame *f)
{
	return ff_frame_read_as_of(f, o->store, source, NULL, 0, o->as_of);
}

/* The first cell of a column that is not a timestamp, as an error; a
 * column of NULLs only (or no rows) is taken: it has no time, which the
 * checks report (an empty new partition must not hide the others). */
static long not_time(const struct ff_frame *f, size_t col)
{
	const struct ff_frame_col *c = &f->cols[col];
	for (size_t r = 0; r < f->nrows; r++) {
		char where[600], buf[32];
		int64_t usec;
		const char *text = ff_frame_text(f, col, r, buf);
		if (c->tag[r] == FF_CELL_NULL ||
		    (c->tag[r] == FF_CELL_TEXT && ff_time_parse(text, strlen(text), 1, &usec) == 0))
			continue;
		ff_frame_where(f, r, where, sizeof where);
		return ff_error("%s: column '%s': not a timestamp: '%s'", where, c->name, text);
	}
	return (long)col;
}

int ff_monitor_no_column(const struct ff_frame *f, const char *name)
{
	const char **names = ff_xcalloc(f->ncols, sizeof *names);
	for (size_t i = 0; i < f->ncols; i++)
		names[i] = f->cols[i].name;
	char hint[160];
	ff_csv_header_hint(names, f->ncols, name, hint, sizeof hint);
	free(names);
	return ff_error("%s: no column '%s'%s", f->name, name, hint);
}

long ff_monitor_time_column(const struct ff_frame *f, const char *given)
{
	const char *name = given ? given : f->timestamp_key;
	if (name) {
		long col = ff_frame_find(f, name);
		if (col < 0)
			return ff_monitor_no_column(f, name);
		if (f->cols[col].kind != FF_KIND_TIME)
			return not_time(f, (size_t)col);
		return col;
	}
	for (size_t i = 0; i < f->ncols; i++)
		if (f->cols[i].kind == FF_KIND_TIME)
			return (long)i;
	return ff_error("%s: no column of timestamps: name one with --time-column", f->name);
}

void ff_monitor_select(const struct ff_frame *f, long time_col, const struct ff_time_range *range,
		       struct ff_rows *rows)
{
	rows->rows = NULL;
	rows->n = f->nrows;
	if (!range->set)
		return;
	size_t *sel = ff_xmalloc((f->nrows ? f->nrows : 1) * sizeof *sel), n = 0;
	const struct ff_frame_col *c = &f->cols[time_col];
	for (size_t r = 0; r < f->nrows; r++)
		if (c->tag[r] == FF_CELL_TIME && c->v[r] >= range->from && c->v[r] < range->until)
			sel[n++] = r;
	rows->rows = sel;
	rows->n = n;
}

int ff_monitor_columns(const struct ff_frame *f, const char *list, size_t **cols, size_t *n)
{
	struct ff_strlist names = {0};
	ff_strlist_add_split(&names, list);
	*cols = ff_xmalloc((names.n ? names.n : 1) * sizeof **cols);
	*n = names.n;
	for (size_t i = 0; i < names.n; i++) {
		long c = ff_frame_find(f, names.v[i]);
		if (c < 0) {
			ff_monitor_no_column(f, names.v[i]);
			ff_strlist_release(&names);
			free(*cols);
			*cols = NULL;
			return -1;
		}
		(*cols)[i] = (size_t)c;
	}
	ff_strlist_release(&names);
	return 0;
}

int ff_monitor_fail(const char *source, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	ff_error("%s: %s", source, buf); /* a check that fails: exit 1, as an error */
	return 1;
}
