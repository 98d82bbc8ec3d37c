/* format.h: the .kmesh product format written by kiln-mesh.
 *
 * One file holds one primitive list (triangles, lines or points): an
 * 80-byte header, the interleaved vertex array, then the index array (none
 * for points: the vertices are the points). Every multi-byte value is
 * little-endian whatever the host. README.md documents each field with its
 * offset; the constants below are the single source of those numbers.
 *
 * Version 2 added the primitive type, in the u32 that version 1 reserved
 * (always 0, which is MESH_PRIM_TRIANGLES). A triangle list is still
 * written as version 1, byte for byte as before, so that a reader of
 * version 1 goes on reading every file it can draw; lines and points are
 * version 2, which such a reader refuses by its version check instead of
 * drawing them as triangles. */
#ifndef KILN_MESH_FORMAT_H
#define KILN_MESH_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define MESH_FMT_MAGIC       "KMSH"
#define MESH_FMT_VERSION     2u /* the newest version, written for lines and points */
#define MESH_FMT_VERSION_1   1u /* still written for triangle lists */
#define MESH_FMT_HEADER_SIZE 80u

/* The primitive type (header offset 76). */
enum {
	MESH_PRIM_TRIANGLES = 0, /* three indices per triangle */
	MESH_PRIM_LINES = 1,     /* two indices per line segment */
	MESH_PRIM_POINTS = 2,    /* no indices: one point per vertex */
	MESH_PRIM_COUNT = 3,
};

/* Vertex layout flags. Attributes are stored in this order inside a vertex,
 * each only when its flag is set. */
enum {
	MESH_ATTR_POSITION = 1u << 0, /* 3 x float32 */
	MESH_ATTR_NORMAL = 1u << 1,   /* 3 x float32 */
	MESH_ATTR_TANGENT = 1u << 2,  /* 4 x float32: xyz, then w = handedness (+1 or -1) */
	MESH_ATTR_UV0 = 1u << 3,      /* 2 x float32 */
	MESH_ATTR_COLOR0 = 1u << 4,   /* 4 x uint8, RGBA, unsigned normalised */
	MESH_ATTR_ALL = 0x1fu,
};

/* Header field offsets, from the start of the file. */
enum {
	MESH_FMT_OFF_MAGIC = 0,          /* char[4] "KMSH" */
	MESH_FMT_OFF_VERSION = 4,        /* u16 */
	MESH_FMT_OFF_HEADER_SIZE = 6,    /* u16, 80 */
	MESH_FMT_OFF_LAYOUT = 8,         /* u32, MESH_ATTR_* */
	MESH_FMT_OFF_STRIDE = 12,        /* u32, bytes per vertex */
	MESH_FMT_OFF_VERTEX_COUNT = 16,  /* u32 */
	MESH_FMT_OFF_INDEX_COUNT = 20,   /* u32, a multiple of 3 (triangles), 2 (lines), or 0 (points) */
	MESH_FMT_OFF_INDEX_SIZE = 24,    /* u32, 2 or 4 */
	MESH_FMT_OFF_MATERIAL = 28,      /* u32, the source's material index */
	MESH_FMT_OFF_BBOX_MIN = 32,      /* 3 x float32 */
	MESH_FMT_OFF_BBOX_MAX = 44,      /* 3 x float32 */
	MESH_FMT_OFF_VERTEX_OFFSET = 56, /* u64, from the start of the file */
	MESH_FMT_OFF_INDEX_OFFSET = 64,  /* u64, from the start of the file */
	MESH_FMT_OFF_SUB_ID = 72,        /* u32, the product's sub_id */
	MESH_FMT_OFF_PRIMITIVE = 76,     /* u32, MESH_PRIM_* (reserved, 0, in version 1) */
};

/* A mesh ready to write: vertices interleaved in host byte order with the
 * layout's stride (as mesh_geo builds them), 32-bit indices. */
typedef struct mesh_fmt_mesh {
	uint32_t primitive; /* MESH_PRIM_* */
	uint32_t layout;
	uint32_t n_vertices;
	const void *vertices; /* n_vertices * mesh_fmt_stride(layout) bytes */
	uint32_t n_indices;
	const uint32_t *indices;
	uint32_t material;
	uint32_t sub_id;
	float bbox_min[3], bbox_max[3];
} mesh_fmt_mesh;

/* Bytes per vertex for a layout (0 when POSITION is missing or unknown bits
 * are set). */
uint32_t mesh_fmt_stride(uint32_t layout);

/* Offset of attr (one MESH_ATTR_* flag) inside a vertex of layout, or -1
 * when the layout does not hold it. */
int mesh_fmt_attr_offset(uint32_t layout, uint32_t attr);

/* 2 when every index fits in 16 bits (n_vertices <= 65536), else 4. */
uint32_t mesh_fmt_index_size(uint32_t n_vertices);

/* Indices per primitive: 3 for triangles, 2 for lines, 0 for points (and
 * for an unknown type). */
uint32_t mesh_fmt_prim_indices(uint32_t primitive);

/* The version a file of this primitive type is written as: 1 for
 * triangles, 2 for lines and points. */
uint32_t mesh_fmt_version(uint32_t primitive);

/* "triangles", "lines", "points", or "unknown". */
const char *mesh_fmt_prim_name(uint32_t primitive);

/* Total file size of m. */
uint64_t mesh_fmt_file_size(const mesh_fmt_mesh *m);

/* Writes the 80-byte header of m into out. */
void mesh_fmt_header(const mesh_fmt_mesh *m, uint8_t out[MESH_FMT_HEADER_SIZE]);

/* Writes m to path (created or truncated, mode 0644), converting vertex and
 * index data to little-endian. Checks that the primitive type and the
 * layout are valid, that n_indices is a multiple of 3 for triangles and of
 * 2 for lines and is 0 for points, and that every index is below
 * n_vertices. Returns 0, -EINVAL for a mesh that breaks those rules, or
 * -errno. A failed write removes the partial file. */
int mesh_fmt_write(const char *path, const mesh_fmt_mesh *m);

#endif
