/* msg.c: the builder protocol's messages (SPEC section 5), each one's
 * decoder and encoder.
 *
 * Every frame comes from a process we do not trust, so decoding checks each
 * field's presence and type and reports the first problem with the path of
 * the field; the field helpers that do so are mpread.c's. */
#include <errno.h>
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

/* ---- messages ---- */

/* Unpacks a frame and checks its "type". */
static int begin(msg_dec *d, const uint8_t *buf, size_t len, msgpack_unpacked *u, const char *type)
{
	int rc = msg_unpack_map(buf, len, u, d->err, d->errsz);
	if (rc)
		return rc;
	return msg_dec_expect_type(d, &u->data, "type", type);
}

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

int msg_decode_describe(const uint8_t *buf, size_t len, arena *a, msg_describe *out, char *err, size_t errsz)
{
	msgpack_unpacked u;
	msg_dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	out->analysis_fingerprint = "";
	msg_dec_init(&d, a, err, errsz);
	msgpack_unpacked_init(&u);
	const msgpack_object *m = &u.data;
	if ((rc = begin(&d, buf, len, &u, "describe")) || (rc = msg_dec_str(&d, m, "name", 0, &out->name)) ||
	    (rc = msg_dec_str(&d, m, "uuid", 0, &out->uuid)) ||
	    (rc = msg_dec_str(&d, m, "version", 0, &out->version)) ||
	    (rc = msg_dec_str(&d, m, "analysis_fingerprint", MSG_DEC_OPTIONAL, &out->analysis_fingerprint)) ||
	    (rc = msg_dec_strs(&d, m, "patterns", MSG_DEC_OPTIONAL, &out->patterns)))
		goto out;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

int msg_decode_create_jobs_req(const uint8_t *buf, size_t len, arena *a, msg_create_jobs_req *out, char *err,
                               size_t errsz)
{
	msgpack_unpacked u;
	msg_dec d;
	int rc;

	memset(out, 0, sizeof(*out));
	msg_dec_init(&d, a, err, errsz);
	msgpack_unpacked_init(&u);
	const msgpack_object *m = &u.data;
	if ((rc = begin(&d, buf, len, &u, "create_jobs")) ||
	    (rc = msg_dec_str(&d, m, "source_file", 0, &out->source_file)) ||
	    (rc = msg_dec_str(&d, m, "watch_folder", 0, &out->watch_folder)) ||
	    (rc = msg_dec_str(&d, m, "full_path", 0, &out->full_path)) ||
	    (rc = msg_dec_str(&d, m, "source_uuid", 0, &out->source_uuid)) ||
	    (rc = msg_dec_str(&d, m, "builder_uuid", 0, &out->builder_uuid)) ||
	    (rc = msg_dec_strs(&d, m, "platforms", 0, &out->platforms)))
		goto out;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* Decodes the job description map m (already checked to be a map). */
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

static int dec_map_array(msg_dec *d, const msgpack_object *map, const char *key, size_t elsz,
                         int (*fn)(msg_dec *, const msgpack_object *, void *), void **out, size_t *n);

static int dec_job_desc(msg_dec *d, const msgpack_object *m, msg_job_desc *j)
{
	int rc;
	void *deps = NULL;
	memset(j, 0, sizeof(*j));
	if ((rc = msg_dec_str(d, m, "job_key", 0, &j->job_key)) ||
	    (rc = msg_dec_str(d, m, "platform", 0, &j->platform)) ||
	    (rc = msg_dec_bool(d, m, "critical", MSG_DEC_OPTIONAL, &j->critical)) ||
	    (rc = msg_dec_i64(d, m, "priority", MSG_DEC_OPTIONAL, &j->priority)) ||
	    (rc = msg_dec_kvs(d, m, "params", MSG_DEC_OPTIONAL, &j->params)) ||
	    (rc = dec_map_array(d, m, "job_dependencies", sizeof(msg_job_dep), dec_job_dep, &deps,
	                        &j->n_job_deps)))
		return rc;
	j->job_deps = deps;
	return 0;
}

static int dec_source_dep(msg_dec *d, const msgpack_object *m, msg_source_dep *dep)
{
	int rc;
	if ((rc = msg_dec_str(d, m, "path", MSG_DEC_OPTIONAL, &dep->path)) ||
	    (rc = msg_dec_str(d, m, "uuid", MSG_DEC_OPTIONAL, &dep->uuid)))
		return rc;
	if (!dep->path == !dep->uuid)
		return msg_dec_fail(d, NULL, "needs exactly one of \"path\" or \"uuid\"");
	return 0;
}

/* Decodes an array of maps under key, calling fn on each element with the
 * path set to key[i]. *out (OUT) is an arena array of n elements of size
 * elsz. */
static int dec_map_array(msg_dec *d, const msgpack_object *map, const char *key, size_t elsz,
                         int (*fn)(msg_dec *, const msgpack_object *, void *), void **out, size_t *n)
{
	const msgpack_object_array *arr = NULL;
	int rc = msg_dec_array(d, map, key, MSG_DEC_OPTIONAL, &arr);
	if (rc || !arr)
		return rc;
	char *items = arena_alloc(d->a, (arr->size ? arr->size : 1) * elsz);
	if (!items)
		return -ENOMEM;
	size_t saved = msg_dec_push_key(d, key);
	for (uint32_t i = 0; i < arr->size; i++) {
		size_t s2 = msg_dec_push_idx(d, i);
		rc = msg_dec_check_map(d, NULL, &arr->ptr[i]);
		if (!rc)
			rc = fn(d, &arr->ptr[i], items + i * elsz);
		msg_dec_pop(d, s2);
		if (rc)
			goto out;
	}
	*out = items;
	*n = arr->size;
out:
	msg_dec_pop(d, saved);
	return rc;
}

static int dec_job_desc_cb(msg_dec *d, const msgpack_object *m, void *el)
{
	return dec_job_desc(d, m, el);
}

static int dec_source_dep_cb(msg_dec *d, const msgpack_object *m, void *el)
{
	return dec_source_dep(d, m, el);
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

int msg_decode_create_jobs_resp(const uint8_t *buf, size_t len, arena *a, msg_create_jobs_resp *out,
                                char *err, size_t errsz)
{
	msgpack_unpacked u;
	msg_dec d;
	int rc;
	void *jobs = NULL, *deps = NULL;

	memset(out, 0, sizeof(*out));
	msg_dec_init(&d, a, err, errsz);
	msgpack_unpacked_init(&u);
	const msgpack_object *m = &u.data;
	if ((rc = begin(&d, buf, len, &u, "create_jobs")) || (rc = dec_result(&d, m, &out->result)) ||
	    (rc = dec_map_array(&d, m, "jobs", sizeof(msg_job_desc), dec_job_desc_cb, &jobs, &out->n_jobs)) ||
	    (rc = dec_map_array(&d, m, "source_dependencies", sizeof(msg_source_dep), dec_source_dep_cb,
	                        &deps, &out->n_deps)))
		goto out;
	out->jobs = jobs;
	out->deps = deps;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

int msg_decode_process_job_req(const uint8_t *buf, size_t len, arena *a, msg_process_job_req *out, char *err,
                               size_t errsz)
{
	msgpack_unpacked u;
	msg_dec d;
	int rc;
	const msgpack_object *job = NULL, *pinfo = NULL;
	uint64_t job_id = 0;

	memset(out, 0, sizeof(*out));
	msg_dec_init(&d, a, err, errsz);
	msgpack_unpacked_init(&u);
	const msgpack_object *m = &u.data;
	if ((rc = begin(&d, buf, len, &u, "process_job")) ||
	    (rc = msg_dec_str(&d, m, "source_file", 0, &out->source_file)) ||
	    (rc = msg_dec_str(&d, m, "watch_folder", 0, &out->watch_folder)) ||
	    (rc = msg_dec_str(&d, m, "full_path", 0, &out->full_path)) ||
	    (rc = msg_dec_str(&d, m, "builder_uuid", 0, &out->builder_uuid)) ||
	    (rc = msg_dec_map(&d, m, "job_description", 0, &job)))
		goto out;
	size_t saved = msg_dec_push_key(&d, "job_description");
	rc = dec_job_desc(&d, job, &out->job);
	msg_dec_pop(&d, saved);
	if (rc)
		goto out;
	if ((rc = msg_dec_str(&d, m, "temp_dir", 0, &out->temp_dir)) ||
	    (rc = msg_dec_map(&d, m, "platform_info", 0, &pinfo)))
		goto out;
	saved = msg_dec_push_key(&d, "platform_info");
	if (!(rc = msg_dec_str(&d, pinfo, "identifier", 0, &out->platform_info.identifier)))
		rc = msg_dec_strs(&d, pinfo, "tags", MSG_DEC_OPTIONAL, &out->platform_info.tags);
	msg_dec_pop(&d, saved);
	if (rc)
		goto out;
	if ((rc = msg_dec_strs(&d, m, "source_file_dependencies", MSG_DEC_OPTIONAL,
	                       &out->source_file_dependencies)) ||
	    (rc = msg_dec_str(&d, m, "source_uuid", 0, &out->source_uuid)) ||
	    (rc = msg_dec_u64(&d, m, "job_id", 0, UINT64_MAX, &job_id)))
		goto out;
	out->job_id = job_id;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

static int dec_asset_id_cb(msg_dec *d, const msgpack_object *m, void *el)
{
	return msg_dec_str(d, m, "asset_id", 0, (const char **)el);
}

static int dec_path_dep_cb(msg_dec *d, const msgpack_object *m, void *el)
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

static int dec_product_cb(msg_dec *d, const msgpack_object *m, void *el)
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
	    (rc = dec_map_array(d, m, "dependencies", sizeof(const char *), dec_asset_id_cb, &ids,
	                        &p->n_dep_asset_ids)) ||
	    (rc = dec_map_array(d, m, "path_dependencies", sizeof(msg_path_dep), dec_path_dep_cb, &pdeps,
	                        &p->n_path_deps)) ||
	    (rc = msg_dec_bool(d, m, "dependencies_handled", MSG_DEC_OPTIONAL, &p->dependencies_handled)) ||
	    (rc = msg_dec_bool(d, m, "intermediate", MSG_DEC_OPTIONAL, &p->intermediate)))
		return rc;
	p->sub_id = (uint32_t)sub_id;
	p->dep_asset_ids = ids;
	p->path_deps = pdeps;
	return 0;
}

int msg_decode_process_job_resp(const uint8_t *buf, size_t len, arena *a, msg_process_job_resp *out,
                                char *err, size_t errsz)
{
	msgpack_unpacked u;
	msg_dec d;
	int rc;
	void *products = NULL;

	memset(out, 0, sizeof(*out));
	msg_dec_init(&d, a, err, errsz);
	msgpack_unpacked_init(&u);
	const msgpack_object *m = &u.data;
	if ((rc = begin(&d, buf, len, &u, "process_job")) || (rc = dec_result(&d, m, &out->result)) ||
	    (rc = dec_map_array(&d, m, "products", sizeof(msg_product), dec_product_cb, &products,
	                        &out->n_products)) ||
	    (rc = msg_dec_strs(&d, m, "sources_to_reprocess", MSG_DEC_OPTIONAL, &out->sources_to_reprocess)))
		goto out;
	out->products = products;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

int msg_decode_log(const uint8_t *buf, size_t len, arena *a, msg_log *out, char *err, size_t errsz)
{
	msgpack_unpacked u;
	msg_dec d;
	int rc;
	const char *level = NULL;

	memset(out, 0, sizeof(*out));
	msg_dec_init(&d, a, err, errsz);
	msgpack_unpacked_init(&u);
	const msgpack_object *m = &u.data;
	if ((rc = begin(&d, buf, len, &u, "log")) ||
	    (rc = msg_dec_str(&d, m, "level", MSG_DEC_OPTIONAL, &level)) ||
	    (rc = msg_dec_str(&d, m, "message", MSG_DEC_TEXT, &out->message)) ||
	    (rc = msg_dec_kvs(&d, m, "context", MSG_DEC_OPTIONAL | MSG_DEC_TEXT, &out->context)))
		goto out;
	out->level = MSG_LEVEL_INFO;
	if (level) {
		size_t i;
		for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
			if (strcmp(level, level_names[i]) == 0)
				break;
		if (i == sizeof(level_names) / sizeof(level_names[0])) {
			rc = msg_dec_fail(
			    &d, "level", "expected \"info\", \"warning\" or \"error\", got \"%.64s\"", level);
			goto out;
		}
		out->level = (msg_level)i;
	}
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* ---- encoding ---- */

static void enc_type(msg_enc *e, size_t nfields, const char *type)
{
	msg_enc_map(e, nfields);
	msg_enc_str(e, "type");
	msg_enc_str(e, type);
}

static int enc_type_only(msgpack_sbuffer *sb, const char *type)
{
	msg_enc e;
	msg_enc_init(&e, sb);
	enc_type(&e, 1, type);
	return msg_enc_done(&e);
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
	msg_enc e;
	msg_enc_init(&e, sb);
	enc_type(&e, 6, "describe");
	msg_enc_str(&e, "name");
	msg_enc_str(&e, m->name);
	msg_enc_str(&e, "uuid");
	msg_enc_str(&e, m->uuid);
	msg_enc_str(&e, "version");
	msg_enc_str(&e, m->version);
	msg_enc_str(&e, "analysis_fingerprint");
	msg_enc_str(&e, m->analysis_fingerprint);
	msg_enc_str(&e, "patterns");
	msg_enc_strs(&e, &m->patterns);
	return msg_enc_done(&e);
}

int msg_encode_create_jobs_req(msgpack_sbuffer *sb, const msg_create_jobs_req *m)
{
	msg_enc e;
	msg_enc_init(&e, sb);
	enc_type(&e, 7, "create_jobs");
	msg_enc_str(&e, "source_file");
	msg_enc_str(&e, m->source_file);
	msg_enc_str(&e, "watch_folder");
	msg_enc_str(&e, m->watch_folder);
	msg_enc_str(&e, "full_path");
	msg_enc_str(&e, m->full_path);
	msg_enc_str(&e, "source_uuid");
	msg_enc_str(&e, m->source_uuid);
	msg_enc_str(&e, "builder_uuid");
	msg_enc_str(&e, m->builder_uuid);
	msg_enc_str(&e, "platforms");
	msg_enc_strs(&e, &m->platforms);
	return msg_enc_done(&e);
}

static void enc_job_desc(msg_enc *e, const msg_job_desc *j)
{
	msg_enc_map(e, j->n_job_deps ? 6 : 5);
	msg_enc_str(e, "job_key");
	msg_enc_str(e, j->job_key);
	msg_enc_str(e, "platform");
	msg_enc_str(e, j->platform);
	msg_enc_str(e, "critical");
	msg_enc_bool(e, j->critical);
	msg_enc_str(e, "priority");
	msg_enc_i64(e, j->priority);
	msg_enc_str(e, "params");
	msg_enc_kvs(e, &j->params);
	if (!j->n_job_deps)
		return;
	msg_enc_str(e, "job_dependencies");
	msg_enc_array(e, j->n_job_deps);
	for (size_t i = 0; i < j->n_job_deps; i++) {
		const msg_job_dep *dep = &j->job_deps[i];
		size_t n = 2 + (dep->job_key != NULL) + (dep->platform != NULL);
		msg_enc_map(e, n);
		msg_enc_str(e, dep->path ? "path" : "uuid");
		msg_enc_str(e, dep->path ? dep->path : dep->uuid);
		if (dep->job_key) {
			msg_enc_str(e, "job_key");
			msg_enc_str(e, dep->job_key);
		}
		if (dep->platform) {
			msg_enc_str(e, "platform");
			msg_enc_str(e, dep->platform);
		}
		msg_enc_str(e, "type");
		msg_enc_str(e, dep->fingerprint ? "fingerprint" : "order");
	}
}

int msg_encode_create_jobs_resp(msgpack_sbuffer *sb, const msg_create_jobs_resp *m)
{
	msg_enc e;
	msg_enc_init(&e, sb);
	enc_type(&e, 4, "create_jobs");
	msg_enc_str(&e, "result");
	msg_enc_str(&e, msg_result_name(m->result));
	msg_enc_str(&e, "jobs");
	msg_enc_array(&e, m->n_jobs);
	for (size_t i = 0; i < m->n_jobs; i++)
		enc_job_desc(&e, &m->jobs[i]);
	msg_enc_str(&e, "source_dependencies");
	msg_enc_array(&e, m->n_deps);
	for (size_t i = 0; i < m->n_deps; i++) {
		const msg_source_dep *dep = &m->deps[i];
		msg_enc_map(&e, 1);
		msg_enc_str(&e, dep->path ? "path" : "uuid");
		msg_enc_str(&e, dep->path ? dep->path : dep->uuid);
	}
	return msg_enc_done(&e);
}

int msg_encode_process_job_req(msgpack_sbuffer *sb, const msg_process_job_req *m)
{
	msg_enc e;
	msg_enc_init(&e, sb);
	enc_type(&e, 11, "process_job");
	msg_enc_str(&e, "source_file");
	msg_enc_str(&e, m->source_file);
	msg_enc_str(&e, "watch_folder");
	msg_enc_str(&e, m->watch_folder);
	msg_enc_str(&e, "full_path");
	msg_enc_str(&e, m->full_path);
	msg_enc_str(&e, "builder_uuid");
	msg_enc_str(&e, m->builder_uuid);
	msg_enc_str(&e, "job_description");
	enc_job_desc(&e, &m->job);
	msg_enc_str(&e, "temp_dir");
	msg_enc_str(&e, m->temp_dir);
	msg_enc_str(&e, "platform_info");
	msg_enc_map(&e, 2);
	msg_enc_str(&e, "identifier");
	msg_enc_str(&e, m->platform_info.identifier);
	msg_enc_str(&e, "tags");
	msg_enc_strs(&e, &m->platform_info.tags);
	msg_enc_str(&e, "source_file_dependencies");
	msg_enc_strs(&e, &m->source_file_dependencies);
	msg_enc_str(&e, "source_uuid");
	msg_enc_str(&e, m->source_uuid);
	msg_enc_str(&e, "job_id");
	msg_enc_u64(&e, m->job_id);
	return msg_enc_done(&e);
}

static void enc_product(msg_enc *e, const msg_product *p)
{
	msg_enc_map(e, 7);
	msg_enc_str(e, "file");
	msg_enc_str(e, p->file);
	msg_enc_str(e, "asset_type");
	msg_enc_str(e, p->asset_type);
	msg_enc_str(e, "sub_id");
	msg_enc_u64(e, p->sub_id);
	msg_enc_str(e, "dependencies");
	msg_enc_array(e, p->n_dep_asset_ids);
	for (size_t i = 0; i < p->n_dep_asset_ids; i++) {
		msg_enc_map(e, 1);
		msg_enc_str(e, "asset_id");
		msg_enc_str(e, p->dep_asset_ids[i]);
	}
	msg_enc_str(e, "path_dependencies");
	msg_enc_array(e, p->n_path_deps);
	for (size_t i = 0; i < p->n_path_deps; i++) {
		msg_enc_map(e, 2);
		msg_enc_str(e, "path");
		msg_enc_str(e, p->path_deps[i].path);
		msg_enc_str(e, "type");
		msg_enc_str(e, p->path_deps[i].is_source ? "source" : "product");
	}
	msg_enc_str(e, "dependencies_handled");
	msg_enc_bool(e, p->dependencies_handled);
	msg_enc_str(e, "intermediate");
	msg_enc_bool(e, p->intermediate);
}

int msg_encode_process_job_resp(msgpack_sbuffer *sb, const msg_process_job_resp *m)
{
	msg_enc e;
	msg_enc_init(&e, sb);
	enc_type(&e, 4, "process_job");
	msg_enc_str(&e, "result");
	msg_enc_str(&e, msg_result_name(m->result));
	msg_enc_str(&e, "products");
	msg_enc_array(&e, m->n_products);
	for (size_t i = 0; i < m->n_products; i++)
		enc_product(&e, &m->products[i]);
	msg_enc_str(&e, "sources_to_reprocess");
	msg_enc_strs(&e, &m->sources_to_reprocess);
	return msg_enc_done(&e);
}

int msg_encode_log(msgpack_sbuffer *sb, const msg_log *m)
{
	msg_enc e;
	msg_enc_init(&e, sb);
	enc_type(&e, 4, "log");
	msg_enc_str(&e, "level");
	msg_enc_str(&e, msg_level_name(m->level));
	msg_enc_str(&e, "message");
	msg_enc_str(&e, m->message);
	msg_enc_str(&e, "context");
	msg_enc_kvs(&e, &m->context);
	return msg_enc_done(&e);
}
