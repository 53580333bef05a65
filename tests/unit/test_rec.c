/* Unit tests of common/ff_rec: round trips in both formats through memory
 * streams, format detection, records across read chunks, damaged input. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ff_rec.h"
#include "ff_util.h"
#include "unit.h"

/* Bytes the allocator has handed out and not had back. */
#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void); /* ASan's allocator */
static size_t allocated(void) { return __sanitizer_get_current_allocated_bytes(); }
#else
#include <malloc.h>
static size_t allocated(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}
#endif

/* ---- a table of cells to write, and what a reader gave back ---- */

enum { NCOLS = 5, MAXROWS = 16 };

static const enum ff_type types[NCOLS] = {FF_TYPE_TEXT, FF_TYPE_INTEGER, FF_TYPE_REAL,
					  FF_TYPE_TIMESTAMP, FF_TYPE_TEXT};
static const char *const names[NCOLS] = {"name", "count", "mean, \"quoted\"", "at", "note\nline 2"};

#define T(s)                                                                                       \
	{                                                                                          \
		0, 0, 0, s, sizeof s - 1                                                           \
	}
#define NUL                                                                                        \
	{                                                                                          \
		1, 0, 0, NULL, 0                                                                   \
	}
#define I(v)                                                                                       \
	{                                                                                          \
		0, v, 0, NULL, 0                                                                   \
	}
#define D(v)                                                                                       \
	{                                                                                          \
		0, 0, v, NULL, 0                                                                   \
	}

static struct ff_cell rows[MAXROWS][NCOLS];
static size_t nrows;

static void fill_rows(void)
{
	const struct ff_cell r[][NCOLS] = {
	    {T("plain"), I(0), D(0.1), I(0), T("")},
	    {T(""), I(INT64_MIN), D(-0.0), I(-1), NUL},
	    {NUL, I(INT64_MAX), D(1e308), I(1), T("a,b")},
	    {T("say \"hi\""), I(-1), D(DBL_TRUE_MIN), I(1700000000123456), T("x\ny\r\nz")},
	    {T("caf\xc3\xa9 \xe2\x82\xac \xff\x80"), NUL, D(2.2250738585072009e-308), NUL,
	     T(" lead")},
	    {T("\"\""), I(42), NUL, I(-86400000001), T("trail ")},
	    {NUL, NUL, NUL, NUL, NUL},
	    {T(","), I(1), D(-DBL_MAX), I(INT64_MAX), T("\"")},
	    {T("x"), I(2), D(INFINITY), I(INT64_MIN), T("\n")},
	    {T("y"), I(3), D(-INFINITY), I(0), T("z")},
	};
	nrows = sizeof r / sizeof r[0];
	memcpy(rows, r, sizeof r);
}

static void schema_of_table(struct ff_rec_schema *s)
{
	ff_rec_schema_init(s);
	for (size_t i = 0; i < NCOLS; i++)
		ff_rec_schema_add(s, names[i], types[i]);
}

/* What a reader gave: the schema, and every cell as a copy. */
struct got {
	struct ff_rec_schema schema;
	size_t nrows;
	size_t n[MAXROWS];
	long pos[MAXROWS];
	struct ff_cell cells[MAXROWS][NCOLS + 2];
	char *texts[MAXROWS][NCOLS + 2];
	int terminated; /* every text had a NUL after it */
};

static int got_schema(void *ctx, const struct ff_rec_schema *s)
{
	struct got *g = ctx;
	for (size_t i = 0; i < s->ncols; i++)
		ff_rec_schema_add(&g->schema, s->names[i], s->types[i]);
	return 0;
}

static int got_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	struct got *g = ctx;
	if (g->nrows == MAXROWS || n > NCOLS + 2)
		return 99;
	g->n[g->nrows] = n;
	g->pos[g->nrows] = pos;
	for (size_t i = 0; i < n; i++) {
		g->cells[g->nrows][i] = cells[i];
		if (cells[i].s) {
			g->texts[g->nrows][i] = malloc(cells[i].len + 1);
			memcpy(g->texts[g->nrows][i], cells[i].s, cells[i].len);
			g->texts[g->nrows][i][cells[i].len] = '\0';
			g->cells[g->nrows][i].s = g->texts[g->nrows][i];
			if (cells[i].s[cells[i].len] != '\0')
				g->terminated = 0;
		}
	}
	g->nrows++;
	return 0;
}

