/* scene_test.c: the .kscene product, from whole jobs on models written
 * here: Collada scenes of cameras and lights or of an animation clip (once
 * failures, "no meshes"), the sidecar's scale applied to the scene, the mesh
 * products placed at their nodes, names that need escaping or are not
 * UTF-8, an OpenGEX scene that assimp's validation refuses for want of a
 * mesh, and an empty scene, which still fails. The JSON is read back with
 * kiln's strict parser (jsonpos), which refuses invalid UTF-8. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "jobs.h"
#include "jsonpos.h"
#include "scene.h"

/* Parses the scene product of resp (job TAG); NULL when there is none or
 * it is not valid JSON. */
static const jp_value *load_scene(const char *tag, const msg_process_job_resp *resp, arena *a)
{
	const msg_product *p = job_find(resp, MESH_SCENE_SUB_ID);
	char path[1024];
	if (!p || strcmp(p->asset_type, "scene") != 0)
		return NULL;
	FILE *f = fopen(job_product(tag, p->file, path, sizeof path), "rb");
	if (!f)
		return NULL;
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof text, f);
	fclose(f);
	jp_value *v = NULL;
	jp_error err;
	if (jp_parse(a, text, n, &v, &err) != 0) {
		fprintf(stderr, "%s:%d:%d: %s\n", path, err.line, err.col, err.msg);
		return NULL;
	}
	return v;
}

/* v[key], or NULL (also when v is NULL). */
static const jp_value *get(const jp_value *v, const char *key)
{
	const jp_member *m = v ? jp_get(v, key) : NULL;
	return m ? m->value : NULL;
}

/* v[i] of an array, or NULL. */
static const jp_value *at(const jp_value *v, size_t i)
{
	return v && v->type == JP_ARRAY && i < v->u.arr.n ? v->u.arr.items[i] : NULL;
}

static size_t len(const jp_value *v)
{
	return v && v->type == JP_ARRAY ? v->u.arr.n : 0;
}

/* A number, or NAN when v is not one. */
static double num(const jp_value *v)
{
	return v && v->type == JP_NUMBER ? v->u.num.d : NAN;
}

static const char *str(const jp_value *v)
{
	return v && v->type == JP_STRING ? v->u.str.s : "(not a string)";
}

static int near(double x, double want)
{
	return fabs(x - want) < 1e-5;
}

/* A camera on a child node, a directional light turned down and a point
 * light placed by a matrix; no geometry at all. */
