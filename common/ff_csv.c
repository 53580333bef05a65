#include "ff_csv.h"

#include <csv.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

#define CHUNK (1 << 18)

struct ff_csv_reader {
	FILE *in;
	const char *name;
	struct csv_parser parser;
	char *buf;
	char *pending;      /* bytes given back by ff_csv_unread */
	size_t pending_len;

	char *arena;        /* field bytes of the row being built */
	size_t arena_len, arena_cap;
	size_t *offsets;    /* per field: offset into arena, or SIZE_MAX for NULL */
	size_t *lens;
	struct ff_field *out;
	size_t nfields, fields_cap;

	long line;          /* line of the parser's position */
	long row_line;      /* line on which the row being built started */
	ff_csv_row_fn fn;
	void *ctx;
	int stop;           /* fn's non-zero value */
	int fed;            /* some input was parsed already */
	ff_csv_tap_fn tap;  /* sees every byte read */
	void *tap_ctx;
};

static int keep_blanks(unsigned char c)
{
	(void)c;
	return 0;
}

static void grow_fields(struct ff_csv_reader *r)
{
	r->fields_cap = r->fields_cap ? 2 * r->fields_cap : 16;
	r->offsets = ff_xrealloc(r->offsets, r->fields_cap * sizeof *r->offsets);
	r->lens = ff_xrealloc(r->lens, r->fields_cap * sizeof *r->lens);
	r->out = ff_xrealloc(r->out, r->fields_cap * sizeof *r->out);
}

static void on_field(void *data, size_t len, void *user)
{
	struct ff_csv_reader *r = user;
	if (r->stop)
		return;
	if (r->nfields == 0)
		r->row_line = r->line;
	if (r->nfields == r->fields_cap)
		grow_fields(r);
	if (!data) {
		r->offsets[r->nfields] = SIZE_MAX;
		r->lens[r->nfields] = 0;
	} else {
		if (r->arena_len + len + 1 > r->arena_cap)
			ff_grow(&r->arena, &r->arena_cap, r->arena_len + len + 1, 1);
		memcpy(r->arena + r->arena_len, data, len);
		r->arena[r->arena_len + len] = '\0';
		r->offsets[r->nfields] = r->arena_len;
		r->lens[r->nfields] = len;
		r->arena_len += len + 1;
		/* A quoted field can hold line breaks: count them. Fields are
		 * short, and a loop beats a call to memchr on them. */
		const char *p = data;
		if (len < 32) {
			for (size_t i = 0; i < len; i++)
				r->line += p[i] == '\n';
		} else {
			for (const char *end = p + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
				r->line++;
		}
	}
	r->nfields++;
}

/* libcsv reports every line end (CSV_REPALL_NL), so that lines are counted
 * without a second scan of the input; an empty line gives no row. */
static void on_row(int c, void *user)
{
	struct ff_csv_reader *r = user;
	size_t n = r->nfields;
	long line = r->line;
	if (c == '\n')
		r->line++;
	if (r->stop || n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		r->out[i].ptr = r->offsets[i] == SIZE_MAX ? NULL : r->arena + r->offsets[i];
		r->out[i].len = r->lens[i];
	}
	r->nfields = 0;
	r->arena_len = 0;
	(void)line;
	r->stop = r->fn(r->ctx, r->out, n, r->row_line);
}

static unsigned char delimiter = ',';

int ff_csv_set_delimiter(const char *spec)
{
	unsigned char c = (unsigned char)spec[0];
	if (strcmp(spec, "tab") == 0 || strcmp(spec, "\\t") == 0)
		c = '\t';
	else if (!c || spec[1] || c == '"' || c == '\n' || c == '\r' || isalnum(c) || c >= 0x80)
		return -1;
	delimiter = c;
	return 0;
}

const char *ff_csv_header_hint(const char *const *names, size_t n, const char *name, char *buf,
			       size_t size)
{
	static const struct {
		char c;
		const char *said, *as;
	} others[] = {{';', "';'", "';'"}, {'\t', "a tab", "tabs"}, {'|', "'|'", "'|'"}};
	buf[0] = '\0';
	if (n == 1 && names[0] && strcmp(names[0], name) != 0)
		for (size_t k = 0; k < sizeof others / sizeof *others; k++)
			if (strchr(names[0], others[k].c)) {
				snprintf(buf, size,
					 "; the header is one field holding %s: is the file delimited by %s?",
					 others[k].said, others[k].as);
				return buf;
			}
	size_t want = strlen(name);
	for (size_t i = 0; i < n; i++) {
		const char *p = names[i];
		if (!p)
			continue;
		size_t len = strlen(p);
		while (len && isspace((unsigned char)*p))
			p++, len--;
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (len == want && memcmp(p, name, len) == 0 && strlen(names[i]) != len) {
			snprintf(buf, size, "; column '%.64s' has spaces around it", names[i]);
			return buf;
		}
	}
	return buf;
}

struct ff_csv_reader *ff_csv_open(FILE *f, const char *name)
{
	struct ff_csv_reader *r = ff_xcalloc(1, sizeof *r);
	r->in = f;
	r->name = name;
	if (csv_init(&r->parser, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL | CSV_REPALL_NL) != 0)
		ff_die(1, "out of memory");
	csv_set_space_func(&r->parser, keep_blanks);
	csv_set_delim(&r->parser, delimiter);
	r->buf = ff_xmalloc(CHUNK);
	r->line = 1;
	return r;
}

void ff_csv_close(struct ff_csv_reader *r)
{
	if (!r)
		return;
	csv_free(&r->parser);
	free(r->buf);
	free(r->pending);
	free(r->arena);
	free(r->offsets);
	free(r->lens);
	free(r->out);
	free(r);
}

void ff_csv_unread(struct ff_csv_reader *r, const void *data, size_t len)
{
	r->pending = ff_xrealloc(r->pending, len);
	memcpy(r->pending, data, len);
	r->pending_len = len;
}

const char *ff_csv_name(const struct ff_csv_reader *r) { return r->name; }

void ff_csv_tap(struct ff_csv_reader *r, ff_csv_tap_fn fn, void *ctx)
{
	r->tap = fn;
	r->tap_ctx = ctx;
}

/* Whole lines from p on that hold no quote and no carriage return, read
 * while libcsv is between rows: split here into the fields libcsv would
 * give (an empty field NULL), in place (each delimiter and line end becomes
 * the field's NUL), at a fraction of libcsv's cost per byte. Stops before
 * the first other line, or a line not ended in p. Returns the bytes read. */
static size_t plain_lines(struct ff_csv_reader *r, char *p, size_t n)
{
	char *start = p, *end = p + n;
	unsigned char delim = r->parser.delim_char;
	while (!r->stop) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		if (nl == p) { /* an empty line gives no row */
			r->line++;
			p = nl + 1;
			continue;
		}
		size_t nf = 0;
		char *field = p;
		for (char *q = p; q < nl; q++) {
			unsigned char c = (unsigned char)*q;
			if (c == '"' || c == '\r')
				return (size_t)(p - start);
			if (c == delim) {
				if (nf == r->fields_cap)
					grow_fields(r);
				r->out[nf].ptr = field;
				r->out[nf++].len = (size_t)(q - field);
				field = q + 1;
			}
		}
		if (nf == r->fields_cap)
			grow_fields(r);
		r->out[nf].ptr = field;
		r->out[nf++].len = (size_t)(nl - field);
		/* A plain line: only now end its fields (libcsv reads the others). */
		for (size_t i = 0; i < nf; i++) {
			((char *)r->out[i].ptr)[r->out[i].len] = '\0';
			if (!r->out[i].len)
				r->out[i].ptr = NULL;
		}
		long line = r->line++;
		p = nl + 1;
		r->stop = r->fn(r->ctx, r->out, nf, line);
	}
	return (size_t)(p - start);
}

