/* tb_fault: a test builder that misbehaves on request.
 *
 * It speaks the protocol by hand (no SDK) so that it can break it. The mode
 * is argv[1] when given, otherwise the source_file of each create_jobs
 * request, so one persistent process can be asked to fail in many ways:
 *
 *   ok         log "pid N", reply success       segv, abort   die by signal
 *   exit3      _exit(3) before replying          exit0         _exit(0) without reply
 *   hang       never reply                       garbage       text instead of a frame
 *   toobig     a 4 GiB length prefix             notmap        a frame holding an array
 *   wrongtype  a describe reply to create_jobs   badlog        a log frame without message
 *   stderr     W:/E:/plain stderr lines, then ok flood         25,000 stderr lines, then ok
 *   endless    stderr lines forever              fork          fork a sleeping child, exit 0
 *   partial    half a frame, then _exit(2)       closeout      close stdout and sleep
 *   env        one log frame describing its sandbox (context), then ok
 *   stubborn   reply ok, then ignore shutdown and end of input
 *   net        connect to 127.0.0.1:$KILN_TEST_PORT, log how it went, then ok
 *   writeout   write $KILN_TEST_OUTSIDE and inside.txt in its cwd, log how
 *              each went, then ok
 *   eatmem     allocate and touch twice its address-space limit (or
 *              $KILN_TEST_EAT_MB MiB when unlimited) in 16 MiB steps; out of
 *              memory: an "E:" line and abort(); otherwise a log and ok
 *   diestart   (argv[1] only) exit 1 at start, before reading anything
 *   segvall    (argv[1] only) SIGSEGV on every request, describe included
 *
 * describe is always answered (except by segvall); shutdown and end of input
 * end the process. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "frame.h"
#include "kerr.h"
#include "msg.h"

static int stubborn; /* ignore shutdown and end of input */

static void send_sb(msgpack_sbuffer *sb)
{
	if (frame_write_fd(1, sb->data, sb->size) != 0)
		_exit(1);
}

static void send_log(const char *text, const msg_kv *kv, size_t n)
{
	msgpack_sbuffer sb;
	msg_log m = {.level = MSG_LEVEL_INFO, .message = text, .context = {(msg_kv *)kv, n}};
	msgpack_sbuffer_init(&sb);
	msg_encode_log(&sb, &m);
	send_sb(&sb);
	msgpack_sbuffer_destroy(&sb);
}

static void reply_ok(void)
{
	msgpack_sbuffer sb;
	msg_job_desc job = {.job_key = "fault", .platform = "pc"};
	msg_create_jobs_resp r = {.result = MSG_RESULT_SUCCESS, .jobs = &job, .n_jobs = 1};
	char text[64];
	snprintf(text, sizeof(text), "pid %d", (int)getpid());
	send_log(text, NULL, 0);
	msgpack_sbuffer_init(&sb);
	msg_encode_create_jobs_resp(&sb, &r);
	send_sb(&sb);
	msgpack_sbuffer_destroy(&sb);
}

static void reply_describe(void)
{
	msgpack_sbuffer sb;
	msg_describe d = {.name = "tb_fault",
	                  .uuid = "6f1c0a3e-8a8e-4c57-9a4e-0d3c2b1a0e02",
	                  .version = "1",
	                  .analysis_fingerprint = ""};
	msgpack_sbuffer_init(&sb);
	msg_encode_describe(&sb, &d);
	send_sb(&sb);
	msgpack_sbuffer_destroy(&sb);
}

static void raw(const void *p, size_t n)
{
	if (write(1, p, n) != (ssize_t)n)
		_exit(1);
}

static void __attribute__((noreturn)) hang(void)
{
	for (;;)
		sleep(1);
}

static void fmt_limit(char *buf, size_t n, int res)
{
	struct rlimit rl;
	getrlimit(res, &rl);
	if (rl.rlim_cur == RLIM_INFINITY)
		snprintf(buf, n, "unlimited");
	else
		snprintf(buf, n, "%llu", (unsigned long long)rl.rlim_cur);
}

