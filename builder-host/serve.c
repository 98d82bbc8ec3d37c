/* serve.c: runs served one at a time, their frames in order: the queue,
 * starting a frame on its builder (after a restart gap, or behind a probe,
 * when restart.h says so), writing it, and its one reply. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "arena.h"
#include "child.h"
#include "frame.h"
#include "host_priv.h"
#include "kerr.h"
#include "klog.h"
#include "lines.h"
#include "msg.h"
#include "restart.h"
#include "sandbox.h"

/* ---- the frame in progress ---- */

/* The end of a probe: no reply (the frame it stands before has not started
 * yet). A builder that described itself stays and serves that frame; one
 * that did not is given up. A cancel teaches nothing: the next start is a
 * probe again. */
static void probe_finish(host *h, hp_status st, const char *detail)
{
	cur_frame *c = &h->c;
	hb *b = c->b;
	c->active = false;
	c->probe = false;
	c->b = NULL;
	lines_tail_clear(&b->err);
	if (st == HP_OK) {
		key_healthy(h, b->key, true);
		b->last_used_ms = host_now_ms();
		if (b->reaped)
			hb_stop(b);
		return;
	}
	hb_kill(b);
	if (st != HP_CANCELLED)
		key_probe_failed(h, b->key, detail);
}

/* Sends the frame's one reply and leaves the builder in the state the
 * outcome calls for. */
void serve_finish(host *h, hp_status st, const char *detail, const uint8_t *frame, size_t frame_len)
{
	cur_frame *c = &h->c;
	hb *b = c->b;
	const char *tail[LINES_TAIL];
	size_t ntail = 0;
	char warn[96];

	if (b) {
		/* Lines the builder wrote before its reply or its end are already
		 * in the pipe; they belong to this frame. */
		out_drain_stderr(h, b);
		ntail = lines_tail(&b->err, tail, LINES_TAIL);
	}
	if (c->probe) {
		probe_finish(h, st, detail);
		return;
	}
	if (c->err_dropped) {
		snprintf(warn, sizeof(warn), "stderr truncated: %" PRIu64 " more bytes dropped",
		         c->err_dropped);
		sup_send_log(h, c->id, c->idx, MSG_LEVEL_WARNING, warn, NULL);
	}
	/* The builder's new restart state goes out before the reply, so that
	 * the supervisor knows it when it handles the reply. Timeouts and
	 * cancels are not held against a builder: no spinning can come of
	 * them, each costs the builder its timeout. */
	if (b && b->persistent && st == HP_OK)
		key_healthy(h, b->key, false);
	else if (b && b->persistent && (st == HP_CRASHED || st == HP_PROTOCOL_ERROR))
		key_crashed(h, b->key, detail);
	hp_reply r = {
	    .id = c->id,
	    .idx = c->idx,
	    .status = st,
	    .detail = detail,
	    .frame = {frame, frame_len},
	    .stderr_tail = {st == HP_OK ? NULL : tail, st == HP_OK ? 0 : ntail},
	    .duration_us = host_now_us() - c->start_us,
	};
	sup_send_reply(h, &r);
	if (st != HP_OK)
		klog(st == HP_CANCELLED ? KLOG_INFO : KLOG_WARN,
		     "run %" PRIu64 " frame %" PRIu32 " (%s): %s: %s", c->id, c->idx, b ? hb_name(b) : "?",
		     hp_status_name(st), detail);

	c->active = false;
	c->b = NULL;
	h->next_idx++;
	if (!b)
		return;
	lines_tail_clear(&b->err);
	if (st != HP_OK)
		hb_kill(b);
	else if (!b->persistent || b->reaped)
		hb_stop(b);
	else
		b->last_used_ms = host_now_ms();
}

/* Kills the serving builder's group and answers the frame with st. */
void serve_fail(host *h, hp_status st, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (h->c.b)
		hb_kill(h->c.b);
	serve_finish(h, st, detail, NULL, 0);
}

/* The serving builder is gone (reaped) without a reply. */
void serve_crashed(host *h)
{
	hb *b = h->c.b;
	char st[128];
	const char *when = "";

	child_describe_status(b->wstatus, st, sizeof(st));
	if (WIFEXITED(b->wstatus))
		when = WEXITSTATUS(b->wstatus) ? " before replying" : " without replying";
	serve_fail(h, HP_CRASHED, "%s%s%s", st, when,
	           frame_reader_partial(&b->fr) ? " (in the middle of a frame)" : "");
}

