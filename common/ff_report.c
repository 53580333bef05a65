#include "ff_report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ff_chart.h"
#include "ff_csv.h"
#include "ff_json.h"
#include "ff_util.h"

const char *const ff_report_format_names[] = {"text", "csv", "json", NULL};

int ff_report_format_parse(const char *name)
{
	for (int i = 0; ff_report_format_names[i]; i++)
		if (strcmp(name, ff_report_format_names[i]) == 0)
			return i;
	return -1;
}

void ff_report_init(struct ff_report_table *t, const char *heads)
{
	memset(t, 0, sizeof *t);
	ff_strlist_add_split(&t->heads, heads);
	t->ncols = t->heads.n;
}

void ff_report_release(struct ff_report_table *t)
{
	ff_strlist_release(&t->heads);
	ff_strlist_release(&t->cells);
}

void ff_report_add(struct ff_report_table *t, const char *cell)
{
	ff_strlist_add(&t->cells, cell ? cell : "");
}

void ff_report_addf(struct ff_report_table *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	ff_report_add(t, buf);
}

void ff_report_add_number(struct ff_report_table *t, double v)
{
	char buf[32] = "";
	if (v == v && t->rounded)
		snprintf(buf, sizeof buf, "%.6g", v);
	else if (v == v)
		ff_format_double(buf, v);
	ff_report_add(t, buf);
}

size_t ff_report_rows(const struct ff_report_table *t)
{
	return t->ncols ? t->cells.n / t->ncols : 0;
}

static int is_number(const char *s)
{
	double d;
	return *s && ff_parse_double(s, strlen(s), &d) == 0;
}

/* Display width of UTF-8 text: its code points. */
static size_t width_of(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void ff_report_text(const struct ff_report_table *t, FILE *out, const char *indent)
{
	size_t *width = ff_xcalloc(t->ncols, sizeof *width);
	int *right = ff_xcalloc(t->ncols, sizeof *right);
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = t->headless ? 0 : width_of(t->heads.v[c]);
		right[c] = !t->left;
	}
	for (size_t i = 0; i < t->cells.n; i++) {
		const char *s = t->cells.v[i];
		size_t c = i % t->ncols, w = *s ? width_of(s) : 1;
		if (w > width[c])
			width[c] = w;
		if (*s && !is_number(s))
			right[c] = 0;
	}
	for (size_t i = t->headless ? t->ncols : 0; i < t->cells.n + t->ncols; i++) {
		size_t c = i % t->ncols;
		const char *s = i < t->ncols ? t->heads.v[i] : t->cells.v[i - t->ncols];
		if (!*s)
			s = "-";
		size_t pad = width[c] - width_of(s);
		if (c == 0)
			fputs(indent, out);
		if (right[c])
			fprintf(out, "%*s", (int)pad, "");
		fputs(s, out);
		if (c + 1 == t->ncols)
			putc('\n', out);
		else
			fprintf(out, "%*s", (int)(right[c] ? 2 : pad + 2), "");
	}
	free(width);
	free(right);
}

void ff_report_csv(const struct ff_report_table *t, FILE *out)
{
	for (size_t i = 0; i < t->cells.n + t->ncols; i++) {
		const char *s = i < t->ncols ? t->heads.v[i] : t->cells.v[i - t->ncols];
		ff_csv_put_field(out, *s ? s : NULL, strlen(s));
		putc((i + 1) % t->ncols ? ',' : '\n', out);
	}
}

void ff_report_json(const struct ff_report_table *t, FILE *out, int indent)
{
	size_t rows = ff_report_rows(t);
	putc('[', out);
	for (size_t r = 0; r < rows; r++) {
		fprintf(out, "%s\n%*s{", r ? "," : "", indent + 2, "");
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells.v[r * t->ncols + c];
			fputs(c ? ", " : "", out);
			ff_json_string(out, t->heads.v[c]);
			fputs(": ", out);
			if (!*s)
				fputs("null", out);
			else if (ff_json_is_number(s))
				fputs(s, out);
			else
				ff_json_string(out, s);
		}
		putc('}', out);
	}
	if (rows)
		fprintf(out, "\n%*s", indent, "");
	putc(']', out);
}

void ff_report_html(const struct ff_report_table *t, FILE *out)
{
	fputs("<div class=\"scroll\"><table>\n", out);
	for (size_t i = 0; i < t->cells.n + t->ncols; i++) {
		size_t c = i % t->ncols;
		const char *s = i < t->ncols ? t->heads.v[i] : t->cells.v[i - t->ncols];
		const char *tag = i < t->ncols ? "th" : "td";
		fprintf(out, "%s<%s", c ? "" : "<tr>", tag);
		if (strcmp(s, "stale") == 0 || strcmp(s, "drift") == 0)
			fputs(" class=\"drift\"", out);
		putc('>', out);
		ff_chart_xml_text(out, *s ? s : "-");
		fprintf(out, "</%s>%s", tag, c + 1 == t->ncols ? "</tr>\n" : "");
	}
	fputs("</table></div>\n", out);
}

void ff_report_write(const struct ff_report_table *t, enum ff_report_format format, FILE *out)
{
	if (format == FF_REPORT_TEXT) {
		ff_report_text(t, out, "");
	} else if (format == FF_REPORT_CSV) {
		ff_report_csv(t, out);
	} else {
		ff_report_json(t, out, 0);
		putc('\n', out);
	}
}
