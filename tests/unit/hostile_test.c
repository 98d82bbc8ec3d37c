/* hostile_test.c: kiln.json inputs written to break the loader (SPEC
 * section 7, "bad input gets a clear error").
 *
 * Where config_test.c checks each message by hand, this file generates the
 * cases: every key of every level with every JSON type it does not accept,
 * an unknown and a duplicate key at every level, nesting ten thousand deep
 * in every slot, a NUL byte, an invalid UTF-8 byte and a cut at every byte
 * offset of a full file, numbers at the edges of double and int64 in every
 * integer slot, byte-order marks, trailing garbage and files at and over the
 * size limit. Every case must end in KILN_E_CONFIG with "kiln.json:LINE:COL:
 * message", where LINE:COL is where the offending value was written (or,
 * for damage, no later than the damage), in a bounded time, and never in a
 * crash; the ASan build runs the same cases. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "kerr.h"
#include "path.h"
#include "test.h"

static char root[256];    /* a temp project with Assets/, Shared/Assets/, bin/ and tools/ */
static char selfdir[300]; /* stands in for the folder of the kiln binary */

static void write_file(const char *rel, const char *text, mode_t mode)
{
	char p[600];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", root, rel);
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

static void setup(void)
{
	char p[600];
	snprintf(root, sizeof root, "/tmp/kiln-hostile-test-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(selfdir, sizeof selfdir, "%s/bin", root);
	snprintf(p, sizeof p, "%s/Assets", root);
	path_mkdirs(p, 0755);
	snprintf(p, sizeof p, "%s/Shared/Assets", root);
	path_mkdirs(p, 0755);
	write_file("bin/kiln-copy", "#!/bin/sh\nexit 0\n", 0755);
	write_file("tools/b.sh", "#!/bin/sh\nexit 0\n", 0755);
	write_file("afile", "not a folder\n", 0644);
	/* A symlink loop where a scan folder is expected. */
	snprintf(p, sizeof p, "%s/loop1", root);
	if (symlink("loop2", p) != 0)
		perror("symlink");
	snprintf(p, sizeof p, "%s/loop2", root);
	if (symlink("loop1", p) != 0)
		perror("symlink");
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Line and column (1-based, columns in bytes) of byte offset off in t. */
static void pos_of(const char *t, size_t off, int *line, int *col)
{
	int l = 1;
	size_t start = 0;
	for (size_t i = 0; i < off; i++)
		if (t[i] == '\n') {
			l++;
			start = i + 1;
		}
	*line = l;
	*col = (int)(off - start) + 1;
}

typedef struct result {
	int rc;
	int line, col; /* parsed from err; 0 when err has no position */
	char err[1024];
	double secs;
	/* On success: the first builder's problem (an executable that cannot be
	 * used, which disables it for the run), and its position. */
	char problem[1024];
	int pline, pcol;
} result;

/* Parses t[0..len) and takes the position out of the message. Checks what
 * every outcome must hold: a config on success, and on failure no config
 * and a message that starts with the file name. */
static result parse(const char *t, size_t len)
{
	result r = {0};
	kiln_config *c = NULL;
	double t0 = now_s();
	r.rc = config_parse(t, len, "kiln.json", root, selfdir, &c, r.err, sizeof r.err);
	r.secs = now_s() - t0;
	if (r.rc == 0) {
		CHECK(c != NULL);
		if (c && c->n_builders && c->builders[0].problem) {
			snprintf(r.problem, sizeof r.problem, "%s", c->builders[0].problem);
			if (sscanf(r.problem, "kiln.json:%d:%d: ", &r.pline, &r.pcol) != 2)
				r.pline = r.pcol = 0;
		}
	} else {
		CHECK(c == NULL);
		CHECK(strncmp(r.err, "kiln.json", 9) == 0);
		if (sscanf(r.err, "kiln.json:%d:%d: ", &r.line, &r.col) != 2)
			r.line = r.col = 0;
	}
	config_free(c);
	return r;
}

static int failures_shown;

static void show(const char *what, const char *t, size_t len, const result *r, const char *why)
{
	/* A broken loader fails hundreds of generated cases at once; the
	 * first few say enough. */
	if (++failures_shown > 40)
		return;
	fprintf(stderr, "  case %s: %s\n    input (%zu bytes): %.*s%s\n    rc %d, err: %s\n", what, why, len,
	        len > 160 ? 160 : (int)len, t, len > 160 ? "..." : "", r->rc, r->err);
}

/* Expects a configuration error at exactly line:col whose message holds
 * part (when not NULL). */
static void expect_err_at(const char *what, const char *t, size_t len, int line, int col, const char *part)
{
	result r = parse(t, len);
	bool ok = r.rc == KILN_E_CONFIG && r.line == line && r.col == col && (!part || strstr(r.err, part));
	if (!ok) {
		char why[128];
		snprintf(why, sizeof why, "want an error at %d:%d%s%s", line, col, part ? " holding " : "",
		         part ? part : "");
		show(what, t, len, &r, why);
	}
	CHECK(ok);
}

/* Expects a configuration error no later than line:col (damage at a byte
 * may be reported where the token it breaks began). */
static void expect_err_by(const char *what, const char *t, size_t len, int line, int col)
{
	result r = parse(t, len);
	bool ok = r.rc == KILN_E_CONFIG && r.line >= 1 && r.col >= 1 &&
	          (r.line < line || (r.line == line && r.col <= col));
	if (!ok) {
		char why[64];
		snprintf(why, sizeof why, "want an error no later than %d:%d", line, col);
		show(what, t, len, &r, why);
	}
	CHECK(ok);
}

/* A full project file; every slot below is a variation of it. */
static const char full[] = "{\n"
                           "  \"project\": \"hostile\",\n"
                           "  \"platforms\": [\"pc\", \"linux\"],\n"
                           "  \"cache\": \"Cache\",\n"
                           "  \"scan_folders\": [\n"
                           "    {\"path\": \"Assets\", \"recursive\": true, \"order\": 0},\n"
                           "    {\"path\": \"Shared/Assets\", \"order\": 10, \"platforms\": [\"pc\"]}\n"
                           "  ],\n"
                           "  \"excludes\": [\"(^|/)\\\\.git/\", \"\\\\.swp$\"],\n"
                           "  \"builders\": [\n"
                           "    {\"exec\": \"kiln-copy\", \"patterns\": [\"*.ogg\", \"re:^a/.*$\"]},\n"
                           "    {\"exec\": \"tools/b.sh\", \"args\": [\"-v\"], \"timeout_s\": 120,\n"
                           "     \"memory_mb\": 2048, \"persistent\": false}\n"
                           "  ],\n"
                           "  \"hosts\": 2,\n"
                           "  \"http\": \"127.0.0.1:45644\",\n"
                           "  \"scan\": \"fast\",\n"
                           "  \"metadata\": {\"assetinfo\": [\"fbx\", \"gltf\"]},\n"
                           "  \"control\": {\"allow\": [\"127.0.0.1\"], \"token\": \"t0k3n\"}\n"
                           "}\n";

/* A slot is a place for one value: a template whose '@' the value
 * replaces, and the JSON types that may stand there. */
enum { T_NULL = 1, T_BOOL = 2, T_INT = 4, T_STR = 8, T_ARR = 16, T_OBJ = 32 };

typedef struct slot {
	const char *name; /* the key path the message should name */
	const char *tmpl;
	unsigned accepts;
} slot;

#define B "\"builders\": [{\"exec\": \"kiln-copy\"}]"
static const slot slots[] = {
    {"project", "{\n  " B ",\n  \"project\": @\n}", T_STR},
    {"platforms", "{\n  " B ",\n  \"platforms\": @\n}", T_ARR},
    {"platforms[1]", "{\n  " B ",\n  \"platforms\": [\"pc\", @]\n}", T_STR},
    {"cache", "{\n  " B ",\n  \"cache\": @\n}", T_STR},
    {"scan_folders", "{\n  " B ",\n  \"scan_folders\": @\n}", T_ARR},
    {"scan_folders[0]", "{\n  " B ",\n  \"scan_folders\": [\n    @\n  ]\n}", T_OBJ},
    {"scan_folders[0].path", "{\n  " B ",\n  \"scan_folders\": [\n    {\"path\": @}\n  ]\n}", T_STR},
    {"scan_folders[0].recursive",
     "{\n  " B ",\n  \"scan_folders\": [\n    {\"path\": \"Assets\", \"recursive\": @}\n  ]\n}", T_BOOL},
    {"scan_folders[0].order",
     "{\n  " B ",\n  \"scan_folders\": [\n    {\"path\": \"Assets\", \"order\": @}\n  ]\n}", T_INT},
    {"scan_folders[0].platforms",
     "{\n  " B ",\n  \"scan_folders\": [\n    {\"path\": \"Assets\", \"platforms\": @}\n  ]\n}", T_ARR},
    {"scan_folders[0].platforms[0]",
     "{\n  " B ",\n  \"scan_folders\": [\n    {\"path\": \"Assets\", \"platforms\": [@]}\n  ]\n}", T_STR},
    {"excludes", "{\n  " B ",\n  \"excludes\": @\n}", T_ARR},
    {"excludes[1]", "{\n  " B ",\n  \"excludes\": [\"a\", @]\n}", T_STR},
    {"builders", "{\n  \"builders\": @\n}", T_ARR},
    {"builders[0]", "{\n  \"builders\": [\n    @\n  ]\n}", T_OBJ},
    {"builders[0].exec", "{\n  \"builders\": [\n    {\"exec\": @}\n  ]\n}", T_STR},
    {"builders[0].args", "{\n  \"builders\": [\n    {\"exec\": \"kiln-copy\", \"args\": @}\n  ]\n}", T_ARR},
    {"builders[0].args[0]", "{\n  \"builders\": [\n    {\"exec\": \"kiln-copy\", \"args\": [@]}\n  ]\n}",
     T_STR},
    {"builders[0].patterns", "{\n  \"builders\": [\n    {\"exec\": \"kiln-copy\", \"patterns\": @}\n  ]\n}",
     T_ARR},
    {"builders[0].patterns[0]",
     "{\n  \"builders\": [\n    {\"exec\": \"kiln-copy\", \"patterns\": [@]}\n  ]\n}", T_STR},
    {"builders[0].timeout_s",
     "{\n  \"builders\": [\n    {\"exec\": \"kiln-copy\",\n     \"timeout_s\": @}\n  ]\n}", T_INT},
    {"builders[0].memory_mb",
     "{\n  \"builders\": [\n    {\"exec\": \"kiln-copy\",\n     \"memory_mb\": @}\n  ]\n}", T_INT},
    {"builders[0].persistent",
     "{\n  \"builders\": [\n    {\"exec\": \"kiln-copy\",\n     \"persistent\": @}\n  ]\n}", T_BOOL},
    {"hosts", "{\n  " B ",\n  \"hosts\": @\n}", T_INT},
    {"http", "{\n  " B ",\n  \"http\": @\n}", T_STR},
    {"scan", "{\n  " B ",\n  \"scan\": @\n}", T_STR},
    {"metadata", "{\n  " B ",\n  \"metadata\": @\n}", T_OBJ},
    {"metadata.assetinfo", "{\n  " B ",\n  \"metadata\": {\"assetinfo\": @}\n}", T_ARR},
    {"metadata.assetinfo[0]", "{\n  " B ",\n  \"metadata\": {\"assetinfo\": [@]}\n}", T_STR},
    {"control", "{\n  " B ",\n  \"control\": @\n}", T_OBJ},
    {"control.tcp", "{\n  " B ",\n  \"control\": {\"token\": \"t\", \"tcp\": @}\n}", T_STR},
    {"control.allow", "{\n  " B ",\n  \"control\": {\"allow\": @}\n}", T_ARR},
    {"control.allow[0]", "{\n  " B ",\n  \"control\": {\"allow\": [@]}\n}", T_STR},
    {"control.token", "{\n  " B ",\n  \"control\": {\"token\": @}\n}", T_STR},
};
#define N_SLOTS (sizeof slots / sizeof slots[0])

/* Builds the slot's document with value in place of '@' into a malloc'd
 * buffer; *at (OUT) is the value's byte offset. */
static char *fill(const char *tmpl, const char *value, size_t vlen, size_t *at, size_t *len)
{
	const char *p = strchr(tmpl, '@');
	size_t pre = (size_t)(p - tmpl), post = strlen(p + 1);
	char *t = malloc(pre + vlen + post + 1);
	if (!t)
		abort();
	memcpy(t, tmpl, pre);
	memcpy(t + pre, value, vlen);
	memcpy(t + pre + vlen, p + 1, post + 1);
	*at = pre;
	*len = pre + vlen + post;
	return t;
}

/* Every slot with every JSON type it does not take: the error points at
 * the value and names the key. */
static void test_wrong_types(void)
{
	static const struct {
		const char *v;
		unsigned type;
	} values[] = {
	    {"null", T_NULL},      {"true", T_BOOL},    {"false", T_BOOL}, {"7", T_INT},    {"\"s\"", T_STR},
	    {"[]", T_ARR},         {"[\"pc\"]", T_ARR}, {"[1]", T_ARR},    {"[[]]", T_ARR}, {"{}", T_OBJ},
	    {"{\"a\": 1}", T_OBJ}, {"-1.5", 0}, /* a number, and never an integer */
	};
	for (size_t s = 0; s < N_SLOTS; s++) {
		for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
			if (slots[s].accepts & values[v].type)
				continue;
			size_t at, len;
			int line, col;
			char *t = fill(slots[s].tmpl, values[v].v, strlen(values[v].v), &at, &len);
			char what[128];
			pos_of(t, at, &line, &col);
			snprintf(what, sizeof what, "%s = %s", slots[s].name, values[v].v);
			/* The message names the key (for an element, with its
			 * index). */
			expect_err_at(what, t, len, line, col, slots[s].name);
			free(t);
		}
	}
}

/* Numbers at the edges in every integer slot: each is refused at the
 * value, or (for -0 and plain small integers) loads. */
static void test_numbers(void)
{
	static const char *const refused[] = {
	    "1e999",
	    "-1e999",
	    "1e-999",
	    "9223372036854775807",
	    "9223372036854775808",
	    "-9223372036854775808",
	    "-9223372036854775809",
	    "18446744073709551616",
	    "4294967296",
	    "4294967297",
	    "2147483648",
	    "-2147483649",
	    "0.5",
	    "1E2",
	    "1e2",
	    "2.0",
	    "1e+0",
	    "0e0",
	    "123456789012345678901234567890",
	    "1.7976931348623157e308",
	    "4.9e-324",
	};
	static const char *const broken[] = {"+1",   "0x10",  ".5",  "1.",       "01",        "-",
	                                     "1e",   "1e+",   "NaN", "Infinity", "-Infinity", "--1",
	                                     "1..2", "1e1e1", "0-1", "\xd9\xa1"};
	for (size_t s = 0; s < N_SLOTS; s++) {
		if (!(slots[s].accepts & T_INT))
			continue;
		for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
			size_t at, len;
			int line, col;
			char *t = fill(slots[s].tmpl, refused[i], strlen(refused[i]), &at, &len);
			char what[128];
			pos_of(t, at, &line, &col);
			snprintf(what, sizeof what, "%s = %s", slots[s].name, refused[i]);
			/* Beyond double's range the parser refuses the literal
			 * itself ("number out of range"), before any key is
			 * looked at; the position still points at it. */
			expect_err_at(what, t, len, line, col,
			              strstr(refused[i], "e999") ? NULL : slots[s].name);
			free(t);
		}
		for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
			size_t at, len;
			int line, col;
			char *t = fill(slots[s].tmpl, broken[i], strlen(broken[i]), &at, &len);
			char what[128];
			/* Bad syntax inside the number may be found a few bytes
			 * in, but on the value's line. */
			pos_of(t, at + strlen(broken[i]), &line, &col);
			snprintf(what, sizeof what, "%s = %s", slots[s].name, broken[i]);
			expect_err_by(what, t, len, line, col);
			result r = parse(t, len);
			int vl, vc;
			pos_of(t, at, &vl, &vc);
			CHECK(r.line == vl && r.col >= vc);
			free(t);
		}
		/* -0 is zero: a slot that takes 0 takes it, one that does not
		 * refuses it at the value. */
		size_t at, len, at0, len0;
		int line, col;
		char *t = fill(slots[s].tmpl, "-0", 2, &at, &len);
		char *t0 = fill(slots[s].tmpl, "0", 1, &at0, &len0);
		result r0 = parse(t0, len0);
		result rm = parse(t, len);
		pos_of(t, at, &line, &col);
		if (r0.rc == 0) {
			CHECK_EQ_INT(rm.rc, 0);
		} else {
			CHECK_EQ_INT(rm.rc, KILN_E_CONFIG);
			CHECK(rm.line == line && rm.col == col);
		}
		free(t);
		free(t0);
	}
}

