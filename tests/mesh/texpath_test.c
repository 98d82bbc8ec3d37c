/* texpath_test.c: texture paths written in models to dependency paths. */
#include <string.h>

#include "kerr.h"
#include "test.h"
#include "texpath.h"

static const char *res(const char *model, const char *written)
{
	static char out[4096];
	int rc = mesh_tex_resolve("/proj/Assets", model, written, out, sizeof out);
	if (rc == 0)
		return "(none)";
	if (rc != 1)
		return "(error)";
	return out;
}

int main(void)
{
	/* Relative to the model's folder, normalised. */
	CHECK_EQ_STR(res("props/crate.fbx", "crate_d.png"), "props/crate_d.png");
	CHECK_EQ_STR(res("crate.obj", "crate_d.png"), "crate_d.png");
	CHECK_EQ_STR(res("props/crate.fbx", "./tex/crate_d.png"), "props/tex/crate_d.png");
	CHECK_EQ_STR(res("props/crate.fbx", "../textures/wood.png"), "textures/wood.png");
	CHECK_EQ_STR(res("a/b/c.dae", "..\\..\\shared\\x.tga"), "shared/x.tga");
	CHECK_EQ_STR(res("props/crate.gltf", "file://tex/a.png"), "props/tex/a.png");
	/* Climbing out of the scan folder: kept as written. */
	CHECK_EQ_STR(res("crate.obj", "../outside.png"), "../outside.png");
	CHECK_EQ_STR(res("props/crate.obj", "..\\..\\..\\x.png"), "..\\..\\..\\x.png");
	/* Absolute: inside the scan folder becomes relative, else as written. */
	CHECK_EQ_STR(res("props/crate.fbx", "/proj/Assets/textures/a.png"), "textures/a.png");
	CHECK_EQ_STR(res("props/crate.fbx", "/proj/Assets/./textures//b.png"), "textures/b.png");
	CHECK_EQ_STR(res("props/crate.fbx", "/proj/AssetsX/a.png"), "/proj/AssetsX/a.png");
	CHECK_EQ_STR(res("props/crate.fbx", "/home/artist/a.png"), "/home/artist/a.png");
	CHECK_EQ_STR(res("props/crate.fbx", "C:\\Users\\artist\\wood.png"), "C:\\Users\\artist\\wood.png");
	/* No dependency: embedded or empty. */
	CHECK_EQ_STR(res("m.glb", "*0"), "(none)");
	CHECK_EQ_STR(res("m.glb", ""), "(none)");
	/* A small output buffer is an error, not a truncated path. */
	char tiny[4];
	CHECK_EQ_INT(mesh_tex_resolve("/proj/Assets", "a.obj", "long_name.png", tiny, sizeof tiny),
	             KILN_E_TOOBIG);
	TEST_DONE();
}
