/* Unit tests of common/ff_csv: rows, NULLs, quoting and line numbers. */
#include <stdlib.h>

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

int main(void)
{
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