/* An unknown key and a repeated key at every level that has fixed keys. */
static void test_keys_at_every_level(void)
{
	static const struct {
		const char *name;
		const char *tmpl; /* '@' is where a member is inserted */
		const char *dup;  /* a member that is already there */
	} levels[] = {
	    {"the top-level object", "{\n  " B ",\n  \"hosts\": 1,\n  @\n}", "\"hosts\": 2"},
	    {"scan_folders[0]", "{\n  " B ",\n  \"scan_folders\": [{\"path\": \"Assets\",\n    @}]\n}",
	     "\"path\": \"Assets\""},
	    {"builders[0]", "{\n  \"builders\": [{\"exec\": \"kiln-copy\",\n    @}]\n}",
	     "\"exec\": \"kiln-copy\""},
	    {"control", "{\n  " B ",\n  \"control\": {\"token\": \"t\",\n    @}\n}", "\"token\": \"u\""},
	    {"metadata", "{\n  " B ",\n  \"metadata\": {\"assetinfo\": [\"fbx\"],\n    @}\n}",
	     "\"assetinfo\": [\"gltf\"]"},
	};
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		size_t at, len;
		int line, col;
		char what[128];
		char *t;
		/* metadata's keys are extension names: any word is a key there. */
		if (strcmp(levels[i].name, "metadata") != 0) {
			static const char *const unknown[] = {
			    "\"zz_unknown\": 1", "\"\": 1",        "\"PROJECT\": \"x\"",
			    "\"path \": 1",      "\"\\u00e9\": 1", "\"a\\nb\\u001b[31m\": 1"};
			for (size_t u = 0; u < sizeof unknown / sizeof unknown[0]; u++) {
				t = fill(levels[i].tmpl, unknown[u], strlen(unknown[u]), &at, &len);
				pos_of(t, at, &line, &col);
				snprintf(what, sizeof what, "unknown key %s in %s", unknown[u],
				         levels[i].name);
				expect_err_at(what, t, len, line, col, "unknown key");
				result r = parse(t, len);
				/* Control characters in the key never reach the
				 * terminal raw. */
				for (const char *p = r.err; *p; p++)
					CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
				free(t);
			}
		}
		t = fill(levels[i].tmpl, levels[i].dup, strlen(levels[i].dup), &at, &len);
		pos_of(t, at, &line, &col);
		snprintf(what, sizeof what, "duplicate %s in %s", levels[i].dup, levels[i].name);
		expect_err_at(what, t, len, line, col, "duplicate key");
		free(t);
	}
}

