/* pool.c: spawning, supervising and talking to builder hosts. */
#include "pool/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "frame.h"
#include "kerr.h"
#include "klog.h"
#include "path.h"

#define POOL_MAX_WATCH 8
/* The largest message a host may send: one builder frame and what goes with
 * it (stderr lines, the detail). NNG drops the connection of a peer that
 * sends more, so a host gone wrong cannot make the supervisor buffer an
 * unbounded message. */
#define HOST_MSG_MAX     ((size_t)FRAME_MAX + 1024u * 1024u)
#define START_TIMEOUT_MS 15000
#define GAP_MIN_MS       250
#define GAP_MAX_MS       10000
#define GIVE_UP_AFTER    8

typedef enum host_state { H_DOWN, H_STARTING, H_IDLE, H_BUSY } host_state;

/* A host takes a second run while it serves one, so it never waits for the
 * supervisor between two short jobs; free hosts are always chosen first. */
#define RUN_DEPTH 2

typedef struct hrun {
	uint64_t id;
	uint32_t n_frames;
	uint32_t answered;
	/* A cancel asked for and not yet handed to NNG (its send queue was
	 * full): check_timers() sends it again until it goes. */
	bool cancel_pending;
} hrun;

typedef struct host {
	int idx;
	host_state st;
	pid_t pid;
	bool sock_open;
	nng_socket sock;
	int recv_fd;
	char url[300];
	char sock_path[256];
	int64_t state_since;
	int64_t next_start; /* earliest restart time while DOWN */
	int fails;          /* deaths in a row without a completed run */
	/* the runs sent and not fully answered, oldest first */
	hrun runs[RUN_DEPTH];
	int nrun;
	int64_t last_msg;
	int64_t watchdog_ms;
	uint64_t begun_id; /* the run last announced through on_begin */
	bool killed_by_us;
	char kill_reason[128];
} host;

typedef struct watch {
	int fd;
	void (*cb)(void *ud, int fd);
	void *ud;
} watch;

struct pool {
	char *exe;
	char *work_dir;
	int log_fd;
	int n;
	host *hosts;
	pool_cb cb;
	int sig_fd;
	watch watches[POOL_MAX_WATCH];
	int n_watches;
	bool given_up;
	char sock_dir[256];
	bool own_sock_dir;
	/* pool_poll()'s descriptor set, sized once for every host the pool can
	 * have (1 signalfd + POOL_MAX_WATCH watches + n hosts). */
	struct pollfd *fds;
	host **owners;
};

int64_t pool_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sigset_t pool_sigset(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	return s;
}

