/* ff_keyset: interned keys. Each distinct byte string gets a small id, in
 * order of first sight; the bytes stay until the set is freed. Used for
 * the keys of open windows and of loaded feature tables. */
#ifndef FF_KEYSET_H
#define FF_KEYSET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct ff_keyset;

struct ff_keyset *ff_keyset_new(void);
void ff_keyset_free(struct ff_keyset *ks);

/* The id of bytes[0..len), added if new. */
uint32_t ff_keyset_intern(struct ff_keyset *ks, const char *bytes, size_t len);
/* The id of bytes[0..len), or -1 if it is not in the set. */
int64_t ff_keyset_find(const struct ff_keyset *ks, const char *bytes, size_t len);
/* The bytes of an id (NUL-terminated) and their length. */
const char *ff_keyset_bytes(const struct ff_keyset *ks, uint32_t id, size_t *len);
uint32_t ff_keyset_count(const struct ff_keyset *ks);
/* Byte order of two ids' keys (memcmp, then length). */
int ff_keyset_compare(const struct ff_keyset *ks, uint32_t a, uint32_t b);

/* Keys on a line of text (a blueprint's key-mean lines, a model's
 * categories): bytes below 0x20, '%' and 0x7f as %XX (upper-case hex),
 * the others as they are. ff_keyset_unescape undoes it in place in the
 * NUL-terminated s and returns the length of the bytes. */
void ff_keyset_put_escaped(FILE *out, const char *bytes, size_t len);
size_t ff_keyset_unescape(char *s);

#endif