/* Ten thousand levels of nesting in every slot and at the top: refused at
 * the 65th level, without deep recursion. */
static void test_deep_nesting(void)
{
	enum { DEEP = 10000 };
	char *v = malloc(2 * DEEP);
	size_t n = 0;
	if (!v)
		abort();
	for (int i = 0; i < DEEP; i++)
		v[n++] = '[';
	for (int i = 0; i < DEEP; i++)
		v[n++] = ']';
	for (size_t s = 0; s < N_SLOTS; s++) {
		size_t at, len;
		int line, col;
		char *t = fill(slots[s].tmpl, v, n, &at, &len);
		pos_of(t, at, &line, &col);
		result r = parse(t, len);
		CHECK_EQ_INT(r.rc, KILN_E_CONFIG);
		CHECK(strstr(r.err, "nesting deeper") != NULL);
		/* Reported at a bracket of the value, on its line. */
		CHECK(r.line == line && r.col > col && r.col <= col + 64);
		free(t);
	}
	result ra = parse(v, n);
	CHECK_EQ_INT(ra.rc, KILN_E_CONFIG);
	CHECK(ra.line == 1 && ra.col == 65);
	free(v);

	/* Objects inside objects, as the whole file. */
	size_t cap = (size_t)DEEP * 6 + 8;
	char *o = malloc(cap);
	n = 0;
	if (!o)
		abort();
	for (int i = 0; i < DEEP; i++) {
		memcpy(o + n, "{\"a\":", 5);
		n += 5;
	}
	o[n++] = '1';
	for (int i = 0; i < DEEP; i++)
		o[n++] = '}';
	result r = parse(o, n);
	CHECK_EQ_INT(r.rc, KILN_E_CONFIG);
	CHECK(strstr(r.err, "nesting deeper") != NULL);
	CHECK(r.line == 1 && r.col == 64 * 5 + 1);
	free(o);
}

