#include "ff_online.h"
#include "ff_pg.h"
#include "ff_pg_store.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ff_db.h"
#include "ff_keyset.h"
#include "ff_online_redis.h"
#include "ff_redis.h"
#include "ff_schema.h"
#include "ff_store.h"
#include "ff_store_history.h"
#include "ff_util.h"

#define FF_ONLINE_APPLICATION_ID 0x66660003

static const char *online_schema =
	"CREATE TABLE IF NOT EXISTS ff_online_tables ("
	" name TEXT PRIMARY KEY,"
	" source TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" definition TEXT NOT NULL,"
	" synced_at TEXT NOT NULL,"
	" rows INTEGER NOT NULL,"
	" retention INTEGER);"
	"CREATE TABLE IF NOT EXISTS ff_online_columns ("
	" table_name TEXT NOT NULL,"
	" position INTEGER NOT NULL,"
	" name TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" role TEXT NOT NULL,"
	" PRIMARY KEY (table_name, position)) WITHOUT ROWID;"
	/* The identity of the offline store each table was synced from (ff_store_id):
	 * a table of its own, so that online stores made before it read as they did. */
	"CREATE TABLE IF NOT EXISTS ff_online_sources ("
	" table_name TEXT PRIMARY KEY,"
	" store_id TEXT);";

struct sync {
	sqlite3 *db;
	const char *online, *offline, *table;
	const char *offline_file; /* offline, or a PostgreSQL store's private copy */
	const struct ff_sync_options *o;
	struct ff_sync_stats *stats;
	struct ff_store *src;    /* the offline store, attached as src */
	char q[FF_DB_IDENT_SIZE];  /* the table, quoted */
	char *cols, *key_cols;   /* "a", "b" lists */
	char *tcols, *ckey_cols; /* t."a", ... and c."k", ... */
	char *key_match;         /* t.k = c.k AND ... */
	char ts[FF_DB_IDENT_SIZE]; /* the timestamp key, quoted */
	struct ff_table_def def; /* the offline table, from its catalog */
	int64_t version;
	int64_t pulled;          /* a PostgreSQL store's copy: pulled_since; -2: not one */
};

/* Errors name the online store and the table being synced. */
static int exec(struct sync *s, const char *sql)
{
	char where[FF_DB_IDENT_SIZE + 4096];
	if (s->table)
		snprintf(where, sizeof where, "%s: table %s", s->online, s->table);
	else
		snprintf(where, sizeof where, "%s", s->online);
	return ff_db_exec(s->db, where, sql);
}

/* A file: URI of a path: '%', '?' and '#' would mean something there. */
static char *file_uri(const char *path)
{
	size_t n = strlen(path);
	char *buf = ff_xmalloc(3 * n + 16);
	char *p = buf + sprintf(buf, "file:");
	for (const char *c = path; *c; c++) {
		if (*c == '%' || *c == '?' || *c == '#')
			p += sprintf(p, "%%%02X", (unsigned char)*c);
		else
			*p++ = *c;
	}
	strcpy(p, "?mode=ro");
	char *uri = sqlite3_mprintf("%s", buf);
	free(buf);
	return uri;
}

char *ff_online_source(const char *offline)
{
	return ff_pg_is_uri(offline) ? ff_xstrdup(offline) : realpath(offline, NULL);
}

static int open_online(struct sync *s)
{
	if (!s->offline_file)
		return -1;
	if (access(s->offline_file, R_OK) < 0)
		return ff_error("%s: %s", s->offline, strerror(errno));
	if (ff_db_open(s->online, FF_DB_WRITER, FF_DB_CREATE | FF_DB_URI, &s->db) < 0)
		return -1;
	/* Unreadable: taken as 0, as a new file. */
	int64_t app = 0, tables = 0;
	ff_db_int(s->db, NULL, "PRAGMA application_id", NULL, NULL, &app, NULL);
	ff_db_int(s->db, NULL, "SELECT count(*) FROM sqlite_schema", NULL, NULL, &tables, NULL);
	if (app != FF_ONLINE_APPLICATION_ID && tables > 0)
		return ff_error("%s: not an ff online store", s->online);
	char sql[200];
	snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=1;",
		 FF_ONLINE_APPLICATION_ID);
	if (ff_db_wal(s->db, s->online) < 0 || exec(s, sql) < 0 || exec(s, online_schema) < 0)
		return -1;
	char *uri = file_uri(s->offline_file);
	char *attach = sqlite3_mprintf("ATTACH %Q AS src", uri);
	int rc = exec(s, attach);
	sqlite3_free(uri);
	sqlite3_free(attach);
	if (rc < 0)
		return -1;
	int ok = ff_store_borrow(s->db, s->offline, "src", &s->src);
	if (ok == 0)
		return ff_error("%s: not an ff store", s->offline);
	return ok < 0 ? -1 : 0;
}

