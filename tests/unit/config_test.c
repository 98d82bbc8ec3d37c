/* config_test.c: kiln.json loading, defaults, and every error with its
 * exact line and column. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "kerr.h"
#include "path.h"
#include "test.h"

static char root[256];    /* a temp project with Assets/, Shared/Assets/, tools/ */
static char bare[256];    /* a temp project with nothing in it */
static char selfdir[300]; /* stands in for the folder of the kiln binary */

static void write_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char p[600];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	path_mkdirs_for(p, 0755);
	f = fopen(p, "w");
	if (!f) {
		perror(p);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static void make_dir(const char *dir, const char *rel)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	if (path_mkdirs(p, 0755) != 0) {
		perror(p);
		exit(2);
	}
}

static void setup(void)
{
	static const char *fake = "#!/bin/sh\nexit 0\n";
	snprintf(root, sizeof root, "/tmp/kiln-config-test-XXXXXX");
	snprintf(bare, sizeof bare, "/tmp/kiln-config-bare-XXXXXX");
	if (!mkdtemp(root) || !mkdtemp(bare)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(selfdir, sizeof selfdir, "%s/bin", root);
	make_dir(root, "Assets");
	make_dir(root, "Shared/Assets");
	make_dir(root, "Extra");
	make_dir(root, "Low");
	make_dir(root, "tools/sub");
	write_file(root, "notadir", "x", 0644);
	write_file(root, "tools/my_builder.py", fake, 0755);
	write_file(root, "tools/noexec.sh", fake, 0644);
	write_file(root, "bin/kiln-copy", fake, 0755);
	write_file(root, "bin/kiln-texture", fake, 0755);
}

static void teardown(void)
{
	path_rmtree(root);
	path_rmtree(bare);
}

static int parse_in(const char *dir, const char *text, kiln_config **c, char *err, size_t errsz)
{
	return config_parse(text, strlen(text), "kiln.json", dir, selfdir, c, err, errsz);
}

/* Expects text to fail with "kiln.json:LINE:COL: " followed by a message
 * holding part (and part2 when given). */
static void expect_err_in(const char *dir, const char *text, int line, int col, const char *part,
                          const char *part2, int caller_line)
{
	char err[1024] = "", want[64];
	kiln_config *c = NULL;
	int rc = parse_in(dir, text, &c, err, sizeof err);
	snprintf(want, sizeof want, "kiln.json:%d:%d: ", line, col);
	bool ok = rc == KILN_E_CONFIG && c == NULL && strncmp(err, want, strlen(want)) == 0 &&
	          strstr(err, part) != NULL && (!part2 || strstr(err, part2) != NULL);
	if (!ok)
		fprintf(stderr, "config_test.c:%d: want \"%s...%s...%s\" (rc %d), got \"%s\"\n", caller_line,
		        want, part, part2 ? part2 : "", rc, err);
	CHECK(ok);
	config_free(c);
}

#define EXPECT_ERR(text, line, col, part) expect_err_in(root, (text), (line), (col), (part), NULL, __LINE__)
#define EXPECT_ERR2(text, line, col, part, part2)                                                            \
	expect_err_in(root, (text), (line), (col), (part), (part2), __LINE__)

/* Expects text to load in the project root. Returns the config, which the
 * caller frees (config_free), or NULL after saying why it did not load. */
static kiln_config *parse_ok_at(const char *text, int caller_line)
{
	char err[1024] = "";
	kiln_config *c = NULL;
	int rc = parse_in(root, text, &c, err, sizeof err);

	if (rc)
		fprintf(stderr, "config_test.c:%d: want a config, got %d: %s\n", caller_line, rc, err);
	CHECK_EQ_INT(rc, 0);
	return c;
}

/* The same for dir/kiln.json on disk, through config_load. */
static kiln_config *load_ok_at(const char *dir, int caller_line)
{
	char err[1024] = "";
	kiln_config *c = NULL;
	int rc = config_load(dir, selfdir, &c, err, sizeof err);

	if (rc)
		fprintf(stderr, "config_test.c:%d: want %s/kiln.json to load, got %d: %s\n", caller_line, dir,
		        rc, err);
	CHECK_EQ_INT(rc, 0);
	return c;
}

#define PARSE_OK(text) parse_ok_at((text), __LINE__)
#define LOAD_OK(dir)   load_ok_at((dir), __LINE__)

/* Reads up to size bytes of path into buf; returns how many (0 when it
 * cannot be read). */
static size_t read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

static void test_full_file(void)
{
	const char *text =
	    "{\n"
	    "  \"project\": \"demo\",\n"
	    "  \"platforms\": [\"pc\", \"linux\"],\n"
	    "  \"cache\": \"Build/../Build/Cache\",\n"
	    "  \"scan_folders\": [\n"
	    "    {\"path\": \"Shared/Assets\", \"order\": 10, \"platforms\": [\"pc\"]},\n"
	    "    {\"path\": \"Assets\", \"recursive\": false},\n"
	    "    {\"path\": \"./Extra/\", \"order\": 10},\n"
	    "    {\"path\": \"Low\", \"order\": -5, \"recursive\": true}\n"
	    "  ],\n"
	    "  \"excludes\": [\"(^|/)\\\\.git/\", \"\\\\.swp$\"],\n"
	    "  \"builders\": [\n"
	    "    {\"exec\": \"kiln-copy\", \"patterns\": [\"*.ogg\", \"*.WAV\", "
	    "\"re:^music/.*\\\\.mp3$\"]},\n"
	    "    {\"exec\": \"kiln-texture\"},\n"
	    "    {\"exec\": \"tools/my_builder.py\", \"args\": [\"--fast\", \"\"], \"timeout_s\": 120,\n"
	    "     \"memory_mb\": 2048, \"persistent\": false}\n"
	    "  ],\n"
	    "  \"hosts\": 4,\n"
	    "  \"http\": \"\",\n"
	    "  \"scan\": \"hash\",\n"
	    "  \"metadata\": {\"AssetInfo\": [\"FBX\", \"gltf\"], \"meta\": [\"png\"]}\n"
	    "}\n";
	char p[600];
	kiln_config *c = PARSE_OK(text);

	if (!c)
		return;
	snprintf(p, sizeof p, "%s/kiln.json", root);
	CHECK_EQ_STR(c->file, p);
	CHECK_EQ_STR(c->root, root);
	CHECK_EQ_STR(c->project, "demo");
	CHECK_EQ_INT(c->n_platforms, 2);
	CHECK_EQ_STR(c->platforms[0], "pc");
	CHECK_EQ_STR(c->platforms[1], "linux");
	CHECK(c->platforms[2] == NULL);
	snprintf(p, sizeof p, "%s/Build/Cache", root);
	CHECK_EQ_STR(c->cache, p);

	/* Sorted by order, stable: Low (-5), Assets (0), then Shared/Assets
	 * and Extra (both 10) in file order. */
	CHECK_EQ_INT(c->n_folders, 4);
	if (c->n_folders == 4) {
		CHECK_EQ_STR(c->folders[0].path, "Low");
		CHECK_EQ_INT(c->folders[0].order, -5);
		CHECK(c->folders[0].recursive);
		CHECK_EQ_STR(c->folders[1].path, "Assets");
		snprintf(p, sizeof p, "%s/Assets", root);
		CHECK_EQ_STR(c->folders[1].abs, p);
		CHECK(!c->folders[1].recursive);
		CHECK_EQ_INT(c->folders[1].order, 0);
		CHECK(c->folders[1].platforms == NULL);
		CHECK_EQ_INT(c->folders[1].n_platforms, 0);
		CHECK_EQ_STR(c->folders[2].path, "Shared/Assets");
		CHECK_EQ_INT(c->folders[2].order, 10);
		CHECK(c->folders[2].recursive);
		CHECK_EQ_INT(c->folders[2].n_platforms, 1);
		CHECK(c->folders[2].platforms != NULL);
		if (c->folders[2].platforms) {
			CHECK_EQ_STR(c->folders[2].platforms[0], "pc");
			CHECK(c->folders[2].platforms[1] == NULL);
		}
		CHECK_EQ_STR(c->folders[3].path, "./Extra/");
		snprintf(p, sizeof p, "%s/Extra", root);
		CHECK_EQ_STR(c->folders[3].abs, p);
	}

	CHECK_EQ_INT(c->n_excludes, 2);
	CHECK_EQ_STR(c->excludes[0], "(^|/)\\.git/");
	CHECK_EQ_STR(c->excludes[1], "\\.swp$");
	CHECK(c->excludes[2] == NULL);

	CHECK_EQ_INT(c->n_builders, 3);
	if (c->n_builders == 3) {
		cfg_builder *b = c->builders;
		CHECK_EQ_STR(b[0].exec, "kiln-copy");
		snprintf(p, sizeof p, "%s/kiln-copy", selfdir);
		CHECK_EQ_STR(b[0].exec_abs, p);
		CHECK(b[0].internal);
		CHECK(b[0].has_patterns);
		CHECK_EQ_INT(b[0].n_patterns, 3);
		CHECK_EQ_STR(b[0].patterns[1], "*.WAV");
		CHECK_EQ_STR(b[0].patterns[2], "re:^music/.*\\.mp3$");
		CHECK(b[0].patterns[3] == NULL);
		CHECK_EQ_INT(b[0].n_args, 0);
		CHECK(b[0].args != NULL && b[0].args[0] == NULL);
		CHECK_EQ_INT(b[0].timeout_s, 600);
		CHECK_EQ_INT(b[0].memory_mb, 4096);
		CHECK(b[0].persistent);

		CHECK_EQ_STR(b[1].exec, "kiln-texture");
		CHECK(!b[1].has_patterns);
		CHECK_EQ_INT(b[1].n_patterns, 0);
		CHECK(b[1].patterns != NULL && b[1].patterns[0] == NULL);

		CHECK_EQ_STR(b[2].exec, "tools/my_builder.py");
		snprintf(p, sizeof p, "%s/tools/my_builder.py", root);
		CHECK_EQ_STR(b[2].exec_abs, p);
		CHECK(!b[2].internal);
		CHECK_EQ_INT(b[2].n_args, 2);
		CHECK_EQ_STR(b[2].args[0], "--fast");
		CHECK_EQ_STR(b[2].args[1], "");
		CHECK(b[2].args[2] == NULL);
		CHECK_EQ_INT(b[2].timeout_s, 120);
		CHECK_EQ_INT(b[2].memory_mb, 2048);
		CHECK(!b[2].persistent);
	}
	CHECK_EQ_INT(c->hosts, 4);
	CHECK_EQ_STR(c->http, "");
	CHECK(c->scan_hash);
	CHECK_EQ_INT(c->n_metadata, 2);
	if (c->n_metadata == 2) {
		CHECK_EQ_STR(c->metadata[0].ext, "assetinfo");
		CHECK_EQ_INT(c->metadata[0].n_source_exts, 2);
		CHECK_EQ_STR(c->metadata[0].source_exts[0], "fbx");
		CHECK_EQ_STR(c->metadata[0].source_exts[1], "gltf");
		CHECK(c->metadata[0].source_exts[2] == NULL);
		CHECK_EQ_STR(c->metadata[1].ext, "meta");
		CHECK_EQ_STR(c->metadata[1].source_exts[0], "png");
	}
	config_free(c);
}

static void test_defaults(void)
{
	char p[600];
	kiln_config *c = PARSE_OK("{}");

	if (!c)
		return;
	CHECK_EQ_STR(c->project, path_basename(root));
	CHECK_EQ_INT(c->n_platforms, 1);
	CHECK_EQ_STR(c->platforms[0], "pc");
	CHECK(c->platforms[1] == NULL);
	snprintf(p, sizeof p, "%s/Cache", root);
	CHECK_EQ_STR(c->cache, p);
	CHECK_EQ_INT(c->n_folders, 1);
	CHECK_EQ_STR(c->folders[0].path, "Assets");
	snprintf(p, sizeof p, "%s/Assets", root);
	CHECK_EQ_STR(c->folders[0].abs, p);
	CHECK(c->folders[0].recursive);
	CHECK_EQ_INT(c->folders[0].order, 0);
	CHECK(c->folders[0].platforms == NULL);
	CHECK_EQ_INT(c->n_excludes, 0);
	CHECK(c->excludes != NULL && c->excludes[0] == NULL);
	CHECK_EQ_INT(c->n_builders, 0);
	CHECK_EQ_INT(c->hosts, 0);
	CHECK_EQ_STR(c->http, "127.0.0.1:45644");
	CHECK(!c->scan_hash);
	CHECK_EQ_INT(c->n_metadata, 0);
	config_free(c);

	/* A builder's own defaults, and "fast". */
	c = PARSE_OK(
	    "{\"builders\": [{\"exec\": \"kiln-copy\"}], \"scan\": \"fast\", \"http\": \"[::1]:8080\"}");
	if (c) {
		CHECK_EQ_INT(c->builders[0].timeout_s, 600);
		CHECK_EQ_INT(c->builders[0].memory_mb, 4096);
		CHECK(c->builders[0].persistent);
		CHECK(!c->builders[0].has_patterns);
		CHECK(!c->scan_hash);
		CHECK_EQ_STR(c->http, "[::1]:8080");
	}
	config_free(c);

	/* The limits themselves are allowed. */
	c = PARSE_OK(
	    "{\"hosts\": 256, \"builders\": [{\"exec\": \"kiln-copy\", \"timeout_s\": 86400, \"memory_mb\": "
	    "16}, {\"exec\": \"kiln-copy\", \"args\": [\"x\"], \"timeout_s\": 1, \"memory_mb\": 1048576}]}");
	if (c) {
		CHECK_EQ_INT(c->hosts, 256);
		CHECK_EQ_INT(c->builders[0].timeout_s, 86400);
		CHECK_EQ_INT(c->builders[0].memory_mb, 16);
		CHECK_EQ_INT(c->builders[1].timeout_s, 1);
		CHECK_EQ_INT(c->builders[1].memory_mb, 1048576);
	}
	config_free(c);
}

static void test_syntax_errors(void)
{
	EXPECT_ERR("", 1, 1, "unexpected end of input");
	EXPECT_ERR("{\n  \"project\": \"x\",\n}", 2, 17, "trailing comma before '}'");
	EXPECT_ERR("{\n  \"project\" \"x\"\n}", 2, 13, "expected ':'");
	EXPECT_ERR("{\n  \"hosts\": 01\n}", 2, 13, "leading zeros");
	EXPECT_ERR("{\n  // comment\n}", 2, 3, "comments are not allowed");
	EXPECT_ERR("{\"project\": \"a\\u0000b\"}", 1, 15, "\\u0000 is not allowed");
	EXPECT_ERR("{\"project\": \"\xc3\"}", 1, 15, "invalid UTF-8");
	EXPECT_ERR("{} {}", 1, 4, "after the JSON value");
	EXPECT_ERR("[]", 1, 1, "must hold one JSON object, not an array");
	EXPECT_ERR("\n  \"x\"", 2, 3, "must hold one JSON object, not a string");
}

static void test_unknown_keys(void)
{
	EXPECT_ERR("{\"projct\": \"x\"}", 1, 2,
	           "unknown key \"projct\" in the top-level object; did you mean \"project\"?");
	EXPECT_ERR("{\n  \"porject\": \"x\"\n}", 2, 3, "did you mean \"project\"?");
	EXPECT_ERR("{\"platform\": [\"pc\"]}", 1, 2, "did you mean \"platforms\"?");
	EXPECT_ERR("{\"exclude\": []}", 1, 2, "did you mean \"excludes\"?");
	EXPECT_ERR("{\"zzzzzz\": 1}", 1, 2,
	           "unknown key \"zzzzzz\" in the top-level object (known keys: project,");
	EXPECT_ERR("{\"scan_folders\": [{\"path\": \"Assets\", \"recursve\": true}]}", 1, 38,
	           "unknown key \"recursve\" in scan_folders[0]; did you mean \"recursive\"?");
	EXPECT_ERR(
	    "{\"builders\": [\n  {\"exec\": \"kiln-copy\"},\n  {\"exec\": \"kiln-copy\", \"timeout\": 5}\n]}",
	    3, 25, "unknown key \"timeout\" in builders[1]; did you mean \"timeout_s\"?");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"memroy_mb\": 5}]}", 1, 37,
	           "did you mean \"memory_mb\"?");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"memory\": 5}]}", 1, 37,
	           "(known keys: exec, args,");
	EXPECT_ERR("{\"builders\": [{\"exe\": \"kiln-copy\"}]}", 1, 16, "did you mean \"exec\"?");
	/* Control characters in a key do not reach the terminal raw. */
	EXPECT_ERR("{\"a\\nb\": 1}", 1, 2, "unknown key \"a\\nb\"");
}