static void got_init(struct got *g)
{
	memset(g, 0, sizeof *g);
	ff_rec_schema_init(&g->schema);
	g->terminated = 1;
}

static void got_release(struct got *g)
{
	for (size_t r = 0; r < g->nrows; r++)
		for (size_t i = 0; i < g->n[r]; i++)
			free(g->texts[r][i]);
	ff_rec_schema_release(&g->schema);
}

/* Read data through ff_rec; returns ff_rec_each's value. */
static int read_mem(const char *data, size_t len, struct got *g, enum ff_rec_format *format)
{
	got_init(g);
	FILE *f = fmemopen((void *)data, len, "r");
	struct ff_rec_reader *r = ff_rec_open(f, "mem");
	int rc = ff_rec_each(r, got_schema, got_row, g);
	if (format)
		*format = ff_rec_input_format(r);
	ff_rec_close(r);
	fclose(f);
	return rc;
}

/* Write the table; returns the bytes (malloc'd) and their length. */
static char *write_mem(enum ff_rec_format format, const struct ff_rec_schema *s,
		       struct ff_cell (*cells)[NCOLS], size_t n, size_t *len)
{
	char *out = NULL;
	FILE *m = open_memstream(&out, len);
	struct ff_rec_writer *w = ff_rec_writer_open(m, format, s);
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		rc |= ff_rec_writer_put(w, cells[i]);
	rc |= ff_rec_writer_close(w);
	fclose(m);
	if (rc) {
		free(out);
		return NULL;
	}
	return out;
}

static int same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

/* Cell a (written) and b (read) hold the same value of type t. */
static int same_cell(const struct ff_cell *a, const struct ff_cell *b, enum ff_type t)
{
	if (a->null || b->null)
		return a->null == b->null && b->s == NULL;
	switch (t) {
	case FF_TYPE_TEXT:
		return a->len == b->len && b->s && memcmp(a->s, b->s, a->len) == 0;
	case FF_TYPE_REAL:
		return same_bits(a->d, b->d);
	default:
		return a->i == b->i;
	}
}

static int same_table(const struct got *g, struct ff_cell (*cells)[NCOLS], size_t n,
		      const enum ff_type *t)
{
	if (g->nrows != n)
		return 0;
	for (size_t r = 0; r < n; r++) {
		if (g->n[r] != NCOLS)
			return 0;
		for (size_t i = 0; i < NCOLS; i++)
			if (!same_cell(&cells[r][i], &g->cells[r][i], t[i])) {
				printf("# row %zu column %zu differs\n", r + 1, i + 1);
				return 0;
			}
	}
	return 1;
}

static int same_schema(const struct ff_rec_schema *a, const struct ff_rec_schema *b)
{
	if (a->ncols != b->ncols)
		return 0;
	for (size_t i = 0; i < a->ncols; i++)
		if (strcmp(a->names[i], b->names[i]) != 0 || a->types[i] != b->types[i])
			return 0;
	return 1;
}

/* ---- stderr captured, to check messages ---- */

static char *err_text;
static size_t err_len;
static FILE *saved_stderr;

static void capture(void)
{
	saved_stderr = stderr;
	stderr = open_memstream(&err_text, &err_len);
}

static const char *captured(void)
{
	fclose(stderr);
	stderr = saved_stderr;
	return err_text;
}

static int read_error(const char *data, size_t len, const char *want)
{
	struct got g;
	capture();
	int rc = read_mem(data, len, &g, NULL);
	const char *msg = captured();
	int ok = rc == -1 && strstr(msg, want) != NULL;
	if (!ok)
		printf("# rc %d, message: %s", rc, msg);
	free(err_text);
	err_text = NULL;
	got_release(&g);
	return ok;
}

/* ---- tests ---- */

