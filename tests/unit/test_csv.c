/* Unit tests of common/ff_csv: rows, NULLs, quoting and line numbers. */
#include <csv.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "ff_csv.h"
#include "unit.h"

struct seen {
	char text[1024];
	size_t len;
};

/* Rows as "line:field|field|~" where ~ marks a NULL field, one per line. */
static int collect(void *ctx, const struct ff_field *f, size_t n, long line)
{
	struct seen *s = ctx;
	s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len, "%ld:", line);
	for (size_t i = 0; i < n; i++)
		s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len, "%s%s",
					   i ? "|" : "", f[i].ptr ? f[i].ptr : "~");
	s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len, "\n");
	return 0;
}

static const char *parse(const char *input, struct seen *s)
{
	FILE *f = fmemopen((void *)input, strlen(input), "r");
	struct ff_csv_reader *r = ff_csv_open(f, "t.csv");
	memset(s, 0, sizeof *s);
	int rc = ff_csv_each(r, collect, s);
	ff_csv_close(r);
	fclose(f);
	return rc == 0 ? s->text : "error";
}

static int stop_at_second(void *ctx, const struct ff_field *f, size_t n, long line)
{
	(void)f;
	(void)n;
	(void)line;
	return ++*(int *)ctx == 2 ? 7 : 0;
}

/* ---- The reader against libcsv alone ----
 * The reader splits lines without quotes or CRs itself and gives libcsv the
 * others; on random text both must give the same rows, fields and lines. */

struct ref {
	char *text;
	size_t len, cap;
	long line, row_line;
	size_t nfields;
};

static void ref_put(struct ref *x, const char *fmt, const char *s, size_t n)
{
	if (x->len + n + 64 > x->cap) {
		x->cap = 2 * (x->len + n + 64);
		x->text = realloc(x->text, x->cap);
	}
	x->len += (size_t)snprintf(x->text + x->len, x->cap - x->len, fmt, (int)n, s);
}

static void ref_field(void *data, size_t len, void *user)
{
	struct ref *x = user;
	if (x->nfields++ == 0) {
		char at[32];
		x->row_line = x->line;
		snprintf(at, sizeof at, "%ld:", x->line);
		ref_put(x, "%.*s", at, strlen(at));
	} else {
		ref_put(x, "%.*s", "|", 1);
	}
	ref_put(x, "%.*s", data ? data : "~", data ? len : 1);
	for (size_t i = 0; data && i < len; i++)
		x->line += ((const char *)data)[i] == '\n';
}

static void ref_row(int c, void *user)
{
	struct ref *x = user;
	if (c == '\n')
		x->line++;
	if (x->nfields)
		ref_put(x, "%.*s", "\n", 1);
	x->nfields = 0;
}

static int no_blanks(unsigned char c)
{
	(void)c;
	return 0;
}

/* libcsv's rows of input, as collect writes them, or NULL for a syntax
 * error or a quoted field left open. */
static char *libcsv_rows(const char *input, size_t n)
{
	struct csv_parser p;
	struct ref x = {.line = 1};
	csv_init(&p, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL | CSV_REPALL_NL);
	csv_set_space_func(&p, no_blanks);
	ref_put(&x, "%.*s", "", 0);
	int ok = csv_parse(&p, input, n, ref_field, ref_row, &x) == n && !(p.quoted && p.pstate == 2) &&
		 csv_fini(&p, ref_field, ref_row, &x) == 0;
	csv_free(&p);
	if (!ok) {
		free(x.text);
		return NULL;
	}
	return x.text;
}

struct big {
	char *text;
	size_t len, cap;
};