static void test_duplicate_keys(void)
{
	EXPECT_ERR("{\"hosts\": 1,\n \"hosts\": 2}", 2, 2,
	           "duplicate key \"hosts\" in the top-level object (first at 1:2)");
	EXPECT_ERR("{\"scan_folders\": [{\"path\": \"Assets\",\n  \"path\": \"Assets\"}]}", 2, 3,
	           "duplicate key \"path\" in scan_folders[0] (first at 1:20)");
	EXPECT_ERR("{\"metadata\": {\"a\": [\"x\"], \"b\": [\"y\"], \"a\": [\"z\"]}}", 1, 39,
	           "duplicate key \"a\" in metadata (first at 1:15)");
	EXPECT_ERR("{\"metadata\": {\"a\": [\"x\"], \"A\": [\"z\"]}}", 1, 27,
	           "metadata extension \"A\" is listed twice");
}

static void test_wrong_types(void)
{
	EXPECT_ERR("{\"project\": 5}", 1, 13, "project must be a string, not 5");
	EXPECT_ERR("{\"project\": \"\"}", 1, 13, "project must not be empty");
	EXPECT_ERR("{\"platforms\": \"pc\"}", 1, 15, "platforms must be an array of strings, not a string");
	EXPECT_ERR("{\"platforms\": [\"pc\", 7]}", 1, 22, "platforms[1] must be a string, not 7");
	EXPECT_ERR("{\"cache\": null}", 1, 11, "cache must be a string, not null");
	EXPECT_ERR("{\"scan_folders\": {}}", 1, 18,
	           "scan_folders must be an array of objects, not an object");
	EXPECT_ERR("{\"scan_folders\": [\"Assets\"]}", 1, 19, "scan_folders[0] must be an object");
	EXPECT_ERR("{\"scan_folders\": [{\"path\": \"Assets\", \"recursive\": 1}]}", 1, 51,
	           "scan_folders[0].recursive must be true or false, not 1");
	EXPECT_ERR("{\"scan_folders\": [{\"path\": [\"Assets\"]}]}", 1, 28,
	           "scan_folders[0].path must be a string, not an array");
	EXPECT_ERR("{\"excludes\": \"x\"}", 1, 14, "excludes must be an array of strings");
	EXPECT_ERR("{\"builders\": {\"exec\": \"kiln-copy\"}}", 1, 14,
	           "builders must be an array of objects");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"args\": \"-v\"}]}", 1, 45,
	           "builders[0].args must be an array of strings, not a string");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"persistent\": \"no\"}]}", 1, 51,
	           "builders[0].persistent must be true or false, not a string");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"\"}]}", 1, 24, "builders[0].exec must not be empty");
	EXPECT_ERR("{\"hosts\": \"4\"}", 1, 11, "hosts must be an integer from 0 to 256, not a string");
	EXPECT_ERR("{\"http\": 8080}", 1, 10, "http must be a string, not 8080");
	EXPECT_ERR("{\"scan\": true}", 1, 10, "scan must be a string, not true");
	EXPECT_ERR("{\"metadata\": [\"fbx\"]}", 1, 14, "metadata must be an object");
	EXPECT_ERR("{\"metadata\": {\"assetinfo\": \"fbx\"}}", 1, 28,
	           "metadata.assetinfo must be an array of strings, not a string");
}

