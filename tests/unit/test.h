/* test.h: the smallest test harness that does the job.
 *
 * CHECK(cond) records a failure with file and line and goes on; main() ends
 * with TEST_DONE(), which prints "N passed, N failed" and returns non-zero
 * when anything failed, or when no check ran at all (a test that checked
 * nothing proves nothing). A test that cannot run returns 77, which ctest
 * reports as a skip. */
#ifndef KILN_TEST_H
#define KILN_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed_, test_failed_;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (cond) {                                                                \
			test_passed_++;                                                    \
		} else {                                                                   \
			test_failed_++;                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                             \
	do {                                                                                           \
		long long a_ = (long long)(a), b_ = (long long)(b);                                    \
		if (a_ == b_) {                                                                        \
			test_passed_++;                                                                \
		} else {                                                                               \
			test_failed_++;                                                                \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
				#b, a_, b_);                                                           \
		}                                                                                      \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                            \
	do {                                                                                          \
		const char *a_ = (a), *b_ = (b);                                                      \
		if (a_ && b_ && strcmp(a_, b_) == 0) {                                                \
			test_passed_++;                                                               \
		} else {                                                                              \
			test_failed_++;                                                               \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
				#a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                      \
		}                                                                                     \
	} while (0)

/* A check that fails today because of a known bug, named by bug (a short
 * sentence; the test's comments say more): it is not counted either way,
 * only said, so that the suite stays green while the bug is open and the
 * check is turned back into a CHECK once it is fixed. */
#define SKIP_KNOWN_BUG(cond, bug)                                                                            \
	do {                                                                                                 \
		if (cond)                                                                                    \
			fprintf(stderr, "%s:%d: known bug no longer shows (%s): make this a CHECK again\n",  \
				__FILE__, __LINE__, bug);                                                    \
		else                                                                                         \
			fprintf(stderr, "%s:%d: skipped, known bug: %s (%s)\n", __FILE__, __LINE__, bug,     \
				#cond);                                                                      \
	} while (0)

#define TEST_DONE()                                                                   \
	do {                                                                          \
		printf("%d passed, %d failed\n", test_passed_, test_failed_);        \
		if (test_passed_ + test_failed_ == 0)                                 \
			fprintf(stderr, "no check ran: that is a failure\n");       \
		return test_failed_ || test_passed_ == 0 ? 1 : 0;                     \
	} while (0)

/* ---- helpers shared by tests that touch files, processes and time ---- */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static inline int64_t test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void test_nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Sets ok to the value of cond, evaluated again every millisecond or two
 * until it holds or ms milliseconds have passed: tests wait for a condition
 * with a deadline rather than sleep for a guessed time. cond may do work
 * (poll an event loop) on each evaluation. */
#define WAIT_FOR(ok, ms, cond)                                                                               \
	do {                                                                                                 \
		int64_t wait_end_ = test_now_ms() + (ms);                                                    \
		while (!((ok) = (cond)) && test_now_ms() < wait_end_)                                        \
			test_nap_ms(1);                                                                      \
	} while (0)

/* A fresh folder /tmp/kiln-NAME-XXXXXX in out (at least 64 bytes); false
 * when it cannot be made. The test removes it at the end (path_rmtree). */
static inline bool test_tmpdir(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "/tmp/kiln-%s-XXXXXX", name);
	if (mkdtemp(out))
		return true;
	perror("mkdtemp");
	return false;
}

/* Writes text to dir/rel (dir may be NULL when rel is absolute), making the
 * folders on the way. Returns 0 or -errno. */
static inline int test_put(const char *dir, const char *rel, const char *text)
{
	char p[4096];
	if (dir)
		snprintf(p, sizeof p, "%s/%s", dir, rel);
	else
		snprintf(p, sizeof p, "%s", rel);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int rc = w == (ssize_t)n ? 0 : -EIO;
	close(fd);
	return rc;
}

/* Reads up to outsz - 1 bytes of dir/rel into out (NUL-terminated). Returns
 * the length, or -1 when the file cannot be read. */
static inline long test_slurp(const char *dir, const char *rel, char *out, size_t outsz)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, out, outsz - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = 0;
	return (long)n;
}

/* True when dir/rel exists (as anything, links not followed). */
static inline bool test_exists(const char *dir, const char *rel)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

/* out = the file name beside the running test binary, where the build puts
 * kiln, kiln-builder-host and the test builders. False when that is not
 * executable. */
static inline bool test_bin_path(char *out, size_t outsz, const char *name)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return false;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(out, outsz, "%s/%s", self, name);
	return access(out, X_OK) == 0;
}

#ifdef KILN_CONFIG_H
/* For tests that include config/config.h (before this file): kiln.json text
 * parsed with root as the project root, or NULL after a failed check that
 * prints the loader's message. */
