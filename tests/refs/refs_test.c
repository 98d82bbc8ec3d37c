/* refs_test: reference extraction on XML, text and binary inputs against a
 * real scan folder in a temp dir: relative, root-relative and absolute
 * names, links, paths that try to leave the folder, malformed and hostile
 * input, and the limits. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kerr.h"
#include "path.h"
#include "refs.h"
#include "test.h"

static char tmp[KILN_PATH_MAX], root[KILN_PATH_MAX];

static void put(const char *rel, const char *text)
{
	char p[KILN_PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	CHECK(path_mkdirs_for(p, 0755) == 0);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/kiln-refs-test.XXXXXX");
	CHECK(mkdtemp(tmp) != NULL);
	snprintf(root, sizeof(root), "%s/root", tmp);
	put("outside.png", "x");
	put("root/textures/grass.png", "x");
	put("root/sounds/step.ogg", "x");
	put("root/music/main theme.ogg", "x");
	put("root/units/archer/archer.xml", "x");
	put("root/units/archer/images/icon.bmp", "x");
	put("root/units/shared/cancel.bmp", "x");
	put("root/units/archer/images/Icon.BMP", "x");
	put("root/models/tree.g3d", "x");
	put("root/models/tree_bark.tga", "x");
	put("root/models/noext", "x");
	put("root/textures/a.png", "x");
	put("root/scripts/init.lua", "x");
	put("root/textures/folder.png/inner.txt", "x"); /* a folder named like a file */
	char p[KILN_PATH_MAX];
	snprintf(p, sizeof(p), "%s/textures/link.png", root);
	CHECK(symlink("grass.png", p) == 0);
	snprintf(p, sizeof(p), "%s/textures/escape.png", root);
	CHECK(symlink("../../outside.png", p) == 0);
}

/* The found references joined with '|', for one-line comparisons. */
static const char *joined(refs_scan *s)
{
	static char out[65536];
	size_t n;
	const char *const *paths = refs_scan_paths(s, &n);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, "|");
		strncat(out, paths[i], sizeof(out) - strlen(out) - 2);
	}
	return out;
}

static refs_scan *new_scan(const char *source, const refs_limits *lim)
{
	refs_scan *s = NULL;
	CHECK_EQ_INT(refs_scan_new(root, source, lim, &s), 0);
	return s;
}

static void test_xml(void)
{
	char xml[8192];
	snprintf(xml, sizeof(xml),
	         "<?xml version=\"1.0\"?>\n"
	         "<?xml-stylesheet href=\"/models/tree_bark.tga\"?>\n"
	         "<unit name=\"archer\" hp=\"12.5\" flag=\"true\">\n"
	         "  <image path=\"images/icon.bmp\"/>\n"             /* own folder */
	         "  <image-cancel path=\"../shared/cancel.bmp\"/>\n" /* ../ inside the root */
	         "  <texture path=\"textures/grass.png\"/>\n"        /* root-relative */
	         "  <sound>/sounds/step.ogg</sound>\n"               /* leading slash: the root */
	         "  <again> textures/grass.png </again>\n"           /* reported once */
	         "  <win path=\"textures\\a.png\"/>\n"               /* backslashes */
	         "  <abs path=\"%s/models/tree.g3d\"/>\n"            /* absolute inside the root */
	         "  <abs2 path=\"%s/outside.png\"/>\n"               /* absolute outside: no */
	         "  <self path=\"archer.xml\"/>\n"                   /* the file itself: no */
	         "  <missing path=\"images/nope.bmp\"/>\n"
	         "  <escape path=\"../../../outside.png\"/>\n"
	         "  <escape2 path=\"../../../../../../../outside.png\"/>\n"
	         "  <escape3 path=\"/../outside.png\"/>\n"
	         "  <link path=\"textures/link.png\"/>\n"          /* a link inside: yes */
	         "  <link2 path=\"textures/escape.png\"/>\n"       /* a link leading out: no */
	         "  <dir path=\"textures/folder.png\"/>\n"         /* a folder: no */
	         "  <list>models/noext, scripts/init.lua</list>\n" /* split on delimiters */
	         "  <!-- <c path=\"models/tree_bark.tga\"/> comments are not read -->\n"
	         "  <cdata><![CDATA[music/main theme.ogg]]></cdata>\n"
	         "  <url href=\"http://example.com/textures/grass.png\"/>\n"
	         "</unit>\n",
	         root, tmp);
	refs_scan *s = new_scan("units/archer/archer.xml", NULL);
	refs_xml_error err;
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)xml, strlen(xml), &err), 0);
	CHECK_EQ_STR(joined(s), "models/noext|models/tree.g3d|models/tree_bark.tga|music/main theme.ogg|"
	                        "scripts/init.lua|sounds/step.ogg|textures/a.png|textures/grass.png|"
	                        "textures/link.png|units/archer/images/icon.bmp|units/shared/cancel.bmp");
	CHECK(!refs_scan_limited(s, NULL));
	refs_scan_free(s);

	/* Case matters, as it does on the disk. */
	s = new_scan("units/archer/archer.xml", NULL);
	const char *c = "<a p=\"images/Icon.BMP\" q=\"images/ICON.bmp\"/>";
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)c, strlen(c), NULL), 0);
	CHECK_EQ_STR(joined(s), "units/archer/images/Icon.BMP");
	refs_scan_free(s);

	/* A file at the root: relative and root-relative are the same. */
	s = new_scan("level.xml", NULL);
	c = "<l><t>textures/grass.png</t><u>../outside.png</u><v>./sounds/../sounds/step.ogg</v></l>";
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)c, strlen(c), NULL), 0);
	CHECK_EQ_STR(joined(s), "sounds/step.ogg|textures/grass.png");
	refs_scan_free(s);
}

