/* Unit tests of the cell model (ff_cell): the one text form of a value, text
 * read as a value, the SQLite edge (timestamps in microseconds in memory,
 * whole seconds in a store), and the CSV quoting rule (ff_csv_quote) and
 * key escaping (ff_keyset) that the writers share. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_cell.h"
#include "ff_csv.h"
#include "ff_keyset.h"
#include "ff_time.h"
#include "unit.h"

static int text_is(const struct ff_cell *c, enum ff_type type, const char *want)
{
	char buf[FF_CELL_TEXT_MAX];
	size_t len;
	const char *t = ff_cell_text(c, type, buf, &len);
	if (!want)
		return t == NULL && len == 0;
	return t && len == strlen(want) && memcmp(t, want, len) == 0;
}

static void test_text(void)
{
	CHECK(text_is(&(struct ff_cell){.null = 1}, FF_TYPE_INTEGER, NULL), "NULL has no text");
	CHECK(text_is(&(struct ff_cell){.s = "a,b", .len = 3}, FF_TYPE_TEXT, "a,b"), "text as is, unquoted");
	CHECK(text_is(&(struct ff_cell){.i = 0}, FF_TYPE_INTEGER, "0"), "integer 0");
	CHECK(text_is(&(struct ff_cell){.i = -42}, FF_TYPE_INTEGER, "-42"), "negative integer");
	CHECK(text_is(&(struct ff_cell){.i = INT64_MIN}, FF_TYPE_INTEGER, "-9223372036854775808"),
	      "INT64_MIN");
	CHECK(text_is(&(struct ff_cell){.i = INT64_MAX}, FF_TYPE_INTEGER, "9223372036854775807"),
	      "INT64_MAX");
	CHECK(text_is(&(struct ff_cell){.d = 2.5}, FF_TYPE_REAL, "2.5"), "a real");
	CHECK(text_is(&(struct ff_cell){.d = -INFINITY}, FF_TYPE_REAL, "-inf"), "minus infinity");
	CHECK(text_is(&(struct ff_cell){.i = 1520000000 * FF_USEC + 250000}, FF_TYPE_TIMESTAMP,
		      "2018-03-02 14:13:20.25"),
	      "a timestamp is microseconds");
	CHECK(text_is(&(struct ff_cell){.i = INT64_MIN}, FF_TYPE_TIMESTAMP, "-290308-12-21 19:59:05.224192"),
	      "the lowest timestamp");
}

static void test_convert(void)
{
	char buf[FF_CELL_TEXT_MAX];
	struct ff_cell out;
	struct ff_cell in = {.i = 7 * FF_USEC};
	CHECK(ff_cell_convert(&in, FF_TYPE_TIMESTAMP, FF_TYPE_TEXT, &out, buf) == 0 && out.len == 19 &&
		      memcmp(out.s, "1970-01-01 00:00:07", 19) == 0,
	      "timestamp to text");
	in = (struct ff_cell){.s = "-nan", .len = 4};
	CHECK(ff_cell_convert(&in, FF_TYPE_TEXT, FF_TYPE_REAL, &out, buf) == 0 && isnan(out.d),
	      "-nan reads as a real");
	in = (struct ff_cell){.s = "inf", .len = 3};
	CHECK(ff_cell_convert(&in, FF_TYPE_TEXT, FF_TYPE_REAL, &out, buf) == 0 && isinf(out.d) && out.d > 0,
	      "inf reads as a real");
	in = (struct ff_cell){.s = "12x", .len = 3};
	CHECK(ff_cell_convert(&in, FF_TYPE_TEXT, FF_TYPE_INTEGER, &out, buf) < 0, "12x is no integer");
	in = (struct ff_cell){.s = "2018-01-01 00:00:00.5", .len = 21};
	CHECK(ff_cell_convert(&in, FF_TYPE_TEXT, FF_TYPE_TIMESTAMP, &out, buf) == 0 &&
		      out.i == 1514764800 * FF_USEC + 500000,
	      "text to a timestamp in microseconds");
	in = (struct ff_cell){.null = 1};
	CHECK(ff_cell_convert(&in, FF_TYPE_TEXT, FF_TYPE_INTEGER, &out, buf) == 0 && out.null, "NULL stays NULL");
}

/* A timestamp bound and read back through SQLite is whole seconds there. */
static void test_sqlite_edge(void)
{
	sqlite3 *db;
	sqlite3_stmt *ins, *sel;
	sqlite3_open(":memory:", &db);
	sqlite3_exec(db, "CREATE TABLE t (ts INTEGER, s TEXT)", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?)", -1, &ins, NULL);
	sqlite3_prepare_v2(db, "SELECT ts, s FROM t ORDER BY ts, s", -1, &sel, NULL);
	const int64_t times[] = {1514764800 * FF_USEC, -1, -FF_USEC};
	for (size_t i = 0; i < 3; i++) {
		ff_cell_bind(ins, 1, FF_TYPE_TIMESTAMP, &(struct ff_cell){.i = times[i]});
		ff_cell_bind(ins, 2, FF_TYPE_TEXT, &(struct ff_cell){.null = i == 2, .s = "x", .len = 1});
		sqlite3_step(ins);
		sqlite3_reset(ins);
	}
	int64_t stored[3] = {0};
	struct ff_cell got[3], text[3];
	for (size_t i = 0; i < 3 && sqlite3_step(sel) == SQLITE_ROW; i++) {
		stored[i] = sqlite3_column_int64(sel, 0);
		ff_cell_column(sel, 0, FF_TYPE_TIMESTAMP, &got[i]);
		ff_cell_column(sel, 1, FF_TYPE_TEXT, &text[i]);
		text[i].s = NULL; /* valid only until the next step */
	}
	CHECK(stored[0] == -1 && stored[1] == -1 && stored[2] == 1514764800,
	      "timestamps are stored in whole seconds, rounded down");
	CHECK(got[0].i == -FF_USEC && got[2].i == 1514764800 * FF_USEC, "and read back in microseconds");
	CHECK(text[0].null && !text[1].null && text[1].len == 1, "NULL and text through the edge");
	sqlite3_finalize(ins);
	sqlite3_finalize(sel);
	sqlite3_close(db);
}

static void test_csv_quote(void)
{
	char buf[64];
	size_t n = ff_csv_quote(buf, "plain", 5);
	CHECK(n == 5 && memcmp(buf, "plain", 5) == 0, "plain text is not quoted");
	n = ff_csv_quote(buf, "", 0);
	CHECK(n == 2 && memcmp(buf, "\"\"", 2) == 0, "the empty string is quoted (NULL is not)");
	n = ff_csv_quote(buf, "say \"hi\",\r\n", 11);
	CHECK(n == 15 && memcmp(buf, "\"say \"\"hi\"\",\r\n\"", 15) == 0, "quotes doubled, CR LF kept");
}

static void test_key_escape(void)
{
	const char key[] = "a\0b%c\n\x7f";
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	ff_keyset_put_escaped(m, key, sizeof key - 1);
	fclose(m);
	CHECK_STR(text, "a%00b%25c%0A%7F", "key bytes that would break a line are %XX");
	size_t len = ff_keyset_unescape(text);
	CHECK(len == sizeof key - 1 && memcmp(text, key, len) == 0, "and read back");
	free(text);
}

int main(void)
{
	test_text();
	test_convert();
	test_sqlite_edge();
	test_csv_quote();
	test_key_escape();
	return UNIT_DONE();
}
