/* msg.h: the builder protocol's messages (SPEC section 5), decoded into C
 * structs with every field checked, and encoded back to MessagePack.
 *
 * Decoders take the payload of one frame (a MessagePack map with string keys).
 * All memory of a decoded message comes from the arena passed in; the caller
 * frees the arena. Missing required fields and wrong types are KILN_E_PROTO
 * with an error text that names the field path, for example
 * "jobs[2].priority: expected an integer, got a string". Unknown keys are
 * ignored (builders may send more). Optional fields get the defaults written
 * beside them.
 *
 * Encoders append one MessagePack map to a msgpack_sbuffer that the caller
 * initialised and owns. */
#ifndef KILN_MSG_H
#define KILN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#include "arena.h"

typedef struct msg_kv {
	const char *key;
	const char *value;
} msg_kv;

typedef struct msg_kvs {
	msg_kv *items;
	size_t n;
} msg_kvs;

typedef struct msg_strs {
	const char **items;
	size_t n;
} msg_strs;

/* Results of create_jobs and process_job. */
typedef enum msg_result {
	MSG_RESULT_SUCCESS = 0,
	MSG_RESULT_FAILED,
	MSG_RESULT_CRASHED,
	MSG_RESULT_CANCELLED,
	MSG_RESULT_NETWORK_ISSUE,
} msg_result;

/* "success", "failed", "crashed", "cancelled", "network_issue". */
const char *msg_result_name(msg_result r);
/* Returns 0 and sets *out, or KILN_E_PROTO for an unknown name. */
int msg_result_parse(const char *s, msg_result *out);

/* ---- describe ---- */
/* Request: {"type":"describe"}. Reply fields: name, uuid, version required
 * (strings); analysis_fingerprint (string, default ""); patterns (array of
 * strings, default empty). */
typedef struct msg_describe {
	const char *name;
	const char *uuid;
	const char *version;
	const char *analysis_fingerprint;
	msg_strs patterns;
} msg_describe;

/* ---- create_jobs ---- */
typedef struct msg_create_jobs_req {
	const char *source_file;  /* relative to watch_folder, forward slashes */
	const char *watch_folder; /* absolute */
	const char *full_path;    /* absolute */
	const char *source_uuid;  /* lowercase, no braces */
	const char *builder_uuid;
	msg_strs platforms;
} msg_create_jobs_req;

/* A job description, in create_jobs replies and process_job requests.
 * job_key and platform are required; critical defaults to false, priority to
 * 0, params to {}. */
/* A job dependency (an extension of SPEC section 5, after O3DE's
 * JobDependency): this job waits for another source's job. The source is
 * named by "path" (relative to its scan folder) or "uuid"; "job_key" and
 * "platform" narrow it (default: every job of that source on this job's
 * platform); "type" is "order" (wait only, the default) or "fingerprint"
 * (wait, and rerun when that job's fingerprint changes). */
typedef struct msg_job_dep {
	const char *path;
	const char *uuid;
	const char *job_key;  /* NULL = any */
	const char *platform; /* NULL = the same platform */
	bool fingerprint;
} msg_job_dep;

typedef struct msg_job_desc {
	const char *job_key;
	const char *platform;
	bool critical;
	int64_t priority;
	msg_kvs params;
	msg_job_dep *job_deps; /* "job_dependencies", default none */
	size_t n_job_deps;
} msg_job_desc;

/* A source dependency: exactly one of path or uuid is set (the other NULL). */
typedef struct msg_source_dep {
	const char *path;
	const char *uuid;
} msg_source_dep;

typedef struct msg_create_jobs_resp {
	msg_result result;  /* required */
	msg_job_desc *jobs; /* default none */
	size_t n_jobs;
	msg_source_dep *deps; /* "source_dependencies", default none */
	size_t n_deps;
} msg_create_jobs_resp;

/* ---- process_job ---- */
typedef struct msg_platform_info {
	const char *identifier;
	msg_strs tags;
} msg_platform_info;

typedef struct msg_process_job_req {
	const char *source_file;
	const char *watch_folder;
	const char *full_path;
	const char *builder_uuid;
	msg_job_desc job;     /* "job_description" */
	const char *temp_dir; /* absolute */
	msg_platform_info platform_info;
	msg_strs source_file_dependencies; /* absolute paths of the source's dependencies */
	const char *source_uuid;
	uint64_t job_id;
} msg_process_job_req;

