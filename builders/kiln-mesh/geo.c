/* geo.c: interleaving and meshoptimizer passes (see geo.h). */
#include "geo.h"

#include <errno.h>
#include <math.h>
#include <meshoptimizer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

/* meshoptimizer's recommended overdraw threshold: up to 5% worse vertex
 * cache efficiency in exchange for less overdraw. */
#define OVERDRAW_THRESHOLD 1.05f

void mesh_geo_free(mesh_geo_out *out)
{
	free(out->vertices);
	free(out->indices);
	out->vertices = NULL;
	out->indices = NULL;
}

/* Copies n floats, replacing NaN and infinities by 0 and counting them. */
static void put_floats(uint8_t *dst, const float *src, int n, float mul, uint64_t *bad)
{
	for (int i = 0; i < n; i++) {
		float f = src[i] * mul;
		if (!isfinite(f)) {
			f = 0.0f;
			(*bad)++;
		}
		memcpy(dst + 4 * i, &f, 4);
	}
}

static uint8_t unorm8(float f, uint64_t *bad)
{
	if (!isfinite(f)) {
		(*bad)++;
		return 0;
	}
	if (f <= 0.0f)
		return 0;
	if (f >= 1.0f)
		return 255;
	return (uint8_t)(f * 255.0f + 0.5f);
}

static void interleave(const mesh_geo_in *in, uint32_t layout, uint32_t stride, uint8_t *vb, uint64_t *bad)
{
	int o_n = mesh_fmt_attr_offset(layout, MESH_ATTR_NORMAL);
	int o_t = mesh_fmt_attr_offset(layout, MESH_ATTR_TANGENT);
	int o_uv = mesh_fmt_attr_offset(layout, MESH_ATTR_UV0);
	int o_c = mesh_fmt_attr_offset(layout, MESH_ATTR_COLOR0);

	for (uint32_t v = 0; v < in->n_vertices; v++) {
		uint8_t *d = vb + (size_t)v * stride;
		put_floats(d, in->positions + 3 * (size_t)v, 3, in->scale, bad);
		if (o_n >= 0)
			put_floats(d + o_n, in->normals + 3 * (size_t)v, 3, 1.0f, bad);
		if (o_t >= 0) {
			const float *t = in->tangents + 3 * (size_t)v;
			float w = 1.0f;
			put_floats(d + o_t, t, 3, 1.0f, bad);
			/* The handedness is the sign of (n x t) . b: the
			 * shader rebuilds b as cross(n, t) * w. */
			if (in->bitangents && in->normals) {
				const float *n = in->normals + 3 * (size_t)v;
				const float *b = in->bitangents + 3 * (size_t)v;
				float cx = n[1] * t[2] - n[2] * t[1];
				float cy = n[2] * t[0] - n[0] * t[2];
				float cz = n[0] * t[1] - n[1] * t[0];
				if (cx * b[0] + cy * b[1] + cz * b[2] < 0.0f)
					w = -1.0f;
			}
			memcpy(d + o_t + 12, &w, 4);
		}
		if (o_uv >= 0) {
			const float *uv = in->uv0 + (size_t)in->uv_stride * v;
			float st[2] = {uv[0], in->flip_v ? 1.0f - uv[1] : uv[1]};
			put_floats(d + o_uv, st, 2, 1.0f, bad);
		}
		if (o_c >= 0) {
			const float *c = in->color0 + 4 * (size_t)v;
			for (int i = 0; i < 4; i++)
				d[o_c + i] = unorm8(c[i], bad);
		}
	}
}

static void bounds(const uint8_t *vb, uint32_t n, uint32_t stride, float mn[3], float mx[3])
{
	for (int i = 0; i < 3; i++)
		mn[i] = mx[i] = 0.0f;
	for (uint32_t v = 0; v < n; v++) {
		float p[3];
		memcpy(p, vb + (size_t)v * stride, sizeof p);
		for (int i = 0; i < 3; i++) {
			if (v == 0 || p[i] < mn[i])
				mn[i] = p[i];
			if (v == 0 || p[i] > mx[i])
				mx[i] = p[i];
		}
	}
}

