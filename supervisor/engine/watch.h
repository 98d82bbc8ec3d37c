/* watch.h: inotify over every scan folder, for live mode (issue 6).
 *
 * Every folder below each scan folder gets a watch (new folders are joined as
 * they appear, and their files reported). Events are coalesced per path: a
 * path is handed out once it has been quiet for a short time (a save by
 * rename, or a burst of writes, becomes one change), or at once by a fence.
 * A queue overflow asks the owner for a full rescan. Changes carry only the
 * path: the owner stats it to learn what happened (created, changed, gone),
 * which is also right when events were lost or reordered. */
#ifndef KILN_WATCH_H
#define KILN_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "pattern.h"

typedef struct watch watch;

typedef struct watch_change {
	uint32_t folder; /* index into cfg->folders */
	char *rel;       /* relative to the folder; malloc'd, freed by watch_changes_free */
	bool dir;        /* a folder came or went: everything below it is in question */
} watch_change;

/* Watches every folder of cfg. excludes are compiled kiln.json excludes.
 * On success *out belongs to the caller (watch_close). */
int watch_open(const kiln_config *cfg, kpattern *const *excludes, size_t n_excludes, watch **out);
void watch_close(watch *w);

int watch_fd(const watch *w);

/* Reads whatever inotify has queued (non-blocking). Returns 0 or -errno. */
int watch_read(watch *w);

/* Takes the changes that have been quiet for the debounce time (all of them
 * when force is set). *out (OUT) is a malloc'd array the caller frees with
 * watch_changes_free; *rescan (OUT) is set when events were lost. Returns
 * the number of changes. */
size_t watch_take(watch *w, bool force, watch_change **out, bool *rescan);
void watch_changes_free(watch_change *c, size_t n);

/* Milliseconds until the oldest pending change is due, or -1 when none. */
int watch_next_due_ms(const watch *w);

/* Number of folders watched. */
size_t watch_count(const watch *w);

#endif
