/* path_test.c: path helpers. */
#include "kerr.h"
#include "path.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *norm(const char *in)
{
	static char out[KILN_PATH_MAX];
	int rc = path_normalize(in, out, sizeof out);
	return rc == 0 ? out : (rc == KILN_E_PATH ? "<PATH>" : "<ERR>");
}

static void test_normalize(void)
{
	char small[4];

	CHECK_EQ_STR(norm("a/b/c"), "a/b/c");
	CHECK_EQ_STR(norm("a//b/./c/"), "a/b/c");
	CHECK_EQ_STR(norm("./a/b/../c"), "a/c");
	CHECK_EQ_STR(norm("a/.."), ".");
	CHECK_EQ_STR(norm(""), ".");
	CHECK_EQ_STR(norm("/"), "/");
	CHECK_EQ_STR(norm("//"), "/");
	CHECK_EQ_STR(norm("/a/b/"), "/a/b");
	CHECK_EQ_STR(norm("/a/../../b"), "/b");
	CHECK_EQ_STR(norm("/.."), "/");
	CHECK_EQ_STR(norm("a/b/../../c/./d"), "c/d");
	CHECK_EQ_STR(norm(".."), "<PATH>");
	CHECK_EQ_STR(norm("a/../../b"), "<PATH>");
	CHECK_EQ_STR(norm("../a"), "<PATH>");
	CHECK_EQ_STR(norm("a/..b/c.."), "a/..b/c..");

	CHECK_EQ_INT(path_normalize("abc", small, sizeof small), 0);
	CHECK_EQ_STR(small, "abc");
	CHECK_EQ_INT(path_normalize("abcd", small, sizeof small), KILN_E_TOOBIG);
	CHECK_EQ_INT(path_normalize("a/bc", small, sizeof small), KILN_E_TOOBIG);
	CHECK_EQ_INT(path_normalize("/ab", small, sizeof small), 0);
	CHECK_EQ_STR(small, "/ab");
	CHECK_EQ_INT(path_normalize("x", small, 0), KILN_E_TOOBIG);
	CHECK_EQ_INT(path_normalize("", small, 1), KILN_E_TOOBIG);
}

static int rel(const char *s)
{
	return path_check_relative(s, strlen(s));
}

static void test_check_relative(void)
{
	char *big;

	CHECK_EQ_INT(rel("a/b.png"), 0);
	CHECK_EQ_INT(rel("a b/c d.png"), 0);
	CHECK_EQ_INT(rel("a/../b"), 0);
	CHECK_EQ_INT(rel("a/./b//c"), 0);
	CHECK_EQ_INT(rel("..a/b.."), 0);
	CHECK_EQ_INT(rel("caf\xc3\xa9.png"), 0);

	CHECK_EQ_INT(rel(""), KILN_E_PATH);
	CHECK_EQ_INT(rel("/a/b"), KILN_E_PATH);
	CHECK_EQ_INT(rel(".."), KILN_E_PATH);
	CHECK_EQ_INT(rel("../a"), KILN_E_PATH);
	CHECK_EQ_INT(rel("a/../../b"), KILN_E_PATH);
	CHECK_EQ_INT(rel("a/.."), 0);
	CHECK_EQ_INT(rel("a/../.."), KILN_E_PATH);
	CHECK_EQ_INT(rel("a\\b"), KILN_E_PATH);
	CHECK_EQ_INT(path_check_relative("a\0b", 3), KILN_E_PATH);
	/* The NUL only counts before len. */
	CHECK_EQ_INT(path_check_relative("ab\0", 2), 0);
	/* len is honoured: ".." past len is not looked at. */
	CHECK_EQ_INT(path_check_relative("a/../..", 4), 0);
	CHECK_EQ_INT(path_check_relative(NULL, 0), KILN_E_PATH);

	big = malloc(KILN_PATH_MAX + 2);
	CHECK(big != NULL);
	if (big) {
		memset(big, 'a', KILN_PATH_MAX + 1);
		big[KILN_PATH_MAX + 1] = '\0';
		CHECK_EQ_INT(path_check_relative(big, KILN_PATH_MAX), 0);
		CHECK_EQ_INT(path_check_relative(big, KILN_PATH_MAX + 1), KILN_E_PATH);
		free(big);
	}
}

static void test_small_helpers(void)
{
	char buf[32], tiny[6];
	char s[] = "Textures/HERO_\xc3\x89.PNG";

	path_lower(s);
	CHECK_EQ_STR(s, "textures/hero_\xc3\x89.png");

	CHECK_EQ_INT(path_join(buf, sizeof buf, "a/b", "c.png"), 0);
	CHECK_EQ_STR(buf, "a/b/c.png");
	CHECK_EQ_INT(path_join(buf, sizeof buf, "a/b/", "c.png"), 0);
	CHECK_EQ_STR(buf, "a/b/c.png");
	CHECK_EQ_INT(path_join(buf, sizeof buf, "a/b", "/abs/x"), 0);
	CHECK_EQ_STR(buf, "/abs/x");
	CHECK_EQ_INT(path_join(buf, sizeof buf, "", "x"), 0);
	CHECK_EQ_STR(buf, "x");
	CHECK_EQ_INT(path_join(buf, sizeof buf, "a", ""), 0);
	CHECK_EQ_STR(buf, "a");
	CHECK_EQ_INT(path_join(tiny, sizeof tiny, "ab", "cd"), 0);
	CHECK_EQ_STR(tiny, "ab/cd");
	CHECK_EQ_INT(path_join(tiny, sizeof tiny, "ab", "cde"), KILN_E_TOOBIG);
	/* Appending in place. */
	strcpy(buf, "root");
	CHECK_EQ_INT(path_join(buf, sizeof buf, buf, "leaf"), 0);
	CHECK_EQ_STR(buf, "root/leaf");

	CHECK_EQ_STR(path_basename("a/b/c.png"), "c.png");
	CHECK_EQ_STR(path_basename("c.png"), "c.png");
	CHECK_EQ_STR(path_basename("a/"), "");
	CHECK_EQ_STR(path_ext("a/b/c.png"), "png");
	CHECK_EQ_STR(path_ext("a.b/c"), "");
	CHECK_EQ_STR(path_ext("x.tar.gz"), "gz");
	CHECK_EQ_STR(path_ext("dir/.hidden"), "");
	CHECK_EQ_STR(path_ext("dir/file."), "");
}

