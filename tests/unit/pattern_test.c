/* pattern_test.c: glob translation, regexes, and the limits that keep a
 * pattern from running away. */
#include "kerr.h"
#include "pattern.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Compiles src, matches rel, frees. -1000 when it does not compile. */
static int m(const char *src, const char *rel)
{
	kpattern *p = NULL;
	char err[256];
	int rc = pattern_compile(src, &p, err, sizeof err);

	if (rc != 0) {
		fprintf(stderr, "compile %s: %s\n", src, err);
		return -1000;
	}
	rc = pattern_match(p, rel);
	pattern_free(p);
	return rc;
}

static const char *g2r(const char *glob)
{
	static char out[512];
	int rc = glob_to_regex(glob, out, sizeof out);
	return rc == 0 ? out : (rc == KILN_E_REGEX ? "<REGEX>" : "<TOOBIG>");
}

static void test_translation(void)
{
	char small[8];

	CHECK_EQ_STR(g2r("*.png"), "\\A[^/]*\\.png\\z");
	CHECK_EQ_STR(g2r("a?b"), "\\Aa[^/]b\\z");
	CHECK_EQ_STR(g2r("textures/**/*.tga"), "\\Atextures/(?:.*/)?[^/]*\\.tga\\z");
	CHECK_EQ_STR(g2r("a/**"), "\\Aa/.*\\z");
	CHECK_EQ_STR(g2r("[!a-z]x"), "\\A[^a-z/]x\\z");
	CHECK_EQ_STR(g2r("[]a]"), "\\A[\\]a]\\z");
	CHECK_EQ_STR(g2r("x(1)+{2}|$^"), "\\Ax\\(1\\)\\+\\{2\\}\\|\\$\\^\\z");
	CHECK_EQ_STR(g2r("/root/*.x"), "\\Aroot/[^/]*\\.x\\z");
	CHECK_EQ_STR(g2r("[abc"), "<REGEX>");
	CHECK_EQ_STR(g2r("a[!]"), "<REGEX>");
	CHECK_EQ_STR(g2r("[]"), "<REGEX>");
	CHECK_EQ_INT(glob_to_regex("*.png", small, sizeof small), KILN_E_TOOBIG);
	CHECK_EQ_INT(glob_to_regex("x", small, 0), KILN_E_TOOBIG);
}