/* The triangle passes; vb (n_vertices interleaved vertices) becomes the
 * result's vertex array or is freed. Returns 0 or -ENOMEM. */
static int build_triangles(const mesh_geo_in *in, uint32_t n_idx, uint32_t stride, uint8_t *vb,
                           mesh_geo_out *out)
{
	uint32_t *remap = NULL, *tmp = NULL;
	uint8_t *vb2 = NULL;
	int rc = -ENOMEM;

	out->n_indices = n_idx;
	out->indices = malloc((size_t)n_idx * sizeof(uint32_t));
	if (!out->indices)
		goto out;
	if (!in->optimize) {
		memcpy(out->indices, in->indices, (size_t)n_idx * sizeof(uint32_t));
		out->vertices = vb;
		out->n_vertices = in->n_vertices;
		return 0;
	}
	remap = malloc((size_t)in->n_vertices * sizeof(uint32_t));
	tmp = malloc((size_t)n_idx * sizeof(uint32_t));
	if (!remap || !tmp)
		goto out;
	/* Merging compares whole vertices byte for byte, after interleaving,
	 * so two vertices merge only when every written attribute agrees. */
	size_t unique = meshopt_generateVertexRemap(remap, in->indices, n_idx, vb, in->n_vertices, stride);
	vb2 = malloc(unique ? unique * stride : 1);
	if (!vb2)
		goto out;
	meshopt_remapVertexBuffer(vb2, vb, in->n_vertices, stride, remap);
	meshopt_remapIndexBuffer(tmp, in->indices, n_idx, remap);
	meshopt_optimizeVertexCache(out->indices, tmp, n_idx, unique);
	meshopt_optimizeOverdraw(tmp, out->indices, n_idx, (const float *)vb2, unique, stride,
	                         OVERDRAW_THRESHOLD);
	/* vb is no longer needed and is at least as large as vb2: reuse it as
	 * the destination of the fetch reordering. */
	size_t final = meshopt_optimizeVertexFetch(vb, tmp, n_idx, vb2, unique, stride);
	memcpy(out->indices, tmp, (size_t)n_idx * sizeof(uint32_t));
	out->vertices = vb;
	out->n_vertices = (uint32_t) final;
	vb = NULL;
	rc = 0;
out:
	free(vb);
	free(vb2);
	free(remap);
	free(tmp);
	return rc;
}

/* Lines and points; vb as for build_triangles. The corners (two per line
 * segment, one per point) are laid out as an unindexed stream, which
 * meshopt_generateVertexRemap accepts whatever its length: its remap gives
 * each distinct vertex a number in order of first use, which merges,
 * drops the unreferenced and orders for fetch in one pass. */
static int build_stream(const mesh_geo_in *in, uint32_t n_idx, uint32_t stride, uint8_t *vb,
                        mesh_geo_out *out)
{
	uint32_t *remap = NULL;
	uint8_t *corners = NULL;
	int points = in->primitive == MESH_PRIM_POINTS;
	int rc = -ENOMEM;

	if (!in->optimize && !points) {
		out->indices = malloc((size_t)n_idx * sizeof(uint32_t));
		if (!out->indices)
			goto out;
		memcpy(out->indices, in->indices, (size_t)n_idx * sizeof(uint32_t));
		out->n_indices = n_idx;
		out->vertices = vb;
		out->n_vertices = in->n_vertices;
		return 0;
	}
	if (in->indices) {
		corners = malloc((size_t)n_idx * stride);
		if (!corners)
			goto out;
		for (uint32_t i = 0; i < n_idx; i++)
			memcpy(corners + (size_t)i * stride, vb + (size_t)in->indices[i] * stride, stride);
		free(vb);
		vb = NULL;
	} else {
		corners = vb; /* every vertex is one point, in order */
		vb = NULL;
	}
	if (!in->optimize) {
		/* Points only: one vertex per point, as the file lists them. */
		out->vertices = corners;
		out->n_vertices = n_idx;
		return 0;
	}
	remap = malloc((size_t)n_idx * sizeof(uint32_t));
	if (!remap)
		goto out;
	size_t unique = meshopt_generateVertexRemap(remap, NULL, n_idx, corners, n_idx, stride);
	out->vertices = malloc(unique ? unique * stride : 1);
	if (!out->vertices)
		goto out;
	meshopt_remapVertexBuffer(out->vertices, corners, n_idx, stride, remap);
	out->n_vertices = (uint32_t)unique;
	if (!points) {
		out->indices = remap; /* the corner's new vertex is its index */
		out->n_indices = n_idx;
		remap = NULL;
	}
	rc = 0;
out:
	free(vb);
	free(corners);
	free(remap);
	return rc;
}

