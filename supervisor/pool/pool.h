/* pool.h: the pool of kiln-builder-host processes and the supervisor's
 * event loop (SPEC sections 1 and 7).
 *
 * Each host is a child process joined by its own NNG pair1 socket over ipc.
 * Hosts start lazily, when work is submitted and no idle host is left, up to
 * the pool size. A host that dies (SIGCHLD, seen through a signalfd) loses
 * its run: the owner hears on_lost for it, and the host is replaced after a
 * gap that starts at 250 ms and doubles with each failure up to 10 s (with
 * jitter), reset once a host completes a run. A host that keeps dying right
 * after start is marked given up after 8 tries in a row, which the owner
 * sees through pool_given_up().
 *
 * pool_poll() is the single-threaded loop of the supervisor: it waits on
 * every host's receive descriptor, the signalfd, and any descriptor the
 * owner registers with pool_watch_fd(). Signals SIGCHLD, SIGINT, SIGTERM
 * and SIGHUP must be blocked in every thread (pool_block_signals(), called
 * by main before anything starts a thread) so that they arrive only
 * through the signalfd. */
#ifndef KILN_POOL_H
#define KILN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostproto.h"

typedef struct pool pool;

typedef struct pool_cb {
	/* A log line of frame idx of run id. */
	void (*on_log)(void *ud, uint64_t id, const hp_log *log);
	/* The answer to frame idx of run id (any status). */
	void (*on_reply)(void *ud, uint64_t id, const hp_reply *r);
	/* The host serving run id died or stopped answering; frames from
	 * first_idx on got no reply. detail says what happened. */
	void (*on_lost)(void *ud, uint64_t id, uint32_t first_idx, const char *detail);
	/* The host serving run id died before it began the run (it was queued
	 * behind another): nothing of it ran, so it may simply go again. */
	void (*on_requeue)(void *ud, uint64_t id);
	/* Host `host` began serving run id: runs go to a host two deep, and only
	 * the first is under way; the second begins when the first is answered.
	 * May be NULL. */
	void (*on_begin)(void *ud, uint64_t id, int host);
	/* SIGINT, SIGTERM or SIGHUP arrived. */
	void (*on_signal)(void *ud, int signo);
	/* A host's persistent builder changed its restart state (backoff,
	 * given up, ok again). May be NULL. */
	void (*on_builder)(void *ud, int host, const hp_bnote *note);
	void *ud;
} pool_cb;

/* Blocks the signals the pool reads through its signalfd, in the calling
 * thread; call before any thread exists so every thread inherits the mask. */
void pool_block_signals(void);

/* Makes a pool of n hosts (n >= 1) running host_exe. Sockets go in
 * sock_dir (or a short folder under /tmp when sock_dir is too long for a
 * socket path); hosts run with their working directory in work_dir/host-N
 * and their stderr appended to log_fd. On success *out belongs to the caller
 * (pool_free). */
int pool_new(const char *host_exe, const char *sock_dir, const char *work_dir, int log_fd, int n,
             const pool_cb *cb, pool **out);

/* Stops every host (shutdown message, then SIGKILL after a grace period) and
 * frees the pool. */
void pool_free(pool *p);

/* True when a host is free to take a run now (possibly after starting it). */
bool pool_can_submit(pool *p);

/* Starts hosts (within the pool size and the restart gaps) so that idle and
 * starting hosts can take `want` runs. */
void pool_ensure(pool *p, size_t want);

/* Sends a run to a free host. The frames are copied; the caller keeps them.
 * Returns 0, KILN_E_STATE when no host is free, or an error from NNG. */
int pool_submit(pool *p, uint64_t id, const hp_builder *b, const char *cwd, const hp_bytes *frames, size_t n);

/* Asks the host serving run id to cancel it. Returns 0 or KILN_E_NOTFOUND. */
int pool_cancel(pool *p, uint64_t id);

/* Number of runs in flight. */
size_t pool_busy(const pool *p);

/* True when hosts cannot be started at all (given up). */
bool pool_given_up(const pool *p);

/* Registers fd for POLLIN; cb runs when it is readable. At most 8. */
int pool_watch_fd(pool *p, int fd, void (*cb)(void *ud, int fd), void *ud);

/* Waits up to timeout_ms (-1 = forever) for events and dispatches them.
 * Returns 0 or -errno. */
int pool_poll(pool *p, int timeout_ms);

/* The pids of live hosts, for tests and `kiln status` (at most max). */
size_t pool_host_pids(const pool *p, int *pids, size_t max);

/* Monotonic milliseconds. */
int64_t pool_now_ms(void);

#endif