static int exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static int touch(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static void test_fs(void)
{
	char tmpl[] = "/tmp/kiln_path_test.XXXXXX";
	char root[64], p[256], q[256], outside[128];
	char *t = mkdtemp(tmpl);

	CHECK(t != NULL);
	if (!t)
		return;
	snprintf(root, sizeof root, "%s", t);

	/* mkdirs */
	snprintf(p, sizeof p, "%s/a/b//c/", root);
	CHECK_EQ_INT(path_mkdirs(p, 0755), 0);
	snprintf(p, sizeof p, "%s/a/b/c", root);
	CHECK(exists(p));
	CHECK_EQ_INT(path_mkdirs(p, 0755), 0); /* already there */
	snprintf(q, sizeof q, "%s/a/file", root);
	CHECK_EQ_INT(touch(q), 0);
	CHECK_EQ_INT(path_mkdirs(q, 0755), -ENOTDIR);
	snprintf(q, sizeof q, "%s/a/file/sub", root);
	CHECK_EQ_INT(path_mkdirs(q, 0755), -ENOTDIR);
	snprintf(q, sizeof q, "%s/x/y/z.png", root);
	CHECK_EQ_INT(path_mkdirs_for(q, 0755), 0);
	snprintf(q, sizeof q, "%s/x/y", root);
	CHECK(exists(q));
	snprintf(q, sizeof q, "%s/x/y/z.png", root);
	CHECK(!exists(q));
	CHECK_EQ_INT(path_mkdirs_for("nofolder.png", 0755), 0);

	/* prune: x/y/z.png never existed; y and x are empty and go, root stays. */
	path_prune_empty_parents(q, root);
	snprintf(q, sizeof q, "%s/x", root);
	CHECK(!exists(q));
	CHECK(exists(root));
	/* prune stops at a non-empty folder: a holds "file". */
	snprintf(q, sizeof q, "%s/a/b/c/gone.png", root);
	path_prune_empty_parents(q, root);
	snprintf(q, sizeof q, "%s/a/b", root);
	CHECK(!exists(q));
	snprintf(q, sizeof q, "%s/a", root);
	CHECK(exists(q));
	/* A stop with a trailing slash works the same. */
	snprintf(q, sizeof q, "%s/m/n", root);
	CHECK_EQ_INT(path_mkdirs(q, 0755), 0);
	snprintf(q, sizeof q, "%s/m/n/f", root);
	snprintf(p, sizeof p, "%s/", root);
	path_prune_empty_parents(q, p);
	snprintf(q, sizeof q, "%s/m", root);
	CHECK(!exists(q));
	CHECK(exists(root));

	/* rmtree does not follow symbolic links: a link to a folder outside
	 * the tree is removed, the folder it points to is left alone. */
	snprintf(outside, sizeof outside, "%s/outside", root);
	CHECK_EQ_INT(path_mkdirs(outside, 0755), 0);
	snprintf(q, sizeof q, "%s/keep.txt", outside);
	CHECK_EQ_INT(touch(q), 0);
	snprintf(p, sizeof p, "%s/tree/d1/d2", root);
	CHECK_EQ_INT(path_mkdirs(p, 0755), 0);
	snprintf(p, sizeof p, "%s/tree/d1/d2/f.bin", root);
	CHECK_EQ_INT(touch(p), 0);
	snprintf(p, sizeof p, "%s/tree/d1/link", root);
	CHECK_EQ_INT(symlink(outside, p), 0);
	snprintf(p, sizeof p, "%s/tree/dangling", root);
	CHECK_EQ_INT(symlink("/nonexistent/kiln", p), 0);
	snprintf(p, sizeof p, "%s/tree", root);
	CHECK_EQ_INT(path_rmtree(p), 0);
	CHECK(!exists(p));
	CHECK(exists(q));
	CHECK_EQ_INT(path_rmtree(p), 0); /* missing is success */

	/* rmtree of a symbolic link removes the link only. */
	snprintf(p, sizeof p, "%s/toplink", root);
	CHECK_EQ_INT(symlink(outside, p), 0);
	CHECK_EQ_INT(path_rmtree(p), 0);
	CHECK(!exists(p));
	CHECK(exists(q));

	CHECK_EQ_INT(path_rmtree(root), 0);
	CHECK(!exists(root));
}

static void test_self_dir(void)
{
	char dir[KILN_PATH_MAX], exe[KILN_PATH_MAX], tiny[2];
	ssize_t n;

	CHECK_EQ_INT(path_self_dir(dir, sizeof dir), 0);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	CHECK(n > 0);
	if (n > 0) {
		exe[n] = '\0';
		CHECK(strncmp(exe, dir, strlen(dir)) == 0);
		CHECK(exe[strlen(dir)] == '/');
		CHECK(strchr(exe + strlen(dir) + 1, '/') == NULL);
	}
	CHECK(dir[0] == '/');
	CHECK_EQ_INT(path_self_dir(tiny, sizeof tiny), -ENAMETOOLONG);
}

int main(void)
{
	test_normalize();
	test_check_relative();
	test_small_helpers();
	test_fs();
	test_self_dir();
	TEST_DONE();
}