int mesh_geo_build(const mesh_geo_in *in, mesh_geo_out *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof *out);
	uint32_t layout = in->layout | MESH_ATTR_POSITION;
	uint32_t stride = mesh_fmt_stride(layout);
	if (in->primitive >= MESH_PRIM_COUNT) {
		snprintf(err, errsz, "unknown primitive type %u", in->primitive);
		return -EINVAL;
	}
	if (!stride || !in->positions || ((layout & MESH_ATTR_NORMAL) && !in->normals) ||
	    ((layout & MESH_ATTR_TANGENT) && !in->tangents) ||
	    ((layout & MESH_ATTR_UV0) && (!in->uv0 || in->uv_stride < 2)) ||
	    ((layout & MESH_ATTR_COLOR0) && !in->color0)) {
		snprintf(err, errsz, "vertex layout 0x%x asks for an attribute the mesh does not have",
		         layout);
		return -EINVAL;
	}
	const char *what = mesh_fmt_prim_name(in->primitive);
	uint32_t per = mesh_fmt_prim_indices(in->primitive);
	if (in->n_indices == 0) {
		snprintf(err, errsz, "the mesh has no %s", what);
		return -ENODATA;
	}
	if (in->n_indices > MESH_GEO_MAX_INDICES) {
		snprintf(err, errsz, "the mesh has %llu indices; at most %u are accepted",
		         (unsigned long long)in->n_indices, MESH_GEO_MAX_INDICES);
		return -E2BIG;
	}
	if (per && in->n_indices % per != 0) {
		snprintf(err, errsz, "%llu indices is not a whole number of %s",
		         (unsigned long long)in->n_indices, what);
		return -EINVAL;
	}
	if (!in->indices && (per || in->n_indices != in->n_vertices)) {
		snprintf(err, errsz, "the mesh has no index list");
		return -EINVAL;
	}
	uint32_t n_idx = (uint32_t)in->n_indices;
	for (uint32_t i = 0; in->indices && i < n_idx; i++) {
		if (in->indices[i] >= in->n_vertices) {
			snprintf(err, errsz, "index %u (at %u) is out of range: the mesh has %u vertices",
			         in->indices[i], i, in->n_vertices);
			return -EINVAL;
		}
	}

	out->primitive = in->primitive;
	out->layout = layout;
	out->stride = stride;
	uint8_t *vb = malloc(in->n_vertices ? (size_t)in->n_vertices * stride : 1);
	int rc = -ENOMEM;
	if (vb) {
		interleave(in, layout, stride, vb, &out->n_nonfinite);
		/* Both take vb over, whatever they return. */
		rc = in->primitive == MESH_PRIM_TRIANGLES ? build_triangles(in, n_idx, stride, vb, out)
		                                          : build_stream(in, n_idx, stride, vb, out);
	}
	if (rc) {
		snprintf(err, errsz, "out of memory for a mesh of %u vertices and %u indices", in->n_vertices,
		         n_idx);
		mesh_geo_free(out);
		return rc;
	}
	bounds(out->vertices, out->n_vertices, stride, out->bbox_min, out->bbox_max);
	return 0;
}
