/* process_test.c: whole jobs through mesh_process_isolated on small models
 * written here: products and their sub_ids, the sidecar cases, broken
 * files, and a crashing or hanging import (the KILN_MESH_TEST_FAULT knob).
 * Lines, points and scene products have tests of their own
 * (primitives_test.c, scene_test.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "jobs.h"
#include "kerr.h"
#include "kmesh_read.h"
#include "scene.h"

/* Reads the header of product file of the job TAG: layout and counts; 0
 * when it is a well-formed .kmesh. */
static int product_header(const char *tag, const char *file, unsigned *layout, unsigned *vcount,
                          unsigned *icount)
{
	char p[1024];
	rd r;
	int rc = rd_load(job_product(tag, file, p, sizeof p), &r);
	*layout = r.layout;
	*vcount = r.vcount;
	*icount = r.icount;
	rd_free(&r);
	return rc;
}

/* The normal of a product's first vertex (layout position|normal...). */
static int first_normal(const char *tag, const char *file, float n[3])
{
	char p[1024];
	rd r;
	int rc = rd_load(job_product(tag, file, p, sizeof p), &r);
	if (rc == 0 && (!(r.layout & MESH_ATTR_NORMAL) || r.vcount == 0))
		rc = -9;
	for (int i = 0; rc == 0 && i < 3; i++)
		n[i] = rd_float(&r, 0, 12 + 4 * (uint32_t)i);
	rd_free(&r);
	return rc;
}

/* Two boxes as separate objects, without normals or UVs; the second has a
 * material whose diffuse map lives in a sibling folder. */
static const char two_boxes[] = "mtllib boxes.mtl\n"
                                "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1\n"
                                "o Crate\nusemtl plain\n"
                                "f 1 2 3 4\nf 5 8 7 6\nf 1 5 6 2\nf 2 6 7 3\nf 3 7 8 4\nf 5 1 4 8\n"
                                "o Lid\nusemtl wood\n"
                                "f 1 2 3\nf 1 3 4\n";
static const char boxes_mtl[] = "newmtl plain\nKd 1 1 1\nnewmtl wood\nmap_Kd ../textures/wood.png\n";

static void test_product_path(void)
{
	char p[256];
	CHECK_EQ_INT(mesh_product_path("props/crate.fbx", "Crate Lid", 0xabc, p, sizeof p), 0);
	CHECK_EQ_STR(p, "props/crate/Crate_Lid_00000abc.kmesh");
	CHECK_EQ_INT(mesh_product_path("box.obj", "", 0x12345678, p, sizeof p), 0);
	CHECK_EQ_STR(p, "box/mesh_12345678.kmesh");
	CHECK_EQ_INT(mesh_product_path("a.b/m.tar.glb", "../x/é", 1, p, sizeof p), 0);
	CHECK_EQ_STR(p, "a.b/m.tar/_._x____00000001.kmesh");
	CHECK_EQ_INT(mesh_product_path("noext", "n", 2, p, sizeof p), 0);
	CHECK_EQ_STR(p, "noext/n_00000002.kmesh");
	char longname[200];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	CHECK_EQ_INT(mesh_product_path("m.obj", longname, 3, p, sizeof p), 0);
	CHECK_EQ_INT(strlen(p), strlen("m/") + 64 + strlen("_00000003.kmesh"));
	CHECK_EQ_INT(mesh_product_path("m.obj", "n", 3, p, 8), KILN_E_TOOBIG);
}

