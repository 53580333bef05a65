/* Unit tests of common/ff_store_history: --as-of's values, the rule that a
 * spec only adds features, and the rows of a table as of each version read
 * by ff_store_rows_sql and merged by ff_store_rows (whole, and in ranges of
 * times) after creates, updates, late inserts, deletes and appends written
 * through the table writer, and after a shard's append (the form a
 * shard's write into PostgreSQL stores: its appended_from covers only the
 * keys of its shard). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_cell.h"
#include "ff_db.h"
#include "ff_shard.h"
#include "ff_spec.h"
#include "ff_store.h"
#include "ff_store_history.h"
#include "ff_time.h"
#include "ff_util.h"
#include "unit.h"

static struct ff_column cols[] = {
	{"k", FF_TYPE_TEXT, FF_ROLE_KEY, NULL},
	{"t", FF_TYPE_TIMESTAMP, FF_ROLE_TIMESTAMP, NULL},
	{"x", FF_TYPE_INTEGER, FF_ROLE_FEATURE, NULL},
};
static struct ff_table_def def = {"tab", cols, 3, "table tab\nfeature x=count(*)\n", "table tab\n"};

/* Write rows "k:t:x" (t in seconds) as one version in mode. */
static int write_rows(struct ff_store *st, enum ff_write_mode mode, const char *const *rows, size_t n)
{
	struct ff_write_options opt = {.mode = mode};
	struct ff_table_writer *w;
	struct ff_write_stats stats;
	if (ff_store_begin(st) < 0 || ff_table_writer_open(st, &def, &opt, &w) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char k[8];
		long long t, x;
		sscanf(rows[i], "%7[^:]:%lld:%lld", k, &t, &x);
		struct ff_cell c[3] = {{.s = k, .len = strlen(k)}, {.i = t * FF_USEC}, {.i = x}};
		rc = ff_table_writer_put(w, c, NULL, 0, 0);
	}
	if (rc == 0)
		rc = ff_table_writer_finish(w, &stats);
	ff_table_writer_free(w);
	return rc == 0 ? ff_store_commit(st) : -1;
}

/* The rows as of version v, "k:t:x;" each. */
static char *rows_at(struct ff_store *st, int64_t v)
{
	const char *names[] = {"k", "t", "x"};
	char *sql, *out = NULL;
	size_t size = 0;
	if (ff_store_rows_sql(st, "tab", names, 3, v, 0, &sql) < 0)
		return ff_xstrdup("error");
	sqlite3_stmt *s;
	FILE *m = open_memstream(&out, &size);
	if (sqlite3_prepare_v2(ff_store_db(st), sql, -1, &s, NULL) == SQLITE_OK) {
		while (sqlite3_step(s) == SQLITE_ROW)
			fprintf(m, "%s:%lld:%lld;", sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
				sqlite3_column_int64(s, 2));
		sqlite3_finalize(s);
	}
	fclose(m);
	free(sql);
	return out;
}

static int print_row(void *ctx, const struct ff_cell *c)
{
	fprintf(ctx, "%.*s:%lld:%lld;", (int)c[0].len, c[0].s, (long long)(c[1].i / FF_USEC), (long long)c[2].i);
	return 0;
}

/* The same rows merged in C, in the same form: by ff_store_rows, or with
 * ranges, by ff_store_rows_between in three ranges of times one after the
 * other. */
static char *rows_merged(struct ff_store *st, int64_t v, int ranges)
{
	const char *names[] = {"k", "t", "x"};
	const int64_t bounds[] = {INT64_MIN, 150, 200, INT64_MAX};
	char *out = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&out, &size);
	int rc = ranges ? 0 : ff_store_rows(st, "tab", names, 3, v, print_row, m);
	for (int i = 0; ranges && i < 3 && rc == 0; i++)
		rc = ff_store_rows_between(st, "tab", names, 3, v, bounds[i], bounds[i + 1], print_row, m);
	fclose(m);
	if (rc < 0) {
		free(out);
		return ff_xstrdup("error");
	}
	return out;
}

/* The name of the first key "kNNN" after the key after ("" for none)
 * that shard k/2 owns, into buf (8 bytes). */
static const char *key_of_shard(unsigned k, const char *after, char buf[8])
{
	struct ff_shard sh = {k, 2};
	for (unsigned n = 0; n < 1000; n++) {
		snprintf(buf, 8, "k%03u", n);
		const char *v[1] = {buf};
		size_t len[1] = {strlen(buf)};
		if (strcmp(buf, after) > 0 && ff_shard_owns(&sh, v, len, 1))
			return buf;
	}
	return buf;
}

