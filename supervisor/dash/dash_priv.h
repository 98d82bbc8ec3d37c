/* dash_priv.h: what the dash*.c files share, and the request checks that
 * tests/unit/dash_test.c exercises directly. Not for other modules. */
#ifndef KILN_DASH_PRIV_H
#define KILN_DASH_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include "config/config.h"
#include "dash/dash.h"
#include "kclient.h"

/* Limits on what a request may carry. */
#define DASH_URI_MAX     8192 /* the whole request target */
#define DASH_ARG_MAX     4096 /* one decoded query argument */
#define DASH_BODY_MAX    (4u << 20)
#define DASH_QUEUE_MAX   256 /* requests waiting for a worker */
#define DASH_WORKERS     4
#define DASH_RING        4096  /* events kept for long polls */
#define DASH_POLL_MS     20000 /* how long a long poll waits */
#define DASH_WAITERS_MAX 256   /* long polls waiting at once */
#define DASH_TOKEN_LEN   64    /* hex characters */

/* One file of the page, compiled in by supervisor/dash/web/web.cmake. */
typedef struct dash_web_file {
	const char *path; /* "/index.html" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
} dash_web_file;

/* A request as the workers see it (copied out of NNG's request). */
typedef struct dash_req {
	char method[8];
	char *path;  /* the path of the target, not decoded */
	char *query; /* what follows '?', "" when nothing */
	char *body;  /* NUL-terminated copy, or NULL */
	size_t body_len;
} dash_req;

/* An answer: status, Content-Type and a body (malloc'd, owned here). */
typedef struct dash_res {
	int status;
	const char *type;
	char *body;
	size_t len;
} dash_res;

/* A queued request. */
typedef struct dash_job {
	struct dash_job *next;
	nng_aio *aio;
	dash_req req;
} dash_job;

/* A long poll that waits for events. */
typedef struct dash_waiter {
	struct dash_waiter *next;
	nng_aio *aio;
	int64_t since;
	int64_t deadline; /* ms, monotonic */
	dash_res answer;  /* made under the lock, sent after it */
} dash_waiter;

/* One event kept for long polls. */
typedef struct dash_event {
	int64_t seq;
	char *json; /* {"seq", "topic", "body"} as compact JSON */
} dash_event;

/* Shared between the dashboard and NNG's handler, which may run after the
 * dashboard is gone: it lives until the last of them lets go. */
typedef struct dash_gate {
	pthread_mutex_t mu;
	pthread_cond_t idle;
	int refs; /* the dashboard, and the handler until NNG frees it */
	dash *d;  /* NULL once the dashboard is closing */
	int busy; /* callbacks inside the dashboard now */
} dash_gate;

struct dash {
	const kiln_config *cfg;
	char url[600];
	char hostport[512]; /* as listened on, "127.0.0.1:45644" */
	int port;
	bool loopback_only; /* listens on a loopback address */
	char token[DASH_TOKEN_LEN + 1];
	char log_path[4200];
	char cache_sock[4200];

	nng_http_server *srv;
	nng_http_handler *handler;
	dash_gate *gate;

	/* The page, index.html with the token written in. */
	char *index_html;
	size_t index_len;

	/* Work queue and workers. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	dash_job *head, *tail;
	size_t queued;
	bool stopping;
	pthread_t workers[DASH_WORKERS];
	int n_workers;

	/* Events: the ring and the long polls waiting on it. */
	pthread_mutex_t ev_mu;
	dash_event ring[DASH_RING];
	int64_t seq;        /* of the newest event, 0 before any */
	int64_t ring_first; /* the oldest seq still in the ring */
	dash_waiter *waiters;
	size_t n_waiters;
	bool ev_stop;
	pthread_t ev_thread;
	bool ev_started;
	bool events_connected;

	/* The tools switches as last set through the dashboard. */
	bool debug_output;
};

/* ---- checks on untrusted requests (dash_util.c) ---- */

/* Finds key in a query string ("a=1&b=x%2Fy") and decodes its value into
 * out: %XX escapes and '+' as a space. Returns 0 when found, 1 when the key
 * is not there, or -EINVAL with why (a static string) for a value that is
 * malformed (a bad escape, a NUL, a control character other than tab, not
 * UTF-8), KILN_E_TOOBIG when it does not fit in out. The last occurrence
 * of a key wins. */
int dash_query_get(const char *query, const char *key, char *out, size_t outsz, const char **why);

/* Decodes the %XX escapes of a path segment in place with the same rules.
 * Returns 0 or -EINVAL. */
int dash_unescape(char *s, const char **why);

/* True when host (the Host header) names the dashboard: "localhost",
 * an IPv4 address or a bracketed IPv6 address, with the dashboard's port.
 * Names other than localhost are refused, so that a web site whose name
 * resolves to this machine (DNS rebinding) cannot read the API. */
bool dash_host_ok(const char *host, int port);

/* True when origin (the Origin header, or NULL when there is none) is the
 * dashboard's own: "http://" + a Host that dash_host_ok() accepts. */
bool dash_origin_ok(const char *origin, int port);

/* Compares a token with the expected one in constant time. NULL never
 * matches. */
bool dash_token_ok(const char *expected, const char *got);

/* A decimal count from 0 to max in s (no sign, no spaces). Returns 0 or
 * -EINVAL. */
int dash_parse_count(const char *s, int64_t max, int64_t *out);

/* Splits "TIME LEVEL [who] message" of the supervisor's log. Returns the
 * level (0 debug, 1 info, 2 warning, 3 error) or -1 for a line of another
 * shape (a continuation, which belongs to the line before). */
int dash_log_level(const char *line, size_t len);

/* ---- answers (dash_api.c) ---- */

/* Answers one API request (path starts with "/api/"). Runs on a worker. */
void dash_api(dash *d, kclient **ctl, const dash_req *req, dash_res *res);

/* res = {"error": msg} with status. */
void dash_res_error(dash_res *res, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* res = v as JSON with status 200 (v is taken). */
void dash_res_json(dash_res *res, int status, json_t *v);

/* A control request on the worker's client (opened and greeted when
 * needed, replaced after a transport failure). Returns the reply (new
 * reference) or NULL with err set. */
json_t *dash_control(dash *d, kclient **ctl, json_t *req, int timeout_ms, char *err, size_t errsz);

/* ---- events (dash_events.c) ---- */

int dash_events_start(dash *d);
void dash_events_stop(dash *d);
/* Answers GET /api/events?since=N: at once when newer events are kept,
 * else when one comes or after DASH_POLL_MS. Runs on NNG's thread; the aio
 * is finished exactly once. */
void dash_events_poll(dash *d, nng_aio *aio, int64_t since);
/* The newest sequence number. */
int64_t dash_events_seq(dash *d);

/* Sends res on aio and finishes it (res's body is copied; res is freed). */
void dash_finish(nng_aio *aio, dash_res *res);

/* Monotonic ms. */
int64_t dash_now_ms(void);

#endif
