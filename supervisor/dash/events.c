/* events.c: live updates for the page. A thread subscribes to the
 * supervisor's events (Cache/kiln.events) like any editor, keeps the newest
 * DASH_RING of them with sequence numbers, and answers the long polls of
 * GET /api/events?since=N: at once when something newer is kept, otherwise
 * when it comes or after DASH_POLL_MS with nothing. A poll that waits holds
 * no thread: its aio is parked in a list until then. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dash/dash_priv.h"
#include "kerr.h"
#include "klog.h"

/* The most events one answer carries; the page asks again for the rest. */
#define EVENTS_PER_ANSWER 1000
#define EVENT_WAIT_MS     200

/* A random id of this run, so that a page open across a restart of kiln
 * knows its sequence numbers no longer mean anything. */
static char boot_id[17];

static void make_boot_id(void)
{
	unsigned char r[8] = {0};
	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(r, &ts.tv_nsec, sizeof r < sizeof ts.tv_nsec ? sizeof r : sizeof ts.tv_nsec);
	}
	for (int i = 0; i < 8; i++)
		snprintf(boot_id + 2 * i, 3, "%02x", r[i]);
}

int64_t dash_events_seq(dash *d)
{
	pthread_mutex_lock(&d->ev_mu);
	int64_t s = d->seq;
	pthread_mutex_unlock(&d->ev_mu);
	return s;
}

/* The answer for a poll from since: {"boot", "seq", "reset", "more",
 * "events": [...]}. Called with ev_mu held. */
static void answer_locked(dash *d, int64_t since, dash_res *res)
{
	bool reset = since >= 0 && (since > d->seq || (since < d->ring_first - 1 && d->seq > 0));
	int64_t from = since < 0 || reset ? d->seq + 1 : since + 1;
	if (from < d->ring_first)
		from = d->ring_first;
	int64_t to = d->seq;
	bool more = false;
	if (to - from + 1 > EVENTS_PER_ANSWER) {
		to = from + EVENTS_PER_ANSWER - 1;
		more = true;
	}
	size_t cap = 160, len = 0;
	for (int64_t s = from; s <= to; s++)
		cap += strlen(d->ring[s % DASH_RING].json) + 1;
	char *buf = malloc(cap);
	if (!buf) {
		res->body = NULL;
		return;
	}
	len +=
	    (size_t)snprintf(buf, cap, "{\"boot\":\"%s\",\"seq\":%lld,\"reset\":%s,\"more\":%s,\"events\":[",
	                     boot_id, (long long)to, reset ? "true" : "false", more ? "true" : "false");
	for (int64_t s = from; s <= to; s++) {
		const char *j = d->ring[s % DASH_RING].json;
		size_t l = strlen(j);
		if (s > from)
			buf[len++] = ',';
		memcpy(buf + len, j, l);
		len += l;
	}
	buf[len++] = ']';
	buf[len++] = '}';
	buf[len] = '\0';
	res->status = 200;
	res->type = "application/json";
	res->body = buf;
	res->len = len;
}

/* Takes the waiters that can be answered now (new events, or past their
 * deadline, or every one when all is true) out of the list. Called with
 * ev_mu held; the caller answers them after letting go of it. */
static dash_waiter *take_ready_locked(dash *d, bool all)
{
	dash_waiter *ready = NULL;
	int64_t now = dash_now_ms();
	for (dash_waiter **pp = &d->waiters; *pp;) {
		dash_waiter *w = *pp;
		if (all || w->since != d->seq || now >= w->deadline) {
			*pp = w->next;
			d->n_waiters--;
			answer_locked(d, w->since, &w->answer);
			w->next = ready;
			ready = w;
			continue;
		}
		pp = &w->next;
	}
	return ready;
}

static void answer_taken(dash_waiter *ready)
{
	while (ready) {
		dash_waiter *w = ready;
		ready = w->next;
		dash_finish(w->aio, &w->answer);
		free(w);
	}
}

static void waiter_cancel(nng_aio *aio, void *arg, int rv)
{
	dash_gate *g = arg;
	pthread_mutex_lock(&g->mu);
	dash *d = g->d;
	if (d)
		g->busy++;
	pthread_mutex_unlock(&g->mu);
	if (!d)
		return;
	dash_waiter *found = NULL;
	pthread_mutex_lock(&d->ev_mu);
	for (dash_waiter **pp = &d->waiters; *pp; pp = &(*pp)->next) {
		if ((*pp)->aio == aio) {
			found = *pp;
			*pp = found->next;
			d->n_waiters--;
			break;
		}
	}
	pthread_mutex_unlock(&d->ev_mu);
	if (found) {
		nng_aio_finish(aio, rv);
		free(found);
	}
	pthread_mutex_lock(&g->mu);
	if (--g->busy == 0)
		pthread_cond_broadcast(&g->idle);
	pthread_mutex_unlock(&g->mu);
}

