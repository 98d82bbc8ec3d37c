/* host.h: the builder host's event loop (SPEC sections 1, 5, 7).
 *
 * One thread and one poll() loop over the supervisor's NNG pair socket, the
 * pipes of every builder process, a self-pipe that turns SIGCHLD, SIGTERM,
 * SIGINT and NNG's "peer gone" notice into events, and the timer of the frame
 * in progress. Runs are served one at a time, their frames in order; every
 * frame gets exactly one reply. */
#ifndef KILN_HOST_H
#define KILN_HOST_H

#include <stdint.h>

#define HOST_MAX_PERSISTENT    8                    /* persistent builders kept alive at once */
#define HOST_STOP_GRACE_MS     2000                 /* shutdown frame, then SIGKILL after this */
#define HOST_EOF_WAIT_MS       1000                 /* stdout closed: how long to wait for the exit status */
#define HOST_KILL_WAIT_MS      2000                 /* after SIGKILL: how long to wait for the reap */
#define HOST_STDERR_MAX_BYTES  (2u * 1024u * 1024u) /* stderr forwarded per frame */
#define HOST_STDERR_MAX_LINES  20000u
#define HOST_SEND_TIMEOUT_MS   30000
#define HOST_DEFAULT_TIMEOUT_S 600
#define HOST_MAX_EXTRA_WRITE   16 /* paths in KILN_SANDBOX_WRITE */
#define HOST_PROBE_TIMEOUT_S   30 /* a builder on probation must describe itself within this */

typedef struct host_opts {
	const char *url; /* e.g. ipc:///.../host-3.sock; the host dials it */
	uint32_t id;     /* N of "host-N", for the log */
} host_opts;

/* Connects, says hello and serves until a shutdown message, SIGTERM/SIGINT
 * or the loss of the supervisor. Every builder is gone when it returns.
 * Returns 0 after a clean end, or a negative code when the host could not
 * start (the reason is logged). */
int host_main(const host_opts *o);

#endif
