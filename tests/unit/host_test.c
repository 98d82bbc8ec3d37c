/* host_test.c: runs the real kiln-builder-host with this test acting as the
 * supervisor: an NNG pair socket listening on a fresh ipc path, runs sent,
 * logs and replies checked. The builders are tests/builders/tb_echo (the
 * SDK, well behaved) and tb_fault (breaks the protocol in many ways).
 *
 * Also: the restart policy of persistent builders (gaps, giving up, the
 * cool-down, healing) and the sandbox's isolation layers, each checked from
 * outside (a TCP listener that must not see a connection, a file that must
 * not appear) with the layers the host says it turned on, under each
 * KILN_SANDBOX setting and, when the test runs as root, for a host running
 * as an unprivileged user. */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <netinet/in.h>
#include <linux/landlock.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "arena.h"
#include "hostproto.h"
#include "msg.h"
#include "test.h"

extern char **environ;

static char tmpdir[PATH_MAX];
static int listen_fd = -1; /* 127.0.0.1:listen_port; builders must not reach it */
static int listen_port;
static char host_bin[PATH_MAX], echo_bin[PATH_MAX], fault_bin[PATH_MAX];

/* ---- helpers ---- */

static uint64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* True once pid no longer exists (reaped, not just a zombie), polling up
 * to ms milliseconds. */
