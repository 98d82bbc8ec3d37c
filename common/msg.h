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
typedef struct msg_job_desc {
	const char *job_key;
	const char *platform;
	bool critical;
	int64_t priority;
	msg_kvs params;
} msg_job_desc;

/* A source dependency: exactly one of path or uuid is set (the other NULL). */
typedef struct msg_source_dep {
	const char *path;
	const char *uuid;
} msg_source_dep;

typedef struct msg_create_jobs_resp {
	msg_result result;        /* required */
	msg_job_desc *jobs;       /* default none */
	size_t n_jobs;
	msg_source_dep *deps;     /* "source_dependencies", default none */
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
	msg_job_desc job;                 /* "job_description" */
	const char *temp_dir;             /* absolute */
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
	msg_result result;          /* required */
	msg_product *products;      /* default none */
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
int msg_decode_create_jobs_req(const uint8_t *buf, size_t len, arena *a, msg_create_jobs_req *out, char *err, size_t errsz);
int msg_decode_create_jobs_resp(const uint8_t *buf, size_t len, arena *a, msg_create_jobs_resp *out, char *err, size_t errsz);
int msg_decode_process_job_req(const uint8_t *buf, size_t len, arena *a, msg_process_job_req *out, char *err, size_t errsz);
int msg_decode_process_job_resp(const uint8_t *buf, size_t len, arena *a, msg_process_job_resp *out, char *err, size_t errsz);
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

#endif