static void test_bad_numbers(void)
{
	EXPECT_ERR("{\"hosts\": -1}", 1, 11, "hosts must be an integer from 0 to 256, not -1");
	EXPECT_ERR("{\"hosts\": 257}", 1, 11, "not 257");
	EXPECT_ERR("{\"hosts\": 1.5}", 1, 11, "not 1.5");
	EXPECT_ERR("{\"hosts\": 4e0}", 1, 11, "not 4 written with a fraction or an exponent");
	EXPECT_ERR("{\"hosts\": 4.0}", 1, 11, "not 4 written with a fraction or an exponent");
	EXPECT_ERR("{\"hosts\": 99999999999999999999}", 1, 11, "not 1e+20");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\",\n  \"timeout_s\": 0}]}", 2, 16,
	           "builders[0].timeout_s must be an integer from 1 to 86400, not 0");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"timeout_s\": 86401}]}", 1, 50, "not 86401");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"memory_mb\": 15}]}", 1, 50,
	           "builders[0].memory_mb must be an integer from 16 to 1048576, not 15");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"memory_mb\": 1048577}]}", 1, 50,
	           "not 1048577");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"memory_mb\": -4096}]}", 1, 50, "not -4096");
	EXPECT_ERR("{\"scan_folders\": [{\"path\": \"Assets\", \"order\": 1e12}]}", 1, 47,
	           "scan_folders[0].order must be an integer");
}

