/* builders.c: the builder host's records of builder processes: starting
 * one in its sandbox, finding a persistent one again, stopping, killing,
 * reaping and freeing them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "frame.h"
#include "host_priv.h"
#include "klog.h"
#include "lines.h"
#include "msg.h"
#include "sandbox.h"

extern char **environ;

/* ---- builder records ---- */

const char *hb_name(const hb *b)
{
	return b->key && b->key[0] ? b->key : b->exec;
}

void hb_free(hb *b)
{
	if (!b)
		return;
	child_close_fd(&b->in_fd);
	child_close_fd(&b->out_fd);
	child_close_fd(&b->err_fd);
	frame_reader_free(&b->fr);
	lines_free(&b->err);
	if (b->argv) {
		for (size_t i = 0; b->argv[i]; i++)
			free(b->argv[i]);
		free(b->argv);
	}
	free(b->key);
	free(b->exec);
	free(b);
}

hb *hb_by_pid(host *h, pid_t pid)
{
	for (hb *b = h->builders; b; b = b->next)
		if (b->pid == pid)
			return b;
	return NULL;
}

bool hb_serving(const host *h, const hb *b)
{
	return h->c.active && h->c.b == b;
}

static bool hb_alive(const hb *b)
{
	return !b->reaped && !b->killed && !b->stopping;
}

static void log_exit(const hb *b, klog_level lvl)
{
	char st[128];
	child_describe_status(b->wstatus, st, sizeof(st));
	klog(lvl, "builder %s (pid %d) %s", hb_name(b), (int)b->pid, st);
}

/* SIGKILL to the builder's group, then a bounded wait for its exit. */
void hb_kill(hb *b)
{
	if (b->reaped)
		return;
	child_kill_group(b->pid);
	b->killed = true;
	int st;
	int rc = child_wait(b->pid, HOST_KILL_WAIT_MS, &st);
	if (rc == 1) {
		b->reaped = true;
		b->wstatus = st;
		log_exit(b, KLOG_INFO);
	} else if (rc == 0) {
		klog(KLOG_WARN, "builder %s (pid %d) still running %d ms after SIGKILL", hb_name(b),
		     (int)b->pid, HOST_KILL_WAIT_MS);
	}
}

/* Asks the builder to exit: a shutdown frame, then end of stdin; SIGKILL
 * follows after HOST_STOP_GRACE_MS if it is still there. */
void hb_stop(hb *b)
{
	if (b->reaped || b->stopping)
		return;
	if (b->in_fd >= 0) {
		msgpack_sbuffer sb;
		msgpack_sbuffer_init(&sb);
		if (msg_encode_shutdown(&sb) == 0) {
			uint8_t pre[4];
			frame_put_len(pre, (uint32_t)sb.size);
			struct iovec iov[2] = {{pre, 4}, {sb.data, sb.size}};
			/* Best effort: the frame is tiny and the pipe normally empty;
			 * if it does not fit, end of stdin says the same. */
			ssize_t w = writev(b->in_fd, iov, 2);
			(void)w;
		}
		msgpack_sbuffer_destroy(&sb);
		child_close_fd(&b->in_fd);
	}
	b->stopping = true;
	b->kill_at_ms = host_now_ms() + HOST_STOP_GRACE_MS;
}

