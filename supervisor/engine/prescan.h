/* prescan.h: the disk half of a batch's start, on a thread of its own.
 *
 * A batch with nothing to do spends its time in two independent halves:
 * reading the database into memory, and walking the disk (the scan folders,
 * and the cache for the products that should be in it). prescan_start runs
 * the walk on a second thread while the caller reads the database, and
 * prescan_join hands over what the walk found.
 *
 * While the thread runs it reads only the config and the compiled excludes,
 * which the caller must leave alone until prescan_join (the engine does not
 * touch them while it loads the database), and writes only its own memory.
 * The caller must not fork between start and join either: a child forked
 * while the thread holds a lock inside libc could deadlock before exec.
 *
 * The cache listing answers "is this product file there?" for every
 * product at once: one readdir walk of Cache/<platform>/ per platform and of
 * Cache/intermediate/, instead of one stat per product path. It holds the
 * 64-bit XXH3 of each "dir/relative path", sorted, so 100,000 products cost
 * 800 KB; a false "present" needs two of those paths to collide in 64 bits. */
#ifndef KILN_PRESCAN_H
#define KILN_PRESCAN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "pattern.h"
#include "engine/scan.h"

typedef struct cache_listing {
	uint64_t *h; /* sorted hashes of "dir/rel"; owned, cache_listing_free */
	size_t n, cap;
	/* The top folders that were listed ("pc", "intermediate", ...): a
	 * product under any other is not known to the listing. The array is
	 * owned; its strings point into the config or are static. */
	const char **dirs;
	size_t n_dirs;
} cache_listing;

/* Lists every file (any type but a folder) under cache/<dir>/ for each of
 * the config's platforms and "intermediate". A missing folder lists
 * nothing. Returns 0 or -ENOMEM; *out belongs to the caller. */
int cache_list(const kiln_config *cfg, cache_listing *out);

/* 1 when dir/rel was there, 0 when not, -1 when dir was not listed (ask
 * the disk). */
int cache_listing_has(const cache_listing *l, const char *dir, const char *rel);

void cache_listing_free(cache_listing *l);

typedef struct prescan {
	const kiln_config *cfg;
	kpattern *const *excludes;
	size_t n_excludes;
	pthread_t thread;
	bool started, joined;
	/* Results, valid after prescan_join; the caller takes them over (or
	 * prescan_free frees what is left). */
	int scan_rc;
	scan_result sr;
	bool sr_taken; /* the engine took sr over (zeroed here) */
	int list_rc;
	cache_listing cl;
} prescan;

/* Starts the walk. Returns 0, or -errno when no thread could be made (the
 * caller then does the same work itself). */
int prescan_start(prescan *p, const kiln_config *cfg, kpattern *const *excludes, size_t n_excludes);

/* Waits for the walk to finish. Safe to call twice, or on a prescan that
 * never started (then it does nothing). */
void prescan_join(prescan *p);

/* Joins, then frees whatever results were not taken. */
void prescan_free(prescan *p);

#endif