static void test_two_boxes(void)
{
	arena *a = arena_new();
	msg_process_job_resp r1, r2;
	job_write("models/boxes.obj", two_boxes);
	job_write("models/boxes.mtl", boxes_mtl);
	/* Two meshes, then the scene product. */
	CHECK_EQ_INT(job_run("models/boxes.obj", "1", a, &r1, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r1.n_products, 3);
	CHECK(strstr(job_log, "W: ") == NULL && strstr(job_log, "E: ") == NULL);
	CHECK_EQ_INT(job_run("models/boxes.obj", "2", a, &r2, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r2.n_products, 3);
	if (r1.n_products == 3 && r2.n_products == 3) {
		CHECK_EQ_STR(r1.products[2].asset_type, "scene");
		CHECK_EQ_INT(r1.products[2].sub_id, MESH_SCENE_SUB_ID);
		CHECK_EQ_STR(r1.products[2].file, "models/boxes/boxes.obj.kscene");
		CHECK(r1.products[0].sub_id != r1.products[1].sub_id);
		for (int i = 0; i < 2; i++) {
			CHECK_EQ_INT(r1.products[i].sub_id, r2.products[i].sub_id);
			CHECK_EQ_STR(r1.products[i].file, r2.products[i].file);
			CHECK_EQ_STR(r1.products[i].asset_type, "mesh");
			CHECK(strncmp(r1.products[i].file, "models/boxes/", 13) == 0);
		}
		unsigned layout, vc, ic;
		CHECK_EQ_INT(product_header("1", r1.products[0].file, &layout, &vc, &ic), 0);
		/* Normals are generated (auto), smooth up to 175 degrees as
		 * assimp does by default, so each corner keeps one vertex. */
		CHECK_EQ_INT(layout, MESH_ATTR_POSITION | MESH_ATTR_NORMAL);
		CHECK_EQ_INT(ic, 36);
		CHECK_EQ_INT(vc, 8);
		CHECK_EQ_INT(r1.products[0].n_path_deps, 0);
		CHECK_EQ_INT(product_header("1", r1.products[1].file, &layout, &vc, &ic), 0);
		CHECK_EQ_INT(ic, 6);
		CHECK_EQ_INT(vc, 4);
		CHECK_EQ_INT(r1.products[1].n_path_deps, 1);
		if (r1.products[1].n_path_deps == 1) {
			CHECK_EQ_STR(r1.products[1].path_deps[0].path, "textures/wood.png");
			CHECK(r1.products[1].path_deps[0].is_source);
		}
	}
	arena_free(a);
}

static void test_sidecars(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("s/custom.obj", two_boxes);
	job_write("s/custom.obj.assetinfo", "{\"normals\": \"custom\"}");
	CHECK_EQ_INT(job_run("s/custom.obj", "custom", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 2);
	CHECK(strstr(job_log, "W: mesh \"Crate\" has no normals") != NULL);
	CHECK(strstr(job_log, "E: ") == NULL);

	job_write("s/tangents.obj", two_boxes);
	job_write("s/tangents.obj.assetinfo", "{\"tangents\": true}");
	CHECK_EQ_INT(job_run("s/tangents.obj", "tangents", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 2);
	CHECK(strstr(job_log, "E: mesh \"Lid\" has no UVs, so tangents cannot be computed") != NULL);
	unsigned layout = 0, vc, ic;
	if (job_count(&r, "mesh") == 2)
		CHECK_EQ_INT(product_header("tangents", r.products[1].file, &layout, &vc, &ic), 0);
	CHECK_EQ_INT(layout & MESH_ATTR_TANGENT, 0);

	/* With UVs the tangents are there. */
	job_write("s/uv.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nf 1/1 2/2 3/3\n");
	job_write("s/uv.obj.assetinfo", "{\"tangents\": true, \"normals\": \"generate\"}");
	CHECK_EQ_INT(job_run("s/uv.obj", "uv", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 1);
	CHECK(strstr(job_log, "E: ") == NULL && strstr(job_log, "W: ") == NULL);
	if (job_count(&r, "mesh") == 1)
		CHECK_EQ_INT(product_header("uv", r.products[0].file, &layout, &vc, &ic), 0);
	CHECK_EQ_INT(layout, MESH_ATTR_POSITION | MESH_ATTR_NORMAL | MESH_ATTR_TANGENT | MESH_ATTR_UV0);

	/* A triangle in the z = 0 plane whose file normal points along x:
	 * kept by default, recomputed by "generate", gone with "none". */
	static const char sideways[] = "v 0 0 0\nv 1 0 0\nv 1 1 0\nvn 1 0 0\nf 1//1 2//1 3//1\n";
	float n[3] = {0};
	job_write("s/keep.obj", sideways);
	CHECK_EQ_INT(job_run("s/keep.obj", "keep", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(first_normal("keep", r.n_products ? r.products[0].file : "", n), 0);
	CHECK(n[0] == 1.0f && n[2] == 0.0f);
	job_write("s/gen.obj", sideways);
	job_write("s/gen.obj.assetinfo", "{\"normals\": \"generate\"}");
	CHECK_EQ_INT(job_run("s/gen.obj", "gen", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(first_normal("gen", r.n_products ? r.products[0].file : "", n), 0);
	CHECK(n[0] == 0.0f && n[2] == 1.0f);
	job_write("s/none.obj", sideways);
	job_write("s/none.obj.assetinfo", "{\"normals\": \"none\"}");
	CHECK_EQ_INT(job_run("s/none.obj", "none", a, &r, 0), MSG_RESULT_SUCCESS);
	layout = 0;
	if (job_count(&r, "mesh") == 1)
		CHECK_EQ_INT(product_header("none", r.products[0].file, &layout, &vc, &ic), 0);
	CHECK_EQ_INT(layout, MESH_ATTR_POSITION);

	job_write("s/bad.obj", two_boxes);
	job_write("s/bad.obj.assetinfo", "{\n  \"normals\": \"custom\",\n  \"tangent\": true\n}\n");
	CHECK_EQ_INT(job_run("s/bad.obj", "bad", a, &r, 0), MSG_RESULT_FAILED);
	CHECK_EQ_INT(r.n_products, 0);
	CHECK(strstr(job_log, "s/bad.obj.assetinfo:3:3: unknown key \"tangent\"") != NULL);
	arena_free(a);
}

static void test_broken(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("b/garbage.fbx", "this is not a model at all\n\x01\x02\x03");
	CHECK_EQ_INT(job_run("b/garbage.fbx", "garbage", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(job_log, "E: cannot import b/garbage.fbx: ") != NULL);

	job_write("b/cut.ply", "ply\nformat ascii 1.0\nelement vertex 8\nproperty float32 x\n");
	CHECK_EQ_INT(job_run("b/cut.ply", "cut", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(job_log, "E: cannot import b/cut.ply: the PLY header has no end_header line") != NULL);

	/* A model of nothing but comments: assimp finds no mesh and nothing
	 * else, which is no scene either. */
	job_write("b/nothing.obj", "# nothing but a comment, long enough for assimp to read it\n");
	CHECK_EQ_INT(job_run("b/nothing.obj", "nothing", a, &r, 0), MSG_RESULT_FAILED);
	CHECK_EQ_INT(r.n_products, 0);
	CHECK(strstr(job_log, "E: cannot import b/nothing.obj: ") != NULL);

	CHECK_EQ_INT(job_run("b/missing.obj", "missing", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(job_log, "E: cannot read ") != NULL);
	arena_free(a);
}

static void test_isolation(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("i/box.obj", two_boxes);
	setenv("KILN_MESH_TEST_FAULT", "crash", 1);
	CHECK_EQ_INT(job_run("i/box.obj", "crash", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(job_log, "E: assimp crashed while importing i/box.obj (signal 6") != NULL);
	setenv("KILN_MESH_TEST_FAULT", "hang", 1);
	CHECK_EQ_INT(job_run("i/box.obj", "hang", a, &r, 1), MSG_RESULT_FAILED);
	CHECK(strstr(job_log, "E: importing i/box.obj did not finish within 1 s") != NULL);
	unsetenv("KILN_MESH_TEST_FAULT");
	/* and the process goes on working */
	CHECK_EQ_INT(job_run("i/box.obj", "after", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 2);
	arena_free(a);
}

int main(void)
{
	job_setup("process");
	test_product_path();
	test_two_boxes();
	test_sidecars();
	test_broken();
	test_isolation();
	job_cleanup();
	TEST_DONE();
}
