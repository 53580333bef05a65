/* Unit tests of the as-of rule (ff_lookup.h), on its two back-ends and the
 * same rows: the table in memory (ff_feature_table_find) and the online
 * store's query in SQL (ff_asof_query), first on their own (an in-memory
 * SQLite table laid out as ff-online(5)), then through ff_join, offline and
 * against an online store made by ff_sync_tables, defaults included. Each
 * case is checked against the answer written here and the back-ends
 * against each other: exact times, lookbacks, window boundaries (a time
 * equal to a window end, one microsecond before), misses (an unknown key, a
 * NULL key, a time before the first row) and the latest row. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_cell.h"
#include "ff_join.h"
#include "ff_lookup.h"
#include "ff_online.h"
#include "ff_store.h"
#include "ff_time.h"
#include "ff_util.h"
#include "unit.h"

static int64_t T(const char *s)
{
	int64_t t = 0;
	if (ff_time_parse(s, strlen(s), 0, &t) < 0) {
		fprintf(stderr, "bad time in the test: %s\n", s);
		exit(2);
	}
	return t;
}

/* The table "fares": keys zone and vendor, timestamp window_end, features
 * n (the row's number, 1..) and fare (NAN for NULL). */
struct row {
	const char *zone, *vendor, *end;
	double fare;
};
static const struct row rows[] = {
	{"A", "1", "2018-01-01 10:00:00", 2.5},
	{"A", "1", "2018-01-01 10:15:00", NAN},
	{"A", "1", "2018-01-01 11:00:00", 7.25},
	{"A", "2", "2018-01-01 10:15:00", 1.5},
	{"B", "1", "2018-01-01 10:30:00", 1},
};
enum { NROWS = sizeof rows / sizeof rows[0] };

enum { ASOF, LOOKBACK, EXACT, LATEST, NMODES };
static const char *const mode_name[NMODES] = {"as of", "lookback 10m", "exact", "latest"};
#define LOOKBACK_USEC (600 * FF_USEC)

/* A lookup at a time, and the row (n) each mode should find, 0 for none. */
struct lookup_case {
	const char *zone, *vendor, *time;
	int want[NMODES];
	const char *what;
};
static const struct lookup_case cases[] = {
	{"A", "1", "2018-01-01 10:15:00", {2, 2, 2, 3}, "a time equal to a window end"},
	{"A", "1", "2018-01-01 10:14:59.999999", {1, 0, 0, 3}, "one microsecond before a window end"},
	{"A", "1", "2018-01-01 10:00:00", {1, 1, 1, 3}, "the first row's time"},
	{"A", "1", "2018-01-01 09:59:59.999999", {0, 0, 0, 3}, "before the first row"},
	{"A", "1", "2018-01-01 10:10:00", {1, 1, 0, 3}, "a lookback reaching the row exactly"},
	{"A", "1", "2018-01-01 10:10:00.000001", {1, 0, 0, 3}, "a lookback one microsecond short"},
	{"A", "1", "2018-01-01 10:15:00.5", {2, 2, 0, 3}, "an exact time with a fraction"},
	{"A", "1", "2018-01-01 12:00:00", {3, 0, 0, 3}, "after the last row"},
	{"A", "1", "2018-01-02 11:00:00", {3, 0, 0, 3}, "a day later"},
	{"A", "2", "2018-01-01 10:20:00", {4, 4, 0, 4}, "the second part of the key"},
	{"A", "2", "2018-01-01 10:14:59", {0, 0, 0, 4}, "before the key's only row"},
	{"B", "1", "2018-01-01 10:30:00", {5, 5, 5, 5}, "another key, exactly"},
	{"C", "1", "2018-01-01 10:30:00", {0, 0, 0, 0}, "an unknown key"},
	{"A", "3", "2018-01-01 10:30:00", {0, 0, 0, 0}, "a known zone with an unknown vendor"},
	{NULL, "1", "2018-01-01 10:30:00", {0, 0, 0, 0}, "a NULL key"},
};
enum { NCASES = sizeof cases / sizeof cases[0] };

static const enum ff_match match_of[NMODES] = {FF_MATCH_ASOF, FF_MATCH_ASOF, FF_MATCH_EXACT,
					       FF_MATCH_LATEST};
static const int64_t lookback_of[NMODES] = {0, LOOKBACK_USEC, 0, 0};