static void report_env(void)
{
	char cwd[4096], nofile[32], core[32], as[32], cpu[32], fsize[32], fds[256] = "";
	struct sigaction sa;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
				continue;
			size_t l = strlen(fds), k = strlen(e->d_name);
			if (l + k + 2 > sizeof(fds))
				break;
			if (l)
				fds[l++] = ',';
			memcpy(fds + l, e->d_name, k + 1);
		}
		closedir(d);
	}
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "?");
	fmt_limit(nofile, sizeof(nofile), RLIMIT_NOFILE);
	fmt_limit(core, sizeof(core), RLIMIT_CORE);
	fmt_limit(as, sizeof(as), RLIMIT_AS);
	fmt_limit(cpu, sizeof(cpu), RLIMIT_CPU);
	fmt_limit(fsize, sizeof(fsize), RLIMIT_FSIZE);
	sigaction(SIGPIPE, NULL, &sa);
	char netns[64] = "?", uid[32], nnp[8], killhost[64];
	ssize_t nl = readlink("/proc/self/ns/net", netns, sizeof(netns) - 1);
	netns[nl > 0 ? nl : 0] = '\0';
	snprintf(uid, sizeof(uid), "%d", (int)getuid());
	snprintf(nnp, sizeof(nnp), "%d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	/* Signal 0 only asks whether a signal would be allowed. */
	snprintf(killhost, sizeof(killhost), "%s", kill(getppid(), 0) == 0 ? "allowed" : strerror(errno));
	const char *tmp = getenv("TMPDIR"), *kv = getenv("KILN_TEST_VAR");
	msg_kv ctx[] = {
	    {"cwd", cwd},
	    {"tmpdir", tmp ? tmp : ""},
	    {"secret", getenv("SECRET_TOKEN") ? "present" : "absent"},
	    {"kiln_var", kv ? kv : ""},
	    {"nofile", nofile},
	    {"core", core},
	    {"as", as},
	    {"cpu", cpu},
	    {"fds", fds},
	    {"own_group", getpgrp() == getpid() ? "yes" : "no"},
	    {"sigpipe", sa.sa_handler == SIG_DFL ? "default" : "changed"},
	    {"fsize", fsize},
	    {"netns", netns},
	    {"uid", uid},
	    {"no_new_privs", nnp},
	    {"kill_host", killhost},
	};
	send_log("env", ctx, sizeof(ctx) / sizeof(ctx[0]));
}

static void try_connect(void)
{
	char text[160];
	const char *port = getenv("KILN_TEST_PORT");
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)(port ? atoi(port) : 9));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		snprintf(text, sizeof(text), "connect: socket: %s", strerror(errno));
	else if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		snprintf(text, sizeof(text), "connect: %s", strerror(errno));
	else
		snprintf(text, sizeof(text), "connect: connected");
	if (fd >= 0)
		close(fd);
	send_log(text, NULL, 0);
}

static void try_write(const char *label, const char *path)
{
	char text[4200];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(text, sizeof(text), "write %s: %s", label, strerror(errno));
	} else {
		ssize_t w = write(fd, "escaped\n", 8);
		snprintf(text, sizeof(text), "write %s: %s", label, w == 8 ? "written" : strerror(errno));
		close(fd);
	}
	send_log(text, NULL, 0);
}

static void eat_memory(void)
{
	struct rlimit rl;
	size_t want_mb = 256, got_mb = 0;
	const char *env = getenv("KILN_TEST_EAT_MB");
	char text[96];

	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		want_mb = (size_t)(rl.rlim_cur >> 20) * 2;
	else if (env)
		want_mb = (size_t)atol(env);
	void *chain = NULL; /* each chunk starts with a pointer to the previous one */
	while (got_mb < want_mb) {
		char *p = malloc(16u << 20);
		if (!p) {
			fprintf(stderr, "E: out of memory after %zu MiB\n", got_mb);
			fflush(stderr);
			abort();
		}
		/* Touch every page so the memory is really used. */
		memset(p, 0x5a, 16u << 20);
		memcpy(p, &chain, sizeof(chain));
		chain = p;
		got_mb += 16;
	}
	snprintf(text, sizeof(text), "ate %zu MiB", got_mb);
	send_log(text, NULL, 0);
	while (chain) {
		void *prev;
		memcpy(&prev, chain, sizeof(prev));
		free(chain);
		chain = prev;
	}
}

