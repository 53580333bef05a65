/* Unit tests of the Redis online store's layout (common/ff_online_redis)
 * and client (common/ff_redis): cluster slots, member heads that sort as
 * their versions and times do, features that read back bit for bit. The
 * lookups against a server are tests/ff-redis.bats. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "ff_online_redis.h"
#include "ff_redis.h"
#include "unit.h"

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);
	return c ? c : (na > nb) - (na < nb);
}

int main(void)
{
	/* Redis Cluster's own examples (cluster-spec): CRC16 of "123456789" is
	 * 0x31C3; a hash tag places keys together; an empty tag is no tag. */
	CHECK(ff_redis_slot("123456789", 9) == (0x31C3 & 16383), "slot of 123456789");
	CHECK(ff_redis_slot("foo", 3) == 12182, "slot of foo");
	CHECK(ff_redis_slot("{user1000}.following", 20) == ff_redis_slot("{user1000}.followers", 20),
	      "a hash tag places two keys in one slot");
	CHECK(ff_redis_slot("foo{}{bar}", 10) == ff_redis_slot("foo{}{bar}", 10) &&
	      ff_redis_slot("foo{}{bar}", 10) != ff_redis_slot("bar", 3), "an empty tag hashes the whole key");
	CHECK(ff_redis_slot("ff:t:1:{142}", 12) == ff_redis_slot("ff:t:7:{142}", 12),
	      "every generation of a key tuple in one slot");
	CHECK(ff_redis_is_url("redis://h:1") && ff_redis_is_url("unix:///s") && !ff_redis_is_url("on.db") &&
	      !ff_redis_is_url(NULL), "addresses told from files");

	/* Data keys. */
	char *k = NULL;
	size_t cap = 0, n = ff_online_redis_key(&k, &cap, "trips", 3, "a\0b", 3);
	CHECK(n == 16 && memcmp(k, "ff:trips:3:{a\0b}", 16) == 0, "a data key");

	/* Heads: one time, versions in byte order; times before 1970 too. */
	char *m1 = NULL, *m2 = NULL;
	size_t c1 = 0, c2 = 0, l1 = 0, l2 = 0;
	ff_online_redis_head(&m1, &c1, &l1, 2, -5, FF_ONLINE_REDIS_ROW);
	ff_online_redis_head(&m2, &c2, &l2, 10, -5, FF_ONLINE_REDIS_DELETED);
	CHECK(cmp_bytes(m1, l1, m2, l2) < 0, "a later version sorts after");
	int64_t v, ts;
	int kind;
	CHECK(ff_online_redis_parse_head(m2, l2, &v, &ts, &kind) == 0 && v == 10 && ts == -5 &&
	      kind == FF_ONLINE_REDIS_DELETED, "a head reads back");
	CHECK(ff_online_redis_parse_head(m2, 12, &v, &ts, &kind) < 0, "a short member is refused");

	/* Features read back as written, bit for bit. */
	struct ff_cell in[6] = {
		{.d = 0.1}, {.i = -1}, {.i = INT64_MIN}, {.null = 1}, {.s = "2018-01", .len = 7}, {.d = -0.0},
	};
	enum ff_type types[6] = {FF_TYPE_REAL, FF_TYPE_INTEGER, FF_TYPE_TIMESTAMP, FF_TYPE_REAL, FF_TYPE_TEXT,
				 FF_TYPE_REAL};
	l1 = 0;
	ff_online_redis_head(&m1, &c1, &l1, 1, 1514764800, FF_ONLINE_REDIS_ROW);
	for (int i = 0; i < 6; i++)
		ff_online_redis_put(&m1, &c1, &l1, types[i], &in[i]);
	struct ff_cell out[7];
	CHECK(ff_online_redis_decode(m1, l1, out, 6) == 0, "a member decodes");
	CHECK(memcmp(&out[0].d, &in[0].d, 8) == 0 && out[1].i == -1 && out[2].i == INT64_MIN && out[3].null &&
	      out[4].len == 7 && memcmp(out[4].s, "2018-01", 7) == 0 && signbit(out[5].d),
	      "features read back bit for bit");
	CHECK(ff_online_redis_decode(m1, l1 - 1, out, 6) < 0, "a cut member is refused");
	CHECK(ff_online_redis_decode(m1, l1, out, 7) < 0, "a member with fewer features is refused");
	CHECK(ff_online_redis_decode(m1, l1, out, 5) < 0, "a member with more features is refused");
	free(k);
	free(m1);
	free(m2);
	return UNIT_DONE();
}
