/* host_restart_test: the restart policy of persistent builders
 * (builder-host/restart.c) on made-up times: gaps, jitter bounds, the probe
 * after too many crashes, giving up, the cool-down, and healing. */
#include <stdint.h>
#include <string.h>

#include "restart.h"
#include "test.h"

static void test_gaps(void)
{
	restart r;
	uint64_t w;
	restart_init(&r);
	CHECK_EQ_INT(restart_check(&r, 1000, &w), RESTART_OK);
	CHECK_EQ_INT(w, 0);

	/* No jitter (rnd 0): 50, 100, 200, 400 ms. */
	static const uint64_t gaps[] = {50, 100, 200, 400};
	uint64_t now = 1000;
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(restart_crashed(&r, now, 0, "killed by signal 11"), RESTART_BACKOFF);
		CHECK_EQ_INT(r.crashes, i + 1);
		CHECK_EQ_INT(restart_check(&r, now, &w), RESTART_BACKOFF);
		CHECK_EQ_INT(w, gaps[i]);
		CHECK_EQ_INT(restart_check(&r, now + gaps[i] - 1, &w), RESTART_BACKOFF);
		CHECK_EQ_INT(w, 1);
		CHECK_EQ_INT(restart_check(&r, now + gaps[i], &w), RESTART_OK);
		now += gaps[i] + 10;
	}
	char d[512];
	restart_init(&r);
	restart_crashed(&r, 0, 0, "exited with code 3 before replying");
	restart_crashed(&r, 0, 0, "exited with code 3 before replying");
	restart_describe(&r, 40, d, sizeof(d));
	CHECK_EQ_STR(
	    d, "crashed 2 times in a row (last: exited with code 3 before replying); next start in 60 ms");
}

static void test_jitter(void)
{
	/* Jitter adds at most a quarter of the gap, whatever the random
	 * number. */
	static const uint32_t rnds[] = {0, 1, 12, 13, 99, 0xffffffffu};
	for (size_t i = 0; i < sizeof(rnds) / sizeof(rnds[0]); i++) {
		restart r;
		uint64_t w;
		restart_init(&r);
		restart_crashed(&r, 0, rnds[i], "x");
		restart_check(&r, 0, &w);
		CHECK(w >= 50 && w <= 62);
		restart_crashed(&r, 0, rnds[i], "x");
		restart_check(&r, 0, &w);
		CHECK(w >= 100 && w <= 125);
	}
}

static void test_cap(void)
{
	/* The gap never exceeds RESTART_GAP_MAX_MS plus a quarter, however many
	 * crashes (a builder whose probes succeed keeps crashing on inputs). */
	restart r;
	uint64_t w;
	restart_init(&r);
	for (int i = 0; i < 40; i++)
		restart_crashed(&r, 0, 0xffffffffu, "x");
	CHECK_EQ_INT(r.crashes, 40);
	CHECK_EQ_INT(r.state, RESTART_PROBE);
	CHECK(r.gap_ms >= RESTART_GAP_MAX_MS && r.gap_ms <= RESTART_GAP_MAX_MS + RESTART_GAP_MAX_MS / 4);
	CHECK_EQ_INT(restart_check(&r, r.gap_ms, &w), RESTART_PROBE);
}

static void test_probe(void)
{
	restart r;
	uint64_t w;
	char d[512];
	restart_init(&r);
	for (uint32_t i = 1; i < RESTART_GIVE_UP_AFTER; i++)
		CHECK_EQ_INT(restart_crashed(&r, 100, 0, "killed by signal 11"), RESTART_BACKOFF);
	/* The fifth crash: the next start waits its gap (800 ms), then is a
	 * probe. */
	CHECK_EQ_INT(restart_crashed(&r, 1000, 0, "killed by signal 11 (Segmentation fault)"), RESTART_PROBE);
	CHECK_EQ_INT(restart_check(&r, 1000, &w), RESTART_BACKOFF);
	CHECK_EQ_INT(w, 800);
	CHECK_EQ_INT(restart_check(&r, 1800, &w), RESTART_PROBE);
	restart_describe(&r, 1000, d, sizeof(d));
	CHECK_EQ_STR(
	    d, "crashed 5 times in a row (last: killed by signal 11 (Segmentation fault)); next start in "
	       "800 ms, asked to describe itself first");

	/* The probe describes itself: the inputs were to blame. */
	CHECK_EQ_INT(restart_healthy(&r), 5);
	CHECK_EQ_INT(restart_check(&r, 1801, &w), RESTART_OK);
}

