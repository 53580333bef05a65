/* ff_chart_trend: numbers over time: a feature's drift over periods as
 * terminal sparklines and as line charts in a self-contained HTML page, and
 * the line chart itself (see ff_chart.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ff_chart.h"

#define LINE_FILL "#2f6db5"
#define LIMIT_FILL "#c0392b"

/* One sparkline of v[0..n) scaled to [0, top]; NaN prints as a space. */
static void spark(FILE *out, const double *v, size_t n, double top, int ascii)
{
	static const char *const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	static const char ramp[] = "_.-:=+*#";
	for (size_t i = 0; i < n; i++) {
		if (v[i] != v[i]) {
			putc(' ', out);
			continue;
		}
		int k = top > 0 ? (int)lround(v[i] / top * 7) : 0;
		k = k < 0 ? 0 : k > 7 ? 7 : k;
		if (ascii)
			putc(ramp[k], out);
		else
			fputs(blocks[k], out);
	}
}

static double largest(const double *v, size_t n)
{
	double top = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] > top)
			top = v[i];
	return top;
}

/* "  label  sparkline  0 .. top" and a newline; with a threshold > 0 the
 * scale is twice the threshold, clipped: a bar of half height or more is at
 * or over it, whatever the other periods hold (one wild period would
 * flatten a scale to its largest). */
static void spark_line(FILE *out, const char *label, const double *v, size_t n, double threshold,
		       int ascii)
{
	double top = threshold > 0 ? 2 * threshold : largest(v, n);
	fprintf(out, "  %-6s ", label);
	spark(out, v, n, top, ascii);
	fprintf(out, "  0 .. %.6g", top);
	if (threshold > 0)
		fprintf(out, ", threshold %.6g at half height", threshold);
	putc('\n', out);
}

void ff_trend_text(const struct ff_trend *t, FILE *out, int ascii)
{
	double rows[t->n > 0 ? t->n : 1];
	for (size_t i = 0; i < t->n; i++)
		rows[i] = (double)t->rows[i];
	fprintf(out, "%s\n", t->name);
	spark_line(out, "psi", t->psi, t->n, t->psi_threshold, ascii);
	fputs("         ", out);
	int any = 0;
	for (size_t i = 0; i < t->n; i++) {
		putc(t->bad[i] ? '^' : ' ', out);
		any |= t->bad[i];
	}
	fputs(any ? "  ^ over a threshold:" : "  no period over a threshold", out);
	for (size_t i = 0; i < t->n; i++)
		if (t->bad[i])
			fprintf(out, " %s", t->period[i]);
	putc('\n', out);
	spark_line(out, "ks", t->ks, t->n, t->ks_threshold, ascii);
	spark_line(out, "nulls", t->nulls, t->n, -1, ascii);
	spark_line(out, "rows", rows, t->n, -1, ascii);
}

#define CHART_W 760
#define CHART_H 260

/* A tick step of 1, 2 or 5 times a power of ten giving about 4 ticks. */
static double tick_step(double top)
{
	double raw = top / 4, p = pow(10, floor(log10(raw))), m = raw / p;
	return p * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10);
}