static const char stage_dae[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<COLLADA xmlns=\"http://www.collada.org/2005/11/COLLADASchema\" version=\"1.4.1\">\n"
    " <asset><unit name=\"meter\" meter=\"1\"/><up_axis>Y_UP</up_axis></asset>\n"
    " <library_cameras><camera id=\"cam-lib\" name=\"cam\"><optics><technique_common><perspective>\n"
    "  <xfov>60</xfov><aspect_ratio>1.5</aspect_ratio><znear>0.5</znear><zfar>200</zfar>\n"
    " </perspective></technique_common></optics></camera></library_cameras>\n"
    " <library_lights>\n"
    "  <light id=\"sun-lib\" name=\"sun\"><technique_common><directional><color>1 0.5 0.25</color>"
    "</directional></technique_common></light>\n"
    "  <light id=\"bulb-lib\" name=\"bulb\"><technique_common><point><color>1 1 1</color>\n"
    "   <constant_attenuation>1</constant_attenuation><linear_attenuation>0</linear_attenuation>\n"
    "   <quadratic_attenuation>0.5</quadratic_attenuation></point></technique_common></light>\n"
    " </library_lights>\n"
    " <library_visual_scenes><visual_scene id=\"Scene\" name=\"Scene\">\n"
    "  <node id=\"Rig\" name=\"Rig\">\n"
    "   <node id=\"Camera\" name=\"Camera\"><translate>1 2 3</translate>"
    "<instance_camera url=\"#cam-lib\"/></node>\n"
    "  </node>\n"
    "  <node id=\"Sun\" name=\"Sun\"><rotate>1 0 0 -90</rotate><instance_light url=\"#sun-lib\"/></node>\n"
    "  <node id=\"Bulb\" name=\"Bulb\"><matrix>1 0 0 4 0 1 0 5 0 0 1 6 0 0 0 1</matrix>"
    "<instance_light url=\"#bulb-lib\"/></node>\n"
    " </visual_scene></library_visual_scenes>\n"
    " <scene><instance_visual_scene url=\"#Scene\"/></scene>\n"
    "</COLLADA>\n";

static void test_cameras_lights(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("lit/stage.dae", stage_dae);
	CHECK_EQ_INT(job_run("lit/stage.dae", "stage", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK(strstr(job_log, "W: ") == NULL && strstr(job_log, "E: ") == NULL);
	CHECK_EQ_INT(r.n_products, 1);
	if (r.n_products == 1) {
		CHECK_EQ_STR(r.products[0].file, "lit/stage/stage.dae.kscene");
		CHECK_EQ_STR(r.products[0].asset_type, "scene");
		CHECK_EQ_INT(r.products[0].sub_id, 0);
	}
	const jp_value *sc = load_scene("stage", &r, a);
	CHECK(sc != NULL);
	CHECK(num(get(sc, "kscene")) == 1);
	CHECK_EQ_STR(str(get(sc, "source")), "lit/stage.dae");
	CHECK_EQ_INT(len(get(sc, "meshes")), 0);

	/* Depth first, children in file order, each with its parent. */
	static const char *const names[] = {"Scene", "Rig", "Camera", "Sun", "Bulb"};
	static const int parents[] = {-1, 0, 1, 0, 0};
	const jp_value *nodes = get(sc, "nodes");
	CHECK_EQ_INT(len(nodes), 5);
	for (size_t i = 0; i < 5 && len(nodes) == 5; i++) {
		CHECK_EQ_STR(str(get(at(nodes, i), "name")), names[i]);
		const jp_value *p = get(at(nodes, i), "parent");
		if (parents[i] < 0)
			CHECK(p && p->type == JP_NULL);
		else
			CHECK(num(p) == parents[i]);
		CHECK_EQ_INT(len(get(at(nodes, i), "matrix")), 16);
	}
	/* Row-major: the translation is elements 3, 7 and 11. */
	const jp_value *cm = get(at(nodes, 2), "matrix");
	CHECK(num(at(cm, 3)) == 1 && num(at(cm, 7)) == 2 && num(at(cm, 11)) == 3 && num(at(cm, 15)) == 1);
	const jp_value *bm = get(at(nodes, 4), "matrix");
	CHECK(num(at(bm, 3)) == 4 && num(at(bm, 7)) == 5 && num(at(bm, 11)) == 6);

	const jp_value *cams = get(sc, "cameras");
	CHECK_EQ_INT(len(cams), 1);
	const jp_value *c = at(cams, 0);
	CHECK_EQ_STR(str(get(c, "name")), "Camera");
	CHECK(num(get(c, "node")) == 2);
	CHECK(near(num(get(c, "horizontal_fov")), M_PI / 3)); /* 60 degrees, in radians */
	CHECK(near(num(get(c, "aspect")), 1.5) && near(num(get(c, "near")), 0.5) &&
	      near(num(get(c, "far")), 200));

	const jp_value *lights = get(sc, "lights");
	CHECK_EQ_INT(len(lights), 2);
	const jp_value *sun = at(lights, 0), *bulb = at(lights, 1);
	CHECK_EQ_STR(str(get(sun, "name")), "Sun");
	CHECK_EQ_STR(str(get(sun, "type")), "directional");
	CHECK(num(get(sun, "node")) == 3);
	const jp_value *col = get(sun, "color_diffuse");
	CHECK(num(at(col, 0)) == 1 && num(at(col, 1)) == 0.5 && num(at(col, 2)) == 0.25);
	CHECK_EQ_STR(str(get(bulb, "type")), "point");
	CHECK(num(get(bulb, "node")) == 4);
	const jp_value *att = get(bulb, "attenuation");
	CHECK(num(at(att, 0)) == 1 && num(at(att, 1)) == 0 && num(at(att, 2)) == 0.5);
	CHECK_EQ_INT(len(get(sc, "animations")), 0);

	/* The sidecar's scale reaches what is a length in the scene, so that
	 * it still fits the scaled meshes; directions and angles stay. */
	job_write("lit/half.dae", stage_dae);
	job_write("lit/half.dae.assetinfo", "{\"scale\": 0.5}");
	CHECK_EQ_INT(job_run("lit/half.dae", "half", a, &r, 0), MSG_RESULT_SUCCESS);
	sc = load_scene("half", &r, a);
	cm = get(at(get(sc, "nodes"), 2), "matrix");
	CHECK(num(at(cm, 3)) == 0.5 && num(at(cm, 7)) == 1 && num(at(cm, 11)) == 1.5 && num(at(cm, 0)) == 1);
	c = at(get(sc, "cameras"), 0);
	CHECK(near(num(get(c, "near")), 0.25) && near(num(get(c, "far")), 100));
	CHECK(near(num(get(c, "horizontal_fov")), M_PI / 3));
	arena_free(a);
}

/* A node and an animation of it, no geometry: the product names the clip
 * with its duration. A scene with nothing at all still fails. */
static void test_animation(void)
{
	static const char clip_dae[] =
	    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<COLLADA xmlns=\"http://www.collada.org/2005/11/COLLADASchema\" version=\"1.4.1\">\n"
	    " <asset><unit name=\"meter\" meter=\"1\"/><up_axis>Y_UP</up_axis></asset>\n"
	    " <library_animations><animation id=\"move\" name=\"move\">\n"
	    "  <source id=\"in\"><float_array id=\"in-a\" count=\"2\">0 2</float_array><technique_common>"
	    "<accessor source=\"#in-a\" count=\"2\" stride=\"1\"><param name=\"TIME\" type=\"float\"/>"
	    "</accessor></technique_common></source>\n"
	    "  <source id=\"out\"><float_array id=\"out-a\" count=\"2\">0 10</float_array><technique_common>"
	    "<accessor source=\"#out-a\" count=\"2\" stride=\"1\"><param name=\"X\" type=\"float\"/>"
	    "</accessor></technique_common></source>\n"
	    "  <source id=\"int\"><Name_array id=\"int-a\" count=\"2\">LINEAR LINEAR</Name_array>"
	    "<technique_common><accessor source=\"#int-a\" count=\"2\" stride=\"1\">"
	    "<param name=\"INTERPOLATION\" type=\"name\"/></accessor></technique_common></source>\n"
	    "  <sampler id=\"s\"><input semantic=\"INPUT\" source=\"#in\"/><input semantic=\"OUTPUT\" "
	    "source=\"#out\"/><input semantic=\"INTERPOLATION\" source=\"#int\"/></sampler>\n"
	    "  <channel source=\"#s\" target=\"Mover/location.X\"/>\n"
	    " </animation></library_animations>\n"
	    " <library_visual_scenes><visual_scene id=\"Scene\" name=\"Scene\">\n"
	    "  <node id=\"Mover\" name=\"Mover\" sid=\"Mover\"><translate sid=\"location\">0 0 0</translate>"
	    "</node>\n"
	    " </visual_scene></library_visual_scenes>\n"
	    " <scene><instance_visual_scene url=\"#Scene\"/></scene>\n"
	    "</COLLADA>\n";
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("clip.dae", clip_dae);
	CHECK_EQ_INT(job_run("clip.dae", "clip", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(r.n_products, 1);
	const jp_value *sc = load_scene("clip", &r, a);
	const jp_value *anims = get(sc, "animations");
	CHECK_EQ_INT(len(anims), 1);
	const jp_value *an = at(anims, 0);
	CHECK_EQ_STR(str(get(an, "name")), "move");
	CHECK(near(num(get(an, "duration_seconds")), 2));
	CHECK(near(num(get(an, "duration_ticks")) / num(get(an, "ticks_per_second")), 2));
	CHECK(num(get(an, "node_channels")) == 1);
	CHECK_EQ_STR(str(get(at(get(sc, "nodes"), 1), "name")), "Mover");

	job_write("empty.gltf",
	          "{\"asset\": {\"version\": \"2.0\"}, \"scene\": 0, \"scenes\": [{\"nodes\": []}]}");
	CHECK_EQ_INT(job_run("empty.gltf", "empty", a, &r, 0), MSG_RESULT_FAILED);
	CHECK_EQ_INT(r.n_products, 0);
	CHECK(strstr(job_log, "E: empty.gltf holds nothing to build: assimp found no meshes, cameras, lights "
	                      "or animations") != NULL);
	arena_free(a);
}

/* Mesh products are listed and placed at the nodes that reference them,
 * by sub_id; the sub_ids are the mesh products' own. */
static void test_meshes(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("two.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\no Tri\nf 1 2 3\no Wire\nl 1 2 3\n");
	CHECK_EQ_INT(job_run("two.obj", "two", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(job_count(&r, "mesh"), 2);
	CHECK_EQ_INT(job_count(&r, "scene"), 1);
	CHECK(r.n_products == 3 && r.products[2].sub_id == MESH_SCENE_SUB_ID); /* the scene is last */
	const jp_value *sc = load_scene("two", &r, a);
	const jp_value *meshes = get(sc, "meshes");
	CHECK_EQ_INT(len(meshes), 2);
	static const char *const want[2][2] = {{"Tri", "triangles"}, {"Wire", "lines"}};
	for (size_t i = 0; i < 2 && len(meshes) == 2 && r.n_products == 3; i++) {
		const jp_value *m = at(meshes, i);
		CHECK(num(get(m, "sub_id")) == r.products[i].sub_id);
		CHECK_EQ_STR(str(get(m, "file")), r.products[i].file);
		CHECK_EQ_STR(str(get(m, "name")), want[i][0]);
		CHECK_EQ_STR(str(get(m, "primitive")), want[i][1]);
		/* The node of the same name places the mesh. */
		const jp_value *nodes = get(sc, "nodes");
		int placed = 0;
		for (size_t n = 0; n < len(nodes); n++) {
			const jp_value *nd = at(nodes, n);
			if (strcmp(str(get(nd, "name")), want[i][0]) == 0)
				placed = len(get(nd, "meshes")) == 1 &&
				         num(at(get(nd, "meshes"), 0)) == r.products[i].sub_id;
		}
		CHECK(placed);
	}
	arena_free(a);
}

/* Names reach the scene whatever bytes they hold: JSON escapes for quotes,
 * backslashes and control characters, U+FFFD for bytes that are not UTF-8
 * (a Latin-1 OBJ), so the product always parses. */
static void test_names(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("cam.gltf",
	          "{\"asset\": {\"version\": \"2.0\"}, \"scene\": 0, \"scenes\": [{\"nodes\": [0]}],\n"
	          " \"nodes\": [{\"name\": \"q\\\"b\\\\s\\u0001t\\u00e9\", \"camera\": 0}],\n"
	          " \"cameras\": [{\"type\": \"perspective\", \"perspective\": {\"yfov\": 1.0, "
	          "\"znear\": 0.1, \"zfar\": 100, \"aspectRatio\": 2}}]}\n");
	CHECK_EQ_INT(job_run("cam.gltf", "cam", a, &r, 0), MSG_RESULT_SUCCESS);
	const jp_value *sc = load_scene("cam", &r, a);
	CHECK(sc != NULL);
	CHECK_EQ_STR(str(get(at(get(sc, "nodes"), 0), "name")), "q\"b\\s\001t\xc3\xa9");
	CHECK_EQ_STR(str(get(at(get(sc, "cameras"), 0), "name")), "q\"b\\s\001t\xc3\xa9");
	CHECK(num(get(at(get(sc, "cameras"), 0), "node")) == 0);

	job_write("latin.obj", "v 0 0 0\nv 1 0 0\nv 1 1 0\no caf\xe9\nf 1 2 3\n");
	CHECK_EQ_INT(job_run("latin.obj", "latin", a, &r, 0), MSG_RESULT_SUCCESS);
	sc = load_scene("latin", &r, a);
	CHECK(sc != NULL);
	CHECK_EQ_STR(str(get(at(get(sc, "nodes"), 1), "name")), "caf\xef\xbf\xbd");
	CHECK_EQ_STR(str(get(at(get(sc, "meshes"), 0), "name")), "caf\xef\xbf\xbd");
	arena_free(a);
}

/* OpenGEX light objects and no geometry: assimp's validation wants a mesh
 * (the importer does not mark the scene incomplete), so the builder reads
 * the file again and writes the scene unvalidated. Validating that scene
 * after all crashed assimp 5.2. The importer names the root node with the
 * file's absolute path, which the product gives as the source path. */
static void test_unmarked(void)
{
	arena *a = arena_new();
	msg_process_job_resp r;
	job_write("o/lamps.ogex", "LightObject (type = \"infinite\") {\n"
	                          "    Param (attrib = \"intensity\") { float { 3.0 } }\n"
	                          "    Color (attrib = \"light\") { float[3] { { 0.7, 1.0, 0.1 } } }\n"
	                          "}\n"
	                          "LightObject (type = \"point\") {\n"
	                          "    Param (attrib = \"intensity\") { float { 0.5 } }\n"
	                          "}\n");
	CHECK_EQ_INT(job_run("o/lamps.ogex", "ogex", a, &r, 0), MSG_RESULT_SUCCESS);
	CHECK(strstr(job_log, "read again after assimp refused it (Validation failed: ") != NULL);
	const jp_value *sc = load_scene("ogex", &r, a);
	CHECK_EQ_INT(len(get(sc, "lights")), 2);
	CHECK_EQ_STR(str(get(at(get(sc, "lights"), 1), "type")), "point");
	CHECK_EQ_STR(str(get(at(get(sc, "nodes"), 0), "name")), "o/lamps.ogex");
	arena_free(a);
}

static void test_scene_path(void)
{
	char p[64];
	CHECK_EQ_INT(mesh_scene_path("props/crate.fbx", p, sizeof p), 0);
	CHECK_EQ_STR(p, "props/crate/crate.fbx.kscene");
	CHECK_EQ_INT(mesh_scene_path("noext", p, sizeof p), 0);
	CHECK_EQ_STR(p, "noext/noext.kscene");
	CHECK_EQ_INT(mesh_scene_path("a/b.c/m.tar.glb", p, sizeof p), 0);
	CHECK_EQ_STR(p, "a/b.c/m.tar/m.tar.glb.kscene");
	CHECK(mesh_scene_path("props/crate.fbx", p, 10) != 0);
}

int main(void)
{
	job_setup("scene");
	test_scene_path();
	test_cameras_lights();
	test_animation();
	test_meshes();
	test_names();
	test_unmarked();
	job_cleanup();
	TEST_DONE();
}