static void test_binary_round_trip(void)
{
	struct ff_rec_schema s;
	schema_of_table(&s);
	size_t len;
	char *bin = write_mem(FF_REC_BIN, &s, rows, nrows, &len);
	CHECK(bin != NULL, "binary: written");
	CHECK(len > 8 && memcmp(bin,
				"\x89"
				"FFR\r\n\x1a\n\x01\x05\0\0\0",
				13) == 0,
	      "binary: magic, version, column count");

	struct got g;
	enum ff_rec_format fmt;
	CHECK(read_mem(bin, len, &g, &fmt) == 0, "binary: read back");
	CHECK(fmt == FF_REC_BIN, "binary: detected");
	CHECK(same_schema(&s, &g.schema), "binary: names and types kept");
	CHECK(same_table(&g, rows, nrows, types), "binary: every value kept, bit for bit");
	CHECK(g.terminated, "binary: texts are NUL-terminated");
	CHECK(g.pos[0] == 1 && g.pos[nrows - 1] == (long)nrows,
	      "binary: positions are record numbers");
	got_release(&g);

	/* NaN with a payload, and a NUL inside a text: binary keeps both. */
	struct ff_cell odd[1][NCOLS] = {{{0, 0, 0, "a\0b", 3}, I(7), D(0), I(8), NUL}};
	uint64_t nan_bits = 0x7ff0000000000123ULL;
	memcpy(&odd[0][2].d, &nan_bits, 8);
	size_t len2;
	char *bin2 = write_mem(FF_REC_BIN, &s, odd, 1, &len2);
	CHECK(bin2 && read_mem(bin2, len2, &g, NULL) == 0 && same_table(&g, odd, 1, types),
	      "binary: NaN payload and NUL byte in a text kept");
	got_release(&g);
	free(bin2);

	/* A stream re-encoded from what was read gives the same bytes. */
	CHECK(read_mem(bin, len, &g, NULL) == 0, "binary: read for re-encoding");
	struct ff_cell again[MAXROWS][NCOLS];
	for (size_t r = 0; r < g.nrows; r++)
		memcpy(again[r], g.cells[r], sizeof again[r]);
	char *bin3 = write_mem(FF_REC_BIN, &g.schema, again, g.nrows, &len2);
	CHECK(bin3 && len2 == len && memcmp(bin3, bin, len) == 0,
	      "binary: bin -> bin identical bytes");
	free(bin3);
	got_release(&g);

	free(bin);
	ff_rec_schema_release(&s);
}

static void test_csv_writer(void)
{
	struct ff_rec_schema s;
	schema_of_table(&s);
	size_t len;
	char *csv = write_mem(FF_REC_CSV, &s, rows, nrows, &len);
	/* Reals as ff_format_double writes them (their reading back to the
	 * same bits is checked below). */
	char d[MAXROWS][32];
	for (size_t r = 0; r < nrows; r++)
		if (!rows[r][2].null)
			ff_format_double(d[r], rows[r][2].d);
	char want_csv[2048];
	snprintf(want_csv, sizeof want_csv,
		 "name,count,\"mean, \"\"quoted\"\"\",at,\"note\nline 2\"\n"
		 "plain,0,%s,1970-01-01 00:00:00,\"\"\n"
		 "\"\",-9223372036854775808,%s,1969-12-31 23:59:59.999999,\n"
		 ",9223372036854775807,%s,1970-01-01 00:00:00.000001,\"a,b\"\n"
		 "\"say \"\"hi\"\"\",-1,%s,2023-11-14 22:13:20.123456,\"x\ny\r\nz\"\n"
		 "caf\xc3\xa9 \xe2\x82\xac \xff\x80,,%s,, lead\n"
		 "\"\"\"\"\"\",42,,1969-12-30 23:59:59.999999,trail \n"
		 ",,,,\n"
		 "\",\",1,%s,294247-01-10 04:00:54.775807,\"\"\"\"\n"
		 "x,2,%s,-290308-12-21 19:59:05.224192,\"\n\"\n"
		 "y,3,%s,1970-01-01 00:00:00,z\n",
		 d[0], d[1], d[2], d[3], d[4], d[7], d[8], d[9]);
	CHECK_STR(d[1], "-0", "CSV: negative zero is -0");
	if (csv)
		for (size_t i = 0; i < len; i++)
			if (csv[i] != want_csv[i]) {
				printf("# first difference at byte %zu: %.20s\n", i, csv + i);
				break;
			}
	CHECK_STR(csv ? csv : "", want_csv,
		  "CSV: header, quoting, integers, reals, timestamps, NULL vs empty");

	/* Read back, every column is text: the text columns are the same,
	 * the numbers read back to the same values. */
	struct got g;
	enum ff_rec_format fmt;
	CHECK(read_mem(csv, len, &g, &fmt) == 0 && fmt == FF_REC_CSV, "CSV: read back, detected");
	CHECK(g.schema.ncols == NCOLS && strcmp(g.schema.names[2], names[2]) == 0 &&
		  strcmp(g.schema.names[4], names[4]) == 0 && g.schema.types[1] == FF_TYPE_TEXT,
	      "CSV: header names kept, all text");
	int texts_same = g.nrows == nrows, numbers_same = g.nrows == nrows;
	for (size_t r = 0; r < g.nrows && r < nrows; r++) {
		texts_same &= same_cell(&rows[r][0], &g.cells[r][0], FF_TYPE_TEXT) &&
			      same_cell(&rows[r][4], &g.cells[r][4], FF_TYPE_TEXT);
		const struct ff_cell *c = &g.cells[r][2];
		numbers_same &=
		    rows[r][2].null ? c->null : c->s && same_bits(strtod(c->s, NULL), rows[r][2].d);
	}
	CHECK(texts_same,
	      "CSV: texts kept (empty vs NULL, quotes, commas, line breaks, bytes >= 0x80)");
	CHECK(numbers_same, "CSV: reals read back to the same bits");
	CHECK(g.terminated, "CSV: texts are NUL-terminated");
	CHECK(g.pos[0] == 3 && g.pos[4] == 9,
	      "CSV: positions are lines (after line breaks in fields)");
	got_release(&g);
	free(csv);
	ff_rec_schema_release(&s);
}

