/* msg.c: the builder protocol's messages (SPEC section 5), each one's
 * decoder and encoder.
 *
 * Every frame comes from a process we do not trust, so decoding checks each
 * field's presence and type and reports the first problem with the path of
 * the field; the field helpers that do so are mpread.c's. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "kerr.h"
#include "mpread.h"
#include "mpwrite.h"

static const char *const result_names[] = {
    [MSG_RESULT_SUCCESS] = "success",
    [MSG_RESULT_FAILED] = "failed",
    [MSG_RESULT_CRASHED] = "crashed",
    [MSG_RESULT_CANCELLED] = "cancelled",
    [MSG_RESULT_NETWORK_ISSUE] = "network_issue",
};

static const char *const level_names[] = {
    [MSG_LEVEL_INFO] = "info",
    [MSG_LEVEL_WARNING] = "warning",
    [MSG_LEVEL_ERROR] = "error",
};

const char *msg_result_name(msg_result r)
{
	if ((unsigned)r < sizeof(result_names) / sizeof(result_names[0]))
		return result_names[r];
	return "failed";
}

int msg_result_parse(const char *s, msg_result *out)
{
	for (size_t i = 0; i < sizeof(result_names) / sizeof(result_names[0]); i++) {
		if (strcmp(s, result_names[i]) == 0) {
			*out = (msg_result)i;
			return 0;
		}
	}
	return KILN_E_PROTO;
}

const char *msg_level_name(msg_level l)
{
	if ((unsigned)l < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[l];
	return "info";
}

/* ---- decoding ---- */