void serve_write(host *h)
{
	cur_frame *c = &h->c;
	hb *b = c->b;
	size_t total = 4 + c->len;

	while (c->woff < total && !c->write_closed) {
		struct iovec iov[2];
		int n = 0;
		if (c->woff < 4) {
			iov[n++] = (struct iovec){c->prefix + c->woff, 4 - c->woff};
			iov[n++] = (struct iovec){(void *)c->data, c->len};
		} else {
			iov[n++] = (struct iovec){(void *)(c->data + (c->woff - 4)), total - c->woff};
		}
		ssize_t w = writev(b->in_fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w < 0) {
			/* The builder closed its stdin or is gone; its exit (or the
			 * timeout) will answer the frame. */
			klog(KLOG_INFO, "builder %s (pid %d) stopped reading its requests: %s", hb_name(b),
			     (int)b->pid, strerror(errno));
			c->write_closed = true;
			return;
		}
		c->woff += (size_t)w;
	}
}

bool serve_writing(const host *h)
{
	return h->c.active && !h->c.write_closed && h->c.woff < 4 + h->c.len && h->c.b->in_fd >= 0;
}

/* Starts frame next_idx of the head run: finds or starts its builder and
 * begins writing. Answers at once when that is impossible. */
static void frame_begin(host *h)
{
	qrun *q = h->head;
	const hp_run *run = &q->run;
	const hp_builder *spec = &run->builder;
	const hp_bytes *f = &run->frames[h->next_idx];
	cur_frame *c = &h->c;
	h->probe = (hp_bytes){(const uint8_t *)h->probe_req.data, h->probe_req.size};
	char err[512];
	hb *b = NULL;

	memset(c, 0, sizeof(*c));
	c->id = run->id;
	c->idx = h->next_idx;
	c->start_us = host_now_us();

	if (f->len > FRAME_MAX) {
		snprintf(err, sizeof(err), "request frame of %zu bytes is over the 64 MiB limit", f->len);
		sup_reply_plain(h, c->id, c->idx, HP_PROTOCOL_ERROR, err);
		h->next_idx++;
		return;
	}
	char why[256];
	if (msg_peek_type(f->data, f->len, c->req_type, sizeof(c->req_type), why, sizeof(why)) != 0) {
		snprintf(err, sizeof(err), "request frame is broken: %s", why);
		sup_reply_plain(h, c->id, c->idx, HP_PROTOCOL_ERROR, err);
		h->next_idx++;
		return;
	}

	c->timeout_s = spec->timeout_s ? spec->timeout_s : HOST_DEFAULT_TIMEOUT_S;
	if (spec->persistent)
		b = hb_find_persistent(h, spec);
	if (b) {
		int rc = sandbox_renew_cpu(b->pid, c->timeout_s);
		if (rc != 0)
			klog(KLOG_WARN, "cannot renew the CPU limit of builder %s (pid %d): %s", hb_name(b),
			     (int)b->pid, kiln_strerror(rc));
	} else {
		const char *cwd = h->scratch;
		const char *key = spec->key ? spec->key : "";
		hkey *k = spec->persistent ? key_find(h, key) : NULL;
		uint64_t wait = 0;
		restart_state rs = k ? restart_check(&k->r, host_now_ms(), &wait) : RESTART_OK;
		if (rs == RESTART_GIVEN_UP) {
			restart_describe(&k->r, host_now_ms(), err, sizeof(err));
			sup_reply_plain(h, c->id, c->idx, HP_SPAWN_FAILED, err);
			h->next_idx++;
			return;
		}
		if (rs == RESTART_BACKOFF) {
			/* Not started: serve_advance() comes back once the gap is over. */
			h->defer_ms = host_now_ms() + (wait ? wait : 1);
			return;
		}
		if (k && k->r.crashes > 0)
			klog(KLOG_INFO, "restarting builder %s (%" PRIu32 " crash%s in a row%s)", key,
			     k->r.crashes, k->r.crashes == 1 ? "" : "es",
			     rs == RESTART_PROBE ? "; it describes itself first" : "");
		if (!spec->persistent && run->cwd && run->cwd[0])
			cwd = run->cwd;
		if (spec->persistent)
			hb_make_room(h);
		if (hb_spawn(h, spec, cwd, &b, err, sizeof(err)) != 0) {
			klog(KLOG_WARN, "run %" PRIu64 " frame %" PRIu32 ": %s", c->id, c->idx, err);
			if (rs == RESTART_PROBE)
				key_probe_failed(h, key, err);
			else if (spec->persistent)
				key_crashed(h, key, err);
			sup_reply_plain(h, c->id, c->idx, HP_SPAWN_FAILED, err);
			h->next_idx++;
			return;
		}
		if (rs == RESTART_PROBE) {
			/* The frame waits; the fresh process first answers the host's
			 * describe request (probe_finish()). */
			c->probe = true;
			c->timeout_s =
			    c->timeout_s < HOST_PROBE_TIMEOUT_S ? c->timeout_s : HOST_PROBE_TIMEOUT_S;
			snprintf(c->req_type, sizeof(c->req_type), "describe");
			f = &h->probe;
		}
	}
	lines_tail_clear(&b->err);
	c->active = true;
	c->b = b;
	c->deadline_ms = host_now_ms() + (uint64_t)c->timeout_s * 1000u;
	frame_put_len(c->prefix, (uint32_t)f->len);
	c->data = f->data;
	c->len = f->len;
	b->last_used_ms = host_now_ms();
	serve_write(h);
}

