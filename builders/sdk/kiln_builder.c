/* kiln_builder.c: the C builder SDK's protocol loop (see kiln_builder.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "kerr.h"
#include "kiln_builder.h"

struct kb_ctx {
	const kb_builder *b;
	int out_fd; /* the protocol's stdout, moved off fd 1 */
};

/* kb_add_product grows resp->products in the arena by doubling. The
 * capacity of the array it last grew is remembered here (the SDK is single
 * threaded), and forgotten after each request, so an array the builder
 * allocated itself is never written past its end: it is copied instead. */
static struct {
	const msg_product *ptr;
	size_t cap;
} grown;

void *kb_user(kb_ctx *ctx)
{
	return ctx ? ctx->b->user : NULL;
}

/* Encodes into a fresh buffer and writes one frame. Returns 0, -ENOMEM or
 * the write error. */
static int send_sb(kb_ctx *ctx, msgpack_sbuffer *sb)
{
	return frame_write_fd(ctx->out_fd, sb->data, sb->size);
}

static void log_v(kb_ctx *ctx, msg_level level, const char *const *keys, const char *const *values,
                  const char *fmt, va_list ap)
{
	char stackbuf[1024];
	char *text = stackbuf;
	char *heap = NULL;
	msg_kv *kvs = NULL;
	msgpack_sbuffer sb;
	va_list ap2;

	msgpack_sbuffer_init(&sb);
	va_copy(ap2, ap);
	int n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, ap);
	if (n < 0) {
		text = "(unformattable log message)";
	} else if ((size_t)n >= sizeof(stackbuf)) {
		heap = malloc((size_t)n + 1);
		if (heap) {
			vsnprintf(heap, (size_t)n + 1, fmt, ap2);
			text = heap;
		}
	}
	va_end(ap2);

	if (!ctx) {
		/* Outside kb_main there is no protocol stream: stderr lines are
		 * log lines too, with the same level prefixes. */
		const char *prefix = level == MSG_LEVEL_ERROR     ? "E: "
		                     : level == MSG_LEVEL_WARNING ? "W: "
		                                                  : "";
		fprintf(stderr, "%s%s\n", prefix, text);
		goto out;
	}

	msg_log m = {.level = level, .message = text};
	size_t nkv = 0;
	while (keys && values && keys[nkv] && values[nkv])
		nkv++;
	if (nkv) {
		kvs = calloc(nkv, sizeof(*kvs));
		if (kvs) {
			for (size_t i = 0; i < nkv; i++) {
				kvs[i].key = keys[i];
				kvs[i].value = values[i];
			}
			m.context.items = kvs;
			m.context.n = nkv;
		}
	}
	if (msg_encode_log(&sb, &m) == 0)
		send_sb(ctx, &sb);
out:
	msgpack_sbuffer_destroy(&sb);
	free(kvs);
	free(heap);
}

void kb_log(kb_ctx *ctx, msg_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(ctx, level, NULL, NULL, fmt, ap);
	va_end(ap);
}

void kb_log_ctx(kb_ctx *ctx, msg_level level, const char *const *ctx_keys, const char *const *ctx_values,
                const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v(ctx, level, ctx_keys, ctx_values, fmt, ap);
	va_end(ap);
}

int kb_jobs_per_platform(const msg_create_jobs_req *req, msg_create_jobs_resp *resp, arena *a,
                         const char *job_key)
{
	size_t n = req->platforms.n;
	msg_job_desc *jobs = arena_alloc(a, (n ? n : 1) * sizeof(*jobs));
	const char *key = arena_strdup(a, job_key ? job_key : "");
	if (!jobs || !key)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		jobs[i].job_key = key;
		jobs[i].platform = req->platforms.items[i];
	}
	resp->jobs = jobs;
	resp->n_jobs = n;
	resp->result = MSG_RESULT_SUCCESS;
	return 0;
}

