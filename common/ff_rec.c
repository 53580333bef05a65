#include "ff_rec.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_cell.h"
#include "ff_csv.h"
#include "ff_util.h"

/* The binary format, ff-rec(5). */
static const unsigned char magic[8] = {0x89, 'F', 'F', 'R', '\r', '\n', 0x1a, '\n'};
enum {
	REC_VERSION = 1,
	CHUNK = 1 << 20,       /* bytes read at a time */
	/* Bytes written at a time: a buffer that stays in the processor's
	 * cache. On a 2-core VM, writes of 1 MB cost 4 to 7 times the kernel
	 * CPU of writes of 64 KB (dd, 767 MB). */
	WRITE_CHUNK = 1 << 16,
	MAX_COLUMNS = 1 << 20, /* larger values in a header are damage */
	MAX_NAME = 1 << 16,
};
#define MAX_RECORD ((uint32_t)FF_REC_MAX_RECORD)

const char *const ff_rec_format_names[] = {"csv", "bin", NULL};

int ff_rec_format_parse(const char *name)
{
	for (int i = 0; ff_rec_format_names[i]; i++)
		if (strcmp(name, ff_rec_format_names[i]) == 0)
			return i;
	return -1;
}

/* ---- schema ---- */

void ff_rec_schema_init(struct ff_rec_schema *s)
{
	memset(s, 0, sizeof *s);
}

void ff_rec_schema_add(struct ff_rec_schema *s, const char *name, enum ff_type type)
{
	s->names = ff_xrealloc(s->names, (s->ncols + 1) * sizeof *s->names);
	s->types = ff_xrealloc(s->types, (s->ncols + 1) * sizeof *s->types);
	s->names[s->ncols] = ff_xstrdup(name);
	s->types[s->ncols] = type;
	s->ncols++;
}

void ff_rec_schema_release(struct ff_rec_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ncols; i++)
		free(s->names[i]);
	free(s->names);
	free(s->types);
	memset(s, 0, sizeof *s);
}

long ff_rec_schema_find(const struct ff_rec_schema *s, const char *name)
{
	for (size_t i = 0; i < s->ncols; i++)
		if (strcmp(s->names[i], name) == 0)
			return (long)i;
	return -1;
}

/* ---- little-endian integers at any alignment ---- */

static uint32_t get32(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
#else
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

static uint64_t get64(const unsigned char *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
#else
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
#endif
}

static void put32(unsigned char *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 4);
#else
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
#endif
}

static void put64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 8);
#else
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
#endif
}

/* ---- reader ---- */

struct ff_rec_reader {
	FILE *in;
	char *name;
	enum ff_rec_format format;
	int started;
	struct ff_rec_schema schema;
	struct ff_cell *cells;
	size_t cells_cap;

	ff_rec_schema_fn on_schema;
	ff_rec_row_fn on_row;
	void *ctx;

	/* CSV */
	struct ff_csv_reader *csv;
	int have_header;

	/* binary: bytes [start, end) of buf are read and not yet decoded; buf
	 * has one byte more than cap, so that a text at the very end of the
	 * data can be NUL-terminated in place */
	unsigned char *buf;
	size_t cap, start, end;
	int eof;
};

struct ff_rec_reader *ff_rec_open(FILE *f, const char *name)
{
	struct ff_rec_reader *r = ff_xcalloc(1, sizeof *r);
	r->in = f;
	r->name = ff_xstrdup(name);
	r->format = FF_REC_CSV;
	ff_rec_schema_init(&r->schema);
	return r;
}

void ff_rec_close(struct ff_rec_reader *r)
{
	if (!r)
		return;
	ff_csv_close(r->csv);
	ff_rec_schema_release(&r->schema);
	free(r->cells);
	free(r->buf);
	free(r->name);
	free(r);
}

enum ff_rec_format ff_rec_input_format(const struct ff_rec_reader *r)
{
	return r->format;
}

void ff_rec_where(const struct ff_rec_reader *r, long pos, char *buf, size_t size)
{
	if (r->format == FF_REC_BIN)
		snprintf(buf, size, "%s: record %ld", r->name, pos);
	else
		snprintf(buf, size, "%s:%ld", r->name, pos);
}

static void need_cells(struct ff_rec_reader *r, size_t n)
{
	if (n > r->cells_cap)
		ff_grow(&r->cells, &r->cells_cap, n, sizeof *r->cells);
}

