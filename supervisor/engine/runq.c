/* runq.c: a binary min-heap ordered by (escalated, critical, priority, seq). */
#include "engine/runq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void runq_init(runq *s)
{
	memset(s, 0, sizeof *s);
}

void runq_free(runq *s)
{
	free(s->heap);
	memset(s, 0, sizeof *s);
}

/* True when a must run before b. */
static bool before(const runq_item *a, const runq_item *b)
{
	if (a->escalated != b->escalated)
		return a->escalated;
	if (a->critical != b->critical)
		return a->critical;
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->seq < b->seq;
}

static void swap(runq_item *a, runq_item *b)
{
	runq_item t = *a;
	*a = *b;
	*b = t;
}

static void sift_up(runq *s, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&s->heap[i], &s->heap[p]))
			break;
		swap(&s->heap[i], &s->heap[p]);
		i = p;
	}
}

static void sift_down(runq *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n && before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->n && before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		swap(&s->heap[i], &s->heap[m]);
		i = m;
	}
}

int runq_push(runq *s, size_t job, bool escalated, bool critical, int64_t priority)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		runq_item *nh = realloc(s->heap, ncap * sizeof *nh);
		if (!nh)
			return -ENOMEM;
		s->heap = nh;
		s->cap = ncap;
	}
	runq_item *it = &s->heap[s->n];
	it->job = (uint32_t)job;
	it->escalated = escalated;
	it->critical = critical;
	it->priority = priority;
	it->seq = s->next_seq++;
	sift_up(s, s->n++);
	return 0;
}

bool runq_pop(runq *s, runq_item *out)
{
	if (s->n == 0)
		return false;
	*out = s->heap[0];
	s->heap[0] = s->heap[--s->n];
	if (s->n)
		sift_down(s, 0);
	return true;
}

bool runq_escalate(runq *s, size_t job)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->heap[i].job != job)
			continue;
		s->heap[i].escalated = true;
		sift_up(s, i);
		return true;
	}
	return false;
}

size_t runq_count(const runq *s)
{
	return s->n;
}

size_t runq_critical_count(const runq *s)
{
	size_t c = 0;
	for (size_t i = 0; i < s->n; i++)
		c += s->heap[i].critical;
	return c;
}