/* CSV -> binary -> CSV: the same bytes. */
struct relay {
	struct ff_rec_writer *w;
	FILE *out;
	enum ff_rec_format format;
};

static int relay_schema(void *ctx, const struct ff_rec_schema *s)
{
	struct relay *x = ctx;
	x->w = ff_rec_writer_open(x->out, x->format, s);
	return 0;
}

static int relay_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	(void)n;
	(void)pos;
	return ff_rec_writer_put(((struct relay *)ctx)->w, cells);
}

static char *convert(const char *in, size_t len, enum ff_rec_format to, size_t *outlen)
{
	char *out = NULL;
	struct relay x = {NULL, open_memstream(&out, outlen), to};
	FILE *f = fmemopen((void *)in, len, "r");
	struct ff_rec_reader *r = ff_rec_open(f, "mem");
	int rc = ff_rec_each(r, relay_schema, relay_row, &x);
	rc |= ff_rec_writer_close(x.w);
	ff_rec_close(r);
	fclose(f);
	fclose(x.out);
	if (rc) {
		free(out);
		return NULL;
	}
	return out;
}

static void test_csv_bin_csv(void)
{
	static const char csv[] = "a,\"b,c\",\"d\"\"e\",\"\"\n"
				  "1,,\"\",x\n"
				  "\"multi\nline\",\"q\"\"q\",caf\xc3\xa9,\n"
				  ",,,\n";
	size_t blen, clen;
	char *bin = convert(csv, sizeof csv - 1, FF_REC_BIN, &blen);
	char *back = bin ? convert(bin, blen, FF_REC_CSV, &clen) : NULL;
	CHECK(back && clen == sizeof csv - 1 && memcmp(back, csv, clen) == 0,
	      "CSV -> bin -> CSV: same bytes");
	size_t b2len;
	char *bin2 = bin ? convert(bin, blen, FF_REC_BIN, &b2len) : NULL;
	CHECK(bin2 && b2len == blen && memcmp(bin, bin2, blen) == 0, "bin -> bin: same bytes");
	free(bin2);
	free(back);
	free(bin);

	/* Shorter than the magic number: the sniffed bytes are given back. */
	struct got g;
	enum ff_rec_format fmt;
	CHECK(read_mem("a\n1\n", 4, &g, &fmt) == 0 && fmt == FF_REC_CSV && g.nrows == 1 &&
		  strcmp(g.schema.names[0], "a") == 0 && strcmp(g.cells[0][0].s, "1") == 0,
	      "CSV shorter than 8 bytes");
	got_release(&g);
	CHECK(read_mem("x,y\n1,2,3\n4\n", 12, &g, NULL) == 0 && g.nrows == 2 && g.n[0] == 3 &&
		  g.n[1] == 1 && g.pos[1] == 3,
	      "CSV rows of another field count are passed on");
	got_release(&g);
	CHECK(read_mem("a,b\n", 4, &g, &fmt) == 0 && fmt == FF_REC_CSV && g.schema.ncols == 2 &&
		  g.nrows == 0,
	      "CSV header only");
	got_release(&g);
}