/* The offline table's version, definition and columns. */
static int read_source(struct sync *s)
{
	int found = ff_store_table(s->src, s->table, &s->def, &s->version);
	if (found < 0)
		return -1;
	if (!found)
		return ff_error("%s: no table %s in the store", s->offline, s->table);
	if (s->o->as_of && ff_store_as_of_version(s->src, s->table, s->o->as_of, &s->version) < 0)
		return -1;
	const struct ff_column *columns = s->def.cols;
	size_t ncols = s->def.ncols;
	for (size_t i = 0; i < ncols; i++) {
		char q[FF_DB_IDENT_SIZE];
		if (ff_db_quote(q, sizeof q, columns[i].name) < 0)
			return ff_error("%s: table %s: column name '%.24s...' too long", s->offline, s->table,
					columns[i].name);
	}
	/* Column lists for the SQL below. */
	char *cols = NULL, *keys = NULL, *match = NULL, *tcols = NULL, *ckeys = NULL;
	size_t n1 = 0, n2 = 0, n3 = 0, n4 = 0, n5 = 0;
	FILE *m1 = open_memstream(&cols, &n1), *m2 = open_memstream(&keys, &n2), *m3 = open_memstream(&match, &n3);
	FILE *m4 = open_memstream(&tcols, &n4), *m5 = open_memstream(&ckeys, &n5);
	int nk = 0;
	for (size_t i = 0; i < ncols; i++) {
		char q[FF_DB_IDENT_SIZE];
		ff_db_quote(q, sizeof q, columns[i].name);
		fprintf(m1, "%s%s", i ? ", " : "", q);
		fprintf(m4, "%st.%s", i ? ", " : "", q);
		if (columns[i].role == FF_ROLE_TIMESTAMP)
			memcpy(s->ts, q, sizeof q);
	}
	/* Point lookups go by key, then time: the online key order. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < ncols; i++) {
			enum ff_role want = pass == 0 ? FF_ROLE_KEY : FF_ROLE_TIMESTAMP;
			if (columns[i].role != want)
				continue;
			char q[FF_DB_IDENT_SIZE];
			ff_db_quote(q, sizeof q, columns[i].name);
			fprintf(m2, "%s%s", nk ? ", " : "", q);
			fprintf(m3, "%st.%s = c.%s", nk ? " AND " : "", q, q);
			fprintf(m5, "%sc.%s", nk ? ", " : "", q);
			nk++;
		}
	fclose(m1);
	fclose(m2);
	fclose(m3);
	fclose(m4);
	fclose(m5);
	s->tcols = tcols;
	s->ckey_cols = ckeys;
	s->cols = cols;
	s->key_cols = keys;
	s->key_match = match;
	return 0;
}

/* ---- the full copy ----
 *
 * The offline table is stored in time order, the online one in key order.
 * INSERT ... SELECT ... ORDER BY key made SQLite sort every row (0.8-1.2M
 * rows/s). Instead the rows are read in the offline order, each kept as its
 * values' bytes, and grouped by key with a counting sort: a key's rows come
 * out in time order as read, so the rows go in key order with no comparison
 * of rows, COPY_ROWS to a statement, as ff-compute writes a new table. The
 * order only makes the inserts cheap: any order gives the same table. A table
 * whose rows take more than COPY_MEMORY falls back to SQLite's sort. */
enum { COPY_ROWS = 128, COPY_MEMORY = 512 << 20, CHUNK_MAX = 1 << 16 };

/* A key's rows, one after the other, in chunks that grow to CHUNK_MAX. */
struct chunk {
	struct chunk *next;
	size_t len, cap;
	unsigned char data[];
};

struct copy {
	struct ff_keyset *keys;  /* key tuples, in bytes that sort as SQLite does */
	struct chunk **head, **tail; /* per key id */
	size_t nkeys_cap;
	unsigned char *row;      /* the row being read: per column a tag, then its value */
	size_t len, cap;
	size_t bytes, nrows;
};

static void copy_need(struct copy *c, size_t n)
{
	if (c->len + n > c->cap)
		ff_grow(&c->row, &c->cap, c->len + n, 1);
}

/* How a value is kept: a tag, then its bytes. Integers in as few bytes as
 * hold them and short texts with a one-byte length: the pickup table's rows
 * take 30 bytes instead of 47. */
enum {
	V_NULL, V_REAL, V_INT1, V_INT2, V_INT4, V_INT8, V_TEXT1, V_TEXT4, V_BLOB1, V_BLOB4,
};

/* Column col of the row st is on, appended as tag and value. */
static void copy_value(struct copy *c, sqlite3_stmt *st, int col)
{
	int type = sqlite3_column_type(st, col);
	copy_need(c, 9);
	unsigned char *p = c->row + c->len;
	if (type == SQLITE_INTEGER) {
		/* 1, 2, 4 or 8 bytes, little-endian: the fewest that hold it. */
		int64_t v = sqlite3_column_int64(st, col);
		int w = 0;
		while (w < 3 && (v < -(INT64_C(1) << (8 * (1 << w) - 1)) || v >= INT64_C(1) << (8 * (1 << w) - 1)))
			w++;
		*p++ = (unsigned char)(V_INT1 + w);
		for (int i = 0; i < 1 << w; i++)
			p[i] = (unsigned char)((uint64_t)v >> (8 * i));
		c->len += 1 + (size_t)(1 << w);
	} else if (type == SQLITE_FLOAT) {
		double v = sqlite3_column_double(st, col);
		*p = V_REAL;
		memcpy(p + 1, &v, 8);
		c->len += 9;
	} else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
		const void *bytes = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, col)
							: sqlite3_column_blob(st, col);
		uint32_t n = (uint32_t)sqlite3_column_bytes(st, col);
		copy_need(c, 5 + (size_t)n);
		p = c->row + c->len;
		if (n <= UINT8_MAX) {
			*p++ = type == SQLITE_TEXT ? V_TEXT1 : V_BLOB1;
			*p++ = (unsigned char)n;
			c->len += 2;
		} else {
			*p++ = type == SQLITE_TEXT ? V_TEXT4 : V_BLOB4;
			memcpy(p, &n, 4);
			p += 4;
			c->len += 5;
		}
		if (n)
			memcpy(p, bytes, n);
		c->len += n;
	} else {
		*p = V_NULL;
		c->len += 1;
	}
}

