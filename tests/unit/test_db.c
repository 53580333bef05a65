/* Unit tests of common/ff_db: the name rule, the quoter that fails rather
 * than truncates, side-table names, and the helpers on a memory database. */
#include <stdlib.h>

#include "ff_db.h"
#include "ff_util.h"
#include "unit.h"

/* A name of n bytes: 't' then 'a's. */
static char *name_of(size_t n)
{
	char *s = malloc(n + 1);
	memset(s, 'a', n);
	s[0] = 't';
	s[n] = '\0';
	return s;
}

int main(void)
{
	char buf[FF_DB_IDENT_SIZE];
	char *max = name_of(FF_NAME_MAX), *over = name_of(FF_NAME_MAX + 1), *huge = name_of(321);

	CHECK(ff_is_identifier("trip_pickup_features"), "a plain name");
	CHECK(ff_is_identifier("_x9"), "underscore first, digits after");
	CHECK(!ff_is_identifier("9x") && !ff_is_identifier("a-b") && !ff_is_identifier(""),
	      "digit first, a dash, empty");
	CHECK(!ff_is_identifier(NULL), "NULL");
	CHECK(ff_is_identifier(max), "128 bytes is a name");
	CHECK(!ff_is_identifier(over), "129 bytes is not");
	ff_set_quiet(1);
	CHECK(ff_name_check(max, "table name", NULL) == 0, "the length check passes 128 bytes");

	CHECK(ff_db_quote(buf, sizeof buf, "a\"b") == 0, "quote a name with a quote");
	CHECK_STR(buf, "\"a\"\"b\"", "quotes doubled");
	CHECK(ff_db_quote(buf, 6, "abc") == 0 && strcmp(buf, "\"abc\"") == 0, "exactly fits");
	CHECK(ff_db_quote(buf, 5, "abc") == -1, "one byte short fails");
	CHECK_STR(buf, "\"", "a failed quote leaves a lone quote, never a truncated name");
	CHECK(ff_db_quote(buf, 6, "ab\"") == -1, "a doubled quote that does not fit fails");
	CHECK(ff_db_quote(buf, sizeof buf, huge) == -1, "321 bytes do not fit 300");

	CHECK(ff_db_side_name(buf, sizeof buf, "ff_changes_", max) == 0, "side name of a 128-byte name");
	CHECK(strlen(buf) == 2 + 11 + FF_NAME_MAX && strncmp(buf, "\"ff_changes_taaa", 16) == 0,
	      "prefix, name, quotes");
	CHECK(ff_db_side_name(buf, sizeof buf, "ff_changes_", huge) == -1, "side name of 321 bytes fails");
	CHECK(ff_db_side_name(buf, 20, "ff_seen_", "abcdefghijkl") == -1, "a small buffer fails");

	sqlite3 *db = NULL;
	CHECK(ff_db_open(":memory:", FF_DB_WRITER, FF_DB_CREATE, &db) == 0, "open a memory database");
	CHECK(ff_db_exec(db, "mem", "CREATE TABLE t (a TEXT)") == 0, "exec");
	sqlite3_stmt *s = NULL;
	CHECK(ff_db_prepare(db, "mem", "INSERT INTO t VALUES (?)", &s, "cannot insert") == 0, "prepare");
	sqlite3_bind_text(s, 1, "x", -1, SQLITE_STATIC);
	CHECK(ff_db_step_done(db, "mem", s, "cannot insert") == 0, "step to the end");
	CHECK(ff_db_step_done(db, "mem", s, "cannot insert") == 0, "reset and cleared for reuse");
	sqlite3_finalize(s);
	CHECK(ff_db_prepare(db, "mem", "SELECT a FROM t ORDER BY a IS NULL", &s, "cannot read") == 0 &&
		      sqlite3_step(s) == SQLITE_ROW,
	      "read back");
	char *text = ff_db_column_text(s, 0);
	CHECK(text && strcmp(text, "x") == 0, "column text copied");
	free(text);
	CHECK(sqlite3_step(s) == SQLITE_ROW && ff_db_column_text(s, 0) == NULL, "NULL column text");
	sqlite3_finalize(s);
	CHECK(ff_db_prepare(db, "mem", "SELECT nope FROM t", &s, "cannot read") == -1 && s == NULL,
	      "a bad statement fails");
	CHECK(ff_db_exec(db, "mem", "nonsense") == -1, "a bad exec fails");
	int64_t n = 7;
	CHECK(ff_db_int(db, "mem", "SELECT count(*) FROM t WHERE a = ?1", "x", NULL, &n, "cannot read") == 1 &&
		      n == 1,
	      "one integer: found, ?1 bound");
	CHECK(ff_db_int(db, "mem", "SELECT ?2 || ?1", "2", "4", &n, "cannot read") == 1 && n == 42,
	      "?2 bound too");
	n = 7;
	CHECK(ff_db_int(db, "mem", "SELECT 1 FROM t WHERE a = 'none'", NULL, NULL, &n, "cannot read") == 0 &&
		      n == 7,
	      "no row: 0, the integer left as it was");
	CHECK(ff_db_int(db, "mem", "SELECT max(rowid) FROM t WHERE a IS NULL AND rowid < 0", NULL, NULL, &n,
			"cannot read") == 0 &&
		      n == 7,
	      "NULL: 0, the integer left as it was");
	CHECK(ff_db_int(db, "mem", "SELECT nope FROM t", NULL, NULL, &n, "cannot read") == -1 && n == 7,
	      "a bad statement: -1");
	CHECK(ff_db_has_column(db, "mem", "main", "t", "a") == 1, "a column t has");
	CHECK(ff_db_has_column(db, "mem", "main", "t", "shard") == 0 && ff_db_has_column(db, "mem", "main", "u", "a") == 0,
	      "a column t has not, a table not there");
	CHECK(ff_db_int(db, NULL, "SELECT nope FROM t", NULL, NULL, &n, NULL) == -1 &&
		      sqlite3_errcode(db) == SQLITE_ERROR,
	      "not reported without a path, the error still there");
	char now[32];
	ff_db_now_text(now);
	CHECK(strlen(now) == 19 && now[4] == '-' && now[10] == ' ', "now as YYYY-MM-DD HH:MM:SS");
	ff_db_close(db);
	ff_db_close(NULL);
	CHECK(ff_db_open("/nonexistent/dir/x.db", FF_DB_READER, 0, &db) == -1 && db == NULL,
	      "a missing file fails");

	free(max);
	free(over);
	free(huge);
	return UNIT_DONE();
}
