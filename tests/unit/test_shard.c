/* Unit tests of common/ff_shard: the documented split (FNV-1a 64 of the key
 * values each followed by NUL, mixed by MurmurHash3's finaliser, mod N),
 * K/N parsing, which shards meet. */
#include <sqlite3.h>
#include <stdint.h>

#include "ff_shard.h"
#include "unit.h"

int main(void)
{
	/* The values worked out by hand (and by the Python of ff-compute(1)). */
	const char *one[] = {"141"};
	size_t one_len[] = {3};
	CHECK(ff_shard_hash(one, one_len, 1) == UINT64_C(0x289d1755b18e04a6), "FNV-1a 64 of \"141\\0\", mixed");
	const char *two[] = {"a", "b"};
	size_t two_len[] = {1, 1};
	CHECK(ff_shard_hash(two, two_len, 2) == UINT64_C(0x9ee055ea1a8ec313), "two keys: \"a\\0b\\0\"");
	struct ff_shard s = {0, 0};
	CHECK(ff_shard_parse("2/4", &s) == 0 && s.k == 2 && s.n == 4, "2/4 parses");
	CHECK(ff_shard_owns(&s, one, one_len, 1) == (UINT64_C(0x289d1755b18e04a6) % 4 == 1), "141 is in shard h mod 4 + 1");
	const char *bad[] = {"0/2", "3/2", "1", "1/", "/2", "1/2x", "-1/2", "+1/2", "1/65537", ""};
	int refused = 0;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		refused += ff_shard_parse(bad[i], &s) < 0;
	CHECK(refused == (int)(sizeof bad / sizeof *bad), "bad K/N refused");

	struct ff_shard all = {0, 0}, a12 = {1, 2}, b22 = {2, 2}, c14 = {1, 4}, d24 = {2, 4}, e34 = {3, 4};
	struct ff_shard f13 = {1, 3};
	CHECK(ff_shard_meet(&all, &a12) && ff_shard_meet(&a12, &all), "every key meets any shard");
	CHECK(!ff_shard_meet(&a12, &b22), "1/2 and 2/2 are disjoint");
	CHECK(ff_shard_meet(&a12, &c14) && ff_shard_meet(&a12, &e34), "1/2 meets 1/4 and 3/4");
	CHECK(!ff_shard_meet(&a12, &d24), "1/2 does not meet 2/4");
	CHECK(ff_shard_meet(&f13, &b22), "1/3 meets 2/2");

	/* The SQL function gives the same shard. */
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_open(":memory:", &db);
	CHECK(ff_shard_sql_register(db) == 0, "ff_shard registers");
	sqlite3_prepare_v2(db, "SELECT ff_shard(4, '141'), ff_shard(7, 'a', 'b')", -1, &st, NULL);
	CHECK(sqlite3_step(st) == SQLITE_ROW, "ff_shard runs");
	CHECK(sqlite3_column_int64(st, 0) == (int64_t)(UINT64_C(0x289d1755b18e04a6) % 4) + 1, "SQL: the shard of 141 of 4");
	CHECK(sqlite3_column_int64(st, 1) == (int64_t)(UINT64_C(0x9ee055ea1a8ec313) % 7) + 1, "SQL: the shard of (a, b) of 7");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return UNIT_DONE();
}