static void test_malformed_xml(void)
{
	const char *xml = "<?xml version=\"1.0\"?>\n"
	                  "<a>\n"
	                  "  <b path=\"textures/grass.png\"/>\n"
	                  "  <c path=\"sounds/step.ogg\">\n"
	                  "</a>\n"
	                  "<d path=\"models/tree.g3d\"/>\n";
	refs_scan *s = new_scan("x.xml", NULL);
	refs_xml_error err;
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)xml, strlen(xml), &err), KILN_E_PROTO);
	CHECK_EQ_INT(err.line, 5);
	CHECK_EQ_INT(err.column, 3);
	CHECK(strstr(err.message, "mismatched tag") != NULL);
	/* What came before the error is kept; what came after is not read. */
	CHECK_EQ_STR(joined(s), "sounds/step.ogg|textures/grass.png");
	refs_scan_free(s);

	s = new_scan("x.xml", NULL);
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)"", 0, &err), KILN_E_PROTO);
	CHECK_EQ_INT(err.line, 1);
	refs_scan_free(s);
}

static void test_text(void)
{
	const char *json = "{\n"
	                   "  \"texture\": \"textures/grass.png\",\n"
	                   "  \"music\": \"music/main theme.ogg\",\n"
	                   "  \"escaped\": \"textures\\\\a.png\",\n"
	                   "  \"list\": [\"sounds/step.ogg\", \"nope.png\", 1.5, true]\n"
	                   "}\n";
	refs_scan *s = new_scan("data/level.json", NULL);
	CHECK_EQ_INT(refs_scan_text(s, (const uint8_t *)json, strlen(json)), 0);
	CHECK_EQ_STR(joined(s), "music/main theme.ogg|sounds/step.ogg|textures/a.png|textures/grass.png");
	refs_scan_free(s);

	const char *ini = "; don't read this as a quote\n"
	                  "[unit]\n"
	                  "icon=images/icon.bmp\n"
	                  "cancel = ../shared/cancel.bmp\n"
	                  "mesh:/models/tree.g3d\n"
	                  "script = dofile('scripts/init.lua') -- it's fine\n"
	                  "bad=../../../outside.png\n"
	                  "godot = res://textures/link.png\n";
	s = new_scan("units/archer/archer.ini", NULL);
	CHECK_EQ_INT(refs_scan_text(s, (const uint8_t *)ini, strlen(ini)), 0);
	CHECK_EQ_STR(joined(s),
	             "models/tree.g3d|scripts/init.lua|textures/link.png|units/archer/images/icon.bmp|"
	             "units/shared/cancel.bmp");
	refs_scan_free(s);

	/* Godot's scene files quote res:// paths. */
	const char *tscn = "[ext_resource path=\"res://textures/grass.png\" type=\"Texture\" id=1]\n";
	s = new_scan("scenes/main.tscn", NULL);
	CHECK_EQ_INT(refs_scan_text(s, (const uint8_t *)tscn, strlen(tscn)), 0);
	CHECK_EQ_STR(joined(s), "textures/grass.png");
	refs_scan_free(s);
}