static int collect_big(void *ctx, const struct ff_field *f, size_t n, long line)
{
	struct big *b = ctx;
	struct ref x = {.text = b->text, .len = b->len, .cap = b->cap};
	char at[32];
	snprintf(at, sizeof at, "%ld:", line);
	ref_put(&x, "%.*s", at, strlen(at));
	for (size_t i = 0; i < n; i++) {
		if (i)
			ref_put(&x, "%.*s", "|", 1);
		ref_put(&x, "%.*s", f[i].ptr ? f[i].ptr : "~", f[i].ptr ? f[i].len : 1);
		if (f[i].ptr && f[i].ptr[f[i].len] != '\0')
			ref_put(&x, "%.*s", "<no NUL>", 8);
	}
	ref_put(&x, "%.*s", "\n", 1);
	b->text = x.text;
	b->len = x.len;
	b->cap = x.cap;
	return 0;
}

static char *reader_rows(const char *input, size_t n)
{
	FILE *f = fmemopen((void *)input, n, "r");
	struct ff_csv_reader *r = ff_csv_open(f, "t.csv");
	struct big b = {0};
	struct ref x = {0};
	ref_put(&x, "%.*s", "", 0);
	b.text = x.text;
	b.len = x.len;
	b.cap = x.cap;
	int rc = ff_csv_each(r, collect_big, &b);
	ff_csv_close(r);
	fclose(f);
	if (rc != 0) {
		free(b.text);
		return NULL;
	}
	return b.text;
}

/* Random text of n bytes, mostly plain lines, from a small alphabet that
 * has every byte the reader treats apart. */
static void random_csv(char *out, size_t n, unsigned *seed, int plain_share)
{
	static const char alphabet[] = "ab,\"\n\r ";
	size_t i = 0;
	while (i < n) {
		if ((int)(rand_r(seed) % 100) < plain_share) {
			/* a plain line: fields of a b and blanks */
			size_t len = (size_t)(rand_r(seed) % 12);
			for (size_t k = 0; k < len && i < n; k++)
				out[i++] = "ab ,,"[rand_r(seed) % 5];
			if (i < n)
				out[i++] = '\n';
		} else if (plain_share < 90) {
			out[i++] = alphabet[rand_r(seed) % (sizeof alphabet - 1)];
		} else {
			/* a line with a quoted field (quotes, CRs, line breaks in
			 * it), ended by CRLF or LF */
			static const char *const quoted[] = {"a,\"x\ny\",b", "\"q\"\"q\",", ",\"\",\"a\rb\"",
							     "a,b\r", "\"\n\n\"", "x, \"y\"", "\"a,\"\"b\"\"\""};
			const char *q = quoted[rand_r(seed) % 7];
			for (; *q && i < n; q++)
				out[i++] = *q;
			if (i < n)
				out[i++] = '\n';
		}
	}
}

static void differential(void)
{
	unsigned seed = 42;
	int same = 1;
	char small[64];
	/* Both refuse many of these texts: keep their messages out. */
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	for (int t = 0; t < 20000 && same; t++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof small);
		random_csv(small, n, &seed, t % 2 ? 80 : 20);
		char *want = libcsv_rows(small, n), *got = reader_rows(small, n);
		same = (!want && !got) || (want && got && strcmp(want, got) == 0);
		if (!same)
			fprintf(stderr, "input %.*s\nlibcsv:\n%s\nreader:\n%s\n", (int)n, small,
				want ? want : "(error)", got ? got : "(error)");
		free(want);
		free(got);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(null);
	CHECK(same, "the reader gives libcsv's rows, fields and lines on random text");
	/* Larger than the reader's chunk: lines and quoted fields cut by it. */
	size_t n = 3 << 19;
	char *large = malloc(n);
	for (int t = 0; t < 4; t++) {
		char *want = NULL;
		for (int tries = 0; !want && tries < 100; tries++) {
			random_csv(large, n, &seed, 95 + t);
			want = libcsv_rows(large, n);
		}
		char *got = reader_rows(large, n);
		same = want && got && strcmp(want, got) == 0;
		free(want);
		free(got);
		if (!same)
			break;
	}
	free(large);
	CHECK(same, "the same across the reader's chunks");
}