/* CSV: the header gives the schema, every other row text cells. */
static int csv_row(void *ctx, const struct ff_field *fields, size_t n, long line)
{
	struct ff_rec_reader *r = ctx;
	if (!r->have_header) {
		r->have_header = 1;
		for (size_t i = 0; i < n; i++)
			ff_rec_schema_add(&r->schema, fields[i].ptr ? fields[i].ptr : "",
					  FF_TYPE_TEXT);
		return r->on_schema(r->ctx, &r->schema);
	}
	need_cells(r, n);
	struct ff_cell *c = r->cells;
	for (size_t i = 0; i < n; i++) {
		c[i].null = fields[i].ptr == NULL;
		c[i].i = 0;
		c[i].d = 0;
		c[i].s = fields[i].ptr;
		c[i].len = fields[i].len;
	}
	return r->on_row(r->ctx, c, n, line);
}

static int read_csv(struct ff_rec_reader *r, const unsigned char *sniffed, size_t n)
{
	r->csv = ff_csv_open(r->in, r->name);
	ff_csv_unread(r->csv, sniffed, n);
	int rc = ff_csv_each(r->csv, csv_row, r);
	if (rc == 0 && !r->have_header)
		rc = ff_error("%s: empty input: a header line is required", r->name);
	return rc;
}

/* Make at least need bytes available from buf + start, reading more of the
 * input. Returns 1, 0 at the end of the input, -1 on a read error. */
static int fill(struct ff_rec_reader *r, size_t need)
{
	size_t avail = r->end - r->start;
	if (avail >= need)
		return 1;
	if (r->eof)
		return 0;
	if (r->start) {
		memmove(r->buf, r->buf + r->start, avail);
		r->start = 0;
		r->end = avail;
	}
	while (r->end < need) {
		/* Grown as the bytes arrive, not as a length claims: a damaged
		 * length makes the reader find the input short, not allocate. */
		if (r->end == r->cap) {
			size_t cap = r->cap * 2 < need ? r->cap * 2 : need;
			r->buf = ff_xrealloc(r->buf, cap + 1);
			r->cap = cap;
		}
		long got = ff_read(r->in, r->buf + r->end, r->cap - r->end);
		if (got <= 0) {
			if (got < 0)
				return ff_read_error(r->name);
			r->eof = 1;
			return 0;
		}
		r->end += (size_t)got;
	}
	return 1;
}

static int truncated_header(const struct ff_rec_reader *r)
{
	return ff_error("%s: truncated ff-rec header", r->name);
}

/* The header after the magic number: version, columns. */
static int read_header(struct ff_rec_reader *r)
{
	int rc;
	if ((rc = fill(r, 5)) <= 0)
		return rc < 0 ? -1 : truncated_header(r);
	const unsigned char *p = r->buf + r->start;
	if (p[0] != REC_VERSION)
		return ff_error("%s: ff-rec version %u, this ff reads version %d", r->name, p[0],
				REC_VERSION);
	uint32_t ncols = get32(p + 1);
	r->start += 5;
	if (ncols > MAX_COLUMNS)
		return ff_error("%s: bad ff-rec header: %lu columns", r->name,
				(unsigned long)ncols);
	for (uint32_t i = 0; i < ncols; i++) {
		if ((rc = fill(r, 5)) <= 0)
			return rc < 0 ? -1 : truncated_header(r);
		p = r->buf + r->start;
		unsigned type = p[0];
		uint32_t len = get32(p + 1);
		if (type > FF_TYPE_TIMESTAMP)
			return ff_error("%s: bad ff-rec header: column %lu has unknown type %u",
					r->name, (unsigned long)i + 1, type);
		if (len > MAX_NAME)
			return ff_error("%s: bad ff-rec header: column %lu has a name of %lu bytes",
					r->name, (unsigned long)i + 1, (unsigned long)len);
		r->start += 5;
		if ((rc = fill(r, len)) <= 0)
			return rc < 0 ? -1 : truncated_header(r);
		p = r->buf + r->start;
		if (memchr(p, '\0', len))
			return ff_error("%s: bad ff-rec header: column %lu has a NUL in its name",
					r->name, (unsigned long)i + 1);
		char *name = ff_xstrndup((const char *)p, len);
		ff_rec_schema_add(&r->schema, name, (enum ff_type)type);
		free(name);
		r->start += len;
	}
	return 0;
}

