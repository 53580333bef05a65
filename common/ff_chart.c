#include "ff_chart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ff_drift.h"
#include "ff_util.h"

#define BAR_WIDTH 24

static int whole(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] != floor(v[i]))
			return 0;
	return 1;
}

void ff_chart_fill(struct ff_chart *c, const double *ref, size_t nref, const double *cur,
		   size_t ncur)
{
	c->lo = fmin(ff_quantile(ref, nref, 0.01), ff_quantile(cur, ncur, 0.01));
	c->hi = fmax(ff_quantile(ref, nref, 0.99), ff_quantile(cur, ncur, 0.99));
	if (!(c->hi > c->lo)) { /* a spike: widen to the whole range */
		c->lo = fmin(ref[0], cur[0]);
		c->hi = fmax(ref[nref - 1], cur[ncur - 1]);
	}
	c->nbins = FF_CHART_BINS;
	double min = fmin(ref[0], cur[0]), max = fmax(ref[nref - 1], cur[ncur - 1]);
	/* Whole numbers in a short range, or one value: a bar per value. */
	c->whole = max == min || (max - min < FF_CHART_BINS && whole(ref, nref) && whole(cur, ncur));
	if (c->whole) {
		c->lo = min;
		c->hi = max;
	}
	double lo = c->lo, hi = c->hi;
	if (c->whole) {
		c->nbins = (size_t)(c->hi - c->lo) + 1;
		lo -= 0.5;
		hi += 0.5;
	}
	size_t counts[FF_CHART_BINS];
	ff_histogram(ref, nref, lo, hi, c->nbins, counts);
	for (size_t j = 0; j < c->nbins; j++)
		c->ref[j] = (double)counts[j] / (double)nref;
	ff_histogram(cur, ncur, lo, hi, c->nbins, counts);
	for (size_t j = 0; j < c->nbins; j++)
		c->cur[j] = (double)counts[j] / (double)ncur;
}

static double edge(const struct ff_chart *c, size_t j)
{
	if (c->whole)
		return c->lo + (double)j;
	return c->lo + (c->hi - c->lo) * (double)j / (double)c->nbins;
}

/* "lo .. hi" of bin j, or its number for whole numbers. */
static int bin_label(const struct ff_chart *c, size_t j, char *buf, size_t size)
{
	if (c->whole)
		return snprintf(buf, size, "%.15g", edge(c, j));
	return snprintf(buf, size, "%.4g .. %.4g", edge(c, j), edge(c, j + 1));
}

/* A bar of share / top of BAR_WIDTH columns, padded to BAR_WIDTH. */
static void bar(FILE *out, double share, double top, int ascii)
{
	static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
	int units = top > 0 ? (int)lround(share / top * BAR_WIDTH * 8) : 0;
	int full = units / 8, part = units % 8, cols = full;
	for (int i = 0; i < full; i++)
		fputs(ascii ? "#" : "█", out);
	if (ascii && part >= 4) {
		putc('#', out);
		cols++;
	} else if (!ascii && part) {
		fputs(eighths[part], out);
		cols++;
	}
	fprintf(out, "%*s", BAR_WIDTH - cols, "");
}

void ff_chart_text(const struct ff_chart *c, FILE *out, int ascii)
{
	double top = 0;
	char label[FF_CHART_BINS][64];
	int width = 0;
	for (size_t j = 0; j < c->nbins; j++) {
		top = fmax(top, fmax(c->ref[j], c->cur[j]));
		int n = bin_label(c, j, label[j], sizeof label[j]);
		if (n > width)
			width = n;
	}
	fprintf(out, "%s: PSI %.4f, KS %.4f, %s\n", c->name, c->psi, c->ks, c->status);
	fprintf(out, "  %*s  %-*s  current\n", width, "", BAR_WIDTH + 7, "reference");
	for (size_t j = 0; j < c->nbins; j++) {
		fprintf(out, "  %*s  ", width, label[j]);
		bar(out, c->ref[j], top, ascii);
		fprintf(out, " %5.1f%%  ", 100 * c->ref[j]);
		bar(out, c->cur[j], top, ascii);
		fprintf(out, " %5.1f%%\n", 100 * c->cur[j]);
	}
}