static char dir[] = "/tmp/test_asof.XXXXXX";
static char store_path[64], online_path[64];

static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[512];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void table_def(struct ff_table_def *def)
{
	static struct ff_column cols[] = {
		{"zone", FF_TYPE_TEXT, FF_ROLE_KEY, NULL},
		{"vendor", FF_TYPE_TEXT, FF_ROLE_KEY, NULL},
		{"window_end", FF_TYPE_TIMESTAMP, FF_ROLE_TIMESTAMP, NULL},
		{"n", FF_TYPE_INTEGER, FF_ROLE_FEATURE, NULL},
		{"fare", FF_TYPE_REAL, FF_ROLE_FEATURE, NULL},
	};
	*def = (struct ff_table_def){"fares", cols, 5, "test_asof", "test_asof"};
}

/* The rows as a row of cells each (timestamps in microseconds). */
static void row_cells(size_t r, struct ff_cell *c)
{
	memset(c, 0, 5 * sizeof *c);
	c[0].s = rows[r].zone;
	c[0].len = strlen(rows[r].zone);
	c[1].s = rows[r].vendor;
	c[1].len = strlen(rows[r].vendor);
	c[2].i = T(rows[r].end);
	c[3].i = (int64_t)r + 1;
	c[4].null = isnan(rows[r].fare);
	c[4].d = rows[r].fare;
}

/* The offline store, written through ff_store as ff-compute writes. */
static int make_store(void)
{
	struct ff_table_def def;
	table_def(&def);
	struct ff_store *st;
	struct ff_table_writer *w;
	struct ff_write_options opt = {.mode = FF_WRITE_MERGE};
	struct ff_write_stats stats;
	if (ff_store_open(store_path, FF_STORE_WRITE, &st) < 0)
		return -1;
	int rc = ff_store_begin(st) == 0 && ff_table_writer_open(st, &def, &opt, &w) == 0 ? 0 : -1;
	for (size_t r = 0; rc == 0 && r < NROWS; r++) {
		struct ff_cell c[5];
		row_cells(r, c);
		rc = ff_table_writer_put(w, c, NULL, 0, 0);
	}
	if (rc == 0)
		rc = ff_table_writer_finish(w, &stats);
	ff_table_writer_free(w);
	if (rc == 0)
		rc = ff_store_commit(st);
	ff_store_close(st);
	return rc;
}

/* The same rows in an in-memory SQLite table of the online layout:
 * timestamps in whole seconds, primary key (keys, timestamp). */