typedef struct msg_path_dep {
	const char *path;
	bool is_source; /* type "source"; "product" otherwise (the default) */
} msg_path_dep;

/* A product. file and sub_id are required; asset_type defaults to "",
 * dependencies (array of {asset_id}) and path_dependencies (array of {path,
 * type}) to empty, dependencies_handled to true, intermediate to false. */
typedef struct msg_product {
	const char *file;
	const char *asset_type;
	uint32_t sub_id;
	const char **dep_asset_ids;
	size_t n_dep_asset_ids;
	msg_path_dep *path_deps;
	size_t n_path_deps;
	bool dependencies_handled;
	bool intermediate;
} msg_product;

typedef struct msg_process_job_resp {
	msg_result result;     /* required */
	msg_product *products; /* default none */
	size_t n_products;
	msg_strs sources_to_reprocess; /* default none */
} msg_process_job_resp;

/* ---- log ---- */
typedef enum msg_level { MSG_LEVEL_INFO = 0, MSG_LEVEL_WARNING, MSG_LEVEL_ERROR } msg_level;
/* "info", "warning", "error" */
const char *msg_level_name(msg_level l);

/* {"type":"log","level","message","context"}: level defaults to info,
 * message is required, context defaults to {}. */
typedef struct msg_log {
	msg_level level;
	const char *message;
	msg_kvs context;
} msg_log;

/* ---- generic ---- */

/* Unpacks buf into a msgpack map and copies its "type" string into type
 * (NUL-terminated, truncated to typesz-1). Returns KILN_E_PROTO when buf is
 * not exactly one map with a string "type". err gets a readable reason. */
int msg_peek_type(const uint8_t *buf, size_t len, char *type, size_t typesz, char *err, size_t errsz);

/* Decoders. Each checks that "type" matches. Return 0 or KILN_E_PROTO (err
 * names the field), or -ENOMEM. */
int msg_decode_describe(const uint8_t *buf, size_t len, arena *a, msg_describe *out, char *err, size_t errsz);
int msg_decode_create_jobs_req(const uint8_t *buf, size_t len, arena *a, msg_create_jobs_req *out, char *err,
                               size_t errsz);
int msg_decode_create_jobs_resp(const uint8_t *buf, size_t len, arena *a, msg_create_jobs_resp *out,
                                char *err, size_t errsz);
int msg_decode_process_job_req(const uint8_t *buf, size_t len, arena *a, msg_process_job_req *out, char *err,
                               size_t errsz);
int msg_decode_process_job_resp(const uint8_t *buf, size_t len, arena *a, msg_process_job_resp *out,
                                char *err, size_t errsz);
int msg_decode_log(const uint8_t *buf, size_t len, arena *a, msg_log *out, char *err, size_t errsz);

/* Encoders: append one map (with its "type") to sb. Return 0 or -ENOMEM. */
int msg_encode_describe_req(msgpack_sbuffer *sb);
int msg_encode_describe(msgpack_sbuffer *sb, const msg_describe *m);
int msg_encode_create_jobs_req(msgpack_sbuffer *sb, const msg_create_jobs_req *m);
int msg_encode_create_jobs_resp(msgpack_sbuffer *sb, const msg_create_jobs_resp *m);
int msg_encode_process_job_req(msgpack_sbuffer *sb, const msg_process_job_req *m);
int msg_encode_process_job_resp(msgpack_sbuffer *sb, const msg_process_job_resp *m);
int msg_encode_log(msgpack_sbuffer *sb, const msg_log *m);
int msg_encode_shutdown(msgpack_sbuffer *sb);

/* ---- decoding helpers, shared with hostproto.c and the control socket ----
 *
 * Defined in mpread.c (whose header, mpread.h, adds the helpers that only
 * common/'s codecs use); declared here so that this header stands alone.
 *
 * A msg_dec carries the arena, the error buffer and the path of the value
 * being decoded ("jobs[2]"), so that every error names its field. Each getter
 * looks key up in map (which msg_dec_check_map already accepted); a missing
 * or nil key is "missing" unless MSG_DEC_OPTIONAL is given, in which case
 * *out is left as the caller's default and 0 is returned. Strings are copied
 * into the arena and NUL-terminated; one holding a NUL byte is rejected
 * unless MSG_DEC_TEXT is given (then it is cut at the NUL). Getters return 0,
 * KILN_E_PROTO (err set) or -ENOMEM. */
