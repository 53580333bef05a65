#include "ff_frame.h"
#include "ff_pg.h"
#include "ff_pg_store.h"

#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ff_csv.h"
#include "ff_db.h"
#include "ff_rec.h"
#include "ff_store.h"
#include "ff_store_history.h"
#include "ff_time.h"
#include "ff_util.h"

const char *ff_frame_kind_name(enum ff_frame_kind k)
{
	static const char *const names[] = {"empty", "number", "timestamp", "text"};
	return names[k];
}

static void add_column(struct ff_frame *f, const char *name)
{
	f->cols = ff_xrealloc(f->cols, (f->ncols + 1) * sizeof *f->cols);
	struct ff_frame_col *c = &f->cols[f->ncols++];
	memset(c, 0, sizeof *c);
	c->name = ff_xstrdup(name);
}

/* Room for one more row in every column. */
static size_t new_row(struct ff_frame *f, long pos)
{
	if (f->nrows == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 1024;
		f->pos = ff_xrealloc(f->pos, cap * sizeof *f->pos);
		for (size_t i = 0; i < f->ncols; i++) {
			struct ff_frame_col *c = &f->cols[i];
			c->tag = ff_xrealloc(c->tag, cap);
			c->v = ff_xrealloc(c->v, cap * sizeof *c->v);
			c->off = ff_xrealloc(c->off, cap * sizeof *c->off);
		}
		f->cap = cap;
	}
	f->pos[f->nrows] = pos;
	return f->nrows++;
}

/* Intern s in the column's arena: equal texts share one offset, so that
 * comparing offsets tells equal values apart without comparing bytes. */
static size_t intern(struct ff_frame_col *c, const char *s, size_t len)
{
	if (2 * (c->nstrings + 1) > c->slot_cap) {
		size_t cap = c->slot_cap ? c->slot_cap * 2 : 1024;
		size_t *slots = ff_xmalloc(cap * sizeof *slots);
		for (size_t i = 0; i < cap; i++)
			slots[i] = SIZE_MAX;
		for (size_t i = 0; i < c->slot_cap; i++) {
			if (c->slots[i] == SIZE_MAX)
				continue;
			const char *t = c->arena + c->slots[i];
			size_t h = (size_t)XXH3_64bits(t, strlen(t)) & (cap - 1);
			while (slots[h] != SIZE_MAX)
				h = (h + 1) & (cap - 1);
			slots[h] = c->slots[i];
		}
		free(c->slots);
		c->slots = slots;
		c->slot_cap = cap;
	}
	size_t h = (size_t)XXH3_64bits(s, len) & (c->slot_cap - 1);
	for (; c->slots[h] != SIZE_MAX; h = (h + 1) & (c->slot_cap - 1)) {
		const char *t = c->arena + c->slots[h];
		if (strncmp(t, s, len) == 0 && t[len] == '\0')
			return c->slots[h];
	}
	if (c->arena_len + len + 1 > c->arena_cap) {
		size_t cap = c->arena_cap ? c->arena_cap : 4096;
		while (cap < c->arena_len + len + 1)
			cap *= 2;
		c->arena = ff_xrealloc(c->arena, cap);
		c->arena_cap = cap;
	}
	memcpy(c->arena + c->arena_len, s, len);
	c->arena[c->arena_len + len] = '\0';
	c->slots[h] = c->arena_len;
	c->nstrings++;
	c->arena_len += len + 1;
	return c->slots[h];
}

static void keep_text(struct ff_frame_col *c, size_t row, const char *s, size_t len)
{
	c->off[row] = intern(c, s, len);
}

static void put_null(struct ff_frame_col *c, size_t row)
{
	c->tag[row] = FF_CELL_NULL;
	c->v[row] = 0;
	c->off[row] = SIZE_MAX;
}

static void put_number(struct ff_frame_col *c, size_t row, double d)
{
	c->tag[row] = FF_CELL_NUMBER;
	c->v[row] = d;
	c->off[row] = SIZE_MAX;
	c->nnumber++;
}

static void put_time(struct ff_frame_col *c, size_t row, int64_t usec)
{
	c->tag[row] = FF_CELL_TIME;
	c->v[row] = (double)usec / FF_USEC;
	c->off[row] = SIZE_MAX;
	c->ntime++;
}

/* Text: kept as it is, and read as a number or a timestamp when it is one
 * (and the column has not shown itself to be text already). */
static void put_text(struct ff_frame_col *c, size_t row, const char *s, size_t len)
{
	double d;
	int64_t usec;
	if (c->ntext == 0 && !c->text_only && ff_parse_double(s, len, &d) == 0)
		put_number(c, row, d);
	else if (c->ntext == 0 && ff_time_parse(s, len, 1, &usec) == 0)
		put_time(c, row, usec);
	else {
		c->tag[row] = FF_CELL_TEXT;
		c->v[row] = 0;
		c->ntext++;
		c->off[row] = SIZE_MAX;
	}
	keep_text(c, row, s, len);
}

