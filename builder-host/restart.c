/* restart.c: the restart policy of persistent builders (see restart.h). */
#include "restart.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void restart_init(restart *r)
{
	memset(r, 0, sizeof(*r));
}

static uint64_t gap_for(uint32_t crashes, uint32_t rnd)
{
	uint64_t g = RESTART_GAP_MIN_MS;
	for (uint32_t i = 1; i < crashes && g < RESTART_GAP_MAX_MS; i++)
		g *= 2;
	if (g > RESTART_GAP_MAX_MS)
		g = RESTART_GAP_MAX_MS;
	/* Jitter, so that the hosts of a pool that all lost the same builder
	 * do not restart it in step. */
	return g + rnd % (g / 4 + 1);
}

static void set_last(restart *r, const char *how)
{
	snprintf(r->last, sizeof(r->last), "%s", how && how[0] ? how : "unknown");
}

restart_state restart_crashed(restart *r, uint64_t now_ms, uint32_t rnd, const char *how)
{
	if (r->crashes < UINT32_MAX)
		r->crashes++;
	set_last(r, how);
	r->probe_failed = false;
	r->state = r->crashes >= RESTART_GIVE_UP_AFTER ? RESTART_PROBE : RESTART_BACKOFF;
	r->gap_ms = gap_for(r->crashes, rnd);
	r->not_before_ms = now_ms + r->gap_ms;
	return r->state;
}

void restart_probe_failed(restart *r, uint64_t now_ms, uint64_t cool_ms, const char *how)
{
	set_last(r, how);
	r->probe_failed = true;
	r->state = RESTART_GIVEN_UP;
	r->gap_ms = cool_ms;
	r->not_before_ms = now_ms + cool_ms;
}

uint32_t restart_healthy(restart *r)
{
	uint32_t had = r->crashes;
	restart_init(r);
	return had;
}

restart_state restart_check(const restart *r, uint64_t now_ms, uint64_t *wait_ms)
{
	*wait_ms = 0;
	if (r->state == RESTART_OK)
		return RESTART_OK;
	if (now_ms >= r->not_before_ms)
		return r->state == RESTART_BACKOFF ? RESTART_OK : RESTART_PROBE;
	*wait_ms = r->not_before_ms - now_ms;
	/* A probe waits for its gap like any restart. */
	return r->state == RESTART_PROBE ? RESTART_BACKOFF : r->state;
}

static void fmt_wait(char *buf, size_t n, uint64_t ms)
{
	if (ms >= 10000)
		snprintf(buf, n, "%" PRIu64 " s", (ms + 999) / 1000);
	else
		snprintf(buf, n, "%" PRIu64 " ms", ms);
}

void restart_describe(const restart *r, uint64_t now_ms, char *buf, size_t n)
{
	char w[32];
	uint64_t left = r->not_before_ms > now_ms ? r->not_before_ms - now_ms : 0;
	fmt_wait(w, sizeof(w), left);
	switch (r->state) {
	case RESTART_OK:
		snprintf(buf, n, "healthy");
		break;
	case RESTART_BACKOFF:
		snprintf(buf, n, "crashed %" PRIu32 " time%s in a row (last: %s); next start in %s",
		         r->crashes, r->crashes == 1 ? "" : "s", r->last, w);
		break;
	case RESTART_PROBE:
		snprintf(buf, n,
		         "crashed %" PRIu32 " times in a row (last: %s); next start in %s, asked to describe "
		         "itself first",
		         r->crashes, r->last, w);
		break;
	case RESTART_GIVEN_UP:
		snprintf(buf, n,
		         "builder given up after %" PRIu32 " crash%s in a row%s (last: %s); next try in %s",
		         r->crashes, r->crashes == 1 ? "" : "es",
		         r->probe_failed ? " and a failed describe" : "", r->last, w);
		break;
	}
}

const char *restart_state_name(restart_state s)
{
	switch (s) {
	case RESTART_OK:
		return "ok";
	case RESTART_BACKOFF:
		return "backoff";
	case RESTART_PROBE:
		return "probe";
	case RESTART_GIVEN_UP:
		return "given_up";
	}
	return "ok";
}
