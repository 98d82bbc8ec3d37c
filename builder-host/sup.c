/* sup.c: the builder host's link to the supervisor: the pair socket, the
 * messages sent on it (hello, logs, replies, builder states) and those that
 * arrive (runs, cancels, shutdown). */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "arena.h"
#include "frame.h"
#include "host_priv.h"
#include "hostproto.h"
#include "kerr.h"
#include "klog.h"
#include "msg.h"
#include "restart.h"

/* Set by NNG's pipe callback (on an NNG thread) once the supervisor is
 * gone: nothing is sent after that. */
static atomic_int peer_gone;

/* ---- messages to the supervisor ---- */

static void send_sb(host *h, msgpack_sbuffer *sb)
{
	if (atomic_load(&peer_gone))
		return;
	int rv = nng_send(h->sock, sb->data, sb->size, 0);
	if (rv != 0) {
		klog(KLOG_ERROR, "cannot send to the supervisor: %s", nng_strerror(rv));
		if (rv == NNG_ECLOSED || rv == NNG_ETIMEDOUT) {
			h->quit = true;
			h->graceful = false;
		}
	}
}

void sup_send_log(host *h, uint64_t id, uint32_t idx, msg_level level, const char *message,
                  const msg_kvs *ctx)
{
	msgpack_sbuffer sb;
	hp_log m = {.id = id, .idx = idx, .level = level, .message = message};
	if (ctx)
		m.context = *ctx;
	msgpack_sbuffer_init(&sb);
	if (hp_encode_log(&sb, &m) == 0)
		send_sb(h, &sb);
	else
		klog(KLOG_ERROR, "out of memory encoding a log line");
	msgpack_sbuffer_destroy(&sb);
}

void sup_send_reply(host *h, const hp_reply *r)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	if (hp_encode_reply(&sb, r) == 0)
		send_sb(h, &sb);
	else
		klog(KLOG_ERROR, "out of memory encoding the reply to run %" PRIu64 " frame %" PRIu32, r->id,
		     r->idx);
	msgpack_sbuffer_destroy(&sb);
}

/* A reply for a frame no builder worked on (a spawn failure, a broken
 * request, a cancelled run). */
void sup_reply_plain(host *h, uint64_t id, uint32_t idx, hp_status st, const char *detail)
{
	hp_reply r = {.id = id, .idx = idx, .status = st, .detail = detail};
	sup_send_reply(h, &r);
}

void sup_send_bnote(host *h, const char *key, restart_state st, const char *detail, uint32_t crashes,
                    uint64_t retry_ms)
{
	msgpack_sbuffer sb;
	/* A builder on probation is still "backoff" to the supervisor: it is
	 * restarting, and its frames are not refused. */
	hp_bnote m = {.key = key,
	              .state = st == RESTART_GIVEN_UP ? HP_BSTATE_GIVEN_UP
	                       : st == RESTART_OK     ? HP_BSTATE_OK
	                                              : HP_BSTATE_BACKOFF,
	              .detail = detail,
	              .crashes = crashes,
	              .retry_ms = retry_ms};
	msgpack_sbuffer_init(&sb);
	if (hp_encode_builder(&sb, &m) == 0)
		send_sb(h, &sb);
	else
		klog(KLOG_ERROR, "out of memory encoding the state of builder %s", key);
	msgpack_sbuffer_destroy(&sb);
}

/* ---- messages from the supervisor ---- */

static void on_message(host *h, const uint8_t *buf, size_t len)
{
	char err[256];
	hp_msg m;
	arena *a = arena_new();
	if (!a) {
		klog(KLOG_ERROR, "out of memory receiving a message");
		return;
	}
	int rc = hp_decode(buf, len, a, &m, err, sizeof(err));
	if (rc != 0) {
		klog(KLOG_WARN, "ignoring a broken message from the supervisor: %s",
		     rc == KILN_E_PROTO ? err : kiln_strerror(rc));
		arena_free(a);
		return;
	}
	switch (m.type) {
	case HP_T_RUN:
		if (serve_enqueue(h, a, &m.u.run) == 0)
			return; /* the arena now belongs to the queued run */
		break;
	case HP_T_CANCEL:
		serve_cancel(h, m.u.cancel_id);
		break;
	case HP_T_SHUTDOWN:
		klog(KLOG_INFO, "shutdown requested");
		h->quit = true;
		h->graceful = true;
		break;
	default:
		klog(KLOG_WARN, "ignoring a message of type %d from the supervisor", (int)m.type);
		break;
	}
	arena_free(a);
}

void sup_receive(host *h)
{
	while (!h->quit) {
		nng_msg *msg = NULL;
		int rv = nng_recvmsg(h->sock, &msg, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			return;
		if (rv != 0) {
			klog(KLOG_WARN, "the supervisor's socket failed: %s; stopping", nng_strerror(rv));
			h->quit = true;
			h->graceful = false;
			return;
		}
		on_message(h, nng_msg_body(msg), nng_msg_len(msg));
		nng_msg_free(msg);
	}
}

/* ---- the socket ---- */

static void on_pipe_removed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	(void)p;
	(void)ev;
	(void)arg;
	atomic_store(&peer_gone, 1);
	host_wake('P');
}

static int send_hello(host *h)
{
	msgpack_sbuffer sb;
	int rv;
	msgpack_sbuffer_init(&sb);
	if (hp_encode_hello(&sb, (int64_t)getpid()) != 0) {
		msgpack_sbuffer_destroy(&sb);
		return -ENOMEM;
	}
	rv = nng_send(h->sock, sb.data, sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
	if (rv != 0) {
		klog(KLOG_ERROR, "cannot say hello to the supervisor: %s", nng_strerror(rv));
		return -EIO;
	}
	return 0;
}

/* Opens the pair socket, dials url and says hello. Returns 0, or -EIO or
 * -ENOMEM with the reason logged; sup_close() undoes it either way. */
int sup_connect(host *h, const char *url)
{
	int rv;
	if ((rv = nng_pair1_open(&h->sock)) != 0) {
		klog(KLOG_ERROR, "nng_pair1_open: %s", nng_strerror(rv));
		return -EIO;
	}
	h->sock_open = true;
	nng_pipe_notify(h->sock, NNG_PIPE_EV_REM_POST, on_pipe_removed, NULL);
	nng_socket_set_ms(h->sock, NNG_OPT_SENDTIMEO, HOST_SEND_TIMEOUT_MS);
	/* Logs are sent while the supervisor may be busy; a deep send buffer
	 * keeps the loop from blocking on it. Runs carry whole frames. */
	nng_socket_set_int(h->sock, NNG_OPT_SENDBUF, 1024);
	nng_socket_set_size(h->sock, NNG_OPT_RECVMAXSZ, (size_t)FRAME_MAX + 1024u * 1024u);
	if ((rv = nng_dial(h->sock, url, NULL, 0)) != 0) {
		klog(KLOG_ERROR, "cannot connect to %s: %s", url, nng_strerror(rv));
		return -EIO;
	}
	if ((rv = nng_socket_get_int(h->sock, NNG_OPT_RECVFD, &h->recv_fd)) != 0) {
		klog(KLOG_ERROR, "cannot get the socket's receive descriptor: %s", nng_strerror(rv));
		return -EIO;
	}
	return send_hello(h);
}

void sup_close(host *h)
{
	if (h->sock_open)
		nng_close(h->sock);
	h->sock_open = false;
}