int main(void)
{
	differential();

	struct seen s;
	CHECK_STR(parse("a,b\n1,2\n", &s), "1:a|b\n2:1|2\n", "plain rows");
	CHECK_STR(parse("a,b\n1,\n,\"\"\n", &s), "1:a|b\n2:1|~\n3:~|\n", "empty is NULL, quoted empty is text");
	CHECK_STR(parse("a,b\r\n1,2\r\n", &s), "1:a|b\n2:1|2\n", "CRLF");
	CHECK_STR(parse("a,b\n\n1,2\n", &s), "1:a|b\n3:1|2\n", "blank line skipped, lines still counted");
	CHECK_STR(parse("a,b\n\"x\ny\",2\n3,4\n", &s), "1:a|b\n2:x\ny|2\n4:3|4\n", "quoted line break");
	CHECK_STR(parse("a,b\n 1 ,2\n", &s), "1:a|b\n2: 1 |2\n", "blanks kept");
	CHECK_STR(parse("a,b\n1,2", &s), "1:a|b\n2:1|2\n", "no final line break");
	CHECK_STR(parse("a\n\"x\"\"y\"\n", &s), "1:a\n2:x\"y\n", "doubled quote");
	CHECK_STR(parse("", &s), "", "empty input");

	int count = 0;
	FILE *f = fmemopen((void *)"a\n1\n2\n3\n", 8, "r");
	struct ff_csv_reader *r = ff_csv_open(f, "t.csv");
	CHECK(ff_csv_each(r, stop_at_second, &count) == 7 && count == 2, "callback stops the reading");
	ff_csv_close(r);
	fclose(f);

	char *out = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&out, &size);
	ff_csv_put_field(m, "plain", 5);
	fputc(',', m);
	ff_csv_put_field(m, "a,b", 3);
	fputc(',', m);
	ff_csv_put_field(m, "say \"hi\"", 8);
	fputc(',', m);
	ff_csv_put_field(m, "", 0);
	fputc(',', m);
	ff_csv_put_field(m, NULL, 0);
	fclose(m);
	CHECK_STR(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"\",", "writer quotes what needs it");
	free(out);

	/* Hints for a missing column. */
	char hint[160];
	const char *semi[] = {"when;zip;fare"}, *tab[] = {"when\tzip"}, *spaced[] = {"when", " zip "};
	const char *fine[] = {"when", "zip"}, *one[] = {"a;b"};
	CHECK_STR(ff_csv_header_hint(semi, 1, "zip", hint, sizeof hint),
		  "; the header is one field holding ';': is the file delimited by ';'?", "hint: ';'");
	CHECK_STR(ff_csv_header_hint(tab, 1, "zip", hint, sizeof hint),
		  "; the header is one field holding a tab: is the file delimited by tabs?", "hint: tab");
	CHECK_STR(ff_csv_header_hint(spaced, 2, "zip", hint, sizeof hint),
		  "; column ' zip ' has spaces around it", "hint: spaces around a name");
	CHECK_STR(ff_csv_header_hint(fine, 2, "fare", hint, sizeof hint), "", "no hint for a plain miss");
	CHECK_STR(ff_csv_header_hint(one, 1, "a;b", hint, sizeof hint), "", "no hint when the one field is the name");

	/* Another delimiter for the readers. */
	CHECK(ff_csv_set_delimiter("xy") < 0 && ff_csv_set_delimiter("\"") < 0 &&
	      ff_csv_set_delimiter("a") < 0 && ff_csv_set_delimiter("") < 0, "bad delimiters refused");
	CHECK(ff_csv_set_delimiter(";") == 0, "';' taken");
	CHECK_STR(parse("a;b\n1;\"x;y\"\n", &s), "1:a|b\n2:1|x;y\n", "read with ';'");
	CHECK(ff_csv_set_delimiter("tab") == 0, "'tab' taken");
	CHECK_STR(parse("a\tb\n1,5\t2\n", &s), "1:a|b\n2:1,5|2\n", "read with tabs");
	ff_csv_set_delimiter(",");
	CHECK_STR(parse("a,b\n1,2\n", &s), "1:a|b\n2:1|2\n", "back to commas");
	return UNIT_DONE();
}
