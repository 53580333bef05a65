#include "ff_pg.h"

#include <ctype.h>
#include <stdint.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "ff_db.h"
#include "ff_time.h"
#include "ff_util.h"

struct ff_pg {
	PGconn *conn;
	char *name;
};

int ff_pg_is_uri(const char *store)
{
	if (strncmp(store, "postgresql://", 13) == 0 || strncmp(store, "postgres://", 11) == 0)
		return 1;
	/* conninfo: keyword=value ... */
	const char *p = store;
	while (islower((unsigned char)*p) || *p == '_')
		p++;
	return p > store && *p == '=';
}

const char *ff_pg_name(const struct ff_pg *pg) { return pg->name; }

static int pg_error(struct ff_pg *pg, const char *what, const PGresult *r)
{
	const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn);
	if (!msg || !*msg)
		msg = PQerrorMessage(pg->conn);
	/* libpq's messages run over lines (a detail, a hint, "Is the server
	 * running...?" indented): one line, parts joined by "; ". */
	char one[1024];
	size_t n = 0;
	for (const char *p = msg; *p && n + 3 < sizeof one; p++) {
		if (*p == '\n') {
			while (p[1] == '\t' || p[1] == ' ')
				p++;
			if (p[1] && n)
				one[n++] = ';', one[n++] = ' ';
			continue;
		}
		one[n++] = *p;
	}
	while (n && one[n - 1] == ' ')
		n--;
	return ff_error("%s: %s: %.*s", pg->name, what, (int)n, one);
}

int ff_pg_connect(const char *conninfo, struct ff_pg **out)
{
	*out = NULL;
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	if (!opts) {
		ff_error("%s: not a PostgreSQL URI or conninfo: %s", conninfo, err ? err : "out of memory");
		PQfreemem(err);
		return -1;
	}
	int has_password = 0;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			has_password = 1;
	PQconninfoFree(opts);
	if (has_password)
		return ff_error("%s: a password on the command line is visible to every user: put it in "
				"PGPASSFILE (~/.pgpass) or PGPASSWORD", "store");
	struct ff_pg *pg = ff_xcalloc(1, sizeof *pg);
	pg->name = ff_xstrdup(conninfo);
	pg->conn = PQconnectdb(conninfo);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		pg_error(pg, "cannot connect", NULL);
		ff_pg_close(pg);
		return -1;
	}
	if (ff_pg_exec(pg, "SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET extra_float_digits = 1;"
			   " SET client_min_messages = warning", "cannot set up the session") < 0) {
		ff_pg_close(pg);
		return -1;
	}
	*out = pg;
	return 0;
}

void ff_pg_close(struct ff_pg *pg)
{
	if (!pg)
		return;
	PQfinish(pg->conn);
	free(pg->name);
	free(pg);
}

