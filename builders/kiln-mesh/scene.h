/* scene.h: the .kscene product, one per model: the scene around the meshes.
 *
 * A .kscene is a JSON object (README.md documents every key): the node
 * hierarchy as a flat array in depth-first order, each node with its name,
 * its parent's index, its local transform and the sub_ids of the mesh
 * products it places; the mesh products themselves; the cameras, the
 * lights; and the names and durations of the animations. It is what an
 * engine needs to put the .kmesh products where the model had them, and the
 * whole product of a model that holds no mesh (a Collada file of cameras or
 * lights, an animation clip).
 *
 * The writer reads the scene defensively (NULL arrays and children, mesh
 * indices out of range, names without a terminator), because it is also
 * given scenes that assimp's validation did not see (process.c says when),
 * and it walks at most MESH_SCENE_MAX_DEPTH levels of nodes. */
#ifndef KILN_MESH_SCENE_H
#define KILN_MESH_SCENE_H

#include <stddef.h>
#include <stdint.h>

struct aiScene;

/* The format version, the value of the "kscene" key. */
#define MESH_SCENE_VERSION 1

/* The scene product's sub_id. Mesh sub_ids are never 0 (subid.h), so this
 * one cannot collide with them, and it stays the same whatever the model
 * holds. */
#define MESH_SCENE_SUB_ID 0u

/* Nodes deeper than this below the root are left out of the scene (with
 * their subtrees), so that a hostile hierarchy cannot cost unbounded stack.
 * process.c walks nodes for mesh identities to the same depth. */
#define MESH_SCENE_MAX_DEPTH 256

/* More nodes than this are not written either: a node listed twice among
 * its parent's children is not caught by assimp's validation, and such
 * sharing could otherwise multiply the tree within the depth limit. */
#define MESH_SCENE_MAX_NODES (1u << 20)

/* One mesh product the scene lists (the caller's, borrowed). */
typedef struct mesh_scene_product {
	unsigned mesh; /* index in scene->mMeshes */
	uint32_t sub_id;
	uint32_t primitive; /* MESH_PRIM_* */
	const char *file;   /* the product path, as reported */
	const char *name;   /* the name the product path was made from */
} mesh_scene_product;

/* What the writer had to leave out or change, for the caller's log. */
typedef struct mesh_scene_stats {
	uint64_t n_nodes;     /* nodes written */
	uint64_t n_cut;       /* subtrees left out by MESH_SCENE_MAX_DEPTH or _NODES */
	uint64_t n_nonfinite; /* NaN or infinite numbers written as 0 */
} mesh_scene_stats;

/* The scene product's path, relative to the temp dir:
 * "<source_file without extension>/<source file name>.kscene", for example
 * "props/crate.fbx" -> "props/crate/crate.fbx.kscene". The extension stays
 * in the name so that X.obj and X.fbx in one folder, which share the product
 * folder X/, do not share a scene. Returns 0 or KILN_E_TOOBIG. */
int mesh_scene_path(const char *source_file, char *out, size_t outsz);

/* Writes the scene of s to path (created or truncated, mode 0644).
 * source_file is the model's path in its scan folder, full_path its
 * absolute path: a root node named with the latter (the OpenGEX importer
 * names it so) is written with the former's name, so that the product does
 * not depend on where the scan folder lies. scale
 * is the sidecar's, applied to what is a length (node translations, camera
 * and light positions, clip planes), so that the scene fits the scaled
 * meshes. prods (n_prods entries) are the mesh products written, listed at
 * the nodes that reference their mesh. *st (OUT) is filled. Returns 0,
 * -ENOMEM or -errno; a failed write removes the partial file. */
int mesh_scene_write(const char *path, const struct aiScene *s, const char *source_file,
                     const char *full_path, float scale, const mesh_scene_product *prods, size_t n_prods,
                     mesh_scene_stats *st);

#endif
