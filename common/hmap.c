/* hmap.c: linear probing with tombstones; grows at 80% load. */
#include "hmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define H_EMPTY 0
#define H_TOMB 1

static uint32_t fold_bits(uint64_t x)
{
	uint32_t h = (uint32_t)(x ^ (x >> 32)) & ~1u;
	return h < 2 ? 2 : h;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static uint32_t hash_str(const hmap *m, const char *s)
{
	size_t n = strlen(s);
	if (!m->fold)
		return fold_bits(hash_bytes(s, n));
	/* The hash of the lowercased bytes, 256 at a time, each piece's
	 * hash mixed into the last. */
	uint64_t x = n;
	char buf[256];
	while (n) {
		size_t k = n < sizeof buf ? n : sizeof buf;
		for (size_t i = 0; i < k; i++)
			buf[i] = lower(s[i]);
		x = (x << 7 | x >> 57) ^ hash_bytes(buf, k);
		s += k;
		n -= k;
	}
	return fold_bits(x);
}

static bool str_eq(const hmap *m, const char *a, const char *b)
{
	if (!m->fold)
		return strcmp(a, b) == 0;
	for (; *a && lower(*a) == lower(*b); a++, b++)
		;
	return lower(*a) == lower(*b);
}

static uint32_t hash_int(int64_t k)
{
	uint64_t x = (uint64_t)k;
	/* splitmix64 finaliser: cheap and mixes every bit */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	uint32_t h = (uint32_t)(x ^ (x >> 32)) | 1u;
	return h < 3 ? 3 : h;
}

/* The home slot: bit 0 of h only says what kind of key it is. */
static size_t home(uint32_t h, size_t cap)
{
	return (size_t)(h >> 1) & (cap - 1);
}

/* True when n entries (with tombstones) fit cap slots at 80% load. */
static bool fits(size_t n, size_t cap)
{
	return n * 5 <= cap * 4;
}

void hmap_init(hmap *m)
{
	memset(m, 0, sizeof *m);
}

void hmap_init_fold(hmap *m)
{
	memset(m, 0, sizeof *m);
	m->fold = true;
}

void hmap_free(hmap *m)
{
	bool fold = m->fold;
	free(m->slots);
	memset(m, 0, sizeof *m);
	m->fold = fold;
}

static bool slot_live(const hmap_slot *s)
{
	return s->h > H_TOMB;
}

static bool slot_eq(const hmap *m, const hmap_slot *s, uint32_t h, const char *key, int64_t ikey)
{
	if (s->h != h)
		return false;
	if (h & 1)
		return s->k.ikey == ikey;
	return str_eq(m, s->k.key, key);
}

/* Moves every live entry into ncap fresh slots (dropping tombstones). */
static int rehash(hmap *m, size_t ncap)
{
	hmap_slot *ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		hmap_slot *s = &m->slots[i];
		if (!slot_live(s))
			continue;
		size_t j = home(s->h, ncap);
		while (ns[j].h != H_EMPTY)
			j = (j + 1) & (ncap - 1);
		ns[j] = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	m->tombs = 0;
	return 0;
}

static int grow(hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	if (m->cap && (m->n + 1) * 10 < m->cap * 5)
		ncap = m->cap; /* mostly tombstones: rehash at the same size */
	return rehash(m, ncap);
}

int hmap_reserve(hmap *m, size_t n)
{
	size_t want = 64;
	while (!fits(n + 1, want))
		want *= 2;
	return want <= m->cap ? 0 : rehash(m, want);
}

static int put(hmap *m, uint32_t h, const char *key, int64_t ikey, size_t value)
{
	if (!fits(m->n + m->tombs + 1, m->cap)) {
		int rc = grow(m);
		if (rc)
			return rc;
	}
	size_t mask = m->cap - 1, i = home(h, m->cap);
	hmap_slot *tomb = NULL;
	for (;;) {
		hmap_slot *s = &m->slots[i];
		if (s->h == H_EMPTY)
			break;
		if (s->h == H_TOMB) {
			if (!tomb)
				tomb = s;
		} else if (slot_eq(m, s, h, key, ikey)) {
			s->value = (uint32_t)value;
			return 0;
		}
		i = (i + 1) & mask;
	}
	hmap_slot *dst = tomb ? tomb : &m->slots[i];
	if (tomb)
		m->tombs--;
	dst->h = h;
	if (h & 1)
		dst->k.ikey = ikey;
	else
		dst->k.key = key;
	dst->value = (uint32_t)value;
	m->n++;
	return 0;
}

static hmap_slot *find(const hmap *m, uint32_t h, const char *key, int64_t ikey)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1, i = home(h, m->cap);
	for (;;) {
		hmap_slot *s = &m->slots[i];
		if (s->h == H_EMPTY)
			return NULL;
		if (slot_eq(m, s, h, key, ikey))
			return s;
		i = (i + 1) & mask;
	}
}

int hmap_put(hmap *m, const char *key, size_t value)
{
	return put(m, hash_str(m, key), key, 0, value);
}

int hmap_put_int(hmap *m, int64_t key, size_t value)
{
	return put(m, hash_int(key), NULL, key, value);
}

bool hmap_get(const hmap *m, const char *key, size_t *value)
{
	hmap_slot *s = find(m, hash_str(m, key), key, 0);
	if (s && value)
		*value = s->value;
	return s != NULL;
}

bool hmap_get_int(const hmap *m, int64_t key, size_t *value)
{
	hmap_slot *s = find(m, hash_int(key), NULL, key);
	if (s && value)
		*value = s->value;
	return s != NULL;
}

static bool del(hmap *m, hmap_slot *s)
{
	if (!s)
		return false;
	s->h = H_TOMB;
	m->n--;
	m->tombs++;
	return true;
}

bool hmap_del(hmap *m, const char *key)
{
	return del(m, find(m, hash_str(m, key), key, 0));
}

bool hmap_del_int(hmap *m, int64_t key)
{
	return del(m, find(m, hash_int(key), NULL, key));
}
