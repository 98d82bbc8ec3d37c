/* process_test.c: whole jobs through mesh_process_isolated on small models
 * written here: products and their sub_ids, the sidecar cases, broken
 * files, and a crashing or hanging import (the KILN_MESH_TEST_FAULT knob). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "kerr.h"
#include "path.h"
#include "process.h"
#include "test.h"

static char dir[256];    /* the scan folder of the test */
static char log_[65536]; /* stderr of the last job */

static void write_file(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	path_mkdirs_for(p, 0755);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

/* Runs one job on dir/name into dir/out-<tag>; the log (stderr) lands in
 * log_. Returns the result. */
static msg_result run(const char *name, const char *tag, arena *a, msg_process_job_resp *resp,
                      unsigned timeout)
{
	char full[512], out[512], logf[512];
	snprintf(full, sizeof full, "%s/%s", dir, name);
	snprintf(out, sizeof out, "%s/out-%s", dir, tag);
	snprintf(logf, sizeof logf, "%s/log-%s", dir, tag);
	path_mkdirs(out, 0755);
	msg_process_job_req req = {.source_file = name,
	                           .watch_folder = dir,
	                           .full_path = full,
	                           .builder_uuid = "",
	                           .job = {.job_key = "mesh", .platform = "pc"},
	                           .temp_dir = out,
	                           .source_uuid = ""};
	memset(resp, 0, sizeof *resp);
	fflush(stderr);
	int saved = dup(2);
	int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	int rc = mesh_process_isolated(NULL, &req, resp, a, timeout);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK_EQ_INT(rc, 0);
	FILE *f = fopen(logf, "r");
	size_t n = fread(log_, 1, sizeof log_ - 1, f);
	log_[n] = 0;
	fclose(f);
	return resp->result;
}

/* Reads a product's header: layout and counts; 0 when it is a KMSH file
 * whose sizes add up. */
static int product_header(const char *tag, const char *file, unsigned *layout, unsigned *vcount,
                          unsigned *icount)
{
	char p[1024];
	unsigned char h[80];
	snprintf(p, sizeof p, "%s/out-%s/%s", dir, tag, file);
	FILE *f = fopen(p, "rb");
	if (!f)
		return -1;
	size_t n = fread(h, 1, 80, f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	if (n != 80 || memcmp(h, "KMSH", 4) != 0)
		return -2;
	*layout = h[8] | h[9] << 8;
	*vcount = (unsigned)(h[16] | h[17] << 8 | h[18] << 16);
	*icount = (unsigned)(h[20] | h[21] << 8 | h[22] << 16);
	unsigned stride = h[12];
	unsigned isize = h[24];
	return size == (long)(80 + *vcount * stride + *icount * isize) ? 0 : -3;
}

/* The normal of a product's first vertex (layout position|normal...). */
static int first_normal(const char *tag, const char *file, float n[3])
{
	char p[1024];
	unsigned char b[104];
	snprintf(p, sizeof p, "%s/out-%s/%s", dir, tag, file);
	FILE *f = fopen(p, "rb");
	if (!f)
		return -1;
	size_t got = fread(b, 1, sizeof b, f);
	fclose(f);
	if (got != sizeof b || !(b[8] & MESH_ATTR_NORMAL))
		return -2;
	memcpy(n, b + 80 + 12, 12); /* little-endian host */
	return 0;
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
	write_file("models/boxes.obj", two_boxes);
	write_file("models/boxes.mtl", boxes_mtl);
	CHECK_EQ_INT(run("models/boxes.obj", "1", a, &r1, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r1.n_products, 2);
	CHECK(strstr(log_, "W: ") == NULL && strstr(log_, "E: ") == NULL);
	CHECK_EQ_INT(run("models/boxes.obj", "2", a, &r2, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r2.n_products, 2);
	if (r1.n_products == 2 && r2.n_products == 2) {
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
	write_file("s/custom.obj", two_boxes);
	write_file("s/custom.obj.assetinfo", "{\"normals\": \"custom\"}");
	CHECK_EQ_INT(run("s/custom.obj", "custom", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r.n_products, 2);
	CHECK(strstr(log_, "W: mesh \"Crate\" has no normals") != NULL);
	CHECK(strstr(log_, "E: ") == NULL);

	write_file("s/tangents.obj", two_boxes);
	write_file("s/tangents.obj.assetinfo", "{\"tangents\": true}");
	CHECK_EQ_INT(run("s/tangents.obj", "tangents", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r.n_products, 2);
	CHECK(strstr(log_, "E: mesh \"Lid\" has no UVs, so tangents cannot be computed") != NULL);
	unsigned layout = 0, vc, ic;
	if (r.n_products == 2)
		CHECK_EQ_INT(product_header("tangents", r.products[1].file, &layout, &vc, &ic), 0);
	CHECK_EQ_INT(layout & MESH_ATTR_TANGENT, 0);

	/* With UVs the tangents are there. */
	write_file("s/uv.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nf 1/1 2/2 3/3\n");
	write_file("s/uv.obj.assetinfo", "{\"tangents\": true, \"normals\": \"generate\"}");
	CHECK_EQ_INT(run("s/uv.obj", "uv", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r.n_products, 1);
	CHECK(strstr(log_, "E: ") == NULL && strstr(log_, "W: ") == NULL);
	if (r.n_products == 1)
		CHECK_EQ_INT(product_header("uv", r.products[0].file, &layout, &vc, &ic), 0);
	CHECK_EQ_INT(layout, MESH_ATTR_POSITION | MESH_ATTR_NORMAL | MESH_ATTR_TANGENT | MESH_ATTR_UV0);

	/* A triangle in the z = 0 plane whose file normal points along x:
	 * kept by default, recomputed by "generate", gone with "none". */
	static const char sideways[] = "v 0 0 0\nv 1 0 0\nv 1 1 0\nvn 1 0 0\nf 1//1 2//1 3//1\n";
	float n[3] = {0};
	write_file("s/keep.obj", sideways);
	CHECK_EQ_INT(run("s/keep.obj", "keep", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(first_normal("keep", r.n_products ? r.products[0].file : "", n), 0);
	CHECK(n[0] == 1.0f && n[2] == 0.0f);
	write_file("s/gen.obj", sideways);
	write_file("s/gen.obj.assetinfo", "{\"normals\": \"generate\"}");
	CHECK_EQ_INT(run("s/gen.obj", "gen", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(first_normal("gen", r.n_products ? r.products[0].file : "", n), 0);
	CHECK(n[0] == 0.0f && n[2] == 1.0f);
	write_file("s/none.obj", sideways);
	write_file("s/none.obj.assetinfo", "{\"normals\": \"none\"}");
	CHECK_EQ_INT(run("s/none.obj", "none", a, &r, 0), MSG_RESULT_SUCCESS);
	layout = 0;
	if (r.n_products == 1)
		CHECK_EQ_INT(product_header("none", r.products[0].file, &layout, &vc, &ic), 0);
	CHECK_EQ_INT(layout, MESH_ATTR_POSITION);

	write_file("s/bad.obj", two_boxes);
	write_file("s/bad.obj.assetinfo", "{\n  \"normals\": \"custom\",\n  \"tangent\": true\n}\n");
	CHECK_EQ_INT(run("s/bad.obj", "bad", a, &r, 0), MSG_RESULT_FAILED);
	CHECK_EQ_INT(r.n_products, 0);
	CHECK(strstr(log_, "s/bad.obj.assetinfo:3:3: unknown key \"tangent\"") != NULL);
	arena_free(a);
}

static void test_broken(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	write_file("b/garbage.fbx", "this is not a model at all\n\x01\x02\x03");
	CHECK_EQ_INT(run("b/garbage.fbx", "garbage", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(log_, "E: cannot import b/garbage.fbx: ") != NULL);

	write_file("b/cut.ply", "ply\nformat ascii 1.0\nelement vertex 8\nproperty float32 x\n");
	CHECK_EQ_INT(run("b/cut.ply", "cut", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(log_, "E: cannot import b/cut.ply: the PLY header has no end_header line") != NULL);

	write_file("b/lines.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nl 1 2\nl 2 3\n");
	CHECK_EQ_INT(run("b/lines.obj", "lines", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(log_, "holds lines, not triangles: dropped") != NULL);

	/* Lines beside triangles: the triangles are written, with a warning. */
	write_file("b/mixed.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\nf 1 2 3\nl 1 2\n");
	CHECK_EQ_INT(run("b/mixed.obj", "mixed", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r.n_products, 1);
	CHECK(strstr(log_, "W: mesh ") != NULL);

	CHECK_EQ_INT(run("b/missing.obj", "missing", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(log_, "E: cannot read ") != NULL);
	arena_free(a);
}

static void test_isolation(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	write_file("i/box.obj", two_boxes);
	setenv("KILN_MESH_TEST_FAULT", "crash", 1);
	CHECK_EQ_INT(run("i/box.obj", "crash", a, &r, 0), MSG_RESULT_FAILED);
	CHECK(strstr(log_, "E: assimp crashed while importing i/box.obj (signal 6") != NULL);
	setenv("KILN_MESH_TEST_FAULT", "hang", 1);
	CHECK_EQ_INT(run("i/box.obj", "hang", a, &r, 1), MSG_RESULT_FAILED);
	CHECK(strstr(log_, "E: importing i/box.obj did not finish within 1 s") != NULL);
	unsetenv("KILN_MESH_TEST_FAULT");
	/* and the process goes on working */
	CHECK_EQ_INT(run("i/box.obj", "after", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r.n_products, 2);
	arena_free(a);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/kmesh-process-%d", (int)getpid());
	path_mkdirs(dir, 0755);
	test_product_path();
	test_two_boxes();
	test_sidecars();
	test_broken();
	test_isolation();
	path_rmtree(dir);
	TEST_DONE();
}