/* Rows as of each version in the three forms, against want[1..n]. */
static void check_versions(struct ff_store *st, const char *const *want, int n, const char *what)
{
	for (int v = 1; v <= n; v++) {
		char label[96];
		for (int form = 0; form < 3; form++) {
			char *got = form == 0 ? rows_at(st, v) : rows_merged(st, v, form == 2);
			snprintf(label, sizeof label, "%s: the rows as of version %d%s", what, v,
				 form == 0 ? "" : form == 1 ? ", merged in C" : ", in ranges of times");
			CHECK_STR(got, want[v], label);
			free(got);
		}
	}
}

/* Version 1 writes shard 1/2's keys, version 2 shard 2/2's among the
 * same times, stored as PostgreSQL stores a shard's push: an append of
 * its keys from time 100, with no mark in the history; version 3 (every
 * key) updates a row of each shard and appends. */
static void shard_appends(const char *path)
{
	struct ff_store *st;
	char a[8], b[8], c[8], d[8], rows[6][24], want[4][200];
	key_of_shard(1, "", a);
	key_of_shard(1, a, b);
	key_of_shard(2, a, c);
	key_of_shard(2, c, d);
	CHECK(strcmp(a, b) < 0 && strcmp(a, c) < 0 && strcmp(c, d) < 0, "keys of each shard in order");
	unlink(path);
	CHECK(ff_store_open(path, FF_STORE_WRITE, &st) == 0, "a new store for shards");
	snprintf(rows[0], 24, "%s:100:1", a);
	snprintf(rows[1], 24, "%s:200:2", b);
	snprintf(rows[2], 24, "%s:300:3", a);
	const char *v1[] = {rows[0], rows[1], rows[2]};
	CHECK(write_rows(st, FF_WRITE_MERGE, v1, 3) == 0, "version 1: shard 1's keys");
	ff_store_close(st);
	CHECK(ff_store_open(path, FF_STORE_WRITE, &st) == 0, "open the store for shards again");
	snprintf(rows[3], 24, "%s:100:4", c);
	snprintf(rows[4], 24, "%s:250:5", d);
	snprintf(rows[5], 24, "%s:300:6", c);
	const char *v2[] = {rows[3], rows[4], rows[5]};
	CHECK(write_rows(st, FF_WRITE_MERGE, v2, 3) == 0, "version 2: shard 2's keys");
	CHECK(ff_db_exec(ff_store_db(st), path,
			 "DELETE FROM ff_history_tab WHERE ff_valid_to = 2; DELETE FROM ff_histstate_tab"
			 " WHERE ff_valid_to = 2; UPDATE ff_versions SET appended_from = 100, shard = '2/2'"
			 " WHERE version = 2") == 0,
	      "version 2 as a shard's append");
	char r7[24], r8[24], r9[24];
	snprintf(r7, sizeof r7, "%s:100:7", c);
	snprintf(r8, sizeof r8, "%s:300:8", a);
	snprintf(r9, sizeof r9, "%s:400:9", b);
	const char *v3[] = {r7, r8, r9};
	CHECK(write_rows(st, FF_WRITE_MERGE, v3, 3) == 0, "version 3: updates of both shards, an append");
	snprintf(want[1], 200, "%s:100:1;%s:200:2;%s:300:3;", a, b, a);
	snprintf(want[2], 200, "%s:100:1;%s:100:4;%s:200:2;%s:250:5;%s:300:3;%s:300:6;", a, c, b, d, a, c);
	snprintf(want[3], 200, "%s:100:1;%s:100:7;%s:200:2;%s:250:5;%s:300:8;%s:300:6;%s:400:9;", a, c, b, d, a, c, b);
	const char *w[] = {NULL, want[1], want[2], want[3]};
	check_versions(st, w, 3, "a shard's append");
	ff_store_close(st);
	unlink(path);
}