static void test_give_up(void)
{
	restart r;
	uint64_t w;
	char d[512];
	restart_init(&r);
	for (uint32_t i = 0; i < RESTART_GIVE_UP_AFTER; i++)
		restart_crashed(&r, 100, 0, "exited with code 1 before replying");
	/* The probe fails too: given up for the cool-down. */
	restart_probe_failed(&r, 1000, 60000, "killed by signal 11 (Segmentation fault)");
	CHECK_EQ_INT(r.state, RESTART_GIVEN_UP);
	CHECK_EQ_INT(restart_check(&r, 1000, &w), RESTART_GIVEN_UP);
	CHECK_EQ_INT(w, 60000);
	restart_describe(&r, 1000, d, sizeof(d));
	CHECK_EQ_STR(
	    d, "builder given up after 5 crashes in a row and a failed describe (last: killed by signal 11 "
	       "(Segmentation fault)); next try in 60 s");
	restart_describe(&r, 31500, d, sizeof(d));
	CHECK(strstr(d, "next try in 30 s") != NULL);
	CHECK_EQ_INT(restart_check(&r, 60999, &w), RESTART_GIVEN_UP);
	CHECK_EQ_INT(w, 1);
	/* The cool-down is over: one more try, as a probe. */
	CHECK_EQ_INT(restart_check(&r, 61000, &w), RESTART_PROBE);
	CHECK_EQ_INT(w, 0);
	/* It fails again: given up again at once, with a new cool-down. */
	restart_probe_failed(&r, 61100, 60000, "exited with code 1 before replying");
	CHECK_EQ_INT(restart_check(&r, 61100, &w), RESTART_GIVEN_UP);
	CHECK_EQ_INT(w, 60000);
	restart_describe(&r, 61100, d, sizeof(d));
	CHECK(strstr(d, "after 5 crashes in a row and a failed describe (last: exited with code 1") != NULL);
	/* A good reply heals it and says how many crashes that ended. */
	CHECK_EQ_INT(restart_healthy(&r), 5);
	CHECK_EQ_INT(r.state, RESTART_OK);
	CHECK(!r.probe_failed);
	CHECK_EQ_INT(restart_check(&r, 61101, &w), RESTART_OK);
	CHECK_EQ_INT(restart_healthy(&r), 0);
}

static void test_alternating(void)
{
	/* One bad file among many: a crash, a good reply, a crash... never
	 * grows the gap and never probes. */
	restart r;
	uint64_t w;
	restart_init(&r);
	for (int i = 0; i < 100; i++) {
		CHECK_EQ_INT(restart_crashed(&r, 0, 0, "x"), RESTART_BACKOFF);
		restart_check(&r, 0, &w);
		if (w != 50)
			CHECK_EQ_INT(w, 50);
		CHECK_EQ_INT(restart_healthy(&r), 1);
	}
	CHECK_EQ_STR(restart_state_name(RESTART_OK), "ok");
	CHECK_EQ_STR(restart_state_name(RESTART_BACKOFF), "backoff");
	CHECK_EQ_STR(restart_state_name(RESTART_PROBE), "probe");
	CHECK_EQ_STR(restart_state_name(RESTART_GIVEN_UP), "given_up");
	/* An empty reason still reads as a sentence. */
	char d[256];
	restart_crashed(&r, 0, 0, "");
	restart_describe(&r, 0, d, sizeof(d));
	CHECK_EQ_STR(d, "crashed 1 time in a row (last: unknown); next start in 50 ms");
}

int main(void)
{
	test_gaps();
	test_jitter();
	test_cap();
	test_probe();
	test_give_up();
	test_alternating();
	TEST_DONE();
}