msg_product *kb_add_product(msg_process_job_resp *resp, arena *a, const char *file, const char *asset_type,
                            uint32_t sub_id)
{
	size_t n = resp->n_products;
	const char *f = arena_strdup(a, file ? file : "");
	const char *t = arena_strdup(a, asset_type ? asset_type : "");
	if (!f || !t)
		return NULL;
	if (!(resp->products && resp->products == grown.ptr && n < grown.cap)) {
		size_t cap = n < 4 ? 8 : n * 2;
		msg_product *p = arena_alloc(a, cap * sizeof(*p));
		if (!p)
			return NULL;
		if (n)
			memcpy(p, resp->products, n * sizeof(*p));
		resp->products = p;
		grown.ptr = p;
		grown.cap = cap;
	}
	msg_product *p = &resp->products[n];
	memset(p, 0, sizeof(*p));
	p->file = f;
	p->asset_type = t;
	p->sub_id = sub_id;
	p->dependencies_handled = true;
	resp->n_products = n + 1;
	return p;
}

/* fd 1 is stderr inside kb_main, but the stdout FILE keeps the full
 * buffering it chose for a pipe: without a flush, a callback's printf()
 * would reach the log only when the buffer fills or the builder exits, and
 * land in some later job's log. Flushed before each reply, its lines arrive
 * with the job that wrote them. */
static void flush_callback_output(void)
{
	fflush(stdout);
	fflush(stderr);
}

/* The reply to a request that could not be served: {"type":t,"result":"failed"}. */
static int send_failed(kb_ctx *ctx, const char *type)
{
	msgpack_sbuffer sb;
	msg_enc e;
	int rc;

	msgpack_sbuffer_init(&sb);
	msg_enc_init(&e, &sb);
	msg_enc_map(&e, 2);
	msg_enc_str(&e, "type");
	msg_enc_str(&e, type);
	msg_enc_str(&e, "result");
	msg_enc_str(&e, "failed");
	rc = msg_enc_done(&e);
	if (rc == 0)
		rc = send_sb(ctx, &sb);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int send_describe(kb_ctx *ctx)
{
	const kb_builder *b = ctx->b;
	msgpack_sbuffer sb;
	msg_describe d = {
	    .name = b->name,
	    .uuid = b->uuid,
	    .version = b->version,
	    .analysis_fingerprint = b->analysis_fingerprint ? b->analysis_fingerprint : "",
	};
	size_t n = 0;
	while (b->patterns && b->patterns[n])
		n++;
	/* The pattern list is only read by the encoder; the cast drops a
	 * const that msg_strs does not spell. */
	d.patterns.items = (const char **)b->patterns;
	d.patterns.n = n;
	msgpack_sbuffer_init(&sb);
	int rc = msg_encode_describe(&sb, &d);
	if (rc == 0)
		rc = send_sb(ctx, &sb);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int serve_create_jobs(kb_ctx *ctx, const uint8_t *buf, size_t len, arena *a)
{
	msg_create_jobs_req req;
	msg_create_jobs_resp resp;
	msgpack_sbuffer sb;
	char err[512];
	int rc;

	msgpack_sbuffer_init(&sb);
	rc = msg_decode_create_jobs_req(buf, len, a, &req, err, sizeof(err));
	if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "create_jobs request cannot be decoded: %s",
		       rc == KILN_E_PROTO ? err : kiln_strerror(rc));
		goto failed;
	}
	if (!ctx->b->create_jobs) {
		kb_log(ctx, MSG_LEVEL_ERROR, "builder %s does not create jobs", ctx->b->name);
		goto failed;
	}
	memset(&resp, 0, sizeof(resp));
	resp.result = MSG_RESULT_FAILED;
	rc = ctx->b->create_jobs(ctx, &req, &resp, a);
	flush_callback_output();
	if (rc < 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "create_jobs for %s failed: %s", req.source_file,
		       kiln_strerror(rc));
		memset(&resp, 0, sizeof(resp));
		resp.result = MSG_RESULT_FAILED;
	}
	rc = msg_encode_create_jobs_resp(&sb, &resp);
	if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "create_jobs reply cannot be encoded: %s", kiln_strerror(rc));
		goto failed;
	}
	rc = send_sb(ctx, &sb);
	goto out;
failed:
	rc = send_failed(ctx, "create_jobs");
out:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int serve_process_job(kb_ctx *ctx, const uint8_t *buf, size_t len, arena *a)
{
	msg_process_job_req req;
	msg_process_job_resp resp;
	msgpack_sbuffer sb;
	char err[512];
	int rc;

	msgpack_sbuffer_init(&sb);
	rc = msg_decode_process_job_req(buf, len, a, &req, err, sizeof(err));
	if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "process_job request cannot be decoded: %s",
		       rc == KILN_E_PROTO ? err : kiln_strerror(rc));
		goto failed;
	}
	if (!ctx->b->process_job) {
		kb_log(ctx, MSG_LEVEL_ERROR, "builder %s does not process jobs", ctx->b->name);
		goto failed;
	}
	memset(&resp, 0, sizeof(resp));
	resp.result = MSG_RESULT_FAILED;
	rc = ctx->b->process_job(ctx, &req, &resp, a);
	flush_callback_output();
	if (rc < 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "process_job for %s failed: %s", req.source_file,
		       kiln_strerror(rc));
		memset(&resp, 0, sizeof(resp));
		resp.result = MSG_RESULT_FAILED;
	}
	rc = msg_encode_process_job_resp(&sb, &resp);
	if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "process_job reply cannot be encoded: %s", kiln_strerror(rc));
		goto failed;
	}
	rc = send_sb(ctx, &sb);
	goto out;
failed:
	rc = send_failed(ctx, "process_job");
out:
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int kb_main(const kb_builder *b, int argc, char **argv)
{
	kb_ctx ctx = {.b = b, .out_fd = -1};
	uint8_t *buf = NULL;
	arena *a = NULL;
	int exit_code = 1;

	(void)argc;
	(void)argv;

	/* stdout belongs to the protocol from here on: frames go to a private
	 * copy, and fd 1 becomes stderr so a stray printf() lands in the log
	 * instead of splitting a frame. */
	fflush(stdout);
	ctx.out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (ctx.out_fd < 0) {
		fprintf(stderr, "E: %s: cannot take over stdout: %s\n", b->name, strerror(errno));
		return 1;
	}
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		fprintf(stderr, "E: %s: cannot point stdout at stderr: %s\n", b->name, strerror(errno));
		goto out;
	}

	for (;;) {
		size_t len = 0;
		char type[64];
		char err[256];
		int rc = frame_read_fd(STDIN_FILENO, &buf, &len);
		if (rc == KILN_E_EOF) {
			exit_code = 0;
			break;
		}
		if (rc) {
			fprintf(stderr, "E: %s: reading a request: %s\n", b->name, kiln_strerror(rc));
			break;
		}
		rc = msg_peek_type(buf, len, type, sizeof(type), err, sizeof(err));
		if (rc) {
			/* Without a type there is nothing to reply to; the
			 * stream cannot be trusted any more. */
			kb_log(&ctx, MSG_LEVEL_ERROR, "broken request frame: %s",
			       rc == KILN_E_PROTO ? err : kiln_strerror(rc));
			break;
		}
		if (strcmp(type, "shutdown") == 0) {
			exit_code = 0;
			break;
		}
		a = arena_new();
		if (!a) {
			fprintf(stderr, "E: %s: out of memory\n", b->name);
			break;
		}
		if (strcmp(type, "describe") == 0) {
			rc = send_describe(&ctx);
		} else if (strcmp(type, "create_jobs") == 0) {
			rc = serve_create_jobs(&ctx, buf, len, a);
		} else if (strcmp(type, "process_job") == 0) {
			rc = serve_process_job(&ctx, buf, len, a);
		} else {
			kb_log(&ctx, MSG_LEVEL_ERROR, "unknown request type \"%s\"", type);
			rc = send_failed(&ctx, type);
		}
		arena_free(a);
		a = NULL;
		grown.ptr = NULL;
		grown.cap = 0;
		free(buf);
		buf = NULL;
		if (rc) {
			fprintf(stderr, "E: %s: writing a reply: %s\n", b->name, kiln_strerror(rc));
			break;
		}
	}
out:
	free(buf);
	arena_free(a);
	if (ctx.out_fd >= 0)
		close(ctx.out_fd);
	return exit_code;
}
