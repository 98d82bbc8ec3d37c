/* info_test.c: the .assetinfo sidecar: defaults, every key, and errors that
 * name the file, line and column. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "info.h"
#include "kerr.h"
#include "test.h"

static char err[512];

static int parse(const char *text, mesh_info *o)
{
	err[0] = 0;
	return mesh_info_parse(text, strlen(text), "m.fbx.assetinfo", o, err, sizeof err);
}

static void test_defaults_and_keys(void)
{
	mesh_info o;
	mesh_info_defaults(&o);
	CHECK_EQ_INT(o.normals, MESH_NORMALS_AUTO);
	CHECK(!o.tangents && !o.flip_uvs && o.optimize);
	CHECK(o.scale == 1.0f && o.smoothing_angle == 175.0f);

	CHECK_EQ_INT(parse("{}", &o), 0);
	CHECK_EQ_INT(o.normals, MESH_NORMALS_AUTO);
	CHECK(o.optimize);

	CHECK_EQ_INT(parse("{\"normals\": \"custom\", \"tangents\": true, \"flip_uvs\": true,\n"
	                   " \"optimize\": false, \"scale\": 0.01, \"smoothing_angle\": 80}",
	                   &o),
	             0);
	CHECK_EQ_INT(o.normals, MESH_NORMALS_CUSTOM);
	CHECK(o.tangents && o.flip_uvs && !o.optimize);
	CHECK(o.scale == 0.01f && o.smoothing_angle == 80.0f);
	CHECK_EQ_INT(parse("{\"normals\": \"generate\"}", &o), 0);
	CHECK_EQ_INT(o.normals, MESH_NORMALS_GENERATE);
	CHECK_EQ_INT(parse("{\"normals\": \"none\"}", &o), 0);
	CHECK_EQ_INT(o.normals, MESH_NORMALS_NONE);
}

static void test_errors(void)
{
	mesh_info o;
	mesh_info_defaults(&o);
	o.tangents = true; /* an error must leave *out alone */

	CHECK_EQ_INT(parse("{\"normals\": \"custom\",\n  \"tangent\": true}", &o), KILN_E_CONFIG);
	CHECK(strncmp(err, "m.fbx.assetinfo:2:3: unknown key \"tangent\"", 42) == 0);
	CHECK(o.tangents);

	CHECK_EQ_INT(parse("{\"normals\": \"custom\",\n\n   \"tangents\": tru}", &o), KILN_E_CONFIG);
	CHECK(strncmp(err, "m.fbx.assetinfo:3:", 18) == 0);

	CHECK_EQ_INT(parse("{\"normals\": \"smooth\"}", &o), KILN_E_CONFIG);
	CHECK(strstr(err, "m.fbx.assetinfo:1:13: normals must be auto, custom, generate or none") == err);

	CHECK_EQ_INT(parse("{\"tangents\": \"yes\"}", &o), KILN_E_CONFIG);
	CHECK(strstr(err, ":1:14: tangents must be true or false, not a string") != NULL);

	CHECK_EQ_INT(parse("{\"scale\": 0}", &o), KILN_E_CONFIG);
	CHECK(strstr(err, ":1:11: scale must be above 0") != NULL);
	CHECK_EQ_INT(parse("{\"smoothing_angle\": 181}", &o), KILN_E_CONFIG);

	CHECK_EQ_INT(parse("{\"tangents\": true,\n \"tangents\": false}", &o), KILN_E_CONFIG);
	CHECK(strstr(err, "m.fbx.assetinfo:2:2: duplicate key \"tangents\" (first at 1:2)") == err);

	CHECK_EQ_INT(parse("[1, 2]", &o), KILN_E_CONFIG);
	CHECK(strstr(err, "m.fbx.assetinfo:1:1: the options must be a JSON object") == err);

	CHECK_EQ_INT(parse("{\"normals\": \"none\", \"tangents\": true}", &o), KILN_E_CONFIG);
	CHECK(strstr(err, ":1:21: tangents need normals") != NULL);

	CHECK_EQ_INT(parse("", &o), KILN_E_CONFIG);
	CHECK(strncmp(err, "m.fbx.assetinfo:1:1: ", 21) == 0);
	CHECK(o.tangents);
}

static void test_load(void)
{
	char path[64];
	mesh_info o;
	snprintf(path, sizeof path, "/tmp/kmesh-info-%d.assetinfo", (int)getpid());
	unlink(path);
	CHECK_EQ_INT(mesh_info_load(path, &o, err, sizeof err), -ENOENT);
	CHECK_EQ_INT(o.normals, MESH_NORMALS_AUTO);

	FILE *f = fopen(path, "w");
	fputs("{\n  \"tangents\": true\n}\n", f);
	fclose(f);
	CHECK_EQ_INT(mesh_info_load(path, &o, err, sizeof err), 0);
	CHECK(o.tangents);

	f = fopen(path, "w");
	fputs("{\n  \"tangents\": true,\n  \"colour\": 1\n}\n", f);
	fclose(f);
	CHECK_EQ_INT(mesh_info_load(path, &o, err, sizeof err), KILN_E_CONFIG);
	char want[128];
	snprintf(want, sizeof want, "%s:3:3: unknown key \"colour\"", path);
	CHECK(strncmp(err, want, strlen(want)) == 0);

	f = fopen(path, "w");
	for (int i = 0; i < 70000; i++)
		fputc(' ', f);
	fclose(f);
	CHECK_EQ_INT(mesh_info_load(path, &o, err, sizeof err), KILN_E_TOOBIG);
	CHECK(strstr(err, "larger than") != NULL);
	unlink(path);
}

int main(void)
{
	test_defaults_and_keys();
	test_errors();
	test_load();
	TEST_DONE();
}