void ff_chart_xml_text(FILE *out, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = ff_utf8_length(s + i, n - i);
		if (len == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			fputs("\xef\xbf\xbd", out), len = len ? len : 1;
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '&')
			fputs("&amp;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else
			fwrite(s + i, 1, len, out);
		i += len;
	}
}

/* The lines of text wrapped at spaces to at most width bytes (a word
 * longer than a line gets a line of its own, whole): SVG text does not wrap,
 * and a title cut at the edge of the picture loses its end. */
/* The length of the first line of s wrapped at spaces to at most width
 * bytes (a word longer than a line gets a line of its own, whole). */
static size_t wrap_cut(const char *s, size_t width)
{
	size_t len = strlen(s), cut = len;
	if (len > width) {
		cut = width;
		while (cut > 0 && s[cut] != ' ')
			cut--;
		if (cut == 0) /* one long word */
			for (cut = width; s[cut] && s[cut] != ' '; cut++)
				;
	}
	return cut;
}

/* The lines of text wrapped to width from y down (none if out is NULL):
 * SVG text does not wrap, and a title cut at the edge of the picture loses
 * its end. Returns the number of lines. */
static size_t svg_lines(FILE *out, const char *text, double x, double y, size_t width,
			const char *attrs)
{
	size_t n = 0;
	for (const char *s = text; *s; n++, y += 18) {
		size_t cut = wrap_cut(s, width);
		if (out) {
			fprintf(out, "<text x=\"%.0f\" y=\"%.0f\"%s>", x, y, attrs);
			char *line = ff_xmalloc(cut + 1);
			memcpy(line, s, cut);
			line[cut] = '\0';
			ff_chart_xml_text(out, line);
			free(line);
			fputs("</text>\n", out);
		}
		s += cut;
		while (*s == ' ')
			s++;
	}
	return n;
}

#define PANEL_W 760
#define PANEL_H 250
#define REF_FILL "#9a9a9a"
#define CUR_FILL "#2f6db5"

void ff_chart_legend(FILE *out, double x, double y, const char *a, const char *fill_a,
		     const char *b, const char *fill_b)
{
	fprintf(out, "<g class=\"legend\"><rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		     "<text x=\"%.0f\" y=\"%.0f\">%s</text>",
		x, y - 10, fill_a, x + 16, y, a);
	fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		     "<text x=\"%.0f\" y=\"%.0f\">%s</text></g>\n",
		x + 120, y - 10, fill_b, x + 136, y, b);
}

/* One chart at y: title, legend, a y axis of shares, paired bars of the two
 * samples with their shares above them, an x axis of bin edges. */
static void svg_panel(const struct ff_chart *c, double y, FILE *out)
{
	double top = 0, x0 = 56, w = PANEL_W - 76, h = 150, base = y + 60 + h;
	for (size_t j = 0; j < c->nbins; j++)
		top = fmax(top, fmax(c->ref[j], c->cur[j]));
	fprintf(out, "<text x=\"10\" y=\"%.0f\" font-weight=\"bold\">", y + 18);
	ff_chart_xml_text(out, c->name);
	fprintf(out, "</text><text x=\"10\" y=\"%.0f\">PSI %.4f, KS %.4f, %s</text>\n", y + 36,
		c->psi, c->ks, c->status);
	ff_chart_legend(out, PANEL_W - 250, y + 36, "reference", REF_FILL, "current", CUR_FILL);
	/* The y axis: 0 and the tallest bar's share, with a grid line at half. */
	for (int k = 0; k <= 2; k++) {
		double v = top * k / 2, yy = base - h * k / 2;
		fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			     "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"10\">%.1f%%</text>\n",
			x0, yy, x0 + w, yy, x0 - 4, yy + 3, 100 * v);
	}
	fprintf(out, "<text x=\"12\" y=\"%.0f\" font-size=\"10\" transform=\"rotate(-90 12 %.0f)\" "
		     "text-anchor=\"middle\">share of rows</text>\n",
		base - h / 2, base - h / 2);
	double bw = w / (double)c->nbins;
	for (size_t j = 0; j < c->nbins; j++) {
		double x = x0 + bw * (double)j;
		double hr = top > 0 ? c->ref[j] / top * h : 0, hc = top > 0 ? c->cur[j] / top * h : 0;
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"" REF_FILL "\"><title>reference %.1f%%</title></rect>",
			x + 2, base - hr, bw / 2 - 2, hr, 100 * c->ref[j]);
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"" CUR_FILL "\"><title>current %.1f%%</title></rect>\n",
			x + bw / 2, base - hc, bw / 2 - 2, hc, 100 * c->cur[j]);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"8\" text-anchor=\"middle\">%.1f</text>"
			     "<text x=\"%.1f\" y=\"%.1f\" font-size=\"8\" text-anchor=\"middle\">%.1f</text>\n",
			x + 1 + bw / 4, base - hr - 2, 100 * c->ref[j], x + bw * 3 / 4 - 1,
			base - hc - 2, 100 * c->cur[j]);
		char label[64];
		if (c->whole)
			snprintf(label, sizeof label, "%.15g", edge(c, j));
		else if (j % 2 == 0)
			snprintf(label, sizeof label, "%.4g", edge(c, j));
		else
			continue;
		fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"%s\">%s</text>\n",
			c->whole ? x + bw / 2 : x, base + 14, c->whole ? "middle" : "start", label);
	}
	if (!c->whole)
		fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"end\">%.4g</text>\n",
			x0 + w, base + 14, edge(c, c->nbins));
	fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>"
		     "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n",
		x0, base, x0 + w, base, x0, base, x0, base - h);
	fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"middle\">%s; "
		     "the number above a bar: its share of rows in %%</text>\n",
		x0 + w / 2, base + 30, c->whole ? "value" : "bins of the value, from its 1st to its 99th percentile");
}

