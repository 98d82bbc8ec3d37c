/* scan.h: walking the scan folders (SPEC section 2).
 *
 * Produces every regular file under the scan folders that no exclude
 * matches, with its size and modification time, after scan-folder order
 * overrides are applied: where the same relative path (compared
 * case-insensitively) exists in two folders, the lower order wins and the
 * other is dropped. Symbolic links are followed only when they resolve to a
 * regular file inside the same scan folder; links to folders are not
 * followed (they would loop or duplicate the tree). The cache folder is
 * never scanned, even when it lies inside a scan folder. */
#ifndef KILN_SCAN_H
#define KILN_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "config/config.h"
#include "pattern.h"

typedef struct scan_file {
	uint32_t folder;  /* index into cfg->folders */
	const char *rel;  /* relative to the scan folder, forward slashes */
	const char *key;  /* rel lowercased: the identity of the source */
	uint64_t size;
	int64_t mtime_ns;
} scan_file;

typedef struct scan_result {
	scan_file *files; /* sorted by key */
	size_t n, cap;
	size_t n_overridden; /* files dropped because a lower-order folder won */
	size_t n_excluded;
	arena *strings;   /* holds rel and key; freed by scan_result_free */
} scan_result;

/* Walks every folder of cfg. excludes are the compiled cfg->excludes (may
 * be NULL when there are none). On success *out is filled and belongs to the
 * caller (scan_result_free). A folder that cannot be read is logged and
 * skipped (its files are then missing, which reads as deleted only when the
 * folder itself is gone). Returns 0 or -errno / -ENOMEM. */
int scan_run(const kiln_config *cfg, kpattern *const *excludes, size_t n_excludes, scan_result *out);

/* Binary search by key; returns the index or -1. */
long scan_find(const scan_result *r, const char *key);

void scan_result_free(scan_result *r);

#endif
