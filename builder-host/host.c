/* host.c: the builder host's loop: runs in, frames to builders, logs and
 * replies out, and every way a builder can fail turned into one reply. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "arena.h"
#include "child.h"
#include "frame.h"
#include "hostproto.h"
#include "kerr.h"
#include "klog.h"
#include "lines.h"
#include "msg.h"
#include "restart.h"
#include "sandbox.h"
#include "host_priv.h"

/* The self-pipe: the signal handler and NNG's pipe callback (on an NNG
 * thread) only write one byte to it. */
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

/* ---- the frame in progress ---- */

/* The end of a probe: no reply (the frame it stands before has not started
 * yet). A builder that described itself stays and serves that frame; one
 * that did not is given up. A cancel teaches nothing: the next start is a
 * probe again. */
static void probe_finish(host *h, hp_status st, const char *detail)
{
	cur_frame *c = &h->c;
	hb *b = c->b;
	c->active = false;
	c->probe = false;
	c->b = NULL;
	lines_tail_clear(&b->err);
	if (st == HP_OK) {
		key_healthy(h, b->key, true);
		b->last_used_ms = host_now_ms();
		if (b->reaped)
			hb_stop(b);
		return;
	}
	hb_kill(b);
	if (st != HP_CANCELLED)
		key_probe_failed(h, b->key, detail);
}

/* Sends the frame's one reply and leaves the builder in the state the
 * outcome calls for. */
void serve_finish(host *h, hp_status st, const char *detail, const uint8_t *frame, size_t frame_len)
{
	cur_frame *c = &h->c;
	hb *b = c->b;
	const char *tail[LINES_TAIL];
	size_t ntail = 0;
	char warn[96];

	if (b) {
		/* Lines the builder wrote before its reply or its end are already
		 * in the pipe; they belong to this frame. */
		out_drain_stderr(h, b);
		ntail = lines_tail(&b->err, tail, LINES_TAIL);
	}
	if (c->probe) {
		probe_finish(h, st, detail);
		return;
	}
	if (c->err_dropped) {
		snprintf(warn, sizeof(warn), "stderr truncated: %" PRIu64 " more bytes dropped",
		         c->err_dropped);
		sup_send_log(h, c->id, c->idx, MSG_LEVEL_WARNING, warn, NULL);
	}
	/* The builder's new restart state goes out before the reply, so that
	 * the supervisor knows it when it handles the reply. Timeouts and
	 * cancels are not held against a builder: no spinning can come of
	 * them, each costs the builder its timeout. */
	if (b && b->persistent && st == HP_OK)
		key_healthy(h, b->key, false);
	else if (b && b->persistent && (st == HP_CRASHED || st == HP_PROTOCOL_ERROR))
		key_crashed(h, b->key, detail);
	hp_reply r = {
	    .id = c->id,
	    .idx = c->idx,
	    .status = st,
	    .detail = detail,
	    .frame = {frame, frame_len},
	    .stderr_tail = {st == HP_OK ? NULL : tail, st == HP_OK ? 0 : ntail},
	    .duration_us = host_now_us() - c->start_us,
	};
	sup_send_reply(h, &r);
	if (st != HP_OK)
		klog(st == HP_CANCELLED ? KLOG_INFO : KLOG_WARN,
		     "run %" PRIu64 " frame %" PRIu32 " (%s): %s: %s", c->id, c->idx, b ? hb_name(b) : "?",
		     hp_status_name(st), detail);

	c->active = false;
	c->b = NULL;
	h->next_idx++;
	if (!b)
		return;
	lines_tail_clear(&b->err);
	if (st != HP_OK)
		hb_kill(b);
	else if (!b->persistent || b->reaped)
		hb_stop(b);
	else
		b->last_used_ms = host_now_ms();
}

/* Kills the serving builder's group and answers the frame with st. */
void serve_fail(host *h, hp_status st, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (h->c.b)
		hb_kill(h->c.b);
	serve_finish(h, st, detail, NULL, 0);
}

/* The serving builder is gone (reaped) without a reply. */
void serve_crashed(host *h)
{
	hb *b = h->c.b;
	char st[128];
	const char *when = "";

	child_describe_status(b->wstatus, st, sizeof(st));
	if (WIFEXITED(b->wstatus))
		when = WEXITSTATUS(b->wstatus) ? " before replying" : " without replying";
	serve_fail(h, HP_CRASHED, "%s%s%s", st, when,
	           frame_reader_partial(&b->fr) ? " (in the middle of a frame)" : "");
}

