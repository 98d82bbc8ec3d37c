/* host.c: the builder host's loop (host.h): one poll() over the supervisor's
 * socket, the builders' pipes and the self-pipe, the timers of the frame in
 * progress, and the host's setup and end. What the loop calls on is in the
 * other pieces, listed in host_priv.h. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "host_priv.h"
#include "klog.h"
#include "msg.h"
#include "restart.h"
#include "sandbox.h"

/* The self-pipe: the signal handler and NNG's pipe callback (on an NNG
 * thread) only write one byte to it, through host_wake(). */
static int wake_pipe[2] = {-1, -1};

/* Wakes the loop with event c: one write(), so it is async-signal-safe and
 * may be called from any thread. */
void host_wake(char c)
{
	ssize_t w = write(wake_pipe[1], &c, 1);
	(void)w;
}

static void on_signal(int sig)
{
	int saved = errno;
	host_wake(sig == SIGCHLD ? 'C' : 'T');
	errno = saved;
}

uint64_t host_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t host_now_ms(void)
{
	return host_now_us() / 1000u;
}

/* ---- timers ---- */

static void check_timers(host *h)
{
	cur_frame *c = &h->c;
	if (!c->active)
		return;
	uint64_t now = host_now_ms();
	if (c->eof_deadline_ms && now >= c->eof_deadline_ms) {
		serve_fail(h, HP_CRASHED, "closed its output without replying and did not exit within %d ms",
		           HOST_EOF_WAIT_MS);
	} else if (now >= c->deadline_ms) {
		serve_fail(h, HP_TIMEOUT, "no reply within %" PRIu32 " s", c->timeout_s);
	}
}

static int poll_timeout(const host *h)
{
	uint64_t now = host_now_ms(), next = UINT64_MAX;
	if (h->c.active) {
		next = h->c.deadline_ms;
		if (h->c.eof_deadline_ms && h->c.eof_deadline_ms < next)
			next = h->c.eof_deadline_ms;
	}
	for (const hb *b = h->builders; b; b = b->next)
		if (b->stopping && !b->killed && !b->reaped && b->kill_at_ms < next)
			next = b->kill_at_ms;
	if (h->defer_ms && h->defer_ms < next)
		next = h->defer_ms;
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	uint64_t d = next - now;
	return d > 60000 ? 60000 : (int)d;
}

/* ---- the loop ---- */

static void on_wake(host *h)
{
	char buf[64];
	for (;;) {
		ssize_t n = read(wake_pipe[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == 'T' && !h->quit) {
				klog(KLOG_INFO, "terminated by a signal");
				h->quit = true;
				h->graceful = true;
			} else if (buf[i] == 'P') {
				klog(KLOG_INFO, "the supervisor went away");
				h->quit = true;
				h->graceful = false;
			}
		}
	}
}

