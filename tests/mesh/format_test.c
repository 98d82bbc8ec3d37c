/* format_test.c: the .kmesh writer, read back by a reader written here from
 * the documented offsets (README.md), not from format.c's code. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "test.h"

/* ---- an independent reader ---- */

typedef struct rd {
	uint8_t *buf;
	size_t len;
	char magic[5];
	unsigned version, header_size, layout, stride, vcount, icount, isize, material, sub_id, reserved;
	float bmin[3], bmax[3];
	uint64_t voff, ioff;
} rd;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static float lef(const uint8_t *p)
{
	uint32_t v = le32(p);
	float f;
	memcpy(&f, &v, 4);
	return f;
}

static uint32_t rd_index(const rd *r, uint32_t i)
{
	const uint8_t *p = r->buf + r->ioff + (uint64_t)i * r->isize;
	return r->isize == 2 ? (uint32_t)(p[0] | p[1] << 8) : le32(p);
}

/* Reads the whole file and its header; returns 0 when it is well formed:
 * sizes add up and every index is below the vertex count. */
static int rd_load(const char *path, rd *r)
{
	memset(r, 0, sizeof *r);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	r->buf = malloc((size_t)n + 1);
	r->len = fread(r->buf, 1, (size_t)n, f);
	fclose(f);
	if (r->len < 80)
		return -2;
	const uint8_t *h = r->buf;
	memcpy(r->magic, h, 4);
	r->version = h[4] | h[5] << 8;
	r->header_size = h[6] | h[7] << 8;
	r->layout = le32(h + 8);
	r->stride = le32(h + 12);
	r->vcount = le32(h + 16);
	r->icount = le32(h + 20);
	r->isize = le32(h + 24);
	r->material = le32(h + 28);
	for (int i = 0; i < 3; i++) {
		r->bmin[i] = lef(h + 32 + 4 * i);
		r->bmax[i] = lef(h + 44 + 4 * i);
	}
	r->voff = le64(h + 56);
	r->ioff = le64(h + 64);
	r->sub_id = le32(h + 72);
	r->reserved = le32(h + 76);
	if (r->voff + (uint64_t)r->vcount * r->stride > r->ioff)
		return -3;
	if (r->ioff + (uint64_t)r->icount * r->isize != r->len)
		return -4;
	if (r->icount % 3)
		return -5;
	for (uint32_t i = 0; i < r->icount; i++)
		if (rd_index(r, i) >= r->vcount)
			return -6;
	return 0;
}

static float rd_float(const rd *r, uint32_t v, uint32_t byte_off)
{
	return lef(r->buf + r->voff + (uint64_t)v * r->stride + byte_off);
}

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
	CHECK_EQ_INT(r.reserved, 0);
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
	free(r.buf);
	unlink(path);
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
	free(r.buf);
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
}

int main(void)
{
	test_layout();
	test_quad_roundtrip();
	test_32bit_indices();
	test_rejects();
	TEST_DONE();
}
