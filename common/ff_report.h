/* ff_report: the tables ff-monitor prints, one way for people and two for
 * scripts: aligned text columns, CSV with a header, or a JSON array of
 * objects (a cell that reads as a number is written as one, an empty cell
 * as null). Cells are text, formatted by the caller in the C locale. */
#ifndef FF_REPORT_H
#define FF_REPORT_H

#include <stdio.h>

#include "ff_join_spec.h"

enum ff_report_format { FF_REPORT_TEXT, FF_REPORT_CSV, FF_REPORT_JSON };

/* The names of the formats by enum value, NULL-terminated (for ff_opt_enum). */
extern const char *const ff_report_format_names[];
/* Parse "text", "csv" or "json"; -1 if none. */
int ff_report_format_parse(const char *name);

struct ff_report_table {
	size_t ncols;
	struct ff_strlist heads;
	struct ff_strlist cells; /* row after row */
	int rounded;             /* numbers to 6 significant digits, for people */
	int left;                /* text: every column aligned left, numbers too */
	int headless;            /* text: no header line (a list of name, value) */
};

/* A table with the comma-separated column names heads. */
void ff_report_init(struct ff_report_table *t, const char *heads);
void ff_report_release(struct ff_report_table *t);
/* Add the next cell (NULL: empty), or a formatted one. */
void ff_report_add(struct ff_report_table *t, const char *cell);
void ff_report_addf(struct ff_report_table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A number as ff_format_double writes it (%.6g if rounded); NaN gives an
 * empty cell. */
void ff_report_add_number(struct ff_report_table *t, double v);
size_t ff_report_rows(const struct ff_report_table *t);

/* Aligned columns under a header line, each line after indent; a column
 * whose cells are all numbers is aligned right. Empty cells print as "-". */
void ff_report_text(const struct ff_report_table *t, FILE *out, const char *indent);
/* A header line and one line per row. */
void ff_report_csv(const struct ff_report_table *t, FILE *out);
/* [{"head": cell, ...}, ...] on lines indented by indent spaces. */
void ff_report_json(const struct ff_report_table *t, FILE *out, int indent);
/* An HTML <table> in a scrolling <div> (for a page of ff_chart), a
 * header row and a row per row; empty cells print as "-". */
void ff_report_html(const struct ff_report_table *t, FILE *out);
/* The whole of a report that is one table, in format: aligned text, CSV,
 * or a JSON list of objects and a newline. */
void ff_report_write(const struct ff_report_table *t, enum ff_report_format format, FILE *out);

#endif
