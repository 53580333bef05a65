/* Unit tests of common/ff_pg_table and the SQL text of common/ff_pg: a
 * feature table's primary key (the timestamp key, then the keys in their
 * order, whatever the order of the columns), the columns of its side
 * tables, their names, and literals and name lists. */
#include <stdlib.h>
#include <string.h>

#include "ff_pg.h"
#include "ff_pg_table.h"
#include "unit.h"

int main(void)
{
	/* Columns in an order no store writes, to show the rule. */
	struct ff_column cols[] = {
		{"v", FF_TYPE_REAL, FF_ROLE_FEATURE, NULL},
		{"b", FF_TYPE_INTEGER, FF_ROLE_KEY, NULL},
		{"day", FF_TYPE_TEXT, FF_ROLE_PARTITION, NULL},
		{"ts", FF_TYPE_TIMESTAMP, FF_ROLE_TIMESTAMP, NULL},
		{"a", FF_TYPE_TEXT, FF_ROLE_KEY, NULL},
	};
	struct ff_table_def def = {"My\"t", cols, 5, NULL, NULL};
	size_t pk[5];
	CHECK(ff_pg_table_pk(&def, pk) == 3 && pk[0] == 3 && pk[1] == 1 && pk[2] == 4,
	      "the primary key: the timestamp key, then the keys in order");

	struct ff_pg_table t;
	ff_pg_table_init(&t, &def);
	CHECK(t.npk == 3 && strcmp(t.pk[0].name, "ts") == 0 && t.pk[0].kind == FF_PG_EPOCH &&
		      strcmp(t.pk[1].name, "b") == 0 && t.pk[1].kind == FF_PG_INT &&
		      strcmp(t.pk[2].name, "a") == 0 && t.pk[2].kind == FF_PG_TEXT,
	      "pk columns and kinds");
	CHECK(t.nkeys == 2 && t.row_keys[0] == 1 && t.row_keys[1] == 4 && t.state_keys[0] == 1 &&
		      t.state_keys[1] == 2,
	      "the keys among the rows and among the states");
	CHECK(t.nstate == 4 && strcmp(t.state[3].name, "state") == 0 && t.state[3].kind == FF_PG_BLOB,
	      "states: the primary key, state");
	CHECK(t.nchanges == 5 && strcmp(t.changes[0].name, "version") == 0 &&
		      strcmp(t.changes[1].name, "op") == 0 && strcmp(t.changes[2].name, "ts") == 0,
	      "change feed: version, op, the primary key");
	CHECK(t.nimg == 5 && strcmp(t.img[2].name, "ts") == 0 && strcmp(t.img[4].name, "ff_valid_to") == 0,
	      "history images: the columns but the partition, ff_valid_to");
	CHECK(t.nhs == 5 && strcmp(t.hs[3].name, "ff_valid_to") == 0 && strcmp(t.hs[4].name, "state") == 0,
	      "history states: the primary key, ff_valid_to, state");
	CHECK_STR(t.q, "\"My\"\"t\"", "the table's name quoted");
	CHECK_STR(t.qchanges, "\"ff_changes_My\"\"t\"", "the change feed's");
	CHECK_STR(t.qstate, "\"ff_state_My\"\"t\"", "the states'");
	CHECK_STR(t.qhistory, "\"ff_history_My\"\"t\"", "the history's");
	CHECK_STR(t.qhiststate, "\"ff_histstate_My\"\"t\"", "the history states'");

	char *sql;
	size_t size;
	FILE *m = ff_pg_sql_open(&sql, &size);
	ff_pg_names(m, t.pk, t.npk, "t.");
	fputc(' ', m);
	ff_pg_literal(m, "it's");
	CHECK_STR(ff_pg_sql_close(m, &sql), "t.\"ts\", t.\"b\", t.\"a\" 'it''s'", "a name list and a literal");
	free(sql);
	CHECK_STR(ff_pg_key_type(FF_PG_TEXT), "text COLLATE \"C\"", "text keys compare bytewise");
	CHECK_STR(ff_pg_key_type(FF_PG_INT), "bigint", "other keys: their type");

	ff_pg_table_release(&t);
	ff_pg_table_release(&t);
	CHECK(1, "released twice");
	return UNIT_DONE();
}