void pool_block_signals(void)
{
	sigset_t s = pool_sigset();
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int pool_new(const char *host_exe, const char *sock_dir, const char *work_dir, int log_fd, int n,
             const pool_cb *cb, pool **out)
{
	pool *p = calloc(1, sizeof *p);
	int rc = -ENOMEM;
	if (!p)
		return -ENOMEM;
	p->sig_fd = -1;
	p->exe = strdup(host_exe);
	p->work_dir = strdup(work_dir);
	p->hosts = calloc((size_t)n, sizeof *p->hosts);
	p->fds = calloc((size_t)n + 1 + POOL_MAX_WATCH, sizeof *p->fds);
	p->owners = calloc((size_t)n, sizeof *p->owners);
	if (!p->exe || !p->work_dir || !p->hosts || !p->fds || !p->owners)
		goto fail;
	p->n = n;
	p->log_fd = log_fd;
	p->cb = *cb;
	/* A unix socket path holds at most 107 bytes; deep project folders get
	 * a private folder under /tmp instead. */
	if (strlen(sock_dir) + 20 < 100) {
		snprintf(p->sock_dir, sizeof p->sock_dir, "%s", sock_dir);
	} else {
		snprintf(p->sock_dir, sizeof p->sock_dir, "/tmp/kiln-%d-%d", (int)getuid(), (int)getpid());
		p->own_sock_dir = true;
	}
	rc = path_mkdirs(p->sock_dir, 0700);
	if (rc)
		goto fail;
	sigset_t s = pool_sigset();
	p->sig_fd = signalfd(-1, &s, SFD_NONBLOCK | SFD_CLOEXEC);
	if (p->sig_fd < 0) {
		rc = -errno;
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		host *h = &p->hosts[i];
		h->idx = i;
		h->st = H_DOWN;
		h->pid = -1;
		h->recv_fd = -1;
		snprintf(h->sock_path, sizeof h->sock_path, "%s/host-%d.sock", p->sock_dir, i);
		snprintf(h->url, sizeof h->url, "ipc://%s", h->sock_path);
	}
	*out = p;
	return 0;
fail:
	pool_free(p);
	return rc;
}

static int open_socket(pool *p, host *h)
{
	int rv;
	unlink(h->sock_path);
	if ((rv = nng_pair1_open(&h->sock)) != 0)
		goto fail;
	h->sock_open = true;
	if ((rv = nng_socket_set_ms(h->sock, NNG_OPT_SENDTIMEO, 5000)) != 0 ||
	    (rv = nng_socket_set_size(h->sock, NNG_OPT_RECVMAXSZ, HOST_MSG_MAX)) != 0 ||
	    (rv = nng_socket_set_int(h->sock, NNG_OPT_RECVBUF, 1024)) != 0)
		goto fail;
	if ((rv = nng_listen(h->sock, h->url, NULL, 0)) != 0)
		goto fail;
	/* Only the supervisor's user may talk to its hosts. */
	if (chmod(h->sock_path, 0600) != 0) {
		klog(KLOG_ERROR, "host %d: cannot make %s private: %s", h->idx, h->sock_path,
		     strerror(errno));
		nng_close(h->sock);
		h->sock_open = false;
		h->recv_fd = -1;
		return KILN_E_STATE;
	}
	if ((rv = nng_socket_get_int(h->sock, NNG_OPT_RECVFD, &h->recv_fd)) != 0)
		goto fail;
	(void)p;
	return 0;
fail:
	klog(KLOG_ERROR, "host %d: cannot listen on %s: %s", h->idx, h->url, nng_strerror(rv));
	if (h->sock_open)
		nng_close(h->sock);
	h->sock_open = false;
	h->recv_fd = -1;
	return KILN_E_STATE;
}

static int64_t gap_ms(int fails)
{
	int64_t g = GAP_MIN_MS;
	for (int i = 1; i < fails && g < GAP_MAX_MS; i++)
		g *= 2;
	if (g > GAP_MAX_MS)
		g = GAP_MAX_MS;
	uint32_t r = 0;
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint32_t)pool_now_ms();
	/* Up to 25% jitter so replacements of several hosts do not line up. */
	return g + (int64_t)(r % (uint32_t)(g / 4 + 1));
}

/* fork + exec of one host. Exec failure comes back through a close-on-exec
 * pipe; the child only makes async-signal-safe calls before exec. */
