/* hash.h: XXH3 content hashes and fingerprints.
 *
 * Files are hashed with 64-bit XXH3 through page-aligned buffers. The hash
 * routine is picked once at start: an AVX2 build of XXH3 where the CPU has
 * it, the portable one elsewhere; both give the same values. */
#ifndef KILN_HASH_H
#define KILN_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Hashes a whole file. Returns 0 and sets *out, or -errno. */
int hash_file(const char *path, uint64_t *out);
/* Hashes from fd's current position to its end. Returns 0 or -errno. */
int hash_fd(int fd, uint64_t *out);
/* Hashes fd from its current position when the caller knows its size (an
 * fstat of a file nothing writes any more): a small file costs one read,
 * with no read-ahead hint. Returns 0, -EIO when fewer bytes came, or -errno. */
int hash_fd_size(int fd, uint64_t size, uint64_t *out);
uint64_t hash_bytes(const void *data, size_t len);
/* "avx2" or "sse2"/"scalar": which path is in use, for the log. */
const char *hash_impl_name(void);

/* A fingerprint: XXH3-64 over a sequence of typed, length-prefixed fields,
 * so that ("ab","c") and ("a","bc") differ. */
typedef struct fp_state {
	uint8_t opaque[640] __attribute__((aligned(64)));
} fp_state;

void fp_init(fp_state *s);
void fp_str(fp_state *s, const char *str); /* NULL hashes differently from "" */
void fp_u64(fp_state *s, uint64_t v);
void fp_bytes(fp_state *s, const void *p, size_t n);
uint64_t fp_final(fp_state *s);

/* 16 lowercase hex digits and a NUL. */
void hash_hex(uint64_t h, char out[17]);

/* Internal: one build of XXH3 behind a table, so that common/hash.c and
 * common/hash_avx2.c (compiled with -mavx2) agree on the signatures. A state
 * is the opaque storage of an fp_state. Only hash.c calls these. */
typedef struct hash_impl {
	const char *name;
	uint64_t (*bytes)(const void *data, size_t len);
	void (*reset)(void *state);
	void (*update)(void *state, const void *data, size_t len);
	uint64_t (*digest)(const void *state);
} hash_impl;
/* Executes AVX2 instructions: use only where the CPU has them. */
extern const hash_impl hash_impl_avx2;

/* Test hook: makes "avx2" or "portable" the path in use from now on, so that
 * tests can check both give the same values. Returns 0, or KILN_E_NOTFOUND
 * when the name is unknown or this CPU cannot run that path. */
int hash_force_impl(const char *name);

#endif
