/* pool_test.c: the pool of builder hosts and the supervisor's event loop,
 * with the real kiln-builder-host: a host started lazily, a describe and a
 * process_job run through tb_echo, signals and watched descriptors
 * dispatched by pool_poll, an idle host killed and replaced after its gap, a
 * busy host killed (its run lost) and replaced after a doubled gap, and a
 * host that dies at every start given up after eight tries with gaps that
 * double up to their cap.
 *
 * Giving up takes about 26 s of gaps. Rather than wait for them, that part
 * runs first, in a child process whose monotonic clock the test moves on:
 * this file defines clock_gettime, which the pool's clock (and only this
 * process's) reads, and adds clock_skew_ms to CLOCK_MONOTONIC. The child is
 * forked before anything starts NNG, and the parent never moves its clock. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "hostproto.h"
#include "msg.h"
#include "path.h"
#include "pool/pool.h"
#include "test.h"

static int64_t clock_skew_ms;

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = (int)syscall(SYS_clock_gettime, id, ts);
	if (rc == 0 && clock_skew_ms && (id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE)) {
		int64_t ns = (int64_t)ts->tv_nsec + (clock_skew_ms % 1000) * 1000000;
		ts->tv_sec += (time_t)(clock_skew_ms / 1000 + ns / 1000000000);
		ts->tv_nsec = (long)(ns % 1000000000);
	}
	return rc;
}

/* Real time, whatever the skew: deadlines of the child's loop. */
static int64_t real_ms(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char tmpdir[256], host_bin[4096], echo_bin[4096], fault_bin[4096];

/* What the pool's callbacks were told. Replies keep a copy of their frame:
 * the pool frees its own after the callback. */
typedef struct heard {
	int n_replies;
	uint64_t reply_id[8];
	hp_status status[8];
	uint8_t *frame[8];
	size_t frame_len[8];
	int n_logs;
	char first_log[256];
	int n_lost;
	uint64_t lost_id;
	uint32_t lost_first;
	char lost_detail[256];
	int n_requeued;
	int last_signal;
	int n_watch;
} heard;

static heard H;

static void heard_clear(void)
{
	for (int i = 0; i < H.n_replies; i++)
		free(H.frame[i]);
	memset(&H, 0, sizeof H);
}

static void on_log(void *ud, uint64_t id, const hp_log *log)
{
	(void)ud;
	(void)id;
	if (H.n_logs++ == 0)
		snprintf(H.first_log, sizeof H.first_log, "%s", log->message);
}

static void on_reply(void *ud, uint64_t id, const hp_reply *r)
{
	(void)ud;
	if (H.n_replies >= 8)
		return;
	int i = H.n_replies++;
	H.reply_id[i] = id;
	H.status[i] = r->status;
	H.frame_len[i] = r->frame.len;
	H.frame[i] = malloc(r->frame.len + 1);
	if (H.frame[i] && r->frame.len)
		memcpy(H.frame[i], r->frame.data, r->frame.len);
}

static void on_lost(void *ud, uint64_t id, uint32_t first_idx, const char *detail)
{
	(void)ud;
	H.n_lost++;
	H.lost_id = id;
	H.lost_first = first_idx;
	snprintf(H.lost_detail, sizeof H.lost_detail, "%s", detail);
}

static void on_requeue(void *ud, uint64_t id)
{
	(void)ud;
	(void)id;
	H.n_requeued++;
}

static void on_signal(void *ud, int signo)
{
	(void)ud;
	H.last_signal = signo;
}

static void on_watch(void *ud, int fd)
{
	char c;
	(void)ud;
	if (read(fd, &c, 1) == 1)
		H.n_watch++;
}

static const pool_cb callbacks = {.on_log = on_log,
                                  .on_reply = on_reply,
                                  .on_lost = on_lost,
                                  .on_requeue = on_requeue,
                                  .on_signal = on_signal};

/* A pool of one host running exe, its sockets and work folders below
 * tmpdir/name, the hosts' output appended to tmpdir/name.log. */
static pool *new_pool(const char *exe, const char *name, int *log_fd)
{
	char dir[512], logp[512];
	snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
	snprintf(logp, sizeof logp, "%s/%s.log", tmpdir, name);
	*log_fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	pool *p = NULL;
	CHECK_EQ_INT(pool_new(exe, dir, dir, *log_fd, 1, &callbacks, &p), 0);
	return p;
}

static size_t live_hosts(pool *p, int *pid)
{
	int pids[4];
	size_t n = pool_host_pids(p, pids, 4);
	if (pid)
		*pid = n ? pids[0] : -1;
	return n;
}

/* ---- giving up (in the child, on a moved clock) ---- */

static int count_lines(const char *rel, const char *word)
{
	char buf[8192];
	if (test_slurp(tmpdir, rel, buf, sizeof buf) < 0)
		return -1;
	int n = 0;
	for (const char *s = buf; (s = strstr(s, word)); s += strlen(word))
		n++;
	return n;
}

static void given_up_child(void)
{
	/* A "host" that says it started and exits at once. */
	char script[512];
	snprintf(script, sizeof script, "%s/dies.sh", tmpdir);
	CHECK_EQ_INT(test_put(NULL, script, "#!/bin/sh\necho started\nexit 3\n"), 0);
	CHECK_EQ_INT(chmod(script, 0755), 0);
	int log_fd;
	pool *p = new_pool(script, "dies", &log_fd);
	if (!p)
		return;
	int64_t starts[16];
	int n_starts = 0;
	bool was_up = false;
	int64_t end = real_ms() + 10000;
	while (!pool_given_up(p) && real_ms() < end) {
		pool_ensure(p, 1);
		bool up = live_hosts(p, NULL) > 0;
		if (up && !was_up && n_starts < 16)
			starts[n_starts++] = pool_now_ms();
		was_up = up;
		pool_poll(p, 5);
		/* While no host lives, time moves on in steps of 50 ms. */
		if (live_hosts(p, NULL) == 0)
			clock_skew_ms += 50;
	}
	CHECK(pool_given_up(p));
	CHECK_EQ_INT(n_starts, 8);
	CHECK_EQ_INT(count_lines("dies.log", "started"), 8);
	/* The gaps double from 250 ms and stop at 10 s, with up to a quarter
	 * more of jitter (and the 50 ms steps of the moved clock). */
	int64_t gap = 250;
	for (int i = 1; i < n_starts; i++) {
		int64_t d = starts[i] - starts[i - 1];
		if (d < gap || d > gap + gap / 4 + 300)
			fprintf(stderr, "gap %d: %lld ms, expected %lld to %lld\n", i, (long long)d,
			        (long long)gap, (long long)(gap + gap / 4 + 300));
		CHECK(d >= gap && d <= gap + gap / 4 + 300);
		gap = gap * 2 > 10000 ? 10000 : gap * 2;
	}
	/* Given up: no more tries, however long one waits. */
	CHECK(!pool_can_submit(p));
	clock_skew_ms += 60000;
	pool_ensure(p, 1);
	CHECK(!pool_can_submit(p));
	pool_poll(p, 5);
	CHECK_EQ_INT(live_hosts(p, NULL), 0);
	CHECK_EQ_INT(count_lines("dies.log", "started"), 8);
	pool_free(p);
	close(log_fd);
}

/* Runs given_up_child in a child process; true when all its checks held. */
static void test_given_up(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		given_up_child();
		fprintf(stderr, "given-up child: %d checks passed, %d failed\n", test_passed_, test_failed_);
		fflush(NULL);
		_exit(test_failed_ ? 1 : 0);
	}
	int st = 0;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- runs through the real host ---- */

/* The frames a run carries, as the engine encodes them: a describe call,
 * a create_jobs call for source, or a process_job call for dir/source with
 * temp as its temp dir. The caller frees data. */
typedef enum frame_kind { F_DESCRIBE, F_CREATE_JOBS, F_PROCESS } frame_kind;

static hp_bytes make_frame(frame_kind kind, const char *dir, const char *source, const char *temp)
{
	static const char *const plats[] = {"pc"};
	static const char builder_uuid[] = "6f1c0a3e-8a8e-4c57-9a4e-0d3c2b1a0e01";
	static const char source_uuid[] = "00000000-0000-0000-0000-000000000001";
	char full[1024];
	snprintf(full, sizeof full, "%s/%s", dir ? dir : "/w", source ? source : "");
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	if (kind == F_DESCRIBE) {
		msg_encode_describe_req(&sb);
	} else if (kind == F_CREATE_JOBS) {
		msg_create_jobs_req q = {.source_file = source,
		                         .watch_folder = "/w",
		                         .full_path = full,
		                         .source_uuid = source_uuid,
		                         .builder_uuid = builder_uuid,
		                         .platforms = {(const char **)plats, 1}};
		msg_encode_create_jobs_req(&sb, &q);
	} else {
		msg_process_job_req q = {.source_file = source,
		                         .watch_folder = dir,
		                         .full_path = full,
		                         .builder_uuid = builder_uuid,
		                         .job = {.job_key = "echo", .platform = "pc"},
		                         .temp_dir = temp,
		                         .platform_info = {.identifier = "pc"},
		                         .source_uuid = source_uuid,
		                         .job_id = 1};
		msg_encode_process_job_req(&sb, &q);
	}
	return (hp_bytes){(const uint8_t *)sb.data, sb.size};
}

/* Polls until a host is idle (starting one if none is), up to ten seconds. */
static bool wait_idle(pool *p)
{
	bool ok;
	WAIT_FOR(ok, 10000, (pool_poll(p, 10) == 0 && pool_can_submit(p)));
	return ok;
}

static void test_run(pool *p)
{
	heard_clear();
	CHECK_EQ_INT(live_hosts(p, NULL), 0); /* hosts start lazily */
	CHECK_EQ_INT(pool_busy(p), 0);
	CHECK(!pool_can_submit(p)); /* this starts one, which is not ready yet */
	CHECK_EQ_INT(live_hosts(p, NULL), 1);
	CHECK(wait_idle(p));

	char src[512], temp[512];
	snprintf(src, sizeof src, "%s/src", tmpdir);
	/* Builders may write only below the pool's work folder (the sandbox):
	 * the engine's temp dirs are there too. */
	snprintf(temp, sizeof temp, "%s/hosts/job-temp", tmpdir);
	CHECK_EQ_INT(test_put(src, "a.txt", "source text\n"), 0);
	CHECK_EQ_INT(path_mkdirs(temp, 0700), 0);
	hp_builder b = {
	    .key = "echo", .exec = echo_bin, .persistent = true, .timeout_s = 30, .memory_mb = 512};
	hp_bytes f[2] = {make_frame(F_DESCRIBE, NULL, NULL, NULL), make_frame(F_PROCESS, src, "a.txt", temp)};
	CHECK_EQ_INT(pool_submit(p, 41, &b, temp, f, 2), 0);
	for (int i = 0; i < 2; i++)
		free((void *)f[i].data);
	CHECK_EQ_INT(pool_busy(p), 1);
	bool done;
	WAIT_FOR(done, 15000, (pool_poll(p, 20) == 0 && H.n_replies >= 2));
	CHECK(done);
	CHECK_EQ_INT(pool_busy(p), 0);
	CHECK_EQ_INT(H.n_lost, 0);
	if (H.n_replies < 2)
		return;
	CHECK(H.reply_id[0] == 41 && H.reply_id[1] == 41);
	CHECK_EQ_INT(H.status[0], HP_OK);
	CHECK_EQ_INT(H.status[1], HP_OK);
	char err[256];
	arena *a = arena_new();
	msg_describe d;
	CHECK_EQ_INT(msg_decode_describe(H.frame[0], H.frame_len[0], a, &d, err, sizeof err), 0);
	CHECK_EQ_STR(d.name, "tb_echo");
	msg_process_job_resp resp;
	CHECK_EQ_INT(msg_decode_process_job_resp(H.frame[1], H.frame_len[1], a, &resp, err, sizeof err), 0);
	CHECK_EQ_INT(resp.result, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(resp.n_products, 1);
	if (resp.n_products == 1)
		CHECK_EQ_STR(resp.products[0].file, "out.txt");
	arena_free(a);
	/* The builder did its work in the temp dir, and said so in a log. */
	char out[256];
	CHECK(test_slurp(temp, "out.txt", out, sizeof out) > 0);
	CHECK_EQ_STR(out, "a.txt\n");
	CHECK(H.n_logs >= 1 && strncmp(H.first_log, "pid ", 4) == 0);
	/* Idle again, nothing started twice. */
	CHECK(pool_can_submit(p));
	CHECK_EQ_INT(live_hosts(p, NULL), 1);
}

static int watch_pipe[2] = {-1, -1};

static void test_loop(pool *p)
{
	/* Signals arrive through the pool's signalfd. */
	heard_clear();
	CHECK_EQ_INT(kill(getpid(), SIGHUP), 0);
	bool ok;
	WAIT_FOR(ok, 2000, (pool_poll(p, 10) == 0 && H.last_signal == SIGHUP));
	CHECK(ok);
	/* A registered descriptor is dispatched when readable. */
	CHECK_EQ_INT(pipe(watch_pipe), 0);
	CHECK_EQ_INT(pool_watch_fd(p, watch_pipe[0], on_watch, NULL), 0);
	CHECK_EQ_INT(write(watch_pipe[1], "x", 1), 1);
	WAIT_FOR(ok, 2000, (pool_poll(p, 10) == 0 && H.n_watch == 1));
	CHECK(ok);
	/* The pipe stays registered (the pool has no way to drop one) and is
	 * closed after the pool is freed. */
}

/* Kills the pool's live host and measures, from when the pool saw it die,
 * how long until it started the next one. Returns that gap in ms, or -1. */
static int64_t kill_and_replace(pool *p, int *old_pid, int *new_pid)
{
	live_hosts(p, old_pid);
	if (*old_pid <= 0 || kill(*old_pid, SIGKILL) != 0)
		return -1;
	bool reaped;
	WAIT_FOR(reaped, 5000, (pool_poll(p, 10) == 0 && live_hosts(p, NULL) == 0));
	if (!reaped)
		return -1;
	int64_t t_dead = pool_now_ms();
	/* Within the gap nothing is started, however often one asks. */
	CHECK(!pool_can_submit(p));
	CHECK_EQ_INT(live_hosts(p, NULL), 0);
	bool started;
	WAIT_FOR(started, 15000, (pool_poll(p, 5) == 0 && (pool_can_submit(p), live_hosts(p, new_pid) > 0)));
	if (!started)
		return -1;
	return pool_now_ms() - t_dead;
}

static void test_replace(pool *p)
{
	/* An idle host killed: nothing was running, so nothing is lost; it
	 * comes back after the first gap, 250 ms (and up to 25% more). */
	heard_clear();
	int old_pid = -1, new_pid = -1;
	int64_t gap = kill_and_replace(p, &old_pid, &new_pid);
	CHECK(gap >= 240 && gap < 1000);
	CHECK(new_pid > 0 && new_pid != old_pid);
	CHECK_EQ_INT(H.n_lost, 0);
	CHECK(wait_idle(p));

	/* A busy host killed: its run is lost, with what happened; the second
	 * death without a completed run between waits twice as long. */
	heard_clear();
	hp_builder b = {
	    .key = "fault", .exec = fault_bin, .persistent = true, .timeout_s = 30, .memory_mb = 512};
	hp_bytes f = make_frame(F_CREATE_JOBS, NULL, "hang", NULL);
	CHECK_EQ_INT(pool_submit(p, 77, &b, "", &f, 1), 0);
	free((void *)f.data);
	CHECK_EQ_INT(pool_busy(p), 1);
	gap = kill_and_replace(p, &old_pid, &new_pid);
	CHECK(gap >= 490 && gap < 2000);
	CHECK_EQ_INT(H.n_lost, 1);
	CHECK(H.lost_id == 77);
	CHECK_EQ_INT(H.lost_first, 0);
	CHECK(strstr(H.lost_detail, "killed by signal 9") != NULL);
	CHECK_EQ_INT(H.n_requeued, 0);
	CHECK_EQ_INT(pool_busy(p), 0);
	CHECK(!pool_given_up(p));

	/* A completed run resets the gap to the first one. */
	CHECK(wait_idle(p));
	heard_clear();
	hp_builder e = {
	    .key = "echo", .exec = echo_bin, .persistent = true, .timeout_s = 30, .memory_mb = 512};
	f = make_frame(F_DESCRIBE, NULL, NULL, NULL);
	CHECK_EQ_INT(pool_submit(p, 78, &e, "", &f, 1), 0);
	free((void *)f.data);
	bool done;
	WAIT_FOR(done, 15000, (pool_poll(p, 20) == 0 && H.n_replies >= 1));
	CHECK(done);
	gap = kill_and_replace(p, &old_pid, &new_pid);
	CHECK(gap >= 240 && gap < 480);
	CHECK(wait_idle(p));
}

int main(void)
{
	if (!test_bin_path(host_bin, sizeof host_bin, "kiln-builder-host") ||
	    !test_bin_path(echo_bin, sizeof echo_bin, "tb_echo") ||
	    !test_bin_path(fault_bin, sizeof fault_bin, "tb_fault")) {
		fprintf(stderr, "need kiln-builder-host, tb_echo and tb_fault beside the test\n");
		return 1;
	}
	if (!test_tmpdir(tmpdir, sizeof tmpdir, "pool"))
		return 1;
	/* As main does: the pool's signals only through its signalfd. */
	pool_block_signals();
	test_given_up();

	int log_fd;
	pool *p = new_pool(host_bin, "hosts", &log_fd);
	if (p) {
		test_run(p);
		test_loop(p);
		test_replace(p);
		int pid = -1;
		live_hosts(p, &pid);
		pool_free(p);
		/* Freed: its host was told to stop and is gone. */
		CHECK(pid > 0 && kill(pid, 0) != 0);
	}
	close(log_fd);
	close(watch_pipe[0]);
	close(watch_pipe[1]);
	heard_clear();
	if (test_failed_) {
		char buf[8192];
		if (test_slurp(tmpdir, "hosts.log", buf, sizeof buf) > 0)
			fprintf(stderr, "---- hosts.log ----\n%s", buf);
	}
	if (path_rmtree(tmpdir) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	TEST_DONE();
}
