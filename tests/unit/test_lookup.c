/* Unit tests of common/ff_lookup's loader: a table read in ranges of its
 * times by two connections at once (ff_feature_table_load_path with a
 * split under the table's size) is the table one connection reads, key ids,
 * times, values and NULLs, at the latest version and as of earlier ones
 * (updates, late inserts and appends written through the table writer). */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "ff_cell.h"
#include "ff_lookup.h"
#include "ff_store.h"
#include "ff_store_history.h"
#include "ff_time.h"
#include "ff_util.h"
#include "unit.h"

static struct ff_column cols[] = {
	{"k", FF_TYPE_TEXT, FF_ROLE_KEY, NULL},
	{"t", FF_TYPE_TIMESTAMP, FF_ROLE_TIMESTAMP, NULL},
	{"x", FF_TYPE_INTEGER, FF_ROLE_FEATURE, NULL},
	{"y", FF_TYPE_REAL, FF_ROLE_FEATURE, NULL},
};
static struct ff_table_def def = {"tab", cols, 4, "table tab\nfeature x=count(*)\nfeature y=mean(f)\n",
				  "table tab\n"};

/* One version: rows i in [from, to) of step, key "k(i*7 % nkeys)", at
 * minute i, x = i + add, y NULL every fifth row. */
static int write_version(struct ff_store *st, int from, int to, int step, int nkeys, int add)
{
	struct ff_write_options opt = {.mode = FF_WRITE_MERGE};
	struct ff_table_writer *w;
	struct ff_write_stats stats;
	if (ff_store_begin(st) < 0 || ff_table_writer_open(st, &def, &opt, &w) < 0)
		return -1;
	int rc = 0;
	for (int i = from; i < to && rc == 0; i += step) {
		char k[16];
		snprintf(k, sizeof k, "k%d", i * 7 % nkeys);
		struct ff_cell c[4] = {{.s = k, .len = strlen(k)}, {.i = (int64_t)i * 60 * FF_USEC},
				       {.i = i + add}, {.d = i / 4.0, .null = i % 5 == 0}};
		rc = ff_table_writer_put(w, c, NULL, 0, 0);
	}
	if (rc == 0)
		rc = ff_table_writer_finish(w, &stats);
	ff_table_writer_free(w);
	return rc == 0 ? ff_store_commit(st) : -1;
}

/* The rows of key k: first to last. */
static void key_rows(struct ff_feature_table *t, int64_t k, int64_t *first, int64_t *last)
{
	int64_t r = *last = ff_feature_table_find(t, k, FF_MATCH_LATEST, 0, 0);
	while (r > 0 && ff_feature_table_find(t, k, FF_MATCH_EXACT, ff_feature_table_time(t, r - 1), 0) == r - 1)
		r--;
	*first = r;
}

/* Lookups at times in no order, forward and back from the last one of the
 * key (the galloping search from it), against a scan of the key's rows. */
static int finds_as_scans(struct ff_feature_table *t)
{
	const enum ff_match modes[] = {FF_MATCH_ASOF, FF_MATCH_ASOF, FF_MATCH_EXACT};
	const int64_t lookbacks[] = {0, 600 * FF_USEC, 0};
	uint64_t seed = 12345;
	int bad = 0;
	for (int64_t k = 0; k < (int64_t)ff_feature_table_key_count(t); k++) {
		int64_t first, last;
		key_rows(t, k, &first, &last);
		for (int i = 0; i < 400; i++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			int64_t when = (int64_t)((seed >> 33) % 4200) * 60 * FF_USEC - 100 * 60 * FF_USEC;
			if (i % 3 == 0)
				when += 30 * FF_USEC; /* between rows */
			int m = i % 3;
			struct ff_asof_window w = ff_asof_window(modes[m], when, lookbacks[m]);
			int64_t want = -1;
			for (int64_t r = first; r <= last && ff_feature_table_time(t, r) <= w.hi; r++)
				want = r;
			if (want >= 0 && ff_feature_table_time(t, want) < w.lo)
				want = -1;
			bad += ff_feature_table_find(t, k, modes[m], when, lookbacks[m]) != want;
		}
	}
	return bad;
}

/* The whole table as text: per key id, its bytes, then its rows. */
static char *dump(struct ff_feature_table *t)
{
	char *out = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&out, &size);
	for (size_t k = 0; k < ff_feature_table_key_count(t); k++) {
		size_t len;
		fprintf(m, "%s:", ff_feature_table_key_bytes(t, (int64_t)k, &len));
		for (int64_t r = ff_feature_table_find(t, (int64_t)k, FF_MATCH_LATEST, 0, 0); r >= 0; r--) {
			struct ff_cell x, y;
			ff_feature_table_value(t, r, 0, &x);
			ff_feature_table_value(t, r, 1, &y);
			fprintf(m, " %" PRId64 "/%" PRId64 "/%s%g", ff_feature_table_time(t, r), x.i,
				y.null ? "null" : "", y.d);
			if (r == 0 || ff_feature_table_find(t, (int64_t)k, FF_MATCH_EXACT,
							    ff_feature_table_time(t, r - 1), 0) != r - 1)
				break;
		}
		fputc('\n', m);
	}
	fprintf(m, "rows %zu\n", ff_feature_table_rows(t));
	fclose(m);
	return out;
}

int main(void)
{
	char path[] = "/tmp/test_lookup-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	struct ff_store *st;
	ff_set_quiet(1);
	CHECK(ff_store_open(path, FF_STORE_WRITE, &st) == 0, "a new store");
	CHECK(write_version(st, 0, 3000, 1, 13, 0) == 0, "version 1: 3000 rows of 13 keys");
	ff_store_close(st);
	CHECK(ff_store_open(path, FF_STORE_WRITE, &st) == 0, "open the store again");
	CHECK(write_version(st, 1000, 4000, 3, 17, 100) == 0, "version 2: updates, new keys, an append");
	CHECK(write_version(st, 5, 2000, 50, 19, 7) == 0, "version 3: updates all over the times");
	ff_store_close(st);
	struct ff_strlist none = {0};
	for (int v = 0; v <= 3; v++) {
		struct ff_as_of as_of = {v ? FF_AS_OF_VERSION : FF_AS_OF_LATEST, v};
		struct ff_feature_table *one = NULL, *two = NULL;
		char what[80];
		CHECK(ff_store_open(path, FF_STORE_READ, &st) == 0 &&
			      ff_feature_table_load_as_of(st, "tab", &none, &as_of, &one) == 0,
		      "one connection reads the table");
		ff_store_close(st);
		snprintf(what, sizeof what, "%s %d: read in ranges by two connections", v ? "version" : "latest", v);
		CHECK(ff_feature_table_load_path(path, 1, "tab", &none, &as_of, &two) == 0, what);
		if (one && two) {
			char *a = dump(one), *b = dump(two);
			snprintf(what, sizeof what, "%s %d: the same table, key ids in the same order",
				 v ? "version" : "latest", v);
			CHECK_STR(b, a, what);
			CHECK(ff_feature_table_rows(one) > 1000 && ff_feature_table_key_count(one) >= 13,
			      "a table of many rows and keys");
			CHECK(finds_as_scans(two) == 0, "lookups in no time order find what a scan finds");
			free(a);
			free(b);
		}
		ff_feature_table_free(one);
		ff_feature_table_free(two);
	}
	struct ff_feature_table *t = NULL;
	CHECK(ff_feature_table_load_path(path, 1, "nosuch", &none, NULL, &t) < 0 && !t, "no such table");
	unlink(path);
	return UNIT_DONE();
}
