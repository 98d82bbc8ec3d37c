/* primitives_test.c: whole jobs on models of lines and points: OBJ line
 * and point statements, the four glTF primitive modes that are not
 * triangles, a PLY point cloud, and a mesh that mixes all three types.
 * Each becomes .kmesh products of its primitive type (version 2), while the
 * triangles of the same model stay version 1 with the sub_id they had. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "jobs.h"
#include "kmesh_read.h"

/* Loads product p of the job TAG into r; 0 when it is well formed. */
static int load(const char *tag, const msg_product *p, rd *r)
{
	char path[1024];
	memset(r, 0, sizeof *r);
	if (!p)
		return -100;
	return rd_load(job_product(tag, p->file, path, sizeof path), r);
}

/* The first mesh product of resp (the products come before the scene). */
static const msg_product *first_mesh(const msg_process_job_resp *resp)
{
	for (size_t i = 0; i < resp->n_products; i++)
		if (strcmp(resp->products[i].asset_type, "mesh") == 0)
			return &resp->products[i];
	return NULL;
}

/* The mesh product whose header says primitive type prim, or NULL. */
static const msg_product *mesh_of_type(const char *tag, const msg_process_job_resp *resp, unsigned prim)
{
	for (size_t i = 0; i < resp->n_products; i++) {
		rd r;
		if (strcmp(resp->products[i].asset_type, "mesh") != 0)
			continue;
		int ok = load(tag, &resp->products[i], &r) == 0 && r.primitive == prim;
		rd_free(&r);
		if (ok)
			return &resp->products[i];
	}
	return NULL;
}

/* A closed polyline through the corners of a unit square: four segments
 * over four vertices, written as version 2 with two indices each. */
