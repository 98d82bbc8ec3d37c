/* texpath.h: turning a texture path written in a model into a product path
 * dependency (SPEC section 5, path_dependencies of type "source").
 *
 * Models name textures relative to their own folder, with backslashes when
 * they were saved on Windows, or by an absolute path on the author's
 * machine. A dependency is useful to kiln only as a path relative to the
 * scan folder, so a written path is resolved against the model's folder and
 * kept in that form when it lands inside the scan folder; otherwise it is
 * passed on exactly as written, for a person to read. */
#ifndef KILN_MESH_TEXPATH_H
#define KILN_MESH_TEXPATH_H

#include <stddef.h>

/* watch_folder: the scan folder, absolute. model: the model's path relative
 * to it ("props/crate.fbx"). written: the texture path from the material.
 * Returns 1 and fills out when there is a dependency to record; 0 when there
 * is none (an empty path, or "*N", a texture embedded in the model); or
 * KILN_E_TOOBIG when out is too small. */
int mesh_tex_resolve(const char *watch_folder, const char *model, const char *written, char *out,
                     size_t outsz);

#endif
