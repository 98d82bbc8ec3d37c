/* format_test.c: the .kmesh writer, read back by a reader written from the
 * documented offsets (README.md, kmesh_read.h), not from format.c's code. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "kmesh_read.h"
#include "test.h"

static const char *tmpfile_path(void)
{
	static char p[64];
	snprintf(p, sizeof p, "/tmp/kmesh-fmt-%d.kmesh", (int)getpid());
	return p;
}

/* ---- tests ---- */

static void test_layout(void)
{
	CHECK_EQ_INT(mesh_fmt_stride(MESH_ATTR_POSITION), 12);
	CHECK_EQ_INT(mesh_fmt_stride(MESH_ATTR_ALL), 12 + 12 + 16 + 8 + 4);
	CHECK_EQ_INT(mesh_fmt_stride(MESH_ATTR_NORMAL), 0); /* no position */
	CHECK_EQ_INT(mesh_fmt_stride(MESH_ATTR_POSITION | 0x100), 0);
	CHECK_EQ_INT(mesh_fmt_attr_offset(MESH_ATTR_ALL, MESH_ATTR_UV0), 40);
	CHECK_EQ_INT(mesh_fmt_attr_offset(MESH_ATTR_POSITION | MESH_ATTR_UV0, MESH_ATTR_UV0), 12);
	CHECK_EQ_INT(
	    mesh_fmt_attr_offset(MESH_ATTR_POSITION | MESH_ATTR_UV0 | MESH_ATTR_COLOR0, MESH_ATTR_COLOR0),
	    20);
	CHECK_EQ_INT(mesh_fmt_attr_offset(MESH_ATTR_POSITION, MESH_ATTR_NORMAL), -1);
	CHECK_EQ_INT(mesh_fmt_index_size(65536), 2);
	CHECK_EQ_INT(mesh_fmt_index_size(65537), 4);
}

/* A quad with every attribute, written and read back field by field. */
static void test_quad_roundtrip(void)
{
	/* position, normal, tangent, uv0, color0 (as bytes) per vertex */
	struct vtx {
		float p[3], n[3], t[4], uv[2];
		uint8_t c[4];
	} v[4] = {
	    {{-1, -2, 0}, {0, 0, 1}, {1, 0, 0, 1}, {0, 0}, {255, 0, 0, 255}},
	    {{1, -2, 0}, {0, 0, 1}, {1, 0, 0, 1}, {1, 0}, {0, 255, 0, 255}},
	    {{1, 2, 0.5f}, {0, 0, 1}, {1, 0, 0, -1}, {1, 1}, {0, 0, 255, 128}},
	    {{-1, 2, 0}, {0, 0, 1}, {1, 0, 0, 1}, {0, 1}, {1, 2, 3, 4}},
	};
	_Static_assert(sizeof(struct vtx) == 52, "packed like the format");
	uint32_t idx[6] = {0, 1, 2, 0, 2, 3};
	mesh_fmt_mesh m = {.layout = MESH_ATTR_ALL,
	                   .n_vertices = 4,
	                   .vertices = v,
	                   .n_indices = 6,
	                   .indices = idx,
	                   .material = 7,
	                   .sub_id = 0xdeadbeef,
	                   .bbox_min = {-1, -2, 0},
	                   .bbox_max = {1, 2, 0.5f}};
	const char *path = tmpfile_path();
	CHECK_EQ_INT(mesh_fmt_write(path, &m), 0);
	rd r;
	CHECK_EQ_INT(rd_load(path, &r), 0);
	CHECK_EQ_STR(r.magic, "KMSH");
	CHECK_EQ_INT(r.version, 1);
	CHECK_EQ_INT(r.header_size, 80);
	CHECK_EQ_INT(r.layout, 0x1f);
	CHECK_EQ_INT(r.stride, 52);
	CHECK_EQ_INT(r.vcount, 4);
	CHECK_EQ_INT(r.icount, 6);
	CHECK_EQ_INT(r.isize, 2);
	CHECK_EQ_INT(r.material, 7);
	CHECK_EQ_INT(r.sub_id, 0xdeadbeefu);
	CHECK_EQ_INT(r.primitive, 0); /* the field version 1 reserved */
	CHECK_EQ_INT(r.voff, 80);
	CHECK_EQ_INT(r.ioff, 80 + 4 * 52);
	CHECK_EQ_INT(r.len, 80 + 4 * 52 + 6 * 2);
	CHECK_EQ_INT(mesh_fmt_file_size(&m), r.len);
	CHECK(r.bmin[0] == -1 && r.bmin[1] == -2 && r.bmin[2] == 0);
	CHECK(r.bmax[0] == 1 && r.bmax[1] == 2 && r.bmax[2] == 0.5f);
	for (uint32_t i = 0; i < 6; i++)
		CHECK_EQ_INT(rd_index(&r, i), idx[i]);
	CHECK(rd_float(&r, 2, 8) == 0.5f);   /* position z */
	CHECK(rd_float(&r, 2, 20) == 1.0f);  /* normal z */
	CHECK(rd_float(&r, 2, 36) == -1.0f); /* tangent w */
	CHECK(rd_float(&r, 3, 44) == 1.0f);  /* v */
	const uint8_t *c = r.buf + r.voff + 2 * 52 + 48;
	CHECK(c[0] == 0 && c[1] == 0 && c[2] == 255 && c[3] == 128);
	rd_free(&r);
	unlink(path);
}

/* Writes m and reads it back into r, checking what every version 2 file
 * shares: the version, the primitive type, the counts and that the file
 * ends with the index array (none for points). */