static int bad_record(const struct ff_rec_reader *r, long pos, uint32_t len, const char *why)
{
	return ff_error("%s: record %ld: %s (record of %lu bytes)", r->name, pos, why,
			(unsigned long)len);
}

/* Decode the record of len bytes at p into r->cells; text cells point into
 * the buffer. Returns 0 or -1 (reported). */
static int decode(struct ff_rec_reader *r, unsigned char *p, uint32_t len, long pos)
{
	const size_t ncols = r->schema.ncols;
	const enum ff_type *types = r->schema.types;
	struct ff_cell *c = r->cells;
	const size_t nb = (ncols + 7) / 8;
	unsigned char *end = p + len;
	const unsigned char *bitmap = p;
	unsigned char *q = p + nb;
	if (len < nb)
		return bad_record(r, pos, len, "shorter than its NULL bitmap");
	if (ncols % 8 && bitmap[nb - 1] >> (ncols % 8))
		return bad_record(r, pos, len, "NULL bits set past the last column");
	for (size_t i = 0; i < ncols; i++) {
		c[i].i = 0;
		c[i].d = 0;
		c[i].s = NULL;
		c[i].len = 0;
		if ((c[i].null = bitmap[i >> 3] >> (i & 7) & 1))
			continue;
		size_t left = (size_t)(end - q);
		switch (types[i]) {
		case FF_TYPE_INTEGER:
		case FF_TYPE_TIMESTAMP:
			if (left < 8)
				goto overrun;
			c[i].i = (int64_t)get64(q);
			q += 8;
			break;
		case FF_TYPE_REAL: {
			if (left < 8)
				goto overrun;
			uint64_t bits = get64(q);
			memcpy(&c[i].d, &bits, 8);
			q += 8;
			break;
		}
		case FF_TYPE_TEXT:
			if (left < 4 || left - 4 < get32(q))
				goto overrun;
			c[i].len = get32(q);
			c[i].s = (const char *)q + 4;
			q += 4 + c[i].len;
			break;
		}
	}
	if (q != end)
		return bad_record(r, pos, len, "longer than its fields");
	return 0;
overrun:
	return bad_record(r, pos, len, "fields run past its end");
}

static int read_bin(struct ff_rec_reader *r)
{
	r->cap = CHUNK;
	r->buf = ff_xmalloc(r->cap + 1);
	int rc = read_header(r);
	if (rc != 0)
		return rc;
	if ((rc = r->on_schema(r->ctx, &r->schema)) != 0)
		return rc;
	const size_t ncols = r->schema.ncols;
	const enum ff_type *types = r->schema.types;
	need_cells(r, ncols);
	for (long pos = 1;; pos++) {
		if (r->end - r->start < 4) {
			rc = fill(r, 4);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				if (r->end == r->start)
					return 0;
				return ff_error(
				    "%s: record %ld: truncated (%zu of 4 bytes of its length)",
				    r->name, pos, r->end - r->start);
			}
		}
		uint32_t len = get32(r->buf + r->start);
		if (len > MAX_RECORD)
			return bad_record(r, pos, len, "too large");
		if (r->end - r->start - 4 < len) {
			rc = fill(r, 4 + (size_t)len);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return ff_error("%s: record %ld: truncated (%zu of %lu bytes)",
						r->name, pos, r->end - r->start - 4,
						(unsigned long)len);
		}
		unsigned char *p = r->buf + r->start + 4;
		if (decode(r, p, len, pos) < 0)
			return -1;
		/* NUL-terminate the texts, as CSV fields are: the byte after a
		 * text belongs to a field already decoded, except after the
		 * last one, which is the next record's and is put back. */
		unsigned char *end = p + len, saved = *end;
		for (size_t i = 0; i < ncols; i++)
			if (types[i] == FF_TYPE_TEXT && !r->cells[i].null)
				((char *)r->cells[i].s)[r->cells[i].len] = '\0';
		r->start += 4 + (size_t)len;
		rc = r->on_row(r->ctx, r->cells, ncols, pos);
		*end = saved;
		if (rc != 0)
			return rc;
	}
}