int msg_peek_type(const uint8_t *buf, size_t len, char *type, size_t typesz, char *err, size_t errsz)
{
	msgpack_unpacked u;
	msg_dec d;
	const msgpack_object *o;
	int rc;

	msg_dec_init(&d, NULL, err, errsz);
	if (type && typesz)
		type[0] = '\0';
	msgpack_unpacked_init(&u);
	rc = msg_unpack_map(buf, len, &u, err, errsz);
	if (rc)
		goto out;
	rc = msg_dec_lookup(&d, &u.data, "type", 0, &o);
	if (rc < 0)
		goto out;
	if (o->type != MSGPACK_OBJECT_STR) {
		rc = msg_dec_fail(&d, "type", "expected a string, got %s", msg_dec_type_name(o));
		goto out;
	}
	size_t n = o->via.str.size;
	if (n && memchr(o->via.str.ptr, '\0', n)) {
		rc = msg_dec_fail(&d, "type", "string holds a NUL byte");
		goto out;
	}
	if (type && typesz) {
		if (n > typesz - 1)
			n = typesz - 1;
		memcpy(type, o->via.str.ptr, n);
		type[n] = '\0';
	}
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* Each message's fields, decoded from its map m into out by msg_dec_frame
 * (out was zeroed and given its defaults by the public decoder). The first
 * field checked is always "type". */

/* A builder's version: an integer (as O3DE's builder version is) or a
 * string (SPEC 5); kept as text either way, so versions compare as text. */
static int dec_version(msg_dec *d, const msgpack_object *m, const char **out)
{
	const msgpack_object *v = msg_dec_get(m, "version");
	char *t = NULL;
	if (v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		t = arena_printf(d->a, "%" PRIu64, v->via.u64);
	else if (v && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		t = arena_printf(d->a, "%" PRId64, v->via.i64);
	else if (v && v->type != MSGPACK_OBJECT_STR)
		return msg_dec_fail(d, "version", "expected a string or an integer, got %s",
		                    msg_dec_type_name(v));
	else
		return msg_dec_str(d, m, "version", 0, out);
	if (!t)
		return -ENOMEM;
	*out = t;
	return 0;
}

static int dec_describe(msg_dec *d, const msgpack_object *m, void *o)
{
	msg_describe *out = o;
	int rc;
	if ((rc = msg_dec_expect_type(d, m, NULL, "describe")) ||
	    (rc = msg_dec_str(d, m, "name", 0, &out->name)) ||
	    (rc = msg_dec_str(d, m, "uuid", 0, &out->uuid)) || (rc = dec_version(d, m, &out->version)) ||
	    (rc = msg_dec_str(d, m, "analysis_fingerprint", MSG_DEC_OPTIONAL, &out->analysis_fingerprint)))
		return rc;
	return msg_dec_strs(d, m, "patterns", MSG_DEC_OPTIONAL, &out->patterns);
}

static int dec_create_jobs_req(msg_dec *d, const msgpack_object *m, void *o)
{
	msg_create_jobs_req *out = o;
	int rc;
	if ((rc = msg_dec_expect_type(d, m, NULL, "create_jobs")) ||
	    (rc = msg_dec_str(d, m, "source_file", 0, &out->source_file)) ||
	    (rc = msg_dec_str(d, m, "watch_folder", 0, &out->watch_folder)) ||
	    (rc = msg_dec_str(d, m, "full_path", 0, &out->full_path)) ||
	    (rc = msg_dec_str(d, m, "source_uuid", 0, &out->source_uuid)) ||
	    (rc = msg_dec_str(d, m, "builder_uuid", 0, &out->builder_uuid)))
		return rc;
	return msg_dec_strs(d, m, "platforms", 0, &out->platforms);
}

static int dec_job_dep(msg_dec *d, const msgpack_object *m, void *el)
{
	msg_job_dep *dep = el;
	const char *type = NULL;
	int rc;
	if ((rc = msg_dec_str(d, m, "path", MSG_DEC_OPTIONAL, &dep->path)) ||
	    (rc = msg_dec_str(d, m, "uuid", MSG_DEC_OPTIONAL, &dep->uuid)) ||
	    (rc = msg_dec_str(d, m, "job_key", MSG_DEC_OPTIONAL, &dep->job_key)) ||
	    (rc = msg_dec_str(d, m, "platform", MSG_DEC_OPTIONAL, &dep->platform)) ||
	    (rc = msg_dec_str(d, m, "type", MSG_DEC_OPTIONAL, &type)))
		return rc;
	if (!dep->path == !dep->uuid)
		return msg_dec_fail(d, NULL, "needs exactly one of \"path\" or \"uuid\"");
	if (type && strcmp(type, "order") != 0 && strcmp(type, "fingerprint") != 0)
		return msg_dec_fail(d, "type", "expected \"order\" or \"fingerprint\", got \"%.64s\"", type);
	dep->fingerprint = type && strcmp(type, "fingerprint") == 0;
	return 0;
}

/* A job description, in a create_jobs reply's "jobs" and a process_job
 * request's "job_description". */
static int dec_job_desc(msg_dec *d, const msgpack_object *m, void *el)
{
	msg_job_desc *j = el;
	void *deps = NULL;
	int rc;
	memset(j, 0, sizeof(*j));
	if ((rc = msg_dec_str(d, m, "job_key", 0, &j->job_key)) ||
	    (rc = msg_dec_str(d, m, "platform", 0, &j->platform)) ||
	    (rc = msg_dec_bool(d, m, "critical", MSG_DEC_OPTIONAL, &j->critical)) ||
	    (rc = msg_dec_i64(d, m, "priority", MSG_DEC_OPTIONAL, &j->priority)) ||
	    (rc = msg_dec_kvs(d, m, "params", MSG_DEC_OPTIONAL, &j->params)) ||
	    (rc = msg_dec_maps(d, m, "job_dependencies", MSG_DEC_OPTIONAL, sizeof(msg_job_dep), dec_job_dep,
	                       &deps, &j->n_job_deps)))
		return rc;
	j->job_deps = deps;
	return 0;
}

static int dec_source_dep(msg_dec *d, const msgpack_object *m, void *el)
{
	msg_source_dep *dep = el;
	int rc;
	if ((rc = msg_dec_str(d, m, "path", MSG_DEC_OPTIONAL, &dep->path)) ||
	    (rc = msg_dec_str(d, m, "uuid", MSG_DEC_OPTIONAL, &dep->uuid)))
		return rc;
	if (!dep->path == !dep->uuid)
		return msg_dec_fail(d, NULL, "needs exactly one of \"path\" or \"uuid\"");
	return 0;
}

static int dec_result(msg_dec *d, const msgpack_object *m, msg_result *out)
{
	const char *s = NULL;
	int rc = msg_dec_str(d, m, "result", 0, &s);
	if (rc)
		return rc;
	if (msg_result_parse(s, out))
		return msg_dec_fail(d, "result", "unknown result \"%.64s\"", s);
	return 0;
}

static int dec_create_jobs_resp(msg_dec *d, const msgpack_object *m, void *o)
{
	msg_create_jobs_resp *out = o;
	void *jobs = NULL, *deps = NULL;
	int rc;
	if ((rc = msg_dec_expect_type(d, m, NULL, "create_jobs")) || (rc = dec_result(d, m, &out->result)) ||
	    (rc = msg_dec_maps(d, m, "jobs", MSG_DEC_OPTIONAL, sizeof(msg_job_desc), dec_job_desc, &jobs,
	                       &out->n_jobs)) ||
	    (rc = msg_dec_maps(d, m, "source_dependencies", MSG_DEC_OPTIONAL, sizeof(msg_source_dep),
	                       dec_source_dep, &deps, &out->n_deps)))
		return rc;
	out->jobs = jobs;
	out->deps = deps;
	return 0;
}

static int dec_platform_info(msg_dec *d, const msgpack_object *m, void *o)
{
	msg_platform_info *pi = o;
	int rc = msg_dec_str(d, m, "identifier", 0, &pi->identifier);
	if (rc)
		return rc;
	return msg_dec_strs(d, m, "tags", MSG_DEC_OPTIONAL, &pi->tags);
}

static int dec_process_job_req(msg_dec *d, const msgpack_object *m, void *o)
{
	msg_process_job_req *out = o;
	int rc;
	if ((rc = msg_dec_expect_type(d, m, NULL, "process_job")) ||
	    (rc = msg_dec_str(d, m, "source_file", 0, &out->source_file)) ||
	    (rc = msg_dec_str(d, m, "watch_folder", 0, &out->watch_folder)) ||
	    (rc = msg_dec_str(d, m, "full_path", 0, &out->full_path)) ||
	    (rc = msg_dec_str(d, m, "builder_uuid", 0, &out->builder_uuid)) ||
	    (rc = msg_dec_sub(d, m, "job_description", 0, dec_job_desc, &out->job)) ||
	    (rc = msg_dec_str(d, m, "temp_dir", 0, &out->temp_dir)) ||
	    (rc = msg_dec_sub(d, m, "platform_info", 0, dec_platform_info, &out->platform_info)) ||
	    (rc = msg_dec_strs(d, m, "source_file_dependencies", MSG_DEC_OPTIONAL,
	                       &out->source_file_dependencies)) ||
	    (rc = msg_dec_str(d, m, "source_uuid", 0, &out->source_uuid)))
		return rc;
	return msg_dec_u64(d, m, "job_id", 0, UINT64_MAX, &out->job_id);
}

static int dec_asset_id(msg_dec *d, const msgpack_object *m, void *el)
{
	return msg_dec_str(d, m, "asset_id", 0, (const char **)el);
}

static int dec_path_dep(msg_dec *d, const msgpack_object *m, void *el)
{
	msg_path_dep *pd = el;
	const char *type = NULL;
	int rc;
	if ((rc = msg_dec_str(d, m, "path", 0, &pd->path)) ||
	    (rc = msg_dec_str(d, m, "type", MSG_DEC_OPTIONAL, &type)))
		return rc;
	if (!type || strcmp(type, "product") == 0)
		pd->is_source = false;
	else if (strcmp(type, "source") == 0)
		pd->is_source = true;
	else
		return msg_dec_fail(d, "type", "expected \"product\" or \"source\", got \"%.64s\"", type);
	return 0;
}

static int dec_product(msg_dec *d, const msgpack_object *m, void *el)
{
	msg_product *p = el;
	uint64_t sub_id = 0;
	void *ids = NULL, *pdeps = NULL;
	int rc;

	p->asset_type = "";
	p->dependencies_handled = true;
	if ((rc = msg_dec_str(d, m, "file", 0, &p->file)) ||
	    (rc = msg_dec_str(d, m, "asset_type", MSG_DEC_OPTIONAL, &p->asset_type)) ||
	    (rc = msg_dec_u64(d, m, "sub_id", 0, UINT32_MAX, &sub_id)) ||
	    (rc = msg_dec_maps(d, m, "dependencies", MSG_DEC_OPTIONAL, sizeof(const char *), dec_asset_id,
	                       &ids, &p->n_dep_asset_ids)) ||
	    (rc = msg_dec_maps(d, m, "path_dependencies", MSG_DEC_OPTIONAL, sizeof(msg_path_dep),
	                       dec_path_dep, &pdeps, &p->n_path_deps)) ||
	    (rc = msg_dec_bool(d, m, "dependencies_handled", MSG_DEC_OPTIONAL, &p->dependencies_handled)) ||
	    (rc = msg_dec_bool(d, m, "intermediate", MSG_DEC_OPTIONAL, &p->intermediate)))
		return rc;
	p->sub_id = (uint32_t)sub_id;
	p->dep_asset_ids = ids;
	p->path_deps = pdeps;
	return 0;
}

static int dec_process_job_resp(msg_dec *d, const msgpack_object *m, void *o)
{
	msg_process_job_resp *out = o;
	void *products = NULL;
	int rc;
	if ((rc = msg_dec_expect_type(d, m, NULL, "process_job")) || (rc = dec_result(d, m, &out->result)) ||
	    (rc = msg_dec_maps(d, m, "products", MSG_DEC_OPTIONAL, sizeof(msg_product), dec_product,
	                       &products, &out->n_products)) ||
	    (rc = msg_dec_strs(d, m, "sources_to_reprocess", MSG_DEC_OPTIONAL, &out->sources_to_reprocess)))
		return rc;
	out->products = products;
	return 0;
}

static int dec_log(msg_dec *d, const msgpack_object *m, void *o)
{
	msg_log *out = o;
	const char *level = NULL;
	int rc;
	if ((rc = msg_dec_expect_type(d, m, NULL, "log")) ||
	    (rc = msg_dec_str(d, m, "level", MSG_DEC_OPTIONAL, &level)) ||
	    (rc = msg_dec_str(d, m, "message", MSG_DEC_TEXT, &out->message)) ||
	    (rc = msg_dec_kvs(d, m, "context", MSG_DEC_OPTIONAL | MSG_DEC_TEXT, &out->context)))
		return rc;
	out->level = MSG_LEVEL_INFO;
	if (!level)
		return 0;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(level, level_names[i]) == 0) {
			out->level = (msg_level)i;
			return 0;
		}
	}
	return msg_dec_fail(d, "level", "expected \"info\", \"warning\" or \"error\", got \"%.64s\"", level);
}

int msg_decode_describe(const uint8_t *buf, size_t len, arena *a, msg_describe *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	out->analysis_fingerprint = "";
	return msg_dec_frame(buf, len, a, dec_describe, out, err, errsz);
}

int msg_decode_create_jobs_req(const uint8_t *buf, size_t len, arena *a, msg_create_jobs_req *out, char *err,
                               size_t errsz)
{
	memset(out, 0, sizeof(*out));
	return msg_dec_frame(buf, len, a, dec_create_jobs_req, out, err, errsz);
}

int msg_decode_create_jobs_resp(const uint8_t *buf, size_t len, arena *a, msg_create_jobs_resp *out,
                                char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	return msg_dec_frame(buf, len, a, dec_create_jobs_resp, out, err, errsz);
}

int msg_decode_process_job_req(const uint8_t *buf, size_t len, arena *a, msg_process_job_req *out, char *err,
                               size_t errsz)
{
	memset(out, 0, sizeof(*out));
	return msg_dec_frame(buf, len, a, dec_process_job_req, out, err, errsz);
}

int msg_decode_process_job_resp(const uint8_t *buf, size_t len, arena *a, msg_process_job_resp *out,
                                char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	return msg_dec_frame(buf, len, a, dec_process_job_resp, out, err, errsz);
}

int msg_decode_log(const uint8_t *buf, size_t len, arena *a, msg_log *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	return msg_dec_frame(buf, len, a, dec_log, out, err, errsz);
}

/* ---- encoding ---- */

/* A job or source dependency names its source by path, or else by uuid. */
static msg_field enc_dep_source(const char *path, const char *uuid)
{
	return path ? MSG_F_STR("path", path) : MSG_F_STR("uuid", uuid);
}

static void enc_job_dep(msg_enc *e, const void *v)
{
	const msg_job_dep *dep = v;
	const msg_field f[] = {
	    enc_dep_source(dep->path, dep->uuid),
	    MSG_F_IF(dep->job_key, MSG_F_STR("job_key", dep->job_key)),
	    MSG_F_IF(dep->platform, MSG_F_STR("platform", dep->platform)),
	    MSG_F_STR("type", dep->fingerprint ? "fingerprint" : "order"),
	};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

/* A job description; job_dependencies is left out when there are none. */
static void enc_job_desc(msg_enc *e, const void *v)
{
	const msg_job_desc *j = v;
	const msg_field f[] = {
	    MSG_F_STR("job_key", j->job_key),
	    MSG_F_STR("platform", j->platform),
	    MSG_F_BOOL("critical", j->critical),
	    MSG_F_I64("priority", j->priority),
	    MSG_F_KVS("params", &j->params),
	    MSG_F_IF(j->n_job_deps, MSG_F_ARRAY("job_dependencies", enc_job_dep, j->job_deps, j->n_job_deps)),
	};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

static void enc_source_dep(msg_enc *e, const void *v)
{
	const msg_source_dep *dep = v;
	const msg_field f[] = {enc_dep_source(dep->path, dep->uuid)};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

static void enc_platform_info(msg_enc *e, const void *v)
{
	const msg_platform_info *pi = v;
	const msg_field f[] = {
	    MSG_F_STR("identifier", pi->identifier),
	    MSG_F_STRS("tags", &pi->tags),
	};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

static void enc_asset_id(msg_enc *e, const void *v)
{
	const msg_field f[] = {MSG_F_STR("asset_id", *(const char *const *)v)};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

static void enc_path_dep(msg_enc *e, const void *v)
{
	const msg_path_dep *pd = v;
	const msg_field f[] = {
	    MSG_F_STR("path", pd->path),
	    MSG_F_STR("type", pd->is_source ? "source" : "product"),
	};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

static void enc_product(msg_enc *e, const void *v)
{
	const msg_product *p = v;
	const msg_field f[] = {
	    MSG_F_STR("file", p->file),
	    MSG_F_STR("asset_type", p->asset_type),
	    MSG_F_U64("sub_id", p->sub_id),
	    MSG_F_ARRAY("dependencies", enc_asset_id, p->dep_asset_ids, p->n_dep_asset_ids),
	    MSG_F_ARRAY("path_dependencies", enc_path_dep, p->path_deps, p->n_path_deps),
	    MSG_F_BOOL("dependencies_handled", p->dependencies_handled),
	    MSG_F_BOOL("intermediate", p->intermediate),
	};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

/* A message that is nothing but its type. */
static int enc_type_only(msgpack_sbuffer *sb, const char *type)
{
	const msg_field f[] = {MSG_F_STR("type", type)};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int msg_encode_describe_req(msgpack_sbuffer *sb)
{
	return enc_type_only(sb, "describe");
}

int msg_encode_shutdown(msgpack_sbuffer *sb)
{
	return enc_type_only(sb, "shutdown");
}

int msg_encode_describe(msgpack_sbuffer *sb, const msg_describe *m)
{
	const msg_field f[] = {
	    MSG_F_STR("type", "describe"),
	    MSG_F_STR("name", m->name),
	    MSG_F_STR("uuid", m->uuid),
	    MSG_F_STR("version", m->version),
	    MSG_F_STR("analysis_fingerprint", m->analysis_fingerprint),
	    MSG_F_STRS("patterns", &m->patterns),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int msg_encode_create_jobs_req(msgpack_sbuffer *sb, const msg_create_jobs_req *m)
{
	const msg_field f[] = {
	    MSG_F_STR("type", "create_jobs"),           MSG_F_STR("source_file", m->source_file),
	    MSG_F_STR("watch_folder", m->watch_folder), MSG_F_STR("full_path", m->full_path),
	    MSG_F_STR("source_uuid", m->source_uuid),   MSG_F_STR("builder_uuid", m->builder_uuid),
	    MSG_F_STRS("platforms", &m->platforms),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int msg_encode_create_jobs_resp(msgpack_sbuffer *sb, const msg_create_jobs_resp *m)
{
	const msg_field f[] = {
	    MSG_F_STR("type", "create_jobs"),
	    MSG_F_STR("result", msg_result_name(m->result)),
	    MSG_F_ARRAY("jobs", enc_job_desc, m->jobs, m->n_jobs),
	    MSG_F_ARRAY("source_dependencies", enc_source_dep, m->deps, m->n_deps),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int msg_encode_process_job_req(msgpack_sbuffer *sb, const msg_process_job_req *m)
{
	const msg_field f[] = {
	    MSG_F_STR("type", "process_job"),
	    MSG_F_STR("source_file", m->source_file),
	    MSG_F_STR("watch_folder", m->watch_folder),
	    MSG_F_STR("full_path", m->full_path),
	    MSG_F_STR("builder_uuid", m->builder_uuid),
	    MSG_F_VALUE("job_description", enc_job_desc, &m->job),
	    MSG_F_STR("temp_dir", m->temp_dir),
	    MSG_F_VALUE("platform_info", enc_platform_info, &m->platform_info),
	    MSG_F_STRS("source_file_dependencies", &m->source_file_dependencies),
	    MSG_F_STR("source_uuid", m->source_uuid),
	    MSG_F_U64("job_id", m->job_id),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int msg_encode_process_job_resp(msgpack_sbuffer *sb, const msg_process_job_resp *m)
{
	const msg_field f[] = {
	    MSG_F_STR("type", "process_job"),
	    MSG_F_STR("result", msg_result_name(m->result)),
	    MSG_F_ARRAY("products", enc_product, m->products, m->n_products),
	    MSG_F_STRS("sources_to_reprocess", &m->sources_to_reprocess),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int msg_encode_log(msgpack_sbuffer *sb, const msg_log *m)
{
	const msg_field f[] = {
	    MSG_F_STR("type", "log"),
	    MSG_F_STR("level", msg_level_name(m->level)),
	    MSG_F_STR("message", m->message),
	    MSG_F_KVS("context", &m->context),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}