/* ---- record streams ---- */

struct rec_ctx {
	struct ff_frame *f;
	struct ff_rec_reader *reader;
	size_t header_n;
	const char *const *wanted;
	size_t nwanted;
	long *map; /* frame column -> stream column */
};

static int rec_schema(void *arg, const struct ff_rec_schema *s)
{
	struct rec_ctx *x = arg;
	size_t n = x->wanted ? x->nwanted : s->ncols;
	x->header_n = s->ncols;
	x->map = ff_xcalloc(n ? n : 1, sizeof *x->map);
	for (size_t i = 0; i < n; i++) {
		const char *name = x->wanted ? x->wanted[i] : s->names[i];
		long k = x->wanted ? ff_rec_schema_find(s, name) : (long)i;
		char hint[160];
		if (k < 0)
			return ff_error("%s: no column '%s'%s", x->f->name, name,
					ff_csv_header_hint((const char *const *)s->names, s->ncols, name,
							   hint, sizeof hint));
		x->map[i] = k;
		add_column(x->f, name);
	}
	return 0;
}

/* The reader of a stream: the schema's types tell how to read each cell
 * (a CSV stream is all text). */
struct typed_ctx {
	struct rec_ctx rec;
	enum ff_type *types; /* per frame column */
};

static int typed_schema(void *arg, const struct ff_rec_schema *s)
{
	struct typed_ctx *x = arg;
	if (rec_schema(&x->rec, s) != 0)
		return -1;
	x->types = ff_xcalloc(x->rec.f->ncols + 1, sizeof *x->types);
	for (size_t i = 0; i < x->rec.f->ncols; i++)
		x->types[i] = s->types[x->rec.map[i]];
	return 0;
}

static int typed_row(void *arg, const struct ff_cell *cells, size_t n, long pos)
{
	struct typed_ctx *x = arg;
	struct ff_frame *f = x->rec.f;
	if (n != x->rec.header_n) {
		char where[600];
		ff_rec_where(x->rec.reader, pos, where, sizeof where);
		return ff_error("%s: %zu field%s, the header has %zu", where, n, n == 1 ? "" : "s",
				x->rec.header_n);
	}
	size_t row = new_row(f, pos);
	for (size_t i = 0; i < f->ncols; i++) {
		const struct ff_cell *cell = &cells[x->rec.map[i]];
		struct ff_frame_col *c = &f->cols[i];
		if (cell->null)
			put_null(c, row);
		else if (x->types[i] == FF_TYPE_TEXT)
			put_text(c, row, cell->s, cell->len);
		else if (x->types[i] == FF_TYPE_INTEGER)
			put_number(c, row, (double)cell->i);
		else if (x->types[i] == FF_TYPE_REAL)
			put_number(c, row, cell->d);
		else
			put_time(c, row, cell->i);
	}
	return 0;
}

static int read_stream(struct ff_frame *f, const char *path, const char *const *wanted,
		       size_t nwanted)
{
	FILE *in = ff_open_input(path);
	if (!in)
		return -1;
	struct ff_rec_reader *r = ff_rec_open(in, f->name);
	struct typed_ctx x = {{f, r, 0, wanted, nwanted, NULL}, NULL};
	int rc = ff_rec_each(r, typed_schema, typed_row, &x);
	f->binary = ff_rec_input_format(r) == FF_REC_BIN;
	ff_rec_close(r);
	if (in != stdin)
		fclose(in);
	free(x.rec.map);
	free(x.types);
	return rc == 0 ? 0 : -1;
}

/* ---- SQLite tables ---- */

static int is_sqlite_file(const char *path)
{
	char magic[16];
	FILE *in = fopen(path, "rb");
	if (!in)
		return 0;
	int yes = fread(magic, 1, 16, in) == 16 && memcmp(magic, "SQLite format 3", 16) == 0;
	fclose(in);
	return yes;
}

/* Keys, timestamp key, partition and roles from a store's catalog, when
 * the file is a store and the table one of its feature tables. */
static void read_catalog(struct ff_frame *f, sqlite3 *db, const char *path, const char *table,
			 struct ff_table_def *def)
{
	struct ff_store *st = NULL;
	struct ff_catalog_entry e;
	memset(def, 0, sizeof *def);
	if (ff_store_borrow(db, path, "main", &st) != 1)
		return; /* not a store */
	if (ff_store_catalog_entry(st, table, &e) == 1) {
		f->primary_keys = e.primary_keys;
		f->timestamp_key = e.timestamp_key;
		f->partition = e.partition_column;
		e.primary_keys = e.timestamp_key = e.partition_column = NULL;
		ff_catalog_entry_release(&e);
		if (ff_store_table(st, table, def, NULL) < 0)
			memset(def, 0, sizeof *def);
	}
	ff_store_close(st);
}