/* Many records across the 1 MiB read chunks, and one larger than a chunk. */
enum { CHUNK_ROWS = 300000 };
static char big[3 << 20];

struct chunk_check {
	long n;
	int ok;
};

static int ignore_schema(void *ctx, const struct ff_rec_schema *s)
{
	(void)ctx;
	return s->ncols == 2 ? 0 : 1;
}

static void chunk_cell(int64_t i, struct ff_cell *c)
{
	memset(c, 0, 2 * sizeof *c);
	c[0].s = big + i % 26;
	c[0].len = i == CHUNK_ROWS / 2 ? sizeof big - 26 : (size_t)(i % 13);
	c[1].i = i;
}

static int check_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	struct chunk_check *st = ctx;
	struct ff_cell want[2];
	chunk_cell(st->n, want);
	st->ok &= n == 2 && pos == st->n + 1 && same_cell(&want[0], &cells[0], FF_TYPE_TEXT) &&
		  same_cell(&want[1], &cells[1], FF_TYPE_INTEGER) &&
		  cells[0].s[cells[0].len] == '\0';
	st->n++;
	return 0;
}

static void test_chunks(void)
{
	struct ff_rec_schema s;
	ff_rec_schema_init(&s);
	ff_rec_schema_add(&s, "t", FF_TYPE_TEXT);
	ff_rec_schema_add(&s, "i", FF_TYPE_INTEGER);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	char *out = NULL;
	size_t len;
	FILE *m = open_memstream(&out, &len);
	struct ff_rec_writer *w = ff_rec_writer_open(m, FF_REC_BIN, &s);
	int rc = 0;
	for (int64_t i = 0; i < CHUNK_ROWS; i++) {
		struct ff_cell c[2];
		chunk_cell(i, c);
		rc |= ff_rec_writer_put(w, c);
	}
	rc |= ff_rec_writer_close(w);
	fclose(m);
	CHECK(rc == 0 && len > (8u << 20), "chunks: 8+ MiB written");

	struct chunk_check st = {0, 1};
	FILE *f = fmemopen(out, len, "r");
	struct ff_rec_reader *r = ff_rec_open(f, "mem");
	rc = ff_rec_each(r, ignore_schema, check_row, &st);
	ff_rec_close(r);
	fclose(f);
	CHECK(rc == 0 && st.n == CHUNK_ROWS && st.ok,
	      "chunks: every record read back, across chunks and a 3 MiB text");
	free(out);
	ff_rec_schema_release(&s);
}

static int stop_at_second(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	(void)cells;
	(void)n;
	(void)pos;
	return ++*(int *)ctx == 2 ? 7 : 0;
}