static void test_names_and_values(void)
{
	EXPECT_ERR("{\"platforms\": []}", 1, 15, "platforms must name at least one platform");
	EXPECT_ERR("{\"platforms\": [\"pc\", \"PC\"]}", 1, 22, "platform name \"PC\" may hold only a-z, 0-9");
	EXPECT_ERR("{\"platforms\": [\"pc\", \"my platform\"]}", 1, 22, "may hold only");
	EXPECT_ERR("{\"platforms\": [\"../x\"]}", 1, 16, "may hold only");
	EXPECT_ERR("{\"platforms\": [\"\"]}", 1, 16, "platforms[0] must not be empty");
	EXPECT_ERR("{\"platforms\": [\"logs\"]}", 1, 16, "platform name \"logs\" is reserved");
	EXPECT_ERR("{\"platforms\": [\"pc\", \"linux\",\n \"pc\"]}", 2, 2,
	           "platform \"pc\" is listed twice (first at 1:16)");
	EXPECT_ERR("{\"http\": \"localhost\"}", 1, 10, "http \"localhost\" has no \":PORT\"");
	EXPECT_ERR("{\"http\": \"127.0.0.1:0\"}", 1, 10, "not a number from 1 to 65535");
	EXPECT_ERR("{\"http\": \"127.0.0.1:65536\"}", 1, 10, "not a number from 1 to 65535");
	EXPECT_ERR("{\"http\": \"127.0.0.1:80a\"}", 1, 10, "not a number from 1 to 65535");
	EXPECT_ERR("{\"http\": \":8080\"}", 1, 10, "has no host");
	EXPECT_ERR("{\"http\": \"::1:8080\"}", 1, 10, "not in brackets");
	EXPECT_ERR("{\"http\": \"a b:8080\"}", 1, 10, "cannot appear in a host name");
	EXPECT_ERR("{\"scan\": \"quick\"}", 1, 10, "scan must be \"fast\" or \"hash\", not \"quick\"");
	EXPECT_ERR("{\"metadata\": {\".assetinfo\": [\"fbx\"]}}", 1, 15, "without the dot");
	EXPECT_ERR("{\"metadata\": {\"assetinfo\": [\"fbx\", \".gltf\"]}}", 1, 36,
	           "extension \".gltf\" may hold only");
	EXPECT_ERR("{\"metadata\": {\"assetinfo\": []}}", 1, 28, "at least one source extension");
	EXPECT_ERR("{\"metadata\": {\"assetinfo\": [\"fbx\", \"FBX\"]}}", 1, 36,
	           "extension \"fbx\" is listed twice (first at 1:29)");
}

