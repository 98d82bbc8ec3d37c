/* arena_test.c: the arena's packing and alignment, and hash map sizing:
 * the two things the supervisor's memory per source depends on. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "hmap.h"
#include "test.h"

static void test_arena(void)
{
	arena *a = arena_new();
	CHECK(a != NULL);
	/* Strings are packed byte by byte. */
	char *s1 = arena_strdup(a, "d000/f000000.png");
	char *s2 = arena_strdup(a, "abc");
	char *s3 = arena_printf(a, "%s/%d", "pc", 7);
	CHECK(s1 && s2 && s3);
	CHECK(s2 == s1 + strlen(s1) + 1);
	CHECK(s3 == s2 + strlen(s2) + 1);
	CHECK_EQ_STR(s3, "pc/7");
	/* Typed memory is still aligned for any type after odd strings. */
	void *p = arena_alloc(a, 24);
	CHECK(p != NULL);
	CHECK((uintptr_t)p % _Alignof(max_align_t) == 0);
	unsigned char *z = arena_alloc_bytes(a, 5);
	CHECK(z && z[0] == 0 && z[4] == 0);
	/* Many strings, and one larger than a block, all intact. */
	char *big = malloc(40000);
	memset(big, 'x', 39999);
	big[39999] = 0;
	char *bc = arena_strdup(a, big);
	CHECK(bc && strlen(bc) == 39999);
	char *keep[2000];
	for (int i = 0; i < 2000; i++)
		keep[i] = arena_printf(a, "file%05d.tga", i);
	int bad = 0;
	for (int i = 0; i < 2000; i++) {
		char want[32];
		snprintf(want, sizeof want, "file%05d.tga", i);
		bad += strcmp(keep[i], want) != 0;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_STR(s1, "d000/f000000.png");
	free(big);
	arena_free(a);
}

static void test_hmap_sizing(void)
{
	/* 100,000 keys fit the 131,072 slots reserved for them (80% load),
	 * and inserting them does not grow the map. */
	hmap m;
	hmap_init(&m);
	CHECK_EQ_INT(hmap_reserve(&m, 100000), 0);
	CHECK_EQ_INT(m.cap, 131072);
	CHECK_EQ_INT(sizeof(hmap_slot), 16);
	arena *a = arena_new();
	for (int i = 0; i < 100000; i++)
		hmap_put(&m, arena_printf(a, "d%03d/f%06d.png", i % 100, i), (size_t)i);
	CHECK_EQ_INT(m.cap, 131072);
	CHECK_EQ_INT(m.n, 100000);
	int bad = 0;
	char k[64];
	size_t v;
	for (int i = 0; i < 100000; i++) {
		snprintf(k, sizeof k, "d%03d/f%06d.png", i % 100, i);
		bad += !hmap_get(&m, k, &v) || v != (size_t)i;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(!hmap_get(&m, "d000/absent.png", &v));
	/* Integer keys share the map with string keys. */
	CHECK_EQ_INT(hmap_put_int(&m, -5, 9), 0);
	CHECK(hmap_get_int(&m, -5, &v) && v == 9);
	hmap_free(&m);
	arena_free(a);
}

static void test_hmap_fold(void)
{
	hmap m;
	hmap_init_fold(&m);
	size_t v = 0;
	CHECK_EQ_INT(hmap_put(&m, "Textures/Hero_Diffuse.PNG", 1), 0);
	CHECK(hmap_get(&m, "textures/hero_diffuse.png", &v) && v == 1);
	CHECK(hmap_get(&m, "TEXTURES/HERO_DIFFUSE.PNG", &v) && v == 1);
	CHECK(!hmap_get(&m, "textures/hero_diffuse.pn", &v));
	CHECK(!hmap_get(&m, "textures/hero_diffuse.png2", &v));
	/* Putting the same key in another case replaces the value. */
	CHECK_EQ_INT(hmap_put(&m, "textures/HERO_diffuse.png", 2), 0);
	CHECK_EQ_INT(m.n, 1);
	CHECK(hmap_get(&m, "Textures/Hero_Diffuse.PNG", &v) && v == 2);
	/* Keys longer than one hashing piece (256 bytes) fold the same. */
	char a[700], b[700];
	for (int i = 0; i < 699; i++) {
		a[i] = (char)('A' + i % 26);
		b[i] = (char)('a' + i % 26);
	}
	a[699] = b[699] = 0;
	CHECK_EQ_INT(hmap_put(&m, a, 3), 0);
	CHECK(hmap_get(&m, b, &v) && v == 3);
	b[698] = '!';
	CHECK(!hmap_get(&m, b, &v));
	CHECK(hmap_del(&m, "TEXTURES/hero_DIFFUSE.png"));
	CHECK(!hmap_get(&m, "textures/hero_diffuse.png", &v));
	/* The mode survives hmap_free, so a map can be emptied and reused. */
	hmap_free(&m);
	CHECK(m.fold);
	CHECK_EQ_INT(hmap_put(&m, "A.png", 4), 0);
	CHECK(hmap_get(&m, "a.PNG", &v) && v == 4);
	hmap_free(&m);
	/* A plain map stays case-sensitive. */
	hmap p;
	hmap_init(&p);
	CHECK_EQ_INT(hmap_put(&p, "A.png", 5), 0);
	CHECK(!hmap_get(&p, "a.png", &v));
	hmap_free(&p);
}

int main(void)
{
	test_arena();
	test_hmap_sizing();
	test_hmap_fold();
	TEST_DONE();
}
