/* watch_test.c: inotify over the scan folders, as live mode uses it: a file
 * created, a burst of writes coalesced into one change, a save by rename, a
 * new folder joined (with what was in it already), deletions of files and
 * folders, excluded folders and the cache left alone, changes taken at once
 * by force, and an overflowing queue turned into a request to rescan. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "engine/watch.h"
#include "path.h"
#include "pattern.h"
#include "test.h"

static char tmpdir[256];

/* Every change handed out since the last clear_seen(). */
typedef struct seen_change {
	uint32_t folder;
	bool dir;
	char rel[256];
} seen_change;

static seen_change seen[4096];
static size_t n_seen;
static bool rescan_seen;

static void clear_seen(void)
{
	n_seen = 0;
	rescan_seen = false;
}

/* Reads what inotify has and takes the changes that are due (all of them
 * when force), as live mode's loop does. */
static void pump(watch *w, bool force)
{
	struct pollfd pfd = {.fd = watch_fd(w), .events = POLLIN};
	if (poll(&pfd, 1, 1) > 0)
		CHECK_EQ_INT(watch_read(w), 0);
	watch_change *ch = NULL;
	bool rescan = false;
	size_t n = watch_take(w, force, &ch, &rescan);
	rescan_seen |= rescan;
	for (size_t i = 0; i < n; i++) {
		if (n_seen < sizeof seen / sizeof seen[0]) {
			seen[n_seen].folder = ch[i].folder;
			seen[n_seen].dir = ch[i].dir;
			snprintf(seen[n_seen].rel, sizeof seen[n_seen].rel, "%s", ch[i].rel);
			n_seen++;
		}
	}
	watch_changes_free(ch, n);
}

/* How many times rel was handed out (as a folder when dir). */
static int count_seen(const char *rel, bool dir)
{
	int c = 0;
	for (size_t i = 0; i < n_seen; i++)
		c += strcmp(seen[i].rel, rel) == 0 && seen[i].dir == dir;
	return c;
}

/* Pumps until rel has been handed out, for up to two seconds. */
static bool wait_seen(watch *w, const char *rel, bool dir)
{
	bool ok;
	WAIT_FOR(ok, 2000, (pump(w, false), count_seen(rel, dir) > 0));
	if (!ok)
		fprintf(stderr, "  no change for %s%s\n", rel, dir ? " (folder)" : "");
	return ok;
}

static void put(const char *rel, const char *text)
{
	CHECK_EQ_INT(test_put(tmpdir, rel, text), 0);
}

static void full(char *out, size_t outsz, const char *rel)
{
	snprintf(out, outsz, "%s/%s", tmpdir, rel);
}

static void test_create_and_burst(watch *w)
{
	clear_seen();
	put("Assets/new.txt", "1");
	CHECK(wait_seen(w, "new.txt", false));
	CHECK_EQ_INT(seen[0].folder, 0);

	/* Twenty saves in a row, read in one go, are one change. */
	clear_seen();
	for (int i = 0; i < 20; i++)
		put("Assets/burst.txt", i % 2 ? "odd" : "even");
	CHECK(wait_seen(w, "burst.txt", false));
	CHECK_EQ_INT(count_seen("burst.txt", false), 1);

	/* Nothing left: nothing is due. */
	pump(w, true);
	CHECK_EQ_INT(watch_next_due_ms(w), -1);
}

static void test_rename_save(watch *w)
{
	char a[512], b[512];
	put("Assets/doc.txt", "first");
	CHECK(wait_seen(w, "doc.txt", false));
	/* An editor's save: write a temporary file, rename it over the old. */
	clear_seen();
	put("Assets/.doc.txt.swp", "second");
	full(a, sizeof a, "Assets/.doc.txt.swp");
	full(b, sizeof b, "Assets/doc.txt");
	CHECK_EQ_INT(rename(a, b), 0);
	CHECK(wait_seen(w, "doc.txt", false));
	/* The temporary name comes too (it appeared and went): the owner stats
	 * each path and finds it gone. */
	CHECK(wait_seen(w, ".doc.txt.swp", false));
}

static void test_new_folders(watch *w)
{
	size_t before = watch_count(w);
	clear_seen();
	char p[512];
	full(p, sizeof p, "Assets/newdir");
	CHECK_EQ_INT(mkdir(p, 0755), 0);
	CHECK(wait_seen(w, "newdir", true));
	CHECK_EQ_INT(watch_count(w), before + 1);
	/* Joined: what is written in it now is seen. */
	put("Assets/newdir/inner.txt", "i");
	CHECK(wait_seen(w, "newdir/inner.txt", false));

	/* A tree moved in whole comes with the files it already held, and its
	 * folders are watched from then on. */
	put("outside/moved/x.txt", "x");
	put("outside/moved/deeper/y.txt", "y");
	char from[512], to[512];
	full(from, sizeof from, "outside/moved");
	full(to, sizeof to, "Assets/moved");
	CHECK_EQ_INT(rename(from, to), 0);
	CHECK(wait_seen(w, "moved", true));
	CHECK(wait_seen(w, "moved/x.txt", false));
	CHECK(wait_seen(w, "moved/deeper/y.txt", false));
	CHECK_EQ_INT(watch_count(w), before + 3);
	put("Assets/moved/deeper/z.txt", "z");
	CHECK(wait_seen(w, "moved/deeper/z.txt", false));
}

