/* geo_test.c: interleaving and the meshoptimizer passes on meshes built by
 * hand: triangles, lines and points. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "geo.h"
#include "test.h"

/* A unit cube as a triangle soup: 12 triangles, 36 vertices, every corner
 * repeated; optimised it must shrink to 8 vertices. */
static float soup_pos[36 * 3];
static uint32_t soup_idx[36];

static void make_soup(void)
{
	static const int quads[6][4] = {{0, 1, 3, 2}, {4, 6, 7, 5}, {0, 4, 5, 1},
	                                {2, 3, 7, 6}, {0, 2, 6, 4}, {1, 5, 7, 3}};
	int k = 0;
	for (int q = 0; q < 6; q++) {
		const int tri[6] = {quads[q][0], quads[q][1], quads[q][2],
		                    quads[q][0], quads[q][2], quads[q][3]};
		for (int i = 0; i < 6; i++, k++) {
			int c = tri[i];
			soup_pos[3 * k + 0] = (float)(c & 1);
			soup_pos[3 * k + 1] = (float)((c >> 1) & 1);
			soup_pos[3 * k + 2] = (float)((c >> 2) & 1) * 2.0f;
			soup_idx[k] = (uint32_t)k;
		}
	}
}

/* A triangle as its three corner codes (x + 2y + 4z), rotated so the
 * smallest comes first: winding kept, start vertex ignored. */
static uint32_t tri_key(const float *p0, const float *p1, const float *p2)
{
	uint32_t c[3];
	const float *p[3] = {p0, p1, p2};
	for (int i = 0; i < 3; i++)
		c[i] = (uint32_t)p[i][0] + 2 * (uint32_t)p[i][1] + 4 * (uint32_t)(p[i][2] / 2.0f);
	int m = 0;
	for (int i = 1; i < 3; i++)
		if (c[i] < c[m])
			m = i;
	return c[m] * 100 + c[(m + 1) % 3] * 10 + c[(m + 2) % 3];
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void test_optimise_cube(void)
{
	char err[256];
	mesh_geo_out g;
	mesh_geo_in in = {.n_vertices = 36,
	                  .positions = soup_pos,
	                  .indices = soup_idx,
	                  .n_indices = 36,
	                  .layout = MESH_ATTR_POSITION,
	                  .optimize = true,
	                  .scale = 1.0f};
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_vertices, 8);
	CHECK_EQ_INT(g.n_indices, 36);
	CHECK_EQ_INT(g.stride, 12);
	CHECK_EQ_INT(g.n_nonfinite, 0);
	for (uint32_t i = 0; i < g.n_indices; i++)
		CHECK(g.indices[i] < g.n_vertices);
	CHECK(g.bbox_min[0] == 0 && g.bbox_min[1] == 0 && g.bbox_min[2] == 0);
	CHECK(g.bbox_max[0] == 1 && g.bbox_max[1] == 1 && g.bbox_max[2] == 2);

	/* The same triangles, with the same winding, in some order. */
	uint32_t before[12], after[12];
	const float *ov = (const float *)g.vertices;
	for (int t = 0; t < 12; t++) {
		before[t] = tri_key(soup_pos + 9 * t, soup_pos + 9 * t + 3, soup_pos + 9 * t + 6);
		after[t] = tri_key(ov + 3 * g.indices[3 * t], ov + 3 * g.indices[3 * t + 1],
		                   ov + 3 * g.indices[3 * t + 2]);
	}
	qsort(before, 12, 4, cmp_u32);
	qsort(after, 12, 4, cmp_u32);
	CHECK(memcmp(before, after, sizeof before) == 0);

	/* Vertex fetch order: vertices appear in the order the index buffer
	 * first uses them. */
	uint32_t next = 0;
	int ordered = 1;
	for (uint32_t i = 0; i < g.n_indices; i++) {
		if (g.indices[i] > next)
			ordered = 0;
		if (g.indices[i] == next)
			next++;
	}
	CHECK(ordered);
	mesh_geo_free(&g);

	/* Without optimisation nothing is merged or reordered. */
	in.optimize = false;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_vertices, 36);
	CHECK(memcmp(g.indices, soup_idx, sizeof soup_idx) == 0);
	CHECK(memcmp(g.vertices, soup_pos, sizeof soup_pos) == 0);
	mesh_geo_free(&g);
}

/* Vertices that differ in any written attribute are not merged; the same
 * position with different normals stays two vertices. */
