#include "ff_pg.h"

#include <ctype.h>
#include <inttypes.h>
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
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	return ff_error("%s: %s: %.*s", pg->name, what, (int)n, msg);
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

/* ---- COPY out ---- */

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Undo COPY's text escapes in place (p[0..n)); returns the new length. */
static size_t unescape(char *p, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c != '\\' || i + 1 == n) {
			p[o++] = c;
			continue;
		}
		c = p[++i];
		switch (c) {
		case 'b': p[o++] = '\b'; break;
		case 'f': p[o++] = '\f'; break;
		case 'n': p[o++] = '\n'; break;
		case 'r': p[o++] = '\r'; break;
		case 't': p[o++] = '\t'; break;
		case 'v': p[o++] = '\v'; break;
		case 'x': {
			int v = 0, d = 0;
			while (d < 2 && i + 1 < n && hexval(p[i + 1]) >= 0)
				v = v * 16 + hexval(p[++i]), d++;
			p[o++] = (char)v;
			break;
		}
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0', d = 1;
				while (d < 3 && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '7')
					v = v * 8 + (p[++i] - '0'), d++;
				p[o++] = (char)v;
			} else {
				p[o++] = c;
			}
		}
	}
	return o;
}

/* A bytea's hex text ("\x0a1b...") to its bytes, in place. */
static size_t unhex(char *p, size_t n)
{
	if (n < 2 || p[0] != '\\' || p[1] != 'x')
		return n;
	size_t o = 0;
	for (size_t i = 2; i + 1 < n; i += 2)
		p[o++] = (char)(hexval(p[i]) * 16 + hexval(p[i + 1]));
	return o;
}

static void select_list(FILE *m, const struct ff_pg_col *cols, size_t ncols)
{
	char q[FF_DB_IDENT_SIZE];
	for (size_t i = 0; i < ncols; i++) {
		ff_db_quote(q, sizeof q, cols[i].name);
		fputs(i ? ", " : "", m);
		if (cols[i].kind == FF_PG_EPOCH)
			fprintf(m, "extract(epoch from %s)::bigint", q);
		else if (cols[i].kind == FF_PG_CLOCK)
			fprintf(m, "to_char(%s, 'YYYY-MM-DD HH24:MI:SS')", q);
		else
			fputs(q, m);
	}
}

int ff_pg_copy_out(struct ff_pg *pg, const struct ff_pg_col *cols, size_t ncols, const char *from,
		   ff_pg_row_fn fn, void *ctx)
{
	char *sql = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&sql, &size);
	if (!m)
		ff_die(1, "out of memory");
	fputs("COPY (SELECT ", m);
	select_list(m, cols, ncols);
	fprintf(m, " FROM %s) TO STDOUT", from);
	fclose(m);
	PGresult *r = PQexec(pg->conn, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		pg_error(pg, "cannot read", r);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	char **fields = ff_xcalloc(ncols ? ncols : 1, sizeof *fields);
	size_t *lens = ff_xcalloc(ncols ? ncols : 1, sizeof *lens);
	int rc = 0, stopped = 0;
	char *line;
	int n;
	while ((n = PQgetCopyData(pg->conn, &line, 0)) > 0) {
		if (stopped) {
			PQfreemem(line);
			continue;
		}
		/* One row, ending in a newline; fields split by tabs. */
		size_t len = (size_t)n;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		char *p = line, *end = line + len;
		for (size_t i = 0; i < ncols; i++) {
			char *tab = memchr(p, '\t', (size_t)(end - p));
			char *stop = tab ? tab : end;
			*stop = '\0';
			size_t flen = (size_t)(stop - p);
			if (flen == 2 && p[0] == '\\' && p[1] == 'N') {
				fields[i] = NULL;
				lens[i] = 0;
			} else {
				flen = unescape(p, flen);
				if (cols[i].kind == FF_PG_BLOB)
					flen = unhex(p, flen);
				p[flen] = '\0';
				fields[i] = p;
				lens[i] = flen;
			}
			p = tab ? tab + 1 : end;
		}
		if (fn(ctx, fields, lens) != 0) {
			rc = -1;
			stopped = 1; /* read the rest: the connection must end the COPY */
		}
		PQfreemem(line);
	}
	free(fields);
	free(lens);
	if (n == -2)
		return pg_error(pg, "cannot read", NULL);
	while ((r = PQgetResult(pg->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
			rc = pg_error(pg, "cannot read", r);
		PQclear(r);
	}
	return rc;
}

/* ---- COPY in ---- */

struct outbuf {
	struct ff_pg *pg;
	char *p;
	size_t len, cap;
	int failed;
};

static void flush(struct outbuf *b)
{
	if (b->len && !b->failed && PQputCopyData(b->pg->conn, b->p, (int)b->len) != 1)
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

static void put_escaped(struct outbuf *b, const char *s, size_t n)
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		const char *esc = NULL;
		switch (s[i]) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		}
		if (esc) {
			put(b, s + from, i - from);
			put(b, esc, 2);
			from = i + 1;
		}
	}
	put(b, s + from, n - from);
}

