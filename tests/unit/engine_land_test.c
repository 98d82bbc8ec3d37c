/* engine_land_test.c: landing a job's products. Every product is checked in
 * the job's temp dir before any is moved, so a job lands all of its
 * products or none: one bad product (missing, outside the temp dir, a link,
 * a folder link out of it, a shared sub_id or path, another job's path) or
 * a failed run keeps every product of the run out, and the last good run's
 * products stay, in the cache and in the database. A good run replaces the
 * old products, removes those it no longer makes and moves a sub_id that
 * changed path. Whatever happens, no file is left in the temp dir. */
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine_priv.h"
#include "test.h"

static const char *const json = "{\"platforms\": [\"pc\"], \"scan_folders\": [{\"path\": \"Assets\"}],"
                                " \"builders\": [{\"exec\": \"/bin/true\", \"patterns\": [\"*.src\"]}]}";
static const char *const folders[] = {"Assets", NULL};

static efx X;
static size_t job_a, job_b;
static char outside[512];

/* How a product of a run is left in the temp dir. */
typedef enum made { WRITTEN, NOT_WRITTEN, LINK_TO_FILE, PARENT_LINK_OUT } made;

typedef struct prod {
	const char *file;
	const char *text;
	uint32_t sub_id;
	made how;
} prod;

static int n_left;

static int count_left(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)st;
	(void)ftw;
	n_left += flag != FTW_D && flag != FTW_DP;
	return 0;
}

