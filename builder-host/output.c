/* output.c: what builders write: stdout frames (logs, the reply to the
 * frame in progress, or a broken protocol) and stderr lines (logs of the
 * frame in progress, bounded per frame). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "child.h"
#include "frame.h"
#include "host_priv.h"
#include "kerr.h"
#include "klog.h"
#include "lines.h"
#include "msg.h"

/* ---- stderr ---- */

typedef struct err_ctx {
	host *h;
	hb *b;
} err_ctx;

static void on_err_line(void *arg, const char *text, size_t len)
{
	err_ctx *ec = arg;
	host *h = ec->h;
	cur_frame *c = &h->c;

	if (!hb_serving(h, ec->b)) {
		if (len > 0)
			klog(KLOG_INFO, "builder %s (pid %d): %s", hb_name(ec->b), (int)ec->b->pid, text);
		return;
	}
	if (len == 0)
		return;
	if (c->probe) {
		/* The probe is the host's own request; its lines belong to no job. */
		klog(KLOG_INFO, "builder %s (pid %d) describing itself: %s", hb_name(ec->b), (int)ec->b->pid,
		     text);
		return;
	}
	if (c->err_lines >= HOST_STDERR_MAX_LINES || c->err_bytes + len + 1 > HOST_STDERR_MAX_BYTES) {
		c->err_dropped += len + 1;
		return;
	}
	c->err_lines++;
	c->err_bytes += len + 1;
	const char *t = text;
	msg_level lvl = lines_level(&t);
	sup_send_log(h, c->id, c->idx, lvl, t, NULL);
}

/* Reads stderr: a few chunks per wake-up so that a flood cannot starve the
 * rest of the loop, or (drain) until the pipe is empty. */
void out_read_stderr(host *h, hb *b, bool drain)
{
	static char buf[65536];
	err_ctx ec = {h, b};
	int rounds = drain ? 64 : 4;

	while (b->err_fd >= 0 && rounds-- > 0) {
		ssize_t n = read(b->err_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			child_close_fd(&b->err_fd);
			lines_flush(&b->err, on_err_line, &ec);
			return;
		}
		if (lines_feed(&b->err, buf, (size_t)n, on_err_line, &ec) != 0)
			klog(KLOG_WARN, "out of memory keeping the stderr tail of %s", hb_name(b));
	}
}

/* Reads b's stderr until the pipe is empty and ends a pending partial line:
 * everything the builder wrote so far is logged. */
void out_drain_stderr(host *h, hb *b)
{
	err_ctx ec = {h, b};
	out_read_stderr(h, b, true);
	lines_flush(&b->err, on_err_line, &ec);
}

/* ---- stdout ---- */