/* p is the reader's own buffer: plain_lines writes into it. */
static int feed(struct ff_csv_reader *r, char *p, size_t n)
{
	if (r->tap)
		r->tap(r->tap_ctx, p, n);
	/* A UTF-8 byte order mark (Excel, PowerShell) is not part of the
	 * first column's name. */
	if (!r->fed && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		n -= 3;
	}
	r->fed = 1;
	size_t off = 0;
	while (off < n && !r->stop) {
		/* libcsv between rows (its ROW_NOT_BEGUN, 0, and no field kept). */
		if (r->parser.pstate == 0 && r->nfields == 0) {
			off += plain_lines(r, p + off, n - off);
			if (off == n || r->stop)
				break;
		}
		/* The next line to libcsv: quotes, CRs, a line cut by the chunk. */
		const char *nl = memchr(p + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (p + off)) + 1 : n - off;
		if (csv_parse(&r->parser, p + off, len, on_field, on_row, r) != len)
			return ff_error("%s:%ld: %s", r->name, r->line, csv_strerror(csv_error(&r->parser)));
		off += len;
	}
	return 0;
}

int ff_csv_each(struct ff_csv_reader *r, ff_csv_row_fn fn, void *ctx)
{
	r->fn = fn;
	r->ctx = ctx;
	r->stop = 0;
	if (r->pending_len) {
		size_t n = r->pending_len;
		r->pending_len = 0;
		if (feed(r, r->pending, n) < 0)
			return -1;
	}
	while (!r->stop) {
		long n = ff_read(r->in, r->buf, CHUNK);
		if (n <= 0) {
			if (n < 0)
				return ff_read_error(r->name);
			break;
		}
		if (feed(r, r->buf, (size_t)n) < 0)
			return -1;
	}
	if (r->stop)
		return r->stop;
	/* A quoted field still open at the end is a cut file (or a stray
	 * quote), not a value: libcsv reports it only in its strict mode,
	 * which refuses other things too. Its public parser state says so: a
	 * quoted field begun (libcsv's FIELD_BEGUN, 2) and not closed. */
	if (r->parser.quoted && r->parser.pstate == 2)
		return ff_error("%s:%ld: a quoted field is not closed at the end of the input", r->name,
				r->row_line);
	if (csv_fini(&r->parser, on_field, on_row, r) != 0)
		return ff_error("%s:%ld: %s", r->name, r->line, csv_strerror(csv_error(&r->parser)));
	return r->stop;
}

size_t ff_csv_quote(char *dst, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && s[i] != ',' && s[i] != '"' && s[i] != '\r' && s[i] != '\n')
		i++;
	if (i == len && len > 0) {
		memcpy(dst, s, len);
		return len;
	}
	char *p = dst;
	*p++ = '"';
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			*p++ = '"';
		*p++ = s[i];
	}
	*p++ = '"';
	return (size_t)(p - dst);
}

void ff_csv_put_field(FILE *out, const char *ptr, size_t len)
{
	if (!ptr)
		return;
	char small[256];
	size_t need = 2 * len + 2;
	char *buf = need <= sizeof small ? small : ff_xmalloc(need);
	fwrite(buf, 1, ff_csv_quote(buf, ptr, len), out);
	if (buf != small)
		free(buf);
}
