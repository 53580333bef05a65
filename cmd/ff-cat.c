/* ff-cat: concatenate record streams (CSV or ff-rec binary) into one, in
 * either format. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_cell.h"
#include "ff_opt.h"
#include "ff_output.h"
#include "ff_rec.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-cat [--format csv|bin] [-o FILE] [FILE...]\n"
	"Concatenate record streams (FILE or stdin), CSV or ff-rec binary, told apart by\n"
	"their first bytes, into one stream in the output format. All inputs must have\n"
	"the same column names; the first input's column types are the output's.\n"
	"\n"
	"      --format FORMAT  output format: csv (default) or bin (ff-rec(5))\n"
	"  -o, --output FILE    write to FILE instead of stdout\n"
	"      --delimiter CHAR CSV input delimiter: one byte, or tab\n"
	"  -q, --quiet          no warnings\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n";

enum { OPT_FORMAT = 256 };

static const struct option options[] = {
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"delimiter", required_argument, NULL, FF_OPT_DELIMITER},
	FF_OPT_COMMON,
};

struct cat {
	enum ff_rec_format format;
	FILE *out;
	struct ff_rec_schema schema; /* of the output: the first input's */
	char *first;                 /* name of the first input */
	struct ff_rec_writer *w;
	int write_failed;

	/* the input being read */
	const char *name;
	struct ff_rec_reader *r;
	enum ff_type *in_types;
	int convert;             /* some column's type differs from the output's */
	struct ff_cell *cells;   /* converted cells */
	char *text;              /* FF_CELL_TEXT_MAX bytes per column for numbers as text */
};

static int on_schema(void *ctx, const struct ff_rec_schema *s)
{
	struct cat *c = ctx;
	if (!c->w) {
		for (size_t i = 0; i < s->ncols; i++)
			ff_rec_schema_add(&c->schema, s->names[i], s->types[i]);
		c->first = ff_xstrdup(c->name);
		c->cells = ff_xcalloc(s->ncols, sizeof *c->cells);
		c->text = ff_xmalloc(s->ncols * FF_CELL_TEXT_MAX);
		c->in_types = ff_xcalloc(s->ncols, sizeof *c->in_types);
		c->w = ff_rec_writer_open(c->out, c->format, &c->schema);
	}
	const struct ff_rec_schema *o = &c->schema;
	if (s->ncols != o->ncols)
		return ff_error("%s: %zu columns, %s has %zu", c->name, s->ncols, c->first,
				o->ncols);
	c->convert = 0;
	for (size_t i = 0; i < o->ncols; i++) {
		if (strcmp(s->names[i], o->names[i]) != 0)
			return ff_error("%s: column %zu is '%s', in %s it is '%s'", c->name, i + 1,
					s->names[i], c->first, o->names[i]);
		enum ff_type in = s->types[i], out = o->types[i];
		if (in != out && in != FF_TYPE_TEXT && out != FF_TYPE_TEXT)
			return ff_error("%s: column '%s' is %s, in %s it is %s", c->name,
					s->names[i], ff_type_name(in), c->first, ff_type_name(out));
		c->in_types[i] = in;
		c->convert |= in != out;
	}
	return 0;
}

/* A typed value as text (the output column is text), or text parsed into
 * the output column's type. Returns 0 or -1 (reported). */
static int convert(struct cat *c, size_t i, const struct ff_cell *in, struct ff_cell *out, long pos)
{
	enum ff_type to = c->schema.types[i];
	if (ff_cell_convert(in, c->in_types[i], to, out, c->text + i * FF_CELL_TEXT_MAX) == 0)
		return 0;
	char where[512];
	ff_rec_where(c->r, pos, where, sizeof where);
	const char *what = to == FF_TYPE_INTEGER ? "integer" : to == FF_TYPE_REAL ? "number" : "timestamp";
	return ff_error("%s: column '%s': bad %s '%.64s'", where, c->schema.names[i], what, in->s);
}

static int on_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	struct cat *c = ctx;
	if (n != c->schema.ncols) {
		char where[512];
		ff_rec_where(c->r, pos, where, sizeof where);
		return ff_error("%s: %zu fields, the header has %zu", where, n, c->schema.ncols);
	}
	if (c->convert) {
		for (size_t i = 0; i < n; i++)
			if (convert(c, i, &cells[i], &c->cells[i], pos) < 0)
				return -1;
		cells = c->cells;
	}
	if (ff_rec_writer_put(c->w, cells) < 0) {
		c->write_failed = 1;
		return -1;
	}
	return 0;
}

static int cat_file(struct cat *c, const char *path)
{
	FILE *f = ff_open_input(path);
	if (!f)
		return -1;
	c->name = ff_input_name(path);
	c->r = ff_rec_open(f, c->name);
	int rc = ff_rec_each(c->r, on_schema, on_row, c);
	ff_rec_close(c->r);
	c->r = NULL;
	if (f != stdin)
		fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	signal(SIGPIPE, SIG_DFL);
	const char *output = NULL;
	int format = FF_REC_CSV;

	int c;
	while ((c = getopt_long(argc, argv, ":o:qhV", options, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT: format = ff_opt_enum("--format", optarg, ff_rec_format_names); break;
		case 'o': output = optarg; break;
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	argc -= optind;
	argv += optind;

	struct ff_output out;
	if (ff_output_open(&out, output) < 0)
		return FF_EXIT_FAIL;
	struct cat cat = {.format = (enum ff_rec_format)format, .out = out.f};
	ff_rec_schema_init(&cat.schema);
	int rc = 0;
	if (argc == 0)
		rc = cat_file(&cat, "-");
	for (int i = 0; i < argc && rc == 0; i++)
		rc = cat_file(&cat, argv[i]);
	if (ff_rec_writer_close(cat.w) < 0 && rc == 0) {
		rc = -1;
		cat.write_failed = 1;
	}
	/* A failed write is reported by ff_output_close, which sees the
	 * stream's error flag and keeps no partial file; on other failures
	 * (already reported) the output is thrown away. */
	int ok = rc == 0 || (cat.write_failed && ferror(out.f));
	if (ff_output_close(&out, ok) < 0)
		rc = -1;

	ff_rec_schema_release(&cat.schema);
	free(cat.first);
	free(cat.cells);
	free(cat.text);
	free(cat.in_types);
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
