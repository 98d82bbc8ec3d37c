/* sched.h: the run queue (SPEC section 3 "Order").
 *
 * Escalated jobs first, then critical ones, then higher priority, then first
 * come first served (the order of sched_push calls). A binary heap of small
 * records; the caller's job index travels in `job`. */
#ifndef KILN_SCHED_H
#define KILN_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sched_item {
	size_t job;       /* caller's index */
	bool escalated;
	bool critical;
	int64_t priority;
	uint64_t seq;     /* assigned by sched_push */
} sched_item;

typedef struct sched {
	sched_item *heap;
	size_t n, cap;
	uint64_t next_seq;
} sched;

void sched_init(sched *s);
void sched_free(sched *s);
/* Queues a job. Returns 0 or -ENOMEM. */
int sched_push(sched *s, size_t job, bool escalated, bool critical, int64_t priority);
/* Takes the first job in order; returns false when empty. */
bool sched_pop(sched *s, sched_item *out);
/* Raises a queued job to escalated (no-op when it is not queued). Linear in
 * the queue size; escalation is rare. Returns true when found. */
bool sched_escalate(sched *s, size_t job);
size_t sched_count(const sched *s);
/* Number of queued critical jobs. */
size_t sched_critical_count(const sched *s);

#endif