/* Append the row read to key id's chunks. */
static void copy_keep(struct copy *c, uint32_t id)
{
	if (id >= c->nkeys_cap) {
		size_t old = c->nkeys_cap;
		c->nkeys_cap = old ? 2 * old : 256;
		if (c->nkeys_cap <= id)
			c->nkeys_cap = (size_t)id + 1;
		c->head = ff_xrealloc(c->head, c->nkeys_cap * sizeof *c->head);
		c->tail = ff_xrealloc(c->tail, c->nkeys_cap * sizeof *c->tail);
		memset(c->head + old, 0, (c->nkeys_cap - old) * sizeof *c->head);
		memset(c->tail + old, 0, (c->nkeys_cap - old) * sizeof *c->tail);
	}
	struct chunk *t = c->tail[id];
	if (!t || t->len + c->len > t->cap) {
		size_t cap = t ? 2 * t->cap : 256;
		if (cap > CHUNK_MAX)
			cap = CHUNK_MAX;
		if (cap < c->len)
			cap = c->len;
		struct chunk *n = ff_xmalloc(sizeof *n + cap);
		n->next = NULL;
		n->len = 0;
		n->cap = cap;
		if (t)
			t->next = n;
		else
			c->head[id] = n;
		c->tail[id] = t = n;
		c->bytes += sizeof *n + cap;
	}
	memcpy(t->data + t->len, c->row, c->len);
	t->len += c->len;
	c->nrows++;
}

static void copy_release(struct copy *c)
{
	for (size_t k = 0; k < c->nkeys_cap; k++)
		for (struct chunk *ch = c->head[k], *next; ch; ch = next) {
			next = ch->next;
			free(ch);
		}
	free(c->head);
	free(c->tail);
	free(c->row);
	ff_keyset_free(c->keys);
}