static int pfd_add(host *h, size_t *n, int fd, short events, pid_t pid)
{
	if (*n == h->pfd_cap) {
		size_t cap = h->pfd_cap ? h->pfd_cap * 2 : 32;
		struct pollfd *p = realloc(h->pfd, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		h->pfd = p;
		pid_t *q = realloc(h->pfd_pid, cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		h->pfd_pid = q;
		h->pfd_cap = cap;
	}
	h->pfd[*n] = (struct pollfd){.fd = fd, .events = events};
	h->pfd_pid[*n] = pid;
	(*n)++;
	return 0;
}

static int loop(host *h)
{
	while (!h->quit) {
		serve_advance(h);
		hb_gc(h);
		if (h->quit)
			break;

		size_t n = 0;
		int rc = pfd_add(h, &n, wake_pipe[0], POLLIN, 0);
		if (rc == 0)
			rc = pfd_add(h, &n, h->recv_fd, POLLIN, 0);
		for (hb *b = h->builders; b && rc == 0; b = b->next) {
			if (b->out_fd >= 0)
				rc = pfd_add(h, &n, b->out_fd, POLLIN, b->pid);
			if (rc == 0 && b->err_fd >= 0)
				rc = pfd_add(h, &n, b->err_fd, POLLIN, b->pid);
		}
		if (rc == 0 && serve_writing(h))
			rc = pfd_add(h, &n, h->c.b->in_fd, POLLOUT, h->c.b->pid);
		if (rc != 0) {
			klog(KLOG_ERROR, "out of memory in the event loop");
			return rc;
		}

		if (poll(h->pfd, n, poll_timeout(h)) < 0 && errno != EINTR) {
			rc = -errno;
			klog(KLOG_ERROR, "poll: %s", strerror(errno));
			return rc;
		}

		if (h->pfd[0].revents)
			on_wake(h);
		hb_reap_all(h);
		for (size_t i = 2; i < n && !h->quit; i++) {
			if (!h->pfd[i].revents)
				continue;
			/* The builder may have been killed or replaced by an
			 * earlier event of this round; match pid and descriptor. */
			hb *b = hb_by_pid(h, h->pfd_pid[i]);
			if (!b)
				continue;
			int fd = h->pfd[i].fd;
			if (fd == b->out_fd)
				out_read_stdout(h, b, false);
			else if (fd == b->err_fd)
				out_read_stderr(h, b, false);
			else if (fd == b->in_fd && hb_serving(h, b))
				serve_write(h);
		}
		if (!h->quit && h->pfd[1].revents)
			sup_receive(h);
		if (!h->quit)
			check_timers(h);
	}
	return 0;
}

/* Ends every builder: shutdown frames and a grace period when graceful,
 * then SIGKILL to every group that is left. */
static void stop_all(host *h, bool graceful)
{
	h->c.active = false;
	h->c.b = NULL;
	for (hb *b = h->builders; b; b = b->next) {
		if (graceful)
			hb_stop(b);
		/* Nobody reads their output any more. */
		child_close_fd(&b->out_fd);
		child_close_fd(&b->err_fd);
	}
	uint64_t deadline = host_now_ms() + (graceful ? HOST_STOP_GRACE_MS : 0);
	for (;;) {
		hb_reap_all(h);
		bool left = false;
		for (hb *b = h->builders; b; b = b->next)
			left = left || !b->reaped;
		uint64_t now = host_now_ms();
		if (!left || now >= deadline)
			break;
		struct pollfd p = {.fd = wake_pipe[0], .events = POLLIN};
		if (poll(&p, 1, (int)(deadline - now)) > 0) {
			char buf[64];
			while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
				;
		}
	}
	for (hb *b = h->builders; b; b = b->next)
		hb_kill(b);
	while (h->builders) {
		hb *b = h->builders;
		h->builders = b->next;
		hb_free(b);
	}
	serve_drop_all(h);
}

static int setup_signals(void)
{
	struct sigaction sa;
	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0)
		return -errno;
	return 0;
}

static int add_extra_write(host *h, const char *path)
{
	if (!path || !path[0])
		return 0;
	if (h->n_extra_write == HOST_MAX_EXTRA_WRITE) {
		klog(KLOG_WARN, "sandbox: more than %d extra writable paths; ignoring %s",
		     HOST_MAX_EXTRA_WRITE, path);
		return 0;
	}
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	h->extra_write[h->n_extra_write++] = p;
	return 0;
}

/* KILN_SANDBOX_WRITE: colon-separated files or folders that builders may
 * write besides the write root. KILN_TEST_CALL_LOG is a test hook: the
 * integration scenarios' builders append every request to that one file
 * (tests/integration/lib.sh). */
static int setup_extra_write(host *h)
{
	const char *env = getenv("KILN_SANDBOX_WRITE");
	char *copy = env ? strdup(env) : NULL;
	char *save = NULL;
	int rc = 0;
	if (env && !copy)
		return -ENOMEM;
	for (char *w = copy ? strtok_r(copy, ":", &save) : NULL; w && rc == 0; w = strtok_r(NULL, ":", &save))
		rc = add_extra_write(h, w);
	free(copy);
	if (rc == 0)
		rc = add_extra_write(h, getenv("KILN_TEST_CALL_LOG"));
	return rc;
}

/* Finds out which isolation layers this machine allows and says so once:
 * one INFO line with every layer, and one WARN line for each isolation
 * layer that is off (the missing memory limit of a sanitizer build is a
 * choice of the build, not news about the machine: INFO). */
static void setup_sandbox(host *h)
{
	sandbox_want want;
	char bad[256], extra[1024] = "";
	const char *env = getenv("KILN_SANDBOX");

	sandbox_want_parse(env, &want, bad, sizeof(bad));
	if (bad[0])
		klog(KLOG_WARN, "KILN_SANDBOX=%s: ignoring %s (known: netns, landlock, none)", env, bad);
	sandbox_probe(&want, h->write_root, &h->caps);
	char ll[64] = "off";
	if (h->caps.landlock_abi > 0)
		snprintf(ll, sizeof(ll), "on (ABI %d)", h->caps.landlock_abi);
	for (size_t i = 0; i < h->n_extra_write && h->caps.landlock_abi > 0; i++)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ", %s", h->extra_write[i]);
	klog(KLOG_INFO,
	     "sandbox: process group, clean environment, rlimits (%s, file size %llu MiB, "
	     "CPU 2 x timeout + 10 s, no core dumps, %u open files), no_new_privs; "
	     "memory=%s netns=%s landlock=%s; writes only below %s%s",
	     sandbox_memory_limited() ? "address space = memory_mb" : "no address-space limit",
	     (unsigned long long)(SANDBOX_FSIZE_BYTES >> 20), SANDBOX_NOFILE,
	     sandbox_memory_limited() ? "on" : "off", h->caps.netns ? "on" : "off", ll,
	     h->caps.landlock_abi > 0 ? h->write_root : "(anywhere: no Landlock)", extra);
	if (!sandbox_memory_limited())
		klog(KLOG_INFO, "sandbox: memory=off: this is a sanitizer build, whose shadow memory rules "
		                "out an address-space limit; builders may use any amount of memory");
	if (!h->caps.netns)
		klog(KLOG_WARN, "sandbox: netns=off: %s; builders can use the network%s", h->caps.net_why,
		     h->caps.landlock_abi >= 4 ? " (Landlock still denies TCP bind and connect)" : "");
	if (h->caps.landlock_abi <= 0)
		klog(KLOG_WARN, "sandbox: landlock=off: %s; builders can write wherever the host's user can",
		     h->caps.fs_why);
}

