/* prescan_test.c: the cache listing and the threaded walk. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/prescan.h"
#include "test.h"

static char tmpdir[256];

static void put(const char *rel)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
	for (char *s = p + strlen(tmpdir) + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	}
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, "x", 1) != 1)
			perror("write");
		close(fd);
	}
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kiln-prescan-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	char json[2048], err[512];
	snprintf(json, sizeof json,
		 "{\"platforms\": [\"pc\", \"linux\"], \"scan_folders\": [{\"path\": \"Assets\"}],"
		 " \"excludes\": [\"\\\\.tmp$\"], \"builders\": [{\"exec\": \"/bin/true\", \"patterns\": [\"*\"]}]}");
	kiln_config *cfg = NULL;
	put("Assets/one.png");
	int rc = config_parse(json, strlen(json), "kiln.json", tmpdir, tmpdir, &cfg, err, sizeof err);
	CHECK_EQ_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "%s\n", err);
		TEST_DONE();
	}

	/* No cache folder yet: every lookup in a listed folder says absent. */
	cache_listing cl;
	CHECK_EQ_INT(cache_list(cfg, &cl), 0);
	CHECK_EQ_INT(cl.n, 0);
	CHECK_EQ_INT(cache_listing_has(&cl, "pc", "a.txt"), 0);
	CHECK_EQ_INT(cache_listing_has(&cl, "ps5", "a.txt"), -1);
	cache_listing_free(&cl);

	/* A cache folder with nothing in it (sorting nothing is fine). */
	char cdir[400];
	snprintf(cdir, sizeof cdir, "%s/Cache", tmpdir);
	mkdir(cdir, 0755);
	snprintf(cdir, sizeof cdir, "%s/Cache/pc", tmpdir);
	mkdir(cdir, 0755);
	CHECK_EQ_INT(cache_list(cfg, &cl), 0);
	CHECK_EQ_INT(cl.n, 0);
	CHECK_EQ_INT(cache_listing_has(&cl, "pc", "a.txt"), 0);
	cache_listing_free(&cl);

	put("Cache/pc/a.txt");
	put("Cache/pc/deep/er/b.bin");
	put("Cache/linux/a.txt");
	put("Cache/intermediate/gen/c.fbx");
	put("Cache/logs/jobs/1.jsonl"); /* not a product folder: not listed */
	put("Cache/ps5/x.bin");          /* not a platform of this project */
	CHECK_EQ_INT(cache_list(cfg, &cl), 0);
	CHECK_EQ_INT(cl.n, 4);
	CHECK_EQ_INT(cache_listing_has(&cl, "pc", "a.txt"), 1);
	CHECK_EQ_INT(cache_listing_has(&cl, "pc", "deep/er/b.bin"), 1);
	CHECK_EQ_INT(cache_listing_has(&cl, "pc", "deep/er"), 0); /* a folder is no product */
	CHECK_EQ_INT(cache_listing_has(&cl, "pc", "A.txt"), 0);   /* exact case */
	CHECK_EQ_INT(cache_listing_has(&cl, "linux", "a.txt"), 1);
	CHECK_EQ_INT(cache_listing_has(&cl, "linux", "deep/er/b.bin"), 0);
	CHECK_EQ_INT(cache_listing_has(&cl, "intermediate", "gen/c.fbx"), 1);
	CHECK_EQ_INT(cache_listing_has(&cl, "logs", "jobs/1.jsonl"), -1);
	CHECK_EQ_INT(cache_listing_has(&cl, "ps5", "x.bin"), -1);
	cache_listing_free(&cl);

	/* The threaded walk finds what scan_run finds, and the listing. */
	put("Assets/sub/two.png");
	put("Assets/skip.tmp");
	kpattern *ex = NULL;
	char perr[256];
	CHECK_EQ_INT(regex_compile(cfg->excludes[0], &ex, perr, sizeof perr), 0);
	prescan p;
	CHECK_EQ_INT(prescan_start(&p, cfg, &ex, 1), 0);
	prescan_join(&p);
	prescan_join(&p); /* twice is harmless */
	CHECK_EQ_INT(p.scan_rc, 0);
	CHECK_EQ_INT(p.sr.n, 2);
	if (p.sr.n == 2) {
		CHECK_EQ_STR(p.sr.files[0].rel, "one.png");
		CHECK_EQ_STR(p.sr.files[1].rel, "sub/two.png");
	}
	CHECK_EQ_INT(p.sr.n_excluded, 1);
	CHECK_EQ_INT(p.list_rc, 0);
	CHECK_EQ_INT(cache_listing_has(&p.cl, "pc", "deep/er/b.bin"), 1);
	prescan_free(&p);
	prescan_free(&p); /* and freeing a freed one */

	pattern_free(ex);
	config_free(cfg);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	TEST_DONE();
}