static void test_attributes(void)
{
	float pos[4 * 3] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
	float nrm[4 * 3] = {0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, -1};
	float tan[4 * 3] = {1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0};
	float bit[4 * 3] = {0, 1, 0, 0, 1, 0, 0, -1, 0, 0, 1, 0};
	float uv[4 * 3] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
	float col[4 * 4] = {1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0.5f, 2, -1, NAN, 1};
	uint32_t idx[6] = {0, 1, 2, 3, 1, 2};
	char err[256];
	mesh_geo_out g;
	mesh_geo_in in = {.n_vertices = 4,
	                  .positions = pos,
	                  .normals = nrm,
	                  .tangents = tan,
	                  .bitangents = bit,
	                  .uv0 = uv,
	                  .uv_stride = 3,
	                  .color0 = col,
	                  .indices = idx,
	                  .n_indices = 6,
	                  .layout = MESH_ATTR_ALL,
	                  .optimize = false,
	                  .flip_v = true,
	                  .scale = 2.0f};
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.layout, MESH_ATTR_ALL);
	CHECK_EQ_INT(g.stride, 52);
	CHECK_EQ_INT(g.n_nonfinite, 1); /* the NaN colour channel */
	const uint8_t *v1 = g.vertices + 52, *v2 = g.vertices + 2 * 52, *v3 = g.vertices + 3 * 52;
	float f;
	memcpy(&f, v1, 4);
	CHECK(f == 2.0f); /* scaled x */
	memcpy(&f, v1 + 36, 4);
	CHECK(f == 1.0f); /* tangent w: b agrees with n x t */
	memcpy(&f, v2 + 36, 4);
	CHECK(f == -1.0f); /* mirrored */
	memcpy(&f, v2 + 44, 4);
	CHECK(f == 0.0f); /* v = 1 - 1 */
	memcpy(&f, v1 + 44, 4);
	CHECK(f == 1.0f); /* v = 1 - 0 */
	CHECK(v2[48] == 0 && v2[49] == 0 && v2[50] == 255 && v2[51] == 128);
	CHECK(v3[48] == 255 && v3[49] == 0 && v3[50] == 0 && v3[51] == 255); /* clamped, NaN -> 0 */
	CHECK(g.bbox_max[0] == 2.0f && g.bbox_max[1] == 2.0f);
	mesh_geo_free(&g);

	/* Vertices 0 and 3 share a position but not a normal: optimising
	 * keeps all four. */
	in.optimize = true;
	in.layout = MESH_ATTR_POSITION | MESH_ATTR_NORMAL;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_vertices, 4);
	CHECK_EQ_INT(g.stride, 24);
	mesh_geo_free(&g);
	/* Position alone: they merge. */
	in.layout = MESH_ATTR_POSITION;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_vertices, 3);
	mesh_geo_free(&g);
}

/* Unreferenced vertices are dropped and the box covers what is left. */
static void test_unreferenced(void)
{
	float pos[5 * 3] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 100, 100, 100, -50, 0, 0};
	uint32_t idx[3] = {0, 1, 2};
	char err[256];
	mesh_geo_out g;
	mesh_geo_in in = {
	    .n_vertices = 5, .positions = pos, .indices = idx, .n_indices = 3, .optimize = true, .scale = 1};
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_vertices, 3);
	CHECK(g.bbox_max[0] == 1 && g.bbox_min[0] == 0);
	mesh_geo_free(&g);
}

static void test_errors(void)
{
	float pos[9] = {0};
	uint32_t idx[4] = {0, 1, 3, 0};
	char err[256] = "";
	mesh_geo_out g;
	mesh_geo_in in = {
	    .n_vertices = 3, .positions = pos, .indices = idx, .n_indices = 3, .optimize = true, .scale = 1};
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "out of range") != NULL);
	mesh_geo_free(&g);
	in.n_indices = 2;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -EINVAL);
	in.n_indices = 0;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -ENODATA);
	in.n_indices = (uint64_t)MESH_GEO_MAX_INDICES + 3;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -E2BIG);
	in.n_indices = 3;
	idx[2] = 2;
	in.layout = MESH_ATTR_POSITION | MESH_ATTR_NORMAL; /* no normals given */
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -EINVAL);
	in.layout = MESH_ATTR_POSITION;
	pos[0] = INFINITY;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_nonfinite, 1);
	CHECK(isfinite(g.bbox_min[0]) && isfinite(g.bbox_max[0]));
	mesh_geo_free(&g);
}

