/* restart.h: when a persistent builder that died may start again.
 *
 * One record per builder key. A builder that died without replying (a
 * crash, a broken frame, a failed start) is restarted for the next frame
 * after a gap that starts at RESTART_GAP_MIN_MS and doubles with every
 * further crash in a row, up to RESTART_GAP_MAX_MS, plus up to a quarter of
 * jitter. One successful reply resets the record.
 *
 * After RESTART_GIVE_UP_AFTER crashes in a row the next start is a probe: a
 * fresh process is asked to describe itself before it gets the frame. Five
 * bad files in a row crash a good builder just as surely as a broken builder
 * crashes on five good files; describe depends on no file, so it tells the
 * two apart. A builder that describes itself is fine (its inputs were not),
 * the record is reset and the same process serves the frame. One that
 * cannot is given up: frames for it are answered at once until a cool-down
 * has passed, and then the next start is a probe again.
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
	RESTART_PROBE,    /* crashed too often; the next start (after its gap) describes first */
	RESTART_GIVEN_UP, /* failed the probe; frames are refused until the cool-down ends */
} restart_state;

typedef struct restart {
	restart_state state;
	uint32_t crashes;       /* in a row, without a successful reply */
	uint64_t not_before_ms; /* no new process before this time */
	uint64_t gap_ms;        /* the gap (or cool-down) behind not_before_ms */
	bool probe_failed;      /* given up because a probe failed (not a count) */
	char last[256];         /* how the last crash went, for the sentences */
} restart;

void restart_init(restart *r);

/* Records a crash at now_ms. rnd is any random number (for the jitter),
 * how a sentence such as "killed by signal 11 (Segmentation fault)".
 * Returns the new state (BACKOFF or PROBE). */
restart_state restart_crashed(restart *r, uint64_t now_ms, uint32_t rnd, const char *how);

/* Records a failed probe (a crash, a broken or late describe reply, a
 * failed start) at now_ms: the builder is given up for cool_ms. */
void restart_probe_failed(restart *r, uint64_t now_ms, uint64_t cool_ms, const char *how);

/* Records a successful reply (a probe's included). Returns how many crashes
 * in a row it ends (0: nothing changed). */
uint32_t restart_healthy(restart *r);

/* May a process start at now_ms? RESTART_OK: yes. RESTART_PROBE: yes, with
 * a describe probe before the frame. RESTART_BACKOFF: wait *wait_ms (OUT).
 * RESTART_GIVEN_UP: answer the frame at once; the cool-down ends in
 * *wait_ms. */
restart_state restart_check(const restart *r, uint64_t now_ms, uint64_t *wait_ms);

/* The sentence for the current state, e.g. "builder given up after 5
 * crashes in a row and a failed describe (last: killed by signal 11
 * (Segmentation fault)); next try in 60 s". */
void restart_describe(const restart *r, uint64_t now_ms, char *buf, size_t n);

/* "ok", "backoff", "probe", "given_up" */
const char *restart_state_name(restart_state s);

#endif
