/* kiln_builder.h: the C SDK for writing kiln builders.
 *
 * A builder supplies its identity and two callbacks; kb_main() runs the
 * builder protocol (SPEC section 5) on stdin/stdout: it answers describe,
 * decodes create_jobs and process_job requests, calls the callbacks, encodes
 * their replies, and exits on shutdown or end of stdin. Builders never touch
 * the framing.
 *
 * Memory: requests and replies live in an arena that the SDK frees after the
 * reply is sent. Callbacks allocate reply fields from the arena `a` they are
 * given (arena_alloc, arena_strdup) and never free them.
 *
 * Logging: kb_log() sends a log frame at once, so it reaches the job log even
 * if the builder crashes right after. Writing to stderr works too ("W: " and
 * "E: " prefixes make warnings and errors). stdout belongs to the protocol:
 * kb_main() moves the process's stdout to a private descriptor and points
 * fd 1 at stderr, so a stray printf() cannot corrupt a frame; it becomes an
 * info line of the job log (stdout is flushed after each callback, so the
 * line lands in the log of the job that printed it).
 *
 * Installed (cmake/install.cmake, component "sdk"), this header sits with
 * arena.h and msg.h in <prefix>/include/kiln, beside libkiln_builder_sdk.a,
 * libkiln_common.a and kiln-builder.pc: a builder outside the kiln tree
 * builds with `pkg-config --cflags --libs kiln-builder` (see
 * builders/examples/c). */
#ifndef KILN_BUILDER_H
#define KILN_BUILDER_H

#include <stdarg.h>

#include "arena.h"
#include "msg.h"

typedef struct kb_ctx kb_ctx;

typedef struct kb_builder {
	const char *name;
	const char *uuid;
	const char *version;
	const char *analysis_fingerprint; /* NULL means "" */
	const char *const *patterns;      /* NULL-terminated */

	/* Fill resp (result, jobs, deps). The SDK sets resp->result to failed
	 * before the call. Return 0; a negative return makes the reply "failed"
	 * with the return code logged. */
	int (*create_jobs)(kb_ctx *ctx, const msg_create_jobs_req *req, msg_create_jobs_resp *resp, arena *a);

	/* Write products into req->temp_dir and list them in resp (paths relative
	 * to temp_dir). Same return convention. */
	int (*process_job)(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a);

	void *user; /* for the callbacks: kb_user(ctx) returns it */
} kb_builder;

/* Runs the protocol loop. Returns the process exit code for main() to
 * return: 0 after shutdown or end of input, 1 when the loop cannot go on (a
 * protocol error on stdin, a reply that cannot be written, no memory, or
 * stdout that cannot be taken over).
 *
 * b is borrowed: kb_main neither copies nor frees it, so it and everything
 * it points to (strings, patterns, user) must stay valid until kb_main
 * returns. argc and argv are not read: the builders share no command line,
 * so a builder with options of its own (kiln-texture's --rgba8, kiln-mesh's
 * --import-timeout) parses them before the call and hands what it found to
 * its callbacks through b->user (or a static), and to the supervisor through
 * b->analysis_fingerprint when the options change the jobs. */
int kb_main(const kb_builder *b, int argc, char **argv);

/* Sends one log frame now. level is MSG_LEVEL_INFO/WARNING/ERROR. ctx_keys
 * and ctx_values (NULL-terminated arrays, may be NULL) become the context.
 * With a NULL ctx (outside kb_main) the line goes to stderr with the "W: " or
 * "E: " prefix of its level. */
void kb_log(kb_ctx *ctx, msg_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kb_log_ctx(kb_ctx *ctx, msg_level level, const char *const *ctx_keys, const char *const *ctx_values,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

void *kb_user(kb_ctx *ctx);

/* Helper for the common case: one job per platform with job_key, no params,
 * not critical, priority 0. Sets result success. Returns 0 or -ENOMEM. */
int kb_jobs_per_platform(const msg_create_jobs_req *req, msg_create_jobs_resp *resp, arena *a,
                         const char *job_key);

/* Helper: appends a product to resp. file and asset_type are copied into a.
 * Returns the product (zeroed, with file, asset_type, sub_id set and
 * dependencies_handled true) or NULL when out of memory. The array grows in
 * the arena; an array the builder allocated itself is copied, never written
 * past its end. Earlier product pointers may move: keep indexes, not
 * pointers, across calls. */
msg_product *kb_add_product(msg_process_job_resp *resp, arena *a, const char *file, const char *asset_type,
                            uint32_t sub_id);

#endif