/* A polyline through four corners given as eight separate vertices (every
 * segment has its own two), plus an unused vertex: optimised, the corners
 * merge to four vertices in the order the segments first use them, the
 * unused one goes, and each segment keeps its two ends. */
static void test_lines(void)
{
	float pos[9 * 3] = {0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 9, 9, 9};
	uint32_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	char err[256];
	mesh_geo_out g;
	mesh_geo_in in = {.n_vertices = 9,
	                  .positions = pos,
	                  .primitive = MESH_PRIM_LINES,
	                  .indices = idx,
	                  .n_indices = 8,
	                  .layout = MESH_ATTR_POSITION,
	                  .optimize = true,
	                  .scale = 1.0f};
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.primitive, MESH_PRIM_LINES);
	CHECK_EQ_INT(g.n_vertices, 4);
	CHECK_EQ_INT(g.n_indices, 8);
	static const uint32_t want[8] = {0, 1, 1, 2, 2, 3, 3, 0};
	CHECK(g.indices && memcmp(g.indices, want, sizeof want) == 0);
	const float *v = (const float *)g.vertices;
	for (int i = 0; i < 8 && g.indices; i++)
		CHECK(memcmp(v + 3 * g.indices[i], pos + 3 * idx[i], 12) == 0); /* the same ends */
	CHECK(g.bbox_max[0] == 1 && g.bbox_max[1] == 1 && g.bbox_max[2] == 0);  /* not the unused one */
	mesh_geo_free(&g);

	/* Without optimisation the arrays stay as they are. */
	in.optimize = false;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_vertices, 9);
	CHECK(g.indices && memcmp(g.indices, idx, sizeof idx) == 0);
	mesh_geo_free(&g);

	/* Three indices are no whole number of segments. */
	in.n_indices = 3;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "lines") != NULL);
	mesh_geo_free(&g);
	in.indices = NULL;
	in.n_indices = 8;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -EINVAL);
	mesh_geo_free(&g);
}

/* Points: the result is a vertex list without indices. Optimised, equal
 * points merge and the rest keep their order; otherwise every point is
 * written once per listing, in order. */
static void test_points(void)
{
	float pos[4 * 3] = {5, 0, 0, 1, 2, 3, 5, 0, 0, -1, -1, -1};
	uint32_t idx[3] = {2, 1, 0}; /* vertex 3 is no point */
	char err[256];
	mesh_geo_out g;
	mesh_geo_in in = {.n_vertices = 4,
	                  .positions = pos,
	                  .primitive = MESH_PRIM_POINTS,
	                  .indices = idx,
	                  .n_indices = 3,
	                  .layout = MESH_ATTR_POSITION,
	                  .optimize = true,
	                  .scale = 2.0f};
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.primitive, MESH_PRIM_POINTS);
	CHECK_EQ_INT(g.n_indices, 0);
	CHECK(g.indices == NULL);
	CHECK_EQ_INT(g.n_vertices, 2);
	const float *v = (const float *)g.vertices;
	CHECK(v[0] == 10 && v[1] == 0 && v[3] == 2 && v[5] == 6); /* scaled, first use first */
	CHECK(g.bbox_min[0] == 2 && g.bbox_max[0] == 10 && g.bbox_max[2] == 6);
	mesh_geo_free(&g);

	in.optimize = false;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_vertices, 3);
	v = (const float *)g.vertices;
	CHECK(v[0] == 10 && v[3] == 2 && v[6] == 10);
	mesh_geo_free(&g);

	/* No index list: every vertex is a point (a point cloud). */
	in.indices = NULL;
	in.n_indices = 4;
	in.optimize = true;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), 0);
	CHECK_EQ_INT(g.n_vertices, 3);
	CHECK_EQ_INT(g.n_indices, 0);
	mesh_geo_free(&g);
	in.n_indices = 3; /* must then count every vertex */
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -EINVAL);
	mesh_geo_free(&g);
	in.n_indices = 0;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -ENODATA);
	CHECK(strstr(err, "no points") != NULL);
	mesh_geo_free(&g);
	in.primitive = MESH_PRIM_COUNT;
	CHECK_EQ_INT(mesh_geo_build(&in, &g, err, sizeof err), -EINVAL);
	mesh_geo_free(&g);
}

int main(void)
{
	make_soup();
	test_optimise_cube();
	test_attributes();
	test_unreferenced();
	test_lines();
	test_points();
	test_errors();
	TEST_DONE();
}
