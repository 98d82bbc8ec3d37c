/* transport.c: the control's NNG sockets: the raw REP socket over ipc (and
 * TCP when configured) and the PUB socket over ipc, opening and closing
 * them, peer addresses, the pipe callbacks, sending replies along a
 * request's header and publishing events.
 *
 * The pipe callbacks run on NNG's threads: they only look at the peer's
 * address, close a refused pipe, note it (ctl_note_refused, under mu) and
 * count subscribers under mu. Everything else here runs on the
 * supervisor's thread. */
#include "control/control_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include "kclient.h"

/* ---- addresses (any thread) ---- */

/* "1.2.3.4:5678", "[::1]:5678" or "ipc". */
void ctl_format_addr(const nng_sockaddr *sa, char out[ADDR_MAX])
{
	char a[INET6_ADDRSTRLEN] = "?";
	switch (sa->s_family) {
	case NNG_AF_INET:
		inet_ntop(AF_INET, &sa->s_in.sa_addr, a, sizeof a);
		snprintf(out, ADDR_MAX, "%s:%u", a, (unsigned)ntohs(sa->s_in.sa_port));
		break;
	case NNG_AF_INET6:
		inet_ntop(AF_INET6, sa->s_in6.sa_addr, a, sizeof a);
		snprintf(out, ADDR_MAX, "[%s]:%u", a, (unsigned)ntohs(sa->s_in6.sa_port));
		break;
	case NNG_AF_IPC:
	case NNG_AF_ABSTRACT:
		snprintf(out, ADDR_MAX, "ipc");
		break;
	default:
		snprintf(out, ADDR_MAX, "unknown");
		break;
	}
}

bool ctl_is_tcp(const nng_sockaddr *sa)
{
	return sa->s_family == NNG_AF_INET || sa->s_family == NNG_AF_INET6;
}

bool ctl_pipe_alive(uint32_t pipe, nng_sockaddr *sa)
{
	nng_sockaddr tmp;
	nng_pipe p = NNG_PIPE_INITIALIZER;
	p.id = pipe;
	return nng_pipe_get_addr(p, NNG_OPT_REMADDR, sa ? sa : &tmp) == 0;
}

/* ---- pipe callbacks (NNG threads) ---- */

/* Runs on an NNG thread before a new connection joins the REP socket: a
 * TCP peer outside the allow list is closed before it can send anything. */
static void rep_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	control *c = arg;
	nng_sockaddr sa;
	char a[ADDR_MAX];

	if (ev != NNG_PIPE_EV_ADD_PRE || nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
		return;
	if (!ctl_is_tcp(&sa))
		return;
	if (ctl_addr_allowed(c, &sa))
		return;
	nng_pipe_close(p);
	ctl_format_addr(&sa, a);
	ctl_note_refused(c, a, "address not allowed");
}

static void pub_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	control *c = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);
	/* Pipes that the socket refused (the watchdog's probe) are removed
	 * without having been added: only added ones are subscribers. */
	pthread_mutex_lock(&c->mu);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		if (c->n_subs == c->cap_subs) {
			size_t cap = c->cap_subs ? c->cap_subs * 2 : 16;
			uint32_t *n = realloc(c->subs, cap * sizeof *n);
			if (n) {
				c->subs = n;
				c->cap_subs = cap;
			}
		}
		if (c->n_subs < c->cap_subs)
			c->subs[c->n_subs++] = id;
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		for (size_t i = 0; i < c->n_subs; i++) {
			if (c->subs[i] == id) {
				c->subs[i] = c->subs[--c->n_subs];
				break;
			}
		}
	}
	pthread_mutex_unlock(&c->mu);
}

/* ---- opening and closing ---- */