/* Bind the value at p (copy_value) to parameter idx; returns the next value. */
static const unsigned char *copy_bind(sqlite3_stmt *st, int idx, const unsigned char *p)
{
	int tag = *p++;
	switch (tag) {
	case V_INT1:
	case V_INT2:
	case V_INT4:
	case V_INT8: {
		int n = 1 << (tag - V_INT1), shift = 64 - 8 * n;
		uint64_t u = 0;
		for (int i = 0; i < n; i++)
			u |= (uint64_t)p[i] << (8 * i);
		sqlite3_bind_int64(st, idx, shift ? (int64_t)(u << shift) >> shift : (int64_t)u);
		return p + n;
	}
	case V_REAL: {
		double x;
		memcpy(&x, p, 8);
		sqlite3_bind_double(st, idx, x);
		return p + 8;
	}
	case V_TEXT1:
	case V_TEXT4:
	case V_BLOB1:
	case V_BLOB4: {
		uint32_t n = *p;
		if (tag == V_TEXT4 || tag == V_BLOB4)
			memcpy(&n, p, 4);
		p += tag == V_TEXT4 || tag == V_BLOB4 ? 4 : 1;
		if (tag == V_TEXT1 || tag == V_TEXT4)
			sqlite3_bind_text(st, idx, (const char *)p, (int)n, SQLITE_STATIC);
		else
			sqlite3_bind_blob(st, idx, p, (int)n, SQLITE_STATIC);
		return p + n;
	}
	default:
		sqlite3_bind_null(st, idx);
		return p;
	}
}

struct key_rank {
	const char *bytes;
	size_t len;
	uint32_t id;
};

static int key_rank_cmp(const void *a, const void *b)
{
	const struct key_rank *x = a, *y = b;
	int c = memcmp(x->bytes, y->bytes, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The SELECT of the offline rows to copy, the cols of s in that order: the
 * table as it is, or as of the version asked for (ff_store_history.h).
 * Returns it (sqlite3_free), or NULL (reported). */
static char *source_rows(struct sync *s)
{
	if (!s->o->as_of)
		return sqlite3_mprintf("SELECT %s FROM src.%s", s->cols, s->q);
	char *rows = NULL;
	if (ff_store_def_rows_sql(s->src, s->table, &s->def, s->version, &rows) < 0)
		return NULL;
	char *sql = sqlite3_mprintf("SELECT %s FROM (%s)", s->cols, rows);
	free(rows);
	return sql;
}

/* Read the offline table into c. Returns 1 when read, 0 when it outgrew
 * COPY_MEMORY, -1 on an error (reported). */
static int copy_read(struct sync *s, struct copy *c)
{
	char *sql = source_rows(s);
	if (!sql)
		return -1;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK ? 1 : -1;
	sqlite3_free(sql);
	size_t ncols = s->def.ncols;
	unsigned char *key = NULL;
	size_t key_cap = 0;
	while (rc == 1) {
		int step = sqlite3_step(st);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = -1;
			break;
		}
		/* The key tuple in bytes that compare as SQLite orders the keys:
		 * integers big-endian with the sign bit flipped, text as is and
		 * ended by a NUL. */
		size_t klen = 0;
		for (size_t i = 0; i < ncols; i++) {
			if (s->def.cols[i].role != FF_ROLE_KEY)
				continue;
			int type = sqlite3_column_type(st, (int)i);
			size_t n = type == SQLITE_TEXT || type == SQLITE_BLOB ? (size_t)sqlite3_column_bytes(st, (int)i) : 8;
			ff_grow(&key, &key_cap, klen + n + 2, 1);
			key[klen++] = (unsigned char)type;
			if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
				const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, (int)i)
								    : sqlite3_column_blob(st, (int)i);
				if (n)
					memcpy(key + klen, p, n);
				klen += n;
				key[klen++] = '\0';
			} else if (type != SQLITE_NULL) {
				uint64_t v = (uint64_t)sqlite3_column_int64(st, (int)i) ^ (1ULL << 63);
				for (int b = 7; b >= 0; b--)
					key[klen++] = (unsigned char)(v >> (8 * b));
			}
		}
		uint32_t id = ff_keyset_intern(c->keys, key ? (const char *)key : "", klen);
		c->len = 0;
		for (size_t i = 0; i < ncols; i++)
			copy_value(c, st, (int)i);
		copy_keep(c, id);
		if (c->bytes > COPY_MEMORY)
			rc = 0;
	}
	if (rc < 0)
		ff_error("%s: table %s: %s", s->offline, s->table, sqlite3_errmsg(s->db));
	free(key);
	sqlite3_finalize(st);
	return rc;
}

