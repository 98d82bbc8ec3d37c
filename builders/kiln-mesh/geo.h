/* geo.h: turning one imported mesh of triangles, lines or points into the
 * interleaved, optimised vertex and index arrays of a .kmesh.
 *
 * The input is plain arrays (assimp's aiVector3D and aiColor4D are three and
 * four floats), so this module knows nothing of assimp and its tests build
 * meshes by hand. Steps: check every index, interleave the attributes the
 * layout asks for (non-finite values become 0 and are counted), then, when
 * optimising:
 *
 * - triangles: merge identical vertices and drop unreferenced ones
 *   (meshopt_generateVertexRemap), reorder triangles for the post-transform
 *   cache (meshopt_optimizeVertexCache) and for overdraw
 *   (meshopt_optimizeOverdraw, threshold 1.05), and vertices for fetch
 *   locality (meshopt_optimizeVertexFetch);
 * - lines and points: merge identical vertices, drop unreferenced ones and
 *   order the rest by first use. The cache and overdraw passes are about
 *   triangles and do not apply; the result is what remapping and fetch
 *   ordering would give, computed with meshopt_generateVertexRemap over the
 *   unindexed stream of corners, because meshoptimizer 0.18 asserts whole
 *   triangles when it is given an index buffer.
 *
 * Without optimising, triangles and lines keep their vertex and index
 * arrays as they are, and points are written one vertex per point, in
 * order. A point list has no indices in the result: its vertices are the
 * points. The bounding box covers the vertices of the result. */
#ifndef KILN_MESH_GEO_H
#define KILN_MESH_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Index counts above this are refused (2^31), so that every count and
 * offset fits comfortably in the format's 32-bit fields. */
#define MESH_GEO_MAX_INDICES (1u << 31)

typedef struct mesh_geo_in {
	uint32_t n_vertices;
	const float *positions;  /* 3 per vertex, required */
	const float *normals;    /* 3 per vertex, or NULL */
	const float *tangents;   /* 3 per vertex, or NULL */
	const float *bitangents; /* 3 per vertex, or NULL: the tangent's w is then +1 */
	const float *uv0;        /* uv_stride floats per vertex (u, v first), or NULL */
	uint32_t uv_stride;      /* 3 for assimp's aiVector3D */
	const float *color0;     /* 4 per vertex (RGBA, 0..1), or NULL */
	uint32_t primitive;      /* MESH_PRIM_*, triangles when 0 */
	/* 3 per triangle, 2 per line segment, 1 per point. For points only,
	 * NULL means every vertex once, in order (n_indices = n_vertices). */
	const uint32_t *indices;
	uint64_t n_indices;

	uint32_t layout; /* MESH_ATTR_* to write; each needs its array */
	bool optimize;
	bool flip_v; /* v becomes 1 - v */
	float scale; /* applied to positions */
} mesh_geo_in;

typedef struct mesh_geo_out {
	uint32_t primitive; /* as in the input */
	uint32_t layout;
	uint32_t stride;
	uint32_t n_vertices;
	uint8_t *vertices;  /* malloc'd, n_vertices * stride bytes, host order */
	uint32_t n_indices; /* 0 for points */
	uint32_t *indices;  /* malloc'd; NULL for points */
	float bbox_min[3], bbox_max[3];
	uint64_t n_nonfinite; /* non-finite input values that became 0 */
} mesh_geo_out;

/* Builds *out (OUT; the caller frees it with mesh_geo_free, also after an
 * error). Returns 0; -EINVAL when the primitive type is unknown, the layout
 * asks for an attribute with no array, n_indices is not a multiple of 3
 * (triangles) or 2 (lines), indices is NULL where it may not be, or an index
 * is out of range; -ENODATA when there is no primitive; -E2BIG when
 * n_indices is above MESH_GEO_MAX_INDICES; -ENOMEM. err says what was
 * wrong. */
int mesh_geo_build(const mesh_geo_in *in, mesh_geo_out *out, char *err, size_t errsz);

void mesh_geo_free(mesh_geo_out *out);

#endif