static void roundtrip_v2(const mesh_fmt_mesh *m, rd *r)
{
	const char *path = tmpfile_path();
	CHECK_EQ_INT(mesh_fmt_write(path, m), 0);
	CHECK_EQ_INT(rd_load(path, r), 0);
	unlink(path);
	CHECK_EQ_INT(r->version, 2);
	CHECK_EQ_INT(r->header_size, 80);
	CHECK_EQ_INT(r->primitive, m->primitive);
	CHECK_EQ_INT(r->vcount, m->n_vertices);
	CHECK_EQ_INT(r->icount, m->n_indices);
	CHECK_EQ_INT(r->ioff, 80 + m->n_vertices * 12);
	CHECK_EQ_INT(mesh_fmt_file_size(m), r->len);
}

/* Lines are version 2 with the primitive type 1 and two indices a
 * segment; the rest of the file is laid out as for triangles. Points have
 * the primitive type 2 and no index array: the file ends with the
 * vertices. */
static void test_lines_points(void)
{
	float pos[3 * 3] = {0, 0, 0, 1, 0, 0, 1, 1, 0};
	uint32_t idx[4] = {0, 1, 1, 2};
	mesh_fmt_mesh m = {.primitive = MESH_PRIM_LINES,
	                   .layout = MESH_ATTR_POSITION,
	                   .n_vertices = 3,
	                   .vertices = pos,
	                   .n_indices = 4,
	                   .indices = idx,
	                   .sub_id = 7,
	                   .bbox_max = {1, 1, 0}};
	rd r;
	roundtrip_v2(&m, &r);
	CHECK_EQ_INT(r.isize, 2);
	CHECK_EQ_INT(r.len, 80 + 3 * 12 + 4 * 2);
	for (uint32_t i = 0; i < 4; i++)
		CHECK_EQ_INT(rd_index(&r, i), idx[i]);
	rd_free(&r);

	m.primitive = MESH_PRIM_POINTS;
	m.n_indices = 0;
	m.indices = NULL;
	roundtrip_v2(&m, &r);
	CHECK_EQ_INT(r.len, 80 + 3 * 12);
	CHECK(rd_float(&r, 2, 0) == 1.0f && rd_float(&r, 2, 4) == 1.0f);
	rd_free(&r);
	CHECK_EQ_INT(mesh_fmt_version(MESH_PRIM_TRIANGLES), 1);
	CHECK_EQ_STR(mesh_fmt_prim_name(MESH_PRIM_POINTS), "points");
}

/* Over 65536 vertices the indices are 32-bit. */
static void test_32bit_indices(void)
{
	uint32_t nv = 70000;
	float *pos = calloc(nv * 3, sizeof(float));
	uint32_t idx[3] = {0, 65536, 69999};
	pos[69999 * 3] = 5.0f;
	mesh_fmt_mesh m = {
	    .layout = MESH_ATTR_POSITION, .n_vertices = nv, .vertices = pos, .n_indices = 3, .indices = idx};
	const char *path = tmpfile_path();
	CHECK_EQ_INT(mesh_fmt_write(path, &m), 0);
	rd r;
	CHECK_EQ_INT(rd_load(path, &r), 0);
	CHECK_EQ_INT(r.isize, 4);
	CHECK_EQ_INT(r.vcount, nv);
	CHECK_EQ_INT(rd_index(&r, 1), 65536);
	CHECK_EQ_INT(rd_index(&r, 2), 69999);
	CHECK(rd_float(&r, 69999, 0) == 5.0f);
	CHECK_EQ_INT(r.ioff % 4, 0);
	rd_free(&r);
	free(pos);
	unlink(path);
}

static void test_rejects(void)
{
	float pos[9] = {0};
	uint32_t bad[3] = {0, 1, 3};
	uint32_t two[2] = {0, 1};
	const char *path = tmpfile_path();
	mesh_fmt_mesh m = {
	    .layout = MESH_ATTR_POSITION, .n_vertices = 3, .vertices = pos, .n_indices = 3, .indices = bad};
	CHECK_EQ_INT(mesh_fmt_write(path, &m), -EINVAL);
	CHECK(access(path, F_OK) != 0);
	m.indices = two;
	m.n_indices = 2;
	CHECK_EQ_INT(mesh_fmt_write(path, &m), -EINVAL);
	m.layout = MESH_ATTR_NORMAL;
	CHECK_EQ_INT(mesh_fmt_write(path, &m), -EINVAL);
	CHECK(access(path, F_OK) != 0);
	m.layout = MESH_ATTR_POSITION;
	m.indices = bad;
	m.n_indices = 3;
	bad[2] = 2;
	CHECK_EQ_INT(mesh_fmt_write("/nonexistent-dir/x.kmesh", &m), -ENOENT);
	/* Three indices are no whole number of lines, points take none, and
	 * there is no fourth primitive type. */
	m.primitive = MESH_PRIM_LINES;
	CHECK_EQ_INT(mesh_fmt_write(path, &m), -EINVAL);
	m.primitive = MESH_PRIM_POINTS;
	CHECK_EQ_INT(mesh_fmt_write(path, &m), -EINVAL);
	m.primitive = 3;
	m.n_indices = 0;
	CHECK_EQ_INT(mesh_fmt_write(path, &m), -EINVAL);
	CHECK(access(path, F_OK) != 0);
}

int main(void)
{
	test_layout();
	test_quad_roundtrip();
	test_lines_points();
	test_32bit_indices();
	test_rejects();
	TEST_DONE();
}
