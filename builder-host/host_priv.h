/* host_priv.h: what the pieces of the builder host share: its state, the
 * records of builders, runs and restart keys, and what each piece offers
 * the others. Not for other modules: host.h is the host's face.
 *
 * The pieces, each with the prefix of what it offers:
 *   host.c      host_   the loop, its timers, the self-pipe and the setup
 *   builders.c  hb_     builder processes: start, find, stop, kill, reap, free
 *   keys.c      key_    the restart record of each persistent builder key
 *   serve.c     serve_  the queue of runs and the frame in progress, with its one reply
 *   output.c    out_    a builder's stdout (frames) and stderr (log lines)
 *   sup.c       sup_    the socket to the supervisor: messages out and in
 *
 * Everything runs on the loop's one thread, except host_wake(), which the
 * signal handler and NNG's pipe callback call. */
#ifndef KILN_HOST_PRIV_H
#define KILN_HOST_PRIV_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

#include "arena.h"
#include "frame.h"
#include "host.h"
#include "hostproto.h"
#include "lines.h"
#include "msg.h"
#include "restart.h"
#include "sandbox.h"

/* One builder process. Records are freed only by hb_gc(), never while
 * an event about them is being handled, so a pointer stays valid for the
 * whole of one loop iteration.
 *
 * Ownership: the host's list (host.builders) owns every record; a record
 * owns its strings, its three descriptors (-1 once closed), fr and err. */
typedef struct hb hb;
struct hb {
	hb *next;
	char *key;
	char *exec;  /* as resolved: absolute */
	char **argv; /* NULL-terminated; every string malloc'd */
	uint32_t memory_mb;
	bool persistent;
	pid_t pid; /* also its process group */
	int in_fd, out_fd, err_fd;
	frame_reader fr;
	lines err;
	uint64_t last_used_ms;
	bool reaped; /* wstatus is valid */
	int wstatus;
	bool stopping; /* sent shutdown; SIGKILL at kill_at_ms */
	uint64_t kill_at_ms;
	bool killed; /* we sent SIGKILL to its group */
};

/* A run waiting or in progress; its arena holds the decoded message and the
 * frame bytes.
 *
 * Ownership: the host's queue (host.head to host.tail) owns every record
 * and its arena; serve.c queues them and frees them. */
typedef struct qrun {
	struct qrun *next;
	arena *a;
	hp_run run;
} qrun;

/* The restart record of one persistent builder key (restart.h). Kept for
 * the life of the host: there are only as many keys as configured
 * builders.
 *
 * Ownership: the host's list (host.keys) owns every record and its key;
 * keys.c makes them and key_free_all() frees them. */
typedef struct hkey {
	struct hkey *next;
	char *key;
	restart r;
} hkey;

/* The frame in progress.
 *
 * Ownership: none. b is a record of host.builders; data points into the
 * head run's arena, or at host.probe for a probe. */
typedef struct cur_frame {
	bool active;
	hb *b;
	uint64_t id;
	uint32_t idx;
	uint32_t timeout_s;
	uint8_t prefix[4];
	const uint8_t *data;
	size_t len;
	size_t woff; /* bytes of prefix + data written so far */
	bool write_closed;
	char req_type[64];
	uint64_t start_us;
	uint64_t deadline_ms;
	uint64_t eof_deadline_ms; /* 0: stdout still open */
	size_t err_bytes, err_lines;
	uint64_t err_dropped;
	bool probe; /* the host's own describe request to a builder on probation (restart.h) */
} cur_frame;

/* The host's state, one for the life of host_main(), which owns it and
 * everything it points to (malloc'd) except recv_fd, which is NNG's. */
typedef struct host {
	uint32_t id;
	nng_socket sock;
	bool sock_open;
	int recv_fd;
	char *scratch;
	hb *builders;
	qrun *head, *tail; /* head is the run being served */
	uint32_t next_idx; /* the head run's next frame to start */
	cur_frame c;
	bool quit;
	bool graceful; /* shutdown frames before SIGKILL */
	struct pollfd *pfd;
	pid_t *pfd_pid; /* which builder each pollfd belongs to */
	size_t pfd_cap;
	hkey *keys;
	uint64_t defer_ms; /* the head run's next frame waits for a restart gap until then */
	uint64_t cool_ms;  /* how long a given-up builder is refused */
	sandbox_caps caps;
	char *write_root; /* builders may write below it (Landlock): the parent of scratch */
	char *extra_write[HOST_MAX_EXTRA_WRITE]; /* KILN_SANDBOX_WRITE, and the test call log */
	size_t n_extra_write;
	msgpack_sbuffer probe_req; /* an encoded describe request */
	hp_bytes probe;            /* the same bytes */
} host;