/* Damage at every byte offset of a full file: a NUL, an invalid UTF-8 byte
 * and a cut. Each is an error reported no later than the damage. */
static void test_damage_everywhere(void)
{
	size_t n = strlen(full);
	char *t = malloc(n + 2);
	result r;
	if (!t)
		abort();
	r = parse(full, n);
	if (r.rc != 0)
		fprintf(stderr, "  the full file does not load: %s\n", r.err);
	CHECK_EQ_INT(r.rc, 0);
	for (size_t at = 0; at <= n; at++) {
		static const char bad[] = {'\0', '\xff', '\xc0', '\x80', '\x01'};
		int line, col;
		char what[64];
		pos_of(full, at, &line, &col);
		for (size_t b = 0; b < sizeof bad; b++) {
			/* A byte inserted at offset at. */
			memcpy(t, full, at);
			t[at] = bad[b];
			memcpy(t + at + 1, full + at, n - at);
			snprintf(what, sizeof what, "byte 0x%02x inserted at offset %zu",
			         (unsigned char)bad[b], at);
			/* A control byte in whitespace or a string is an error
			 * too; after the closing brace it is trailing garbage. */
			expect_err_by(what, t, n + 1, line, col);
		}
		/* A cut: only the whole file (and the file without its final
		 * newline) loads. */
		if (at + 1 < n) {
			snprintf(what, sizeof what, "cut at offset %zu", at);
			int el, ec;
			pos_of(full, at, &el, &ec);
			expect_err_by(what, full, at, el, ec);
		}
	}
	free(t);
}

