/* control.h: the control API of a running supervisor (SPEC section 8).
 *
 * Requests and replies: NNG REP over ipc at Cache/kiln.sock (mode 0600), one
 * MessagePack map per message. Events: NNG PUB at Cache/kiln.events. The
 * wire format is documented in supervisor/control/control-api.md.
 *
 * Everything runs on the supervisor's single thread: the REP socket is opened
 * in raw mode, so a request whose answer takes time (compile waits for jobs)
 * is answered later with control_reply() without blocking other clients.
 *
 * The engine implements control_ops; the control module decodes requests,
 * checks every field (hostile clients get an error reply, never a crash),
 * calls the ops, encodes replies and tracks connections. */
#ifndef KILN_CONTROL_H
#define KILN_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"

typedef struct control control;

/* A request that will be answered later (compile). */
typedef uint64_t control_token;

typedef struct control_ops {
	/* {state, ready, jobs_active, jobs_remaining, last_scan_ms, last_analysis_ms,
	 *  last_processing_ms, project, root, control, ...} (SPEC section 4). New ref. */
	json_t *(*status)(void *ud);
	/* Makes sure everything the engine did is visible to a read-only
	 * database connection (commits pending writes). Called before queries. */
	void (*flush)(void *ud);
	/* Asset status by path (as the command line accepts it) or UUID:
	 * {uuid, source, state: "compiled"|"queued"|"processing"|"failed"|"missing",
	 *  jobs: [{id, platform, job_key, status}]}. NULL with err set when the
	 * argument is malformed. New ref. */
	json_t *(*asset_status)(void *ud, const char *path_or_uuid, char *err, size_t errsz);
	/* Escalates the asset's jobs (and their job dependencies) after a fence
	 * (file changes made before the request are seen first) and calls
	 * control_reply(ctl, token, reply) once they are done or the timeout (ms,
	 * 0 = none) passes: reply {result: "completed"|"failed"|"missing"|"timeout",
	 * jobs: [...]}. Returns 0, or an error code with err set (then the control
	 * module replies with the error itself). */
	int (*compile)(void *ud, const char *path_or_uuid, const char *platform, int64_t timeout_ms,
	               control_token token, char *err, size_t errsz);
	/* Marks sources for reprocessing; returns {jobs: N, sources: N}. */
	json_t *(*reprocess)(void *ud, const char *const *paths, size_t n, char *err, size_t errsz);
	/* Starts a full scan now. */
	void (*rescan)(void *ud);
	/* Tools switches: "fast_scan" and "debug_output". Returns 0 or -EINVAL. */
	int (*set_tool)(void *ud, const char *name, bool on);
	/* Builder hosts for the connections list: array of {pid, kind:"builder_host",
	 * automatic:true, since}. New ref. */
	json_t *(*hosts)(void *ud);
	void *ud;
} control_ops;

/* Opens the sockets under cfg->cache. On success *out belongs to the
 * caller (control_close). Returns 0, or an error with err set (for example
 * when another supervisor already listens there). */
int control_open(const kiln_config *cfg, const control_ops *ops, control **out, char *err, size_t errsz);
void control_close(control *c);

/* The descriptor that becomes readable when requests wait (NNG's receive
 * descriptor of the REP socket). */
int control_fd(control *c);
/* Handles every waiting request. */
void control_on_readable(control *c);

/* Answers a deferred request (compile). reply is borrowed. */
void control_reply(control *c, control_token token, json_t *reply);

/* Publishes one event; topic is "job", "product", "ready" or "scan" and
 * becomes the message's prefix (so subscribers filter by topic); body is
 * borrowed. */
void control_publish(control *c, const char *topic, json_t *body);

/* How often (ms, default 5000) the control checks that its ipc listeners
 * still accept connections, and replaces one that stopped: NNG 1.5.2's ipc
 * listener stops for good when a peer hangs up in the middle of the
 * connection handshake. For tests and tuning. */
void control_set_probe_interval(control *c, int ms);

#endif