static sqlite3 *make_online_table(void)
{
	sqlite3 *db;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE TABLE fares (zone TEXT NOT NULL, vendor TEXT NOT NULL, window_end "
			 "INTEGER NOT NULL, n INTEGER, fare REAL, PRIMARY KEY (zone, vendor, window_end)) "
			 "WITHOUT ROWID", NULL, NULL, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_stmt *ins;
	sqlite3_prepare_v2(db, "INSERT INTO fares VALUES (?, ?, ?, ?, ?)", -1, &ins, NULL);
	for (size_t r = 0; r < NROWS; r++) {
		sqlite3_bind_text(ins, 1, rows[r].zone, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, rows[r].vendor, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, T(rows[r].end) / FF_USEC);
		sqlite3_bind_int64(ins, 4, (int64_t)r + 1);
		if (isnan(rows[r].fare))
			sqlite3_bind_null(ins, 5);
		else
			sqlite3_bind_double(ins, 5, rows[r].fare);
		sqlite3_step(ins);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	return db;
}

/* A case's key tuple (values joined by NUL), NULL for a NULL part. */
static const char *key_of(const struct lookup_case *c, char *buf, size_t *len)
{
	if (!c->zone)
		return NULL;
	*len = (size_t)snprintf(buf, 64, "%s%c%s", c->zone, '\0', c->vendor);
	return buf;
}

static void test_window(void)
{
	int64_t t = T("2018-01-01 10:00:00");
	struct ff_asof_window w = ff_asof_window(FF_MATCH_ASOF, t, 0);
	CHECK(w.lo == INT64_MIN && w.hi == t, "window: as of, no lookback: everything up to t");
	w = ff_asof_window(FF_MATCH_ASOF, t, LOOKBACK_USEC);
	CHECK(w.lo == t - LOOKBACK_USEC && w.hi == t, "window: a lookback, both ends included");
	w = ff_asof_window(FF_MATCH_EXACT, t, LOOKBACK_USEC);
	CHECK(w.lo == t && w.hi == t, "window: exact is t alone");
	w = ff_asof_window(FF_MATCH_LATEST, t, LOOKBACK_USEC);
	CHECK(w.lo == INT64_MIN && w.hi == INT64_MAX, "window: latest is every time");
	w = ff_asof_window(FF_MATCH_ASOF, INT64_MIN + 5, LOOKBACK_USEC);
	CHECK(w.lo == INT64_MIN, "window: a lookback from the first times does not wrap");
}

/* The rule's two back-ends on their own. */
static void test_back_ends(void)
{
	struct ff_store *st = NULL;
	struct ff_feature_table *table = NULL;
	struct ff_strlist none = {0}, keys = {0};
	sqlite3 *db = make_online_table();
	sqlite3_stmt *q = NULL;
	CHECK(ff_store_open(store_path, FF_STORE_READ, &st) == 0 &&
		      ff_feature_table_load(st, "fares", &none, &table) == 0,
	      "the table loads in memory");
	ff_strlist_add(&keys, "zone");
	ff_strlist_add(&keys, "vendor");
	struct ff_table_def def;
	table_def(&def);
	CHECK(db && ff_asof_prepare(db, "fares", &keys, "window_end", def.cols + 3, 2, &q) == 0,
	      "the online query prepares");
	if (!table || !q)
		goto out;
	for (size_t i = 0; i < NCASES; i++) {
		const struct lookup_case *c = &cases[i];
		char buf[64], what[200];
		size_t len = 0;
		const char *key = key_of(c, buf, &len);
		int64_t t = T(c->time);
		for (int m = 0; m < NMODES; m++) {
			int64_t id = key ? ff_feature_table_key(table, key, len) : -1;
			int64_t row = ff_feature_table_find(table, id, match_of[m], t, lookback_of[m]);
			int mem = 0;
			if (row >= 0) {
				struct ff_cell n;
				ff_feature_table_value(table, row, 0, &n);
				mem = (int)n.i;
				/* Times come back in microseconds. */
				if (ff_feature_table_time(table, row) != T(rows[mem - 1].end))
					mem = -1;
			}
			int sql = 0, found = ff_asof_query(q, keys.n, key, len, match_of[m], t, lookback_of[m]);
			if (found == 1) {
				sql = (int)sqlite3_column_int64(q, 0);
				if (sqlite3_column_int64(q, 2) * FF_USEC != T(rows[sql - 1].end))
					sql = -1;
				sqlite3_reset(q);
			} else if (found < 0) {
				sql = -2;
			}
			snprintf(what, sizeof what, "%s (%s): in memory row %d, want %d", c->what, mode_name[m], mem,
				 c->want[m]);
			CHECK(mem == c->want[m], what);
			snprintf(what, sizeof what, "%s (%s): in SQL row %d, want %d", c->what, mode_name[m], sql,
				 c->want[m]);
			CHECK(sql == c->want[m], what);
		}
	}
out:
	sqlite3_finalize(q);
	if (db)
		sqlite3_close(db);
	ff_strlist_release(&keys);
	ff_feature_table_free(table);
	ff_store_close(st);
}

/* Through ff_join: the features of each case's row, as text. */
struct joined {
	char text[256];
};

static int observe(void *ctx, const struct ff_join_row *row)
{
	struct joined *out = ctx;
	size_t used = 0;
	for (size_t i = 3; i < row->schema->ncols; i++) {
		char buf[FF_CELL_TEXT_MAX];
		size_t len;
		const char *t = ff_cell_text(&row->cells[i], row->schema->types[i], buf, &len);
		used += (size_t)snprintf(out->text + used, sizeof out->text - used, "%s%.*s", i > 3 ? "," : "",
					 (int)len, t ? t : "");
	}
	return 0;
}

static void add(struct ff_join_spec *s, const char *directive, const char *value)
{
	if (ff_join_spec_set(s, directive, value, "test") < 0)
		exit(2);
}

/* One lookup per mode, its features renamed apart; defaults on the first. */
static void join_spec(struct ff_join_spec *s)
{
	ff_join_spec_init(s, "test");
	static const char *const suffix[NMODES] = {"", "_lb", "_ex", "_last"};
	for (int m = 0; m < NMODES; m++) {
		char v[64];
		add(s, "lookup", "fares");
		add(s, "key", "zone,vendor");
		if (m != LATEST)
			add(s, "timestamp", "t");
		if (m == LOOKBACK)
			add(s, "lookback", "10m");
		if (m == EXACT)
			add(s, "exact", NULL);
		if (m == ASOF) {
			add(s, "default", "n=-1");
			add(s, "default", "fare=0.5");
			continue;
		}
		snprintf(v, sizeof v, "n=n%s", suffix[m]);
		add(s, "rename", v);
		snprintf(v, sizeof v, "fare=fare%s", suffix[m]);
		add(s, "rename", v);
	}
	if (ff_join_spec_finish(s) < 0)
		exit(2);
}

/* What the join should give for a case: n and fare per mode. */
static void want_of(const struct lookup_case *c, char *buf, size_t size)
{
	size_t used = 0;
	for (int m = 0; m < NMODES; m++) {
		int r = c->want[m];
		char fare[FF_CELL_TEXT_MAX + 1] = "";
		if (r && !isnan(rows[r - 1].fare))
			fare[ff_format_double(fare, rows[r - 1].fare)] = '\0';
		if (!r && m == ASOF)
			used += (size_t)snprintf(buf + used, size - used, "-1,0.5");
		else if (!r)
			used += (size_t)snprintf(buf + used, size - used, "%s,", m ? "," : "");
		else
			used += (size_t)snprintf(buf + used, size - used, "%s%d,%s", m ? "," : "", r, fare);
	}
}

static void test_join(void)
{
	const char *tables[] = {"fares"};
	struct ff_sync_options sync = {0};
	struct ff_sync_stats stats;
	CHECK(ff_sync_tables(store_path, online_path, (char **)tables, 1, &sync, &stats) == 0,
	      "ff_sync_tables copies the table to an online store");
	struct ff_join_spec spec;
	join_spec(&spec);
	struct ff_join *off = NULL, *on = NULL;
	CHECK(ff_join_open(&spec, store_path, NULL, &off) == 0, "the offline join opens");
	CHECK(ff_join_open(&spec, NULL, online_path, &on) == 0, "the online join opens");
	struct ff_rec_schema in;
	ff_rec_schema_init(&in);
	ff_rec_schema_add(&in, "zone", FF_TYPE_TEXT);
	ff_rec_schema_add(&in, "vendor", FF_TYPE_TEXT);
	ff_rec_schema_add(&in, "t", FF_TYPE_TEXT);
	if (!off || !on || ff_join_bind(off, &in, "test") < 0 || ff_join_bind(on, &in, "test") < 0) {
		CHECK(0, "the joins bind the input");
		goto out;
	}
	for (size_t i = 0; i < NCASES; i++) {
		const struct lookup_case *c = &cases[i];
		struct ff_cell cells[3] = {
			{.null = !c->zone, .s = c->zone, .len = c->zone ? strlen(c->zone) : 0},
			{.s = c->vendor, .len = strlen(c->vendor)},
			{.s = c->time, .len = strlen(c->time)},
		};
		struct joined got_off = {""}, got_on = {""};
		char want[256], what[700];
		want_of(c, want, sizeof want);
		int rc = ff_join_row(off, cells, "test", observe, &got_off);
		rc |= ff_join_row(on, cells, "test", observe, &got_on);
		snprintf(what, sizeof what, "join, %s: offline '%s', want '%s'", c->what, got_off.text, want);
		CHECK(rc == 0 && strcmp(got_off.text, want) == 0, what);
		snprintf(what, sizeof what, "join, %s: online '%s', want '%s'", c->what, got_on.text, want);
		CHECK(strcmp(got_on.text, want) == 0, what);
	}
out:
	ff_rec_schema_release(&in);
	ff_join_free(off);
	ff_join_free(on);
	ff_join_spec_release(&spec);
}

int main(void)
{
	ff_set_progname("test_asof");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(store_path, sizeof store_path, "%s/store.db", dir);
	snprintf(online_path, sizeof online_path, "%s/online.db", dir);
	test_window();
	CHECK(make_store() == 0, "the offline store is written");
	test_back_ends();
	test_join();
	remove_dir();
	return UNIT_DONE();
}