int main(void)
{
	struct ff_as_of a;
	CHECK(ff_as_of_parse("3", &a) == 0 && a.kind == FF_AS_OF_VERSION && a.value == 3, "a whole number is a version");
	CHECK(ff_as_of_parse("0", &a) < 0, "versions start at 1");
	CHECK(ff_as_of_parse("2018-03-01", &a) == 0 && a.kind == FF_AS_OF_TIME && a.value == 1519862400LL * FF_USEC,
	      "a date is midnight UTC");
	CHECK(ff_as_of_parse("2018-03-01 12:00:00", &a) == 0 && a.kind == FF_AS_OF_TIME, "a time");
	CHECK(ff_as_of_parse("yesterday", &a) < 0 && ff_as_of_parse("", &a) < 0, "neither");

	const char *d = "table t\nkey k\nfeature a=count(*)\npartition none\n";
	CHECK(ff_spec_definition_adds(d, "table t\nkey k\nfeature a=count(*)\nfeature b=max(x)\npartition none\n"),
	      "a feature added after the others");
	CHECK(ff_spec_definition_adds(d, "table t\nkey k\nfeature b=max(x)\nfeature a=count(*)\npartition none\n"),
	      "a feature added before");
	CHECK(!ff_spec_definition_adds(d, d), "the same definition adds nothing");
	CHECK(!ff_spec_definition_adds(d, "table t\nkey k\nfeature b=max(x)\npartition none\n"),
	      "a feature removed");
	CHECK(!ff_spec_definition_adds(d, "table t\nkey k\nfeature a=sum(x)\nfeature b=max(x)\npartition none\n"),
	      "a feature changed");
	CHECK(!ff_spec_definition_adds(d, "table t\nkey k\nfeature a=count(*)\nfeature b=max(x)\npartition yyyy_mm\n"),
	      "a feature added and the partition changed");

	char path[] = "/tmp/test_store_history-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	struct ff_store *st;
	ff_set_quiet(1);
	CHECK(ff_store_open(path, FF_STORE_WRITE, &st) == 0, "a new store");
	const char *v1[] = {"a:100:1", "b:100:2", "a:200:3"};
	const char *v2[] = {"a:100:9", "c:150:4", "b:300:5"};   /* an update, a late insert, an append */
	const char *v3[] = {"a:100:9", "a:200:3", "c:150:4"};   /* overwrite: b's rows deleted */
	const char *v4[] = {"a:100:7", "b:100:8"};             /* overwrite again: others deleted */
	CHECK(write_rows(st, FF_WRITE_MERGE, v1, 3) == 0, "version 1");
	ff_store_close(st);
	CHECK(ff_store_open(path, FF_STORE_WRITE, &st) == 0, "open the store again");
	CHECK(write_rows(st, FF_WRITE_MERGE, v2, 3) == 0, "version 2");
	CHECK(write_rows(st, FF_WRITE_OVERWRITE, v3, 3) == 0, "version 3");
	CHECK(write_rows(st, FF_WRITE_OVERWRITE, v4, 2) == 0, "version 4");
	const char *want[] = {
		NULL,
		"a:100:1;b:100:2;a:200:3;",
		"a:100:9;b:100:2;c:150:4;a:200:3;b:300:5;",
		"a:100:9;c:150:4;a:200:3;",
		"a:100:7;b:100:8;",
	};
	for (int v = 1; v <= 4; v++) {
		char *got = rows_at(st, v), what[64];
		snprintf(what, sizeof what, "the rows as of version %d", v);
		CHECK_STR(got, want[v], what);
		free(got);
		got = rows_merged(st, v, 0);
		snprintf(what, sizeof what, "the rows as of version %d, merged in C", v);
		CHECK_STR(got, want[v], what);
		free(got);
		got = rows_merged(st, v, 1);
		snprintf(what, sizeof what, "the rows as of version %d, in ranges of times", v);
		CHECK_STR(got, want[v], what);
		free(got);
	}
	int64_t version;
	struct ff_as_of five = {FF_AS_OF_VERSION, 5};
	CHECK(ff_store_as_of_version(st, "tab", &five, &version) < 0, "no version 5");
	int64_t oldest;
	CHECK(ff_store_oldest_version(st, "tab", &oldest) == 0 && oldest == 1, "every version kept");
	struct ff_vacuum_result *res;
	size_t n;
	CHECK(ff_store_vacuum(st, 2, 0, &res, &n) == 0 && n == 1 && res[0].oldest == 3, "vacuum keeps 3 and 4");
	for (size_t i = 0; i < n; i++)
		free(res[i].table);
	free(res);
	struct ff_as_of two = {FF_AS_OF_VERSION, 2};
	CHECK(ff_store_as_of_version(st, "tab", &two, &version) < 0, "version 2 is gone");
	char *got = rows_at(st, 3);
	CHECK_STR(got, want[3], "version 3 still reads");
	free(got);
	ff_store_close(st);
	unlink(path);
	shard_appends(path);
	return UNIT_DONE();
}