static void test_globs(void)
{
	/* Without '/': the file name alone, in any folder. */
	CHECK_EQ_INT(m("*.png", "hero.png"), 1);
	CHECK_EQ_INT(m("*.png", "textures/ui/hero.png"), 1);
	CHECK_EQ_INT(m("*.png", "hero.png.bak"), 0);
	CHECK_EQ_INT(m("*.png", "png"), 0);
	CHECK_EQ_INT(m("*.png", "x.PNG"), 1); /* case-insensitive */
	CHECK_EQ_INT(m("*.PNG", "x.png"), 1);
	CHECK_EQ_INT(m("hero.*", "a/hero.tga"), 1);
	CHECK_EQ_INT(m("hero.*", "hero/x.tga"), 0);
	CHECK_EQ_INT(m("*", "a/b/c"), 1);
	CHECK_EQ_INT(m("?.png", "a.png"), 1);
	CHECK_EQ_INT(m("?.png", "ab.png"), 0);
	CHECK_EQ_INT(m("?.png", "d/a.png"), 1);
	CHECK_EQ_INT(m("*.tar.gz", "x.tar.gz"), 1);
	CHECK_EQ_INT(m("*.tar.gz", "x.tarXgz"), 0); /* '.' is literal */
	CHECK_EQ_INT(m("a+b.png", "a+b.png"), 1);
	CHECK_EQ_INT(m("a+b.png", "aab.png"), 0);
	CHECK_EQ_INT(m("(x)|y", "(x)|y"), 1);
	CHECK_EQ_INT(m("(x)|y", "y"), 0);
	CHECK_EQ_INT(m("$x^", "$x^"), 1);
	CHECK_EQ_INT(m("a{1,2}", "a{1,2}"), 1);
	CHECK_EQ_INT(m("a{1,2}", "a"), 0);
	CHECK_EQ_INT(m("x\\*", "x*"), 1); /* glob escape */
	CHECK_EQ_INT(m("x\\*", "xy"), 0);
	CHECK_EQ_INT(m("a b.png", "dir/a b.png"), 1);

	/* Classes. */
	CHECK_EQ_INT(m("[abc].png", "b.png"), 1);
	CHECK_EQ_INT(m("[abc].png", "d.png"), 0);
	CHECK_EQ_INT(m("[abc].png", "B.png"), 1);
	CHECK_EQ_INT(m("[!abc].png", "d.png"), 1);
	CHECK_EQ_INT(m("[!abc].png", "a.png"), 0);
	CHECK_EQ_INT(m("[a-c]x", "bx"), 1);
	CHECK_EQ_INT(m("[a-c]x", "dx"), 0);
	CHECK_EQ_INT(m("[]]", "]"), 1);
	CHECK_EQ_INT(m("[-a]", "-"), 1);
	CHECK_EQ_INT(m("[a-]", "-"), 1);
	CHECK_EQ_INT(m("[\\^]", "^"), 1);
	CHECK_EQ_INT(m("[^x]y", "ay"), 1); /* '^' negates as '!' does */
	CHECK_EQ_INT(m("[^x]y", "xy"), 0);
	CHECK_EQ_INT(m("a[!x]b/c", "a/b/c"), 0); /* never the separator */
	CHECK_EQ_INT(m("[[]x", "[x"), 1);
	CHECK_EQ_INT(m("[.]x", "ax"), 0);

	/* With '/': the whole relative path. */
	CHECK_EQ_INT(m("textures/*.tga", "textures/a.tga"), 1);
	CHECK_EQ_INT(m("textures/*.tga", "textures/sub/a.tga"), 0);
	CHECK_EQ_INT(m("textures/*.tga", "other/textures/a.tga"), 0);
	CHECK_EQ_INT(m("Textures/*.TGA", "textures/a.tga"), 1);
	CHECK_EQ_INT(m("textures/**/*.tga", "textures/a.tga"), 1);
	CHECK_EQ_INT(m("textures/**/*.tga", "textures/x/a.tga"), 1);
	CHECK_EQ_INT(m("textures/**/*.tga", "textures/x/y/z/a.tga"), 1);
	CHECK_EQ_INT(m("textures/**/*.tga", "texturesx/a.tga"), 0);
	CHECK_EQ_INT(m("textures/**/*.tga", "textures/x/a.png"), 0);
	CHECK_EQ_INT(m("**/*.fbx", "a.fbx"), 1);
	CHECK_EQ_INT(m("**/*.fbx", "m/n/a.fbx"), 1);
	CHECK_EQ_INT(m("a/**", "a/b/c"), 1);
	CHECK_EQ_INT(m("a/**", "b/a/c"), 0);
	CHECK_EQ_INT(m("a/**/b", "a/b"), 1);
	CHECK_EQ_INT(m("a/**/b", "a/x/b"), 1);
	CHECK_EQ_INT(m("a/**/b", "a/xb"), 0);
	CHECK_EQ_INT(m("a/?/c", "a/b/c"), 1);
	CHECK_EQ_INT(m("a?c/x", "a/c/x"), 0);
	CHECK_EQ_INT(m("/levels/*.lvl", "levels/one.lvl"), 1);

	/* UTF-8: '?' is one character, and non-ASCII names match. */
	CHECK_EQ_INT(m("caf?.png", "caf\xc3\xa9.png"), 1);
	CHECK_EQ_INT(m("caf\xc3\xa9.png", "caf\xc3\xa9.png"), 1);
	CHECK_EQ_INT(m("[\xc3\xa9\xc3\xa8]x", "\xc3\xa8x"), 1);
	/* A file name that is not UTF-8 is matched, not an error. */
	CHECK_EQ_INT(m("*.png", "bad\xff\xfe.png"), 1);
	CHECK_EQ_INT(m("*.tga", "bad\xff\xfe.png"), 0);
	/* A glob that is not UTF-8 compiles and matches byte for byte. */
	CHECK_EQ_INT(m("x\xff*.png", "x\xff.png"), 1);
	CHECK_EQ_INT(m("x\xff*.png", "x.png"), 0);
	/* Such a name still meets the rest of the rules. */
	CHECK_EQ_INT(m("*.png", "d\xff/bad\xff.tga"), 0);
	CHECK_EQ_INT(m("d?/*.png", "d\xff/bad\xff.PNG"), 1);
	CHECK_EQ_INT(m("re:\\.png$", "\xe9t\xe9.png"), 1);
}