/* Insert c's rows into the new online table in key order. */
static int copy_write(struct sync *s, struct copy *c)
{
	uint32_t nkeys = ff_keyset_count(c->keys);
	struct key_rank *ranks = ff_xcalloc(nkeys ? nkeys : 1, sizeof *ranks);
	for (uint32_t k = 0; k < nkeys; k++) {
		ranks[k].id = k;
		ranks[k].bytes = ff_keyset_bytes(c->keys, k, &ranks[k].len);
	}
	qsort(ranks, nkeys, sizeof *ranks, key_rank_cmp);

	size_t ncols = s->def.ncols, per = COPY_ROWS;
	int max_vars = sqlite3_limit(s->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
	if (ncols * per > (size_t)max_vars)
		per = (size_t)max_vars / ncols;
	char *sql = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&sql, &n);
	fprintf(m, "INSERT INTO main.%s (%s) VALUES ", s->q, s->cols);
	for (size_t r = 0; r < (per ? per : 1); r++) {
		fprintf(m, "%s(", r ? "," : "");
		for (size_t i = 0; i < ncols; i++)
			fprintf(m, "%s?", i ? "," : "");
		fprintf(m, ")");
	}
	fclose(m);
	sqlite3_stmt *many = NULL, *one = NULL;
	int rc = 0;
	if (per < 2 || sqlite3_prepare_v2(s->db, sql, -1, &many, NULL) != SQLITE_OK) {
		sqlite3_finalize(many);
		many = NULL; /* too wide a table for a statement of rows: one at a time */
	}
	char *end = strstr(sql, "),(");
	if (end)
		end[1] = '\0'; /* the first row's values alone */
	if (sqlite3_prepare_v2(s->db, sql, -1, &one, NULL) != SQLITE_OK)
		rc = -1;
	/* Whole statements of rows while they last, then the rest one by one:
	 * rows are bound where they lie in the chunks. */
	size_t left = c->nrows, bound = 0;
	for (uint32_t k = 0; rc == 0 && k < nkeys; k++)
		for (struct chunk *ch = c->head[ranks[k].id]; rc == 0 && ch; ch = ch->next)
			for (const unsigned char *p = ch->data; rc == 0 && p < ch->data + ch->len;) {
				sqlite3_stmt *st = many && left >= per - bound ? many : one;
				int idx = st == many ? (int)(bound * ncols) + 1 : 1;
				for (size_t i = 0; i < ncols; i++)
					p = copy_bind(st, idx++, p);
				if (st == many && ++bound < per)
					continue;
				left -= st == many ? bound : 1;
				bound = 0;
				if (sqlite3_step(st) != SQLITE_DONE)
					rc = -1;
				sqlite3_reset(st);
			}
	if (rc < 0)
		ff_error("%s: table %s: %s", s->online, s->table, sqlite3_errmsg(s->db));
	else
		s->stats->upserted = (int64_t)c->nrows;
	sqlite3_finalize(many);
	sqlite3_finalize(one);
	free(sql);
	free(ranks);
	return rc;
}

static int create_table(struct sync *s)
{
	char *sql = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&sql, &n);
	fprintf(m, "DROP TABLE IF EXISTS main.%s; CREATE TABLE main.%s (", s->q, s->q);
	for (size_t i = 0; i < s->def.ncols; i++) {
		char q[FF_DB_IDENT_SIZE];
		const struct ff_column *c = &s->def.cols[i];
		ff_db_quote(q, sizeof q, c->name);
		const char *type = c->type == FF_TYPE_REAL ? "REAL" : c->type == FF_TYPE_TEXT ? "TEXT" : "INTEGER";
		fprintf(m, "%s%s %s%s", i ? ", " : "", q, type,
			c->role == FF_ROLE_KEY || c->role == FF_ROLE_TIMESTAMP ? " NOT NULL" : "");
	}
	fprintf(m, ", PRIMARY KEY (%s)) WITHOUT ROWID;", s->key_cols);
	fclose(m);
	int rc = exec(s, sql);
	free(sql);
	if (rc < 0)
		return -1;
	struct copy c = {.keys = ff_keyset_new()};
	int read = copy_read(s, &c);
	if (read > 0)
		rc = copy_write(s, &c);
	copy_release(&c);
	if (read != 0)
		return read < 0 ? -1 : rc;
	/* Too large to hold: SQLite's sort. */
	char *rows = source_rows(s);
	if (!rows)
		return -1;
	sql = sqlite3_mprintf("INSERT INTO main.%s (%s) SELECT * FROM (%s) ORDER BY %s;", s->q, s->cols, rows,
			   s->key_cols);
	sqlite3_free(rows);
	rc = exec(s, sql);
	sqlite3_free(sql);
	if (rc == 0)
		s->stats->upserted = sqlite3_changes64(s->db);
	return rc;
}