static void test_regexes(void)
{
	EXPECT_ERR2("{\"excludes\": [\"ok\",\n  \"(unclosed\"]}", 2, 3,
	            "excludes[1] \"(unclosed\" is not a valid regex: ", "parenthesis");
	EXPECT_ERR("{\"excludes\": [\"\"]}", 1, 15, "excludes[0] is empty");
	EXPECT_ERR("{\"excludes\": [\"a{2,1}\"]}", 1, 15, "is not a valid regex");
	EXPECT_ERR2("{\"builders\": [{\"exec\": \"kiln-copy\",\n   \"patterns\": [\"*.png\", \"re:[a-\"]}]}",
	            2, 26, "builders[0].patterns[1] \"re:[a-\" does not compile: ", "offset");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"patterns\": [\"[abc\"]}]}", 1, 50,
	           "builders[0].patterns[0] \"[abc\" does not compile");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"patterns\": []}]}", 1, 49,
	           "builders[0].patterns must hold at least one pattern");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\", \"patterns\": [\"\"]}]}", 1, 50,
	           "builders[0].patterns[0] must not be empty");
}

static void test_scan_folders(void)
{
	char want[600];

	snprintf(want, sizeof want, "scan folder \"Nope\" does not exist: %s/Nope", root);
	EXPECT_ERR("{\"scan_folders\": [\n  {\"path\": \"Assets\"},\n  {\"path\": \"Nope\"}\n]}", 3, 12,
	           want);
	snprintf(want, sizeof want, "scan folder \"notadir\" is not a folder: %s/notadir", root);
	EXPECT_ERR("{\"scan_folders\": [{\"path\": \"notadir\"}]}", 1, 28, want);
	EXPECT_ERR("{\"scan_folders\": [{\"path\": \"notadir/x\"}]}", 1, 28, "does not exist");
	EXPECT_ERR("{\"scan_folders\": [{\"path\": \"Assets\"},\n {\"path\": \"./Assets/\"}]}", 2, 11,
	           "scan folder \"./Assets/\" is listed twice (first at 1:28)");
	EXPECT_ERR("{\"scan_folders\": [{\"recursive\": true}]}", 1, 19, "scan_folders[0] has no \"path\"");
	EXPECT_ERR("{\"scan_folders\": []}", 1, 18, "scan_folders must list at least one folder");
	EXPECT_ERR("{\"platforms\": [\"pc\"], \"scan_folders\": [{\"path\": \"Assets\", \"platforms\": "
	           "[\"linux\"]}]}",
	           1, 73, "\"linux\" is not one of the project's platforms");
	/* The project's platforms count even when they come later in the file. */
	EXPECT_ERR(
	    "{\"scan_folders\": [{\"path\": \"Assets\", \"platforms\": [\"ios\"]}], \"platforms\": [\"pc\"]}",
	    1, 52, "\"ios\" is not one of the project's platforms");
	EXPECT_ERR("{\"scan_folders\": [{\"path\": \"Assets\", \"platforms\": []}]}", 1, 51,
	           "scan_folders[0].platforms must name at least one platform");
	EXPECT_ERR("{\"platforms\": [\"pc\", \"ios\"], \"scan_folders\": [{\"path\": \"Assets\", "
	           "\"platforms\": [\"ios\", "
	           "\"ios\"]}]}",
	           1, 87, "platform \"ios\" is listed twice (first at 1:80)");
	/* A scan folder inside the cache would have its files deleted. */
	EXPECT_ERR("{\"cache\": \".\"}", 1, 11, "scan folder \"Assets\" lies inside the cache");
	EXPECT_ERR("{\"cache\": \"Low\", \"scan_folders\": [{\"path\": \"Low/..//Low\"}]}", 1, 11,
	           "lies inside the cache");
	/* Without scan_folders the default Assets/ must exist; the error points
	 * at the object, having no better place. */
	expect_err_in(bare, "{\n}", 1, 1, "default scan folder \"Assets\" is missing", NULL, __LINE__);
}

/* A builder whose executable cannot be used is no error of kiln.json (SPEC
 * 7): the file loads, and the builder carries the problem, at the position
 * of its "exec" value, for the engine to disable it with. */