static void test_obj_lines(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("lines.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nl 1 2 3 4 1\n");
	CHECK_EQ_INT(job_run("lines.obj", "lines", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 1);
	CHECK_EQ_INT(job_count(&r, "scene"), 1);
	CHECK(strstr(job_log, "W: ") == NULL && strstr(job_log, "E: ") == NULL);
	CHECK(strstr(job_log, "4 vertices (4 imported), 4 lines, position") != NULL);
	rd m;
	CHECK_EQ_INT(load("lines", first_mesh(&r), &m), 0);
	CHECK_EQ_INT(m.version, 2);
	CHECK_EQ_INT(m.primitive, MESH_PRIM_LINES);
	CHECK_EQ_INT(m.vcount, 4);
	CHECK_EQ_INT(m.icount, 8);
	/* Every segment joins two corners one step apart around the square
	 * (one coordinate differs by 1), and every corner is used twice. */
	unsigned uses[4] = {0};
	for (uint32_t s = 0; m.buf && s < m.icount / 2; s++) {
		uint32_t i0 = rd_index(&m, 2 * s), i1 = rd_index(&m, 2 * s + 1);
		float dx = rd_float(&m, i0, 0) - rd_float(&m, i1, 0);
		float dy = rd_float(&m, i0, 4) - rd_float(&m, i1, 4);
		CHECK(dx * dx + dy * dy == 1.0f);
		uses[i0 % 4]++;
		uses[i1 % 4]++;
	}
	CHECK(uses[0] == 2 && uses[1] == 2 && uses[2] == 2 && uses[3] == 2);
	CHECK(m.bmin[0] == 0 && m.bmax[0] == 1 && m.bmax[1] == 1);
	rd_free(&m);
	arena_free(a);
}

/* Points: version 2, no index array, one vertex per point. */
static void test_obj_points(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("points.obj", "v 1 2 3\nv 4 5 6\nv 7 8 9\np 1 2 3\n");
	CHECK_EQ_INT(job_run("points.obj", "points", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 1);
	rd m;
	CHECK_EQ_INT(load("points", first_mesh(&r), &m), 0);
	CHECK_EQ_INT(m.version, 2);
	CHECK_EQ_INT(m.primitive, MESH_PRIM_POINTS);
	CHECK_EQ_INT(m.icount, 0);
	CHECK_EQ_INT(m.vcount, 3);
	float sum = 0;
	for (uint32_t v = 0; m.buf && v < m.vcount; v++)
		sum += rd_float(&m, v, 0) * 100 + rd_float(&m, v, 4) * 10 + rd_float(&m, v, 8);
	CHECK(sum == 123.0f + 456.0f + 789.0f);
	CHECK(m.bmin[0] == 1 && m.bmax[2] == 9);
	rd_free(&m);
	arena_free(a);
}

/* Four glTF primitives over the corners of a unit square, in modes 0
 * (points), 1 (lines), 2 (line loop) and 3 (line strip); the lines one has
 * normals along +z. */
static const char modes_gltf[] =
    "{\"asset\": {\"version\": \"2.0\"}, \"scene\": 0,\n"
    " \"scenes\": [{\"nodes\": [0, 1, 2, 3]}],\n"
    " \"nodes\": [{\"name\": \"points\", \"mesh\": 0}, {\"name\": \"lines\", \"mesh\": 1},\n"
    "           {\"name\": \"loop\", \"mesh\": 2}, {\"name\": \"strip\", \"mesh\": 3}],\n"
    " \"meshes\": [{\"name\": \"p\", \"primitives\": [{\"attributes\": {\"POSITION\": 0}, \"mode\": 0}]},\n"
    "  {\"name\": \"l\", \"primitives\": [{\"attributes\": {\"POSITION\": 0, \"NORMAL\": 1}, \"mode\": "
    "1}]},\n"
    "  {\"name\": \"ll\", \"primitives\": [{\"attributes\": {\"POSITION\": 0}, \"mode\": 2}]},\n"
    "  {\"name\": \"ls\", \"primitives\": [{\"attributes\": {\"POSITION\": 0}, \"mode\": 3}]}],\n"
    " \"accessors\": [{\"bufferView\": 0, \"componentType\": 5126, \"count\": 4, \"type\": \"VEC3\",\n"
    "                \"min\": [0, 0, 0], \"max\": [1, 1, 0]},\n"
    "               {\"bufferView\": 0, \"byteOffset\": 48, \"componentType\": 5126, \"count\": 4,\n"
    "                \"type\": \"VEC3\"}],\n"
    " \"bufferViews\": [{\"buffer\": 0, \"byteLength\": 96}],\n"
    " \"buffers\": [{\"byteLength\": 96, \"uri\": \"data:application/octet-stream;base64,"
    "AAAAAAAAAAAAAAAAAACAPwAAAAAAAAAAAACAPwAAgD8AAAAAAAAAAAAAgD8AAAAAAAAAAAAAAAAAAIA/AAAAAAAAAAAAAIA/"
    "AAAAAAAAAAAAAIA/AAAAAAAAAAAAAIA/\"}]}\n";

/* The product of the mesh named name (its file starts with "modes/NAME_"). */
static const msg_product *named(const msg_process_job_resp *resp, const char *name)
{
	char prefix[64];
	snprintf(prefix, sizeof prefix, "modes/%s_", name);
	for (size_t i = 0; i < resp->n_products; i++)
		if (strncmp(resp->products[i].file, prefix, strlen(prefix)) == 0)
			return &resp->products[i];
	return NULL;
}

static void test_gltf_modes(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	static const struct {
		const char *name;
		unsigned prim, vcount, icount;
	} want[] = {
	    {"p", MESH_PRIM_POINTS, 4, 0},
	    {"l", MESH_PRIM_LINES, 4, 4},  /* two segments */
	    {"ll", MESH_PRIM_LINES, 4, 8}, /* four, the loop closed */
	    {"ls", MESH_PRIM_LINES, 4, 6}, /* three */
	};
	job_write("modes.gltf", modes_gltf);
	CHECK_EQ_INT(job_run("modes.gltf", "modes", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 4);
	CHECK_EQ_INT(job_count(&r, "scene"), 1);
	for (int i = 0; i < 4; i++) {
		rd m;
		CHECK_EQ_INT(load("modes", named(&r, want[i].name), &m), 0);
		CHECK_EQ_INT(m.primitive, want[i].prim);
		CHECK_EQ_INT(m.vcount, want[i].vcount);
		CHECK_EQ_INT(m.icount, want[i].icount);
		rd_free(&m);
	}

	/* Forced normals are for triangles. assimp 5.2 frees a line mesh's
	 * normals under aiProcess_ForceGenNormals and keeps the dangling
	 * pointer; the builder keeps them out of its reach, so the file's
	 * normals are written. */
	job_write("modes.gltf.assetinfo", "{\"normals\": \"generate\"}");
	CHECK_EQ_INT(job_run("modes.gltf", "gen", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 4);
	rd m;
	CHECK_EQ_INT(load("gen", named(&r, "l"), &m), 0);
	CHECK_EQ_INT(m.layout, MESH_ATTR_POSITION | MESH_ATTR_NORMAL);
	for (uint32_t v = 0; m.buf && v < m.vcount; v++)
		CHECK(rd_float(&m, v, 12) == 0 && rd_float(&m, v, 16) == 0 && rd_float(&m, v, 20) == 1);
	rd_free(&m);
	arena_free(a);
}

/* A PLY of vertices and no faces: assimp 5.2 builds a mesh without faces,
 * which its validation refuses; the builder reads it again and writes the
 * vertices as points. The duplicate point merges unless optimize is off. */
static void test_ply_cloud(void)
{
	static const char cloud[] = "ply\nformat ascii 1.0\nelement vertex 4\n"
	                            "property float x\nproperty float y\nproperty float z\nend_header\n"
	                            "0 0 0\n1 0 0\n0 2 0\n1 0 0\n";
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("cloud.ply", cloud);
	CHECK_EQ_INT(job_run("cloud.ply", "cloud", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK(strstr(job_log, "its meshes are point clouds without faces") != NULL);
	CHECK_EQ_INT(job_count(&r, "mesh"), 1);
	rd m;
	CHECK_EQ_INT(load("cloud", first_mesh(&r), &m), 0);
	CHECK_EQ_INT(m.primitive, MESH_PRIM_POINTS);
	CHECK_EQ_INT(m.vcount, 3);
	CHECK(m.bmax[0] == 1 && m.bmax[1] == 2);
	rd_free(&m);

	job_write("keep.ply", cloud);
	job_write("keep.ply.assetinfo", "{\"optimize\": false}");
	CHECK_EQ_INT(job_run("keep.ply", "keep", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(load("keep", first_mesh(&r), &m), 0);
	CHECK_EQ_INT(m.vcount, 4);
	if (m.buf && m.vcount == 4)
		CHECK(rd_float(&m, 2, 4) == 2 && rd_float(&m, 3, 0) == 1); /* in file order */
	rd_free(&m);
	arena_free(a);
}

/* One OBJ object of a triangle, a polyline and two points: assimp splits it
 * by primitive type (SortByPType) and all three become products. The
 * triangles keep the sub_id the builder gave them when it dropped the
 * lines and points (0x58181c1d, from kiln-mesh 1 on this file). */
static void test_mixed(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("mixed.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 2 2 2\nf 1 2 3\nl 1 2 3\np 4 1\n");
	CHECK_EQ_INT(job_run("mixed.obj", "mixed", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK(strstr(job_log, "W: ") == NULL && strstr(job_log, "E: ") == NULL);
	CHECK_EQ_INT(job_count(&r, "mesh"), 3);
	const msg_product *tri = job_find(&r, 0x58181c1du);
	const msg_product *lines = mesh_of_type("mixed", &r, MESH_PRIM_LINES);
	const msg_product *points = mesh_of_type("mixed", &r, MESH_PRIM_POINTS);
	CHECK(tri && lines && points && tri != lines && lines != points);
	CHECK(r.n_products >= 1 && r.products[0].sub_id == 0x58181c1du); /* triangles first */
	rd m;
	CHECK_EQ_INT(load("mixed", tri, &m), 0);
	CHECK_EQ_INT(m.version, 1);
	CHECK_EQ_INT(m.primitive, MESH_PRIM_TRIANGLES);
	CHECK_EQ_INT(m.icount, 3);
	rd_free(&m);
	CHECK_EQ_INT(load("mixed", lines, &m), 0);
	CHECK_EQ_INT(m.icount, 4);
	CHECK_EQ_INT(m.vcount, 3);
	rd_free(&m);
	CHECK_EQ_INT(load("mixed", points, &m), 0);
	CHECK_EQ_INT(m.vcount, 2);
	CHECK(m.bmax[0] == 2 && m.bmin[0] == 0);
	rd_free(&m);
	arena_free(a);
}

int main(void)
{
	job_setup("prims");
	test_obj_lines();
	test_obj_points();
	test_gltf_modes();
	test_ply_cloud();
	test_mixed();
	job_cleanup();
	TEST_DONE();
}
