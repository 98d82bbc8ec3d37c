/* dash.c: the dashboard's HTTP side: NNG's server, the checks every
 * request passes, the page's files, and the queue that hands API requests
 * to the dashboard's own worker threads. */
#include "dash/dash.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "dash/dash_priv.h"
#include "kerr.h"
#include "klog.h"

/* The page's files come from supervisor/dash/web/ through web.cmake, which
 * defines KILN_DASH_WEB; a build without it serves a page that says so. */
#ifdef KILN_DASH_WEB
extern const dash_web_file dash_web_files[];
#else
static const unsigned char missing_page[] =
    "<!doctype html><meta charset=utf-8><title>kiln</title><meta name=kiln-token content=\"__KILN_TOKEN__\">"
    "<p>This kiln was built without the dashboard's page: add include(supervisor/dash/web/web.cmake) to the "
    "build. The JSON API under /api/ works all the same (supervisor/dash/web/README.md).";
static const dash_web_file dash_web_files[] = {
    {"/index.html", "text/html; charset=utf-8", missing_page, sizeof missing_page - 1},
    {NULL, NULL, NULL, 0},
};
#endif

static const char token_mark[] = "__KILN_TOKEN__";

/* ---- answers ---- */

static void set_common_headers(nng_http_res *r)
{
	nng_http_res_set_header(r, "X-Content-Type-Options", "nosniff");
	nng_http_res_set_header(r, "X-Frame-Options", "DENY");
	nng_http_res_set_header(r, "Referrer-Policy", "no-referrer");
	nng_http_res_set_header(
	    r, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
	    " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
}

static void finish_raw(nng_aio *aio, int status, const char *type, const void *body, size_t len,
                       const char *cache)
{
	nng_http_res *r = NULL;
	if (nng_http_res_alloc(&r) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_http_res_set_status(r, (uint16_t)status);
	set_common_headers(r);
	nng_http_res_set_header(r, "Cache-Control", cache);
	if (type)
		nng_http_res_set_header(r, "Content-Type", type);
	if (nng_http_res_copy_data(r, body, len) != 0) {
		nng_http_res_free(r);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(aio, 0, r);
	nng_aio_finish(aio, 0);
}

void dash_finish(nng_aio *aio, dash_res *res)
{
	if (!res->body) {
		/* Only an allocation failure leaves no body. */
		static const char oom[] = "{\"error\": \"out of memory\"}";
		finish_raw(aio, 500, "application/json", oom, sizeof oom - 1, "no-store");
	} else {
		finish_raw(aio, res->status ? res->status : 200, res->type ? res->type : "application/json",
		           res->body, res->len, "no-store");
	}
	free(res->body);
	res->body = NULL;
}

static void reply_error(nng_aio *aio, int status, const char *msg)
{
	dash_res res = {0};
	dash_res_error(&res, status, "%s", msg);
	dash_finish(aio, &res);
}

void dash_res_json(dash_res *res, int status, json_t *v)
{
	free(res->body);
	res->body = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	res->len = res->body ? strlen(res->body) : 0;
	res->status = status;
	res->type = "application/json";
	json_decref(v);
}

void dash_res_error(dash_res *res, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A message may quote what the client sent; json_string refuses bytes
	 * that are not UTF-8, so such a message is replaced. */
	json_t *s = json_string(msg);
	if (!s)
		s = json_string("the request was malformed");
	dash_res_json(res, status, json_pack("{s:o}", "error", s));
}

/* ---- the gate between NNG's handler and the dashboard ---- */

static void gate_unref(dash_gate *g)
{
	pthread_mutex_lock(&g->mu);
	int left = --g->refs;
	pthread_mutex_unlock(&g->mu);
	if (left == 0) {
		pthread_mutex_destroy(&g->mu);
		pthread_cond_destroy(&g->idle);
		free(g);
	}
}

static void gate_handler_dtor(void *arg)
{
	gate_unref(arg);
}

/* The dashboard, held busy, or NULL when it is closing. */
static dash *gate_enter(dash_gate *g)
{
	pthread_mutex_lock(&g->mu);
	dash *d = g->d;
	if (d)
		g->busy++;
	pthread_mutex_unlock(&g->mu);
	return d;
}

static void gate_leave(dash_gate *g)
{
	pthread_mutex_lock(&g->mu);
	if (--g->busy == 0)
		pthread_cond_broadcast(&g->idle);
	pthread_mutex_unlock(&g->mu);
}

/* ---- the work queue ---- */

static void job_free(dash_job *j)
{
	if (!j)
		return;
	free(j->req.path);
	free(j->req.query);
	free(j->req.body);
	free(j);
}

/* NNG gives up on a request (its connection closed): one still queued is
 * answered here; one a worker has taken is answered by the worker. */
static void job_cancel(nng_aio *aio, void *arg, int rv)
{
	dash_gate *g = arg;
	dash *d = gate_enter(g);
	if (!d)
		return;
	dash_job *found = NULL;
	pthread_mutex_lock(&d->mu);
	for (dash_job **pp = &d->head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
		if ((*pp)->aio != aio)
			continue;
		found = *pp;
		*pp = found->next;
		if (d->tail == found)
			d->tail = prev;
		d->queued--;
		break;
	}
	pthread_mutex_unlock(&d->mu);
	if (found) {
		nng_aio_finish(aio, rv);
		job_free(found);
	}
	gate_leave(g);
}

static void *worker_main(void *arg)
{
	dash *d = arg;
	kclient *ctl = NULL;
	for (;;) {
		pthread_mutex_lock(&d->mu);
		while (!d->head && !d->stopping)
			pthread_cond_wait(&d->cv, &d->mu);
		dash_job *j = d->head;
		if (j) {
			d->head = j->next;
			if (!d->head)
				d->tail = NULL;
			d->queued--;
		}
		bool stopping = d->stopping;
		pthread_mutex_unlock(&d->mu);
		if (!j)
			break;
		dash_res res = {0};
		if (stopping)
			dash_res_error(&res, 503, "the dashboard is stopping");
		else
			dash_api(d, &ctl, &j->req, &res);
		dash_finish(j->aio, &res);
		job_free(j);
	}
	kclient_close(ctl);
	return NULL;
}

/* ---- requests ---- */

static const dash_web_file *find_file(const char *path)
{
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	for (const dash_web_file *f = dash_web_files; f->path; f++)
		if (strcmp(f->path, path) == 0)
			return f;
	return NULL;
}

static void serve_file(dash *d, nng_aio *aio, const char *path)
{
	const dash_web_file *f = find_file(path);
	if (!f) {
		reply_error(aio, 404, "no such page");
		return;
	}
	if (strcmp(f->path, "/index.html") == 0) {
		/* The page carries the session's token: never cached. */
		finish_raw(aio, 200, f->type, d->index_html, d->index_len, "no-store");
		return;
	}
	finish_raw(aio, 200, f->type, f->data, f->len, "no-cache");
}

static void enqueue(dash *d, nng_aio *aio, const char *method, const char *path, size_t plen,
                    const char *query, nng_http_req *req)
{
	dash_job *j = calloc(1, sizeof *j);
	if (!j || !(j->req.path = strndup(path, plen)) || !(j->req.query = strdup(query ? query : ""))) {
		job_free(j);
		reply_error(aio, 500, "out of memory");
		return;
	}
	snprintf(j->req.method, sizeof j->req.method, "%s", method);
	j->aio = aio;
	void *body = NULL;
	size_t blen = 0;
	nng_http_req_get_data(req, &body, &blen);
	if (blen > 0) {
		if (!(j->req.body = malloc(blen + 1))) {
			job_free(j);
			reply_error(aio, 500, "out of memory");
			return;
		}
		memcpy(j->req.body, body, blen);
		j->req.body[blen] = '\0';
		j->req.body_len = blen;
	}
	pthread_mutex_lock(&d->mu);
	if (d->stopping || d->queued >= DASH_QUEUE_MAX) {
		bool stopping = d->stopping;
		pthread_mutex_unlock(&d->mu);
		job_free(j);
		reply_error(aio, 503,
		            stopping ? "the dashboard is stopping" : "too many requests at once; try again");
		return;
	}
	/* Registered before the job is visible to a worker, so that a cancel
	 * either finds it queued or leaves it to the worker. */
	nng_aio_defer(aio, job_cancel, d->gate);
	if (d->tail)
		d->tail->next = j;
	else
		d->head = j;
	d->tail = j;
	d->queued++;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

static void handle(dash *d, nng_aio *aio, nng_http_req *req)
{
	const char *method = nng_http_req_get_method(req);
	const char *uri = nng_http_req_get_uri(req);
	const char *host = nng_http_req_get_header(req, "Host");
	const char *origin = nng_http_req_get_header(req, "Origin");

	if (!uri || strlen(uri) > DASH_URI_MAX) {
		reply_error(aio, 414, "the request target is too long");
		return;
	}
	if (!dash_host_ok(host, d->port)) {
		reply_error(aio, 403,
		            "this dashboard answers only requests addressed to it by address or as localhost"
		            " (Host header)");
		return;
	}
	if (origin && !dash_origin_ok(origin, d->port)) {
		reply_error(aio, 403, "cross-site requests are refused (Origin header)");
		return;
	}
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	if (!get && !post) {
		reply_error(aio, 405, "only GET, HEAD and POST are answered");
		return;
	}
	/* An absolute target ("http://host/path") is read as its path. */
	const char *path = uri;
	if (strncmp(path, "http://", 7) == 0) {
		path = strchr(path + 7, '/');
		if (!path)
			path = "/";
	}
	if (path[0] != '/') {
		reply_error(aio, 400, "the request target must be a path");
		return;
	}
	const char *q = strchr(path, '?');
	size_t plen = q ? (size_t)(q - path) : strlen(path);
	const char *query = q ? q + 1 : "";
	const char *hash = strchr(query, '#');
	if (hash)
		query = ""; /* browsers never send a fragment; a client that does gets no arguments */

	if (plen >= 5 && strncmp(path, "/api/", 5) == 0) {
		if (post) {
			const char *tok = nng_http_req_get_header(req, "X-Kiln-Token");
			if (!dash_token_ok(d->token, tok)) {
				reply_error(aio, 403,
				            "this action needs the session's token in an X-Kiln-Token header "
				            "(it is in"
				            " the dashboard's page)");
				return;
			}
		}
		if (plen == 11 && strncmp(path, "/api/events", 11) == 0) {
			char v[32];
			const char *why = NULL;
			int64_t since = -1;
			if (!get) {
				reply_error(aio, 405, "/api/events takes GET");
				return;
			}
			int rc = dash_query_get(query, "since", v, sizeof v, &why);
			if (rc < 0 || (rc == 0 && dash_parse_count(v, INT64_MAX / 2, &since) != 0)) {
				reply_error(aio, 400, "since takes a sequence number (0 or more)");
				return;
			}
			dash_events_poll(d, aio, since);
			return;
		}
		enqueue(d, aio, get ? "GET" : "POST", path, plen, query, req);
		return;
	}
	if (!get) {
		reply_error(aio, 405, "pages take GET");
		return;
	}
	char p[256];
	if (plen >= sizeof p) {
		reply_error(aio, 404, "no such page");
		return;
	}
	memcpy(p, path, plen);
	p[plen] = '\0';
	serve_file(d, aio, p);
}

static void http_cb(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	dash_gate *g = nng_http_handler_get_data(h);
	dash *d = gate_enter(g);
	if (!d) {
		reply_error(aio, 503, "the dashboard is stopping");
		return;
	}
	handle(d, aio, req);
	gate_leave(g);
}

/* ---- opening and closing ---- */

const char *dash_url(const dash *d)
{
	return d ? d->url : "";
}

static int make_token(char out[DASH_TOKEN_LEN + 1])
{
	unsigned char raw[DASH_TOKEN_LEN / 2];
	size_t got = 0;
	while (got < sizeof raw) {
		ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* index.html with every token mark replaced by the token. */
static int make_index(dash *d)
{
	const dash_web_file *f = find_file("/index.html");
	if (!f)
		return -ENOENT;
	size_t ml = sizeof token_mark - 1, marks = 0;
	for (size_t i = 0; i + ml <= f->len; i++)
		if (memcmp(f->data + i, token_mark, ml) == 0)
			marks++;
	size_t cap = f->len + marks * DASH_TOKEN_LEN + 1;
	char *out = malloc(cap);
	if (!out)
		return -ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < f->len;) {
		if (i + ml <= f->len && memcmp(f->data + i, token_mark, ml) == 0) {
			memcpy(out + o, d->token, DASH_TOKEN_LEN);
			o += DASH_TOKEN_LEN;
			i += ml;
		} else {
			out[o++] = (char)f->data[i++];
		}
	}
	out[o] = '\0';
	d->index_html = out;
	d->index_len = o;
	return 0;
}

static bool is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}

static void dash_free(dash *d)
{
	if (!d)
		return;
	free(d->index_html);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->ev_mu);
	free(d);
}

int dash_open(const kiln_config *cfg, const char *self_dir, dash **out, char *err, size_t errsz)
{
	dash *d = NULL;
	nng_url *url = NULL;
	int rc, rv;
	bool srv_held = false;

	(void)self_dir;
	*out = NULL;
	if (!cfg || !cfg->http || !cfg->http[0])
		return 0;
	if (!(d = calloc(1, sizeof *d))) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	d->cfg = cfg;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	pthread_mutex_init(&d->ev_mu, NULL);
	snprintf(d->hostport, sizeof d->hostport, "%s", cfg->http);
	snprintf(d->url, sizeof d->url, "http://%s/", cfg->http);
	snprintf(d->log_path, sizeof d->log_path, "%s/logs/kiln.log", cfg->cache);
	snprintf(d->cache_sock, sizeof d->cache_sock, "%s/kiln.sock", cfg->cache);
	if ((rc = make_token(d->token)) != 0) {
		snprintf(err, errsz, "cannot make the session token: %s", strerror(-rc));
		goto fail;
	}
	if ((rc = make_index(d)) != 0) {
		snprintf(err, errsz, "the dashboard's page is missing from this build");
		goto fail;
	}
	if ((rv = nng_url_parse(&url, d->url)) != 0) {
		snprintf(err, errsz, "http \"%s\" is not HOST:PORT: %s", cfg->http, nng_strerror(rv));
		rc = -EINVAL;
		goto fail;
	}
	d->port = atoi(url->u_port);
	d->loopback_only = is_loopback(url->u_hostname);
	if (!(d->gate = calloc(1, sizeof *d->gate))) {
		rc = -ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&d->gate->mu, NULL);
	pthread_cond_init(&d->gate->idle, NULL);
	d->gate->refs = 1;
	d->gate->d = d;

	if ((rv = nng_http_server_hold(&d->srv, url)) != 0) {
		snprintf(err, errsz, "cannot serve http on %s: %s", cfg->http, nng_strerror(rv));
		rc = -EIO;
		goto fail;
	}
	srv_held = true;
	if ((rv = nng_http_handler_alloc(&d->handler, "/", http_cb)) != 0 ||
	    (rv = nng_http_handler_set_method(d->handler, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(d->handler)) != 0 ||
	    (rv = nng_http_handler_collect_body(d->handler, true, DASH_BODY_MAX)) != 0) {
		snprintf(err, errsz, "cannot set up the http handler: %s", nng_strerror(rv));
		rc = -EIO;
		goto fail;
	}
	d->gate->refs++;
	nng_http_handler_set_data(d->handler, d->gate, gate_handler_dtor);
	if ((rv = nng_http_server_add_handler(d->srv, d->handler)) != 0) {
		snprintf(err, errsz, "cannot set up the http handler: %s", nng_strerror(rv));
		rc = -EIO;
		goto fail;
	}
	d->handler = NULL; /* the server owns it now */

	for (int i = 0; i < DASH_WORKERS; i++) {
		if (pthread_create(&d->workers[i], NULL, worker_main, d) != 0)
			break;
		d->n_workers++;
	}
	if (d->n_workers == 0 || dash_events_start(d) != 0) {
		snprintf(err, errsz, "cannot start the dashboard's threads");
		rc = -EAGAIN;
		goto fail;
	}
	if ((rv = nng_http_server_start(d->srv)) != 0) {
		if (rv == NNG_EADDRINUSE)
			snprintf(
			    err, errsz,
			    "%s is in use (another kiln run, or another program; set \"http\" in kiln.json)",
			    cfg->http);
		else if (rv == NNG_EADDRINVAL)
			snprintf(err, errsz, "%s is not an address of this machine", cfg->http);
		else
			snprintf(err, errsz, "cannot listen on %s: %s", cfg->http, nng_strerror(rv));
		rc = -EADDRINUSE;
		goto fail;
	}
	nng_url_free(url);
	if (!d->loopback_only)
		klog(KLOG_WARN, "dashboard: listening on %s, beyond this machine (kiln.json \"http\")",
		     cfg->http);
	klog(KLOG_INFO, "dashboard: %s", d->url);
	*out = d;
	return 0;
fail:
	if (url)
		nng_url_free(url);
	if (d->handler) {
		nng_http_handler_free(d->handler);
		d->handler = NULL;
	}
	if (d->gate) {
		/* No request reached the dashboard (the server never started),
		 * but the workers and the events thread must still stop. */
		pthread_mutex_lock(&d->gate->mu);
		d->gate->d = NULL;
		pthread_mutex_unlock(&d->gate->mu);
	}
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	for (int i = 0; i < d->n_workers; i++)
		pthread_join(d->workers[i], NULL);
	dash_events_stop(d);
	if (srv_held)
		nng_http_server_release(d->srv);
	if (d->gate)
		gate_unref(d->gate);
	dash_free(d);
	return rc;
}

void dash_close(dash *d)
{
	if (!d)
		return;
	/* No callback enters the dashboard from here on, and the ones inside
	 * leave first. */
	pthread_mutex_lock(&d->gate->mu);
	d->gate->d = NULL;
	while (d->gate->busy > 0)
		pthread_cond_wait(&d->gate->idle, &d->gate->mu);
	pthread_mutex_unlock(&d->gate->mu);
	/* The workers answer what is queued, the long polls are answered,
	 * then the server stops. */
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	for (int i = 0; i < d->n_workers; i++)
		pthread_join(d->workers[i], NULL);
	dash_events_stop(d);
	/* The answers just given are written by NNG's threads; stopping the
	 * server closes every connection at once, so they get a moment. */
	nng_msleep(150);
	nng_http_server_stop(d->srv);
	nng_http_server_release(d->srv);
	gate_unref(d->gate);
	dash_free(d);
}