static void put_value(struct outbuf *b, sqlite3_stmt *s, int i, enum ff_pg_kind kind)
{
	char buf[64];
	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		put(b, "\\N", 2);
		return;
	}
	switch (kind) {
	case FF_PG_INT:
		put(b, buf, (size_t)snprintf(buf, sizeof buf, "%" PRId64, (int64_t)sqlite3_column_int64(s, i)));
		break;
	case FF_PG_REAL:
		put(b, buf, (size_t)ff_format_double(buf, sqlite3_column_double(s, i)));
		break;
	case FF_PG_EPOCH:
		ff_time_format((int64_t)sqlite3_column_int64(s, i) * FF_USEC, buf);
		put(b, buf, strlen(buf));
		break;
	case FF_PG_BLOB: {
		static const char hex[] = "0123456789abcdef";
		const unsigned char *p = sqlite3_column_blob(s, i);
		size_t n = (size_t)sqlite3_column_bytes(s, i);
		put(b, "\\\\x", 3);
		for (size_t j = 0; j < n; j++) {
			char two[2] = {hex[p[j] >> 4], hex[p[j] & 15]};
			put(b, two, 2);
		}
		break;
	}
	default:
		put_escaped(b, (const char *)sqlite3_column_text(s, i), (size_t)sqlite3_column_bytes(s, i));
	}
}

int ff_pg_copy_in(struct ff_pg *pg, const char *pg_table, const struct ff_pg_col *cols, size_t ncols,
		  sqlite3 *db, const char *db_name, const char *select, int64_t *rows)
{
	char *sql = NULL, q[FF_DB_IDENT_SIZE];
	size_t size = 0;
	FILE *m = open_memstream(&sql, &size);
	if (!m)
		ff_die(1, "out of memory");
	fprintf(m, "COPY %s (", pg_table);
	for (size_t i = 0; i < ncols; i++) {
		ff_db_quote(q, sizeof q, cols[i].name);
		fprintf(m, "%s%s", i ? ", " : "", q);
	}
	fputs(") FROM STDIN", m);
	fclose(m);
	sqlite3_stmt *s;
	if (ff_db_prepare(db, db_name, select, &s, "cannot read the rows to write") < 0) {
		free(sql);
		return -1;
	}
	PGresult *r = PQexec(pg->conn, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		pg_error(pg, "cannot write", r);
		PQclear(r);
		sqlite3_finalize(s);
		return -1;
	}
	PQclear(r);
	struct outbuf b = {.pg = pg};
	ff_grow(&b.p, &b.cap, 1 << 16, 1);
	int rc;
	int64_t n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && !b.failed) {
		for (size_t i = 0; i < ncols; i++) {
			if (i)
				put(&b, "\t", 1);
			put_value(&b, s, (int)i, cols[i].kind);
		}
		put(&b, "\n", 1);
		n++;
	}
	flush(&b);
	free(b.p);
	int failed = rc != SQLITE_DONE || b.failed;
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ff_db_error(db, db_name, "cannot read the rows to write");
	sqlite3_finalize(s);
	if (PQputCopyEnd(pg->conn, failed ? "ff: the copy failed" : NULL) != 1)
		return pg_error(pg, "cannot write", NULL);
	int out = failed ? -1 : 0;
	while ((r = PQgetResult(pg->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && out == 0)
			out = pg_error(pg, "cannot write", r);
		PQclear(r);
	}
	if (rows)
		*rows = n;
	return out;
}