static void expect_problem_at(const char *text, size_t idx, int line, int col, const char *part,
                              int caller_line)
{
	char want[64];
	kiln_config *c = parse_ok_at(text, caller_line);
	const char *p = c && idx < c->n_builders ? c->builders[idx].problem : NULL;
	snprintf(want, sizeof want, "kiln.json:%d:%d: ", line, col);
	bool ok = p && strncmp(p, want, strlen(want)) == 0 && strstr(p, part);
	if (!ok)
		fprintf(stderr, "config_test.c:%d: want builder %zu's problem \"%s...%s\", got \"%s\"\n",
		        caller_line, idx, want, part, p ? p : "(none)");
	CHECK(ok);
	for (size_t i = 0; c && i < c->n_builders; i++)
		if (i != idx)
			CHECK(c->builders[i].problem == NULL);
	config_free(c);
}
#define EXPECT_PROBLEM(text, idx, line, col, part)                                                           \
	expect_problem_at((text), (idx), (line), (col), (part), __LINE__)

static void test_builders(void)
{
	char want[600];

	snprintf(want, sizeof want, "builder \"kiln-nope\" not found: %s/kiln-nope does not exist", selfdir);
	EXPECT_PROBLEM("{\"builders\": [\n  {\"exec\": \"kiln-copy\"},\n  {\"exec\": \"kiln-nope\"}\n]}", 1,
	               3, 12, want);
	snprintf(want, sizeof want, "builder \"tools/noexec.sh\" is not executable: %s/tools/noexec.sh",
	         root);
	EXPECT_PROBLEM("{\"builders\": [{\"exec\": \"tools/noexec.sh\"}]}", 0, 1, 24, want);
	snprintf(want, sizeof want, "builder \"tools/missing.py\" not found: %s/tools/missing.py", root);
	EXPECT_PROBLEM("{\"builders\": [{\"exec\": \"tools/missing.py\"}]}", 0, 1, 24, want);
	EXPECT_PROBLEM("{\"builders\": [{\"exec\": \"./tools/sub\"}]}", 0, 1, 24, "is not a file");
	/* Without a slash the name is looked up beside kiln, never in the project. */
	snprintf(want, sizeof want, "%s/my_builder.py does not exist", selfdir);
	EXPECT_PROBLEM("{\"builders\": [{\"exec\": \"my_builder.py\"}]}", 0, 1, 24, want);
	EXPECT_ERR("{\"builders\": [{\"args\": []}]}", 1, 15, "builders[0] has no \"exec\"");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"kiln-copy\"},\n {\"exec\": \"kiln-copy\"}]}", 2, 11,
	           "builder \"kiln-copy\" is listed twice with the same args (first at 1:24)");
	EXPECT_ERR("{\"builders\": [{\"exec\": \"tools/my_builder.py\", \"args\": [\"a\"]},\n {\"exec\": "
	           "\"./tools/../tools/my_builder.py\", \"args\": [\"a\"]}]}",
	           2, 11, "is listed twice");
	EXPECT_ERR("{\"builders\": [\"kiln-copy\"]}", 1, 15, "builders[0] must be an object");

	/* Same program, different args: two builders. */
	kiln_config *c = PARSE_OK(
	    "{\"builders\": [{\"exec\": \"kiln-copy\", \"args\": [\"a b\"]}, {\"exec\": \"kiln-copy\", "
	    "\"args\": [\"a\", \"b\"]}]}");
	if (c)
		CHECK_EQ_INT(c->n_builders, 2);
	config_free(c);
}

static void test_load(void)
{
	char err[1024] = "", want[700], p[600];
	kiln_config *c = NULL;
	int rc;

	/* No file: -errno, and the message names the file. */
	rc = config_load(bare, selfdir, &c, err, sizeof err);
	CHECK_EQ_INT(rc, -ENOENT);
	CHECK(c == NULL);
	snprintf(want, sizeof want, "%s/kiln.json", bare);
	CHECK(strstr(err, want) != NULL);

	write_file(root, "kiln.json",
	           "{\n  \"project\": \"loaded\",\n  \"builders\": [{\"exec\": \"kiln-copy\"}]\n}\n", 0644);
	c = LOAD_OK(root);
	if (c) {
		snprintf(p, sizeof p, "%s/kiln.json", root);
		CHECK_EQ_STR(c->file, p);
		CHECK_EQ_STR(c->project, "loaded");
		CHECK_EQ_INT(c->n_builders, 1);
	}
	config_free(c);
	c = NULL;

	/* Errors name the absolute file. */
	write_file(root, "kiln.json", "{\n  \"project\": \"loaded\",\n  \"hosts\": 1000\n}\n", 0644);
	rc = config_load(root, selfdir, &c, err, sizeof err);
	CHECK_EQ_INT(rc, KILN_E_CONFIG);
	CHECK(c == NULL);
	snprintf(want, sizeof want, "%s/kiln.json:3:12: hosts must be an integer from 0 to 256, not 1000",
	         root);
	CHECK_EQ_STR(err, want);

	/* A relative root works like an absolute one. */
	char cwd[600];
	if (getcwd(cwd, sizeof cwd) && chdir(root) == 0) {
		write_file(root, "kiln.json", "{}", 0644);
		c = LOAD_OK(".");
		if (c)
			CHECK_EQ_STR(c->root, root);
		config_free(c);
		c = NULL;
		CHECK_EQ_INT(chdir(cwd), 0);
	}

	/* Too large to be a project file. */
	{
		size_t n = (1u << 20) + 10;
		char *big = malloc(n + 1);
		memset(big, ' ', n);
		big[0] = '{';
		big[n - 1] = '}';
		big[n] = '\0';
		write_file(root, "kiln.json", big, 0644);
		rc = config_load(root, selfdir, &c, err, sizeof err);
		CHECK_EQ_INT(rc, KILN_E_CONFIG);
		CHECK(strstr(err, ":1:1: the file is larger than") != NULL);
		rc = config_parse(big, n, "kiln.json", root, selfdir, &c, err, sizeof err);
		CHECK_EQ_INT(rc, KILN_E_CONFIG);
		CHECK(c == NULL);
		free(big);
	}
	snprintf(p, sizeof p, "%s/kiln.json", root);
	unlink(p);

	/* A small err buffer is cut short, never overrun. */
	char tiny[12];
	memset(tiny, 'X', sizeof tiny);
	rc = config_parse("{\"hosts\": -1}", 13, "kiln.json", root, selfdir, &c, tiny, 8);
	CHECK_EQ_INT(rc, KILN_E_CONFIG);
	CHECK_EQ_STR(tiny, "kiln.js");
	CHECK(tiny[8] == 'X');
}

