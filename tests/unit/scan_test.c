/* scan_test.c: the stat walk over the scan folders: excludes (files and
 * pruned folders), overrides between folders by their order (not by where
 * they stand in kiln.json), case-insensitive identities, hidden and odd
 * names, non-recursive folders, the cache folder inside a scan folder, and
 * symbolic links: followed only to a regular file inside the same scan
 * folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/scan.h"
#include "path.h"
#include "pattern.h"
#include "test.h"

static char tmpdir[256];

static void link_at(const char *target, const char *rel)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
	if (symlink(target, p) != 0)
		perror(p);
}

static const scan_file *find(const scan_result *r, const char *key)
{
	long i = scan_find(r, key);
	return i < 0 ? NULL : &r->files[i];
}

/* The folder index of the scan folder written as path in kiln.json. */
static int folder_of(const kiln_config *cfg, const char *path)
{
	for (size_t i = 0; i < cfg->n_folders; i++)
		if (strcmp(cfg->folders[i].path, path) == 0)
			return (int)i;
	return -1;
}

static void make_tree(void)
{
	/* Assets is listed first but has the higher order; Mods wins. */
	test_put(tmpdir, "Assets/a.png", "aaaaa");
	test_put(tmpdir, "Assets/Tex/Shared.PNG", "from assets");
	test_put(tmpdir, "Mods/tex/shared.png", "from mods, longer");
	test_put(tmpdir, "Mods/m.txt", "m");
	test_put(tmpdir, "Assets/only_assets.txt", "o");
	/* Two names in one folder that differ only in case: one source. */
	test_put(tmpdir, "Assets/Dup.txt", "1");
	test_put(tmpdir, "Assets/dup.txt", "2");
	/* Excludes: files, and a folder pruned as a whole. */
	test_put(tmpdir, "Assets/skip.tmp", "t");
	test_put(tmpdir, "Assets/sub/also.tmp", "t");
	test_put(tmpdir, "Assets/.git/config", "g");
	test_put(tmpdir, "Assets/.git/objects/ab/cdef", "g");
	test_put(tmpdir, "Assets/sub/deep/z.txt", "z");
	/* Hidden and odd names are files like any other. */
	test_put(tmpdir, "Assets/.hidden", "h");
	test_put(tmpdir, "Assets/.dot/inner.txt", "i");
	test_put(tmpdir, "Assets/with space.txt", "s");
	test_put(tmpdir, "Assets/\xc3\xbcn\xc3\xaf.txt", "u");
	test_put(tmpdir, "Assets/#hash%;'quote'.txt", "q");
	test_put(tmpdir, "Assets/-dash", "d");
	/* Links. */
	test_put(tmpdir, "outside/secret.txt", "secret");
	char outside[512];
	snprintf(outside, sizeof outside, "%s/outside/secret.txt", tmpdir);
	link_at("a.png", "Assets/in_link.txt");
	link_at(outside, "Assets/out_link.txt");
	link_at("../outside/secret.txt", "Assets/out_rel_link.txt");
	link_at("sub", "Assets/dir_link");
	link_at("nowhere", "Assets/dangling.txt");
	link_at("../Mods/m.txt", "Assets/to_mods.txt");
	/* Not a regular file. */
	char fifo[512];
	snprintf(fifo, sizeof fifo, "%s/Assets/pipe", tmpdir);
	if (mkfifo(fifo, 0644) != 0)
		perror("mkfifo");
	/* The cache lives inside Assets here; it is never scanned. */
	test_put(tmpdir, "Assets/Cache/pc/product.txt", "p");
	/* A scan folder that goes away after kiln.json was read. */
	test_put(tmpdir, "Gone/g.txt", "g");
	/* A folder scanned without its subfolders. */
	test_put(tmpdir, "Flat/top.txt", "t");
	test_put(tmpdir, "Flat/sub/below.txt", "b");
}

