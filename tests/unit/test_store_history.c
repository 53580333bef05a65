/* Unit tests of common/ff_store_history: --as-of's values, the rule that a
 * spec only adds features, and the rows of a table as of each version read
 * by ff_store_rows_sql and merged by ff_store_rows (whole, and in ranges of
 * times) after creates, updates, late inserts, deletes and appends written
 * through the table writer. */
#include <stdlib.h>
#include <unistd.h>

#include "ff_cell.h"
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
	return UNIT_DONE();
}
