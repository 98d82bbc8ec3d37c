/* hostproto.h: the supervisor <-> builder host messages, carried one per NNG
 * message over each host's own pair socket. Internal to kiln (not in SPEC);
 * every message is a MessagePack map with a string "t".
 *
 * Supervisor -> host
 *   run      {t:"run", id, builder:{key, exec, args, persistent, timeout_s,
 *             memory_mb}, cwd, frames:[bin...]}
 *            Send each frame (an encoded builder request) to the builder in
 *            order and answer each with one "reply". cwd is the working
 *            directory for a one-shot builder (the job's temp dir); "" lets
 *            the host use its own scratch folder. key names the builder so a
 *            persistent process is reused across runs.
 *   cancel   {t:"cancel", id}: kill the builder serving run id; its current
 *            frame is answered with status "cancelled".
 *   shutdown {t:"shutdown"}: stop builders and exit.
 *
 * Host -> supervisor
 *   hello    {t:"hello", pid}
 *   log      {t:"log", id, idx, level, message, context:{str:str}}: a log
 *            frame or stderr line of the builder while it serves frame idx.
 *   reply    {t:"reply", id, idx, status, detail, frame:bin|nil,
 *             stderr_tail:[str], duration_us}
 *            status "ok" carries the builder's reply frame (already checked
 *            to be a map whose "type" matches the request). Otherwise frame
 *            is nil and status says what went wrong; detail is a sentence for
 *            the job log ("killed by signal 11 (Segmentation fault)").
 *   builder  {t:"builder", key, state, detail, crashes, retry_ms}: the restart
 *            state of
 *            the persistent builder key on this host changed. state "backoff":
 *            it crashed (crashes in a row) and restarts for the next frame
 *            after a short gap; "given_up": it crashed too often and then
 *            could not even describe itself, so frames for it are answered
 *            "spawn_failed" until a cool-down ends; "ok": it replied
 *            successfully again. detail is a sentence for the log; retry_ms is
 *            how long until the builder may start again (the gap, or what is
 *            left of the cool-down; 0 for "ok").
 *            Sent for information; nothing has to answer it.
 */
#ifndef KILN_HOSTPROTO_H
#define KILN_HOSTPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#include "arena.h"
#include "msg.h"

typedef enum hp_status {
	HP_OK = 0,
	HP_CRASHED,        /* killed by a signal, or exited before replying */
	HP_TIMEOUT,        /* ran past timeout_s; its process group was killed */
	HP_PROTOCOL_ERROR, /* a broken frame, a frame over 64 MiB, not a map, wrong type */
	HP_SPAWN_FAILED,   /* the executable could not be started */
	HP_CANCELLED,      /* the supervisor cancelled the run */
} hp_status;

/* "ok", "crashed", "timeout", "protocol_error", "spawn_failed", "cancelled" */
const char *hp_status_name(hp_status s);

typedef struct hp_builder {
	const char *key;
	const char *exec;
	msg_strs args;
	bool persistent;
	uint32_t timeout_s;
	uint32_t memory_mb;
} hp_builder;

typedef struct hp_bytes {
	const uint8_t *data;
	size_t len;
} hp_bytes;

typedef enum hp_type {
	HP_T_RUN,
	HP_T_CANCEL,
	HP_T_SHUTDOWN,
	HP_T_HELLO,
	HP_T_LOG,
	HP_T_REPLY,
	HP_T_BUILDER,
} hp_type;

typedef struct hp_run {
	uint64_t id;
	hp_builder builder;
	const char *cwd;
	hp_bytes *frames;
	size_t n_frames;
} hp_run;

typedef struct hp_log {
	uint64_t id;
	uint32_t idx;
	msg_level level;
	const char *message;
	msg_kvs context;
} hp_log;

typedef struct hp_reply {
	uint64_t id;
	uint32_t idx;
	hp_status status;
	const char *detail; /* "" when status is ok */
	hp_bytes frame;     /* data NULL unless status is ok */
	msg_strs stderr_tail;
	uint64_t duration_us;
} hp_reply;

typedef enum hp_bstate { HP_BSTATE_OK = 0, HP_BSTATE_BACKOFF, HP_BSTATE_GIVEN_UP } hp_bstate;

/* "ok", "backoff", "given_up" */
const char *hp_bstate_name(hp_bstate s);

/* The "builder" message: a persistent builder's restart state. */
typedef struct hp_bnote {
	const char *key;
	hp_bstate state;
	const char *detail;
	uint32_t crashes;  /* in a row; 0 once it is "ok" again */
	uint64_t retry_ms; /* until the next start may happen; 0 for "ok" */
} hp_bnote;

/* One decoded message of either direction. */
typedef struct hp_msg {
	hp_type type;
	union {
		hp_run run;
		uint64_t cancel_id;
		int64_t hello_pid;
		hp_log log;
		hp_reply reply;
		hp_bnote builder;
	} u;
} hp_msg;

/* Decodes buf; memory (including frame bytes, which are copied) comes from
 * arena a. Returns 0 or KILN_E_PROTO with err naming the field. */
int hp_decode(const uint8_t *buf, size_t len, arena *a, hp_msg *out, char *err, size_t errsz);

/* Encoders append one map to sb (caller-owned). Return 0 or -ENOMEM. */
int hp_encode_run(msgpack_sbuffer *sb, const hp_run *m);
int hp_encode_cancel(msgpack_sbuffer *sb, uint64_t id);
int hp_encode_shutdown(msgpack_sbuffer *sb);
int hp_encode_hello(msgpack_sbuffer *sb, int64_t pid);
int hp_encode_log(msgpack_sbuffer *sb, const hp_log *m);
int hp_encode_reply(msgpack_sbuffer *sb, const hp_reply *m);
int hp_encode_builder(msgpack_sbuffer *sb, const hp_bnote *m);

#endif