static inline kiln_config *test_config(const char *root, const char *json)
{
	kiln_config *cfg = NULL;
	char err[512];
	int rc = config_parse(json, strlen(json), "kiln.json", root, root, &cfg, err, sizeof err);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err);
	return cfg;
}
#endif

#ifdef KILN_ENG_H
/* For tests of the engine's internals (engine/engine_priv.h included before
 * this file): an engine opened on a fresh project with eng_open, as a batch
 * opens it, whose builders are described and whose hosts are played by the
 * test: it answers create_jobs and process_job calls itself, with replies
 * encoded as a builder would send them, through the engine's own reply
 * handlers. No host process is started. */
typedef struct efx {
	char root[256];
	kiln_config *cfg;
	engine_opts opts;
	engine_stats st;
	engine e;
	bool opened;
} efx;

/* Builder bi as a describe reply would leave it, with its row in the
 * database; its patterns are kiln.json's. */
static inline void efx_builder(efx *x, int bi, const char *uuid, const char *version, const char *afp)
{
	engine *e = &x->e;
	ebuilder *b = &e->b[bi];
	char err[256];
	b->name = arena_printf(e->ar, "builder%d", bi);
	b->uuid = arena_strdup(e->ar, uuid);
	b->version = arena_strdup(e->ar, version);
	b->afp = arena_strdup(e->ar, afp);
	b->patterns = b->cfg->patterns;
	b->n_patterns = b->cfg->n_patterns;
	b->pats = arena_alloc(e->ar, (b->n_patterns + 1) * sizeof *b->pats);
	for (size_t k = 0; k < b->n_patterns; k++)
		CHECK_EQ_INT(pattern_compile(b->patterns[k], &b->pats[k], err, sizeof err), 0);
	b->ok = true;
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_BUILDER_UPSERT);
	db_bind_text(st, 1, b->cfg->exec_abs);
	db_bind_text(st, 2, b->args_json);
	sqlite3_bind_int64(st, 3, 0);
	sqlite3_bind_int64(st, 4, 0);
	db_bind_text(st, 5, b->name);
	db_bind_text(st, 6, b->uuid);
	db_bind_text(st, 7, b->version);
	db_bind_text(st, 8, b->afp);
	db_bind_text(st, 9, "[]");
	sqlite3_bind_int(st, 10, 0);
	sqlite3_bind_null(st, 11);
	db_bind_text(st, 12, "[]");
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	b->db_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
}

/* Opens the engine on a fresh project /tmp/kiln-NAME-XXXXXX with kiln.json
 * text json, after making the scan folders named in folders (NULL-ended);
 * builder i gets the uuid 00000000-0000-4000-8000-00000000000i, version "1"
 * and no analysis fingerprint. False (after a failed check) when it cannot. */
static inline bool efx_open(efx *x, const char *name, const char *json, const char *const *folders)
{
	char err[1024], p[512];
	memset(x, 0, sizeof *x);
	if (!test_tmpdir(x->root, sizeof x->root, name))
		return false;
	for (size_t i = 0; folders[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", x->root, folders[i]);
		CHECK_EQ_INT(mkdir(p, 0755), 0);
	}
	x->cfg = test_config(x->root, json);
	if (!x->cfg)
		return false;
	x->opts.self_dir = x->root; /* no kiln-builder-host there: none can start */
	x->e.cfg = x->cfg;
	x->e.opts = &x->opts;
	x->e.st = &x->st;
	int rc = eng_open(&x->e, err, sizeof err);
	CHECK_EQ_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "eng_open: %s\n", err);
		return false;
	}
	x->opened = true;
	for (size_t i = 0; i < x->e.nb; i++) {
		char uuid[40];
		snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012zu", i);
		efx_builder(x, (int)i, uuid, "1", "");
	}
	return true;
}

static inline void efx_close(efx *x)
{
	if (x->opened)
		eng_close(&x->e);
	engine_stats_free(&x->st);
	config_free(x->cfg);
	if (x->root[0] && path_rmtree(x->root) != 0)
		fprintf(stderr, "could not remove %s\n", x->root);
	memset(x, 0, sizeof *x);
}

/* The source at rel (any case), or NONE. */
static inline size_t efx_src(efx *x, const char *rel)
{
	size_t si;
	if (!hmap_get(&x->e.src_by_key, rel, &si) || !x->e.src[si].on_disk)
		return NONE;
	return si;
}

/* Writes text to folder/rel and tells the engine, as live mode does after
 * a file event. Returns the source it is, or NONE. */
static inline size_t efx_file(efx *x, uint32_t folder, const char *rel, const char *text)
{
	CHECK_EQ_INT(test_put(x->cfg->folders[folder].abs, rel, text), 0);
	eng_path_changed(&x->e, folder, rel, false);
	return efx_src(x, rel);
}

