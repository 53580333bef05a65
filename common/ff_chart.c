#include "ff_chart.h"

#include <math.h>
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

/* Text for XML: bytes that are not UTF-8, and control characters (not
 * allowed in XML 1.0 even as references), become U+FFFD. */
static void xml_text(FILE *out, const char *s)
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

#define PANEL_W 640
#define PANEL_H 220

/* One chart at y: title, paired bars of the two samples, edge labels. */
static void svg_panel(const struct ff_chart *c, double y, FILE *out)
{
	double top = 0, x0 = 50, w = PANEL_W - 70, h = 150, base = y + 30 + h;
	for (size_t j = 0; j < c->nbins; j++)
		top = fmax(top, fmax(c->ref[j], c->cur[j]));
	fprintf(out, "<text x=\"10\" y=\"%.0f\" font-weight=\"bold\">", y + 18);
	xml_text(out, c->name);
	fprintf(out, "</text><text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">PSI %.4f, KS %.4f, %s</text>\n",
		PANEL_W - 10, y + 18, c->psi, c->ks, c->status);
	double bw = w / (double)c->nbins;
	for (size_t j = 0; j < c->nbins; j++) {
		double x = x0 + bw * (double)j;
		double hr = top > 0 ? c->ref[j] / top * h : 0, hc = top > 0 ? c->cur[j] / top * h : 0;
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#999\"><title>reference %.1f%%</title></rect>",
			x + 2, base - hr, bw / 2 - 2, hr, 100 * c->ref[j]);
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3573b9\"><title>current %.1f%%</title></rect>\n",
			x + bw / 2, base - hc, bw / 2 - 2, hc, 100 * c->cur[j]);
		char label[64];
		bin_label(c, j, label, sizeof label);
		if (c->whole || j % 3 == 0)
			fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\">%s</text>\n",
				x + 2, base + 14, label);
	}
	fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n", x0,
		base, x0 + w, base);
}

int ff_chart_svg(const struct ff_chart *charts, size_t n, const char *title, FILE *out)
{
	double height = 40 + (double)n * PANEL_H;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
		     "font-family=\"sans-serif\" font-size=\"12\">\n", PANEL_W, height);
	fprintf(out, "<text x=\"10\" y=\"20\" font-size=\"14\">");
	xml_text(out, title);
	fprintf(out, " (grey: reference, blue: current)</text>\n");
	for (size_t i = 0; i < n; i++)
		svg_panel(&charts[i], 30 + (double)i * PANEL_H, out);
	fputs("</svg>\n", out);
	return ferror(out) ? -1 : 0;
}

int ff_chart_html(const struct ff_chart *charts, size_t n, const char *title, FILE *out)
{
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", out);
	xml_text(out, title);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}"
	      "td,th{padding:2px 10px;text-align:right}td:first-child{text-align:left}"
	      ".drift{color:#b00;font-weight:bold}</style></head><body>\n<h1>", out);
	xml_text(out, title);
	fputs("</h1>\n<table><tr><th>feature</th><th>PSI</th><th>KS</th><th>status</th></tr>\n", out);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", out);
		xml_text(out, charts[i].name);
		fprintf(out, "</td><td>%.4f</td><td>%.4f</td><td class=\"%s\">%s</td></tr>\n",
			charts[i].psi, charts[i].ks, charts[i].status, charts[i].status);
	}
	fputs("</table>\n", out);
	ff_chart_svg(charts, n, title, out);
	fputs("</body></html>\n", out);
	return ferror(out) ? -1 : 0;
}
