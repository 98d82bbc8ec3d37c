/* control_priv.h: the control module's private state, shared by its files.
 *
 * The files, one responsibility each:
 *   control.c   opening and closing the module, and what the event loop
 *               calls (control_fd, control_on_readable);
 *   transport.c the NNG sockets (raw REP over ipc and optional TCP, PUB over
 *               ipc), addresses, the pipe callbacks, sending replies and
 *               publishing events;
 *   watchdog.c  the thread that probes the ipc listeners and replaces one
 *               that NNG 1.5.2 stopped;
 *   access.c    who may connect (the allow list, the token), the refused
 *               ring and the connections list;
 *   clients.c   the client table and the deferred requests (compile) its
 *               peers wait on, swept when their pipes go; control_reply;
 *   handlers.c  decoding a request, the handler of each type, and the
 *               error replies;
 *   queries.c   the read-only requests, queued per peer and answered by
 *               worker threads.
 *
 * Threads. Everything runs on the supervisor's thread (the event loop and
 * the engine's calls through control.h), except:
 *   - the pipe callbacks in transport.c, which NNG runs on its own threads:
 *     they read the access configuration (read-only once the listeners
 *     start), close a refused pipe, note it with ctl_note_refused() and
 *     count subscribers, taking mu for everything they write;
 *   - the query workers (queries.c), which touch only their queues (under
 *     their own lock), query_json and ctl_send_reply;
 *   - the watchdog thread (watchdog.c), which alone touches the listener
 *     handles in doors[] after control_open (it replaces one through
 *     ctl_listen_ipc, which touches nothing else of the control), and
 *     reads and writes its own fields under mu.
 * The supervisor's thread takes mu to read what the other threads write
 * (the connections list, log_news in control.c) and to change probe_ms.
 * Nothing called on an NNG thread or the watchdog may touch the client
 * table, the deferred requests or the counters, which have no lock.
 *
 * Ownership: a control and everything it points to belongs to the caller of
 * control_open until control_close; each group of fields below says which
 * file sets it up and frees it. */
#ifndef KILN_CONTROL_PRIV_H
#define KILN_CONTROL_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>
#include <nng/nng.h>

#include "config/config.h"
#include "control/control.h"
#include "path.h"

/* A request over REQ_MAX bytes gets an error reply; one over RECV_MAX never
 * reaches us (NNG closes the connection that sent it), which keeps a
 * hostile client from making the supervisor buffer arbitrary amounts. */
#define REQ_MAX  ((size_t)1 << 20)
#define RECV_MAX ((size_t)4 << 20)

#define NAME_MAX_LEN  128 /* hello's name */
#define QUERY_WORKERS 2   /* threads that answer read-only requests */

typedef struct ctl_queries ctl_queries;
#define REFUSED_KEEP 64
#define ADDR_MAX     64

/* A peer that sent at least one request. */
typedef struct cclient {
	uint32_t pipe;
	uint64_t id;
	char name[NAME_MAX_LEN + 1]; /* "" until hello */
	int64_t pid;                 /* from hello; -1 */
	int64_t peer_pid;            /* from the ipc socket; -1 */
	bool registered;
	bool tcp;
	char address[ADDR_MAX];
	int64_t since_ms, last_ms;
	uint64_t requests, errors;
	unsigned pending;
} cclient;

/* A request answered later (compile). */
typedef struct pending {
	control_token token;
	uint32_t pipe;
	nng_msg *hdr; /* holds the request's header, to be sent back */
} pending;

typedef struct refused {
	char address[ADDR_MAX];
	int64_t time_ms;
	char reason[64];
} refused;

/* An ipc listener and what the watchdog needs to probe it. */
typedef struct door {
	nng_socket s;
	nng_listener l;
	const char *path;
	uint16_t probe_proto; /* an SP protocol the socket refuses to pair with */
} door;

struct control {
	/* control.c: set by control_open, the paths kept for the connections
	 * list. cfg is borrowed and outlives the control. */
	control_ops ops;
	const kiln_config *cfg;
	char sock_path[KILN_PATH_MAX];
	char events_path[KILN_PATH_MAX];

	/* transport.c: the sockets, open while *_open; closed (which waits
	 * for the pipe callbacks) by ctl_transport_close. */
	nng_socket rep, pub;
	bool rep_open, pub_open;
	int fd;

	/* clients.c: the client table and the deferred requests; pend is
	 * PENDING_MAX entries once the first compile comes, and holds the
	 * request headers until they are answered or dropped. Freed by
	 * ctl_clients_free. The supervisor's thread only. */
	cclient *clients;
	size_t n_clients, cap_clients;
	uint64_t next_client_id;
	uint64_t untracked; /* requests from peers beyond CLIENTS_MAX */
	pending *pend;
	size_t n_pend;
	control_token next_token;
	int64_t last_sweep_ms;

	/* handlers.c: counted for the connections list. The supervisor's
	 * thread only (queries.c's results are counted in by
	 * ctl_queries_account, on that thread). */
	uint64_t requests_total, errors_total;

	/* queries.c: the workers and their queues; started by control_open,
	 * stopped by control_close before the sockets close. */
	ctl_queries *queries;

	/* access.c: copied from the config by ctl_access_init, so that the
	 * pipe callback never reads memory it does not own; freed by
	 * ctl_access_free. Read-only once the listeners start. */
	bool tcp_on;
	char *tcp;
	char *token;
	cfg_cidr *nets;
	size_t n_nets;

	/* watchdog.c: the two ipc listeners, filled in by ctl_transport_open
	 * and then touched by the watchdog thread alone. */
	door doors[2];
	pthread_t wd_thread;
	bool wd_started;

