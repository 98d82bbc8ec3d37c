/* geo.h: turning one imported triangle mesh into the interleaved, optimised
 * vertex and index arrays of a .kmesh.
 *
 * The input is plain arrays (assimp's aiVector3D and aiColor4D are three and
 * four floats), so this module knows nothing of assimp and its tests build
 * meshes by hand. Steps: check every index, interleave the attributes the
 * layout asks for (non-finite values become 0 and are counted), then, when
 * optimising, merge identical vertices and drop unreferenced ones
 * (meshopt_generateVertexRemap), reorder triangles for the post-transform
 * cache (meshopt_optimizeVertexCache) and for overdraw
 * (meshopt_optimizeOverdraw, threshold 1.05), and vertices for fetch
 * locality (meshopt_optimizeVertexFetch). The bounding box covers the
 * vertices of the result. */
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
	const uint32_t *indices; /* 3 per triangle */
	uint64_t n_indices;

	uint32_t layout; /* MESH_ATTR_* to write; each needs its array */
	bool optimize;
	bool flip_v; /* v becomes 1 - v */
	float scale; /* applied to positions */
} mesh_geo_in;

typedef struct mesh_geo_out {
	uint32_t layout;
	uint32_t stride;
	uint32_t n_vertices;
	uint8_t *vertices; /* malloc'd, n_vertices * stride bytes, host order */
	uint32_t n_indices;
	uint32_t *indices; /* malloc'd */
	float bbox_min[3], bbox_max[3];
	uint64_t n_nonfinite; /* non-finite input values that became 0 */
} mesh_geo_out;

/* Builds *out (OUT; the caller frees it with mesh_geo_free, also after an
 * error). Returns 0; -EINVAL when the layout asks for an attribute with no
 * array, n_indices is not a multiple of 3, or an index is out of range;
 * -ENODATA when there is no triangle; -E2BIG when n_indices is above
 * MESH_GEO_MAX_INDICES; -ENOMEM. err says what was wrong. */
int mesh_geo_build(const mesh_geo_in *in, mesh_geo_out *out, char *err, size_t errsz);

void mesh_geo_free(mesh_geo_out *out);

#endif