int main(void)
{
	if (!test_tmpdir(tmpdir, sizeof tmpdir, "scan"))
		return 1;
	make_tree();
	const char *json = "{\"cache\": \"Assets/Cache\", \"scan_folders\": ["
	                   " {\"path\": \"Assets\", \"order\": 5},"
	                   " {\"path\": \"Flat\", \"order\": 9, \"recursive\": false},"
	                   " {\"path\": \"Mods\", \"order\": 1},"
	                   " {\"path\": \"Gone\", \"order\": 3}],"
	                   " \"excludes\": [\"\\\\.tmp$\", \"(^|/)\\\\.git/\"],"
	                   " \"builders\": [{\"exec\": \"/bin/true\", \"patterns\": [\"*\"]}]}";
	kiln_config *cfg = test_config(tmpdir, json);
	if (!cfg) {
		path_rmtree(tmpdir);
		TEST_DONE();
	}
	char err[512];
	/* A scan folder that cannot be opened is skipped, not fatal. */
	char gone[512];
	snprintf(gone, sizeof gone, "%s/Gone", tmpdir);
	CHECK_EQ_INT(path_rmtree(gone), 0);
	kpattern *ex[2] = {NULL, NULL};
	for (int i = 0; i < 2; i++)
		CHECK_EQ_INT(regex_compile(cfg->excludes[i], &ex[i], err, sizeof err), 0);

	scan_result r;
	CHECK_EQ_INT(scan_run(cfg, ex, 2, &r), 0);
	int assets = folder_of(cfg, "Assets"), mods = folder_of(cfg, "Mods"), flat = folder_of(cfg, "Flat");
	CHECK(assets >= 0 && mods >= 0 && flat >= 0);
	/* The folders are in order of "order", whatever their place in the file. */
	CHECK(mods < assets && assets < flat);

	/* Sorted by key, keys unique and lowercase. */
	bool sorted = true, lower = true;
	for (size_t i = 0; i < r.n; i++) {
		if (i > 0 && strcmp(r.files[i - 1].key, r.files[i].key) >= 0)
			sorted = false;
		for (const char *c = r.files[i].key; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				lower = false;
	}
	CHECK(sorted);
	CHECK(lower);

	/* The lower order wins the shared path, compared without case. */
	const scan_file *f = find(&r, "tex/shared.png");
	CHECK(f && (int)f->folder == mods);
	CHECK(f && strcmp(f->rel, "tex/shared.png") == 0);
	CHECK(f && f->size == strlen("from mods, longer"));
	CHECK(find(&r, "Tex/Shared.PNG") == NULL); /* keys are lowercase */
	f = find(&r, "a.png");
	CHECK(f && (int)f->folder == assets && f->size == 5 && f->mtime_ns > 0);
	CHECK(find(&r, "only_assets.txt") != NULL);
	CHECK(find(&r, "m.txt") && (int)find(&r, "m.txt")->folder == mods);
	f = find(&r, "dup.txt");
	CHECK(f && (strcmp(f->rel, "Dup.txt") == 0 || strcmp(f->rel, "dup.txt") == 0));
	/* One for the override between folders, one for the case twin. */
	CHECK_EQ_INT(r.n_overridden, 2);

	/* Excluded files are counted; a pruned folder is never walked. */
	CHECK(find(&r, "skip.tmp") == NULL);
	CHECK(find(&r, "sub/also.tmp") == NULL);
	CHECK(find(&r, ".git/config") == NULL);
	CHECK(find(&r, ".git/objects/ab/cdef") == NULL);
	CHECK_EQ_INT(r.n_excluded, 2);
	CHECK(find(&r, "sub/deep/z.txt") != NULL);

	/* Hidden and odd names. */
	CHECK(find(&r, ".hidden") != NULL);
	CHECK(find(&r, ".dot/inner.txt") != NULL);
	CHECK(find(&r, "with space.txt") != NULL);
	CHECK(find(&r, "\xc3\xbcn\xc3\xaf.txt") != NULL);
	CHECK(find(&r, "#hash%;'quote'.txt") != NULL);
	CHECK(find(&r, "-dash") != NULL);

	/* A link to a file inside the folder counts, with the target's size;
	 * links out of the folder (to elsewhere or another scan folder), to
	 * folders, and to nothing do not. */
	f = find(&r, "in_link.txt");
	CHECK(f && f->size == 5);
	CHECK(find(&r, "out_link.txt") == NULL);
	CHECK(find(&r, "out_rel_link.txt") == NULL);
	CHECK(find(&r, "to_mods.txt") == NULL);
	CHECK(find(&r, "dangling.txt") == NULL);
	CHECK(find(&r, "dir_link/deep/z.txt") == NULL);
	CHECK(find(&r, "dir_link") == NULL);
	CHECK(find(&r, "secret.txt") == NULL);
	CHECK(find(&r, "pipe") == NULL);

	/* Not the cache, and not below a non-recursive folder. */
	CHECK(find(&r, "cache/pc/product.txt") == NULL);
	CHECK(find(&r, "top.txt") && (int)find(&r, "top.txt")->folder == flat);
	CHECK(find(&r, "sub/below.txt") == NULL);

	/* Everything that should be there, and nothing else. */
	CHECK_EQ_INT(r.n, 14);
	if (r.n != 14)
		for (size_t i = 0; i < r.n; i++)
			fprintf(stderr, "  folder %u: %s\n", r.files[i].folder, r.files[i].rel);
	scan_result_free(&r);
	CHECK(r.files == NULL && r.n == 0);

	/* Without excludes the excluded files come back, the pruned folder too. */
	CHECK_EQ_INT(scan_run(cfg, NULL, 0, &r), 0);
	CHECK(find(&r, "skip.tmp") != NULL);
	CHECK(find(&r, ".git/objects/ab/cdef") != NULL);
	CHECK_EQ_INT(r.n_excluded, 0);
	scan_result_free(&r);

	for (int i = 0; i < 2; i++)
		pattern_free(ex[i]);
	config_free(cfg);
	if (path_rmtree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	TEST_DONE();
}