static const char *catalog_role(const struct ff_table_def *def, const char *column)
{
	for (size_t i = 0; i < def->ncols; i++)
		if (strcmp(def->cols[i].name, column) == 0)
			return ff_role_name(def->cols[i].role);
	return NULL;
}

static int read_rows(struct ff_frame *f, sqlite3_stmt *st)
{
	int rc;
	long n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t row = new_row(f, ++n);
		for (size_t i = 0; i < f->ncols; i++) {
			struct ff_frame_col *c = &f->cols[i];
			int t = sqlite3_column_type(st, (int)i);
			int is_ts = c->role && strcmp(c->role, "timestamp") == 0;
			if (t == SQLITE_NULL)
				put_null(c, row);
			else if (t == SQLITE_INTEGER && is_ts)
				put_time(c, row, sqlite3_column_int64(st, (int)i) * FF_USEC);
			else if (t == SQLITE_INTEGER || t == SQLITE_FLOAT)
				put_number(c, row, sqlite3_column_double(st, (int)i));
			else
				put_text(c, row, (const char *)sqlite3_column_text(st, (int)i),
					 (size_t)sqlite3_column_bytes(st, (int)i));
		}
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The rows of an ff store's table as of a version, for the columns of sql
 * ("SELECT a, b FROM t"): the outer select of ff_store_rows_sql's rows. */
static char *as_of_sql(sqlite3 *db, const char *path, const char *table, const struct ff_table_def *def,
		       const struct ff_as_of *as_of, const char *sql)
{
	struct ff_store *st = NULL;
	char *rows = NULL, *out = NULL;
	int64_t version;
	int ok = ff_store_borrow(db, path, "main", &st);
	if (ok == 0)
		ff_error("%s: --as-of reads an ff store; this is not one", path);
	if (ok > 0 && ff_store_as_of_version(st, table, as_of, &version) == 0 &&
	    ff_store_def_rows_sql(st, table, def, version, &rows) == 0) {
		const char *from = strstr(sql, " FROM ");
		size_t n = (size_t)(from - sql) + strlen(rows) + 16;
		out = ff_xmalloc(n);
		snprintf(out, n, "%.*s FROM (%s)", (int)(from - sql), sql, rows);
	}
	free(rows);
	ff_store_close(st);
	return out;
}

/* The table of the SQLite file path, named shown in messages. */
static int read_table(struct ff_frame *f, const char *path, const char *shown, const char *table,
		      const char *const *wanted, size_t nwanted, const struct ff_as_of *as_of)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	struct ff_table_def def = {0};
	int rc = -1;
	f->is_sqlite = 1;
	if (ff_db_open_as(path, shown, FF_DB_READER, 0, &db) < 0)
		goto out;
	char ident[FF_DB_IDENT_SIZE];
	char probe[FF_DB_IDENT_SIZE + 16];
	if (ff_db_quote(ident, sizeof ident, table) < 0) {
		ff_error("%s: no table '%s'", shown, table);
		goto out;
	}
	snprintf(probe, sizeof probe, "SELECT * FROM %s", ident);
	if (sqlite3_prepare_v2(db, probe, -1, &st, NULL) != SQLITE_OK) {
		ff_error("%s: no table '%s'", shown, table);
		goto out;
	}
	read_catalog(f, db, shown, table, &def);
	size_t n = wanted ? nwanted : (size_t)sqlite3_column_count(st);
	size_t len = 32;
	for (size_t i = 0; i < n; i++) {
		const char *name = wanted ? wanted[i] : sqlite3_column_name(st, (int)i);
		int k = wanted ? -1 : (int)i;
		for (int j = 0; wanted && j < sqlite3_column_count(st); j++)
			if (strcmp(sqlite3_column_name(st, j), name) == 0)
				k = j;
		if (k < 0) {
			ff_error("%s: no column '%s'", f->name, name);
			goto out;
		}
		add_column(f, name);
		f->cols[i].role = catalog_role(&def, name);
		const char *decl = sqlite3_column_decltype(st, k);
		if (decl && strstr(decl, "TEXT"))
			f->cols[i].text_only = 1; /* keys such as zip codes stay text */
		len += strlen(name) * 2 + 4;
	}
	sqlite3_finalize(st);
	st = NULL;
	sql = ff_xmalloc(len + strlen(ident));
	char *p = sql + sprintf(sql, "SELECT ");
	for (size_t i = 0; i < n; i++) {
		char col[FF_DB_IDENT_SIZE];
		if (ff_db_quote(col, sizeof col, f->cols[i].name) < 0) {
			ff_error("%s: column name '%.24s...' too long", f->name, f->cols[i].name);
			goto out;
		}
		p += sprintf(p, "%s%s", i ? ", " : "", col);
	}
	sprintf(p, " FROM %s", ident);
	if (as_of) {
		char *rows = as_of_sql(db, shown, table, &def, as_of, sql);
		if (!rows)
			goto out;
		free(sql);
		sql = rows;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || read_rows(f, st) < 0) {
		ff_error("%s: %s", f->name, sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	free(sql);
	ff_table_def_release(&def);
	sqlite3_finalize(st);
	ff_db_close(db);
	return rc;
}

/* ---- the frame ---- */

/* Decide each column's kind; a text column gets the text of every value. */
static void finish(struct ff_frame *f)
{
	for (size_t i = 0; i < f->ncols; i++) {
		struct ff_frame_col *c = &f->cols[i];
		if (c->ntext || (c->nnumber && c->ntime))
			c->kind = FF_KIND_TEXT;
		else if (c->nnumber)
			c->kind = FF_KIND_NUMBER;
		else if (c->ntime)
			c->kind = FF_KIND_TIME;
		else
			c->kind = FF_KIND_EMPTY;
		if (c->kind != FF_KIND_TEXT)
			continue;
		for (size_t r = 0; r < f->nrows; r++) {
			if (c->tag[r] == FF_CELL_NULL)
				continue;
			if (c->off[r] == SIZE_MAX) {
				char buf[32];
				ff_frame_text(f, i, r, buf);
				keep_text(c, r, buf, strlen(buf));
			}
			c->tag[r] = FF_CELL_TEXT;
		}
	}
}

int ff_frame_read(struct ff_frame *f, const char *store, const char *source,
		  const char *const *wanted, size_t nwanted)
{
	return ff_frame_read_as_of(f, store, source, wanted, nwanted, NULL);
}

int ff_frame_read_as_of(struct ff_frame *f, const char *store, const char *source,
			const char *const *wanted, size_t nwanted, const struct ff_as_of *as_of)
{
	memset(f, 0, sizeof *f);
	int rc;
	if (store) {
		f->name = ff_xmalloc(strlen(store) + strlen(source) + 2);
		sprintf(f->name, "%s:%s", store, source);
		/* A PostgreSQL store's table is read from a private copy of it
		 * (ff_pg_store.h). */
		const char *file = ff_pg_is_uri(store) ? ff_pg_store_table_file(store, source) : store;
		rc = file ? read_table(f, file, store, source, wanted, nwanted, as_of) : -1;
	} else {
		const char *colon = strrchr(source, ':');
		char *db = colon ? ff_xstrndup(source, (size_t)(colon - source)) : NULL;
		f->name = ff_xstrdup(ff_input_name(source));
		if (db && is_sqlite_file(db))
			rc = read_table(f, db, db, colon + 1, wanted, nwanted, as_of);
		else if (as_of)
			rc = ff_error("%s: --as-of reads a table of a store, not a record stream", f->name);
		else
			rc = read_stream(f, source, wanted, nwanted);
		free(db);
	}
	if (rc == 0)
		finish(f);
	return rc;
}

void ff_frame_release(struct ff_frame *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ncols; i++) {
		struct ff_frame_col *c = &f->cols[i];
		free(c->name);
		free(c->tag);
		free(c->v);
		free(c->off);
		free(c->arena);
		free(c->slots);
	}
	free(f->cols);
	free(f->pos);
	free(f->name);
	free(f->primary_keys);
	free(f->timestamp_key);
	free(f->partition);
	memset(f, 0, sizeof *f);
}

long ff_frame_find(const struct ff_frame *f, const char *name)
{
	for (size_t i = 0; i < f->ncols; i++)
		if (strcmp(f->cols[i].name, name) == 0)
			return (long)i;
	return -1;
}

void ff_frame_format_time(double secs, char *buf)
{
	ff_time_format((int64_t)llround(secs * FF_USEC), buf);
}

const char *ff_frame_text(const struct ff_frame *f, size_t col, size_t row, char *buf)
{
	const struct ff_frame_col *c = &f->cols[col];
	if (c->off[row] != SIZE_MAX)
		return c->arena + c->off[row];
	switch (c->tag[row]) {
	case FF_CELL_NUMBER: ff_format_double(buf, c->v[row]); return buf;
	case FF_CELL_TIME: ff_frame_format_time(c->v[row], buf); return buf;
	default: return "";
	}
}

void ff_frame_where(const struct ff_frame *f, size_t row, char *buf, size_t size)
{
	if (f->is_sqlite)
		snprintf(buf, size, "%s: row %ld", f->name, f->pos[row]);
	else if (f->binary)
		snprintf(buf, size, "%s: record %ld", f->name, f->pos[row]);
	else
		snprintf(buf, size, "%s:%ld", f->name, f->pos[row]);
}