void serve_write(host *h)
{
	cur_frame *c = &h->c;
	hb *b = c->b;
	size_t total = 4 + c->len;

	while (c->woff < total && !c->write_closed) {
		struct iovec iov[2];
		int n = 0;
		if (c->woff < 4) {
			iov[n++] = (struct iovec){c->prefix + c->woff, 4 - c->woff};
			iov[n++] = (struct iovec){(void *)c->data, c->len};
		} else {
			iov[n++] = (struct iovec){(void *)(c->data + (c->woff - 4)), total - c->woff};
		}
		ssize_t w = writev(b->in_fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w < 0) {
			/* The builder closed its stdin or is gone; its exit (or the
			 * timeout) will answer the frame. */
			klog(KLOG_INFO, "builder %s (pid %d) stopped reading its requests: %s", hb_name(b),
			     (int)b->pid, strerror(errno));
			c->write_closed = true;
			return;
		}
		c->woff += (size_t)w;
	}
}

bool serve_writing(const host *h)
{
	return h->c.active && !h->c.write_closed && h->c.woff < 4 + h->c.len && h->c.b->in_fd >= 0;
}

/* Starts frame next_idx of the head run: finds or starts its builder and
 * begins writing. Answers at once when that is impossible. */
static void frame_begin(host *h)
{
	qrun *q = h->head;
	const hp_run *run = &q->run;
	const hp_builder *spec = &run->builder;
	const hp_bytes *f = &run->frames[h->next_idx];
	cur_frame *c = &h->c;
	h->probe = (hp_bytes){(const uint8_t *)h->probe_req.data, h->probe_req.size};
	char err[512];
	hb *b = NULL;

	memset(c, 0, sizeof(*c));
	c->id = run->id;
	c->idx = h->next_idx;
	c->start_us = host_now_us();

	if (f->len > FRAME_MAX) {
		snprintf(err, sizeof(err), "request frame of %zu bytes is over the 64 MiB limit", f->len);
		sup_reply_plain(h, c->id, c->idx, HP_PROTOCOL_ERROR, err);
		h->next_idx++;
		return;
	}
	char why[256];
	if (msg_peek_type(f->data, f->len, c->req_type, sizeof(c->req_type), why, sizeof(why)) != 0) {
		snprintf(err, sizeof(err), "request frame is broken: %s", why);
		sup_reply_plain(h, c->id, c->idx, HP_PROTOCOL_ERROR, err);
		h->next_idx++;
		return;
	}

	c->timeout_s = spec->timeout_s ? spec->timeout_s : HOST_DEFAULT_TIMEOUT_S;
	if (spec->persistent)
		b = hb_find_persistent(h, spec);
	if (b) {
		int rc = sandbox_renew_cpu(b->pid, c->timeout_s);
		if (rc != 0)
			klog(KLOG_WARN, "cannot renew the CPU limit of builder %s (pid %d): %s", hb_name(b),
			     (int)b->pid, kiln_strerror(rc));
	} else {
		const char *cwd = h->scratch;
		const char *key = spec->key ? spec->key : "";
		hkey *k = spec->persistent ? key_find(h, key) : NULL;
		uint64_t wait = 0;
		restart_state rs = k ? restart_check(&k->r, host_now_ms(), &wait) : RESTART_OK;
		if (rs == RESTART_GIVEN_UP) {
			restart_describe(&k->r, host_now_ms(), err, sizeof(err));
			sup_reply_plain(h, c->id, c->idx, HP_SPAWN_FAILED, err);
			h->next_idx++;
			return;
		}
		if (rs == RESTART_BACKOFF) {
			/* Not started: serve_advance() comes back once the gap is over. */
			h->defer_ms = host_now_ms() + (wait ? wait : 1);
			return;
		}
		if (k && k->r.crashes > 0)
			klog(KLOG_INFO, "restarting builder %s (%" PRIu32 " crash%s in a row%s)", key,
			     k->r.crashes, k->r.crashes == 1 ? "" : "es",
			     rs == RESTART_PROBE ? "; it describes itself first" : "");
		if (!spec->persistent && run->cwd && run->cwd[0])
			cwd = run->cwd;
		if (spec->persistent)
			hb_make_room(h);
		if (hb_spawn(h, spec, cwd, &b, err, sizeof(err)) != 0) {
			klog(KLOG_WARN, "run %" PRIu64 " frame %" PRIu32 ": %s", c->id, c->idx, err);
			if (rs == RESTART_PROBE)
				key_probe_failed(h, key, err);
			else if (spec->persistent)
				key_crashed(h, key, err);
			sup_reply_plain(h, c->id, c->idx, HP_SPAWN_FAILED, err);
			h->next_idx++;
			return;
		}
		if (rs == RESTART_PROBE) {
			/* The frame waits; the fresh process first answers the host's
			 * describe request (probe_finish()). */
			c->probe = true;
			c->timeout_s =
			    c->timeout_s < HOST_PROBE_TIMEOUT_S ? c->timeout_s : HOST_PROBE_TIMEOUT_S;
			snprintf(c->req_type, sizeof(c->req_type), "describe");
			f = &h->probe;
		}
	}
	lines_tail_clear(&b->err);
	c->active = true;
	c->b = b;
	c->deadline_ms = host_now_ms() + (uint64_t)c->timeout_s * 1000u;
	frame_put_len(c->prefix, (uint32_t)f->len);
	c->data = f->data;
	c->len = f->len;
	b->last_used_ms = host_now_ms();
	serve_write(h);
}

