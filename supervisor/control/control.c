/* control.c: the control API of a running supervisor (SPEC section 8,
 * supervisor/control/control-api.md): opening and closing it, and what the
 * event loop calls (control_fd, control_on_readable, which also logs what
 * the other threads noted).
 *
 * The REP socket is raw, so this module sees each request with its NNG
 * header (the pipe id and the request's backtrace) and can answer in any
 * order by sending a message that carries that header back: a compile that
 * waits for jobs holds on to its header while other requests are answered.
 * Everything runs on the supervisor's thread, except the pipe callbacks
 * (transport.c), which NNG runs on its own threads, and the watchdog thread
 * (watchdog.c); control_priv.h lists the module's files and says what each
 * thread may touch. */
#include "control/control_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>

#include "kerr.h"
#include "klog.h"
#include "path.h"

#define BATCH_MAX         64 /* requests handled per control_on_readable() */
#define SWEEP_INTERVAL_MS 1000

int64_t ctl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- opening and closing ---- */

int control_open(const kiln_config *cfg, const control_ops *ops, control **out, char *err, size_t errsz)
{
	control *c = NULL;
	int rc;
	char dummy[1];

	if (!err || errsz == 0) {
		err = dummy;
		errsz = sizeof dummy;
	}
	err[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!cfg || !cfg->cache || !ops) {
		snprintf(err, errsz, "control_open: no configuration");
		return -EINVAL;
	}
	c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	c->ops = *ops;
	c->cfg = cfg;
	c->fd = -1;
	c->next_client_id = 1;
	c->next_token = 1;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		snprintf(err, errsz, "cannot create a mutex");
		return -ENOMEM;
	}
	c->mu_init = true;
	if ((rc = ctl_watchdog_init(c, err, errsz)) != 0)
		goto fail;

	if (snprintf(c->sock_path, sizeof c->sock_path, "%s/kiln.sock", cfg->cache) >=
	        (int)sizeof c->sock_path ||
	    snprintf(c->events_path, sizeof c->events_path, "%s/kiln.events", cfg->cache) >=
	        (int)sizeof c->events_path) {
		snprintf(err, errsz, "the cache path is too long: %s", cfg->cache);
		rc = -ENAMETOOLONG;
		goto fail;
	}
	if ((rc = path_mkdirs(cfg->cache, 0755)) != 0) {
		snprintf(err, errsz, "cannot create the cache %s: %s", cfg->cache, kiln_strerror(rc));
		goto fail;
	}
	if ((rc = ctl_access_init(c, cfg, err, errsz)) != 0)
		goto fail;
	if ((rc = ctl_transport_open(c, err, errsz)) != 0)
		goto fail;
	if ((rc = ctl_watchdog_start(c, err, errsz)) != 0)
		goto fail;
	if ((rc = ctl_queries_start(c, err, errsz)) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	control_close(c);
	return rc;
}

void control_close(control *c)
{
	if (!c)
		return;
	/* The workers send replies on the sockets: they stop first. */
	ctl_queries_stop(c);
	ctl_watchdog_stop(c);
	/* Closing waits for NNG's callbacks to finish, so the mutex they use
	 * goes only after both sockets are closed. */
	ctl_transport_close(c);
	ctl_clients_free(c);
	ctl_access_free(c);
	if (c->mu_init)
		pthread_mutex_destroy(&c->mu);
	free(c);
}

int control_fd(control *c)
{
	return c ? c->fd : -1;
}

/* Logs what the other threads noted since the last look: refused
 * connections and requests, and listener restarts (the callbacks and the
 * watchdog do not log themselves). */
static void log_news(control *c)
{
	pthread_mutex_lock(&c->mu);
	uint64_t n = c->n_refused, from = c->n_refused_logged;
	refused last = n ? c->refused[(n - 1) % REFUSED_KEEP] : (refused){{0}, 0, {0}};
	c->n_refused_logged = n;
	uint64_t restarts = c->restarts - c->restarts_logged;
	c->restarts_logged = c->restarts;
	char restart_err[sizeof c->restart_err];
	memcpy(restart_err, c->restart_err, sizeof restart_err);
	c->restart_err[0] = '\0';
	pthread_mutex_unlock(&c->mu);
	if (restart_err[0])
		klog(KLOG_ERROR, "control: an ipc listener could not be restarted: %s", restart_err);
	if (restarts)
		klog(KLOG_WARN,
		     "control: an ipc listener stopped accepting connections and was restarted (%" PRIu64 ")",
		     restarts);
	if (n > from)
		klog(KLOG_INFO,
		     "control: refused %" PRIu64 " connection%s or request%s, the last from %s (%s)",
		     n - from, n - from == 1 ? "" : "s", n - from == 1 ? "" : "s", last.address, last.reason);
}

void control_on_readable(control *c)
{
	if (!c || !c->rep_open)
		return;
	for (int n = 0; n < BATCH_MAX; n++) {
		nng_msg *m = NULL;
		if (nng_recvmsg(c->rep, &m, NNG_FLAG_NONBLOCK) != 0)
			break;
		ctl_handle(c, m);
	}
	ctl_queries_account(c);
	if (ctl_now_ms() - c->last_sweep_ms >= SWEEP_INTERVAL_MS)
		ctl_sweep(c);
	log_news(c);
}