static int spawn_host(pool *p, host *h)
{
	char work[KILN_PATH_MAX], idbuf[16];
	int ep[2] = {-1, -1};
	if (!h->sock_open && open_socket(p, h) != 0)
		return KILN_E_STATE;
	snprintf(work, sizeof work, "%s/host-%d", p->work_dir, h->idx);
	int mrc = path_mkdirs(work, 0700);
	if (mrc) {
		klog(KLOG_ERROR, "host %d: cannot make its folder %s: %s", h->idx, work, kiln_strerror(mrc));
		return mrc;
	}
	snprintf(idbuf, sizeof idbuf, "%d", h->idx);
	if (pipe2(ep, O_CLOEXEC) != 0)
		return -errno;
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char *argv[] = {"kiln-builder-host", "--connect", h->url, "--id", idbuf, NULL};
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(ep[0]);
		close(ep[1]);
		if (devnull >= 0)
			close(devnull);
		return -e;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		for (int s = 1; s < NSIG; s++)
			signal(s, SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* A process group of its own: Ctrl-C at a terminal reaches the
		 * supervisor, which stops its hosts in order, and not the hosts
		 * behind its back. */
		setpgid(0, 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		if (p->log_fd >= 0) {
			dup2(p->log_fd, 1);
			dup2(p->log_fd, 2);
		}
		if (chdir(work) != 0) {
			/* stay where we are; the host reports its own folder */
		}
		execv(p->exe, argv);
		int e = errno;
		ssize_t w = write(ep[1], &e, sizeof e);
		(void)w;
		_exit(127);
	}
	close(ep[1]);
	if (devnull >= 0)
		close(devnull);
	int child_errno = 0;
	ssize_t r;
	do {
		r = read(ep[0], &child_errno, sizeof child_errno);
	} while (r < 0 && errno == EINTR);
	close(ep[0]);
	if (r == (ssize_t)sizeof child_errno) {
		int st;
		waitpid(pid, &st, 0);
		klog(KLOG_ERROR, "host %d: cannot start %s: %s", h->idx, p->exe, strerror(child_errno));
		return -child_errno;
	}
	h->pid = pid;
	h->st = H_STARTING;
	h->state_since = pool_now_ms();
	h->killed_by_us = false;
	h->kill_reason[0] = 0;
	klog(KLOG_INFO, "host %d: started, pid %d", h->idx, (int)pid);
	return 0;
}

static void host_failed_start(pool *p, host *h)
{
	h->fails++;
	h->st = H_DOWN;
	h->pid = -1;
	h->next_start = pool_now_ms() + gap_ms(h->fails);
	if (h->fails >= GIVE_UP_AFTER && !p->given_up) {
		bool all = true;
		for (int i = 0; i < p->n; i++)
			if (p->hosts[i].fails < GIVE_UP_AFTER)
				all = false;
		if (all) {
			p->given_up = true;
			klog(KLOG_ERROR, "builder hosts failed %d times in a row; given up", GIVE_UP_AFTER);
		}
	}
}

static int count_state(const pool *p, host_state st)
{
	int c = 0;
	for (int i = 0; i < p->n; i++)
		c += p->hosts[i].st == st;
	return c;
}

static host *pick_host(pool *p)
{
	host *best = NULL;
	for (int i = 0; i < p->n; i++) {
		host *h = &p->hosts[i];
		if ((h->st != H_IDLE && h->st != H_BUSY) || h->nrun >= RUN_DEPTH || h->killed_by_us)
			continue;
		if (!best || h->nrun < best->nrun)
			best = h;
	}
	return best;
}

bool pool_can_submit(pool *p)
{
	if (count_state(p, H_IDLE) > 0)
		return true;
	/* Start another host before doubling up on a busy one. */
	bool can_start = false;
	int64_t now0 = pool_now_ms();
	for (int i = 0; i < p->n; i++)
		if (p->hosts[i].st == H_DOWN && now0 >= p->hosts[i].next_start && !p->given_up)
			can_start = true;
	if (!can_start && count_state(p, H_STARTING) == 0 && pick_host(p))
		return true;
	if (count_state(p, H_STARTING) > 0)
		return false;
	int64_t now = pool_now_ms();
	for (int i = 0; i < p->n; i++) {
		host *h = &p->hosts[i];
		if (h->st == H_DOWN && now >= h->next_start && !p->given_up) {
			if (spawn_host(p, h) != 0)
				host_failed_start(p, h);
			break;
		}
	}
	return false;
}

void pool_ensure(pool *p, size_t want)
{
	size_t have = (size_t)(count_state(p, H_IDLE) + count_state(p, H_STARTING));
	int64_t now = pool_now_ms();
	for (int i = 0; i < p->n && have < want && !p->given_up; i++) {
		host *h = &p->hosts[i];
		if (h->st != H_DOWN || now < h->next_start)
			continue;
		if (spawn_host(p, h) != 0)
			host_failed_start(p, h);
		else
			have++;
	}
}

/* Says which run a host is serving now, once for each run: the first of its
 * queue, which the host works on while the second waits. */
static void announce_head(pool *p, host *h)
{
	if (h->nrun == 0 || h->runs[0].id == h->begun_id)
		return;
	h->begun_id = h->runs[0].id;
	if (p->cb.on_begin)
		p->cb.on_begin(p->cb.ud, h->begun_id, h->idx);
}

int pool_submit(pool *p, uint64_t id, const hp_builder *b, const char *cwd, const hp_bytes *frames, size_t n)
{
	host *h = pick_host(p);
	if (!h)
		return KILN_E_STATE;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	hp_run run = {
	    .id = id, .builder = *b, .cwd = cwd ? cwd : "", .frames = (hp_bytes *)frames, .n_frames = n};
	int rc = hp_encode_run(&sb, &run);
	if (rc) {
		msgpack_sbuffer_destroy(&sb);
		return rc;
	}
	int rv = nng_send(h->sock, sb.data, sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
	if (rv != 0) {
		klog(KLOG_WARN, "host %d: send failed: %s", h->idx, nng_strerror(rv));
		return KILN_E_STATE;
	}
	if (h->nrun == 0)
		h->last_msg = pool_now_ms();
	h->st = H_BUSY;
	h->runs[h->nrun++] =
	    (hrun){.id = id, .n_frames = (uint32_t)n, .answered = 0, .cancel_pending = false};
	h->watchdog_ms = ((int64_t)b->timeout_s + 30) * 1000;
	announce_head(p, h);
	return 0;
}

/* Hands a cancel for run r of h to NNG without waiting. Returns true once
 * it went; false leaves it pending for check_timers() to try again. */
static bool send_cancel(host *h, hrun *r)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	int rc = hp_encode_cancel(&sb, r->id);
	int rv = rc ? NNG_ENOMEM : nng_send(h->sock, sb.data, sb.size, NNG_FLAG_NONBLOCK);
	msgpack_sbuffer_destroy(&sb);
	if (rv != 0) {
		if (!r->cancel_pending)
			klog(KLOG_WARN, "host %d: cancel of run %llu not sent yet (%s); trying again", h->idx,
			     (unsigned long long)r->id, nng_strerror(rv));
		r->cancel_pending = true;
		return false;
	}
	r->cancel_pending = false;
	return true;
}

int pool_cancel(pool *p, uint64_t id)
{
	for (int i = 0; i < p->n; i++) {
		host *h = &p->hosts[i];
		if (h->st != H_BUSY)
			continue;
		for (int r = 0; r < h->nrun; r++) {
			if (h->runs[r].id != id)
				continue;
			send_cancel(h, &h->runs[r]);
			return 0;
		}
	}
	return KILN_E_NOTFOUND;
}

size_t pool_busy(const pool *p)
{
	size_t n = 0;
	for (int i = 0; i < p->n; i++)
		n += (size_t)p->hosts[i].nrun;
	return n;
}

bool pool_given_up(const pool *p)
{
	return p->given_up;
}

int pool_watch_fd(pool *p, int fd, void (*cb)(void *ud, int fd), void *ud)
{
	if (p->n_watches >= POOL_MAX_WATCH)
		return KILN_E_STATE;
	p->watches[p->n_watches++] = (watch){fd, cb, ud};
	return 0;
}

size_t pool_host_pids(const pool *p, int *pids, size_t max)
{
	size_t k = 0;
	for (int i = 0; i < p->n && k < max; i++)
		if (p->hosts[i].pid > 0)
			pids[k++] = p->hosts[i].pid;
	return k;
}

static void kill_host(host *h, const char *why)
{
	if (h->pid <= 0)
		return;
	h->killed_by_us = true;
	snprintf(h->kill_reason, sizeof h->kill_reason, "%s", why);
	kill(h->pid, SIGKILL);
}

static void host_died(pool *p, host *h, int status)
{
	char detail[256];
	if (h->killed_by_us)
		snprintf(detail, sizeof detail, "builder host %d (pid %d) was stopped: %s", h->idx,
		         (int)h->pid, h->kill_reason);
	else if (WIFSIGNALED(status))
		snprintf(detail, sizeof detail, "builder host %d (pid %d) was killed by signal %d (%s)",
		         h->idx, (int)h->pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(detail, sizeof detail, "builder host %d (pid %d) exited with code %d", h->idx,
		         (int)h->pid, WEXITSTATUS(status));
	klog(KLOG_WARN, "%s", detail);
	hrun lost[RUN_DEPTH];
	int nlost = h->nrun;
	memcpy(lost, h->runs, sizeof lost);
	h->nrun = 0;
	h->begun_id = 0;
	host_failed_start(p, h);
	/* The host serves runs in order: the first was under way; the ones
	 * queued behind it never began. */
	for (int r = 0; r < nlost; r++) {
		if (r > 0 && lost[r].answered == 0 && p->cb.on_requeue)
			p->cb.on_requeue(p->cb.ud, lost[r].id);
		else if (p->cb.on_lost)
			p->cb.on_lost(p->cb.ud, lost[r].id, lost[r].answered, detail);
	}
}

static void reap(pool *p)
{
	for (int i = 0; i < p->n; i++) {
		host *h = &p->hosts[i];
		if (h->pid <= 0)
			continue;
		int st;
		pid_t r = waitpid(h->pid, &st, WNOHANG);
		if (r == h->pid)
			host_died(p, h, st);
	}
}

static void read_signals(pool *p)
{
	struct signalfd_siginfo si;
	bool chld = false;
	while (read(p->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			chld = true;
		else if (p->cb.on_signal)
			p->cb.on_signal(p->cb.ud, (int)si.ssi_signo);
	}
	if (chld)
		reap(p);
}

static void handle_msg(pool *p, host *h, const uint8_t *buf, size_t len)
{
	char err[256];
	arena *a = arena_new();
	hp_msg m;
	if (!a)
		return;
	if (hp_decode(buf, len, a, &m, err, sizeof err) != 0) {
		klog(KLOG_ERROR, "host %d: bad message: %s", h->idx, err);
		kill_host(h, "it sent a message that does not decode");
		goto out;
	}
	h->last_msg = pool_now_ms();
	switch (m.type) {
	case HP_T_HELLO:
		if (h->st == H_STARTING) {
			h->st = H_IDLE;
			h->state_since = h->last_msg;
		}
		break;
	case HP_T_LOG:
		for (int r = 0; r < h->nrun; r++)
			if (h->runs[r].id == m.u.log.id && p->cb.on_log)
				p->cb.on_log(p->cb.ud, m.u.log.id, &m.u.log);
		break;
	case HP_T_REPLY: {
		int r = 0;
		while (r < h->nrun && h->runs[r].id != m.u.reply.id)
			r++;
		if (r == h->nrun)
			break; /* stale: the run was already given up */
		h->runs[r].answered = m.u.reply.idx + 1;
		if (h->runs[r].answered >= h->runs[r].n_frames) {
			memmove(&h->runs[r], &h->runs[r + 1], (size_t)(h->nrun - r - 1) * sizeof h->runs[0]);
			h->nrun--;
			if (!h->nrun)
				h->st = H_IDLE;
			h->fails = 0;
			p->given_up = false;
		}
		if (p->cb.on_reply)
			p->cb.on_reply(p->cb.ud, m.u.reply.id, &m.u.reply);
		announce_head(p, h);
		break;
	}
	case HP_T_BUILDER:
		if (p->cb.on_builder)
			p->cb.on_builder(p->cb.ud, h->idx, &m.u.builder);
		break;
	default:
		klog(KLOG_WARN, "host %d: unexpected message type %d", h->idx, (int)m.type);
		break;
	}
out:
	arena_free(a);
}

static void drain_host(pool *p, host *h)
{
	for (;;) {
		nng_msg *msg = NULL;
		int rv = nng_recvmsg(h->sock, &msg, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			return;
		if (rv != 0) {
			klog(KLOG_WARN, "host %d: receive failed: %s", h->idx, nng_strerror(rv));
			return;
		}
		handle_msg(p, h, nng_msg_body(msg), nng_msg_len(msg));
		nng_msg_free(msg);
	}
}

static void check_timers(pool *p)
{
	int64_t now = pool_now_ms();
	for (int i = 0; i < p->n; i++) {
		host *h = &p->hosts[i];
		for (int r = 0; r < h->nrun && h->st == H_BUSY; r++)
			if (h->runs[r].cancel_pending)
				send_cancel(h, &h->runs[r]);
		if (h->st == H_STARTING && now - h->state_since > START_TIMEOUT_MS && !h->killed_by_us)
			kill_host(h, "it did not connect in time");
		if (h->st == H_BUSY && now - h->last_msg > h->watchdog_ms && !h->killed_by_us)
			kill_host(h, "it stopped answering");
	}
}

int pool_poll(pool *p, int timeout_ms)
{
	struct pollfd *fds = p->fds;
	host **owners = p->owners;
	int nf = 0;
	fds[nf++] = (struct pollfd){.fd = p->sig_fd, .events = POLLIN};
	for (int i = 0; i < p->n_watches; i++)
		fds[nf++] = (struct pollfd){.fd = p->watches[i].fd, .events = POLLIN};
	int first_host = nf;
	int nh = 0;
	for (int i = 0; i < p->n; i++) {
		host *h = &p->hosts[i];
		if (h->recv_fd < 0)
			continue;
		owners[nh++] = h;
		fds[nf++] = (struct pollfd){.fd = h->recv_fd, .events = POLLIN};
	}
	/* Wake up for restarts and watchdogs even when nothing arrives. */
	int64_t now = pool_now_ms();
	int64_t wake = timeout_ms < 0 ? now + 1000 : now + timeout_ms;
	for (int i = 0; i < p->n; i++) {
		host *h = &p->hosts[i];
		if (h->st == H_DOWN && h->next_start > now && h->next_start < wake)
			wake = h->next_start;
	}
	int t = (int)(wake - now);
	if (t < 0)
		t = 0;
	if (t > 1000)
		t = 1000;
	int r = poll(fds, (nfds_t)nf, t);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		return -errno;
	}
	if (fds[0].revents)
		read_signals(p);
	for (int i = 0; i < p->n_watches; i++)
		if (fds[1 + i].revents)
			p->watches[i].cb(p->watches[i].ud, p->watches[i].fd);
	for (int i = 0; i < nh; i++)
		if (fds[first_host + i].revents)
			drain_host(p, owners[i]);
	check_timers(p);
	return 0;
}

void pool_free(pool *p)
{
	if (!p)
		return;
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	hp_encode_shutdown(&sb);
	for (int i = 0; p->hosts && i < p->n; i++) {
		host *h = &p->hosts[i];
		if (h->pid > 0 && h->sock_open && h->st != H_STARTING)
			nng_send(h->sock, sb.data, sb.size, NNG_FLAG_NONBLOCK);
		else if (h->pid > 0)
			kill(h->pid, SIGKILL); /* still starting: it has nothing to save */
	}
	msgpack_sbuffer_destroy(&sb);
	int64_t deadline = pool_now_ms() + 3000;
	for (int i = 0; p->hosts && i < p->n; i++) {
		host *h = &p->hosts[i];
		while (h->pid > 0) {
			int st;
			pid_t r = waitpid(h->pid, &st, WNOHANG);
			if (r == h->pid || (r < 0 && errno == ECHILD)) {
				h->pid = -1;
				break;
			}
			if (pool_now_ms() > deadline) {
				kill(h->pid, SIGKILL);
				waitpid(h->pid, &st, 0);
				h->pid = -1;
				break;
			}
			struct timespec ts = {0, 5 * 1000000};
			nanosleep(&ts, NULL);
		}
		if (h->sock_open)
			nng_close(h->sock);
		unlink(h->sock_path);
	}
	if (p->own_sock_dir)
		rmdir(p->sock_dir);
	if (p->sig_fd >= 0)
		close(p->sig_fd);
	free(p->hosts);
	free(p->fds);
	free(p->owners);
	free(p->exe);
	free(p->work_dir);
	free(p);
}