int ff_rec_each(struct ff_rec_reader *r, ff_rec_schema_fn on_schema, ff_rec_row_fn on_row,
		void *ctx)
{
	if (r->started)
		return ff_error("%s: input already read", r->name);
	r->started = 1;
	r->on_schema = on_schema;
	r->on_row = on_row;
	r->ctx = ctx;
	unsigned char sniffed[sizeof magic];
	long got = ff_read_full(r->in, sniffed, sizeof sniffed);
	if (got < 0)
		return ff_read_error(r->name);
	size_t n = (size_t)got;
	if (n == sizeof magic && memcmp(sniffed, magic, sizeof magic) == 0) {
		r->format = FF_REC_BIN;
		return read_bin(r);
	}
	/* "\x89FFR" begins no text file: this is ff-rec, damaged. */
	if (n >= 4 && memcmp(sniffed, magic, 4) == 0) {
		if (n < sizeof magic)
			return truncated_header(r);
		return ff_error("%s: damaged ff-rec header (line ends converted?)", r->name);
	}
	r->format = FF_REC_CSV;
	return read_csv(r, sniffed, n);
}

/* ---- writer ---- */

#define ASYNC_ROWS 4096
#define ASYNC_BATCHES 4

/* Records copied for the writer thread: text cells hold an offset into
 * arena (in .i) until the thread points .s at it. */
struct rec_batch {
	size_t nrows;
	struct ff_cell *cells;
	char *arena;
	size_t arena_len, arena_cap;
	struct rec_batch *next;
};

struct ff_rec_writer {
	FILE *out;
	enum ff_rec_format format;
	size_t ncols;
	enum ff_type *types;
	int failed;
	unsigned char *buf; /* encoded records not yet written */
	size_t len, cap;

	/* ff_rec_writer_async: formatting and writing on a thread of their own */
	int async;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake, idle;
	struct rec_batch *head, *tail, *free_list, *current;
	int done, busy;
	atomic_int thread_failed;
	int error;          /* errno of the failed write */
	struct rec_batch pool[ASYNC_BATCHES];
};

