#include "ff_keyset.h"

#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

struct entry {
	uint64_t hash;
	size_t off;
	uint32_t len;
};

struct ff_keyset {
	char *bytes;
	size_t bytes_len, bytes_cap;
	struct entry *entries;
	size_t n, cap;
	uint32_t *slots; /* id + 1; 0 is empty; power-of-two size */
	uint32_t nslots;
};

struct ff_keyset *ff_keyset_new(void)
{
	struct ff_keyset *ks = ff_xcalloc(1, sizeof *ks);
	ks->nslots = 1024;
	ks->slots = ff_xcalloc(ks->nslots, sizeof *ks->slots);
	return ks;
}

void ff_keyset_free(struct ff_keyset *ks)
{
	if (!ks)
		return;
	free(ks->bytes);
	free(ks->entries);
	free(ks->slots);
	free(ks);
}

static int64_t lookup(const struct ff_keyset *ks, const char *bytes, size_t len, uint64_t h,
		      uint32_t *slot)
{
	uint32_t mask = ks->nslots - 1;
	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		uint32_t id = ks->slots[i];
		if (id == 0) {
			*slot = i;
			return -1;
		}
		const struct entry *e = &ks->entries[id - 1];
		if (e->hash == h && e->len == len && memcmp(ks->bytes + e->off, bytes, len) == 0)
			return id - 1;
	}
}

int64_t ff_keyset_find(const struct ff_keyset *ks, const char *bytes, size_t len)
{
	uint32_t slot;
	return lookup(ks, bytes, len, ff_hash_bytes(bytes, len, 0), &slot);
}

static void rehash(struct ff_keyset *ks)
{
	uint32_t n = ks->nslots * 2;
	uint32_t *slots = ff_xcalloc(n, sizeof *slots);
	for (size_t id = 0; id < ks->n; id++) {
		uint32_t j = (uint32_t)ks->entries[id].hash & (n - 1);
		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = (uint32_t)id + 1;
	}
	free(ks->slots);
	ks->slots = slots;
	ks->nslots = n;
}

uint32_t ff_keyset_intern(struct ff_keyset *ks, const char *bytes, size_t len)
{
	uint64_t h = ff_hash_bytes(bytes, len, 0);
	uint32_t slot;
	int64_t id = lookup(ks, bytes, len, h, &slot);
	if (id >= 0)
		return (uint32_t)id;
	if ((ks->n + 1) * 2 > ks->nslots) {
		rehash(ks);
		lookup(ks, bytes, len, h, &slot);
	}
	ff_grow(&ks->bytes, &ks->bytes_cap, ks->bytes_len + len + 1, 1);
	memcpy(ks->bytes + ks->bytes_len, bytes, len);
	ks->bytes[ks->bytes_len + len] = '\0';
	ff_grow(&ks->entries, &ks->cap, ks->n + 1, sizeof *ks->entries);
	ks->entries[ks->n] = (struct entry){h, ks->bytes_len, (uint32_t)len};
	ks->bytes_len += len + 1;
	ks->slots[slot] = (uint32_t)ks->n + 1;
	return (uint32_t)ks->n++;
}

const char *ff_keyset_bytes(const struct ff_keyset *ks, uint32_t id, size_t *len)
{
	*len = ks->entries[id].len;
	return ks->bytes + ks->entries[id].off;
}

uint32_t ff_keyset_count(const struct ff_keyset *ks) { return (uint32_t)ks->n; }

int ff_keyset_compare(const struct ff_keyset *ks, uint32_t a, uint32_t b)
{
	const struct entry *x = &ks->entries[a], *y = &ks->entries[b];
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(ks->bytes + x->off, ks->bytes + y->off, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

void ff_keyset_put_escaped(FILE *out, const char *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)bytes[i];
		if (c < 0x20 || c == '%' || c == 0x7f)
			fprintf(out, "%%%02X", c);
		else
			putc(c, out);
	}
}

static int unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

size_t ff_keyset_unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '%' && unhex(r[1]) >= 0 && unhex(r[2]) >= 0) {
			*w++ = (char)(unhex(r[1]) * 16 + unhex(r[2]));
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	return (size_t)(w - s);
}