/* ---- the queue of runs ---- */

static void run_pop(host *h)
{
	qrun *q = h->head;
	h->defer_ms = 0;
	h->head = q->next;
	if (!h->head)
		h->tail = NULL;
	h->next_idx = 0;
	arena_free(q->a);
	free(q);
}

/* Queues run, whose strings and frames live in a; the queued run owns a
 * from then on. Returns 0, or -ENOMEM when a stays the caller's. */
int serve_enqueue(host *h, arena *a, const hp_run *run)
{
	qrun *q = calloc(1, sizeof(*q));
	if (!q) {
		/* Without memory there is no way to answer either; the
		 * supervisor's own timeout covers it. */
		klog(KLOG_ERROR, "out of memory queueing run %" PRIu64, run->id);
		return -ENOMEM;
	}
	q->a = a;
	q->run = *run;
	if (h->tail)
		h->tail->next = q;
	else
		h->head = q;
	h->tail = q;
	klog(KLOG_DEBUG, "run %" PRIu64 ": %zu frame(s) for builder %s", q->run.id, q->run.n_frames,
	     q->run.builder.key ? q->run.builder.key : "");
	return 0;
}

/* Frees every queued run without a reply (the host is ending). */
void serve_drop_all(host *h)
{
	while (h->head)
		run_pop(h);
}

/* Starts frames until one is in flight, one waits for a restart gap, or
 * nothing is left. */
void serve_advance(host *h)
{
	while (!h->quit && !h->c.active && h->head) {
		if (h->next_idx >= h->head->run.n_frames) {
			run_pop(h);
			continue;
		}
		if (h->defer_ms) {
			if (host_now_ms() < h->defer_ms)
				return;
			h->defer_ms = 0;
		}
		frame_begin(h);
		if (h->defer_ms)
			return;
	}
}

void serve_cancel(host *h, uint64_t id)
{
	if (h->head && h->head->run.id == id) {
		klog(KLOG_INFO, "run %" PRIu64 " cancelled", id);
		if (h->c.active)
			serve_fail(h, HP_CANCELLED, "cancelled by the supervisor");
		/* Every frame gets its one reply, including those that never
		 * started. */
		while (h->next_idx < h->head->run.n_frames) {
			sup_reply_plain(h, id, h->next_idx, HP_CANCELLED,
			                "run cancelled before this frame started");
			h->next_idx++;
		}
		return;
	}
	for (qrun **pp = h->head ? &h->head->next : NULL; pp && *pp; pp = &(*pp)->next) {
		qrun *q = *pp;
		if (q->run.id != id)
			continue;
		klog(KLOG_INFO, "run %" PRIu64 " cancelled before it started", id);
		for (size_t i = 0; i < q->run.n_frames; i++)
			sup_reply_plain(h, id, (uint32_t)i, HP_CANCELLED,
			                "run cancelled before this frame started");
		*pp = q->next;
		if (h->tail == q) {
			h->tail = h->head;
			while (h->tail->next)
				h->tail = h->tail->next;
		}
		arena_free(q->a);
		free(q);
		return;
	}
	klog(KLOG_DEBUG, "cancel for run %" PRIu64 ", which is not here", id);
}