static void test_documents(void)
{
	static const struct {
		const char *t;
		int line, col;
		const char *part;
	} docs[] = {
	    {"", 1, 1, "end of input"},
	    {"   \n\t\n", 3, 1, "end of input"},
	    {"[]", 1, 1, "not an array"},
	    {"null", 1, 1, "not null"},
	    {"0", 1, 1, NULL},
	    {"\"kiln\"", 1, 1, "not a string"},
	    {"true", 1, 1, NULL},
	    {"{", 1, 2, NULL},
	    {"}", 1, 1, NULL},
	    {"{\"", 1, 2, NULL},
	    {"{\"builders\"", 1, 12, NULL},
	    {"{\"builders\":", 1, 13, NULL},
	    {"{\"builders\": [{\"exec\": \"kiln-copy\"}]}}", 1, 38, NULL},
	    {"{\"builders\": [{\"exec\": \"kiln-copy\"}]} x", 1, 39, NULL},
	    {"{\"builders\": [{\"exec\": \"kiln-copy\"}]}{}", 1, 38, NULL},
	    {"{\"builders\": [{\"exec\": \"kiln-copy\"}]},", 1, 38, NULL},
	    {"{\"builders\": [{\"exec\": \"kiln-copy\"}]}\n// c", 2, 1, NULL},
	    {"{\"builders\": [{\"exec\": \"kiln-copy\"}]}\n/* c */", 2, 1, NULL},
	    {"{\"builders\": [{\"exec\": \"kiln-copy\"}]}\n\xff", 2, 1, NULL},
	    {"{\"builders\": [{\"exec\": \"kiln-copy\"},]}", 1, 36, NULL},
	    {"{'builders': []}", 1, 2, NULL},
	    {"{builders: []}", 1, 2, NULL},
	    /* A byte-order mark counts as three columns; a second one is
	     * not whitespace; UTF-16 is not UTF-8. */
	    {"\xef\xbb\xbf[]", 1, 4, "not an array"},
	    {"\xef\xbb\xbf\xef\xbb\xbf{}", 1, 4, NULL},
	    {"\xef\xbb\xbf", 1, 4, "end of input"},
	    {"\xff\xfe{\0\"\0}\0", 1, 1, NULL},
	    {"\xfe\xff\0{\0}", 1, 1, NULL},
	    {"\xef\xbb{}", 1, 1, NULL},
	    /* Strings: raw control characters, bad escapes, surrogates. */
	    {"{\"project\": \"a\tb\"}", 1, 15, NULL},
	    {"{\"project\": \"a\nb\"}", 1, 15, NULL},
	    {"{\"project\": \"a\\x41\"}", 1, 15, NULL},
	    {"{\"project\": \"\\ud800\"}", 1, 14, NULL},
	    {"{\"project\": \"\\udc00\\ud800\"}", 1, 14, NULL},
	    {"{\"project\": \"\\u12\"}", 1, 14, NULL},
	    {"{\"project\": \"\\u0000\"}", 1, 14, NULL},
	    {"{\"project\": \"\xc0\xaf\"}", 1, 14, "UTF-8"},
	    {"{\"project\": \"\xed\xa0\x80\"}", 1, 15, "UTF-8"},
	    {"{\"project\": \"\xf4\x90\x80\x80\"}", 1, 15, "UTF-8"},
	    {"{\"project\": \"\xe2\x82\"}", 1, 16, "UTF-8"},
	    {"{\"pro\xffject\": \"x\"}", 1, 6, "UTF-8"},
	    {"{\"project\": \"x\"", 1, 16, NULL},
	    {"{\"project\": \"x", 1, 15, NULL},
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		size_t len = strlen(docs[i].t);
		/* The UTF-16 cases hold NUL bytes: give their real length. */
		if (docs[i].t[0] == '\xff' && docs[i].t[1] == '\xfe')
			len = 8;
		if (docs[i].t[0] == '\xfe' && docs[i].t[1] == '\xff')
			len = 6;
		char what[32];
		snprintf(what, sizeof what, "document %zu", i);
		/* Syntax errors are reported where they are found, which may be
		 * a little past the start of the token (a string is refused at
		 * its bad character): allow the given column or later on the
		 * same line for entries without a message part. */
		result r = parse(docs[i].t, len);
		bool ok = r.rc == KILN_E_CONFIG && r.line == docs[i].line &&
		          (docs[i].part ? r.col == docs[i].col && strstr(r.err, docs[i].part) != NULL
		                        : r.col >= docs[i].col - 1 && r.col <= docs[i].col + 4);
		if (!ok)
			show(what, docs[i].t, len, &r, "want an error near the given position");
		CHECK(ok);
	}

	/* A byte-order mark before a good file is allowed. */
	char *bom = malloc(strlen(full) + 4);
	if (!bom)
		abort();
	memcpy(bom, "\xef\xbb\xbf", 3);
	memcpy(bom + 3, full, strlen(full) + 1);
	CHECK_EQ_INT(parse(bom, strlen(bom)).rc, 0);
	free(bom);
}