static void leave(const char *temp, const prod *p)
{
	char path[KILN_PATH_MAX], dir[KILN_PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", temp, p->file);
	if (p->how == WRITTEN) {
		CHECK_EQ_INT(test_put(temp, p->file, p->text), 0);
	} else if (p->how == LINK_TO_FILE) {
		CHECK_EQ_INT(test_put(temp, "target.bin", p->text), 0);
		CHECK_EQ_INT(symlink("target.bin", path), 0);
	} else if (p->how == PARENT_LINK_OUT) {
		/* p->file is "folder/name": folder links to a folder outside that
		 * holds name. */
		snprintf(dir, sizeof dir, "%s", path);
		*strrchr(dir, '/') = 0;
		CHECK_EQ_INT(test_put(outside, strrchr(p->file, '/') + 1, p->text), 0);
		CHECK_EQ_INT(symlink(outside, dir), 0);
	}
}

/* Runs job ji: the builder leaves the products ps in the temp dir, then
 * the host answers status and the builder result. Returns the run's log
 * text (static), and checks that the temp dir is empty of files after. */
static const char *run(size_t ji, const prod *ps, size_t n, hp_status status, msg_result result)
{
	static char log[16384];
	erun *r = efx_start(&X, ji);
	char temp[KILN_PATH_MAX], log_path[KILN_PATH_MAX];
	snprintf(temp, sizeof temp, "%s", r->temp);
	snprintf(log_path, sizeof log_path, "%s", r->log.path);
	msg_product mp[8];
	for (size_t i = 0; i < n && i < 8; i++) {
		leave(temp, &ps[i]);
		mp[i] =
		    (msg_product){.file = ps[i].file, .sub_id = ps[i].sub_id, .dependencies_handled = true};
	}
	msg_process_job_resp resp = {.result = result, .products = mp, .n_products = n};
	efx_reply(&X, r, status, &resp);
	n_left = 0;
	CHECK_EQ_INT(nftw(temp, count_left, 16, FTW_PHYS | FTW_DEPTH), 0);
	CHECK_EQ_INT(n_left, 0);
	char *slash = strrchr(log_path, '/');
	*slash = 0;
	if (test_slurp(log_path, slash + 1, log, sizeof log) < 0)
		snprintf(log, sizeof log, "(no log at %s/%s)", log_path, slash + 1);
	return log;
}

/* The product file Cache/pc/rel as text, "" when it is not there. */
static const char *in_cache(const char *rel)
{
	static char buf[256];
	char dir[KILN_PATH_MAX];
	snprintf(dir, sizeof dir, "%s/pc", X.cfg->cache);
	if (test_slurp(dir, rel, buf, sizeof buf) < 0)
		buf[0] = 0;
	return buf;
}

static long long q_int(const char *fmt, long long arg)
{
	char sql[256];
	sqlite3_stmt *st = NULL;
	long long v = -1;
	snprintf(sql, sizeof sql, fmt, arg);
	if (sqlite3_prepare_v2(X.e.db->h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static long long n_rows(size_t ji)
{
	return q_int("SELECT count(*) FROM products WHERE job_id = %lld", X.e.jobs[ji].id);
}

/* The job's reason in its row, as db_reasons index + 1 (0 for none). */
static int row_reason(size_t ji)
{
	char sql[128];
	sqlite3_stmt *st = NULL;
	int code = -1;
	snprintf(sql, sizeof sql, "SELECT reason FROM jobs WHERE id = %lld", (long long)X.e.jobs[ji].id);
	if (sqlite3_prepare_v2(X.e.db->h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		code = sqlite3_column_text(st, 0) ? eng_reason_code((const char *)sqlite3_column_text(st, 0))
		                                  : 0;
	sqlite3_finalize(st);
	return code;
}

static bool setup(void)
{
	if (!efx_open(&X, "land", json, folders))
		return false;
	snprintf(outside, sizeof outside, "%s/outside", X.root);
	msg_job_desc jd = efx_job("k", "pc");
	size_t a = efx_file(&X, 0, "a.src", "a"), b = efx_file(&X, 0, "b.src", "b");
	CHECK(a != NONE && b != NONE);
	if (a == NONE || b == NONE)
		return false;
	efx_analyse(&X, a, 0, &jd, 1, NULL, 0);
	efx_analyse(&X, b, 0, &jd, 1, NULL, 0);
	job_a = X.e.src[a].first_job;
	job_b = X.e.src[b].first_job;
	runq_item it;
	while (runq_pop(&X.e.q, &it))
		X.e.jobs[it.job].queued = false;
	return true;
}

static void test_good(void)
{
	prod ps[] = {{"out/one.bin", "one v1", 1, WRITTEN}, {"Two.BIN", "two v1", 2, WRITTEN}};
	run(job_a, ps, 2, HP_OK, MSG_RESULT_SUCCESS);
	ejob *j = &X.e.jobs[job_a];
	CHECK_EQ_INT(j->status, ST_COMPLETED);
	CHECK(j->has_fp && j->fp == j->new_fp);
	/* Renamed into place, paths lowercased. */
	CHECK_EQ_STR(in_cache("out/one.bin"), "one v1");
	CHECK_EQ_STR(in_cache("two.bin"), "two v1");
	CHECK_EQ_INT(n_rows(job_a), 2);
	char f[KILN_PATH_MAX];
	uint64_t h = 0;
	snprintf(f, sizeof f, "%s/pc/out/one.bin", X.cfg->cache);
	CHECK_EQ_INT(hash_file(f, &h), 0);
	CHECK_EQ_INT(q_int("SELECT hash FROM products WHERE sub_id = %lld", 1), (long long)h);
	CHECK_EQ_INT(X.st.products, 2);
}

/* The run 1 products are all still there, as they were. */
static void check_kept(const char *what)
{
	char one[256], two[256];
	snprintf(one, sizeof one, "%s", in_cache("out/one.bin"));
	snprintf(two, sizeof two, "%s", in_cache("two.bin"));
	bool kept = strcmp(one, "one v1") == 0 && strcmp(two, "two v1") == 0 && n_rows(job_a) == 2;
	if (!kept)
		fprintf(stderr, "  after %s: one.bin \"%s\", two.bin \"%s\", %lld rows\n", what, one, two,
		        n_rows(job_a));
	CHECK(kept);
}

static void test_all_or_none(void)
{
	/* Each run below makes new versions of both good products, and has one
	 * thing wrong: none of it lands. */
	static const struct bad {
		const char *what;
		prod third;
		hp_status status;
		msg_result result;
		const char *reason, *says;
	} bads[] = {
	    {"a listed product that is not there",
	     {"missing.bin", "", 3, NOT_WRITTEN},
	     HP_OK,
	     MSG_RESULT_SUCCESS,
	     "invalid_product",
	     "does not exist in the temp dir"},
	    {"a path out of the temp dir",
	     {"../escape.bin", "x", 3, NOT_WRITTEN},
	     HP_OK,
	     MSG_RESULT_SUCCESS,
	     "invalid_product",
	     "is not a path inside the temp dir"},
	    {"an absolute path",
	     {"/etc/hostname", "x", 3, NOT_WRITTEN},
	     HP_OK,
	     MSG_RESULT_SUCCESS,
	     "invalid_product",
	     "is not a path inside the temp dir"},
	    {"a symbolic link",
	     {"link.bin", "x", 3, LINK_TO_FILE},
	     HP_OK,
	     MSG_RESULT_SUCCESS,
	     "invalid_product",
	     "(a symbolic link)"},
	    {"a folder linked out of the temp dir",
	     {"sub/x.bin", "outside", 3, PARENT_LINK_OUT},
	     HP_OK,
	     MSG_RESULT_SUCCESS,
	     "invalid_product",
	     "resolves outside the temp dir"},
	    {"a shared sub_id",
	     {"three.bin", "x", 1, WRITTEN},
	     HP_OK,
	     MSG_RESULT_SUCCESS,
	     "invalid_product",
	     "share sub_id 1"},
	    {"a shared path",
	     {"OUT/ONE.bin", "x", 3, WRITTEN},
	     HP_OK,
	     MSG_RESULT_SUCCESS,
	     "invalid_product",
	     "land on the same path"},
	    {"a failed result",
	     {"three.bin", "x", 3, WRITTEN},
	     HP_OK,
	     MSG_RESULT_FAILED,
	     "failed",
	     "the builder returned \\\"failed\\\""},
	    {"a crashed builder",
	     {"three.bin", "x", 3, WRITTEN},
	     HP_CRASHED,
	     MSG_RESULT_SUCCESS,
	     "crashed",
	     "the test says so"},
	};
	ejob *j = &X.e.jobs[job_a];
	uint64_t good_fp = j->fp;
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		const struct bad *b = &bads[i];
		prod ps[] = {
		    {"out/one.bin", "one v2", 1, WRITTEN}, {"two.bin", "two v2", 2, WRITTEN}, b->third};
		/* The input changed: a new print, which must not stick. */
		X.e.src[j->src].hash ^= 0x100;
		const char *log = run(job_a, ps, 3, b->status, b->result);
		CHECK_EQ_INT(j->status, ST_FAILED);
		CHECK_EQ_INT(row_reason(job_a), eng_reason_code(b->reason));
		if (!strstr(log, b->says))
			fprintf(stderr, "  %s: the log does not say \"%s\":\n%s\n", b->what, b->says, log);
		CHECK(strstr(log, b->says) != NULL);
		check_kept(b->what);
		CHECK(!test_exists(X.cfg->cache, "pc/three.bin"));
		CHECK(j->fp == good_fp);
	}
	/* The file outside the temp dir was left where it was. */
	CHECK(test_exists(outside, "x.bin"));
	CHECK(!test_exists(X.cfg->cache, "pc/sub/x.bin"));

	/* A folder link to a sibling whose name begins with the temp dir's
	 * (slot-0 and slot-0-sibling, or slot-1 and slot-10) leaves the temp
	 * dir as much as any other: it once passed a string-prefix check. */
	erun *r = efx_start(&X, job_a);
	char sibling[KILN_PATH_MAX], link[KILN_PATH_MAX];
	snprintf(sibling, sizeof sibling, "%s-sibling", r->temp);
	snprintf(link, sizeof link, "%s/sub", r->temp);
	CHECK_EQ_INT(test_put(sibling, "y.bin", "from the sibling"), 0);
	CHECK_EQ_INT(symlink(sibling, link), 0);
	msg_product sp = {.file = "sub/y.bin", .sub_id = 1, .dependencies_handled = true};
	msg_process_job_resp sresp = {.result = MSG_RESULT_SUCCESS, .products = &sp, .n_products = 1};
	efx_reply(&X, r, HP_OK, &sresp);
	CHECK(j->status == ST_FAILED);
	CHECK(test_exists(sibling, "y.bin"));
	/* Put the last good run back for what follows. */
	prod again[] = {{"out/one.bin", "one v1", 1, WRITTEN}, {"two.bin", "two v1", 2, WRITTEN}};
	run(job_a, again, 2, HP_OK, MSG_RESULT_SUCCESS);
	check_kept("the good run again");

	/* A run that succeeds without products fails; the old ones stay. */
	const char *log = run(job_a, NULL, 0, HP_OK, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(j->status, ST_FAILED);
	CHECK(strstr(log, "success but no products") != NULL);
	check_kept("no products");
}

static void test_replace(void)
{
	ejob *j = &X.e.jobs[job_a];
	/* A good run that makes only sub_id 1 now: two.bin goes. */
	prod p1[] = {{"out/one.bin", "one v3", 1, WRITTEN}};
	run(job_a, p1, 1, HP_OK, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(j->status, ST_COMPLETED);
	CHECK_EQ_STR(in_cache("out/one.bin"), "one v3");
	CHECK(!test_exists(X.cfg->cache, "pc/two.bin"));
	CHECK_EQ_INT(n_rows(job_a), 1);
	/* sub_id 1 moves: the old file goes, and its emptied folder. */
	prod p2[] = {{"moved/one.bin", "one v4", 1, WRITTEN}};
	run(job_a, p2, 1, HP_OK, MSG_RESULT_SUCCESS);
	CHECK_EQ_STR(in_cache("moved/one.bin"), "one v4");
	CHECK(!test_exists(X.cfg->cache, "pc/out/one.bin"));
	CHECK(!test_exists(X.cfg->cache, "pc/out"));
	CHECK_EQ_INT(n_rows(job_a), 1);
}

static void test_collision(void)
{
	/* b's job makes the path a's job made: both fail, each log naming the
	 * other; a's product stays where it is, b's does not land. */
	prod p[] = {{"moved/one.bin", "from b", 1, WRITTEN}, {"b-own.bin", "b", 2, WRITTEN}};
	const char *log = run(job_b, p, 2, HP_OK, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(X.e.jobs[job_b].status, ST_FAILED);
	CHECK(strstr(log, "is already made by job") != NULL);
	CHECK_EQ_INT(X.e.jobs[job_a].status, ST_FAILED);
	CHECK_EQ_INT(row_reason(job_a), eng_reason_code("invalid_product"));
	CHECK_EQ_STR(in_cache("moved/one.bin"), "one v4");
	CHECK(!test_exists(X.cfg->cache, "pc/b-own.bin"));
	CHECK_EQ_INT(n_rows(job_a), 1);
	CHECK_EQ_INT(n_rows(job_b), 0);
}

int main(void)
{
	if (setup()) {
		test_good();
		test_all_or_none();
		test_replace();
		test_collision();
	}
	efx_close(&X);
	TEST_DONE();
}