static void bin_append(struct ff_rec_writer *w, const void *p, size_t n)
{
	if (w->len + n > w->cap)
		ff_grow(&w->buf, &w->cap, w->len + n, 1);
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void bin_append32(struct ff_rec_writer *w, uint32_t v)
{
	unsigned char b[4];
	put32(b, v);
	bin_append(w, b, 4);
}

static int bin_flush(struct ff_rec_writer *w)
{
	if (w->len && fwrite(w->buf, 1, w->len, w->out) != w->len) {
		w->failed = 1;
		w->error = errno; /* errno is per thread: keep it for the caller */
		ff_write_failed(w->out, errno);
	}
	w->len = 0;
	return w->failed ? -1 : 0;
}

static void csv_append_text(struct ff_rec_writer *w, const char *s, size_t len);

static void csv_header(struct ff_rec_writer *w, const struct ff_rec_schema *s)
{
	for (size_t i = 0; i < s->ncols; i++) {
		if (i)
			bin_append(w, ",", 1);
		csv_append_text(w, s->names[i], strlen(s->names[i]));
	}
	bin_append(w, "\n", 1);
}

struct ff_rec_writer *ff_rec_writer_open(FILE *out, enum ff_rec_format format,
					 const struct ff_rec_schema *schema)
{
	struct ff_rec_writer *w = ff_xcalloc(1, sizeof *w);
	w->out = out;
	w->format = format;
	w->ncols = schema->ncols;
	w->types = ff_xmalloc(schema->ncols * sizeof *w->types);
	if (schema->ncols) /* a stream of no columns has no types (NULL) */
		memcpy(w->types, schema->types, schema->ncols * sizeof *w->types);
	w->cap = WRITE_CHUNK + 4096;
	w->buf = ff_xmalloc(w->cap);
	if (format == FF_REC_CSV) {
		csv_header(w, schema);
		return w;
	}
	if (schema->ncols > MAX_COLUMNS) {
		ff_error("ff-rec: %zu columns, at most %d can be written", schema->ncols,
			 MAX_COLUMNS);
		w->failed = 1;
		return w;
	}
	bin_append(w, magic, sizeof magic);
	bin_append(w, (unsigned char[]){REC_VERSION}, 1);
	bin_append32(w, (uint32_t)schema->ncols);
	for (size_t i = 0; i < schema->ncols; i++) {
		size_t n = strlen(schema->names[i]);
		if (n > MAX_NAME) {
			ff_error(
			    "ff-rec: column %zu: a name of %zu bytes, at most %d can be written",
			    i + 1, n, MAX_NAME);
			w->failed = 1;
		}
		bin_append(w, (unsigned char[]){(unsigned char)schema->types[i]}, 1);
		bin_append32(w, (uint32_t)n);
		bin_append(w, schema->names[i], n);
	}
	return w;
}

/* Append a CSV field (ff_csv_quote). */
static void csv_append_text(struct ff_rec_writer *w, const char *s, size_t len)
{
	if (w->len + 2 * len + 2 > w->cap)
		ff_grow(&w->buf, &w->cap, w->len + 2 * len + 2, 1);
	w->len += ff_csv_quote((char *)w->buf + w->len, s, len);
}

/* Rows are formatted into the writer's buffer and written a chunk at a time:
 * a stdio call per field cost as much as the formatting. */
static int csv_put(struct ff_rec_writer *w, const struct ff_cell *cells)
{
	char buf[FF_CELL_TEXT_MAX];
	for (size_t i = 0; i < w->ncols; i++) {
		const struct ff_cell *c = &cells[i];
		if (i)
			bin_append(w, ",", 1);
		if (c->null)
			continue;
		if (w->types[i] == FF_TYPE_TEXT) {
			csv_append_text(w, c->s, c->len);
			continue;
		}
		size_t len; /* numbers and times: their text (ff_cell), never quoted */
		const char *text = ff_cell_text(c, w->types[i], buf, &len);
		bin_append(w, text, len);
	}
	bin_append(w, "\n", 1);
	return w->len >= WRITE_CHUNK ? bin_flush(w) : 0;
}

static int bin_put(struct ff_rec_writer *w, const struct ff_cell *cells)
{
	const size_t ncols = w->ncols, nb = (ncols + 7) / 8;
	uint64_t size = nb;
	for (size_t i = 0; i < ncols; i++) {
		if (cells[i].null)
			continue;
		if (w->types[i] != FF_TYPE_TEXT) {
			size += 8;
		} else {
			if (cells[i].len > MAX_RECORD)
				goto too_large;
			size += 4 + (uint64_t)cells[i].len;
		}
	}
	if (size > MAX_RECORD)
		goto too_large;
	size_t need = 4 + (size_t)size;
	if (w->len + need > w->cap && bin_flush(w) < 0)
		return -1;
	if (need > w->cap)
		ff_grow(&w->buf, &w->cap, need, 1);

	unsigned char *p = w->buf + w->len;
	put32(p, (uint32_t)size);
	p += 4;
	unsigned char *bitmap = p;
	memset(bitmap, 0, nb);
	p += nb;
	for (size_t i = 0; i < ncols; i++) {
		const struct ff_cell *c = &cells[i];
		if (c->null) {
			bitmap[i >> 3] |= (unsigned char)(1u << (i & 7));
			continue;
		}
		switch (w->types[i]) {
		case FF_TYPE_INTEGER:
		case FF_TYPE_TIMESTAMP:
			put64(p, (uint64_t)c->i);
			p += 8;
			break;
		case FF_TYPE_REAL: {
			uint64_t bits;
			memcpy(&bits, &c->d, 8);
			put64(p, bits);
			p += 8;
			break;
		}
		case FF_TYPE_TEXT:
			put32(p, (uint32_t)c->len);
			if (c->len)
				memcpy(p + 4, c->s, c->len);
			p += 4 + c->len;
			break;
		}
	}
	w->len += need;
	return 0;
too_large:
	return ff_error("ff-rec: a record of more than %lu bytes cannot be written",
			(unsigned long)MAX_RECORD);
}

static int put_now(struct ff_rec_writer *w, const struct ff_cell *cells)
{
	if (w->failed)
		return -1;
	int rc = w->format == FF_REC_CSV ? csv_put(w, cells) : bin_put(w, cells);
	if (rc < 0)
		w->failed = 1;
	return rc;
}

static void *writer_thread(void *arg)
{
	struct ff_rec_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->head && !w->done)
			pthread_cond_wait(&w->wake, &w->mu);
		struct rec_batch *b = w->head;
		if (!b)
			break;
		w->head = b->next;
		if (!w->head)
			w->tail = NULL;
		w->busy = 1;
		pthread_mutex_unlock(&w->mu);
		for (size_t r = 0; r < b->nrows && !w->failed; r++) {
			struct ff_cell *row = b->cells + r * w->ncols;
			for (size_t c = 0; c < w->ncols; c++)
				if (w->types[c] == FF_TYPE_TEXT && !row[c].null)
					row[c].s = b->arena + row[c].i;
			put_now(w, row);
		}
		if (w->failed)
			atomic_store(&w->thread_failed, 1);
		pthread_mutex_lock(&w->mu);
		b->next = w->free_list;
		w->free_list = b;
		w->busy = 0;
		pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int ff_rec_writer_async(struct ff_rec_writer *w)
{
	if (w->async || w->failed)
		return w->failed ? -1 : 0;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, NULL);
	for (size_t i = 0; i < ASYNC_BATCHES; i++) {
		w->pool[i].cells = ff_xcalloc(ASYNC_ROWS * (w->ncols ? w->ncols : 1), sizeof *w->pool[i].cells);
		w->pool[i].next = w->free_list;
		w->free_list = &w->pool[i];
	}
	if (pthread_create(&w->thread, NULL, writer_thread, w) != 0)
		return 0; /* no thread: write here, as before */
	w->async = 1;
	return 0;
}