static int apply_changes(struct sync *s, int64_t since)
{
	char changes[FF_DB_IDENT_SIZE];
	if (ff_db_side_name(changes, sizeof changes, "ff_changes_", s->table) < 0)
		return ff_error("%s: table %s: its change feed's name is too long", s->offline, s->table);
	int64_t appended = 0;
	int found = ff_store_appended_from(s->src, s->table, since, &appended);
	if (found < 0)
		return -1;
	char *sql = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&sql, &n);
	/* Rows the feed names: upsert those that exist, delete those gone. Both
	 * are driven by the feed, so their cost follows the change. */
	/* Each row once: a key the feed names in several versions, or that the
	 * appended range copies below, is written one time. */
	fprintf(m, "INSERT OR REPLACE INTO main.%s (%s) SELECT %s FROM (SELECT DISTINCT %s FROM src.%s AS c "
		"WHERE c.version > %lld) AS c JOIN src.%s AS t ON %s", s->q, s->cols, s->tcols, s->ckey_cols,
		changes, (long long)since, s->q, s->key_match);
	if (found)
		fprintf(m, " WHERE t.%s < %lld", s->ts, (long long)appended);
	fprintf(m, ";");
	fclose(m);
	int rc = exec(s, sql);
	free(sql);
	if (rc < 0)
		return -1;
	s->stats->upserted += sqlite3_changes64(s->db);
	sql = NULL;
	m = open_memstream(&sql, &n);
	fprintf(m, "DELETE FROM main.%s WHERE (%s) IN (SELECT %s FROM src.%s AS c WHERE c.version > %lld "
		"AND c.op = 'delete' AND NOT EXISTS (SELECT 1 FROM src.%s AS t WHERE %s));",
		s->q, s->key_cols, s->ckey_cols, changes, (long long)since, s->q, s->key_match);
	fclose(m);
	rc = exec(s, sql);
	free(sql);
	if (rc < 0)
		return -1;
	s->stats->deleted = sqlite3_changes64(s->db);
	if (found) {
		/* Appended rows: one range scan of the offline table's end. */
		sql = sqlite3_mprintf("INSERT OR REPLACE INTO main.%s (%s) SELECT %s FROM src.%s WHERE %s >= %lld;",
				      s->q, s->cols, s->cols, s->q, s->ts, (long long)appended);
		rc = exec(s, sql);
		sqlite3_free(sql);
		if (rc < 0)
			return -1;
		s->stats->upserted += sqlite3_changes64(s->db);
	}
	return 0;
}

static int expire(struct sync *s)
{
	if (s->o->retention <= 0)
		return 0;
	char *keys_eq = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&keys_eq, &n);
	int first = 1;
	for (size_t i = 0; i < s->def.ncols; i++)
		if (s->def.cols[i].role == FF_ROLE_KEY) {
			char q[FF_DB_IDENT_SIZE];
			ff_db_quote(q, sizeof q, s->def.cols[i].name);
			fprintf(m, "%sl.%s = t.%s", first ? "" : " AND ", q, q);
			first = 0;
		}
	fclose(m);
	/* Old rows go, but every key keeps its latest row: lookups still answer. */
	char *sql = sqlite3_mprintf(
		"DELETE FROM main.%s AS t WHERE t.%s < (SELECT max(%s) FROM main.%s) - %lld "
		"AND EXISTS (SELECT 1 FROM main.%s AS l WHERE %s AND l.%s > t.%s);",
		s->q, s->ts, s->ts, s->q, (long long)s->o->retention, s->q, keys_eq, s->ts, s->ts);
	int rc = exec(s, sql);
	sqlite3_free(sql);
	free(keys_eq);
	if (rc == 0)
		s->stats->expired = sqlite3_changes64(s->db);
	return rc;
}