int host_main(const host_opts *o)
{
	host h;
	int rc = 0;

	memset(&h, 0, sizeof(h));
	h.id = o->id;
	h.recv_fd = -1;

	/* Orphans of builders (a grandchild whose parent died) are handed to
	 * the host instead of init, so they are reaped here and a killed
	 * process group leaves no zombies behind. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		klog(KLOG_WARN, "cannot become a child subreaper: %s", strerror(errno));
	h.scratch = getcwd(NULL, 0);
	if (!h.scratch) {
		rc = -errno;
		klog(KLOG_ERROR, "getcwd: %s", strerror(errno));
		goto out;
	}
	/* The supervisor starts each host in Cache/tmp/host-N and puts the
	 * jobs' temp dirs beside it (Cache/tmp/slot-N): the parent of the
	 * scratch folder holds every folder a builder is meant to write in. */
	char *sc = strdup(h.scratch);
	h.write_root = sc ? strdup(dirname(sc)) : NULL;
	free(sc);
	if (!h.write_root) {
		rc = -ENOMEM;
		klog(KLOG_ERROR, "out of memory");
		goto out;
	}
	msgpack_sbuffer_init(&h.probe_req);
	if (msg_encode_describe_req(&h.probe_req) != 0) {
		rc = -ENOMEM;
		klog(KLOG_ERROR, "out of memory");
		goto out;
	}
	h.cool_ms = RESTART_COOL_DOWN_MS;
	const char *cool = getenv("KILN_HOST_COOLDOWN_MS");
	if (cool && cool[0]) {
		/* A test knob: the cool-down of a given-up builder, so that a
		 * scenario can watch its next try without waiting a minute. */
		char *end = NULL;
		unsigned long long v = strtoull(cool, &end, 10);
		if (end && *end == '\0' && v > 0 && v <= 3600000ull)
			h.cool_ms = v;
	}
	if ((rc = setup_extra_write(&h)) != 0) {
		klog(KLOG_ERROR, "out of memory");
		goto out;
	}
	/* Before any thread exists: the probe forks. */
	setup_sandbox(&h);
	if ((rc = setup_signals()) != 0) {
		klog(KLOG_ERROR, "cannot set up signals: %s", strerror(-rc));
		goto out;
	}

	if ((rc = sup_connect(&h, o->url)) != 0)
		goto out;
	klog(KLOG_INFO, "connected to %s (pid %d, scratch %s)", o->url, (int)getpid(), h.scratch);

	rc = loop(&h);
	stop_all(&h, h.graceful && rc == 0);
	klog(KLOG_INFO, "exiting");
out:
	stop_all(&h, false);
	sup_close(&h);
	child_close_fd(&wake_pipe[0]);
	child_close_fd(&wake_pipe[1]);
	free(h.pfd);
	free(h.pfd_pid);
	free(h.scratch);
	free(h.write_root);
	msgpack_sbuffer_destroy(&h.probe_req);
	for (size_t i = 0; i < h.n_extra_write; i++)
		free(h.extra_write[i]);
	key_free_all(&h);
	return rc;
}
