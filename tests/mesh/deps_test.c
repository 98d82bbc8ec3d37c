/* deps_test.c: the files a model reads besides itself (OBJ mtllib, glTF
 * buffers), for create_jobs's source_dependencies. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "deps.h"
#include "path.h"
#include "test.h"

static char dir[128];

static const char *put(const char *name, const void *data, size_t len)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	fwrite(data, 1, len, f);
	fclose(f);
	return p;
}

/* The dependencies of a model joined by '|', or "(none)". */
static const char *deps_of(const char *name, const char *text, size_t len)
{
	static char out[1024];
	arena *a = arena_new();
	const char **paths;
	size_t n;
	const char *p = put(name, text, len);
	out[0] = 0;
	if (mesh_deps_scan(p, name, a, &paths, &n) != 0)
		snprintf(out, sizeof out, "(error)");
	else if (n == 0)
		snprintf(out, sizeof out, "(none)");
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "|" : "", paths[i]);
	arena_free(a);
	return out;
}

#define DEPS(name, lit) deps_of(name, lit, sizeof(lit) - 1)

static void test_obj(void)
{
	CHECK_EQ_STR(DEPS("a.obj", "mtllib a.mtl\nv 0 0 0\n"), "a.mtl");
	CHECK_EQ_STR(
	    DEPS("b.OBJ",
	         "# comment mtllib no.mtl\r\nmtllib  My Materials.mtl \r\ng x\nmtllib ..\\shared\\m.mtl\n"
	         "mtllib a.mtl\nmtllib a.mtl\n"),
	    "My Materials.mtl|../shared/m.mtl|a.mtl");
	CHECK_EQ_STR(DEPS("c.obj", "v 0 0 0\nf 1 1 1\n"), "(none)");
	CHECK_EQ_STR(DEPS("d.obj", "mtllibx.mtl\nmtllib\n"), "(none)");
}

static void test_gltf(void)
{
	CHECK_EQ_STR(DEPS("m.gltf",
	                  "{\"buffers\": [{\"uri\": \"m0.bin\", \"byteLength\": 4},"
	                  " {\"uri\": \"data:application/octet-stream;base64,AAAA\"},"
	                  " {\"uri\": \"sub%20dir/m%2B1.bin\"}, {\"byteLength\": 3},"
	                  " {\"uri\": \"https://example.com/x.bin\"}, {\"uri\": \"file://abs.bin\"}]}"),
	             "m0.bin|sub dir/m+1.bin|abs.bin");
	/* glTF 1 keeps buffers in an object. */
	CHECK_EQ_STR(DEPS("old.gltf", "{\"buffers\": {\"b\": {\"uri\": \"old.bin\"}}}"), "old.bin");
	CHECK_EQ_STR(DEPS("bad.gltf", "{\"buffers\": [{\"uri\": "), "(none)");
	CHECK_EQ_STR(DEPS("no.gltf", "{\"asset\": {\"version\": \"2.0\"}}"), "(none)");
}

static void test_glb(void)
{
	const char json[] = "{\"buffers\":[{\"byteLength\":8},{\"uri\":\"extra.bin\"}]}  ";
	unsigned char glb[20 + sizeof json];
	uint32_t jl = sizeof json - 1, total = (uint32_t)(20 + jl);
	memcpy(glb, "glTF", 4);
	uint32_t hdr[4] = {2, total, jl, 0};
	memcpy(glb + 4, &hdr[0], 4); /* little-endian host, as the test assumes */
	memcpy(glb + 8, &hdr[1], 4);
	memcpy(glb + 12, &hdr[2], 4);
	memcpy(glb + 16, "JSON", 4);
	memcpy(glb + 20, json, jl);
	CHECK_EQ_STR(deps_of("m.glb", (const char *)glb, total), "extra.bin");
	/* A claimed JSON length beyond the file, or a wrong chunk type. */
	uint32_t big = 1000;
	memcpy(glb + 12, &big, 4);
	CHECK_EQ_STR(deps_of("cut.glb", (const char *)glb, total), "(none)");
	memcpy(glb + 12, &jl, 4);
	memcpy(glb + 16, "BIN\0", 4);
	CHECK_EQ_STR(deps_of("bin.glb", (const char *)glb, total), "(none)");
	CHECK_EQ_STR(DEPS("tiny.glb", "glTF"), "(none)");
}

static void test_other(void)
{
	CHECK_EQ_STR(DEPS("m.fbx", "mtllib a.mtl\n"), "(none)");
	arena *a = arena_new();
	const char **paths;
	size_t n = 99;
	CHECK_EQ_INT(mesh_deps_scan("/nonexistent/m.obj", "m.obj", a, &paths, &n), 0);
	CHECK_EQ_INT(n, 0);
	arena_free(a);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/kmesh-deps-%d", (int)getpid());
	path_mkdirs(dir, 0755);
	test_obj();
	test_gltf();
	test_glb();
	test_other();
	path_rmtree(dir);
	TEST_DONE();
}