/* Removes folder/rel and tells the engine. */
static inline void efx_unlink(efx *x, uint32_t folder, const char *rel)
{
	char p[KILN_PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", x->cfg->folders[folder].abs, rel);
	CHECK_EQ_INT(unlink(p), 0);
	eng_path_changed(&x->e, folder, rel, false);
}

/* Answers builder bi's create_jobs call for source si with these jobs and
 * source dependencies, taking the call out of the builder's queue as the
 * dispatcher would. Returns whether the call was queued. */
static inline bool efx_analyse(efx *x, size_t si, int bi, msg_job_desc *jobs, size_t n_jobs,
                               msg_source_dep *deps, size_t n_deps)
{
	engine *e = &x->e;
	ebuilder *b = &e->b[bi];
	bool queued = false;
	for (size_t k = 0; k < b->aq_n && !queued; k++) {
		if (b->aq[b->aq_head + k] != si)
			continue;
		memmove(&b->aq[b->aq_head + k], &b->aq[b->aq_head + k + 1],
		        (b->aq_n - k - 1) * sizeof *b->aq);
		b->aq_n--;
		e->aq_total--;
		queued = true;
	}
	msg_create_jobs_resp resp = {
	    .result = MSG_RESULT_SUCCESS, .jobs = jobs, .n_jobs = n_jobs, .deps = deps, .n_deps = n_deps};
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	CHECK_EQ_INT(msg_encode_create_jobs_resp(&sb, &resp), 0);
	erun *r = eng_run_new(e, RUN_ANALYSE, bi);
	r->items = malloc(sizeof *r->items);
	r->items[0] = si;
	r->n_items = 1;
	hp_reply rep = {
	    .id = r->id, .status = HP_OK, .detail = "", .frame = {(const uint8_t *)sb.data, sb.size}};
	eng_on_analyse_reply(e, r, &rep);
	msgpack_sbuffer_destroy(&sb);
	return queued;
}

/* One job (key on platform, no parameters) for efx_analyse. */
static inline msg_job_desc efx_job(const char *key, const char *platform)
{
	return (msg_job_desc){.job_key = key, .platform = platform};
}

/* Starts job ji as eng_job_dispatch and start_job would, without a host:
 * a run with its temp dir and log, and the fingerprint it runs with. */
static inline erun *efx_start(efx *x, size_t ji)
{
	engine *e = &x->e;
	ejob *j = &e->jobs[ji];
	erun *r = eng_run_new(e, RUN_PROCESS, j->builder);
	r->items = malloc(sizeof *r->items);
	r->items[0] = ji;
	r->n_items = 1;
	r->start_ms = wall_ms();
	snprintf(r->temp, sizeof r->temp, "%s/slot-%zu", e->cache_tmp, (size_t)(r - e->runs));
	CHECK_EQ_INT(path_mkdirs(r->temp, 0700), 0);
	CHECK_EQ_INT(joblog_open(&r->log, e->logs_jobs, j->id, r->start_ms), 0);
	free(j->new_fp_parts);
	j->new_fp = eng_job_fingerprint(e, ji, &j->new_fp_parts);
	j->running = true;
	return r;
}

/* The host's answer to run r: status, and when it is HP_OK the builder's
 * process_job reply resp. */
static inline void efx_reply(efx *x, erun *r, hp_status status, const msg_process_job_resp *resp)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	if (status == HP_OK)
		CHECK_EQ_INT(msg_encode_process_job_resp(&sb, resp), 0);
	hp_reply rep = {.id = r->id,
	                .status = status,
	                .detail = status == HP_OK ? "" : "the test says so",
	                .frame = {(const uint8_t *)sb.data, sb.size}};
	eng_on_process_reply(&x->e, r, &rep);
	msgpack_sbuffer_destroy(&sb);
}

/* Runs every queued job to success, each making one product named after
 * its job id. Returns how many ran. */
static inline size_t efx_run_all(efx *x)
{
	size_t n = 0;
	runq_item it;
	while (runq_pop(&x->e.q, &it)) {
		ejob *j = &x->e.jobs[it.job];
		j->queued = false;
		erun *r = efx_start(x, it.job);
		char name[64];
		snprintf(name, sizeof name, "%lld.out", (long long)j->id);
		CHECK_EQ_INT(test_put(r->temp, name, "made"), 0);
		msg_product prod = {.file = name, .sub_id = 1, .dependencies_handled = true};
		msg_process_job_resp resp = {
		    .result = MSG_RESULT_SUCCESS, .products = &prod, .n_products = 1};
		efx_reply(x, r, HP_OK, &resp);
		CHECK_EQ_INT(j->status, ST_COMPLETED);
		n++;
	}
	return n;
}

/* The reason job ji was queued for, or NULL when it is not queued. */
static inline const char *efx_queued(efx *x, size_t ji)
{
	return x->e.jobs[ji].queued ? x->e.jobs[ji].run_reason : NULL;
}
#endif

#endif