void ff_chart_line(const struct ff_line *l, FILE *out)
{
	double x0 = 60, y0 = 40, w = CHART_W - 80, h = CHART_H - 110, base = y0 + h;
	double top = fmax(largest(l->y, l->n), l->limit) * 1.1;
	if (!(top > 0))
		top = 1;
	double step = tick_step(top);
	top = ceil(top / step - 1e-9) * step;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		     "height=\"%d\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">\n",
		CHART_W, CHART_H, CHART_W, CHART_H);
	fprintf(out, "<g class=\"legend\"><line x1=\"%.0f\" y1=\"16\" x2=\"%.0f\" y2=\"16\" stroke=\"" LINE_FILL "\" stroke-width=\"2\"/>"
		     "<text x=\"%.0f\" y=\"20\">",
		x0, x0 + 24, x0 + 30);
	ff_chart_xml_text(out, l->series);
	fputs("</text>", out);
	if (l->limit >= 0)
		fprintf(out, "<line x1=\"%.0f\" y1=\"16\" x2=\"%.0f\" y2=\"16\" stroke=\"" LIMIT_FILL "\" stroke-dasharray=\"6 4\" stroke-width=\"2\"/>"
			     "<text x=\"%.0f\" y=\"20\">threshold %.4g</text>",
			x0 + 330, x0 + 354, x0 + 360, l->limit);
	fputs("</g>\n", out);
	for (double v = 0; v <= top * (1 + 1e-9); v += step) {
		double y = base - v / top * h;
		fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
			     "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\">%.6g</text>\n",
			x0, y, x0 + w, y, x0 - 4, y + 3, v);
	}
	fprintf(out, "<text x=\"14\" y=\"%.0f\" font-size=\"10\" text-anchor=\"middle\" "
		     "transform=\"rotate(-90 14 %.0f)\">",
		base - h / 2, base - h / 2);
	ff_chart_xml_text(out, l->ylabel);
	fprintf(out, "</text>\n<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>"
		     "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n",
		x0, base, x0 + w, base, x0, base, x0, y0);
	double dx = l->n > 1 ? w / (double)(l->n - 1) : 0;
	size_t every = l->n / 16 + 1; /* labels that do not run into each other */
	for (size_t i = 0; i < l->n; i += every) {
		double x = x0 + (l->n > 1 ? dx * (double)i : w / 2);
		fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\" "
			     "transform=\"rotate(-45 %.1f %.0f)\">",
			x, base + 14, x, base + 14);
		ff_chart_xml_text(out, l->x[i]);
		fputs("</text>\n", out);
	}
	fprintf(out, "<text x=\"%.0f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">",
		x0 + w / 2, CHART_H - 4);
	ff_chart_xml_text(out, l->xlabel);
	fputs("</text>\n", out);
	if (l->limit >= 0 && l->limit <= top)
		fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"" LIMIT_FILL "\" stroke-dasharray=\"6 4\" stroke-width=\"2\"/>\n",
			x0, base - l->limit / top * h, x0 + w, base - l->limit / top * h);
	fputs("<polyline fill=\"none\" stroke=\"" LINE_FILL "\" stroke-width=\"2\" points=\"", out);
	for (size_t i = 0; i < l->n; i++)
		if (l->y[i] == l->y[i])
			fprintf(out, "%.1f,%.1f ", x0 + (l->n > 1 ? dx * (double)i : w / 2),
				base - l->y[i] / top * h);
	fputs("\"/>\n", out);
	for (size_t i = 0; i < l->n; i++) {
		if (l->y[i] != l->y[i])
			continue;
		int bad = l->bad && l->bad[i];
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>",
			x0 + (l->n > 1 ? dx * (double)i : w / 2), base - l->y[i] / top * h, bad ? 5 : 3,
			bad ? LIMIT_FILL : LINE_FILL);
		ff_chart_xml_text(out, l->x[i]);
		fprintf(out, ": %.6g</title></circle>\n", l->y[i]);
	}
	fputs("</svg>\n", out);
}

/* NaN as "-", as in the text table. */
static void cell(FILE *out, double v)
{
	if (v == v)
		fprintf(out, "<td>%.6g</td>", v);
	else
		fputs("<td>-</td>", out);
}

static int any_bad(const struct ff_trend *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->bad[i])
			return 1;
	return 0;
}

int ff_trend_html(const struct ff_trend *t, size_t n, const char *title, const char *subtitle,
		  FILE *out)
{
	ff_chart_page_begin(out, title);
	if (subtitle) {
		fputs("<p>", out);
		ff_chart_xml_text(out, subtitle);
		fputs("</p>\n", out);
	}
	fputs("<div class=\"scroll\"><table><tr><th>feature</th><th>largest PSI</th><th>in</th>"
	      "<th>status</th></tr>\n",
	      out);
	for (size_t i = 0; i < n; i++) {
		size_t worst = 0;
		for (size_t j = 1; j < t[i].n; j++)
			if (t[i].psi[j] > t[i].psi[worst] || t[i].psi[worst] != t[i].psi[worst])
				worst = j;
		fprintf(out, "<tr><td><a href=\"#f%zu\">", i);
		ff_chart_xml_text(out, t[i].name);
		fputs("</a></td>", out);
		cell(out, t[i].n ? t[i].psi[worst] : NAN);
		fputs("<td>", out);
		if (t[i].n)
			ff_chart_xml_text(out, t[i].period[worst]);
		fprintf(out, "</td><td class=\"%s\">%s</td></tr>\n", any_bad(&t[i]) ? "drift" : "ok",
			any_bad(&t[i]) ? "drift" : "ok");
	}
	fputs("</table></div>\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<section id=\"f%zu\"><h2>", i);
		ff_chart_xml_text(out, t[i].name);
		fputs("</h2>\n", out);
		struct ff_line l = {t[i].period, t[i].psi, t[i].bad, t[i].n,
				    "PSI of the period against the reference", "PSI", "period",
				    t[i].psi_threshold};
		ff_chart_line(&l, out);
		fputs("<div class=\"scroll\"><table><tr><th>period</th><th>rows</th><th>null share</th>"
		      "<th>PSI</th><th>KS</th><th>status</th></tr>\n",
		      out);
		for (size_t j = 0; j < t[i].n; j++) {
			fputs("<tr><td>", out);
			ff_chart_xml_text(out, t[i].period[j]);
			fprintf(out, "</td><td>%zu</td>", t[i].rows[j]);
			cell(out, t[i].nulls[j]);
			cell(out, t[i].psi[j]);
			cell(out, t[i].ks[j]);
			const char *status = t[i].psi[j] != t[i].psi[j] ? "no values"
					     : t[i].bad[j]		  ? "drift"
									  : "ok";
			fprintf(out, "<td class=\"%s\">%s</td></tr>\n", t[i].bad[j] ? "drift" : "ok", status);
		}
		fputs("</table></div></section>\n", out);
	}
	return ff_chart_page_end(out);
}