static void test_binary(void)
{
	uint8_t bin[256];
	size_t n = 0;
	memset(bin, 0, sizeof(bin));
	const uint8_t head[] = {0x00, 0x01, 0xff, 0x10};
	memcpy(bin + n, head, sizeof(head));
	n += sizeof(head) + 2;
	memcpy(bin + n, "tree_bark.tga", 13); /* a G3D-style name beside the model */
	n += 64;
	bin[n++] = 0x0f;
	memcpy(bin + n, "/sounds/step.ogg", 16);
	n += 16;
	bin[n++] = 0x80;
	memcpy(bin + n, "noext", 5); /* no extension: not taken from binary data */
	n += 6;
	memcpy(bin + n, "a.pn", 4); /* a run that names nothing */
	n += 5;
	memcpy(bin + n, "key=textures/grass.png;", 23); /* split like text */
	n += 24;
	memcpy(bin + n, "../../outside.png", 17);
	n += 18;
	refs_scan *s = new_scan("models/tree.g3d", NULL);
	CHECK_EQ_INT(refs_scan_binary(s, bin, n), 0);
	CHECK_EQ_STR(joined(s), "models/tree_bark.tga|sounds/step.ogg|textures/grass.png");
	refs_scan_free(s);
}

static void test_format(void)
{
	const uint8_t bom[] = "\xef\xbb\xbf  <?xml version=\"1.0\"?><a/>";
	CHECK_EQ_INT(refs_guess_format("a.XML", (const uint8_t *)"", 0), REFS_XML);
	CHECK_EQ_INT(refs_guess_format("scene.dae", (const uint8_t *)"x", 1), REFS_XML);
	CHECK_EQ_INT(refs_guess_format("a.cfg", bom, sizeof(bom) - 1), REFS_XML);
	CHECK_EQ_INT(refs_guess_format("a.json", (const uint8_t *)"{}", 2), REFS_TEXT);
	CHECK_EQ_INT(refs_guess_format("a.g3d", (const uint8_t *)"G3D\0\x04", 5), REFS_BINARY);
	CHECK_EQ_STR(refs_format_name(REFS_BINARY), "binary");
}

static void test_paths_and_cache(void)
{
	refs_scan *s = NULL;
	CHECK_EQ_INT(refs_scan_new(root, "../x.xml", NULL, &s), KILN_E_PATH);
	CHECK(s == NULL);
	CHECK_EQ_INT(refs_scan_new(root, "/etc/x.xml", NULL, &s), KILN_E_PATH);
	CHECK_EQ_INT(refs_scan_new("relative/root", "x.xml", NULL, &s), KILN_E_PATH);
	char missing[KILN_PATH_MAX];
	snprintf(missing, sizeof(missing), "%s/nope", tmp);
	CHECK_EQ_INT(refs_scan_new(missing, "x.xml", NULL, &s), -ENOENT);

	/* A name met a thousand times is looked up once (per base folder). */
	s = new_scan("units/archer/archer.xml", NULL);
	for (int i = 0; i < 1000; i++) {
		CHECK_EQ_INT(refs_scan_offer(s, "textures/grass.png", 18), 0);
		CHECK_EQ_INT(refs_scan_offer(s, "nope/none.png", 13), 0);
	}
	CHECK_EQ_STR(joined(s), "textures/grass.png");
	CHECK_EQ_INT(refs_scan_lookups(s), 4);
	refs_scan_free(s);
}