void dash_events_poll(dash *d, nng_aio *aio, int64_t since)
{
	dash_res res = {0};
	pthread_mutex_lock(&d->ev_mu);
	if (d->ev_stop) {
		pthread_mutex_unlock(&d->ev_mu);
		dash_res_error(&res, 503, "the dashboard is stopping");
		dash_finish(aio, &res);
		return;
	}
	if (since < 0 || since != d->seq) {
		answer_locked(d, since, &res);
		pthread_mutex_unlock(&d->ev_mu);
		dash_finish(aio, &res);
		return;
	}
	dash_waiter *w = d->n_waiters < DASH_WAITERS_MAX ? calloc(1, sizeof *w) : NULL;
	if (!w) {
		pthread_mutex_unlock(&d->ev_mu);
		dash_res_error(&res, 503, "too many pages wait for events; try again");
		dash_finish(aio, &res);
		return;
	}
	w->aio = aio;
	w->since = since;
	w->deadline = dash_now_ms() + DASH_POLL_MS;
	nng_aio_defer(aio, waiter_cancel, d->gate);
	w->next = d->waiters;
	d->waiters = w;
	d->n_waiters++;
	pthread_mutex_unlock(&d->ev_mu);
}

/* Keeps one event. */
static void push_event(dash *d, const char *topic, json_t *body)
{
	json_t *e = json_pack("{s:I, s:s, s:O}", "seq", (json_int_t)0, "topic", topic, "body", body);
	if (!e)
		return;
	pthread_mutex_lock(&d->ev_mu);
	int64_t seq = d->seq + 1;
	json_object_set_new(e, "seq", json_integer(seq));
	char *s = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	if (!s) {
		pthread_mutex_unlock(&d->ev_mu);
		return;
	}
	dash_event *slot = &d->ring[seq % DASH_RING];
	free(slot->json);
	slot->json = s;
	slot->seq = seq;
	d->seq = seq;
	if (d->ring_first == 0)
		d->ring_first = seq;
	if (seq - d->ring_first >= DASH_RING)
		d->ring_first = seq - DASH_RING + 1;
	pthread_mutex_unlock(&d->ev_mu);
}

static void *ev_main(void *arg)
{
	dash *d = arg;
	kclient *c = NULL;
	int64_t next_try = 0;
	for (;;) {
		pthread_mutex_lock(&d->ev_mu);
		bool stop = d->ev_stop;
		pthread_mutex_unlock(&d->ev_mu);
		if (stop)
			break;
		if (!c && dash_now_ms() >= next_try) {
			/* The supervisor that started the dashboard listens
			 * already; a failure here is retried. */
			if (kclient_open(d->cfg->cache, &c) != 0 || kclient_subscribe(c, "") != 0) {
				kclient_close(c);
				c = NULL;
				next_try = dash_now_ms() + 1000;
			}
			pthread_mutex_lock(&d->ev_mu);
			d->events_connected = c != NULL;
			pthread_mutex_unlock(&d->ev_mu);
		}
		if (c) {
			char *topic = NULL;
			json_t *body = NULL;
			int rc = kclient_next_event(c, &topic, &body, EVENT_WAIT_MS);
			int got = 0;
			/* A burst is taken whole before the polls are answered,
			 * so that 10,000 job events make a few answers, not
			 * 10,000. */
			while (rc == 0 && got < EVENTS_PER_ANSWER) {
				push_event(d, topic, body);
				free(topic);
				json_decref(body);
				topic = NULL;
				body = NULL;
				got++;
				rc = kclient_next_event(c, &topic, &body, 0);
			}
			free(topic);
			json_decref(body);
			if (rc != 0 && rc != -ETIMEDOUT && rc != KILN_E_PROTO) {
				klog(KLOG_WARN, "dashboard: lost the supervisor's events: %s",
				     kiln_strerror(rc));
				kclient_close(c);
				c = NULL;
				next_try = dash_now_ms() + 1000;
			}
		} else {
			struct timespec ts = {0, EVENT_WAIT_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&d->ev_mu);
		dash_waiter *ready = take_ready_locked(d, false);
		pthread_mutex_unlock(&d->ev_mu);
		answer_taken(ready);
	}
	kclient_close(c);
	return NULL;
}

int dash_events_start(dash *d)
{
	if (!boot_id[0])
		make_boot_id();
	if (pthread_create(&d->ev_thread, NULL, ev_main, d) != 0)
		return -EAGAIN;
	d->ev_started = true;
	return 0;
}

void dash_events_stop(dash *d)
{
	pthread_mutex_lock(&d->ev_mu);
	d->ev_stop = true;
	pthread_mutex_unlock(&d->ev_mu);
	if (d->ev_started) {
		pthread_join(d->ev_thread, NULL);
		d->ev_started = false;
	}
	pthread_mutex_lock(&d->ev_mu);
	dash_waiter *ready = take_ready_locked(d, true);
	pthread_mutex_unlock(&d->ev_mu);
	answer_taken(ready);
	for (int i = 0; i < DASH_RING; i++) {
		free(d->ring[i].json);
		d->ring[i].json = NULL;
	}
}
