/* texpath.c: texture path dependencies (see texpath.h). */
#include "texpath.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kerr.h"
#include "path.h"

static int copy_out(char *out, size_t outsz, const char *s)
{
	size_t n = strlen(s);
	if (n >= outsz)
		return KILN_E_TOOBIG;
	memcpy(out, s, n + 1);
	return 1;
}

int mesh_tex_resolve(const char *watch_folder, const char *model, const char *written, char *out,
                     size_t outsz)
{
	char fw[KILN_PATH_MAX], joined[KILN_PATH_MAX], norm[KILN_PATH_MAX], root[KILN_PATH_MAX];
	const char *p = written;

	if (!p || !*p || *p == '*')
		return 0;
	/* glTF writes URIs; a local file URI is a path like any other. */
	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	size_t n = strlen(p);
	if (n >= sizeof fw)
		return copy_out(out, outsz, written);
	for (size_t i = 0; i <= n; i++)
		fw[i] = p[i] == '\\' ? '/' : p[i];
	/* A drive letter ("C:/textures/x.png") is a Windows absolute path: it
	 * cannot be inside a scan folder on this machine. */
	bool drive = ((fw[0] | 0x20) >= 'a' && (fw[0] | 0x20) <= 'z') && fw[1] == ':';
	if (drive)
		return copy_out(out, outsz, written);

	if (fw[0] == '/') {
		if (path_normalize(fw, norm, sizeof norm) != 0 ||
		    path_normalize(watch_folder, root, sizeof root) != 0)
			return copy_out(out, outsz, written);
		size_t rl = strlen(root);
		if (strncmp(norm, root, rl) == 0 && norm[rl] == '/' && norm[rl + 1])
			return copy_out(out, outsz, norm + rl + 1);
		return copy_out(out, outsz, written);
	}

	/* Relative: against the model's folder, which is itself relative to
	 * the scan folder, so a result that climbs above it is outside. */
	const char *base = path_basename(model);
	size_t dl = (size_t)(base - model);
	if (dl >= sizeof joined)
		return copy_out(out, outsz, written);
	memcpy(joined, model, dl);
	joined[dl] = 0;
	if (path_join(joined, sizeof joined, joined, fw) != 0)
		return copy_out(out, outsz, written);
	if (path_normalize(joined, norm, sizeof norm) != 0 || strcmp(norm, ".") == 0)
		return copy_out(out, outsz, written);
	return copy_out(out, outsz, norm);
}
