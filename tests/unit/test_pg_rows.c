/* Unit tests of ff_pg_rows_put (common/ff_pg.c): rows streamed into
 * PostgreSQL are encoded in COPY's binary form as the private SQLite copy
 * keeps them, so that they equal the rows sent from the copy: a time cut
 * to the second, a NaN real as NULL, -0 as 0. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ff_pg.h"
#include "unit.h"

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(void)
{
	const struct ff_pg_col cols[] = {
		{"k", FF_PG_TEXT}, {"t", FF_PG_EPOCH}, {"n", FF_PG_INT}, {"a", FF_PG_REAL}, {"b", FF_PG_REAL},
		{"c", FF_PG_REAL}, {"e", FF_PG_TEXT},
	};
	/* 2018-01-01 00:15:00.75 UTC: 1514765700.75 s. */
	const struct ff_cell cells[] = {
		{.s = "142", .len = 3}, {.i = INT64_C(1514765700750000)}, {.i = -7}, {.d = NAN}, {.d = -0.0},
		{.d = 2.5}, {.null = 1},
	};
	struct ff_pg_rows b = {0};
	ff_pg_rows_put(&b, cols, 7, cells);
	ff_pg_rows_put(&b, cols, 7, cells);
	const unsigned char *p = b.p;
	CHECK(b.nrows == 2, "two rows");
	CHECK(b.len == 2 * (2 + (4 + 3) + 12 + 12 + 4 + 12 + 12 + 4), "the fields' bytes");
	CHECK(p[0] == 0 && p[1] == 7, "the field count");
	p += 2;
	CHECK(be32(p) == 3 && memcmp(p + 4, "142", 3) == 0, "text: its length, its bytes");
	p += 7;
	/* Microseconds since 2000-01-01: (1514765700 - 946684800) s. */
	CHECK(be32(p) == 8 && be64(p + 4) == (uint64_t)(INT64_C(1514765700) - INT64_C(946684800)) * 1000000,
	      "an epoch cut to the second, from 2000-01-01");
	p += 12;
	CHECK(be32(p) == 8 && (int64_t)be64(p + 4) == -7, "a bigint");
	p += 12;
	CHECK(be32(p) == UINT32_MAX, "NaN as NULL, as SQLite keeps it");
	p += 4;
	CHECK(be32(p) == 8 && be64(p + 4) == 0, "-0 as 0, as SQLite keeps it");
	p += 12;
	double d = 2.5;
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	CHECK(be32(p) == 8 && be64(p + 4) == bits, "a double bit for bit");
	p += 12;
	CHECK(be32(p) == UINT32_MAX, "NULL");
	p += 4;
	CHECK(memcmp(p, b.p, (size_t)(p - b.p)) == 0, "the second row the same");
	ff_pg_rows_release(&b);
	CHECK(b.p == NULL && b.len == 0 && b.nrows == 0, "released");
	return UNIT_DONE();
}