static void act(const char *mode)
{
	if (strcmp(mode, "segv") == 0) {
		/* Sanitizer builds catch SIGSEGV themselves and exit instead. */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	} else if (strcmp(mode, "abort") == 0) {
		abort();
	} else if (strcmp(mode, "exit3") == 0) {
		_exit(3);
	} else if (strcmp(mode, "exit0") == 0) {
		_exit(0);
	} else if (strcmp(mode, "hang") == 0) {
		hang();
	} else if (strcmp(mode, "garbage") == 0) {
		raw("this is not a frame\n", 20);
		hang();
	} else if (strcmp(mode, "toobig") == 0) {
		raw("\xff\xff\xff\xff", 4);
		hang();
	} else if (strcmp(mode, "notmap") == 0) {
		raw("\x00\x00\x00\x03\x92\x01\x02", 7);
		hang();
	} else if (strcmp(mode, "wrongtype") == 0) {
		reply_describe();
		hang();
	} else if (strcmp(mode, "badlog") == 0) {
		/* {"type":"log","level":"info"}: no message. */
		static const char f[] = "\x00\x00\x00\x15\x82\xa4type\xa3log\xa5level\xa4info";
		raw(f, sizeof(f) - 1);
		hang();
	} else if (strcmp(mode, "stderr") == 0) {
		fprintf(stderr, "W: careful now\nE: this is bad\nplain words\n");
		reply_ok();
	} else if (strcmp(mode, "flood") == 0) {
		for (int i = 0; i < 25000; i++)
			fprintf(stderr,
			        "flood line %05d ........................................................\n",
			        i);
		reply_ok();
	} else if (strcmp(mode, "endless") == 0) {
		/* Long lines, so that the 2 MiB cap is reached quickly even when
		 * the host is slow (sanitizer builds). */
		char pad[1001];
		memset(pad, '.', 1000);
		pad[1000] = '\0';
		for (unsigned long i = 0;; i++)
			fprintf(stderr, "endless line %lu %s\n", i, pad);
	} else if (strcmp(mode, "fork") == 0) {
		pid_t pid = fork();
		if (pid == 0)
			hang();
		fprintf(stderr, "grandchild %d\n", (int)pid);
		_exit(0);
	} else if (strcmp(mode, "partial") == 0) {
		raw("\x00\x00\x00\x64\x82\xa4", 6);
		_exit(2);
	} else if (strcmp(mode, "closeout") == 0) {
		close(1);
		hang();
	} else if (strcmp(mode, "stubborn") == 0) {
		stubborn = 1;
		reply_ok();
	} else if (strcmp(mode, "env") == 0) {
		report_env();
		reply_ok();
	} else if (strcmp(mode, "net") == 0) {
		try_connect();
		reply_ok();
	} else if (strcmp(mode, "writeout") == 0) {
		const char *out = getenv("KILN_TEST_OUTSIDE");
		try_write("outside", out ? out : "/tmp/kiln-tb-fault-outside");
		try_write("inside", "inside.txt");
		reply_ok();
	} else if (strcmp(mode, "eatmem") == 0) {
		eat_memory();
		reply_ok();
	} else {
		reply_ok();
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "diestart") == 0)
		return 1;
	for (;;) {
		uint8_t *buf = NULL;
		size_t len = 0;
		char type[64], err[256];
		int rc = frame_read_fd(0, &buf, &len);
		if (rc != 0 && stubborn)
			hang();
		if (rc != 0)
			return rc == KILN_E_EOF ? 0 : 1;
		if (msg_peek_type(buf, len, type, sizeof(type), err, sizeof(err)) != 0) {
			free(buf);
			return 1;
		}
		if (strcmp(type, "shutdown") == 0) {
			free(buf);
			if (stubborn)
				hang();
			return 0;
		}
		if (argc > 1 && strcmp(argv[1], "segvall") == 0) {
			act("segv");
		} else if (strcmp(type, "describe") == 0) {
			reply_describe();
		} else if (strcmp(type, "create_jobs") == 0) {
			arena *a = arena_new();
			msg_create_jobs_req req;
			const char *mode = argc > 1 ? argv[1] : "ok";
			if (argc <= 1 && a &&
			    msg_decode_create_jobs_req(buf, len, a, &req, err, sizeof(err)) == 0)
				mode = req.source_file;
			act(mode);
			arena_free(a);
		} else {
			reply_ok();
		}
		free(buf);
	}
}