/* Sizes: at the limit, over it, far over it, and large values inside it.
 * Every case is answered quickly. */
static void test_sizes(void)
{
	size_t big = 16u * 1024 * 1024 + 1;
	char *t = malloc(big + 1);
	result r;
	if (!t)
		abort();

	/* 10 MB and 16 MiB + 1 of whitespace before a good file: refused
	 * by size, not parsed. */
	for (int i = 0; i < 2; i++) {
		size_t n = i == 0 ? 10u * 1000 * 1000 : big;
		memset(t, ' ', n);
		memcpy(t + n - 40, "{\"builders\":[{\"exec\":\"kiln-copy\"}]}   ", 39);
		r = parse(t, n);
		CHECK_EQ_INT(r.rc, KILN_E_CONFIG);
		CHECK(r.line == 1 && r.col == 1 && strstr(r.err, "larger than") != NULL);
		CHECK(r.secs < 1.0);
	}

	/* Just under 1 MiB: a project name, a key, a regex and a path that
	 * long each get an answer, and the message quotes them cut short. */
	static const struct {
		const char *pre, *post;
		bool loads;
	} fills[] = {
	    {"{\"builders\":[{\"exec\":\"kiln-copy\"}],\"project\":\"", "\"}", true},
	    {"{\"builders\":[{\"exec\":\"kiln-copy\"}],\"", "\":1}", false},
	    {"{\"builders\":[{\"exec\":\"kiln-copy\"}],\"excludes\":[\"", "\"]}", false},
	    {"{\"builders\":[{\"exec\":\"kiln-copy\"}],\"cache\":\"", "\"}", false},
	    {"{\"builders\":[{\"exec\":\"kiln-copy\",\"patterns\":[\"", "\"]}]}", false},
	    {"{\"builders\":[{\"exec\":\"", "\"}]}", false},
	    {"{\"builders\":[{\"exec\":\"kiln-copy\"}],\"scan_folders\":[{\"path\":\"", "\"}]}", false},
	};
	for (size_t i = 0; i < sizeof fills / sizeof fills[0]; i++) {
		size_t pre = strlen(fills[i].pre), post = strlen(fills[i].post);
		size_t n = 1000 * 1000;
		memcpy(t, fills[i].pre, pre);
		memset(t + pre, 'a', n - pre - post);
		memcpy(t + n - post, fills[i].post, post);
		r = parse(t, n);
		char what[32];
		snprintf(what, sizeof what, "1 MB fill %zu", i);
		if (fills[i].loads ? r.rc != 0 : r.rc != KILN_E_CONFIG)
			show(what, t, n, &r, fills[i].loads ? "want it to load" : "want an error");
		CHECK_EQ_INT(r.rc, fills[i].loads ? 0 : KILN_E_CONFIG);
		if (r.rc != 0) {
			CHECK(r.line == 1);
			CHECK(strlen(r.err) < 600); /* the value is not echoed whole */
		}
		CHECK(r.secs < 2.0);
	}

	/* Many small things in 1 MB: platforms, folders, builders. */
	size_t n = (size_t)snprintf(t, big, "{\"builders\":[{\"exec\":\"kiln-copy\"}],\"platforms\":[");
	for (int i = 0; n < 900 * 1000; i++)
		n += (size_t)snprintf(t + n, big - n, "%s\"p%d\"", i ? "," : "", i);
	n += (size_t)snprintf(t + n, big - n, ",\"p0\"]}");
	r = parse(t, n);
	CHECK_EQ_INT(r.rc, KILN_E_CONFIG);
	CHECK(strstr(r.err, "listed twice") != NULL);
	CHECK(r.secs < 2.0);
	free(t);
}

