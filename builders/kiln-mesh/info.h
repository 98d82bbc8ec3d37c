/* info.h: the options sidecar of a model, X.fbx.assetinfo (SPEC section 2,
 * `metadata`).
 *
 * A JSON object; every key is optional:
 *   "normals":  "auto" (default: the file's normals, smooth ones generated
 *               where a mesh has none), "custom" (the file's normals are
 *               expected: a mesh without them gets generated ones and a
 *               warning), "generate" (always recomputed, smooth), "none" (no
 *               normals in the product)
 *   "tangents": false (default) or true (needs normals and UVs)
 *   "smoothing_angle": degrees, 0 to 180 (default 175): the crease angle
 *               for generated normals
 *   "flip_uvs": false (default) or true (v becomes 1 - v)
 *   "optimize": true (default) or false (keep the imported vertex and index
 *               order; duplicates are still merged by assimp)
 *   "scale":    a factor applied to positions (default 1; > 0)
 * Unknown keys, duplicate keys, wrong types and bad JSON are errors whose
 * text names the file, line and column. */
#ifndef KILN_MESH_INFO_H
#define KILN_MESH_INFO_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mesh_normals {
	MESH_NORMALS_AUTO = 0,
	MESH_NORMALS_CUSTOM,
	MESH_NORMALS_GENERATE,
	MESH_NORMALS_NONE,
} mesh_normals;

typedef struct mesh_info {
	mesh_normals normals;
	bool tangents;
	float smoothing_angle;
	bool flip_uvs;
	bool optimize;
	float scale;
} mesh_info;

/* A sidecar larger than this is refused: options take a few hundred bytes. */
#define MESH_INFO_MAX_FILE (64u * 1024u)

/* The options when there is no sidecar. */
void mesh_info_defaults(mesh_info *out);

/* Parses the sidecar text[0..len); name is the file name used in messages.
 * On success returns 0 and fills *out (OUT). On a problem returns
 * KILN_E_CONFIG with err set to "NAME:LINE:COL: what is wrong"; -ENOMEM when
 * out of memory. */
int mesh_info_parse(const char *text, size_t len, const char *name, mesh_info *out, char *err, size_t errsz);

/* Reads and parses the file at path. Returns 0, -ENOENT when there is no
 * such file (*out then holds the defaults), KILN_E_CONFIG or KILN_E_TOOBIG
 * (err set, naming the file), or another -errno (err set). */
int mesh_info_load(const char *path, mesh_info *out, char *err, size_t errsz);

#endif
