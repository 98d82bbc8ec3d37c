/* subid_test.c: the sub_id scheme: the documented bytes, stability, and
 * collision handling. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "subid.h"
#include "test.h"

/* Values computed outside kiln (Python: xxhash.xxh3_64_intdigest over the
 * bytes subid.h documents, & 0xffffffff), so a change of scheme, which
 * would renumber every product of every project, cannot pass unnoticed. */
static void test_documented_values(void)
{
	mesh_subid_key k = {"Body/Arm", "ArmMesh", 0};
	CHECK_EQ_INT(mesh_subid_hash(&k, 0), 0x9a89f4bbu);
	CHECK_EQ_INT(mesh_subid_hash(&k, 1), 0xb0e372aeu);
	mesh_subid_key e = {"", "", 0};
	CHECK_EQ_INT(mesh_subid_hash(&e, 0), 0xd58e25eau);
	mesh_subid_key n = {NULL, NULL, 0}; /* NULL is "" */
	CHECK_EQ_INT(mesh_subid_hash(&n, 0), 0xd58e25eau);
}

static void test_fields_matter(void)
{
	mesh_subid_key a = {"Body/Arm", "ArmMesh", 0};
	mesh_subid_key b = {"Body/Arm", "ArmMesh", 1};
	mesh_subid_key c = {"Body/Leg", "ArmMesh", 0};
	mesh_subid_key d = {"Body/Arm", "LegMesh", 0};
	/* The separator keeps ("ab", "c") and ("a", "bc") apart. */
	mesh_subid_key e = {"ab", "c", 0}, f = {"a", "bc", 0};
	uint32_t ha = mesh_subid_hash(&a, 0);
	CHECK(ha != mesh_subid_hash(&b, 0));
	CHECK(ha != mesh_subid_hash(&c, 0));
	CHECK(ha != mesh_subid_hash(&d, 0));
	CHECK(mesh_subid_hash(&e, 0) != mesh_subid_hash(&f, 0));
	CHECK_EQ_INT(ha, mesh_subid_hash(&a, 0));
}

/* Identical identities (two sibling nodes of the same name holding meshes
 * of the same name) still get distinct ids, the same ones every time, and
 * the first keeps the plain hash. */
static void test_collisions(void)
{
	mesh_subid_key keys[4] = {
	    {"Crate", "Box", 0},
	    {"Crate", "Box", 0},
	    {"Crate", "Box", 0},
	    {"Lid", "Box", 0},
	};
	uint32_t ids[4], again[4];
	CHECK_EQ_INT(mesh_subid_assign(keys, 4, ids), 0);
	CHECK_EQ_INT(ids[0], mesh_subid_hash(&keys[0], 0));
	CHECK_EQ_INT(ids[1], mesh_subid_hash(&keys[1], 1));
	CHECK_EQ_INT(ids[2], mesh_subid_hash(&keys[2], 2));
	CHECK_EQ_INT(ids[3], mesh_subid_hash(&keys[3], 0));
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			CHECK(ids[i] != ids[j]);
	CHECK_EQ_INT(mesh_subid_assign(keys, 4, again), 0);
	CHECK(memcmp(ids, again, sizeof ids) == 0);
}

/* Many meshes: all distinct and non-zero; adding a mesh at the end leaves
 * the earlier ids alone. */
static void test_many(void)
{
	enum { N = 5000 };
	static mesh_subid_key keys[N + 1];
	static char names[N + 1][32];
	static uint32_t ids[N + 1], more[N + 1];
	for (int i = 0; i <= N; i++) {
		snprintf(names[i], sizeof names[i], "part%d", i % 50);
		keys[i] = (mesh_subid_key){"Root/Group", names[i], (uint32_t)(i / 50)};
	}
	CHECK_EQ_INT(mesh_subid_assign(keys, N, ids), 0);
	CHECK_EQ_INT(mesh_subid_assign(keys, N + 1, more), 0);
	int zero = 0, dup = 0;
	for (int i = 0; i < N; i++) {
		zero += ids[i] == 0;
		dup += ids[i] != more[i];
	}
	CHECK_EQ_INT(zero, 0);
	CHECK_EQ_INT(dup, 0);
	/* distinctness through sorting */
	static uint32_t s[N + 1];
	memcpy(s, more, sizeof s);
	for (int i = 1; i <= N; i++) { /* insertion sort is fine for 5k */
		uint32_t v = s[i];
		int j = i - 1;
		while (j >= 0 && s[j] > v) {
			s[j + 1] = s[j];
			j--;
		}
		s[j + 1] = v;
	}
	int same = 0;
	for (int i = 1; i <= N; i++)
		same += s[i] == s[i - 1];
	CHECK_EQ_INT(same, 0);
}

int main(void)
{
	test_documented_values();
	test_fields_matter();
	test_collisions();
	test_many();
	TEST_DONE();
}