static void submit(struct ff_rec_writer *w)
{
	struct rec_batch *b = w->current;
	if (!b)
		return;
	w->current = NULL;
	pthread_mutex_lock(&w->mu);
	b->next = NULL;
	if (w->tail)
		w->tail->next = b;
	else
		w->head = b;
	w->tail = b;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
}

/* Wait until the thread has written everything handed to it. */
static void drain(struct ff_rec_writer *w)
{
	submit(w);
	pthread_mutex_lock(&w->mu);
	while (w->head || w->busy)
		pthread_cond_wait(&w->idle, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void stop_thread(struct ff_rec_writer *w)
{
	if (!w->async)
		return;
	submit(w);
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->async = 0;
}

int ff_rec_writer_put(struct ff_rec_writer *w, const struct ff_cell *cells)
{
	if (!w->async)
		return put_now(w, cells);
	if (atomic_load(&w->thread_failed)) {
		errno = w->error;
		return -1;
	}
	if (!w->current) {
		pthread_mutex_lock(&w->mu);
		while (!w->free_list)
			pthread_cond_wait(&w->idle, &w->mu);
		w->current = w->free_list;
		w->free_list = w->current->next;
		pthread_mutex_unlock(&w->mu);
		w->current->nrows = 0;
		w->current->arena_len = 0;
	}
	struct rec_batch *b = w->current;
	struct ff_cell *dst = b->cells + b->nrows * w->ncols;
	for (size_t c = 0; c < w->ncols; c++) {
		dst[c] = cells[c];
		if (w->types[c] == FF_TYPE_TEXT && !dst[c].null) {
			if (b->arena_len + dst[c].len + 1 > b->arena_cap)
				ff_grow(&b->arena, &b->arena_cap, b->arena_len + dst[c].len + 1, 1);
			memcpy(b->arena + b->arena_len, cells[c].s, dst[c].len);
			b->arena[b->arena_len + dst[c].len] = '\0';
			dst[c].i = (int64_t)b->arena_len;
			dst[c].s = NULL;
			b->arena_len += dst[c].len + 1;
		}
	}
	if (++b->nrows == ASYNC_ROWS)
		submit(w);
	return 0;
}

int ff_rec_writer_flush(struct ff_rec_writer *w)
{
	if (w->async)
		drain(w);
	if (atomic_load(&w->thread_failed))
		w->failed = 1;
	if (w->failed || bin_flush(w) < 0 || fflush(w->out) != 0) {
		if (!w->failed)
			ff_write_failed(w->out, errno);
		w->failed = 1;
		return -1;
	}
	return 0;
}

int ff_rec_writer_close(struct ff_rec_writer *w)
{
	if (!w)
		return 0;
	int rc = 0;
	int had_thread = w->free_list || w->head || w->current || w->async;
	stop_thread(w);
	if (atomic_load(&w->thread_failed))
		w->failed = 1;
	if (!w->failed)
		rc = bin_flush(w);
	if (!w->failed && fflush(w->out) != 0)
		ff_write_failed(w->out, errno);
	if (w->failed || fflush(w->out) != 0 || ferror(w->out))
		rc = -1;
	if (w->failed && w->error)
		errno = w->error; /* for the caller's message */
	if (had_thread) {
		for (size_t i = 0; i < ASYNC_BATCHES; i++) {
			free(w->pool[i].cells);
			free(w->pool[i].arena);
		}
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->wake);
		pthread_cond_destroy(&w->idle);
	}
	free(w->buf);
	free(w->types);
	free(w);
	return rc;
}
