/* clients.c: the peers the control knows: the client table (a peer is
 * listed from its first request until its pipe goes) and the deferred
 * requests (compile) they wait on, each holding its request's header until
 * control_reply answers it or its peer goes.
 *
 * All of it runs on the supervisor's thread and has no lock: nothing here
 * may be called from a pipe callback or the watchdog. */
#include "control/control_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CLIENTS_MAX      4096
#define PENDING_MAX      4096
#define PENDING_PER_PIPE 64

/* ---- the client table ---- */

/* Drops entry i of the deferred requests, and its peer's count of them. */
static void drop_pending_at(control *c, size_t i)
{
	for (size_t k = 0; k < c->n_clients; k++)
		if (c->clients[k].pipe == c->pend[i].pipe && c->clients[k].pending > 0)
			c->clients[k].pending--;
	nng_msg_free(c->pend[i].hdr);
	c->pend[i] = c->pend[--c->n_pend];
}

void ctl_sweep(control *c)
{
	for (size_t i = 0; i < c->n_pend;) {
		if (!ctl_pipe_alive(c->pend[i].pipe, NULL))
			drop_pending_at(c, i);
		else
			i++;
	}
	for (size_t i = 0; i < c->n_clients;) {
		if (!ctl_pipe_alive(c->clients[i].pipe, NULL))
			c->clients[i] = c->clients[--c->n_clients];
		else
			i++;
	}
	c->last_sweep_ms = ctl_now_ms();
}

cclient *ctl_client_find(control *c, uint32_t pipe)
{
	for (size_t i = 0; i < c->n_clients; i++)
		if (c->clients[i].pipe == pipe)
			return &c->clients[i];
	return NULL;
}

cclient *ctl_client_for(control *c, uint32_t pipe, bool *gone, bool *tcp)
{
	nng_sockaddr sa;
	*gone = false;
	for (size_t i = 0; i < c->n_clients; i++) {
		if (c->clients[i].pipe == pipe) {
			*tcp = c->clients[i].tcp;
			return &c->clients[i];
		}
	}
	if (!ctl_pipe_alive(pipe, &sa)) {
		*gone = true;
		return NULL;
	}
	*tcp = ctl_is_tcp(&sa);
	if (c->n_clients == CLIENTS_MAX)
		ctl_sweep(c);
	if (c->n_clients == CLIENTS_MAX) {
		c->untracked++;
		return NULL;
	}
	if (c->n_clients == c->cap_clients) {
		size_t cap = c->cap_clients ? c->cap_clients * 2 : 16;
		cclient *n = realloc(c->clients, cap * sizeof *n);
		if (!n) {
			c->untracked++;
			return NULL;
		}
		c->clients = n;
		c->cap_clients = cap;
	}
	cclient *cl = &c->clients[c->n_clients++];
	memset(cl, 0, sizeof *cl);
	cl->pipe = pipe;
	cl->id = c->next_client_id++;
	cl->pid = -1;
	cl->peer_pid = -1;
	cl->tcp = *tcp;
	cl->since_ms = ctl_now_ms();
	ctl_format_addr(&sa, cl->address);
	if (!cl->tcp) {
		uint64_t pid;
		nng_pipe p = NNG_PIPE_INITIALIZER;
		p.id = pipe;
		if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &pid) == 0 && pid <= INT64_MAX)
			cl->peer_pid = (int64_t)pid;
	}
	return cl;
}

/* ---- deferred requests ---- */

int ctl_pending_add(control *c, nng_msg *req, cclient **cl, control_token *token)
{
	uint32_t pipe = nng_msg_get_pipe(req).id;
	nng_msg *hdr = NULL;

	if (c->n_pend >= PENDING_MAX) {
		/* The sweep moves entries: find the peer's again. */
		ctl_sweep(c);
		*cl = ctl_client_find(c, pipe);
	}
	if (c->n_pend >= PENDING_MAX || (*cl && (*cl)->pending >= PENDING_PER_PIPE))
		return -EBUSY;
	if (!c->pend && !(c->pend = calloc(PENDING_MAX, sizeof *c->pend)))
		return -ENOMEM;
	if (nng_msg_alloc(&hdr, 0) != 0 ||
	    nng_msg_header_append(hdr, nng_msg_header(req), nng_msg_header_len(req)) != 0) {
		nng_msg_free(hdr);
		return -ENOMEM;
	}
	pending *p = &c->pend[c->n_pend++];
	p->token = *token = c->next_token++;
	p->pipe = pipe;
	p->hdr = hdr;
	if (*cl)
		(*cl)->pending++;
	return 0;
}

/* The index of token's entry, or n_pend when there is none. */
static size_t pending_find(const control *c, control_token token)
{
	size_t i = 0;
	while (i < c->n_pend && c->pend[i].token != token)
		i++;
	return i;
}

void ctl_pending_drop(control *c, control_token token)
{
	size_t i = pending_find(c, token);
	if (i < c->n_pend)
		drop_pending_at(c, i);
}

void control_reply(control *c, control_token token, json_t *reply)
{
	json_t *rep = NULL;
	size_t i;
	if (!c || (i = pending_find(c, token)) == c->n_pend)
		return;
	pending *p = &c->pend[i];
	/* A client that went away gets nothing; NNG would drop the message
	 * anyway, this only avoids the work. */
	if (ctl_pipe_alive(p->pipe, NULL)) {
		if (json_is_object(reply))
			rep = json_deep_copy(reply);
		else
			rep = json_pack("{s:O?}", "result", reply);
		if (rep && !json_object_get(rep, "ok"))
			json_object_set_new(rep, "ok", json_true());
		if (rep)
			(void)ctl_send_reply(c, p->hdr, rep);
		json_decref(rep);
	}
	drop_pending_at(c, i);
}

void ctl_clients_free(control *c)
{
	for (size_t i = 0; i < c->n_pend; i++)
		nng_msg_free(c->pend[i].hdr);
	free(c->pend);
	free(c->clients);
}
