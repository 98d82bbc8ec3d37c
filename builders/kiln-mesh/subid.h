/* subid.h: stable sub_ids for the meshes of one source.
 *
 * A mesh's identity is where it sits in the scene, not its position in
 * assimp's mesh array (which importers and post-processing steps reorder):
 * the path of names of the first node that references it (root excluded,
 * joined with '/'), the mesh's own name, and its index within that node's
 * mesh list. The sub_id is the low 32 bits of XXH3-64 over
 *
 *     node_path, 0x00, mesh_name, 0x00, index in decimal
 *
 * and, when that value is 0 or taken by an earlier mesh of the same source,
 * the same bytes followed by 0x00, '#' and an attempt counter in decimal
 * (1, 2, ...) until the value is free. Meshes are resolved in scene order
 * (depth first, children and mesh lists as the file lists them), so the same
 * file always gets the same ids, and two meshes never share one. */
#ifndef KILN_MESH_SUBID_H
#define KILN_MESH_SUBID_H

#include <stddef.h>
#include <stdint.h>

typedef struct mesh_subid_key {
	const char *node_path; /* "" for a mesh on the root node or on no node */
	const char *mesh_name;
	uint32_t index_in_node;
} mesh_subid_key;

/* The id of one identity before collision handling; attempt 0 is the plain
 * form, attempt n > 0 the salted form described above. */
uint32_t mesh_subid_hash(const mesh_subid_key *k, uint32_t attempt);

/* Gives each of the n keys (in scene order) a distinct, non-zero id in out
 * (OUT, n entries). Returns 0 or -ENOMEM. */
int mesh_subid_assign(const mesh_subid_key *keys, size_t n, uint32_t *out);

#endif