static void test_find_root(void)
{
	char out[600], start[600], want[600];

	snprintf(start, sizeof start, "%s/Shared/Assets", root);
	write_file(root, "kiln.json", "{}", 0644);
	CHECK_EQ_INT(config_find_root(start, out, sizeof out), 0);
	CHECK_EQ_STR(out, root);
	CHECK_EQ_INT(config_find_root(root, out, sizeof out), 0);
	CHECK_EQ_STR(out, root);
	CHECK_EQ_INT(config_find_root(start, out, 4), KILN_E_TOOBIG);
	/* A folder named kiln.json does not make a project. */
	snprintf(want, sizeof want, "%s/x/kiln.json", bare);
	path_mkdirs(want, 0755);
	snprintf(start, sizeof start, "%s/x", bare);
	CHECK_EQ_INT(config_find_root(start, out, sizeof out), KILN_E_NOTFOUND);
	snprintf(want, sizeof want, "%s/kiln.json", root);
	unlink(want);
	snprintf(start, sizeof start, "%s/Shared", root);
	CHECK_EQ_INT(config_find_root(start, out, sizeof out), KILN_E_NOTFOUND);
	snprintf(want, sizeof want, "%s/x", bare);
	path_rmtree(want);
}

static void test_init(void)
{
	char dir[600], err[1024] = "", p[700], before[4096], after[4096];
	kiln_config *c;
	struct stat st;
	int rc;
	size_t nb, na;

	snprintf(dir, sizeof dir, "%s/new project", bare);
	rc = config_init_project(dir, err, sizeof err);
	CHECK_EQ_INT(rc, 0);
	snprintf(p, sizeof p, "%s/Assets", dir);
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	/* It loads cleanly, and is what the brief says it is. */
	c = LOAD_OK(dir);
	if (c) {
		CHECK_EQ_STR(c->project, "new project");
		CHECK_EQ_INT(c->n_folders, 1);
		CHECK_EQ_STR(c->folders[0].path, "Assets");
		/* Every shipped builder, each with its patterns written out, so
		 * that a PNG or an OBJ dropped into Assets/ is processed. */
		static const char *const shipped[] = {"kiln-copy", "kiln-texture", "kiln-mesh", "kiln-refs"};
		CHECK_EQ_INT(c->n_builders, 4);
		for (size_t i = 0; i < 4 && i < c->n_builders; i++) {
			CHECK_EQ_STR(c->builders[i].exec, shipped[i]);
			CHECK(c->builders[i].internal);
			CHECK(c->builders[i].has_patterns && c->builders[i].n_patterns > 0);
		}
		CHECK_EQ_STR(c->platforms[0], "pc");
		CHECK(c->n_excludes > 0);
	}
	config_free(c);

	snprintf(p, sizeof p, "%s/kiln.json", dir);
	nb = read_file(p, before, sizeof before);
	/* A second init refuses, and leaves the file as it was. */
	rc = config_init_project(dir, err, sizeof err);
	CHECK_EQ_INT(rc, -EEXIST);
	CHECK(strstr(err, "already exists") != NULL);
	na = read_file(p, after, sizeof after);
	CHECK(nb > 0 && nb == na && memcmp(before, after, nb) == 0);
	/* Nothing else is left behind. */
	snprintf(p, sizeof p, "%s/.kiln.json.init", dir);
	CHECK(access(p, F_OK) != 0);

	/* A project name that needs escaping still makes valid JSON. */
	snprintf(dir, sizeof dir, "%s/we\"ird\\name", bare);
	rc = config_init_project(dir, err, sizeof err);
	CHECK_EQ_INT(rc, 0);
	c = LOAD_OK(dir);
	if (c)
		CHECK_EQ_STR(c->project, "we\"ird\\name");
	config_free(c);
}