int ff_pg_exec(struct ff_pg *pg, const char *sql, const char *what)
{
	PGresult *r = PQexec(pg->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : pg_error(pg, what, r);
	PQclear(r);
	return rc;
}

int ff_pg_try_lock(struct ff_pg *pg, const char *qtable, int wait_ms)
{
	char *before = NULL, sql[FF_DB_IDENT_SIZE + 128];
	/* The session's lock_timeout, put back once the lock is taken. */
	if (ff_pg_exec(pg, "SAVEPOINT ff_lock", "cannot lock the table") < 0 ||
	    ff_pg_value(pg, "SELECT current_setting('lock_timeout')", 0, NULL, &before, "cannot lock the table") < 0)
		return -1;
	snprintf(sql, sizeof sql, "SET LOCAL lock_timeout = %d; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", wait_ms,
		 qtable);
	PGresult *r = PQexec(pg->conn, sql);
	int taken = PQresultStatus(r) == PGRES_COMMAND_OK;
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	int busy = !taken && state && strcmp(state, "55P03") == 0; /* lock_not_available */
	if (!taken && !busy)
		pg_error(pg, "cannot lock the table", r);
	PQclear(r);
	int rc = -1;
	if (taken) {
		const char *params[] = {before ? before : "0"};
		char *ok = NULL;
		rc = ff_pg_value(pg, "SELECT set_config('lock_timeout', $1, true)", 1, params, &ok,
				 "cannot lock the table") == 0 &&
			     ff_pg_exec(pg, "RELEASE SAVEPOINT ff_lock", "cannot lock the table") == 0 ? 1 : -1;
		free(ok);
	} else if (busy) {
		rc = ff_pg_exec(pg, "ROLLBACK TO SAVEPOINT ff_lock; RELEASE SAVEPOINT ff_lock", "cannot lock the table") == 0
			     ? 0 : -1;
	}
	free(before);
	return rc;
}

int ff_pg_value(struct ff_pg *pg, const char *sql, int nparams, const char *const *params, char **out,
		const char *what)
{
	*out = NULL;
	PGresult *r = PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_error(pg, what, r);
		PQclear(r);
		return -1;
	}
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		*out = ff_xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

const char *ff_pg_type(enum ff_pg_kind kind)
{
	switch (kind) {
	case FF_PG_INT: return "bigint";
	case FF_PG_REAL: return "double precision";
	case FF_PG_EPOCH:
	case FF_PG_CLOCK: return "timestamp";
	case FF_PG_BLOB: return "bytea";
	default: return "text";
	}
}

const char *ff_pg_key_type(enum ff_pg_kind kind)
{
	return kind == FF_PG_TEXT ? "text COLLATE \"C\"" : ff_pg_type(kind);
}

enum ff_pg_kind ff_pg_kind_of(enum ff_type t)
{
	switch (t) {
	case FF_TYPE_TEXT: return FF_PG_TEXT;
	case FF_TYPE_REAL: return FF_PG_REAL;
	case FF_TYPE_TIMESTAMP: return FF_PG_EPOCH;
	default: return FF_PG_INT;
	}
}

/* ---- SQL text ---- */

FILE *ff_pg_sql_open(char **buf, size_t *size)
{
	*buf = NULL;
	FILE *m = open_memstream(buf, size);
	if (!m)
		ff_die(1, "out of memory");
	return m;
}

char *ff_pg_sql_close(FILE *m, char **buf)
{
	fclose(m);
	return *buf;
}

int ff_pg_sql_exec(struct ff_pg *pg, FILE *m, char **buf, const char *what)
{
	fclose(m);
	int rc = ff_pg_exec(pg, *buf, what);
	free(*buf);
	*buf = NULL;
	return rc;
}

void ff_pg_names(FILE *m, const struct ff_pg_col *cols, size_t n, const char *prefix)
{
	char q[FF_DB_IDENT_SIZE];
	for (size_t i = 0; i < n; i++) {
		ff_db_quote(q, sizeof q, cols[i].name);
		fprintf(m, "%s%s%s", i ? ", " : "", prefix, q);
	}
}

void ff_pg_literal(FILE *m, const char *text)
{
	fputc('\'', m);
	for (const char *p = text; *p; p++) {
		if (*p == '\'')
			fputc('\'', m);
		fputc(*p, m);
	}
	fputc('\'', m);
}

int ff_pg_has(struct ff_pg *pg, const char *qname)
{
	char *v = NULL;
	const char *params[] = {qname};
	if (ff_pg_value(pg, "SELECT to_regclass($1)::text", 1, params, &v, "cannot read the catalog") < 0)
		return -1;
	int has = v != NULL;
	free(v);
	return has;
}

/* ---- COPY in binary form: big-endian integers, timestamps as
 * microseconds since 2000-01-01 ---- */

#define PG_EPOCH_US INT64_C(946684800000000) /* 2000-01-01 in Unix microseconds */
static const char copy_signature[11] = "PGCOPY\n\377\r\n";

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void select_list(FILE *m, const struct ff_pg_col *cols, size_t ncols)
{
	char q[FF_DB_IDENT_SIZE];
	for (size_t i = 0; i < ncols; i++) {
		ff_db_quote(q, sizeof q, cols[i].name);
		fputs(i ? ", " : "", m);
		if (cols[i].kind == FF_PG_CLOCK)
			fprintf(m, "to_char(%s, 'YYYY-MM-DD HH24:MI:SS')", q);
		else
			fprintf(m, "%s::%s", q, ff_pg_type(cols[i].kind));
	}
}

/* One binary row into cells; -1 if it is not a row of ncols fields. */
static int decode_row(const unsigned char *p, size_t n, const struct ff_pg_col *cols, size_t ncols,
		      struct ff_cell *cells)
{
	const unsigned char *end = p + n;
	if (n < 2 || (size_t)(p[0] << 8 | p[1]) != ncols)
		return -1;
	p += 2;
	for (size_t i = 0; i < ncols; i++) {
		if (end - p < 4)
			return -1;
		int32_t len = (int32_t)get32(p);
		p += 4;
		struct ff_cell *c = &cells[i];
		*c = (struct ff_cell){0};
		if (len < 0) {
			c->null = 1;
			continue;
		}
		if (end - p < len)
			return -1;
		switch (cols[i].kind) {
		case FF_PG_INT: c->i = (int64_t)get64(p); break;
		case FF_PG_REAL: {
			uint64_t bits = get64(p);
			memcpy(&c->d, &bits, sizeof c->d);
			break;
		}
		case FF_PG_EPOCH: c->i = (int64_t)get64(p) + PG_EPOCH_US; break;
		default:
			c->s = (const char *)p;
			c->len = (size_t)len;
		}
		p += len;
	}
	return 0;
}

int ff_pg_copy_out(struct ff_pg *pg, const struct ff_pg_col *cols, size_t ncols, const char *from,
		   ff_pg_row_fn fn, void *ctx)
{
	char *sql;
	size_t size = 0;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fputs("COPY (SELECT ", m);
	select_list(m, cols, ncols);
	fprintf(m, " FROM %s) TO STDOUT (FORMAT binary)", from);
	ff_pg_sql_close(m, &sql);
	PGresult *r = PQexec(pg->conn, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		pg_error(pg, "cannot read", r);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	struct ff_cell *cells = ff_xcalloc(ncols ? ncols : 1, sizeof *cells);
	int rc = 0, stopped = 0, first = 1;
	char *line;
	int n;
	while ((n = PQgetCopyData(pg->conn, &line, 0)) > 0) {
		const unsigned char *p = (const unsigned char *)line;
		size_t len = (size_t)n;
		if (first) { /* the header comes with the first row */
			first = 0;
			if (len < 19 || memcmp(p, copy_signature, sizeof copy_signature) != 0) {
				stopped = 1;
				rc = ff_error("%s: cannot read: not a binary COPY", pg->name);
			} else {
				size_t ext = get32(p + 15);
				p += 19 + ext;
				len -= 19 + ext;
			}
		}
		int trailer = len == 2 && p[0] == 0xff && p[1] == 0xff;
		if (!stopped && !trailer) {
			if (decode_row(p, len, cols, ncols, cells) < 0) {
				rc = ff_error("%s: cannot read: a row of another shape", pg->name);
				stopped = 1;
			} else if (fn(ctx, cells) != 0) {
				rc = -1;
				stopped = 1; /* read the rest: the connection must end the COPY */
			}
		}
		PQfreemem(line);
	}
	free(cells);
	if (n == -2)
		return pg_error(pg, "cannot read", NULL);
	while ((r = PQgetResult(pg->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
			rc = pg_error(pg, "cannot read", r);
		PQclear(r);
	}
	return rc;
}

/* ---- COPY out into SQLite ---- */

struct to_db {
	sqlite3 *db;
	const char *db_name;
	sqlite3_stmt *ins;
	const struct ff_pg_col *cols;
	size_t ncols;
	ff_pg_keep_fn keep;
	void *ctx;
};

static int to_db_row(void *ctx, const struct ff_cell *f)
{
	struct to_db *p = ctx;
	if (p->keep && !p->keep(p->ctx, f))
		return 0;
	sqlite3_stmt *s = p->ins;
	for (size_t i = 0; i < p->ncols; i++) {
		int idx = (int)i + 1;
		const struct ff_cell *c = &f[i];
		if (c->null) {
			sqlite3_bind_null(s, idx);
			continue;
		}
		switch (p->cols[i].kind) {
		case FF_PG_INT: sqlite3_bind_int64(s, idx, c->i); break;
		case FF_PG_EPOCH: sqlite3_bind_int64(s, idx, ff_floor_div(c->i, FF_USEC)); break;
		case FF_PG_REAL: sqlite3_bind_double(s, idx, c->d); break;
		case FF_PG_BLOB: sqlite3_bind_blob(s, idx, c->s, (int)c->len, SQLITE_STATIC); break;
		default: sqlite3_bind_text(s, idx, c->s ? c->s : "", (int)c->len, SQLITE_STATIC); break;
		}
	}
	return ff_db_step_done(p->db, p->db_name, s, "cannot copy the store");
}

int ff_pg_copy_to_db(struct ff_pg *pg, const struct ff_pg_col *cols, size_t ncols, const char *from,
		     sqlite3 *db, const char *db_name, const char *qtable, ff_pg_keep_fn keep, void *ctx)
{
	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "INSERT INTO main.%s (", qtable);
	ff_pg_names(m, cols, ncols, "");
	fputs(") VALUES (", m);
	for (size_t i = 0; i < ncols; i++)
		fprintf(m, "%s?", i ? ", " : "");
	fputc(')', m);
	ff_pg_sql_close(m, &sql);
	struct to_db p = {db, db_name, NULL, cols, ncols, keep, ctx};
	int rc = ff_db_prepare(db, db_name, sql, &p.ins, "cannot copy the store");
	free(sql);
	if (rc == 0)
		rc = ff_pg_copy_out(pg, cols, ncols, from, to_db_row, &p);
	sqlite3_finalize(p.ins);
	return rc;
}

/* ---- COPY in ---- */

struct outbuf {
	struct ff_pg *pg;
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static void flush(struct outbuf *b)
{
	if (b->len && !b->failed && PQputCopyData(b->pg->conn, (const char *)b->p, (int)b->len) != 1)
		b->failed = 1;
	b->len = 0;
}

static void put(struct outbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		flush(b);
		if (n > b->cap)
			ff_grow(&b->p, &b->cap, n, 1);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put32(struct outbuf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			      (unsigned char)v};
	put(b, x, 4);
}

static void put64(struct outbuf *b, uint64_t v)
{
	put32(b, 8);
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

/* Column i of s as a binary field of kind; -1 for a clock that is not one. */
static int put_value(struct outbuf *b, sqlite3_stmt *s, int i, enum ff_pg_kind kind)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		put32(b, UINT32_MAX);
		return 0;
	}
	switch (kind) {
	case FF_PG_INT: put64(b, (uint64_t)sqlite3_column_int64(s, i)); break;
	case FF_PG_REAL: {
		double d = sqlite3_column_double(s, i);
		uint64_t bits;
		memcpy(&bits, &d, sizeof bits);
		put64(b, bits);
		break;
	}
	case FF_PG_EPOCH: put64(b, (uint64_t)(sqlite3_column_int64(s, i) * FF_USEC - PG_EPOCH_US)); break;
	case FF_PG_CLOCK: {
		int64_t us;
		const char *t = (const char *)sqlite3_column_text(s, i);
		if (ff_time_parse(t, (size_t)sqlite3_column_bytes(s, i), 1, &us) < 0)
			return -1;
		put64(b, (uint64_t)(us - PG_EPOCH_US));
		break;
	}
	case FF_PG_BLOB: {
		size_t n = (size_t)sqlite3_column_bytes(s, i);
		const void *p = sqlite3_column_blob(s, i);
		put32(b, (uint32_t)n);
		put(b, p, n);
		break;
	}
	default: {
		const unsigned char *t = sqlite3_column_text(s, i);
		size_t n = (size_t)sqlite3_column_bytes(s, i);
		put32(b, (uint32_t)n);
		put(b, t, n);
	}
	}
	return 0;
}

/* Start COPY pg_table (cols) FROM STDIN in binary form. Returns 0 or -1
 * (reported). */
static int copy_start(struct ff_pg *pg, const char *pg_table, const struct ff_pg_col *cols, size_t ncols)
{
	char *sql;
	size_t size = 0;
	FILE *m = ff_pg_sql_open(&sql, &size);
	fprintf(m, "COPY %s (", pg_table);
	ff_pg_names(m, cols, ncols, "");
	fputs(") FROM STDIN (FORMAT binary)", m);
	ff_pg_sql_close(m, &sql);
	PGresult *r = PQexec(pg->conn, sql);
	free(sql);
	int rc = PQresultStatus(r) == PGRES_COPY_IN ? 0 : pg_error(pg, "cannot write", r);
	PQclear(r);
	return rc;
}

/* End the COPY (failed: abort it). Returns 0, or -1 (failed, or reported). */
static int copy_end(struct ff_pg *pg, int failed)
{
	if (PQputCopyEnd(pg->conn, failed ? "ff: the copy failed" : NULL) != 1)
		return pg_error(pg, "cannot write", NULL);
	int out = failed ? -1 : 0;
	PGresult *r;
	while ((r = PQgetResult(pg->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && out == 0)
			out = pg_error(pg, "cannot write", r);
		PQclear(r);
	}
	return out;
}

static void put_header(struct outbuf *b)
{
	put(b, copy_signature, sizeof copy_signature);
	put32(b, 0); /* flags */
	put32(b, 0); /* header extension */
}

int ff_pg_copy_in(struct ff_pg *pg, const char *pg_table, const struct ff_pg_col *cols, size_t ncols,
		  sqlite3 *db, const char *db_name, const char *select)
{
	sqlite3_stmt *s;
	if (ff_db_prepare(db, db_name, select, &s, "cannot read the rows to write") < 0)
		return -1;
	if (copy_start(pg, pg_table, cols, ncols) < 0) {
		sqlite3_finalize(s);
		return -1;
	}
	struct outbuf b = {.pg = pg};
	ff_grow(&b.p, &b.cap, 1 << 16, 1);
	put_header(&b);
	int rc, bad = 0;
	while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW && !b.failed) {
		unsigned char nf[2] = {(unsigned char)(ncols >> 8), (unsigned char)ncols};
		put(&b, nf, 2);
		for (size_t i = 0; i < ncols && !bad; i++)
			bad = put_value(&b, s, (int)i, cols[i].kind) < 0;
	}
	unsigned char trailer[2] = {0xff, 0xff};
	put(&b, trailer, 2);
	flush(&b);
	free(b.p);
	int failed = bad || rc != SQLITE_DONE || b.failed;
	if (bad)
		ff_error("%s: a time that is not YYYY-MM-DD HH:MM:SS", db_name);
	else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ff_db_error(db, db_name, "cannot read the rows to write");
	else if (b.failed)
		pg_error(pg, "cannot write", NULL);
	sqlite3_finalize(s);
	return copy_end(pg, failed);
}

/* ---- rows built in memory, copied later ---- */

static unsigned char *be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

/* A field of 8 bytes: its length, then v big-endian. */
static unsigned char *field64(unsigned char *p, uint64_t v)
{
	p = be32(p, 8);
	p = be32(p, (uint32_t)(v >> 32));
	return be32(p, (uint32_t)v);
}

void ff_pg_rows_put(struct ff_pg_rows *b, const struct ff_pg_col *cols, size_t ncols, const struct ff_cell *cells)
{
	size_t most = 2 + 12 * ncols;
	for (size_t i = 0; i < ncols; i++)
		if (cols[i].kind == FF_PG_TEXT || cols[i].kind == FF_PG_BLOB)
			most += cells[i].len;
	ff_grow(&b->p, &b->cap, b->len + most, 1);
	unsigned char *p = b->p + b->len;
	*p++ = (unsigned char)(ncols >> 8);
	*p++ = (unsigned char)ncols;
	for (size_t i = 0; i < ncols; i++) {
		const struct ff_cell *c = &cells[i];
		if (c->null || (cols[i].kind == FF_PG_REAL && isnan(c->d))) {
			p = be32(p, UINT32_MAX);
			continue;
		}
		switch (cols[i].kind) {
		case FF_PG_INT: p = field64(p, (uint64_t)c->i); break;
		case FF_PG_REAL: {
			double d = c->d == 0 ? 0.0 : c->d;
			uint64_t bits;
			memcpy(&bits, &d, sizeof bits);
			p = field64(p, bits);
			break;
		}
		case FF_PG_EPOCH:
		case FF_PG_CLOCK: p = field64(p, (uint64_t)(ff_floor_div(c->i, FF_USEC) * FF_USEC - PG_EPOCH_US)); break;
		default:
			p = be32(p, (uint32_t)c->len);
			if (c->len)
				memcpy(p, c->s, c->len);
			p += c->len;
		}
	}
	b->len = (size_t)(p - b->p);
	b->nrows++;
}

int ff_pg_rows_send(struct ff_pg *pg, const char *pg_table, const struct ff_pg_col *cols, size_t ncols,
		    const struct ff_pg_rows *rows)
{
	if (copy_start(pg, pg_table, cols, ncols) < 0)
		return -1;
	struct outbuf b = {.pg = pg};
	ff_grow(&b.p, &b.cap, 64, 1);
	put_header(&b);
	flush(&b);
	if (!b.failed && rows->len && PQputCopyData(pg->conn, (const char *)rows->p, (int)rows->len) != 1)
		b.failed = 1;
	unsigned char trailer[2] = {0xff, 0xff};
	put(&b, trailer, 2);
	flush(&b);
	free(b.p);
	if (b.failed)
		pg_error(pg, "cannot write", NULL);
	return copy_end(pg, b.failed);
}

void ff_pg_rows_release(struct ff_pg_rows *b)
{
	free(b->p);
	*b = (struct ff_pg_rows){0};
}
