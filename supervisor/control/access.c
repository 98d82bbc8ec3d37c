/* access.c: who may use the control: the TCP address, token and allow list
 * copied from the config, the check of a TCP peer's address (on NNG's
 * threads, from the REP pipe callback) and of a TCP request's token, the
 * ring of refused connections and requests, and the connections list that
 * shows them with the clients.
 *
 * The configuration copied here is read-only once the listeners start, so
 * NNG's threads may read it without a lock; the refused ring is written
 * from any thread, under mu. */
#include "control/control_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "query/query.h"

/* ---- the configuration ---- */

int ctl_access_init(control *c, const kiln_config *cfg, char *err, size_t errsz)
{
	c->tcp_on = cfg->control.tcp && cfg->control.tcp[0];
	if (c->tcp_on) {
		c->tcp = strdup(cfg->control.tcp);
		c->token = cfg->control.token ? strdup(cfg->control.token) : NULL;
		c->n_nets = cfg->control.n_allow;
		c->nets = calloc(c->n_nets ? c->n_nets : 1, sizeof *c->nets);
		if (!c->tcp || (cfg->control.token && !c->token) || !c->nets) {
			snprintf(err, errsz, "out of memory");
			return -ENOMEM;
		}
		if (c->n_nets)
			memcpy(c->nets, cfg->control.allow_nets, c->n_nets * sizeof *c->nets);
	}
	return 0;
}

void ctl_access_free(control *c)
{
	free(c->tcp);
	free(c->token);
	free(c->nets);
}

/* ---- checks ---- */

bool ctl_addr_allowed(const control *c, const nng_sockaddr *sa)
{
	const uint8_t *a = NULL;
	int fam = 0;
	if (sa->s_family == NNG_AF_INET) {
		a = (const uint8_t *)&sa->s_in.sa_addr;
		fam = 4;
	} else if (sa->s_family == NNG_AF_INET6) {
		a = sa->s_in6.sa_addr;
		fam = 6;
	} else {
		return false;
	}
	for (size_t i = 0; i < c->n_nets; i++)
		if (config_cidr_match(&c->nets[i], fam, a))
			return true;
	return false;
}

void ctl_note_refused(control *c, const char *address, const char *reason)
{
	pthread_mutex_lock(&c->mu);
	refused *r = &c->refused[c->n_refused % REFUSED_KEEP];
	snprintf(r->address, sizeof r->address, "%s", address);
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	r->time_ms = ctl_now_ms();
	c->n_refused++;
	pthread_mutex_unlock(&c->mu);
}

/* Compares in time that does not depend on where the strings differ. */
static bool token_equal(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	unsigned char diff = (unsigned char)(alen != blen);
	for (size_t i = 0; i < blen; i++)
		diff |= (unsigned char)((i < alen ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
	return diff == 0;
}

const char *ctl_token_refusal(control *c, const msgpack_object *map, const char *address)
{
	const msgpack_object *t = msg_dec_get(map, "token");
	const char *why = NULL;
	if (!t)
		why = "no token";
	else if (t->type != MSGPACK_OBJECT_STR || !c->token ||
	         !token_equal(t->via.str.ptr, t->via.str.size, c->token))
		why = "wrong token";
	if (!why)
		return NULL;
	ctl_note_refused(c, address, why);
	return strcmp(why, "no token") == 0 ? "requests over TCP must carry the project's \"token\""
	                                    : "wrong token";
}

/* ---- the connections list ---- */

static json_t *iso_time(int64_t ms)
{
	char buf[32];
	query_iso_time(ms, buf);
	return json_string(buf);
}

static json_t *client_json(const cclient *cl)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "client_id", json_integer((json_int_t)cl->id));
	json_object_set_new(o, "name", cl->registered ? json_string(cl->name) : json_null());
	json_object_set_new(o, "pid", cl->pid >= 0 ? json_integer(cl->pid) : json_null());
	json_object_set_new(o, "peer_pid", cl->peer_pid >= 0 ? json_integer(cl->peer_pid) : json_null());
	json_object_set_new(o, "registered", json_boolean(cl->registered));
	json_object_set_new(o, "transport", json_string(cl->tcp ? "tcp" : "ipc"));
	json_object_set_new(o, "address", json_string(cl->address));
	json_object_set_new(o, "since", iso_time(cl->since_ms));
	json_object_set_new(o, "last_request", iso_time(cl->last_ms));
	json_object_set_new(o, "requests", json_integer((json_int_t)cl->requests));
	json_object_set_new(o, "errors", json_integer((json_int_t)cl->errors));
	json_object_set_new(o, "pending", json_integer((json_int_t)cl->pending));
	return o;
}

json_t *ctl_connections_json(control *c)
{
	json_t *rep = NULL, *clients, *refused_arr, *allowed, *hosts = NULL;
	int subs;
	uint64_t n_ref;

	rep = json_object();
	clients = json_array();
	refused_arr = json_array();
	allowed = json_array();
	if (!rep || !clients || !refused_arr || !allowed)
		goto oom;
	json_object_set_new(rep, "ok", json_true());
	json_object_set_new(rep, "clients", clients);
	json_object_set_new(rep, "refused", refused_arr);
	json_object_set_new(rep, "allowed", allowed);
	for (size_t i = 0; i < c->n_clients; i++)
		json_array_append_new(clients, client_json(&c->clients[i]));
	if (c->ops.hosts)
		hosts = c->ops.hosts(c->ops.ud);
	json_object_set_new(rep, "hosts", json_is_array(hosts) ? hosts : (json_decref(hosts), json_array()));
	json_object_set_new(rep, "control", json_string(c->sock_path));
	json_object_set_new(rep, "events", json_string(c->events_path));
	json_object_set_new(rep, "tcp", c->tcp_on ? json_string(c->tcp) : json_null());
	for (size_t i = 0; c->tcp_on && i < c->cfg->control.n_allow; i++)
		json_array_append_new(allowed, json_string(c->cfg->control.allow[i]));
	pthread_mutex_lock(&c->mu);
	subs = (int)c->n_subs;
	n_ref = c->n_refused;
	uint64_t restarts = c->restarts;
	uint64_t first = n_ref > REFUSED_KEEP ? n_ref - REFUSED_KEEP : 0;
	for (uint64_t i = first; i < n_ref; i++) {
		const refused *f = &c->refused[i % REFUSED_KEEP];
		json_t *o = json_object();
		if (!o)
			continue;
		json_object_set_new(o, "address", json_string(f->address));
		json_object_set_new(o, "time", iso_time(f->time_ms));
		json_object_set_new(o, "reason", json_string(f->reason));
		json_array_append_new(refused_arr, o);
	}
	pthread_mutex_unlock(&c->mu);
	json_object_set_new(rep, "refused_total", json_integer((json_int_t)n_ref));
	json_object_set_new(rep, "subscribers", json_integer(subs));
	json_object_set_new(rep, "listener_restarts", json_integer((json_int_t)restarts));
	json_object_set_new(rep, "requests", json_integer((json_int_t)c->requests_total));
	json_object_set_new(rep, "errors", json_integer((json_int_t)c->errors_total));
	json_object_set_new(rep, "untracked_requests", json_integer((json_int_t)c->untracked));
	return rep;
oom:
	json_decref(rep);
	json_decref(clients);
	json_decref(refused_arr);
	json_decref(allowed);
	return NULL;
}
