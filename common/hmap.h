/* hmap.h: an open-addressing hash map from a string or 64-bit integer key
 * to a size_t value (usually an index into the caller's array).
 *
 * The map does not own keys: string keys must outlive the map (they normally
 * point into the caller's records). */
#ifndef KILN_HMAP_H
#define KILN_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 16 bytes a slot: maps of a few hundred thousand entries are what the
 * supervisor keeps for 100,000 sources, and slot size is most of their cost.
 * h is a 32-bit hash: 0 for an empty slot and 1 for a deleted one; string
 * keys hash to even numbers >= 2, integer keys to odd numbers >= 3 (a probe
 * compares strings only when the hashes match). Values are indices below
 * 2^32. */
typedef struct hmap_slot {
	uint32_t h;
	uint32_t value;
	union {
		const char *key;
		int64_t ikey;
	} k;
} hmap_slot;

typedef struct hmap {
	hmap_slot *slots;
	size_t cap; /* power of two */
	size_t n;
	size_t tombs;
	bool fold;  /* string keys compare with ASCII case folded */
} hmap;

void hmap_init(hmap *m);
/* A map whose string keys are equal when they differ only in ASCII case:
 * "Tex/A.PNG" finds "tex/a.png". It keeps that mode through hmap_free. */
void hmap_init_fold(hmap *m);
void hmap_free(hmap *m);
/* Makes room for n entries without growing again. Returns 0 or -ENOMEM. */
int hmap_reserve(hmap *m, size_t n);
/* Inserts or replaces. Returns 0 or -ENOMEM. */
int hmap_put(hmap *m, const char *key, size_t value);
int hmap_put_int(hmap *m, int64_t key, size_t value);
/* Returns true and sets *value (OUT) when found. */
bool hmap_get(const hmap *m, const char *key, size_t *value);
bool hmap_get_int(const hmap *m, int64_t key, size_t *value);
/* Removes; returns true when the key was there. */
bool hmap_del(hmap *m, const char *key);
bool hmap_del_int(hmap *m, int64_t key);

#endif