static void test_regex_patterns(void)
{
	kpattern *p = NULL;
	char err[256];

	/* "re:" is an unanchored search on the relative path, case-sensitive. */
	CHECK_EQ_INT(m("re:\\.png$", "a/b.png"), 1);
	CHECK_EQ_INT(m("re:\\.png$", "a/b.PNG"), 0);
	CHECK_EQ_INT(m("re:(?i)\\.png$", "a/b.PNG"), 1);
	CHECK_EQ_INT(m("re:^textures/", "textures/a.png"), 1);
	CHECK_EQ_INT(m("re:^textures/", "x/textures/a.png"), 0);
	CHECK_EQ_INT(m("re:ure", "textures/a.png"), 1);
	CHECK_EQ_INT(m("re:^[^/]+$", "a/b"), 0);

	CHECK_EQ_INT(pattern_compile("re:\\.tga$", &p, err, sizeof err), 0);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ_STR(pattern_source(p), "re:\\.tga$");
		CHECK_EQ_INT(pattern_match(p, "x/y.tga"), 1);
		CHECK_EQ_INT(pattern_match(p, "x/y.tgax"), 0);
		CHECK_EQ_INT(pattern_match(p, "z.tga"), 1); /* match data is reused */
		pattern_free(p);
	}

	/* regex_compile: raw, case-sensitive unless (?i). */
	p = NULL;
	CHECK_EQ_INT(regex_compile("(^|/)\\.git/", &p, err, sizeof err), 0);
	if (p) {
		CHECK_EQ_STR(pattern_source(p), "(^|/)\\.git/");
		CHECK_EQ_INT(pattern_match(p, ".git/config"), 1);
		CHECK_EQ_INT(pattern_match(p, "sub/.git/HEAD"), 1);
		CHECK_EQ_INT(pattern_match(p, "sub/x.git/HEAD"), 0);
		CHECK_EQ_INT(pattern_match(p, "SUB/.GIT/HEAD"), 0);
		pattern_free(p);
	}
	p = NULL;
	CHECK_EQ_INT(regex_compile("(?i)\\.SWP$", &p, err, sizeof err), 0);
	if (p) {
		CHECK_EQ_INT(pattern_match(p, "a/.x.swp"), 1);
		pattern_free(p);
	}

	/* The source of a glob is kept as given. */
	p = NULL;
	CHECK_EQ_INT(pattern_compile("Textures/**/*.TGA", &p, err, sizeof err), 0);
	if (p) {
		CHECK_EQ_STR(pattern_source(p), "Textures/**/*.TGA");
		pattern_free(p);
	}
	pattern_free(NULL);
}