static void builder_broke(host *h, hb *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A builder broke the protocol: the frame it serves fails, or, when it
 * serves none, it is stopped for good. */
static void builder_broke(host *h, hb *b, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (hb_serving(h, b)) {
		serve_fail(h, HP_PROTOCOL_ERROR, "%s", detail);
	} else if (b->stopping) {
		/* Output after it was told to stop is no longer listened to. */
		child_close_fd(&b->out_fd);
	} else {
		klog(KLOG_WARN, "builder %s (pid %d) %s while idle; killing it", hb_name(b), (int)b->pid,
		     detail);
		hb_kill(b);
		if (b->persistent)
			key_crashed(h, b->key, detail);
	}
}

/* One complete frame from b's stdout. Returns false when b's stdout is no
 * longer to be read. */
/* Decodes a reply of type (create_jobs, process_job) into a
 * scratch arena. Returns 0, KILN_E_PROTO with why set, or -ENOMEM (the
 * supervisor decides then). */
static int check_reply(const char *type, const uint8_t *data, size_t len, char *why, size_t whysz)
{
	arena *a = arena_new();
	int rc = 0;
	if (!a)
		return -ENOMEM;
	if (strcmp(type, "process_job") == 0) {
		msg_process_job_resp r;
		rc = msg_decode_process_job_resp(data, len, a, &r, why, whysz);
	} else if (strcmp(type, "create_jobs") == 0) {
		msg_create_jobs_resp r;
		rc = msg_decode_create_jobs_resp(data, len, a, &r, why, whysz);
	}
	/* A describe reply the supervisor rejects disables its builder there;
	 * no job follows it on this builder. */
	arena_free(a);
	return rc;
}

static bool on_frame(host *h, hb *b, const uint8_t *data, size_t len)
{
	cur_frame *c = &h->c;
	char type[64], why[256];

	if (!hb_serving(h, b)) {
		if (b->stopping)
			return true;
		builder_broke(h, b, "sent a frame without being asked");
		return false;
	}
	if (msg_peek_type(data, len, type, sizeof(type), why, sizeof(why)) != 0) {
		serve_fail(h, HP_PROTOCOL_ERROR, "sent a frame that is not a map with a string \"type\": %s",
		           why);
		return false;
	}
	if (strcmp(type, "log") == 0) {
		arena *a = arena_new();
		msg_log lg;
		int rc = a ? msg_decode_log(data, len, a, &lg, why, sizeof(why)) : -ENOMEM;
		if (rc == 0 && c->probe)
			klog(KLOG_INFO, "builder %s (pid %d) describing itself: %s", hb_name(b), (int)b->pid,
			     lg.message);
		else if (rc == 0)
			sup_send_log(h, c->id, c->idx, lg.level, lg.message, &lg.context);
		else if (rc == -ENOMEM)
			klog(KLOG_ERROR, "out of memory decoding a log frame of %s", hb_name(b));
		arena_free(a);
		if (rc == KILN_E_PROTO) {
			serve_fail(h, HP_PROTOCOL_ERROR, "sent a broken log frame: %s", why);
			return false;
		}
		return true;
	}
	if (strcmp(type, c->req_type) != 0) {
		serve_fail(h, HP_PROTOCOL_ERROR, "replied with type \"%s\" to a \"%s\" request", type,
		           c->req_type);
		return false;
	}
	/* The reply is read here as the supervisor will read it: one it would
	 * reject fails the job as a protocol error and costs the builder its
	 * process, like a broken frame, so the next job never meets a builder
	 * that is out of step with its requests. */
	int rc = check_reply(type, data, len, why, sizeof why);
	if (rc == KILN_E_PROTO) {
		serve_fail(h, HP_PROTOCOL_ERROR, "sent a reply that breaks the protocol: %s", why);
		return false;
	}
	serve_finish(h, HP_OK, "", data, len);
	return true;
}

static uint32_t be32(const uint8_t p[4])
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static bool feed_stdout(host *h, hb *b, const uint8_t *buf, size_t n)
{
	size_t off = 0;
	while (off < n) {
		size_t used = 0, flen = 0;
		uint8_t *frame = NULL;
		int rc = frame_reader_feed(&b->fr, buf + off, n - off, &used, &frame, &flen);
		if (rc == KILN_E_TOOBIG) {
			builder_broke(h, b, "sent a frame length of %" PRIu32 " bytes, over the 64 MiB limit",
			              be32(b->fr.hdr));
			return false;
		}
		if (rc != 0) {
			builder_broke(h, b, "sent a frame that could not be read: %s", kiln_strerror(rc));
			return false;
		}
		off += used;
		if (frame) {
			bool go_on = on_frame(h, b, frame, flen);
			free(frame);
			if (!go_on)
				return false;
		} else if (used == 0) {
			break;
		}
	}
	return true;
}

static void on_stdout_eof(host *h, hb *b)
{
	if (!hb_serving(h, b))
		return;
	if (b->reaped)
		serve_crashed(h);
	else if (!h->c.eof_deadline_ms)
		h->c.eof_deadline_ms = host_now_ms() + HOST_EOF_WAIT_MS;
}

void out_read_stdout(host *h, hb *b, bool drain)
{
	static uint8_t buf[65536];
	int rounds = drain ? 64 : 16;

	while (b->out_fd >= 0 && !b->killed && rounds-- > 0) {
		ssize_t n = read(b->out_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			child_close_fd(&b->out_fd);
			on_stdout_eof(h, b);
			return;
		}
		if (!feed_stdout(h, b, buf, (size_t)n))
			return;
	}
}