static void svg_charts(const struct ff_chart *charts, size_t n, const char *title, FILE *out)
{
	size_t lines = title ? svg_lines(NULL, title, 0, 0, 90, "") : 0;
	double head = 10 + 18 * (double)lines, height = head + (double)n * PANEL_H;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %.0f\" width=\"%d\" "
		     "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
		PANEL_W, height, PANEL_W, height);
	if (title)
		svg_lines(out, title, 10, 20, 90, " font-size=\"14\"");
	for (size_t i = 0; i < n; i++)
		svg_panel(&charts[i], head + (double)i * PANEL_H, out);
	fputs("</svg>\n", out);
}

int ff_chart_svg(const struct ff_chart *charts, size_t n, const char *title, FILE *out)
{
	svg_charts(charts, n, title, out);
	return ferror(out) ? -1 : 0;
}

void ff_chart_page_begin(FILE *out, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      out);
	ff_chart_xml_text(out, title);
	fputs("</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:1em auto;padding:0 1em;max-width:60em;color:#222}\n"
	      "h1{font-size:1.3em;overflow-wrap:anywhere}h2{font-size:1.1em;overflow-wrap:anywhere}\n"
	      ".scroll{overflow-x:auto}table{border-collapse:collapse;margin:.5em 0}\n"
	      "td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee;white-space:nowrap}\n"
	      "td:first-child,th:first-child{text-align:left}\n"
	      "svg{max-width:100%;height:auto;display:block}\n"
	      ".drift{color:#b00;font-weight:bold}.ok{color:#060}\n"
	      ".key{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin:0 .3em}\n"
	      "</style></head><body>\n<h1>",
	      out);
	ff_chart_xml_text(out, title);
	fputs("</h1>\n", out);
}

int ff_chart_page_end(FILE *out)
{
	fputs("</body></html>\n", out);
	return ferror(out) ? -1 : 0;
}

int ff_chart_html(const struct ff_chart *charts, size_t n, const char *title, FILE *out)
{
	ff_chart_page_begin(out, title);
	fputs("<p>Bars: <span class=\"key\" style=\"background:" REF_FILL "\"></span>reference, "
	      "<span class=\"key\" style=\"background:" CUR_FILL "\"></span>current.</p>\n",
	      out);
	fputs("<div class=\"scroll\"><table><tr><th>feature</th><th>PSI</th><th>KS</th><th>status</th></tr>\n", out);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", out);
		ff_chart_xml_text(out, charts[i].name);
		fprintf(out, "</td><td>%.6g</td><td>%.6g</td><td class=\"%s\">%s</td></tr>\n",
			charts[i].psi, charts[i].ks, charts[i].status, charts[i].status);
	}
	fputs("</table></div>\n", out);
	svg_charts(charts, n, NULL, out);
	return ff_chart_page_end(out);
}