/* ---- the loop (host.c) ---- */

/* The monotonic clock. */
uint64_t host_now_us(void);
uint64_t host_now_ms(void);

/* Wakes the loop with event c ('C' child, 'T' terminate, 'P' peer gone).
 * Async-signal-safe; any thread may call it. */
void host_wake(char c);

/* ---- builder processes (builders.c) ---- */

/* The key, or the executable for a builder without one: for the log. */
const char *hb_name(const hb *b);

/* Starts a builder process for spec in cwd and adds it to h->builders:
 * 0 with *out (OUT) set, or a negative code with err holding the sentence
 * for the reply. */
int hb_spawn(host *h, const hp_builder *spec, const char *cwd, hb **out, char *err, size_t errsz);

/* The running persistent builder for spec's key, or NULL; one configured
 * differently is stopped on the way. */
hb *hb_find_persistent(host *h, const hp_builder *spec);

/* Stops the least recently used persistent builders until one more fits. */
void hb_make_room(host *h);

hb *hb_by_pid(host *h, pid_t pid);

/* Is b the builder of the frame in progress? */
bool hb_serving(const host *h, const hb *b);

/* SIGKILL to b's group and a bounded wait for its exit. */
void hb_kill(hb *b);

/* A shutdown frame and end of stdin; SIGKILL follows after a grace. */
void hb_stop(hb *b);

/* Reaps every child that has ended, with what its end means. */
void hb_reap_all(host *h);

/* Frees the builders that are gone and escalates overdue stops. */
void hb_gc(host *h);

/* Frees b, closing its descriptors; b must be out of h->builders. */
void hb_free(hb *b);

/* ---- restart records (keys.c) ---- */

/* The record of key, or NULL while it never crashed. */
hkey *key_find(host *h, const char *key);

/* These tell the supervisor (and the log) the key's new state. */
void key_crashed(host *h, const char *key, const char *how);
void key_probe_failed(host *h, const char *key, const char *how);
void key_healthy(host *h, const char *key, bool probe);

void key_free_all(host *h);

/* ---- runs and the frame in progress (serve.c) ---- */

/* Queues run, whose strings and frames live in a, taking a. Returns 0, or
 * -ENOMEM when a stays the caller's. */
int serve_enqueue(host *h, arena *a, const hp_run *run);

/* Cancels run id: its frame in progress fails, and every frame of it not
 * started yet is answered HP_CANCELLED; a run still queued leaves the queue. */
void serve_cancel(host *h, uint64_t id);

/* Starts frames until one is in flight or waits, or none is left. */
void serve_advance(host *h);

/* Frees every queued run, without replies. */
void serve_drop_all(host *h);

/* The frame in progress ends with its one reply (frame: the builder's reply
 * for HP_OK, else NULL). */
void serve_finish(host *h, hp_status st, const char *detail, const uint8_t *frame, size_t frame_len);
void serve_fail(host *h, hp_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The serving builder was reaped without a reply. */
void serve_crashed(host *h);

/* Writes what the builder's stdin takes of the frame in progress. */
void serve_write(host *h);

/* Is part of the frame in progress still to be written? */
bool serve_writing(const host *h);

/* ---- builder output (output.c) ---- */

/* Read what b's pipe holds: a few chunks, or (drain) until it is empty. */
void out_read_stdout(host *h, hb *b, bool drain);
void out_read_stderr(host *h, hb *b, bool drain);

/* Reads stderr to the end of the pipe and logs a pending partial line. */
void out_drain_stderr(host *h, hb *b);

/* ---- the supervisor (sup.c) ---- */

/* Opens the socket, dials url and says hello: 0 or a negative code, the
 * reason logged. sup_close() undoes it in either case. */
int sup_connect(host *h, const char *url);
void sup_close(host *h);

/* Handles every message waiting on the socket. */
void sup_receive(host *h);

void sup_send_log(host *h, uint64_t id, uint32_t idx, msg_level level, const char *message,
                  const msg_kvs *ctx);
void sup_send_reply(host *h, const hp_reply *r);

/* A reply for a frame no builder worked on. */
void sup_reply_plain(host *h, uint64_t id, uint32_t idx, hp_status st, const char *detail);

/* A builder key's restart state. */
void sup_send_bnote(host *h, const char *key, restart_state st, const char *detail, uint32_t crashes,
                    uint64_t retry_ms);

#endif