static char *join_path(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* Starts a builder process for spec with working directory cwd. On failure
 * err holds the sentence for the reply. */
int hb_spawn(host *h, const hp_builder *spec, const char *cwd, hb **out, char *err, size_t errsz)
{
	hb *b = NULL;
	char **env = NULL;
	child_proc cp;
	child_spec cs;
	int rc = -ENOMEM;
	const char *exec = spec->exec ? spec->exec : "";

	*out = NULL;
	if (exec[0] == '\0') {
		snprintf(err, errsz, "cannot start a builder: no executable given");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		goto nomem;
	b->in_fd = b->out_fd = b->err_fd = -1;
	b->pid = -1;
	frame_reader_init(&b->fr);
	lines_init(&b->err);
	b->key = strdup(spec->key ? spec->key : "");
	/* A relative path would otherwise be resolved against the builder's
	 * own working directory, which differs per job. */
	b->exec = exec[0] == '/' ? strdup(exec) : join_path(h->scratch, exec);
	b->argv = calloc(spec->args.n + 2, sizeof(char *));
	if (!b->key || !b->exec || !b->argv)
		goto nomem;
	b->argv[0] = strdup(b->exec);
	if (!b->argv[0])
		goto nomem;
	for (size_t i = 0; i < spec->args.n; i++) {
		b->argv[i + 1] = strdup(spec->args.items[i] ? spec->args.items[i] : "");
		if (!b->argv[i + 1])
			goto nomem;
	}
	b->memory_mb = spec->memory_mb;
	b->persistent = spec->persistent;
	if (sandbox_env_build(environ, cwd, &env) != 0)
		goto nomem;

	cs.exec = b->exec;
	cs.argv = b->argv;
	cs.envp = env;
	cs.cwd = cwd;
	sandbox_limits_for(spec->memory_mb, spec->timeout_s ? spec->timeout_s : HOST_DEFAULT_TIMEOUT_S,
	                   &cs.limits);
	cs.iso = (sandbox_iso){.netns = h->caps.netns, .ruleset_fd = -1, .uid = geteuid(), .gid = getegid()};
	if (h->caps.landlock_abi > 0) {
		/* The write root holds every job's temp dir; a one-shot builder's
		 * own folder is added in case a caller put it elsewhere. */
		const char *paths[HOST_MAX_EXTRA_WRITE + 2] = {h->write_root, cwd};
		size_t np = 2;
		for (size_t i = 0; i < h->n_extra_write; i++)
			paths[np++] = h->extra_write[i];
		char why[256];
		rc =
		    sandbox_fs_ruleset(h->caps.landlock_abi, paths, np, &cs.iso.ruleset_fd, why, sizeof(why));
		if (rc != 0) {
			snprintf(err, errsz, "cannot start %s: sandbox: %s", b->exec, why);
			goto fail;
		}
	}
	rc = child_spawn(&cs, &cp, err, errsz);
	child_close_fd(&cs.iso.ruleset_fd);
	sandbox_env_free(env);
	env = NULL;
	if (rc != 0)
		goto fail;
	b->pid = cp.pid;
	b->in_fd = cp.in_fd;
	b->out_fd = cp.out_fd;
	b->err_fd = cp.err_fd;
	b->last_used_ms = host_now_ms();
	b->next = h->builders;
	h->builders = b;
	klog(KLOG_INFO, "started builder %s (pid %d, %s): %s in %s", hb_name(b), (int)b->pid,
	     b->persistent ? "persistent" : "one-shot", b->exec, cwd);
	*out = b;
	return 0;
nomem:
	snprintf(err, errsz, "cannot start %s: out of memory", exec);
	rc = -ENOMEM;
fail:
	sandbox_env_free(env);
	hb_free(b);
	return rc;
}

static bool same_args(const hb *b, const hp_builder *spec)
{
	size_t i = 0;
	for (; i < spec->args.n; i++) {
		const char *a = spec->args.items[i] ? spec->args.items[i] : "";
		if (!b->argv[i + 1] || strcmp(b->argv[i + 1], a) != 0)
			return false;
	}
	return b->argv[i + 1] == NULL;
}

/* The running persistent builder for spec's key. One whose executable,
 * arguments or memory limit no longer match is stopped instead: the
 * supervisor changed the builder's configuration. */
hb *hb_find_persistent(host *h, const hp_builder *spec)
{
	const char *key = spec->key ? spec->key : "";
	for (hb *b = h->builders; b; b = b->next) {
		if (!b->persistent || !hb_alive(b) || strcmp(b->key, key) != 0)
			continue;
		const char *exec = spec->exec ? spec->exec : "";
		bool same_exec = exec[0] == '/' ? strcmp(b->exec, exec) == 0
		                                : strlen(b->exec) > strlen(h->scratch) + 1 &&
		                                      strcmp(b->exec + strlen(h->scratch) + 1, exec) == 0;
		if (same_exec && same_args(b, spec) && b->memory_mb == spec->memory_mb)
			return b;
		klog(KLOG_INFO, "builder %s (pid %d) was configured differently; stopping it", hb_name(b),
		     (int)b->pid);
		hb_stop(b);
	}
	return NULL;
}

/* Keeps at most HOST_MAX_PERSISTENT - 1 persistent builders alive, so that
 * one more fits: the least recently used ones are stopped. */
void hb_make_room(host *h)
{
	for (;;) {
		size_t n = 0;
		hb *lru = NULL;
		for (hb *b = h->builders; b; b = b->next) {
			if (!b->persistent || !hb_alive(b))
				continue;
			n++;
			if (!lru || b->last_used_ms < lru->last_used_ms)
				lru = b;
		}
		if (n < HOST_MAX_PERSISTENT || !lru)
			return;
		klog(KLOG_INFO, "stopping builder %s (pid %d): least recently used of %zu", hb_name(lru),
		     (int)lru->pid, n);
		hb_stop(lru);
	}
}

/* ---- processes ending ---- */

static void on_reaped(host *h, pid_t pid, int wstatus)
{
	hb *b = hb_by_pid(h, pid);
	if (!b) {
		/* An orphan of some builder, handed to us as subreaper. */
		klog(KLOG_DEBUG, "reaped pid %d", (int)pid);
		return;
	}
	b->reaped = true;
	b->wstatus = wstatus;
	/* Whatever the builder forked dies with it. */
	child_kill_group(b->pid);
	bool expected = b->stopping || b->killed;
	log_exit(b, expected ? KLOG_INFO : KLOG_WARN);
	if (hb_serving(h, b)) {
		/* A reply written just before the exit still counts. */
		out_read_stdout(h, b, true);
		if (hb_serving(h, b))
			serve_crashed(h);
	} else if (!expected && b->persistent) {
		char st[128];
		child_describe_status(wstatus, st, sizeof(st));
		key_crashed(h, b->key, st);
	}
}

void hb_reap_all(host *h)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0)
			return;
		on_reaped(h, pid, st);
	}
}

/* Frees builders that are gone and escalates stops that took too long. */
void hb_gc(host *h)
{
	uint64_t now = host_now_ms();
	hb **pp = &h->builders;
	while (*pp) {
		hb *b = *pp;
		if (hb_serving(h, b)) {
			pp = &b->next;
			continue;
		}
		if (b->reaped) {
			out_drain_stderr(h, b);
			*pp = b->next;
			hb_free(b);
			continue;
		}
		if (b->stopping && !b->killed && now >= b->kill_at_ms) {
			klog(KLOG_WARN, "builder %s (pid %d) did not stop within %d ms; killing it",
			     hb_name(b), (int)b->pid, HOST_STOP_GRACE_MS);
			child_kill_group(b->pid);
			b->killed = true;
		}
		pp = &b->next;
	}
}