static int nng_err(int rv, const char *what, const char *where, char *err, size_t errsz)
{
	if (rv == NNG_EADDRINUSE)
		snprintf(err, errsz, "%s %s: another kiln supervisor is already serving this project", what,
		         where);
	else if (rv == NNG_EADDRINVAL)
		snprintf(err, errsz, "%s %s: not a usable address%s", what, where,
		         strncmp(where, "ipc://", 6) == 0 ? " (a socket path may be at most 107 bytes)" : "");
	else
		snprintf(err, errsz, "%s %s: %s", what, where, nng_strerror(rv));
	switch (rv) {
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_EADDRINUSE:
		return -EADDRINUSE;
	case NNG_EADDRINVAL:
		return -EINVAL;
	case NNG_EPERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* Listens on url with the socket file private to the user (ipc), checked
 * afterwards as well: the socket file is the only door to the API. */
static int listen_on(nng_socket s, const char *url, const char *file, nng_listener *out, char *err,
                     size_t errsz)
{
	nng_listener l;
	struct stat st;
	int rv;

	if ((rv = nng_listener_create(&l, s, url)) != 0)
		return nng_err(rv, "cannot listen on", url, err, errsz);
	if (file && (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600)) != 0) {
		nng_listener_close(l);
		return nng_err(rv, "cannot set the permissions of", url, err, errsz);
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		nng_listener_close(l);
		return nng_err(rv, "cannot listen on", url, err, errsz);
	}
	if (file && (stat(file, &st) != 0 || (st.st_mode & 0777) != 0600) && chmod(file, 0600) != 0) {
		int e = errno;
		nng_listener_close(l);
		snprintf(err, errsz, "cannot make %s private (mode 0600): %s", file, strerror(e));
		return -e;
	}
	if (out)
		*out = l;
	return 0;
}

int ctl_listen_ipc(nng_socket s, const char *path, nng_listener *out, char *err, size_t errsz)
{
	char url[KILN_PATH_MAX + 16];
	snprintf(url, sizeof url, "ipc://%s", path);
	return listen_on(s, url, path, out, err, errsz);
}

/* Listens on the ipc socket file path and makes it d, for the watchdog to
 * probe with an SP header of probe_proto. */
static int open_door(door *d, nng_socket s, const char *path, uint16_t probe_proto, char *err, size_t errsz)
{
	int rc = ctl_listen_ipc(s, path, &d->l, err, errsz);
	if (rc != 0)
		return rc;
	d->s = s;
	d->path = path;
	d->probe_proto = probe_proto;
	return 0;
}

int ctl_transport_open(control *c, char *err, size_t errsz)
{
	char url[KILN_PATH_MAX + 16];
	int rv, rc;

	if ((rv = nng_rep0_open_raw(&c->rep)) != 0)
		return nng_err(rv, "cannot open", "the control socket", err, errsz);
	c->rep_open = true;
	/* Replies are sent without blocking; a send buffer lets a burst of
	 * them queue instead of failing while NNG hands the last one on. */
	if ((rv = nng_socket_set_size(c->rep, NNG_OPT_RECVMAXSZ, RECV_MAX)) != 0 ||
	    (rv = nng_socket_set_int(c->rep, NNG_OPT_SENDBUF, 1024)) != 0 ||
	    (rv = nng_socket_set_int(c->rep, NNG_OPT_RECVBUF, 1024)) != 0 ||
	    (rv = nng_pipe_notify(c->rep, NNG_PIPE_EV_ADD_PRE, rep_pipe_cb, c)) != 0)
		return nng_err(rv, "cannot set up", "the control socket", err, errsz);
	/* REP: a REP socket pairs with REQ only. */
	if ((rc = open_door(&c->doors[0], c->rep, c->sock_path, 0x31, err, errsz)) != 0)
		return rc;
	if (c->tcp_on) {
		snprintf(url, sizeof url, "tcp://%s", c->tcp);
		if ((rc = listen_on(c->rep, url, NULL, NULL, err, errsz)) != 0)
			return rc;
	}
	if ((rv = nng_socket_get_int(c->rep, NNG_OPT_RECVFD, &c->fd)) != 0)
		return nng_err(rv, "cannot poll", "the control socket", err, errsz);

	if ((rv = nng_pub0_open(&c->pub)) != 0)
		return nng_err(rv, "cannot open", "the events socket", err, errsz);
	c->pub_open = true;
	/* A subscriber that is slow for a moment (an editor loading a level)
	 * should not lose the burst of job events of a scan. */
	if ((rv = nng_socket_set_int(c->pub, NNG_OPT_SENDBUF, 1024)) != 0 ||
	    (rv = nng_pipe_notify(c->pub, NNG_PIPE_EV_ADD_POST, pub_pipe_cb, c)) != 0 ||
	    (rv = nng_pipe_notify(c->pub, NNG_PIPE_EV_REM_POST, pub_pipe_cb, c)) != 0)
		return nng_err(rv, "cannot set up", "the events socket", err, errsz);
	/* PUB: a PUB socket pairs with SUB only. */
	return open_door(&c->doors[1], c->pub, c->events_path, 0x20, err, errsz);
}

void ctl_transport_close(control *c)
{
	/* Closing waits for NNG's callbacks to finish, so what they use (the
	 * subscriber list here, the mutex in control_close) goes only after
	 * both sockets are closed. */
	if (c->rep_open)
		nng_close(c->rep);
	if (c->pub_open)
		nng_close(c->pub);
	free(c->subs);
}

/* ---- sending ---- */

int ctl_send_reply(control *c, const nng_msg *hdr, json_t *body)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	nng_msg *m = NULL;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc = kclient_pack_json(&pk, body);
	if (rc != 0) {
		/* Our own document did not encode: say so instead. */
		msgpack_sbuffer_clear(&sb);
		json_t *e = json_pack("{s:b, s:s}", "ok", 0, "error", "the reply could not be encoded");
		rc = e ? kclient_pack_json(&pk, e) : -ENOMEM;
		json_decref(e);
		if (rc)
			goto out;
	}
	if (nng_msg_alloc(&m, 0) != 0 ||
	    nng_msg_header_append(m, nng_msg_header((nng_msg *)hdr), nng_msg_header_len((nng_msg *)hdr)) !=
	        0 ||
	    nng_msg_append(m, sb.data, sb.size) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	if (nng_sendmsg(c->rep, m, NNG_FLAG_NONBLOCK) != 0) {
		/* The peer's queue is full (it does not read its replies) or
		 * the socket is closing: the reply is dropped, as NNG itself
		 * would drop it. */
		rc = -EAGAIN;
		goto out;
	}
	m = NULL;
out:
	nng_msg_free(m);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

void control_publish(control *c, const char *topic, json_t *body)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t tl;

	if (!c || !c->pub_open || !topic || !body)
		return;
	tl = strlen(topic);
	if (tl == 0 || tl > 32 || strchr(topic, ' '))
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_sbuffer_write(&sb, topic, tl) == 0 && msgpack_sbuffer_write(&sb, " ", 1) == 0 &&
	    kclient_pack_json(&pk, body) == 0) {
		/* PUB never blocks: a subscriber whose queue is full misses
		 * this event. */
		(void)nng_send(c->pub, sb.data, sb.size, NNG_FLAG_NONBLOCK);
	}
	msgpack_sbuffer_destroy(&sb);
}