/* The control key: TCP for the control API, its allow list and token. */
static void test_control(void)
{
	kiln_config *c;

	/* Left out: no TCP, the loopback addresses are the allow list. */
	c = PARSE_OK("{}");
	if (c) {
		CHECK(c->control.tcp == NULL);
		CHECK(c->control.token == NULL);
		CHECK_EQ_INT(c->control.n_allow, 2);
		CHECK_EQ_STR(c->control.allow[0], "127.0.0.1");
		CHECK_EQ_STR(c->control.allow[1], "::1");
		CHECK(c->control.allow[2] == NULL);
		CHECK_EQ_INT(c->control.allow_nets[0].family, 4);
		CHECK_EQ_INT(c->control.allow_nets[0].prefix, 32);
		CHECK_EQ_INT(c->control.allow_nets[1].family, 6);
	}
	config_free(c);

	c = PARSE_OK("{\"control\": {\"tcp\": \"127.0.0.1:45645\", \"allow\": [\"127.0.0.1\", "
	             "\"10.0.0.0/8\", \"fd00::/8\"], \"token\": \"s3cret\"}}");
	if (c) {
		static const uint8_t ten[4] = {10, 200, 3, 4}, eleven[4] = {11, 0, 0, 1};
		static const uint8_t lo[4] = {127, 0, 0, 1}, lo2[4] = {127, 0, 0, 2};
		uint8_t mapped[16] = {0}, fd[16] = {0xfd, 0x12}, fe[16] = {0xfe};
		mapped[10] = mapped[11] = 0xff;
		memcpy(mapped + 12, ten, 4);
		CHECK_EQ_STR(c->control.tcp, "127.0.0.1:45645");
		CHECK_EQ_STR(c->control.token, "s3cret");
		CHECK_EQ_INT(c->control.n_allow, 3);
		CHECK_EQ_STR(c->control.allow[1], "10.0.0.0/8");
		CHECK_EQ_INT(c->control.allow_nets[1].prefix, 8);
		CHECK(config_cidr_match(&c->control.allow_nets[0], 4, lo));
		CHECK(!config_cidr_match(&c->control.allow_nets[0], 4, lo2));
		CHECK(config_cidr_match(&c->control.allow_nets[1], 4, ten));
		CHECK(!config_cidr_match(&c->control.allow_nets[1], 4, eleven));
		/* A v4-mapped v6 peer (a dual-stack listener) is its v4 address. */
		CHECK(config_cidr_match(&c->control.allow_nets[1], 6, mapped));
		CHECK(!config_cidr_match(&c->control.allow_nets[1], 6, fd));
		CHECK(config_cidr_match(&c->control.allow_nets[2], 6, fd));
		CHECK(!config_cidr_match(&c->control.allow_nets[2], 6, fe));
	}
	config_free(c);

	/* "" is off, like http; a token without tcp is kept and unused. */
	c = PARSE_OK("{\"control\": {\"tcp\": \"\", \"token\": \"t\"}}");
	if (c) {
		CHECK(c->control.tcp == NULL);
		CHECK_EQ_STR(c->control.token, "t");
	}
	config_free(c);

	/* Addresses on their own (odd prefix lengths, matching) are checked
	 * in config_addr_test.c. */
	EXPECT_ERR("{\"control\": true}", 1, 13, "control must be an object");
	EXPECT_ERR("{\"control\": {\"tpc\": \"127.0.0.1:1\"}}", 1, 14,
	           "unknown key \"tpc\" in control; did you mean \"tcp\"?");
	EXPECT_ERR("{\"control\": {\"allow\": [], \"allow\": []}}", 1, 27,
	           "duplicate key \"allow\" in control");
	EXPECT_ERR("{\"control\": {\"tcp\": 45645}}", 1, 21, "control.tcp must be a string, not 45645");
	EXPECT_ERR("{\"control\": {\"tcp\": \"localhost\", \"token\": \"t\"}}", 1, 21,
	           "control.tcp \"localhost\" has no \":PORT\"");
	EXPECT_ERR("{\"control\": {\"tcp\": \"127.0.0.1:70000\", \"token\": \"t\"}}", 1, 21,
	           "not a number from 1 to 65535");
	EXPECT_ERR("{\"control\": {\n  \"tcp\": \"127.0.0.1:45645\"}}", 1, 13,
	           "control has \"tcp\" but no \"token\"");
	EXPECT_ERR("{\"control\": {\"token\": \"\"}}", 1, 23, "control.token must not be empty");
	EXPECT_ERR("{\"control\": {\"token\": 5}}", 1, 23, "control.token must be a string, not 5");
	EXPECT_ERR("{\"control\": {\"allow\": \"127.0.0.1\"}}", 1, 23,
	           "control.allow must be an array of strings, not a string");
	EXPECT_ERR("{\"control\": {\"allow\": []}}", 1, 23, "control.allow must list at least one address");
	EXPECT_ERR("{\"control\": {\"allow\": [\"127.0.0.1\", \"\"]}}", 1, 37,
	           "control.allow[1] must not be empty");
	EXPECT_ERR("{\"control\": {\"allow\": [\"127.0.0.1\",\n \"localhost\"]}}", 2, 2,
	           "control.allow[1] \"localhost\" is not an IPv4 or IPv6 address");
	EXPECT_ERR("{\"control\": {\"allow\": [\"10.0.0.0/33\"]}}", 1, 24, "prefix length over 32");
	EXPECT_ERR("{\"control\": {\"allow\": [\"::/129\"]}}", 1, 24, "prefix length over 128");
	EXPECT_ERR("{\"control\": {\"allow\": [\"10.0.0.0/\"]}}", 1, 24, "has no prefix length");
	EXPECT_ERR("{\"control\": {\"allow\": [\"10.0.0.0/x\"]}}", 1, 24, "not a number");
	EXPECT_ERR("{\"control\": {\"allow\": [\"10.1.0.0/8\"]}}", 1, 24, "bits set beyond its prefix");
	EXPECT_ERR("{\"control\": {\"allow\": [\"/8\"]}}", 1, 24, "is not an IPv4 or IPv6 address");
	{
		char big[400] = "{\"control\": {\"token\": \"";
		size_t o = strlen(big);
		memset(big + o, 'x', 257);
		strcpy(big + o + 257, "\"}}");
		EXPECT_ERR(big, 1, 23, "control.token is longer than 256 bytes");
	}
}

int main(void)
{
	setup();
	test_full_file();
	test_defaults();
	test_syntax_errors();
	test_unknown_keys();
	test_duplicate_keys();
	test_wrong_types();
	test_bad_numbers();
	test_names_and_values();
	test_regexes();
	test_scan_folders();
	test_builders();
	test_load();
	test_find_root();
	test_init();
	test_control();
	teardown();
	TEST_DONE();
}