static int no_schema(void *ctx, const struct ff_rec_schema *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

static void test_errors(void)
{
	struct ff_rec_schema s;
	schema_of_table(&s);
	size_t len;
	char *bin = write_mem(FF_REC_BIN, &s, rows, 3, &len);
	size_t one_len;
	char *one = write_mem(FF_REC_BIN, &s, rows, 0, &one_len); /* the header alone */
	size_t header = one_len;
	free(one);

	/* Every cut inside a record is an error naming that record; a cut
	 * between records is a shorter stream. */
	size_t ends[4] = {header, 0, 0, 0};
	for (int i = 1; i <= 3; i++) {
		uint32_t reclen;
		memcpy(&reclen, bin + ends[i - 1], 4);
		ends[i] = ends[i - 1] + 4 + reclen;
	}
	CHECK(ends[3] == len, "errors: record lengths add up to the file");
	int cuts_ok = 1, between_ok = 1;
	capture();
	for (size_t cut = header; cut < len; cut++) {
		struct got g;
		int rc = read_mem(bin, cut, &g, NULL);
		int at_end = cut == ends[0] || cut == ends[1] || cut == ends[2];
		if (at_end)
			between_ok &= rc == 0;
		else
			cuts_ok &= rc == -1;
		got_release(&g);
	}
	free((char *)captured());
	err_text = NULL;
	CHECK(cuts_ok, "errors: every cut inside a record is an error");
	CHECK(between_ok, "errors: a cut between records is a shorter stream");
	CHECK(read_error(bin, ends[1] + 10, "mem: record 2: truncated"),
	      "errors: truncated record named");
	CHECK(read_error(bin, ends[2] + 2, "mem: record 3: truncated"),
	      "errors: truncated length named");
	int header_cuts_ok = 1;
	capture();
	for (size_t cut = 4; cut < header; cut++) {
		struct got g;
		header_cuts_ok &= read_mem(bin, cut, &g, NULL) == -1;
		got_release(&g);
	}
	free((char *)captured());
	err_text = NULL;
	CHECK(header_cuts_ok, "errors: every cut in the header is an error");

	char *bad = malloc(len + 1);
	memcpy(bad, bin, len);
	bad[8] = 2;
	CHECK(read_error(bad, len, "mem: ff-rec version 2, this ff reads version 1"),
	      "errors: bad version");
	memcpy(bad, bin, len);
	bad[13] = 9;
	CHECK(read_error(bad, len, "column 1 has unknown type 9"), "errors: unknown type");
	memcpy(bad, bin, len);
	memcpy(bad + 9, "\xff\xff\xff\x7f", 4);
	CHECK(read_error(bad, len, "bad ff-rec header"), "errors: absurd column count");
	memcpy(bad, bin, len);
	memcpy(bad + ends[1], "\xff\xff\xff\xff", 4);
	CHECK(read_error(bad, len, "mem: record 2: too large"), "errors: absurd record length");
	/* A length one byte longer than the fields, with a byte to cover it. */
	memcpy(bad, bin, len);
	uint32_t reclen;
	memcpy(&reclen, bad + ends[2], 4);
	reclen++;
	memcpy(bad + ends[2], &reclen, 4);
	bad[len] = 0;
	CHECK(read_error(bad, len + 1, "mem: record 3: longer than its fields"),
	      "errors: length does not match the fields");
	memcpy(bad, bin, len);
	reclen -= 2;
	memcpy(bad + ends[2], &reclen, 4);
	CHECK(read_error(bad, ends[2] + 4 + reclen, "mem: record 3: fields run past its end"),
	      "errors: fields past the length");
	memcpy(bad, bin, len);
	bad[ends[0] + 4] = (char)0x80;
	CHECK(read_error(bad, len, "mem: record 1: NULL bits set past the last column"),
	      "errors: stray NULL bits");
	memcpy(bad, bin, len);
	bad[4] = '\n';
	CHECK(read_error(bad, len, "damaged ff-rec header"), "errors: damaged magic number");
	CHECK(read_error(bin, 6, "truncated ff-rec header"), "errors: magic number cut short");
	CHECK(read_error("", 0, "mem: empty input"), "errors: empty input");
	free(bad);

	/* A callback's value stops the reading, in both formats. */
	int count = 0;
	FILE *f = fmemopen(bin, len, "r");
	struct ff_rec_reader *r = ff_rec_open(f, "mem");
	CHECK(ff_rec_each(r, no_schema, stop_at_second, &count) == 7 && count == 2,
	      "binary: a callback stops the reading");
	char where[64];
	ff_rec_where(r, 12, where, sizeof where);
	CHECK_STR(where, "mem: record 12", "binary: where");
	ff_rec_close(r);
	fclose(f);
	count = 0;
	f = fmemopen((void *)"a\n1\n2\n3\n", 8, "r");
	r = ff_rec_open(f, "t.csv");
	CHECK(ff_rec_each(r, no_schema, stop_at_second, &count) == 7 && count == 2,
	      "CSV: a callback stops the reading");
	ff_rec_where(r, 3, where, sizeof where);
	CHECK_STR(where, "t.csv:3", "CSV: where");
	ff_rec_close(r);
	fclose(f);

	free(bin);
	ff_rec_schema_release(&s);
}

static void test_schema(void)
{
	struct ff_rec_schema s;
	schema_of_table(&s);
	CHECK(ff_rec_schema_find(&s, "at") == 3 && ff_rec_schema_find(&s, "nope") == -1,
	      "schema: find");
	ff_rec_schema_release(&s);
	ff_rec_schema_release(&s);
	CHECK(s.ncols == 0, "schema: release twice");
	CHECK(ff_rec_format_parse("csv") == FF_REC_CSV &&
		  ff_rec_format_parse("bin") == FF_REC_BIN && ff_rec_format_parse("json") == -1,
	      "format names");
	CHECK(ff_rec_writer_close(NULL) == 0, "writer close accepts NULL");
	ff_rec_close(NULL);
}

static int any_schema(void *ctx, const struct ff_rec_schema *s)
{
	(void)ctx;
	(void)s;
	return 0;
}

static int ignore_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	(void)ctx;
	(void)cells;
	(void)n;
	(void)pos;
	return 0;
}

