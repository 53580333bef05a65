#include "ff_shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_db.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define SHARDS_MAX 65536

int ff_shard_parse(const char *text, struct ff_shard *out)
{
	char *end;
	unsigned long k = strtoul(text, &end, 10);
	if (end == text || *end != '/' || text[0] == '-' || text[0] == '+')
		return -1;
	const char *n_text = end + 1;
	unsigned long n = strtoul(n_text, &end, 10);
	if (end == n_text || *end || n_text[0] == '-' || n_text[0] == '+')
		return -1;
	if (k < 1 || n < 1 || k > n || n > SHARDS_MAX)
		return -1;
	out->k = (uint32_t)k;
	out->n = (uint32_t)n;
	return 0;
}

uint64_t ff_shard_hash(const char *const *values, const size_t *lens, size_t n)
{
	uint64_t h = FNV_OFFSET;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)values[i];
		for (size_t j = 0; j < lens[i]; j++) {
			h ^= p[j];
			h *= FNV_PRIME;
		}
		h *= FNV_PRIME; /* the NUL after each value: h ^= 0 */
	}
	/* FNV-1a's bits are mixed too little for a modulus that is not a power
	 * of two (taxi zone ids 1..265 fall 46/70/50/0/99 into 5 shards):
	 * MurmurHash3's 64-bit finaliser spreads them (42/54/55/52/62). */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

int ff_shard_owns(const struct ff_shard *s, const char *const *values, const size_t *lens, size_t n)
{
	return s->n == 0 || ff_shard_has(s, ff_shard_hash(values, lens, n));
}

int ff_shard_has(const struct ff_shard *s, uint64_t h) { return s->n == 0 || h % s->n == s->k - 1; }

void ff_shard_sql(FILE *m, const struct ff_shard *s, const struct ff_table_def *def, const char *alias)
{
	char q[FF_DB_IDENT_SIZE];
	fprintf(m, "ff_shard(%u", (unsigned)s->n);
	for (size_t i = 0; i < def->ncols; i++)
		if (def->cols[i].role == FF_ROLE_KEY) {
			ff_db_quote(q, sizeof q, def->cols[i].name);
			fprintf(m, ", %s%s", alias, q);
		}
	fprintf(m, ") = %u", (unsigned)s->k);
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

int ff_shard_meet(const struct ff_shard *a, const struct ff_shard *b)
{
	if (!a->n || !b->n)
		return 1;
	uint32_t g = gcd(a->n, b->n);
	return (a->k - 1) % g == (b->k - 1) % g;
}

void ff_shard_text(const struct ff_shard *s, char buf[16])
{
	if (s->n)
		snprintf(buf, 16, "%u/%u", (unsigned)s->k, (unsigned)s->n);
	else
		buf[0] = '\0';
}

static void sql_shard(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	sqlite3_int64 n = sqlite3_value_int64(argv[0]);
	if (n < 1 || argc - 1 > FF_SHARD_KEYS_MAX) {
		sqlite3_result_error(ctx, "ff_shard: bad shard count or too many keys", -1);
		return;
	}
	const char *values[FF_SHARD_KEYS_MAX];
	size_t lens[FF_SHARD_KEYS_MAX];
	for (int i = 1; i < argc; i++) {
		values[i - 1] = (const char *)sqlite3_value_text(argv[i]);
		lens[i - 1] = (size_t)sqlite3_value_bytes(argv[i]);
		if (!values[i - 1])
			values[i - 1] = "";
	}
	uint64_t h = ff_shard_hash(values, lens, (size_t)argc - 1);
	sqlite3_result_int64(ctx, (sqlite3_int64)(h % (uint64_t)n) + 1);
}

int ff_shard_sql_register(sqlite3 *db)
{
	return sqlite3_create_function(db, "ff_shard", -1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				       sql_shard, NULL, NULL) == SQLITE_OK ? 0 : -1;
}