static bool pid_gone(pid_t pid, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;
	for (;;) {
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return true;
		if (ms_now() >= end)
			return false;
		nap_ms(10);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void path_join(char *out, const char *dir, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

/* ---- the fake supervisor ---- */

typedef struct sup {
	nng_socket s;
	bool open;
	pid_t host;
	char dir[PATH_MAX];
	char scratch[PATH_MAX];
	char log[PATH_MAX];
	uint64_t next_id;
} sup;

typedef struct result {
	arena *a;
	hp_log *logs;
	size_t n_logs, cap_logs;
	hp_reply replies[16];
	uint64_t reply_ms[16]; /* when each reply arrived */
	size_t n_replies;
	hp_bnote notes[32]; /* "builder" state messages */
	size_t n_notes;
	int unexpected;
} result;

static void result_free(result *r)
{
	arena_free(r->a);
	free(r->logs);
	memset(r, 0, sizeof(*r));
}

static int sup_recv(sup *s, arena *a, hp_msg *m)
{
	nng_msg *msg = NULL;
	char err[256];
	int rv = nng_recvmsg(s->s, &msg, 0);
	if (rv != 0) {
		fprintf(stderr, "recv: %s\n", nng_strerror(rv));
		return -1;
	}
	int rc = hp_decode(nng_msg_body(msg), nng_msg_len(msg), a, m, err, sizeof(err));
	nng_msg_free(msg);
	if (rc != 0) {
		fprintf(stderr, "host sent a broken message: %s\n", err);
		return -1;
	}
	return 0;
}

#define NOBODY 65534

/* Starts a host with extra "NAME=value" entries in its environment (extra
 * may be NULL; NULL-terminated), as user nobody when as_nobody. */
static bool sup_start_ex(sup *s, const char *name, const char *const *extra, bool as_nobody)
{
	char url[PATH_MAX + 16], sock[PATH_MAX + 8];
	char *argv[] = {host_bin, "--connect", url, "--id", "7", NULL};
	char **envp = NULL;
	size_t n_env = 0, n_extra = 0;

	memset(s, 0, sizeof(*s));
	path_join(s->dir, tmpdir, name);
	path_join(s->scratch, s->dir, "scratch");
	path_join(s->log, s->dir, "host.log");
	if (mkdir(s->dir, 0700) != 0 || mkdir(s->scratch, 0700) != 0)
		return false;
	if (as_nobody && (chmod(s->dir, 0755) != 0 || chown(s->scratch, NOBODY, NOBODY) != 0))
		return false;
	snprintf(sock, sizeof(sock), "%s/h.sock", s->dir);
	snprintf(url, sizeof(url), "ipc://%s", sock);
	if (nng_pair1_open(&s->s) != 0)
		return false;
	s->open = true;
	nng_socket_set_ms(s->s, NNG_OPT_RECVTIMEO, 15000);
	nng_socket_set_ms(s->s, NNG_OPT_SENDTIMEO, 5000);
	nng_socket_set_size(s->s, NNG_OPT_RECVMAXSZ, 0);
	if (nng_listen(s->s, url, NULL, 0) != 0)
		return false;
	if (as_nobody && chmod(sock, 0777) != 0)
		return false;

	/* The environment is built before fork(): NNG runs threads, so the
	 * child may only make async-signal-safe calls. */
	while (environ[n_env])
		n_env++;
	while (extra && extra[n_extra])
		n_extra++;
	envp = calloc(n_env + n_extra + 1, sizeof(*envp));
	if (!envp)
		return false;
	memcpy(envp, environ, n_env * sizeof(*envp));
	if (n_extra)
		memcpy(envp + n_env, extra, n_extra * sizeof(*envp));

	s->host = fork();
	if (s->host < 0) {
		free(envp);
		return false;
	}
	if (s->host == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 2) < 0 || chdir(s->scratch) != 0)
			_exit(126);
		if (as_nobody && (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0))
			_exit(125);
		execve(host_bin, argv, envp);
		_exit(127);
	}
	free(envp);

	arena *a = arena_new();
	hp_msg m;
	bool ok = a && sup_recv(s, a, &m) == 0 && m.type == HP_T_HELLO && m.u.hello_pid == s->host;
	arena_free(a);
	return ok;
}

static bool sup_start(sup *s, const char *name)
{
	return sup_start_ex(s, name, NULL, false);
}

/* The host's log so far; malloc'd, "" when unreadable. */
static char *sup_log(const sup *s)
{
	FILE *f = fopen(s->log, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while (f && m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	if (f)
		fclose(f);
	if (m)
		fclose(m);
	return buf ? buf : strdup("");
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* How many builder processes for key the host's log says it started. */
static size_t count_starts(const sup *s, const char *key)
{
	char needle[128];
	char *log = sup_log(s);
	snprintf(needle, sizeof(needle), "started builder %s ", key);
	size_t n = count_str(log, needle);
	free(log);
	return n;
}

/* Waits up to ms for the host to exit; returns its wait status or -1. */
static int sup_wait_host(sup *s, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;
	int st;
	while (ms_now() < end) {
		if (waitpid(s->host, &st, WNOHANG) == s->host) {
			s->host = 0;
			return st;
		}
		nap_ms(10);
	}
	return -1;
}

static void sup_stop(sup *s, bool dump_log)
{
	if (s->open)
		nng_close(s->s);
	s->open = false;
	if (s->host > 0) {
		kill(s->host, SIGKILL);
		waitpid(s->host, NULL, 0);
		s->host = 0;
	}
	if (dump_log) {
		char buf[4096];
		FILE *f = fopen(s->log, "r");
		fprintf(stderr, "---- %s ----\n", s->log);
		while (f && fgets(buf, sizeof(buf), f))
			fputs(buf, stderr);
		if (f)
			fclose(f);
	}
}

static uint64_t sup_send_run(sup *s, const hp_builder *b, const char *cwd, hp_bytes *frames, size_t n)
{
	msgpack_sbuffer sb;
	hp_run run = {.id = ++s->next_id, .builder = *b, .cwd = cwd, .frames = frames, .n_frames = n};
	msgpack_sbuffer_init(&sb);
	int rc = hp_encode_run(&sb, &run);
	if (rc == 0)
		rc = nng_send(s->s, sb.data, sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
	CHECK_EQ_INT(rc, 0);
	return run.id;
}

static void sup_send_simple(sup *s, bool cancel, uint64_t id)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	int rc = cancel ? hp_encode_cancel(&sb, id) : hp_encode_shutdown(&sb);
	if (rc == 0)
		rc = nng_send(s->s, sb.data, sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
	CHECK_EQ_INT(rc, 0);
}

/* Collects logs and replies of run id until it has n replies. */
static int sup_collect(sup *s, uint64_t id, size_t n, result *r)
{
	if (!r->a)
		r->a = arena_new();
	while (r->n_replies < n) {
		hp_msg m;
		if (sup_recv(s, r->a, &m) != 0)
			return -1;
		if (m.type == HP_T_LOG && m.u.log.id == id) {
			if (r->n_logs == r->cap_logs) {
				r->cap_logs = r->cap_logs ? r->cap_logs * 2 : 64;
				r->logs = realloc(r->logs, r->cap_logs * sizeof(*r->logs));
			}
			r->logs[r->n_logs++] = m.u.log;
		} else if (m.type == HP_T_REPLY && m.u.reply.id == id && r->n_replies < 16) {
			CHECK_EQ_INT(m.u.reply.idx, r->n_replies);
			r->reply_ms[r->n_replies] = ms_now();
			r->replies[r->n_replies++] = m.u.reply;
		} else if (m.type == HP_T_BUILDER && r->n_notes < 32) {
			r->notes[r->n_notes++] = m.u.builder;
		} else {
			r->unexpected++;
		}
	}
	return 0;
}

static int sup_run(sup *s, const hp_builder *b, const char *cwd, hp_bytes *frames, size_t n, result *r)
{
	memset(r, 0, sizeof(*r));
	uint64_t id = sup_send_run(s, b, cwd, frames, n);
	int rc = sup_collect(s, id, n, r);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(r->n_replies, n);
	CHECK_EQ_INT(r->unexpected, 0);
	return rc;
}

/* ---- frames ---- */

static hp_bytes take_sb(msgpack_sbuffer *sb)
{
	hp_bytes f = {(const uint8_t *)sb->data, sb->size};
	sb->data = NULL;
	sb->size = sb->alloc = 0;
	return f;
}

static hp_bytes frame_describe(void)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msg_encode_describe_req(&sb);
	return take_sb(&sb);
}

static hp_bytes frame_cj(const char *source)
{
	msgpack_sbuffer sb;
	const char *plats[] = {"pc"};
	char full[256];
	snprintf(full, sizeof(full), "/w/%s", source);
	msg_create_jobs_req req = {
	    .source_file = source,
	    .watch_folder = "/w",
	    .full_path = full,
	    .source_uuid = "00000000-0000-0000-0000-000000000001",
	    .builder_uuid = "6f1c0a3e-8a8e-4c57-9a4e-0d3c2b1a0e01",
	    .platforms = {plats, 1},
	};
	msgpack_sbuffer_init(&sb);
	msg_encode_create_jobs_req(&sb, &req);
	return take_sb(&sb);
}

/* A create_jobs request of several MiB: a long source name and many
 * platforms, so that request and reply are both far larger than a pipe. */
static hp_bytes frame_cj_big(size_t name_len, size_t n_plats)
{
	msgpack_sbuffer sb;
	char *name = malloc(name_len + 1);
	const char **plats = malloc(n_plats * sizeof(*plats));
	memset(name, 'n', name_len);
	name[name_len] = '\0';
	for (size_t i = 0; i < n_plats; i++)
		plats[i] = "platform-with-a-longish-name";
	msg_create_jobs_req req = {
	    .source_file = name,
	    .watch_folder = "/w",
	    .full_path = "/w/big",
	    .source_uuid = "00000000-0000-0000-0000-000000000001",
	    .builder_uuid = "6f1c0a3e-8a8e-4c57-9a4e-0d3c2b1a0e01",
	    .platforms = {plats, n_plats},
	};
	msgpack_sbuffer_init(&sb);
	msg_encode_create_jobs_req(&sb, &req);
	free(name);
	free(plats);
	return take_sb(&sb);
}

static void frames_free(hp_bytes *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((void *)f[i].data);
}

/* ---- queries on results ---- */

static int log_pid(const result *r, uint32_t idx)
{
	for (size_t i = 0; i < r->n_logs; i++)
		if (r->logs[i].idx == idx && strncmp(r->logs[i].message, "pid ", 4) == 0)
			return atoi(r->logs[i].message + 4);
	return -1;
}

static const hp_log *find_log(const result *r, msg_level lvl, const char *prefix)
{
	for (size_t i = 0; i < r->n_logs; i++)
		if (r->logs[i].level == lvl && strncmp(r->logs[i].message, prefix, strlen(prefix)) == 0)
			return &r->logs[i];
	return NULL;
}

static size_t count_logs(const result *r, const char *prefix)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_logs; i++)
		if (strncmp(r->logs[i].message, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static const char *ctx_get(const hp_log *l, const char *key)
{
	for (size_t i = 0; i < l->context.n; i++)
		if (strcmp(l->context.items[i].key, key) == 0)
			return l->context.items[i].value;
	return NULL;
}

static bool has(const char *s, const char *needle)
{
	bool ok = s && strstr(s, needle);
	if (!ok)
		fprintf(stderr, "  \"%s\" does not contain \"%s\"\n", s ? s : "(null)", needle);
	return ok;
}

/* ---- the tests ---- */

static hp_builder echo_spec(const char *key, bool persistent)
{
	hp_builder b = {
	    .key = key, .exec = echo_bin, .persistent = persistent, .timeout_s = 10, .memory_mb = 512};
	return b;
}

static hp_builder fault_spec(const char *key, uint32_t timeout_s)
{
	hp_builder b = {
	    .key = key, .exec = fault_bin, .persistent = true, .timeout_s = timeout_s, .memory_mb = 512};
	return b;
}

/* tb_fault started as "tb_fault MODE", persistent, with a 5 s timeout; mode
 * (one string) must outlive the spec. */
static hp_builder fault_mode_spec(const char *key, const char **mode)
{
	hp_builder b = fault_spec(key, 5);
	b.args = (msg_strs){mode, 1};
	return b;
}

/* One run of n frames (at most 16) for b, every one of them the request
 * frame; returns how long the run took, in ms. */
static uint64_t run_same(sup *s, const hp_builder *b, hp_bytes frame, size_t n, result *r)
{
	hp_bytes f[16];
	for (size_t i = 0; i < n && i < 16; i++)
		f[i] = frame;
	uint64_t t0 = ms_now();
	sup_run(s, b, "", f, n, r);
	return ms_now() - t0;
}

/* One create_jobs frame for b in cwd, which must succeed. r (OUT) holds the
 * result; returns its first info log that starts with prefix, or NULL. */
static const hp_log *run_ok(sup *s, const hp_builder *b, const char *cwd, const char *prefix, result *r)
{
	hp_bytes f[1] = {frame_cj("x")};
	sup_run(s, b, cwd, f, 1, r);
	CHECK_EQ_INT(r->replies[0].status, HP_OK);
	frames_free(f, 1);
	return find_log(r, MSG_LEVEL_INFO, prefix);
}

static int echo_pid; /* the persistent tb_echo of test_echo */

static void test_echo(sup *s)
{
	hp_builder b = echo_spec("echo", true);
	hp_bytes f[2] = {frame_describe(), frame_cj("a.txt")};
	result r;
	char err[256];

	sup_run(s, &b, "", f, 2, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	CHECK_EQ_INT(r.replies[1].status, HP_OK);
	CHECK_EQ_STR(r.replies[0].detail, "");

	arena *a = arena_new();
	msg_describe d;
	CHECK_EQ_INT(
	    msg_decode_describe(r.replies[0].frame.data, r.replies[0].frame.len, a, &d, err, sizeof(err)), 0);
	CHECK_EQ_STR(d.name, "tb_echo");
	CHECK_EQ_INT(d.patterns.n, 1);
	msg_create_jobs_resp cj;
	CHECK_EQ_INT(msg_decode_create_jobs_resp(r.replies[1].frame.data, r.replies[1].frame.len, a, &cj, err,
	                                         sizeof(err)),
	             0);
	CHECK_EQ_INT(cj.result, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(cj.n_jobs, 1);
	if (cj.n_jobs == 1) {
		CHECK_EQ_STR(cj.jobs[0].job_key, "echo");
		CHECK_EQ_STR(cj.jobs[0].platform, "pc");
	}
	arena_free(a);
	CHECK(r.replies[1].duration_us > 0);

	/* stderr lines become logs of the frame that was running, the level
	 * prefix stripped. */
	const hp_log *w = find_log(&r, MSG_LEVEL_WARNING, "careful with a.txt");
	const hp_log *e = find_log(&r, MSG_LEVEL_ERROR, "broken a.txt");
	const hp_log *i = find_log(&r, MSG_LEVEL_INFO, "just info");
	CHECK(w && w->idx == 1);
	CHECK(e && e->idx == 1);
	CHECK(i && i->idx == 1);
	echo_pid = log_pid(&r, 1);
	CHECK(echo_pid > 0);
	result_free(&r);
	frames_free(f, 2);

	/* A persistent builder serves the next run too. */
	hp_bytes g[1] = {frame_cj("b.txt")};
	sup_run(s, &b, "", g, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	CHECK_EQ_INT(log_pid(&r, 0), echo_pid);
	result_free(&r);
	frames_free(g, 1);
}

static void test_big(sup *s)
{
	hp_builder b = echo_spec("echo", true);
	hp_bytes f[1] = {frame_cj_big(3u << 20, 50000)};
	result r;
	char err[256];

	CHECK(f[0].len > (3u << 20));
	sup_run(s, &b, "", f, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	CHECK(r.replies[0].frame.len > (1u << 20));
	arena *a = arena_new();
	msg_create_jobs_resp cj;
	CHECK_EQ_INT(msg_decode_create_jobs_resp(r.replies[0].frame.data, r.replies[0].frame.len, a, &cj, err,
	                                         sizeof(err)),
	             0);
	CHECK_EQ_INT(cj.n_jobs, 50000);
	arena_free(a);
	/* tb_echo wrote "W: careful with <3 MiB name>": the line is cut at
	 * 8 KiB (prefix included) and the rest of it skipped, so the next
	 * line arrives as itself. */
	const hp_log *w = find_log(&r, MSG_LEVEL_WARNING, "careful with nnnn");
	CHECK(w && strlen(w->message) == 8192 - 3);
	const hp_log *e = find_log(&r, MSG_LEVEL_ERROR, "broken nnnn");
	CHECK(e && strlen(e->message) == 8192 - 3);
	CHECK(find_log(&r, MSG_LEVEL_INFO, "just info") != NULL);
	CHECK_EQ_INT(log_pid(&r, 0), echo_pid);
	result_free(&r);
	frames_free(f, 1);
}

static void test_oneshot(sup *s)
{
	hp_builder b = echo_spec("echo-oneshot", false);
	hp_bytes f[2] = {frame_cj("a.txt"), frame_cj("b.txt")};
	char job[PATH_MAX];
	result r;

	path_join(job, s->dir, "job1");
	mkdir(job, 0700);
	sup_run(s, &b, job, f, 2, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	CHECK_EQ_INT(r.replies[1].status, HP_OK);
	int p0 = log_pid(&r, 0), p1 = log_pid(&r, 1);
	CHECK(p0 > 0 && p1 > 0);
	CHECK(p0 != p1);
	CHECK(p0 != echo_pid && p1 != echo_pid);
	/* Each got a shutdown frame after its reply. */
	CHECK(pid_gone(p0, 3000));
	CHECK(pid_gone(p1, 3000));
	result_free(&r);
	frames_free(f, 2);
}

typedef struct fault_case {
	const char *mode;
	hp_status status;
	const char *detail; /* a substring of the expected detail */
} fault_case;

static void test_faults(sup *s)
{
	static const fault_case cases[] = {
	    {"segv", HP_CRASHED, "killed by signal 11 (Segmentation fault)"},
	    {"abort", HP_CRASHED, "killed by signal 6 (Aborted)"},
	    {"exit3", HP_CRASHED, "exited with code 3 before replying"},
	    {"exit0", HP_CRASHED, "exited with code 0 without replying"},
	    {"garbage", HP_PROTOCOL_ERROR, "over the 64 MiB limit"},
	    {"toobig", HP_PROTOCOL_ERROR, "frame length of 4294967295 bytes, over the 64 MiB limit"},
	    {"notmap", HP_PROTOCOL_ERROR, "not a map"},
	    {"wrongtype", HP_PROTOCOL_ERROR, "replied with type \"describe\" to a \"create_jobs\" request"},
	    {"badlog", HP_PROTOCOL_ERROR, "broken log frame"},
	    {"partial", HP_CRASHED, "exited with code 2 before replying (in the middle of a frame)"},
	    {"closeout", HP_CRASHED, "closed its output without replying"},
	};
	hp_builder b = fault_spec("fault", 5);
	result r;

	/* A first run to learn the pid of the persistent process. */
	hp_bytes f0[1] = {frame_cj("ok")};
	sup_run(s, &b, "", f0, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	int prev = log_pid(&r, 0);
	CHECK(prev > 0);
	result_free(&r);
	frames_free(f0, 1);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const fault_case *fc = &cases[i];
		hp_bytes f[2] = {frame_cj(fc->mode), frame_cj("ok")};
		sup_run(s, &b, "", f, 2, &r);
		fprintf(stderr, "fault %s: %s: %s\n", fc->mode, hp_status_name(r.replies[0].status),
		        r.replies[0].detail);
		CHECK_EQ_INT(r.replies[0].status, fc->status);
		CHECK(has(r.replies[0].detail, fc->detail));
		CHECK(r.replies[0].frame.data == NULL);
		/* The failed process is gone by the time of the reply... */
		CHECK(kill(prev, 0) != 0);
		/* ...and the next frame got a fresh one that works. */
		CHECK_EQ_INT(r.replies[1].status, HP_OK);
		int pid = log_pid(&r, 1);
		CHECK(pid > 0 && pid != prev);
		prev = pid;
		/* The supervisor heard of the crash and of the recovery. */
		CHECK_EQ_INT(r.n_notes, 2);
		if (r.n_notes == 2) {
			CHECK_EQ_STR(r.notes[0].key, "fault");
			CHECK_EQ_INT(r.notes[0].state, HP_BSTATE_BACKOFF);
			CHECK_EQ_INT(r.notes[0].crashes, 1);
			CHECK(has(r.notes[0].detail, "crashed 1 time in a row (last: "));
			CHECK(has(r.notes[0].detail, fc->detail));
			CHECK_EQ_INT(r.notes[1].state, HP_BSTATE_OK);
			CHECK_EQ_INT(r.notes[1].crashes, 0);
			CHECK_EQ_STR(r.notes[1].detail, "replied again after 1 crash in a row");
		}
		result_free(&r);
		frames_free(f, 2);
	}
}

static void test_timeout(sup *s)
{
	hp_builder b = fault_spec("fault", 1);
	hp_bytes f[2] = {frame_cj("hang"), frame_cj("ok")};
	result r;
	uint64_t t0 = ms_now();

	sup_run(s, &b, "", f, 2, &r);
	uint64_t took = ms_now() - t0;
	CHECK_EQ_INT(r.replies[0].status, HP_TIMEOUT);
	CHECK_EQ_STR(r.replies[0].detail, "no reply within 1 s");
	CHECK(r.replies[0].duration_us >= 1000000);
	CHECK(took >= 1000 && took < 4000);
	CHECK_EQ_INT(r.replies[1].status, HP_OK);
	result_free(&r);
	frames_free(f, 2);
}

static void test_stderr(sup *s)
{
	hp_builder b = fault_spec("fault", 10);
	result r;

	hp_bytes f[1] = {frame_cj("stderr")};
	sup_run(s, &b, "", f, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	const hp_log *w = find_log(&r, MSG_LEVEL_WARNING, "careful now");
	const hp_log *e = find_log(&r, MSG_LEVEL_ERROR, "this is bad");
	const hp_log *i = find_log(&r, MSG_LEVEL_INFO, "plain words");
	CHECK(w && strcmp(w->message, "careful now") == 0);
	CHECK(e && strcmp(e->message, "this is bad") == 0);
	CHECK(i != NULL);
	result_free(&r);
	frames_free(f, 1);

	/* 25,000 lines: 20,000 are forwarded, then one warning, and the reply
	 * still arrives. */
	hp_bytes g[1] = {frame_cj("flood")};
	sup_run(s, &b, "", g, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	CHECK_EQ_INT(count_logs(&r, "flood line"), 20000);
	const hp_log *t = find_log(&r, MSG_LEVEL_WARNING, "stderr truncated: ");
	CHECK(t != NULL);
	if (t) {
		CHECK(strtoull(t->message + strlen("stderr truncated: "), NULL, 10) >= 5000 * 70);
		CHECK(has(t->message, "more bytes dropped"));
		CHECK(t == &r.logs[r.n_logs - 1]);
	}
	result_free(&r);
	frames_free(g, 1);

	/* Endless stderr: the host keeps draining, the timeout ends it, and
	 * the tail holds the last lines. */
	hp_builder b1 = fault_spec("fault", 1);
	hp_bytes h[1] = {frame_cj("endless")};
	sup_run(s, &b1, "", h, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_TIMEOUT);
	CHECK(find_log(&r, MSG_LEVEL_WARNING, "stderr truncated: ") != NULL);
	CHECK(count_logs(&r, "endless line") <= 20000);
	CHECK_EQ_INT(r.replies[0].stderr_tail.n, 20);
	if (r.replies[0].stderr_tail.n == 20)
		CHECK(has(r.replies[0].stderr_tail.items[19], "endless line"));
	result_free(&r);
	frames_free(h, 1);
}

static void test_grandchild(sup *s)
{
	hp_builder b = fault_spec("fault", 10);
	hp_bytes f[2] = {frame_cj("fork"), frame_cj("ok")};
	result r;

	sup_run(s, &b, "", f, 2, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_CRASHED);
	CHECK(has(r.replies[0].detail, "exited with code 0 without replying"));
	const hp_log *l = find_log(&r, MSG_LEVEL_INFO, "grandchild ");
	CHECK(l != NULL);
	if (l) {
		pid_t gc = atoi(l->message + strlen("grandchild "));
		CHECK(gc > 0);
		CHECK(pid_gone(gc, 3000));
	}
	/* The tail of a failure carries the last stderr lines. */
	CHECK(r.replies[0].stderr_tail.n >= 1);
	CHECK_EQ_INT(r.replies[1].status, HP_OK);
	result_free(&r);
	frames_free(f, 2);
}

static void test_spawn_failure(sup *s)
{
	char missing[PATH_MAX], want[PATH_MAX + 64];
	result r;

	path_join(missing, s->dir, "no-such-builder");
	hp_builder b = {
	    .key = "missing", .exec = missing, .persistent = true, .timeout_s = 5, .memory_mb = 512};
	hp_bytes f[1] = {frame_cj("x")};
	sup_run(s, &b, "", f, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_SPAWN_FAILED);
	snprintf(want, sizeof(want), "cannot start %s: No such file or directory", missing);
	CHECK_EQ_STR(r.replies[0].detail, want);
	result_free(&r);

	/* A script whose #! interpreter is missing: execve says ENOENT, the
	 * detail names the interpreter rather than the script. */
	char script[PATH_MAX];
	path_join(script, s->dir, "badinterp.sh");
	FILE *sf = fopen(script, "w");
	CHECK(sf != NULL);
	if (sf) {
		fputs("#!/nonexistent/interp -x\nexit 0\n", sf);
		fclose(sf);
	}
	chmod(script, 0755);
	hp_builder bi = {
	    .key = "badinterp", .exec = script, .persistent = true, .timeout_s = 5, .memory_mb = 512};
	sup_run(s, &bi, "", f, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_SPAWN_FAILED);
	snprintf(want, sizeof(want),
	         "cannot start %s: its interpreter /nonexistent/interp (from the #! line) does not exist",
	         script);
	CHECK_EQ_STR(r.replies[0].detail, want);
	result_free(&r);

	/* Not executable (even root cannot run a file without an x bit). */
	chmod(script, 0644);
	sup_run(s, &bi, "", f, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_SPAWN_FAILED);
	snprintf(want, sizeof(want), "cannot start %s: Permission denied", script);
	CHECK_EQ_STR(r.replies[0].detail, want);
	result_free(&r);

	/* A script without a #! line. */
	sf = fopen(script, "w");
	if (sf) {
		fputs("exit 0\n", sf);
		fclose(sf);
	}
	chmod(script, 0755);
	sup_run(s, &bi, "", f, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_SPAWN_FAILED);
	CHECK(has(r.replies[0].detail, "Exec format error (a script needs a #! line)"));
	result_free(&r);

	/* A one-shot builder whose job folder is missing. */
	hp_builder b2 = echo_spec("echo-badcwd", false);
	sup_run(s, &b2, "/nonexistent-kiln-dir/job", f, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_SPAWN_FAILED);
	CHECK(has(r.replies[0].detail, "chdir /nonexistent-kiln-dir/job: No such file or directory"));
	result_free(&r);
	frames_free(f, 1);
}

static void test_sandbox(sup *s)
{
	char job[PATH_MAX];
	const char *args[] = {"env"};
	hp_builder b = {.key = "env",
	                .exec = fault_bin,
	                .args = {args, 1},
	                .persistent = false,
	                .timeout_s = 1,
	                .memory_mb = 256};
	result r;

	path_join(job, s->dir, "jobenv");
	mkdir(job, 0700);
	const hp_log *l = run_ok(s, &b, job, "env", &r);
	CHECK(l != NULL);
	if (l) {
		CHECK_EQ_STR(ctx_get(l, "cwd"), job);
		CHECK_EQ_STR(ctx_get(l, "tmpdir"), job);
		CHECK_EQ_STR(ctx_get(l, "secret"), "absent");
		CHECK_EQ_STR(ctx_get(l, "kiln_var"), "yes");
		CHECK_EQ_STR(ctx_get(l, "nofile"), "1024");
		CHECK_EQ_STR(ctx_get(l, "core"), "0");
		CHECK_EQ_STR(ctx_get(l, "cpu"), "12");
#ifdef __SANITIZE_ADDRESS__
		CHECK_EQ_STR(ctx_get(l, "as"), "unlimited");
#else
		CHECK_EQ_STR(ctx_get(l, "as"), "268435456");
#endif
		CHECK_EQ_STR(ctx_get(l, "fds"), "0,1,2");
		CHECK_EQ_STR(ctx_get(l, "own_group"), "yes");
		CHECK_EQ_STR(ctx_get(l, "sigpipe"), "default");
		CHECK_EQ_STR(ctx_get(l, "fsize"), "4294967296");
		CHECK_EQ_STR(ctx_get(l, "no_new_privs"), "1");
	}
	result_free(&r);

	/* A persistent builder works in the host's own scratch folder. */
	b.persistent = true;
	l = run_ok(s, &b, job, "env", &r);
	CHECK(l && ctx_get(l, "cwd") && strcmp(ctx_get(l, "cwd"), s->scratch) == 0);
	CHECK(l && ctx_get(l, "tmpdir") && strcmp(ctx_get(l, "tmpdir"), s->scratch) == 0);
	int pid = log_pid(&r, 0);
	result_free(&r);

	/* Reused with a longer timeout: the CPU backstop moves along, since
	 * RLIMIT_CPU counts the whole life of a persistent process. */
	b.timeout_s = 5;
	l = run_ok(s, &b, job, "env", &r);
	CHECK_EQ_INT(log_pid(&r, 0), pid);
	CHECK(l && ctx_get(l, "cpu") && strcmp(ctx_get(l, "cpu"), "20") == 0);
	result_free(&r);
}

static void test_stubborn(sup *s)
{
	char job[PATH_MAX];
	hp_builder b = {
	    .key = "stubborn", .exec = fault_bin, .persistent = false, .timeout_s = 5, .memory_mb = 512};
	hp_bytes f[1] = {frame_cj("stubborn")};
	result r;

	path_join(job, s->dir, "jobstubborn");
	mkdir(job, 0700);
	sup_run(s, &b, job, f, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	int pid = log_pid(&r, 0);
	CHECK(pid > 0);
	/* It ignores its shutdown frame: still there a moment later, killed
	 * after the 2 s grace. */
	nap_ms(1000);
	CHECK(pid > 0 && kill(pid, 0) == 0);
	CHECK(pid > 0 && pid_gone(pid, 3000));
	result_free(&r);
	frames_free(f, 1);
}

static void test_cancel(sup *s)
{
	hp_builder b = fault_spec("fault", 10);
	hp_bytes f[2] = {frame_cj("hang"), frame_cj("ok")};
	hp_bytes g[1] = {frame_cj("ok")};
	result r, r2;

	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	uint64_t t0 = ms_now();
	uint64_t id = sup_send_run(s, &b, "", f, 2);
	/* A second run queued behind it is not affected. */
	uint64_t id2 = sup_send_run(s, &b, "", g, 1);
	nap_ms(300);
	sup_send_simple(s, true, id);
	CHECK_EQ_INT(sup_collect(s, id, 2, &r), 0);
	CHECK_EQ_INT(r.replies[0].status, HP_CANCELLED);
	CHECK_EQ_INT(r.replies[1].status, HP_CANCELLED);
	CHECK(ms_now() - t0 < 3000);
	CHECK_EQ_INT(sup_collect(s, id2, 1, &r2), 0);
	CHECK_EQ_INT(r2.replies[0].status, HP_OK);
	CHECK(log_pid(&r2, 0) > 0);
	result_free(&r);
	result_free(&r2);
	frames_free(f, 2);
	frames_free(g, 1);
}

static int lru_pids[9];

static void test_lru(sup *s)
{
	char keys[9][16];
	hp_bytes f[1] = {frame_cj("x")};
	result r;

	for (int i = 0; i < 9; i++) {
		snprintf(keys[i], sizeof(keys[i]), "lru%d", i);
		hp_builder b = echo_spec(keys[i], true);
		sup_run(s, &b, "", f, 1, &r);
		CHECK_EQ_INT(r.replies[0].status, HP_OK);
		lru_pids[i] = log_pid(&r, 0);
		CHECK(lru_pids[i] > 0);
		result_free(&r);
	}
	/* Nine keys (plus the echo and fault builders from before) with room
	 * for eight: the least recently used ones were stopped. */
	CHECK(pid_gone(lru_pids[0], 4000));
	CHECK(pid_gone(echo_pid, 4000));
	for (int i = 1; i < 9; i++)
		CHECK(kill(lru_pids[i], 0) == 0);
	hp_builder b8 = echo_spec(keys[8], true);
	sup_run(s, &b8, "", f, 1, &r);
	CHECK_EQ_INT(log_pid(&r, 0), lru_pids[8]);
	result_free(&r);
	hp_builder b0 = echo_spec(keys[0], true);
	sup_run(s, &b0, "", f, 1, &r);
	CHECK(log_pid(&r, 0) > 0 && log_pid(&r, 0) != lru_pids[0]);
	lru_pids[0] = log_pid(&r, 0);
	result_free(&r);
	frames_free(f, 1);
}

static void test_shutdown(sup *s)
{
	sup_send_simple(s, false, 0);
	int st = sup_wait_host(s, 5000);
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 0; i < 9; i++)
		if (lru_pids[i] > 0)
			CHECK(pid_gone(lru_pids[i], 1000));
}

/* ---- the restart policy ---- */

static void check_note(const result *r, size_t i, const char *key, hp_bstate st, uint32_t crashes)
{
	CHECK(i < r->n_notes);
	if (i >= r->n_notes)
		return;
	CHECK_EQ_STR(r->notes[i].key, key);
	CHECK_EQ_INT(r->notes[i].state, st);
	CHECK_EQ_INT(r->notes[i].crashes, crashes);
}

/* A builder that crashes on every request, describe included: restarted
 * after 50, 100, 200 and 400 ms (plus jitter); after the fifth crash and
 * 800 ms more a fresh process is asked to describe itself, crashes, and the
 * builder is given up: frames are refused at once during the cool-down
 * (KILN_HOST_COOLDOWN_MS=1500 here), the next try after it is a probe again,
 * and a probe that works heals it and serves the frame. */
static void test_restart(sup *s)
{
	const char *segv[] = {"segvall"};
	hp_builder b = fault_mode_spec("crashy", segv);
	hp_bytes x = frame_cj("x");
	result r;

	uint64_t took = run_same(s, &b, x, 8, &r);
	for (size_t i = 0; i < 5; i++) {
		CHECK_EQ_INT(r.replies[i].status, HP_CRASHED);
		CHECK(has(r.replies[i].detail, "killed by signal 11"));
	}
	for (size_t i = 5; i < 8; i++) {
		CHECK_EQ_INT(r.replies[i].status, HP_SPAWN_FAILED);
		CHECK(has(r.replies[i].detail,
		          "builder given up after 5 crashes in a row and a failed describe (last: "
		          "killed by signal 11 (Segmentation fault)); next try in "));
	}
	/* The gaps: 50 + 100 + 200 + 400 + 800 ms at least, each at most a
	 * quarter more; the refusals cost nothing. */
	fprintf(stderr, "restart: 5 crashes, a failed probe and 3 refusals took %llu ms\n",
	        (unsigned long long)took);
	CHECK(took >= 1550 && took < 3500);
	CHECK(r.reply_ms[7] - r.reply_ms[5] < 100);
	CHECK(r.reply_ms[2] - r.reply_ms[1] >= 100);
	CHECK(r.reply_ms[4] - r.reply_ms[3] >= 400);
	CHECK(r.reply_ms[5] - r.reply_ms[4] >= 800);
	CHECK_EQ_INT(r.n_notes, 6);
	for (uint32_t i = 0; i < 5; i++)
		check_note(&r, i, "crashy", HP_BSTATE_BACKOFF, i + 1);
	if (r.n_notes == 6)
		CHECK(has(r.notes[4].detail, "asked to describe itself first"));
	check_note(&r, 5, "crashy", HP_BSTATE_GIVEN_UP, 5);
	if (r.n_notes == 6) {
		CHECK(has(r.notes[5].detail,
		          "builder given up after 5 crashes in a row and a failed describe"));
		/* The gaps and the cool-down travel as numbers too. */
		CHECK(r.notes[0].retry_ms >= 50 && r.notes[0].retry_ms <= 62);
		CHECK(r.notes[4].retry_ms >= 800 && r.notes[4].retry_ms <= 1000);
		CHECK_EQ_INT(r.notes[5].retry_ms, 1500);
	}
	CHECK_EQ_INT(count_starts(s, "crashy"), 6);
	result_free(&r);

	/* After the cool-down: one more try, a probe, which crashes, so the
	 * frames are refused at once again. */
	uint64_t given_up_at = ms_now();
	nap_ms(1600);
	run_same(s, &b, x, 2, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_SPAWN_FAILED);
	CHECK_EQ_INT(r.replies[1].status, HP_SPAWN_FAILED);
	CHECK(has(r.replies[1].detail, "given up after 5 crashes in a row and a failed describe"));
	CHECK_EQ_INT(r.n_notes, 1);
	check_note(&r, 0, "crashy", HP_BSTATE_GIVEN_UP, 5);
	CHECK_EQ_INT(count_starts(s, "crashy"), 7);
	given_up_at = ms_now();
	result_free(&r);

	/* Fixed (the same key without the crash argument): the probe works,
	 * and that process serves the frame. */
	hp_builder fixed = b;
	fixed.args.n = 0;
	while (ms_now() < given_up_at + 1600)
		nap_ms(50);
	hp_bytes g[1] = {frame_cj("ok")};
	sup_run(s, &fixed, "", g, 1, &r);
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	CHECK_EQ_INT(r.n_notes, 1);
	check_note(&r, 0, "crashy", HP_BSTATE_OK, 0);
	if (r.n_notes == 1)
		CHECK_EQ_STR(
		    r.notes[0].detail,
		    "described itself after 5 crashes in a row: the builder works, its inputs crashed it");
	CHECK_EQ_INT(count_starts(s, "crashy"), 8);
	result_free(&r);
	frames_free(g, 1);
	frames_free(&x, 1);
}

/* Bad inputs in a row: a builder that describes itself but crashes on
 * every file is never given up; the probe after the fifth crash heals it
 * and serves the next frame, and every frame is the builder's to fail. */
static void test_bad_inputs(sup *s)
{
	const char *segv[] = {"segv"};
	hp_builder b = fault_mode_spec("badinputs", segv);
	hp_bytes x = frame_cj("x");
	result r;
	run_same(s, &b, x, 8, &r);
	for (size_t i = 0; i < 8; i++)
		CHECK_EQ_INT(r.replies[i].status, HP_CRASHED);
	CHECK_EQ_INT(r.n_notes, 9);
	for (uint32_t i = 0; i < 5; i++)
		check_note(&r, i, "badinputs", HP_BSTATE_BACKOFF, i + 1);
	check_note(&r, 5, "badinputs", HP_BSTATE_OK, 0);
	for (uint32_t i = 0; i < 3; i++)
		check_note(&r, 6 + i, "badinputs", HP_BSTATE_BACKOFF, i + 1);
	/* Eight processes: the probe's served the sixth frame. */
	CHECK_EQ_INT(count_starts(s, "badinputs"), 8);
	char *log = sup_log(s);
	CHECK(strstr(log, "builder badinputs: builder given up") == NULL);
	free(log);
	result_free(&r);
	frames_free(&x, 1);
}

/* A builder that dies at every start, before reading anything (here: at
 * describe) does not spin: five starts and a probe, then frames are
 * refused. */
static void test_diestart(sup *s)
{
	const char *die[] = {"diestart"};
	hp_builder b = fault_mode_spec("diestart", die);
	hp_bytes d = frame_describe();
	result r;
	uint64_t took = run_same(s, &b, d, 7, &r);
	for (size_t i = 0; i < 5; i++) {
		CHECK_EQ_INT(r.replies[i].status, HP_CRASHED);
		CHECK(has(r.replies[i].detail, "exited with code 1 before replying"));
	}
	CHECK_EQ_INT(r.replies[5].status, HP_SPAWN_FAILED);
	CHECK_EQ_INT(r.replies[6].status, HP_SPAWN_FAILED);
	CHECK(has(r.replies[6].detail,
	          "given up after 5 crashes in a row and a failed describe (last: exited with "
	          "code 1 before replying)"));
	CHECK(took < 3500);
	CHECK_EQ_INT(count_starts(s, "diestart"), 6);
	result_free(&r);
	frames_free(&d, 1);
}

/* One bad file among many: each crash costs one short gap, and the builder
 * is never given up. */
static void test_one_bad_file(sup *s)
{
	static const char *const modes[12] = {"ok", "ok",   "segv", "ok", "ok",   "ok",
	                                      "ok", "segv", "ok",   "ok", "segv", "ok"};
	hp_builder b = fault_spec("mixed", 5);
	hp_bytes f[12];
	result r;
	for (size_t i = 0; i < 12; i++)
		f[i] = frame_cj(modes[i]);
	sup_run(s, &b, "", f, 12, &r);
	uint64_t worst = 0;
	for (size_t i = 0; i < 12; i++) {
		bool bad = strcmp(modes[i], "segv") == 0;
		CHECK_EQ_INT(r.replies[i].status, bad ? HP_CRASHED : HP_OK);
		if (bad && i + 1 < 12) {
			uint64_t gap = r.reply_ms[i + 1] - r.reply_ms[i];
			fprintf(stderr, "restart: crash reply to the next reply (a fresh builder): %llu ms\n",
			        (unsigned long long)gap);
			if (gap > worst)
				worst = gap;
		}
	}
	CHECK(worst >= 50 && worst < 400);
	CHECK_EQ_INT(r.n_notes, 6);
	for (size_t i = 0; i + 1 < r.n_notes; i += 2) {
		check_note(&r, i, "mixed", HP_BSTATE_BACKOFF, 1);
		check_note(&r, i + 1, "mixed", HP_BSTATE_OK, 0);
	}
	result_free(&r);
	frames_free(f, 12);
}

/* ---- memory ---- */

static void test_memory(sup *s)
{
	hp_builder b = {
	    .key = "eat", .exec = fault_bin, .persistent = true, .timeout_s = 20, .memory_mb = 128};
	hp_bytes f[2] = {frame_cj("eatmem"), frame_cj("ok")};
	result r;
	sup_run(s, &b, "", f, 2, &r);
#ifdef __SANITIZE_ADDRESS__
	/* No address-space limit under AddressSanitizer (see sandbox.c). */
	CHECK_EQ_INT(r.replies[0].status, HP_OK);
	CHECK(find_log(&r, MSG_LEVEL_INFO, "ate ") != NULL);
#else
	CHECK_EQ_INT(r.replies[0].status, HP_CRASHED);
	CHECK(has(r.replies[0].detail, "killed by signal 6 (Aborted)"));
	const hp_log *l = find_log(&r, MSG_LEVEL_ERROR, "out of memory after ");
	CHECK(l != NULL);
	if (l)
		CHECK(atoi(l->message + strlen("out of memory after ")) < 128);
#endif
	/* The host survived, and the next frame got a fresh builder. */
	CHECK_EQ_INT(r.replies[1].status, HP_OK);
	result_free(&r);
	frames_free(f, 2);
}

/* ---- isolation ---- */

typedef struct layers {
	bool netns;
	int landlock_abi;
} layers;

/* What this machine allows, found by the test itself and not from the
 * host's report, so that a host that says a layer is off when it could be
 * on (or the reverse) fails the test instead of making it expect escapes:
 * a user and network namespace as uid (with its id maps written, as the
 * host does), and Landlock's ABI version. */
static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static layers machine_layers(uid_t uid)
{
	layers out = {0};
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	out.landlock_abi = abi > 0 ? (int)abi : 0;
	pid_t pid = fork();
	if (pid == 0) {
		char map[64];
		if (uid != geteuid() && (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0))
			_exit(2);
		/* setuid() made the process undumpable, which makes its /proc
		 * files root's; the host, started by exec, is dumpable. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		gid_t gid = getegid();
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
			_exit(1);
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
		if (write_file("/proc/self/uid_map", map) != 0 ||
		    write_file("/proc/self/setgroups", "deny") != 0)
			_exit(1);
		snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
		_exit(write_file("/proc/self/gid_map", map) != 0);
	}
	int st = 0;
	if (pid > 0 && waitpid(pid, &st, 0) == pid)
		out.netns = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return out;
}

/* Reads which layers the host turned on from its one "sandbox:" line. */
static bool host_layers(const sup *s, layers *out)
{
	char *log = sup_log(s);
	const char *line = strstr(log, "] sandbox: process group");
	bool ok = line != NULL;
	memset(out, 0, sizeof(*out));
	if (line) {
		out->netns = strstr(line, "netns=on") != NULL;
		const char *ll = strstr(line, "landlock=on (ABI ");
		if (ll)
			out->landlock_abi = atoi(ll + strlen("landlock=on (ABI "));
		CHECK_EQ_INT(count_str(log, "] sandbox: process group"), 1);
	}
	free(log);
	return ok;
}

/* True when a connection waits on the listener (it is then accepted and
 * closed, so that the next check starts clean). */
static bool connection_arrived(void)
{
	for (int i = 0; i < 20; i++) {
		int fd = accept(listen_fd, NULL, NULL);
		if (fd >= 0) {
			close(fd);
			return true;
		}
		nap_ms(10);
	}
	return false;
}

/* Runs the env, net and writeout modes on host s and checks that each layer
 * the host must have (expect: from the machine, not from the host's report)
 * holds, and that what a missing layer would block gets through, so the
 * checks can tell the difference. */
static void check_isolation(sup *s, const char *label, const char *outside, uid_t uid, const layers *expect)
{
	layers ly = *expect;
	result r;
	char job[PATH_MAX], self_ns[64] = "", want[64], inside[PATH_MAX + 16];
	const hp_log *l;

	fprintf(stderr, "isolation %s: netns=%s landlock ABI %d\n", label, ly.netns ? "on" : "off",
	        ly.landlock_abi);
	ssize_t n = readlink("/proc/self/ns/net", self_ns, sizeof(self_ns) - 1);
	self_ns[n > 0 ? n : 0] = '\0';

	/* A one-shot builder in a job folder. */
	path_join(job, s->dir, "job");
	mkdir(job, 0777);
	chmod(job, 0777);
	const char *env_args[] = {"env"};
	hp_builder be = fault_mode_spec("env1", env_args);
	be.persistent = false;
	l = run_ok(s, &be, job, "env", &r);
	CHECK(l != NULL);
	if (l) {
		snprintf(want, sizeof(want), "%d", (int)uid);
		CHECK_EQ_STR(ctx_get(l, "uid"), want);
		CHECK_EQ_STR(ctx_get(l, "no_new_privs"), "1");
		const char *ns = ctx_get(l, "netns");
		CHECK(ns && (strcmp(ns, self_ns) != 0) == ly.netns);
		CHECK_EQ_STR(ctx_get(l, "kill_host"),
		             ly.landlock_abi >= 6 ? "Operation not permitted" : "allowed");
	}
	result_free(&r);

	/* The network: nothing reaches the test's listener. */
	const char *net_args[] = {"net"};
	hp_builder bn = fault_mode_spec("net", net_args);
	l = run_ok(s, &bn, "", "connect: ", &r);
	CHECK(l != NULL);
	bool arrived = connection_arrived();
	if (l)
		fprintf(stderr, "isolation %s: %s; arrived: %s\n", label, l->message, arrived ? "yes" : "no");
	if (ly.landlock_abi >= 4) {
		/* Landlock's hook runs before the stack sees the address. */
		CHECK(l && strcmp(l->message, "connect: Permission denied") == 0);
		CHECK(!arrived);
	} else if (ly.netns) {
		CHECK(l && strcmp(l->message, "connect: Network is unreachable") == 0);
		CHECK(!arrived);
	} else {
		CHECK(l && strcmp(l->message, "connect: connected") == 0);
		CHECK(arrived);
	}
	result_free(&r);

	/* Files: nothing appears outside the write root; the builder's own
	 * folder stays writable. */
	unlink(outside);
	snprintf(inside, sizeof(inside), "%s/inside.txt", s->scratch);
	unlink(inside);
	const char *w_args[] = {"writeout"};
	hp_builder bw = fault_mode_spec("writeout", w_args);
	l = run_ok(s, &bw, "", "write outside: ", &r);
	bool appeared = access(outside, F_OK) == 0;
	if (l)
		fprintf(stderr, "isolation %s: %s; appeared: %s\n", label, l->message,
		        appeared ? "yes" : "no");
	if (ly.landlock_abi > 0) {
		CHECK(l && strcmp(l->message, "write outside: Permission denied") == 0);
		CHECK(!appeared);
	} else {
		CHECK(l && strcmp(l->message, "write outside: written") == 0);
		CHECK(appeared);
	}
	l = find_log(&r, MSG_LEVEL_INFO, "write inside: ");
	CHECK(l && strcmp(l->message, "write inside: written") == 0);
	CHECK(access(inside, F_OK) == 0);
	unlink(outside);
	result_free(&r);
}

/* One host per KILN_SANDBOX setting (and one as nobody when root): each
 * says which layers it has, warns once per missing layer, and enforces
 * exactly those. */
static void test_isolation(void)
{
	static const struct {
		const char *name, *value;
		bool nobody;
	} cases[] = {
	    {"iso-default", NULL, false},
	    {"iso-none", "KILN_SANDBOX=none", false},
	    {"iso-netns", "KILN_SANDBOX=netns", false},
	    {"iso-landlock", "KILN_SANDBOX=landlock", false},
	    {"iso-nobody", NULL, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char outside[PATH_MAX + 16], outside_env[PATH_MAX + 64];
		sup s;
		if (cases[i].nobody && geteuid() != 0)
			continue;
		/* Outside the host's write root (its dir), in a folder anybody
		 * may write, so only the sandbox can stop the write. */
		snprintf(outside, sizeof(outside), "%s/outside/%s.txt", tmpdir, cases[i].name);
		snprintf(outside_env, sizeof(outside_env), "KILN_TEST_OUTSIDE=%s", outside);
		const char *extra[3] = {outside_env, cases[i].value, NULL};
		bool started = sup_start_ex(&s, cases[i].name, extra, cases[i].nobody);
		CHECK(started);
		if (started) {
			uid_t uid = cases[i].nobody ? NOBODY : geteuid();
			/* What the host must have: what the machine allows, less what
			 * KILN_SANDBOX turns off. */
			layers want = machine_layers(uid);
			if (cases[i].value && strcmp(cases[i].value, "KILN_SANDBOX=none") == 0)
				want = (layers){0};
			if (cases[i].value && strcmp(cases[i].value, "KILN_SANDBOX=netns") == 0)
				want.landlock_abi = 0;
			if (cases[i].value && strcmp(cases[i].value, "KILN_SANDBOX=landlock") == 0)
				want.netns = false;
			layers ly;
			CHECK(host_layers(&s, &ly));
			CHECK_EQ_INT(ly.netns, want.netns);
			CHECK_EQ_INT(ly.landlock_abi, want.landlock_abi);
			check_isolation(&s, cases[i].name, outside, uid, &want);
			char *log = sup_log(&s);
			/* A layer that is off is named once, with the reason. */
			CHECK_EQ_INT(count_str(log, "WARN [host-7] sandbox: netns=off: "), ly.netns ? 0 : 1);
			CHECK_EQ_INT(count_str(log, "WARN [host-7] sandbox: landlock=off: "),
			             ly.landlock_abi ? 0 : 1);
			if (cases[i].value && strcmp(cases[i].value, "KILN_SANDBOX=none") == 0) {
				CHECK(!ly.netns && ly.landlock_abi == 0);
				CHECK(has(log, "netns=off: turned off by KILN_SANDBOX"));
			}
			if (cases[i].value && strcmp(cases[i].value, "KILN_SANDBOX=netns") == 0)
				CHECK_EQ_INT(ly.landlock_abi, 0);
			if (cases[i].value && strcmp(cases[i].value, "KILN_SANDBOX=landlock") == 0)
				CHECK(!ly.netns);
			free(log);
		}
		sup_stop(&s, test_failed_ > 0 || getenv("KILN_HOST_TEST_LOG"));
	}
}

static void test_peer_gone(void)
{
	sup s;
	result r;
	CHECK(sup_start(&s, "peer"));
	hp_builder b = echo_spec("echo", true);
	hp_bytes f[1] = {frame_cj("x")};
	sup_run(&s, &b, "", f, 1, &r);
	int pid = log_pid(&r, 0);
	CHECK(pid > 0);
	result_free(&r);
	frames_free(f, 1);

	nng_close(s.s);
	s.open = false;
	int st = sup_wait_host(&s, 5000);
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(pid > 0 && pid_gone(pid, 2000));
	sup_stop(&s, st == -1);
}

int main(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	char *bindir = dirname(self);
	path_join(host_bin, bindir, "kiln-builder-host");
	path_join(echo_bin, bindir, "tb_echo");
	path_join(fault_bin, bindir, "tb_fault");
	if (access(host_bin, X_OK) != 0 || access(echo_bin, X_OK) != 0 || access(fault_bin, X_OK) != 0) {
		fprintf(stderr, "need kiln-builder-host, tb_echo and tb_fault beside %s\n", self);
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kiln-host-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	/* The host passes KILN_* on to builders and holds other variables back. */
	setenv("KILN_TEST_VAR", "yes", 1);
	setenv("SECRET_TOKEN", "hunter2", 1);
	/* A given-up builder gets its next try after 1.5 s instead of 60. */
	setenv("KILN_HOST_COOLDOWN_MS", "1500", 1);
	signal(SIGPIPE, SIG_IGN);

	/* The listener that sandboxed builders try to reach. */
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(listen_fd, 8) != 0 || getsockname(listen_fd, (struct sockaddr *)&sa, &salen) != 0)
		return 1;
	listen_port = ntohs(sa.sin_port);
	char port[16];
	snprintf(port, sizeof(port), "%d", listen_port);
	setenv("KILN_TEST_PORT", port, 1);
	/* Tests that run as nobody need to reach their folders. */
	chmod(tmpdir, 0755);
	char outside_dir[PATH_MAX];
	path_join(outside_dir, tmpdir, "outside");
	mkdir(outside_dir, 0777);
	chmod(outside_dir, 0777);

	sup s;
	bool started = sup_start(&s, "main");
	CHECK(started);
	if (started) {
		test_echo(&s);
		test_big(&s);
		test_oneshot(&s);
		test_faults(&s);
		test_timeout(&s);
		test_stderr(&s);
		test_grandchild(&s);
		test_spawn_failure(&s);
		test_sandbox(&s);
		test_cancel(&s);
		test_stubborn(&s);
		test_restart(&s);
		test_bad_inputs(&s);
		test_diestart(&s);
		test_one_bad_file(&s);
		test_memory(&s);
		test_lru(&s);
		test_shutdown(&s);
	}
	sup_stop(&s, test_failed_ > 0 || getenv("KILN_HOST_TEST_LOG"));
	test_peer_gone();
	test_isolation();
	close(listen_fd);

	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	TEST_DONE();
}