static void test_deletions(watch *w)
{
	char p[512];
	clear_seen();
	full(p, sizeof p, "Assets/new.txt");
	CHECK_EQ_INT(unlink(p), 0);
	CHECK(wait_seen(w, "new.txt", false));

	/* A folder that goes is a folder change; its watch is dropped. */
	size_t before = watch_count(w);
	full(p, sizeof p, "Assets/newdir");
	CHECK_EQ_INT(path_rmtree(p), 0);
	CHECK(wait_seen(w, "newdir", true));
	bool dropped;
	WAIT_FOR(dropped, 2000, (pump(w, false), watch_count(w) == before - 1));
	CHECK(dropped);
}

static void test_left_alone(watch *w, size_t folders_more)
{
	/* Writes in an excluded folder and in the cache, then one that is
	 * watched: once that last one is seen, the queue has been read past the
	 * others, and they gave nothing. */
	clear_seen();
	put("Assets/.git/objects/new", "g");
	put("Assets/Cache/pc/product.txt", "p");
	put("More/fence.txt", "f");
	CHECK(wait_seen(w, "fence.txt", false));
	for (size_t i = 0; i < n_seen; i++) {
		CHECK(strncmp(seen[i].rel, ".git", 4) != 0);
		CHECK(strncmp(seen[i].rel, "Cache", 5) != 0);
	}
	/* The second scan folder's changes carry its index. */
	for (size_t i = 0; i < n_seen; i++)
		if (strcmp(seen[i].rel, "fence.txt") == 0)
			CHECK_EQ_INT(seen[i].folder, folders_more);
}

static void test_force(watch *w)
{
	/* A write still open waits 100 ms for its close; a fence takes it at
	 * once. */
	clear_seen();
	char p[512];
	full(p, sizeof p, "Assets/open.txt");
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("partial", f);
	fflush(f);
	bool due;
	WAIT_FOR(due, 2000, (watch_read(w) == 0 && watch_next_due_ms(w) >= 0));
	CHECK(due);
	pump(w, true);
	CHECK_EQ_INT(count_seen("open.txt", false), 1);
	CHECK_EQ_INT(watch_next_due_ms(w), -1);
	/* The close is a change of its own. */
	clear_seen();
	fclose(f);
	CHECK(wait_seen(w, "open.txt", false));
}

static long max_queued_events(void)
{
	char buf[64];
	if (test_slurp("/proc/sys/fs/inotify", "max_queued_events", buf, sizeof buf) <= 0)
		return -1;
	return atol(buf);
}

static void test_overflow(watch *w)
{
	long max = max_queued_events();
	if (max <= 0 || max > 1000000) {
		fprintf(stderr, "overflow check skipped: max_queued_events is %ld\n", max);
		return;
	}
	pump(w, true);
	clear_seen();
	/* Writes to two files in turn are events inotify cannot merge: one
	 * more of them than the queue holds, none read in between. */
	char a[512], b[512];
	full(a, sizeof a, "Assets/flood-a");
	full(b, sizeof b, "Assets/flood-b");
	int fa = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644),
	    fb = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fa >= 0 && fb >= 0);
	bool wrote = fa >= 0 && fb >= 0;
	for (long i = 0; wrote && i < max / 2 + 64; i++)
		wrote = write(fa, "a", 1) == 1 && write(fb, "b", 1) == 1;
	CHECK(wrote);
	close(fa);
	close(fb);
	bool lost;
	WAIT_FOR(lost, 2000, (pump(w, false), rescan_seen));
	CHECK(lost);
	/* Asked once: the next take does not ask again. */
	rescan_seen = false;
	pump(w, true);
	CHECK(!rescan_seen);
	/* And the watch still works. */
	put("Assets/after.txt", "a");
	CHECK(wait_seen(w, "after.txt", false));
}

int main(void)
{
	if (!test_tmpdir(tmpdir, sizeof tmpdir, "watch"))
		return 1;
	put("Assets/old.txt", "o");
	put("Assets/.git/config", "g");
	put("Assets/Cache/pc/old.txt", "p");
	put("Assets/sub/s.txt", "s");
	put("More/m.txt", "m");
	const char *json =
	    "{\"cache\": \"Assets/Cache\", \"scan_folders\": [{\"path\": \"Assets\"}, {\"path\": \"More\"}],"
	    " \"excludes\": [\"(^|/)\\\\.git/\"],"
	    " \"builders\": [{\"exec\": \"/bin/true\", \"patterns\": [\"*\"]}]}";
	kiln_config *cfg = test_config(tmpdir, json);
	kpattern *ex = NULL;
	watch *w = NULL;
	char err[512];
	if (cfg) {
		CHECK_EQ_INT(regex_compile(cfg->excludes[0], &ex, err, sizeof err), 0);
		CHECK_EQ_INT(watch_open(cfg, &ex, 1, &w), 0);
	}
	if (w) {
		/* Assets, Assets/sub and More: not .git, not the cache. */
		CHECK_EQ_INT(watch_count(w), 3);
		CHECK_EQ_INT(watch_next_due_ms(w), -1);
		test_create_and_burst(w);
		test_rename_save(w);
		test_new_folders(w);
		test_deletions(w);
		test_left_alone(w, 1);
		test_force(w);
		test_overflow(w);
		watch_close(w);
	}
	pattern_free(ex);
	config_free(cfg);
	if (path_rmtree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	TEST_DONE();
}