static void test_compile_errors(void)
{
	kpattern *p = (kpattern *)1;
	char err[256];

	err[0] = '\0';
	CHECK_EQ_INT(pattern_compile("re:a(b", &p, err, sizeof err), KILN_E_REGEX);
	CHECK(p == NULL);
	CHECK(strstr(err, "offset 3") != NULL);
	CHECK(strstr(err, "missing") != NULL || strstr(err, "parenthesis") != NULL);

	p = (kpattern *)1;
	err[0] = '\0';
	CHECK_EQ_INT(regex_compile("x[", &p, err, sizeof err), KILN_E_REGEX);
	CHECK(p == NULL);
	CHECK(strstr(err, "offset 2") != NULL);

	err[0] = '\0';
	CHECK_EQ_INT(pattern_compile("tex/[abc.png", &p, err, sizeof err), KILN_E_REGEX);
	CHECK(p == NULL);
	CHECK(strstr(err, "unterminated") != NULL);
	CHECK(strstr(err, "offset 4") != NULL);

	err[0] = '\0';
	CHECK_EQ_INT(pattern_compile("", &p, err, sizeof err), KILN_E_REGEX);
	CHECK(err[0] != '\0');

	/* A tiny or absent error buffer is fine. */
	CHECK_EQ_INT(pattern_compile("re:(", &p, err, 4), KILN_E_REGEX);
	CHECK(strlen(err) <= 3);
	CHECK_EQ_INT(pattern_compile("re:(", &p, NULL, 0), KILN_E_REGEX);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_limits(void)
{
	kpattern *p = NULL;
	char err[256];
	const char *evil = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
	double t0, t;

	CHECK_EQ_INT(regex_compile("(a+)+$", &p, err, sizeof err), 0);
	if (p) {
		t0 = now();
		CHECK_EQ_INT(pattern_match(p, evil), KILN_E_LIMIT);
		t = now() - t0;
		CHECK(t < 2.0);
		/* The pattern stays usable after hitting the limit. */
		CHECK_EQ_INT(pattern_match(p, "aaa"), 1);
		pattern_free(p);
	}
	p = NULL;
	CHECK_EQ_INT(pattern_compile("re:^(\\w+\\s?)*$", &p, err, sizeof err), 0);
	if (p) {
		t0 = now();
		CHECK_EQ_INT(
		    pattern_match(p, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"),
		    KILN_E_LIMIT);
		CHECK(now() - t0 < 2.0);
		pattern_free(p);
	}
	/* A glob, however many stars, translates to nothing that can run
	 * away on a long name. */
	{
		char name[4001];
		memset(name, 'a', 4000);
		name[4000] = '\0';
		t0 = now();
		CHECK_EQ_INT(m("*a*a*a*a*a*a*a*a*a*a*b", name), 0);
		CHECK(now() - t0 < 2.0);
	}
}

/* Not a benchmark, just a guard against something slow creeping into the
 * per-call path: 100,000 files times 10 builders. */
static void test_speed(void)
{
	const char *globs[] = {"*.png",      "*.tga",      "*.fbx",        "textures/**/*.dds",
	                       "*.wav",      "re:\\.ogg$", "levels/*.lvl", "**/ui/*.json",
	                       "[abc]*.ttf", "*.material"};
	kpattern *ps[10];
	char err[256], rel[128];
	long hits = 0;
	double t0;

	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(pattern_compile(globs[i], &ps[i], err, sizeof err), 0);
	t0 = now();
	for (int f = 0; f < 100000; f++) {
		snprintf(rel, sizeof rel, "textures/set%d/sub%d/file_%d.%s", f % 97, f % 13, f,
		         f % 3 ? "png" : "tga");
		for (int i = 0; i < 10; i++)
			hits += pattern_match(ps[i], rel) == 1;
	}
	printf("1,000,000 matches in %.3f s\n", now() - t0);
	CHECK_EQ_INT(hits, 100000);
	CHECK(now() - t0 < 20.0);
	for (int i = 0; i < 10; i++)
		pattern_free(ps[i]);
}

int main(void)
{
	test_translation();
	test_globs();
	test_regex_patterns();
	test_compile_errors();
	test_limits();
	test_speed();
	TEST_DONE();
}