static void run_pop(host *h)
{
	qrun *q = h->head;
	h->defer_ms = 0;
	h->head = q->next;
	if (!h->head)
		h->tail = NULL;
	h->next_idx = 0;
	arena_free(q->a);
	free(q);
}

/* Queues run, whose strings and frames live in a; the queued run owns a
 * from then on. Returns 0, or -ENOMEM when a stays the caller's. */
int serve_enqueue(host *h, arena *a, const hp_run *run)
{
	qrun *q = calloc(1, sizeof(*q));
	if (!q) {
		/* Without memory there is no way to answer either; the
		 * supervisor's own timeout covers it. */
		klog(KLOG_ERROR, "out of memory queueing run %" PRIu64, run->id);
		return -ENOMEM;
	}
	q->a = a;
	q->run = *run;
	if (h->tail)
		h->tail->next = q;
	else
		h->head = q;
	h->tail = q;
	klog(KLOG_DEBUG, "run %" PRIu64 ": %zu frame(s) for builder %s", q->run.id, q->run.n_frames,
	     q->run.builder.key ? q->run.builder.key : "");
	return 0;
}

/* Frees every queued run without a reply (the host is ending). */
void serve_drop_all(host *h)
{
	while (h->head)
		run_pop(h);
}

/* Starts frames until one is in flight, one waits for a restart gap, or
 * nothing is left. */
void serve_advance(host *h)
{
	while (!h->quit && !h->c.active && h->head) {
		if (h->next_idx >= h->head->run.n_frames) {
			run_pop(h);
			continue;
		}
		if (h->defer_ms) {
			if (host_now_ms() < h->defer_ms)
				return;
			h->defer_ms = 0;
		}
		frame_begin(h);
		if (h->defer_ms)
			return;
	}
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

/* ---- supervisor messages ---- */

void serve_cancel(host *h, uint64_t id)
{
	if (h->head && h->head->run.id == id) {
		klog(KLOG_INFO, "run %" PRIu64 " cancelled", id);
		if (h->c.active)
			serve_fail(h, HP_CANCELLED, "cancelled by the supervisor");
		/* Every frame gets its one reply, including those that never
		 * started. */
		while (h->next_idx < h->head->run.n_frames) {
			sup_reply_plain(h, id, h->next_idx, HP_CANCELLED,
			                "run cancelled before this frame started");
			h->next_idx++;
		}
		return;
	}
	for (qrun **pp = h->head ? &h->head->next : NULL; pp && *pp; pp = &(*pp)->next) {
		qrun *q = *pp;
		if (q->run.id != id)
			continue;
		klog(KLOG_INFO, "run %" PRIu64 " cancelled before it started", id);
		for (size_t i = 0; i < q->run.n_frames; i++)
			sup_reply_plain(h, id, (uint32_t)i, HP_CANCELLED,
			                "run cancelled before this frame started");
		*pp = q->next;
		if (h->tail == q) {
			h->tail = h->head;
			while (h->tail->next)
				h->tail = h->tail->next;
		}
		arena_free(q->a);
		free(q);
		return;
	}
	klog(KLOG_DEBUG, "cancel for run %" PRIu64 ", which is not here", id);
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