static int record(struct sync *s)
{
	char now[32];
	ff_db_now_text(now);
	char id[FF_STORE_ID_SIZE];
	int has_id = ff_store_id(s->src, id);
	if (has_id < 0)
		return -1;
	char *real = ff_online_source(s->offline);
	char retention[32] = "NULL";
	if (s->o->retention > 0)
		snprintf(retention, sizeof retention, "%lld", (long long)s->o->retention);
	char *sql = sqlite3_mprintf(
		"INSERT OR REPLACE INTO ff_online_tables VALUES (%Q, %Q, %lld, %Q, %Q, (SELECT count(*) FROM main.%s), %s);"
		"DELETE FROM ff_online_columns WHERE table_name = %Q;"
		"INSERT OR REPLACE INTO ff_online_sources VALUES (%Q, %Q);",
		s->table, real ? real : s->offline, (long long)s->version, s->def.definition, now, s->q, retention,
		s->table, s->table, has_id > 0 ? id : NULL);
	free(real);
	int rc = exec(s, sql);
	sqlite3_free(sql);
	for (size_t i = 0; rc == 0 && i < s->def.ncols; i++) {
		const struct ff_column *c = &s->def.cols[i];
		sql = sqlite3_mprintf("INSERT INTO ff_online_columns VALUES (%Q, %lld, %Q, %Q, %Q);", s->table,
				      (long long)i + 1, c->name, ff_type_name(c->type), ff_role_name(c->role));
		rc = exec(s, sql);
		sqlite3_free(sql);
	}
	return rc;
}

int64_t ff_sync_pulled_rows(sqlite3 *db, const char *schema, const char *table)
{
	char q[FF_DB_IDENT_SIZE], changes[FF_DB_IDENT_SIZE];
	ff_db_quote(q, sizeof q, table);
	ff_db_side_name(changes, sizeof changes, "ff_changes_", table);
	char *sql = sqlite3_mprintf("SELECT (SELECT count(*) FROM \"%w\".%s) + (SELECT count(*) FROM \"%w\".%s)", schema,
				    q, schema, changes);
	sqlite3_stmt *s;
	int64_t n = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_free(sql);
	return n;
}

int64_t ff_sync_pull_from(int synced, int64_t version, const struct ff_sync_options *o)
{
	return synced && !o->full && !o->as_of ? version : -1;
}

/* For a sync from a PostgreSQL store into the SQLite online store: what
 * to copy of each of tables[0..n) (ff_sync_pull_from), as its catalog says
 * before the sync takes it. malloc'd; NULL on error (reported). */
static int64_t *pulled_since(const char *online, char **tables, size_t n, const struct ff_sync_options *o)
{
	int64_t *since = ff_xcalloc(n ? n : 1, sizeof *since);
	sqlite3 *db = NULL;
	for (size_t i = 0; i < n; i++)
		since[i] = -1;
	if (o->full || o->as_of || access(online, F_OK) < 0)
		return since;
	if (ff_db_open(online, FF_DB_READER, 0, &db) < 0) {
		free(since);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t v = -1;
		int synced = ff_db_int(db, NULL, "SELECT version FROM main.ff_online_tables WHERE name = ?", tables[i],
				       NULL, &v, NULL) > 0;
		since[i] = ff_sync_pull_from(synced, v, o);
	}
	ff_db_close(db);
	return since;
}

int ff_sync_check_pulled(const char *online, const char *table, int64_t pulled, int synced, int64_t since,
			 const struct ff_sync_options *o)
{
	int64_t want = ff_sync_pull_from(synced, since, o);
	if (want < 0 ? pulled != -1 : pulled < 0 || pulled > want)
		return ff_error("%s: table %s: the online store changed while this sync read it: run again", online,
				table);
	return 0;
}

/* Sync one table inside the run's transaction. Returns 0 or -1. */
static int sync_one(struct sync *s)
{
	const struct ff_sync_options *o = s->o;
	struct ff_sync_stats *stats = s->stats;
	const char *table = s->table;
	memset(stats, 0, sizeof *stats);
	if (ff_name_check(table, "table name", s->offline) < 0 || ff_db_quote(s->q, sizeof s->q, table) < 0)
		return -1;
	if (read_source(s) < 0)
		return -1;
	int64_t since = 0;
	int synced = ff_db_int(s->db, NULL, "SELECT version FROM main.ff_online_tables WHERE name = ?", table, NULL,
			       &since, NULL) > 0;
	stats->from_version = synced ? since : 0;
	stats->to_version = s->version;
	if (s->pulled != -2 && ff_sync_check_pulled(s->online, table, s->pulled, synced, since, o) < 0)
		return -1;
	if (!synced || o->full) {
		stats->full = 1;
		if (create_table(s) < 0)
			return -1;
	} else {
		char *stored = NULL, *source = NULL;
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, "SELECT definition, source FROM main.ff_online_tables WHERE name = ?",
				       -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW) {
				stored = ff_xstrdup((const char *)sqlite3_column_text(st, 0));
				source = ff_xstrdup((const char *)sqlite3_column_text(st, 1));
			}
			sqlite3_finalize(st);
		}
		struct ff_sync_follow f = {.online = s->online, .offline = s->offline, .table = table,
					   .synced_source = source, .synced_definition = stored, .since = since,
					   .definition = s->def.definition, .version = s->version};
		int ok = ff_sync_can_follow(s->src, &f);
		free(stored);
		free(source);
		if (ok < 0)
			return -1;
		if (since < s->version && apply_changes(s, since) < 0)
			return -1;
	}
	if (expire(s) < 0)
		return -1;
	stats->read = s->pulled == -2 ? -1 : ff_sync_pulled_rows(s->db, "src", table);
	/* Nothing changed: leave the record (and its time) as it was. */
	if (!stats->full && since == s->version && stats->expired == 0) {
		stats->unchanged = 1;
		return 0;
	}
	return record(s);
}

