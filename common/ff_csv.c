#include "ff_csv.h"

#include <csv.h>
#include <errno.h>
#include <string.h>

#include "ff_util.h"

#define CHUNK (1 << 18)

struct ff_csv_reader {
	FILE *in;
	const char *name;
	struct csv_parser parser;

	char *buf;          /* read buffer */
	size_t buf_len, buf_pos;
	int eof;

	char *arena;        /* field bytes of the row being built */
	size_t arena_len, arena_cap;
	size_t *offsets;    /* per field: offset into arena, or SIZE_MAX for NULL */
	size_t *lens;
	size_t nfields, fields_cap;
	struct ff_field *out;

	long line;          /* physical line of the next byte fed */
	long row_line;      /* line on which the row being built started */
	int between_rows;   /* the next non-blank line starts a row */
	int row_done;
	long done_line;
};

static int keep_blanks(unsigned char c)
{
	(void)c;
	return 0;
}

static void on_field(void *data, size_t len, void *user)
{
	struct ff_csv_reader *r = user;
	if (r->nfields == r->fields_cap) {
		r->fields_cap = r->fields_cap ? 2 * r->fields_cap : 16;
		r->offsets = ff_xrealloc(r->offsets, r->fields_cap * sizeof *r->offsets);
		r->lens = ff_xrealloc(r->lens, r->fields_cap * sizeof *r->lens);
		r->out = ff_xrealloc(r->out, r->fields_cap * sizeof *r->out);
	}
	if (!data) {
		r->offsets[r->nfields] = SIZE_MAX;
		r->lens[r->nfields] = 0;
	} else {
		ff_grow(&r->arena, &r->arena_cap, r->arena_len + len + 1, 1);
		memcpy(r->arena + r->arena_len, data, len);
		r->arena[r->arena_len + len] = '\0';
		r->offsets[r->nfields] = r->arena_len;
		r->lens[r->nfields] = len;
		r->arena_len += len + 1;
	}
	r->nfields++;
}

static void on_row(int c, void *user)
{
	(void)c;
	struct ff_csv_reader *r = user;
	r->row_done = 1;
	r->done_line = r->row_line;
	r->between_rows = 1;
}

struct ff_csv_reader *ff_csv_open(FILE *f, const char *name)
{
	struct ff_csv_reader *r = ff_xcalloc(1, sizeof *r);
	r->in = f;
	r->name = name;
	if (csv_init(&r->parser, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0)
		ff_die(1, "out of memory");
	csv_set_space_func(&r->parser, keep_blanks);
	r->buf = ff_xmalloc(CHUNK);
	r->line = 1;
	r->between_rows = 1;
	return r;
}

void ff_csv_close(struct ff_csv_reader *r)
{
	if (!r)
		return;
	csv_free(&r->parser);
	free(r->buf);
	free(r->arena);
	free(r->offsets);
	free(r->lens);
	free(r->out);
	free(r);
}

void ff_csv_unread(struct ff_csv_reader *r, const void *data, size_t len)
{
	if (len > CHUNK)
		len = CHUNK;
	memcpy(r->buf, data, len);
	r->buf_len = len;
	r->buf_pos = 0;
}

static int fill(struct ff_csv_reader *r)
{
	r->buf_len = fread(r->buf, 1, CHUNK, r->in);
	r->buf_pos = 0;
	if (r->buf_len == 0) {
		if (ferror(r->in))
			return ff_error("%s: read error: %s", r->name, strerror(errno));
		r->eof = 1;
	}
	return 0;
}

static void build_row(struct ff_csv_reader *r, struct ff_field **fields, size_t *nfields)
{
	for (size_t i = 0; i < r->nfields; i++) {
		r->out[i].ptr = r->offsets[i] == SIZE_MAX ? NULL : r->arena + r->offsets[i];
		r->out[i].len = r->lens[i];
	}
	*fields = r->out;
	*nfields = r->nfields;
}

int ff_csv_next(struct ff_csv_reader *r, struct ff_field **fields, size_t *nfields)
{
	r->nfields = 0;
	r->arena_len = 0;
	r->row_done = 0;
	for (;;) {
		if (r->buf_pos == r->buf_len) {
			if (r->eof)
				break;
			if (fill(r) < 0)
				return -1;
			if (r->eof)
				break;
		}
		/* Feed one line at a time so that each row knows its line. */
		char *start = r->buf + r->buf_pos;
		size_t avail = r->buf_len - r->buf_pos;
		char *nl = memchr(start, '\n', avail);
		size_t n = nl ? (size_t)(nl - start) + 1 : avail;
		if (r->between_rows && !(n == 1 || (n == 2 && start[0] == '\r'))) {
			r->between_rows = 0;
			r->row_line = r->line;
		}
		if (csv_parse(&r->parser, start, n, on_field, on_row, r) != n)
			return ff_error("%s:%ld: %s", r->name, r->line,
					csv_strerror(csv_error(&r->parser)));
		r->buf_pos += n;
		if (nl)
			r->line++;
		if (r->row_done)
			goto row;
	}
	if (csv_fini(&r->parser, on_field, on_row, r) != 0)
		return ff_error("%s:%ld: %s", r->name, r->line,
				csv_strerror(csv_error(&r->parser)));
	if (!r->row_done)
		return 0;
row:
	build_row(r, fields, nfields);
	return 1;
}

long ff_csv_line(const struct ff_csv_reader *r) { return r->done_line; }
const char *ff_csv_name(const struct ff_csv_reader *r) { return r->name; }

void ff_csv_put_field(FILE *out, const char *ptr, size_t len)
{
	if (!ptr)
		return;
	size_t i = 0;
	while (i < len && ptr[i] != ',' && ptr[i] != '"' && ptr[i] != '\r' && ptr[i] != '\n')
		i++;
	if (i == len && len > 0) {
		fwrite(ptr, 1, len, out);
		return;
	}
	/* An empty string is quoted so that it reads back as "" and not NULL. */
	putc('"', out);
	for (i = 0; i < len; i++) {
		if (ptr[i] == '"')
			putc('"', out);
		putc(ptr[i], out);
	}
	putc('"', out);
}
