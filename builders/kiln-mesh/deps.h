/* deps.h: the files a model reads besides itself, for create_jobs's
 * source_dependencies, so that editing them rebuilds the model's meshes:
 * an OBJ's material libraries (mtllib) and a glTF's external buffers
 * (buffers[].uri in a .gltf, or in a .glb's JSON chunk). Other formats carry
 * their geometry inside the one file. Textures are not listed: assimp does
 * not read them, and they are the products' path dependencies instead.
 *
 * Paths are returned as written (backslashes turned into slashes, glTF
 * percent-escapes decoded), relative to the model's folder, which is how
 * the supervisor resolves them first. */
#ifndef KILN_MESH_DEPS_H
#define KILN_MESH_DEPS_H

#include <stddef.h>

#include "arena.h"

/* At most this many dependencies are listed per model. */
#define MESH_DEPS_MAX 64

/* A .gltf or .glb JSON part larger than this is not scanned (it would be
 * data: URIs, which need no dependency anyway). */
#define MESH_DEPS_MAX_JSON (64u << 20)

/* Scans the model at full_path (its format told by the extension of name).
 * On success *out (OUT, from a) holds *n paths. A model that cannot be read
 * or parsed has no dependencies (the job itself reports the problem).
 * Returns 0 or -ENOMEM. */
int mesh_deps_scan(const char *full_path, const char *name, arena *a, const char ***out, size_t *n);

#endif
