/* ff_monitor: the jobs of ff-monitor (profile, freshness, drift, lineage),
 * each reading its sources, checking them against the thresholds given and
 * printing a report on stdout. A job returns 0 when every check passes, 1
 * when one fails (told on stderr too) and -1 on an error (reported). */
#ifndef FF_MONITOR_H
#define FF_MONITOR_H

#include <stdint.h>

#include "ff_frame.h"
#include "ff_join_spec.h"
#include "ff_profile.h"
#include "ff_report.h"

/* A range of times [from, until), in seconds; either end may be open. */
struct ff_time_range {
	int set;
	double from, until; /* -INFINITY / INFINITY for an open end */
};

/* Parse "FROM..UNTIL" (either side may be empty; a time or a date). 0 or -1. */
int ff_time_range_parse(const char *s, struct ff_time_range *out);

struct ff_monitor_options {
	enum ff_report_format format;
	const char *store;              /* --store: operands are its tables */
	struct ff_strlist columns;      /* --columns: the columns to look at */
	const char *time_column;        /* --time-column */
	const struct ff_as_of *as_of;   /* --as-of: store tables as of a version or time */
	/* profile */
	const char *unique_key;         /* --unique-key COLS; default a store's key */
	const char *partition;          /* --partition COL; default a store's */
	double max_null_rate;           /* --max-null-rate; < 0: no check */
	struct ff_time_range range;     /* --range */
	/* freshness */
	double now;                     /* --now, seconds */
	double max_age;                 /* --max-age, seconds; < 0: no check */
	int by_key;                     /* --by-key */
	int history;                    /* --history: a store table's versions */
	/* drift */
	double psi_threshold, ks_threshold; /* < 0: no check */
	int bins;                       /* --bins, for the PSI */
	struct ff_time_range reference, current; /* --reference-range, --current-range */
	const char *report;             /* --report FILE (.svg or .html; freshness .html) */
	const char *by;                 /* --by day|week|month|COLUMN, or NULL */
	int ascii;                      /* --ascii bars */
	/* lineage */
	const char *registry;           /* --registry */
	struct ff_strlist blueprints;   /* --blueprint, repeatable */
};

int ff_monitor_profile(const struct ff_monitor_options *o, char **sources, int n);
int ff_monitor_freshness(const struct ff_monitor_options *o, char **sources, int n);
int ff_monitor_drift(const struct ff_monitor_options *o, char **sources, int n);
int ff_monitor_lineage(const struct ff_monitor_options *o, char **targets, int n);

/* ---- shared by the jobs ---- */

/* Read a source as the options say (--store). 0 or -1. */
int ff_monitor_read(const struct ff_monitor_options *o, const char *source, struct ff_frame *f);
/* The time column: given (it must hold timestamps), else the store's
 * timestamp key, else the first column of timestamps. -1 (reported) if none. */
long ff_monitor_time_column(const struct ff_frame *f, const char *given);
/* The rows of f whose time column is in range (all rows if the range is
 * not set). rows->rows is malloc'd or NULL. */
void ff_monitor_select(const struct ff_frame *f, long time_col, const struct ff_time_range *range,
		       struct ff_rows *rows);
/* Column indices of a comma-separated list (malloc'd). -1 (reported) for a
 * missing column. */
int ff_monitor_columns(const struct ff_frame *f, const char *list, size_t **cols, size_t *n);
/* Report "source: no column 'name'", with a hint when the source's header
 * looks mistaken (one field holding ';', spaces around a name). Returns -1. */
int ff_monitor_no_column(const struct ff_frame *f, const char *name);
/* Report a failed check on stderr: "prog: source: message". Returns 1. */
/* A sample of drift: the rows of a frame (its own, or another sample's). */
struct ff_monitor_sample {
	struct ff_frame frame;
	struct ff_frame *f;   /* frame, or the reference's when both come from one source */
	struct ff_rows rows;
	int first_period;     /* --by with no reference given: the first period */
};
struct ff_output;
/* The report of drift on stdout in o->format: in text the reference and
 * current descriptions, a blank line and t (returns 1: the caller's charts
 * follow); CSV t alone; JSON an object of "reference", "current", key: t and
 * "ok" (!failed). */
int ff_monitor_drift_print(const struct ff_monitor_options *o, const char *rdesc, const char *cdesc,
			   const struct ff_report_table *t, const char *key, int failed);
/* drift --by (ff_monitor_trend.c): cut cur's rows into periods and compare
 * each with ref on the columns names; print the report and write the HTML
 * page to report (opened, closed here) when o->report. rdesc describes the
 * reference (rewritten when it is the first period). 0, 1 or -1. */
int ff_monitor_drift_by(const struct ff_monitor_options *o, struct ff_monitor_sample *ref,
			const struct ff_monitor_sample *cur, const struct ff_strlist *names,
			struct ff_output *report, char *rdesc, size_t rsize);
int ff_monitor_fail(const char *source, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