int ff_sync_can_follow(struct ff_store *src, const struct ff_sync_follow *f)
{
	char *real = ff_online_source(f->offline);
	int same_source = f->synced_source && real && strcmp(f->synced_source, real) == 0;
	free(real);
	if (!same_source)
		return ff_error("%s: table %s was synced from %s, not %s: its change feed does not apply; run "
				"ff-sync-online --full to copy it from the new store", f->online, f->table,
				f->synced_source ? f->synced_source : "?", f->offline);
	int same = f->synced_definition && strcmp(f->synced_definition, f->definition) == 0;
	int64_t at = 0;
	int replaced = ff_store_replaced_after(src, f->table, f->since, &at);
	if (replaced < 0)
		return -1;
	if (!same || replaced)
		return ff_error("%s: table %s was %s at offline version %lld, after version %lld synced "
				"here: run ff-sync-online --full to copy it again", f->online, f->table,
				replaced ? "replaced" : "redefined", (long long)(replaced ? at : f->version),
				(long long)f->since);
	if (f->since > f->version)
		return ff_error("%s: table %s is at version %lld here but %lld in %s: run "
				"ff-sync-online --full", f->online, f->table, (long long)f->since,
				(long long)f->version, f->offline);
	return 0;
}

static void sync_release(struct sync *s)
{
	ff_table_def_release(&s->def);
	free(s->cols);
	free(s->key_cols);
	free(s->key_match);
	free(s->tcols);
	free(s->ckey_cols);
}

int ff_sync_tables(const char *offline, const char *online, char **tables, size_t n,
		   const struct ff_sync_options *o, struct ff_sync_stats *stats)
{
	if (ff_redis_is_url(online))
		return ff_online_redis_sync(offline, online, tables, n, o, stats) < 0 ? -1 : 0;
	struct sync conn = {.online = online, .offline = offline, .o = o, .pulled = -2};
	/* A PostgreSQL store is read from a private copy, made anew each sync:
	 * of the tables it copies whole, every row; of the others, the change
	 * feed since the version synced and the rows it names. */
	int pg = ff_pg_is_uri(offline);
	int64_t *pulled = pg ? pulled_since(online, tables, n, o) : NULL;
	conn.offline_file = !pg ? offline : pulled ? ff_pg_store_file_since(offline, tables, pulled, n) : NULL;
	int rc = -1, in_tx = 0;
	if (open_online(&conn) < 0)
		goto out;
	/* One transaction for every table: a reader sees all of a sync or none. */
	if (exec(&conn, "BEGIN IMMEDIATE") < 0)
		goto out;
	in_tx = 1;
	for (size_t i = 0; i < n; i++) {
		struct sync s = conn;
		s.table = tables[i];
		s.stats = &stats[i];
		s.pulled = pulled ? pulled[i] : -2;
		int r = sync_one(&s);
		sync_release(&s);
		if (r < 0)
			goto out;
	}
	if (exec(&conn, "COMMIT") < 0)
		goto out;
	in_tx = 0;
	rc = 0;
out:
	if (in_tx)
		sqlite3_exec(conn.db, "ROLLBACK", NULL, NULL, NULL);
	ff_store_close(conn.src);
	ff_db_close(conn.db);
	if (pg)
		ff_pg_store_forget(offline);
	free(pulled);
	return rc;
}

int ff_offline_tables(const char *offline, char ***tables)
{
	struct ff_store *st;
	if (ff_store_open(offline, FF_STORE_READ, &st) < 0)
		return -1;
	int rc = ff_store_tables(st, tables);
	ff_store_close(st);
	return rc;
}
