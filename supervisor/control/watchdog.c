/* watchdog.c: the thread that keeps the control's ipc listeners accepting.
 *
 * NNG 1.5.2's ipc listener stops accepting for good when a peer closes its
 * connection in the middle of the SP handshake (the transport reports the
 * failed handshake as "closed", which the listener takes for its own
 * closing; later NNG versions translate the code). Any client that connects
 * and goes away at once (a crash, Ctrl-C, a probe) could so lock every later
 * client out. The watchdog checks each ipc listener every probe_ms: it
 * connects and sends an SP header naming a protocol the socket does not
 * pair with. A listener that works completes the handshake, hands the pipe
 * to the socket, which refuses it and hangs up: the probe sees the end of
 * the stream. A stuck listener completes the handshake but never hands the
 * pipe on, so the stream stays open; the listener is then replaced. The
 * probe never hangs up first while the handshake may still run, so it
 * cannot cause what it looks for. Cooked REQ clients that were connected
 * reconnect by themselves and send their request again.
 *
 * The thread reads and writes its fields of the control under mu, and alone
 * touches the listener handles in doors[] once ctl_transport_open has
 * filled them in; the supervisor's thread only takes mu to change probe_ms,
 * to read (and log) the restarts, and to stop the thread. */
#include "control/control_priv.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROBE_INTERVAL_MS 5000 /* the default of probe_ms */
#define PROBE_WAIT_MS     3000 /* the longest a probe waits to be let in */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool wd_stopping(control *c)
{
	pthread_mutex_lock(&c->mu);
	bool stop = c->wd_stop;
	pthread_mutex_unlock(&c->mu);
	return stop;
}

/* True when the door let the probe in (or it could not be probed this
 * time, or the control is closing). */
static bool probe(control *c, const door *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint8_t hdr[8] = {0, 'S', 'P', 0, (uint8_t)(d->probe_proto >> 8), (uint8_t)d->probe_proto, 0, 0};
	uint8_t buf[64];
	bool ok = true;
	int fd;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", d->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* A full backlog (EAGAIN) or a missing file says nothing about the
	 * listener; the next round tries again. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    send(fd, hdr, sizeof hdr, MSG_NOSIGNAL) != (ssize_t)sizeof hdr)
		goto out;
	pthread_mutex_lock(&c->mu);
	int wait_ms = c->probe_ms < PROBE_WAIT_MS ? (c->probe_ms < 500 ? 500 : c->probe_ms) : PROBE_WAIT_MS;
	pthread_mutex_unlock(&c->mu);
	int64_t deadline = mono_ms() + wait_ms;
	ok = false;
	while (!ok) {
		int64_t left = deadline - mono_ms();
		if (left <= 0 || wd_stopping(c)) {
			ok = left > 0;
			break;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, left > 100 ? 100 : (int)left) <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			ok = true; /* the socket hung up on the probe */
	}
out:
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Replaces the door's listener; on failure err says why. */
static int restart_door(door *d, char *err, size_t errsz)
{
	nng_listener l;
	int rc;
	nng_listener_close(d->l);
	if ((rc = ctl_listen_ipc(d->s, d->path, &l, err, errsz)) == 0)
		d->l = l;
	return rc;
}

static void *watchdog(void *arg)
{
	control *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->wd_stop) {
		struct timespec ts;
		int64_t until = mono_ms() + c->probe_ms;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000L;
		pthread_cond_timedwait(&c->wd_cond, &c->mu, &ts);
		for (int i = 0; i < 2 && !c->wd_stop; i++) {
			char err[512] = "";
			int rc = 0;
			pthread_mutex_unlock(&c->mu);
			bool ok = probe(c, &c->doors[i]);
			if (!ok && !wd_stopping(c))
				rc = restart_door(&c->doors[i], err, sizeof err);
			pthread_mutex_lock(&c->mu);
			if (!ok)
				c->restarts++;
			if (rc != 0)
				snprintf(c->restart_err, sizeof c->restart_err, "%s", err);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

void control_set_probe_interval(control *c, int ms)
{
	if (!c || ms < 10)
		return;
	pthread_mutex_lock(&c->mu);
	c->probe_ms = ms;
	pthread_cond_broadcast(&c->wd_cond);
	pthread_mutex_unlock(&c->mu);
}

int ctl_watchdog_init(control *c, char *err, size_t errsz)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int crc = pthread_cond_init(&c->wd_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (crc != 0) {
		snprintf(err, errsz, "cannot create a condition variable");
		return -ENOMEM;
	}
	c->cond_init = true;
	c->probe_ms = PROBE_INTERVAL_MS;
	return 0;
}

int ctl_watchdog_start(control *c, char *err, size_t errsz)
{
	if (pthread_create(&c->wd_thread, NULL, watchdog, c) != 0) {
		snprintf(err, errsz, "cannot start the control watchdog thread");
		return -EAGAIN;
	}
	c->wd_started = true;
	return 0;
}

void ctl_watchdog_stop(control *c)
{
	if (c->wd_started) {
		pthread_mutex_lock(&c->mu);
		c->wd_stop = true;
		pthread_cond_broadcast(&c->wd_cond);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->wd_thread, NULL);
		c->wd_started = false;
	}
	/* Only the watchdog and control_set_probe_interval use the condition
	 * variable, so it can go before the sockets close. */
	if (c->cond_init)
		pthread_cond_destroy(&c->wd_cond);
	c->cond_init = false;
}