	/* Shared with the pipe callbacks and the watchdog, under mu. control.c
	 * makes and destroys mu; watchdog.c wd_cond. */
	pthread_mutex_t mu;
	bool mu_init;
	pthread_cond_t wd_cond;
	bool cond_init;
	bool wd_stop;                       /* watchdog.c */
	int probe_ms;                       /* watchdog.c */
	uint64_t restarts, restarts_logged; /* watchdog.c counts, log_news logs */
	char restart_err[512];              /* why the last restart failed, until logged */
	refused refused[REFUSED_KEEP];      /* access.c: a ring, the newest REFUSED_KEEP */
	uint64_t n_refused;                 /* ever */
	uint64_t n_refused_logged;
	uint32_t *subs; /* transport.c: ids of the subscribers' pipes; freed by ctl_transport_close */
	size_t n_subs, cap_subs;
};

/* ---- control.c ---- */

/* Wall-clock milliseconds since the epoch (what the connections list shows). */
int64_t ctl_now_ms(void);

/* ---- transport.c ---- */

/* Opens the REP socket (ipc, and TCP when configured) and the PUB socket,
 * listening on c->sock_path and c->events_path, and fills in c->doors and
 * c->fd. On failure err says why and control_close cleans up. */
int ctl_transport_open(control *c, char *err, size_t errsz);
/* Closes both sockets (NNG waits for running pipe callbacks) and frees the
 * subscriber list. */
void ctl_transport_close(control *c);
/* Listens on the ipc socket file path, private to the user (mode 0600).
 * Also runs on the watchdog thread. */
int ctl_listen_ipc(nng_socket s, const char *path, nng_listener *out, char *err, size_t errsz);
/* "1.2.3.4:5678", "[::1]:5678" or "ipc". */
void ctl_format_addr(const nng_sockaddr *sa, char out[ADDR_MAX]);
bool ctl_is_tcp(const nng_sockaddr *sa);
/* True while the pipe is connected; sa (may be NULL) gets the peer's address. */
bool ctl_pipe_alive(uint32_t pipe, nng_sockaddr *sa);
/* Sends body (an object, borrowed) back along hdr's header. Returns 0, or
 * an error after which nothing was sent. */
int ctl_send_reply(control *c, const nng_msg *hdr, json_t *body);

/* ---- watchdog.c ---- */

/* Makes the watchdog's condition variable and sets the default interval. */
int ctl_watchdog_init(control *c, char *err, size_t errsz);
/* Starts the thread once the doors are open. */
int ctl_watchdog_start(control *c, char *err, size_t errsz);
/* Stops and joins the thread, and destroys what ctl_watchdog_init made;
 * safe on a control that opened only in part. */
void ctl_watchdog_stop(control *c);

/* ---- access.c ---- */

/* Copies the TCP address, the token and the allow list from cfg. */
int ctl_access_init(control *c, const kiln_config *cfg, char *err, size_t errsz);
void ctl_access_free(control *c);
/* Whether a TCP peer at sa is in the allow list. Runs on NNG's threads. */
bool ctl_addr_allowed(const control *c, const nng_sockaddr *sa);
/* Notes a refused connection or request in the ring (takes mu; any thread). */
void ctl_note_refused(control *c, const char *address, const char *reason);
/* Checks the token of a request (the map) that came over TCP from
 * address. Returns NULL when it passes; else notes the refusal and returns
 * the message of the error reply (static text). */
const char *ctl_token_refusal(control *c, const msgpack_object *map, const char *address);
/* The reply to "connections" (new ref), NULL when out of memory. The
 * caller sweeps the client table first. */
json_t *ctl_connections_json(control *c);

/* ---- clients.c ---- */

/* Forgets peers whose connection is gone, and drops the deferred replies
 * meant for them. Moves entries: pointers into the table go stale. */
void ctl_sweep(control *c);
cclient *ctl_client_find(control *c, uint32_t pipe);
/* The entry of the peer on pipe, made on its first request. NULL when the
 * pipe is already gone (*gone set) or the table is full. *tcp says whether
 * the peer came over TCP. */
cclient *ctl_client_for(control *c, uint32_t pipe, bool *gone, bool *tcp);
/* Adds a deferred request for req (its header is copied) from *cl (may be
 * NULL; looked up again when a sweep moved the table). Returns 0 with
 * *token set, -EBUSY when too many wait already, or -ENOMEM. */
int ctl_pending_add(control *c, nng_msg *req, cclient **cl, control_token *token);
/* Drops the deferred request token without answering it. */
void ctl_pending_drop(control *c, control_token token);
void ctl_clients_free(control *c);

/* ---- handlers.c ---- */

/* Handles one request and frees m (its answer may be deferred). */
void ctl_handle(control *c, nng_msg *m);

/* ---- queries.c ---- */

/* Starts the query workers. On failure err says why and control_close
 * stops what started. */
int ctl_queries_start(control *c, char *err, size_t errsz);
/* Stops and joins the workers; queued requests are dropped unanswered. */
void ctl_queries_stop(control *c);
/* Queues the read-only command argv (argv[0] is the request type and the
 * reply's key; copied) to be answered along req's header (copied; the
 * caller keeps req). Returns NULL, or the message of an error reply to
 * send now (static text: too many queued for this peer, or out of
 * memory). The loop's thread. */
const char *ctl_queries_submit(control *c, nng_msg *req, int argc, char **argv);
/* Counts the errors of the queries answered since the last call into the
 * client table. The loop's thread. */
void ctl_queries_account(control *c);

#endif