static void test_limits(void)
{
	refs_limits lim = refs_default_limits;
	refs_scan *s;

	/* The reference limit: the scan stops and keeps what it found. */
	lim.max_deps = 2;
	s = new_scan("x.txt", &lim);
	const char *t = "textures/grass.png sounds/step.ogg models/tree.g3d textures/a.png";
	CHECK_EQ_INT(refs_scan_text(s, (const uint8_t *)t, strlen(t)), KILN_E_LIMIT);
	CHECK_EQ_STR(joined(s), "sounds/step.ogg|textures/grass.png");
	const char *why = NULL;
	CHECK(refs_scan_limited(s, &why) && strstr(why, "reference") != NULL);
	refs_scan_free(s);

	/* The look-up limit. */
	lim = refs_default_limits;
	lim.max_lookups = 100;
	s = new_scan("x.txt", &lim);
	char *many = malloc(200 * 16);
	size_t n = 0;
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(many + n, "f%d.png ", i);
	CHECK_EQ_INT(refs_scan_text(s, (const uint8_t *)many, n), KILN_E_LIMIT);
	CHECK_EQ_INT(refs_scan_lookups(s), 100);
	CHECK(refs_scan_limited(s, &why) && strstr(why, "look-up") != NULL);
	free(many);
	refs_scan_free(s);

	/* Candidates over max_str are skipped, in text, XML and binary input. */
	lim = refs_default_limits;
	size_t big = 3 * lim.max_str;
	char *longp = malloc(big + 64);
	memset(longp, 'a', big);
	memcpy(longp + big, "/../textures/grass.png", 23);
	s = new_scan("x.txt", &lim);
	CHECK_EQ_INT(refs_scan_offer(s, longp, strlen(longp)), 0);
	CHECK_EQ_STR(joined(s), "");
	char *xml = malloc(2 * big + 128);
	snprintf(xml, 2 * big + 128, "<a p=\"%s\">%s</a>", longp, longp);
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)xml, strlen(xml), NULL), 0);
	CHECK_EQ_STR(joined(s), "");
	CHECK_EQ_INT(refs_scan_lookups(s), 0);
	refs_scan_free(s);
	free(xml);
	free(longp);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_hostile(void)
{
	refs_scan *s;
	refs_xml_error err;

	/* Billion laughs: nested entities are refused before expansion. */
	const char *laughs = "<?xml version=\"1.0\"?>\n"
	                     "<!DOCTYPE l [\n"
	                     " <!ENTITY a \"textures/grass.png \">\n"
	                     " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	                     " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
	                     "]>\n<l>&c;</l>\n";
	s = new_scan("x.xml", NULL);
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)laughs, strlen(laughs), &err), KILN_E_PROTO);
	CHECK_EQ_INT(err.line, 4);
	CHECK(strstr(err.message, "entity") != NULL);
	refs_scan_free(s);

	/* A small flat entity is fine and expands into a reference. */
	const char *flat = "<!DOCTYPE l [<!ENTITY t \"textures/grass.png\">]><l p=\"&t;\"/>";
	s = new_scan("x.xml", NULL);
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)flat, strlen(flat), NULL), 0);
	CHECK_EQ_STR(joined(s), "textures/grass.png");
	refs_scan_free(s);

	/* Deep nesting, an external entity (never loaded), unterminated
	 * quotes and a NUL in the middle of XML. */
	size_t depth = 50000, n = 0;
	char *deep = malloc(depth * 7 + 64);
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(deep + n, "<a>");
	n += (size_t)sprintf(deep + n, "sounds/step.ogg");
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(deep + n, "</a>");
	s = new_scan("x.xml", NULL);
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)deep, n, NULL), 0);
	CHECK_EQ_STR(joined(s), "sounds/step.ogg");
	refs_scan_free(s);
	free(deep);

	const char *ext = "<!DOCTYPE l [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><l>&e;</l>";
	s = new_scan("x.xml", NULL);
	CHECK_EQ_INT(refs_scan_xml(s, (const uint8_t *)ext, strlen(ext), NULL), 0);
	CHECK_EQ_STR(joined(s), "");
	refs_scan_free(s);

	const uint8_t nul[] = "<a p=\"textures/grass.png\"/>\0<b/>";
	s = new_scan("x.xml", NULL);
	CHECK_EQ_INT(refs_scan_xml(s, nul, sizeof(nul) - 1, &err), KILN_E_PROTO);
	CHECK_EQ_STR(joined(s), "textures/grass.png");
	refs_scan_free(s);

	const char *quotes = "\"textures/grass.png\n'sounds/step.ogg \"\"\"'''\\\"\\";
	s = new_scan("x.txt", NULL);
	CHECK_EQ_INT(refs_scan_text(s, (const uint8_t *)quotes, strlen(quotes)), 0);
	CHECK_EQ_STR(joined(s), "sounds/step.ogg|textures/grass.png");
	refs_scan_free(s);

	/* 8 MiB of pseudo-random bytes and 8 MiB of one unterminated quote:
	 * linear, quick, and nothing found. */
	size_t big = 8u << 20;
	uint8_t *rnd = malloc(big);
	uint64_t x = 88172645463325252ull;
	for (size_t i = 0; i < big; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		rnd[i] = (uint8_t)x;
	}
	double t0 = now_s();
	s = new_scan("x.bin", NULL);
	int rc = refs_scan_binary(s, rnd, big);
	CHECK(rc == 0 || rc == KILN_E_LIMIT);
	CHECK_EQ_STR(joined(s), "");
	refs_scan_free(s);
	s = new_scan("x.txt", NULL);
	rc = refs_scan_text(s, rnd, big);
	CHECK(rc == 0 || rc == KILN_E_LIMIT);
	refs_scan_free(s);
	memset(rnd, 'a', big);
	rnd[0] = '"';
	s = new_scan("x.txt", NULL);
	CHECK_EQ_INT(refs_scan_text(s, rnd, big), 0);
	CHECK_EQ_INT(refs_scan_binary(s, rnd, big), 0);
	refs_scan_free(s);
	double took = now_s() - t0;
	fprintf(stderr, "hostile 8 MiB inputs: %.2f s\n", took);
	CHECK(took < 20.0); /* generous for sanitizer builds */
	free(rnd);
}

static void teardown(void)
{
	CHECK_EQ_INT(path_rmtree(tmp), 0);
}

int main(void)
{
	setup();
	test_xml();
	test_malformed_xml();
	test_text();
	test_binary();
	test_format();
	test_paths_and_cache();
	test_limits();
	test_hostile();
	teardown();
	TEST_DONE();
}