#define MSG_DEC_OPTIONAL 1u
#define MSG_DEC_TEXT     2u

typedef struct msg_dec {
	arena *a;
	char *err;
	size_t errsz;
	char path[256];
	size_t plen;
} msg_dec;

/* Unpacks buf, which must hold exactly one MessagePack map, into u (which
 * the caller set up with msgpack_unpacked_init and destroys). The bytes are
 * walked first, without allocating (the pre-scan, mpscan.c), so container
 * sizes that the frame cannot hold and nesting deeper than 16 levels are
 * refused before msgpack-c allocates for them. Returns 0, KILN_E_PROTO (err
 * says why) or -ENOMEM. */
int msg_unpack_map(const uint8_t *buf, size_t len, msgpack_unpacked *u, char *err, size_t errsz);

void msg_dec_init(msg_dec *d, arena *a, char *err, size_t errsz);
/* "a string", "an integer", "nil", ... for error texts. */
const char *msg_dec_type_name(const msgpack_object *o);
/* Formats "<path>.<key>: <message>" (key may be NULL) into err; returns
 * KILN_E_PROTO. */
int msg_dec_fail(msg_dec *d, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Path bookkeeping: push returns the old length that pop restores. */
size_t msg_dec_push_key(msg_dec *d, const char *key);
size_t msg_dec_push_idx(msg_dec *d, size_t idx);
void msg_dec_pop(msg_dec *d, size_t saved);
/* Checks that o is a map whose keys are all strings. */
int msg_dec_check_map(msg_dec *d, const char *key, const msgpack_object *o);
/* The value of key in map, or NULL when absent. */
const msgpack_object *msg_dec_get(const msgpack_object *map, const char *key);
/* Checks that map's key (default: "type") is the string want. */
int msg_dec_expect_type(msg_dec *d, const msgpack_object *map, const char *key, const char *want);
int msg_dec_str(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, const char **out);
int msg_dec_bool(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, bool *out);
int msg_dec_i64(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, int64_t *out);
/* An unsigned integer of at most max. */
int msg_dec_u64(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, uint64_t max,
                uint64_t *out);
int msg_dec_strs(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, msg_strs *out);
/* A map of strings to strings; MSG_DEC_TEXT applies to the values. */
int msg_dec_kvs(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags, msg_kvs *out);
/* A map (keys checked) or an array; *out stays NULL when optional and absent. */
int msg_dec_map(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags,
                const msgpack_object **out);
int msg_dec_array(msg_dec *d, const msgpack_object *map, const char *key, unsigned flags,
                  const msgpack_object_array **out);

/* ---- encoding helpers, shared with hostproto.c and the SDK ----
 *
 * Defined in mpwrite.c (whose header, mpwrite.h, adds what only common/'s
 * codecs use); declared here so that this header stands alone.
 *
 * A msg_enc appends to a caller-owned sbuffer and remembers the first
 * failure; msg_enc_done returns 0, or -ENOMEM after cutting sb back to the
 * size it had at msg_enc_init, so a failed encoder leaves no half map. */
typedef struct msg_enc {
	msgpack_sbuffer *sb;
	msgpack_packer pk;
	size_t start;
	int failed;
} msg_enc;

void msg_enc_init(msg_enc *e, msgpack_sbuffer *sb);
int msg_enc_done(msg_enc *e);
void msg_enc_map(msg_enc *e, size_t n);
void msg_enc_array(msg_enc *e, size_t n);
void msg_enc_str(msg_enc *e, const char *s); /* NULL packs "" */
void msg_enc_bool(msg_enc *e, bool v);
void msg_enc_i64(msg_enc *e, int64_t v);
void msg_enc_u64(msg_enc *e, uint64_t v);
void msg_enc_nil(msg_enc *e);
void msg_enc_bin(msg_enc *e, const void *data, size_t len);
void msg_enc_strs(msg_enc *e, const msg_strs *v);
void msg_enc_kvs(msg_enc *e, const msg_kvs *v);

#endif