/* Paths that leave the project, do not exist, are files or loops. */
static void test_paths(void)
{
	static const struct {
		const char *slot; /* index into slots by name */
		const char *value;
		bool loads;
		bool problem; /* loads, with the builder disabled at the value */
	} cases[] = {
	    {"scan_folders[0].path", "\"afile\"", false, false},
	    {"scan_folders[0].path", "\"loop1\"", false, false},
	    {"scan_folders[0].path", "\"no/such/folder\"", false, false},
	    {"scan_folders[0].path", "\"\"", false, false},
	    /* Paths are relative to the root unless absolute (SPEC section
	     * 2), so folders and tools beside the project are allowed. */
	    {"scan_folders[0].path", "\"Assets/../..\"", true, false},
	    {"scan_folders[0].path", "\"/tmp\"", true, false},
	    {"scan_folders[0].path", "\"Assets\\u0001\"", false, false},
	    {"builders[0].exec", "\"../../../bin/sh\"", true, false},
	    /* An executable that cannot be used disables its builder for
	     * the run (SPEC 7), with the position of the value. */
	    {"builders[0].exec", "\"/bin/no-such-tool\"", true, true},
	    {"builders[0].exec", "\"tools\"", true, true},
	    {"builders[0].exec", "\"afile\"", true, true},
	    {"builders[0].exec", "\"loop1/x\"", true, true},
	    {"builders[0].exec", "\"kiln-copy\\n\"", true, true},
	    /* The cache is made on first use, but a file in its place is an
	     * error at the value. */
	    {"cache", "\"afile\"", false, false},
	    {"cache", "\"\"", false, false},
	    {"cache", "\"Assets\"", false, false},
	    {"cache", "\".\"", false, false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const slot *s = NULL;
		for (size_t k = 0; k < N_SLOTS; k++)
			if (strcmp(slots[k].name, cases[i].slot) == 0)
				s = &slots[k];
		if (!s)
			abort();
		size_t at, len;
		int line, col;
		char *t = fill(s->tmpl, cases[i].value, strlen(cases[i].value), &at, &len);
		char what[128];
		pos_of(t, at, &line, &col);
		snprintf(what, sizeof what, "%s = %s", cases[i].slot, cases[i].value);
		if (cases[i].loads) {
			result r = parse(t, len);
			if (r.rc != 0)
				show(what, t, len, &r, "want it to load");
			CHECK_EQ_INT(r.rc, 0);
			if (cases[i].problem && (r.pline != line || r.pcol != col))
				show(what, t, len, &r, "want the builder's problem at the value");
			CHECK_EQ_INT(r.pline, cases[i].problem ? line : 0);
			CHECK_EQ_INT(r.pcol, cases[i].problem ? col : 0);
		} else {
			expect_err_at(what, t, len, line, col, NULL);
		}
		free(t);
	}
}

int main(void)
{
	setup();
	test_documents();
	test_wrong_types();
	test_numbers();
	test_keys_at_every_level();
	test_deep_nesting();
	test_damage_everywhere();
	test_sizes();
	test_paths();
	path_rmtree(root);
	TEST_DONE();
}
