/* runq_test.c: the run queue's order and the hash map under it all. */
#include "hmap.h"
#include "engine/runq.h"
#include "test.h"

#include <stdio.h>

static void test_order(void)
{
	runq s;
	runq_init(&s);
	/* job, escalated, critical, priority */
	runq_push(&s, 0, false, false, 0);
	runq_push(&s, 1, false, false, 5);
	runq_push(&s, 2, false, true, -3);
	runq_push(&s, 3, true, false, -10);
	runq_push(&s, 4, false, false, 5);
	runq_push(&s, 5, false, true, 7);
	runq_push(&s, 6, false, false, 0);
	size_t want[] = {3, 5, 2, 1, 4, 0, 6};
	CHECK_EQ_INT(runq_count(&s), 7);
	CHECK_EQ_INT(runq_critical_count(&s), 2);
	for (size_t i = 0; i < 7; i++) {
		runq_item it;
		CHECK(runq_pop(&s, &it));
		CHECK_EQ_INT(it.job, want[i]);
	}
	runq_item it;
	CHECK(!runq_pop(&s, &it));
	runq_free(&s);
}

static void test_fifo_many(void)
{
	runq s;
	runq_init(&s);
	for (size_t i = 0; i < 5000; i++)
		runq_push(&s, i, false, false, 0);
	CHECK(runq_escalate(&s, 4321));
	CHECK(!runq_escalate(&s, 99999));
	runq_item it;
	CHECK(runq_pop(&s, &it));
	CHECK_EQ_INT(it.job, 4321);
	size_t prev = 0;
	int in_order = 1;
	for (size_t i = 0; i < 4999; i++) {
		runq_pop(&s, &it);
		if (i > 0 && it.job <= prev)
			in_order = 0;
		prev = it.job;
	}
	CHECK(in_order);
	CHECK_EQ_INT(runq_count(&s), 0);
	runq_free(&s);
}

static void test_hmap(void)
{
	hmap m;
	hmap_init(&m);
	static char keys[3000][16];
	for (int i = 0; i < 3000; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		CHECK_EQ_INT(hmap_put(&m, keys[i], (size_t)i), 0);
		CHECK_EQ_INT(hmap_put_int(&m, (int64_t)i * 7919, (size_t)i + 1), 0);
	}
	size_t v = 0;
	CHECK(hmap_get(&m, "k2999", &v));
	CHECK_EQ_INT(v, 2999);
	CHECK(hmap_get_int(&m, 7919 * 10, &v));
	CHECK_EQ_INT(v, 11);
	CHECK(!hmap_get(&m, "nope", &v));
	for (int i = 0; i < 3000; i += 2)
		CHECK(hmap_del(&m, keys[i]));
	CHECK(!hmap_get(&m, "k0", &v));
	CHECK(hmap_get(&m, "k1", &v));
	CHECK_EQ_INT(m.n, 4500);
	CHECK_EQ_INT(hmap_put(&m, keys[0], 42), 0);
	CHECK(hmap_get(&m, "k0", &v));
	CHECK_EQ_INT(v, 42);
	hmap_free(&m);
}

int main(void)
{
	test_order();
	test_fifo_many();
	test_hmap();
	TEST_DONE();
}