/* A record's length is trusted only up to FF_REC_MAX_RECORD, and the
 * reader's buffer grows with the bytes that arrive: a header claiming 2^30
 * bytes made ff-cat grow to 2 GiB before it found the input short. */
static void test_claimed_length(void)
{
	struct ff_rec_schema s;
	ff_rec_schema_init(&s);
	ff_rec_schema_add(&s, "t", FF_TYPE_TEXT);
	struct ff_cell cell[1] = {{0, 0, 0, "x", 1}};
	size_t len;
	char *out = NULL;
	FILE *m = open_memstream(&out, &len);
	struct ff_rec_writer *w = ff_rec_writer_open(m, FF_REC_BIN, &s);
	ff_rec_writer_put(w, cell);
	ff_rec_writer_close(w);
	fclose(m);
	size_t header = len - 4 - 1 - 4 - 1; /* one record: length, bitmap, text length, "x" */
	char *bad = calloc(1, header + 4 + 1000);
	memcpy(bad, out, header);
	uint32_t claim = FF_REC_MAX_RECORD;
	memcpy(bad + header, &claim, 4); /* little-endian hosts, as the tests run */
	size_t before = allocated(), during = 0;
	FILE *f = fmemopen(bad, header + 4 + 1000, "r");
	struct ff_rec_reader *r = ff_rec_open(f, "mem");
	capture();
	int rc = ff_rec_each(r, any_schema, ignore_row, NULL);
	during = allocated() - before;
	const char *msg = captured();
	CHECK(rc == -1 && strstr(msg, "mem: record 1: truncated (1000 of 67108864 bytes)"),
	      "claimed length: a record at the limit, cut short, is an error");
	if (rc != -1 || !strstr(msg, "truncated (1000 of"))
		printf("# rc %d, message: %s", rc, msg);
	CHECK(during < 8 * 1024 * 1024, "claimed length: the reader did not allocate what the record claims");
	if (during >= 8 * 1024 * 1024)
		printf("# %zu bytes allocated for 1004 bytes of record\n", during);
	free(err_text);
	err_text = NULL;
	ff_rec_close(r);
	fclose(f);
	claim = FF_REC_MAX_RECORD + 1;
	memcpy(bad + header, &claim, 4);
	CHECK(read_error(bad, header + 4 + 1000, "mem: record 1: too large (record of 67108865 bytes)"),
	      "claimed length: past the limit, refused before reading");
	/* The writer refuses such a record before it reads the text. */
	cell[0].len = FF_REC_MAX_RECORD;
	free(out);
	m = open_memstream(&out, &len);
	w = ff_rec_writer_open(m, FF_REC_BIN, &s);
	capture();
	rc = ff_rec_writer_put(w, cell);
	msg = captured();
	CHECK(rc < 0 && strstr(msg, "ff-rec: a record of more than 67108864 bytes cannot be written"),
	      "claimed length: the writer refuses a record past the limit");
	free(err_text);
	err_text = NULL;
	ff_rec_writer_close(w);
	fclose(m);
	free(out);
	free(bad);
	ff_rec_schema_release(&s);
}

int main(void)
{
	fill_rows();
	test_schema();
	test_binary_round_trip();
	test_csv_writer();
	test_csv_bin_csv();
	test_chunks();
	test_errors();
	test_claimed_length();
	return UNIT_DONE();
}
