/* runq.h: the run queue (SPEC section 3 "Order").
 *
 * Escalated jobs first, then critical ones, then higher priority, then first
 * come first served (the order of runq_push calls). A binary heap of small
 * records; the caller's job index travels in `job`. */
#ifndef KILN_RUNQ_H
#define KILN_RUNQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct runq_item {
	int64_t priority;
	uint64_t seq;     /* assigned by runq_push */
	uint32_t job;     /* caller's index (below 2^32) */
	bool escalated;
	bool critical;
} runq_item;

typedef struct runq {
	runq_item *heap;
	size_t n, cap;
	uint64_t next_seq;
} runq;

void runq_init(runq *s);
void runq_free(runq *s);
/* Queues a job. Returns 0 or -ENOMEM. */
int runq_push(runq *s, size_t job, bool escalated, bool critical, int64_t priority);
/* Takes the first job in order; returns false when empty. */
bool runq_pop(runq *s, runq_item *out);
/* Raises a queued job to escalated (no-op when it is not queued). Linear in
 * the queue size; escalation is rare. Returns true when found. */
bool runq_escalate(runq *s, size_t job);
size_t runq_count(const runq *s);
/* Number of queued critical jobs. */
size_t runq_critical_count(const runq *s);

#endif
