/* restart.h: when a persistent builder that died may start again.
 *
 * One record per builder key. A builder that died without replying (a
 * crash, a broken frame, a failed start) is restarted for the next frame
 * after a gap that starts at RESTART_GAP_MIN_MS and doubles with every
 * further crash in a row, up to RESTART_GAP_MAX_MS, plus up to a quarter of
 * jitter. One successful reply resets the record. After
 * RESTART_GIVE_UP_AFTER crashes in a row the builder is given up: frames for
 * it are answered at once until a cool-down has passed, then it gets one
 * more try (which either heals it or gives it up again).
 *
 * The gap is small on purpose: a builder that crashes on one bad file out of
 * many loses RESTART_GAP_MIN_MS, not a batch; one that crashes on every
 * start is slowed down quickly and then given up instead of spinning.
 *
 * Pure logic on times passed in, so it is unit-tested without processes. */
#ifndef KILN_RESTART_H
#define KILN_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESTART_GAP_MIN_MS    50u
#define RESTART_GAP_MAX_MS    2000u
#define RESTART_GIVE_UP_AFTER 5u
#define RESTART_COOL_DOWN_MS  60000u

typedef enum restart_state {
	RESTART_OK = 0,   /* may start now */
	RESTART_BACKOFF,  /* crashed; the next start waits for its gap */
	RESTART_GIVEN_UP, /* crashed too often; frames are refused until the cool-down ends */
} restart_state;

typedef struct restart {
	restart_state state;
	uint32_t crashes;       /* in a row, without a successful reply */
	uint64_t not_before_ms; /* no new process before this time */
	uint64_t gap_ms;        /* the gap (or cool-down) behind not_before_ms */
	char last[256];         /* how the last crash went, for the sentences */
} restart;

void restart_init(restart *r);

/* Records a crash at now_ms. rnd is any random number (for the jitter),
 * cool_ms the cool-down once given up, how a sentence such as "killed by
 * signal 11 (Segmentation fault)". Returns the new state (BACKOFF or
 * GIVEN_UP). */
restart_state restart_crashed(restart *r, uint64_t now_ms, uint32_t rnd, uint64_t cool_ms, const char *how);

/* Records a successful reply. Returns how many crashes in a row it ends
 * (0: nothing changed). */
uint32_t restart_healthy(restart *r);

/* May a process start at now_ms? RESTART_OK: yes. RESTART_BACKOFF: wait
 * *wait_ms (OUT). RESTART_GIVEN_UP: answer the frame at once; the cool-down
 * ends in *wait_ms. */
restart_state restart_check(const restart *r, uint64_t now_ms, uint64_t *wait_ms);

/* The sentence for the current state, e.g. "builder given up after 5
 * crashes in a row (last: killed by signal 11 (Segmentation fault)); next
 * try in 60 s". */
void restart_describe(const restart *r, uint64_t now_ms, char *buf, size_t n);

/* "ok", "backoff", "given_up" */
const char *restart_state_name(restart_state s);

#endif
