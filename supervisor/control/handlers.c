/* handlers.c: the requests of the control API (control-api.md): decoding
 * one (its size, its MessagePack map, the token of a TCP request, its
 * type), checking every field, the handler of each type, and the replies,
 * errors included. A hostile client gets an error reply, never a crash.
 *
 * Runs on the supervisor's thread only. */
#include "control/control_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "kerr.h"
#include "msg.h"
#include "query/query.h"

#define PATH_ARG_MAX  4096 /* paths, filters */
#define SHORT_MAX     256  /* platforms, sorts, status lists, uuids, tokens */
#define REPROCESS_MAX 100000

/* ---- replies ---- */

static json_t *error_reply(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg && msg[0] ? msg : "error");
}

/* ---- decoding ---- */

/* What one request needs while it is handled. */
typedef struct req {
	control *c;
	cclient *cl;
	bool tcp;
	nng_msg *msg;
	const msgpack_object *map;
	const char *type;
	msg_dec d;
	char err[1024];
	bool deferred; /* compile: the reply comes later */
} req;

/* Fails on any key of the request that its type does not know, so that a
 * misspelt option is an error rather than silently ignored. "type" and
 * "token" are always allowed. */
static int check_keys(req *r, const char *const *keys)
{
	const msgpack_object_map *m = &r->map->via.map;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object_str *k = &m->ptr[i].key.via.str;
		bool ok = (k->size == 4 && memcmp(k->ptr, "type", 4) == 0) ||
		          (k->size == 5 && memcmp(k->ptr, "token", 5) == 0);
		for (const char *const *p = keys; !ok && p && *p; p++)
			ok = strlen(*p) == k->size && memcmp(*p, k->ptr, k->size) == 0;
		if (!ok) {
			snprintf(r->err, sizeof r->err, "unknown field \"%.*s\" in a \"%s\" request",
			         (int)(k->size > 64 ? 64 : k->size), k->ptr, r->type);
			return KILN_E_PROTO;
		}
	}
	return 0;
}

/* An optional (or required) string of at most maxlen bytes, without NUL. */
static int get_str(req *r, const char *key, bool required, size_t maxlen, const char **out)
{
	*out = NULL;
	int rc = msg_dec_str(&r->d, r->map, key, required ? 0 : MSG_DEC_OPTIONAL, out);
	if (rc)
		return rc;
	if (*out && strlen(*out) > maxlen)
		return msg_dec_fail(&r->d, key, "longer than %zu bytes", maxlen);
	if (*out && required && !(*out)[0])
		return msg_dec_fail(&r->d, key, "must not be empty");
	return 0;
}

/* "path" or "uuid", exactly one of them. */
static int get_path_or_uuid(req *r, const char **out)
{
	const char *p = NULL, *u = NULL;
	int rc;
	if ((rc = get_str(r, "path", false, PATH_ARG_MAX, &p)) ||
	    (rc = get_str(r, "uuid", false, SHORT_MAX, &u)))
		return rc;
	if ((p && u) || (!p && !u))
		return msg_dec_fail(&r->d, NULL, "give exactly one of \"path\" and \"uuid\"");
	*out = p ? p : u;
	if (!(*out)[0])
		return msg_dec_fail(&r->d, p ? "path" : "uuid", "must not be empty");
	return 0;
}

/* The reply to a request that failed validation: err as written. */
static json_t *bad(req *r, int rc)
{
	if (rc == -ENOMEM)
		return error_reply("out of memory");
	return error_reply(r->err);
}

static json_t *do_hello(req *r)
{
	static const char *const keys[] = {"name", "pid", NULL};
	const char *name = NULL;
	int64_t pid = -1;
	int rc;
	json_t *jn;

	if ((rc = check_keys(r, keys)) || (rc = get_str(r, "name", true, NAME_MAX_LEN, &name)) ||
	    (rc = msg_dec_i64(&r->d, r->map, "pid", MSG_DEC_OPTIONAL, &pid)))
		return bad(r, rc);
	if (pid < -1 || pid > INT32_MAX)
		return error_reply("pid: not a process id");
	/* The name is shown in JSON (connections), so it must be text. */
	jn = json_string(name);
	if (!jn)
		return error_reply("name: not UTF-8");
	json_decref(jn);
	if (!r->cl)
		return json_pack("{s:b, s:n, s:s}", "ok", 1, "client_id", "project",
		                 r->c->cfg->project ? r->c->cfg->project : "");
	snprintf(r->cl->name, sizeof r->cl->name, "%s", name);
	r->cl->pid = pid;
	r->cl->registered = true;
	return json_pack("{s:b, s:I, s:s, s:i}", "ok", 1, "client_id", (json_int_t)r->cl->id, "project",
	                 r->c->cfg->project ? r->c->cfg->project : "", "protocol", 1);
}

/* Hands a read-only command to the query workers (queries.c), which answer
 * {ok, exit_code, <type>: document} later. The engine's writes are
 * committed first, so the query sees everything done so far. */
static json_t *run_query(req *r, int argc, char **argv)
{
	if (r->c->ops.flush)
		r->c->ops.flush(r->c->ops.ud);
	const char *refusal = ctl_queries_submit(r->c, r->msg, argc, argv);
	if (refusal)
		return error_reply(refusal);
	r->deferred = true;
	return NULL;
}

/* The "status" field of a jobs request: "a,b" or ["a", "b"]. */
static int get_status_list(req *r, char *out, size_t outsz)
{
	const msgpack_object *o = msg_dec_get(r->map, "status");
	size_t used = 0;
	out[0] = '\0';
	if (!o || o->type == MSGPACK_OBJECT_NIL)
		return 0;
	if (o->type == MSGPACK_OBJECT_STR) {
		const char *s;
		int rc = get_str(r, "status", false, SHORT_MAX, &s);
		if (rc)
			return rc;
		snprintf(out, outsz, "%s", s);
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return msg_dec_fail(&r->d, "status", "expected a string or an array of strings, got %s",
		                    msg_dec_type_name(o));
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *it = &o->via.array.ptr[i];
		if (it->type != MSGPACK_OBJECT_STR || it->via.str.size == 0 || it->via.str.size > 32 ||
		    memchr(it->via.str.ptr, '\0', it->via.str.size) ||
		    memchr(it->via.str.ptr, ',', it->via.str.size))
			return msg_dec_fail(&r->d, "status", "item %" PRIu32 " is not a status word", i);
		if (used + it->via.str.size + 2 >= outsz)
			return msg_dec_fail(&r->d, "status", "too many status words");
		if (used)
			out[used++] = ',';
		memcpy(out + used, it->via.str.ptr, it->via.str.size);
		used += it->via.str.size;
		out[used] = '\0';
	}
	if (used == 0)
		return msg_dec_fail(&r->d, "status", "needs at least one status word");
	return 0;
}

static json_t *do_query(req *r)
{
	const char *filter = NULL, *sort = NULL, *path = NULL, *platform = NULL;
	char *argv[12];
	char status[SHORT_MAX + 1], idbuf[32];
	int argc = 0, rc;
	bool all = false;
	const char *t = r->type;

	argv[argc++] = (char *)t;
	if (strcmp(t, "jobs") == 0) {
		static const char *const keys[] = {"filter", "status", "sort", NULL};
		if ((rc = check_keys(r, keys)) || (rc = get_str(r, "filter", false, PATH_ARG_MAX, &filter)) ||
		    (rc = get_status_list(r, status, sizeof status)) ||
		    (rc = get_str(r, "sort", false, SHORT_MAX, &sort)))
			return bad(r, rc);
		if (filter) {
			argv[argc++] = "--filter";
			argv[argc++] = (char *)filter;
		}
		if (status[0]) {
			argv[argc++] = "--status";
			argv[argc++] = status;
		}
		if (sort) {
			argv[argc++] = "--sort";
			argv[argc++] = (char *)sort;
		}
	} else if (strcmp(t, "job") == 0) {
		static const char *const keys[] = {"id", NULL};
		int64_t id = 0;
		if ((rc = check_keys(r, keys)) || (rc = msg_dec_i64(&r->d, r->map, "id", 0, &id)))
			return bad(r, rc);
		if (id <= 0)
			return error_reply("id: not a job id (a positive number)");
		snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
		argv[argc++] = "--";
		argv[argc++] = idbuf;
	} else if (strcmp(t, "assets") == 0 || strcmp(t, "products") == 0) {
		static const char *const keys[] = {"filter", NULL};
		if ((rc = check_keys(r, keys)) || (rc = get_str(r, "filter", false, PATH_ARG_MAX, &filter)))
			return bad(r, rc);
		if (filter) {
			argv[argc++] = "--filter";
			argv[argc++] = (char *)filter;
		}
	} else if (strcmp(t, "asset") == 0) {
		static const char *const keys[] = {"path", "uuid", NULL};
		if ((rc = check_keys(r, keys)) || (rc = get_path_or_uuid(r, &path)))
			return bad(r, rc);
		argv[argc++] = "--";
		argv[argc++] = (char *)path;
	} else if (strcmp(t, "product") == 0) {
		static const char *const keys[] = {"path", "asset_id", "platform", NULL};
		const char *aid = NULL;
		if ((rc = check_keys(r, keys)) || (rc = get_str(r, "path", false, PATH_ARG_MAX, &path)) ||
		    (rc = get_str(r, "asset_id", false, SHORT_MAX, &aid)) ||
		    (rc = get_str(r, "platform", false, SHORT_MAX, &platform)))
			return bad(r, rc);
		if ((path && aid) || (!path && !aid) || (path ? path : aid)[0] == '\0')
			return error_reply("give exactly one of \"path\" and \"asset_id\"");
		if (platform) {
			argv[argc++] = "--platform";
			argv[argc++] = (char *)platform;
		}
		argv[argc++] = "--";
		argv[argc++] = (char *)(path ? path : aid);
	} else { /* builders */
		static const char *const keys[] = {"all", NULL};
		if ((rc = check_keys(r, keys)) ||
		    (rc = msg_dec_bool(&r->d, r->map, "all", MSG_DEC_OPTIONAL, &all)))
			return bad(r, rc);
		if (all)
			argv[argc++] = "--all";
	}
	argv[argc] = NULL;
	return run_query(r, argc, argv);
}

static json_t *do_status(req *r)
{
	int rc;
	if ((rc = check_keys(r, NULL)))
		return bad(r, rc);
	if (!r->c->ops.status)
		return error_reply("status is not available");
	json_t *s = r->c->ops.status(r->c->ops.ud);
	if (!s)
		return error_reply("status is not available");
	return json_pack("{s:b, s:o}", "ok", 1, "status", s);
}

static json_t *do_asset_status(req *r)
{
	static const char *const keys[] = {"path", "uuid", NULL};
	const char *arg = NULL;
	char err[512] = "";
	int rc;
	if ((rc = check_keys(r, keys)) || (rc = get_path_or_uuid(r, &arg)))
		return bad(r, rc);
	if (!r->c->ops.asset_status)
		return error_reply("asset_status is not available");
	json_t *s = r->c->ops.asset_status(r->c->ops.ud, arg, err, sizeof err);
	if (!s)
		return error_reply(err[0] ? err : "no such asset");
	return json_pack("{s:b, s:o}", "ok", 1, "asset_status", s);
}

static json_t *do_compile(req *r)
{
	static const char *const keys[] = {"path", "uuid", "platform", "timeout_ms", NULL};
	control *c = r->c;
	const char *arg = NULL, *platform = NULL;
	int64_t timeout_ms = 0;
	char err[512] = "";
	int rc;
	control_token token;

	if ((rc = check_keys(r, keys)) || (rc = get_path_or_uuid(r, &arg)) ||
	    (rc = get_str(r, "platform", false, SHORT_MAX, &platform)) ||
	    (rc = msg_dec_i64(&r->d, r->map, "timeout_ms", MSG_DEC_OPTIONAL, &timeout_ms)))
		return bad(r, rc);
	if (timeout_ms < 0 || timeout_ms > (int64_t)7 * 24 * 3600 * 1000)
		return error_reply("timeout_ms: must be from 0 (no timeout) to a week");
	if (!c->ops.compile)
		return error_reply("compile is not available");
	if ((rc = ctl_pending_add(c, r->msg, &r->cl, &token)) != 0)
		return error_reply(rc == -EBUSY ? "too many compile requests are waiting already"
		                                : "out of memory");
	/* The entry exists before the engine is asked, because the engine
	 * may answer at once from inside compile (an unknown asset). */
	rc = c->ops.compile(c->ops.ud, arg, platform, timeout_ms, token, err, sizeof err);
	if (rc != 0) {
		ctl_pending_drop(c, token);
		return error_reply(err[0] ? err : kiln_strerror(rc));
	}
	r->deferred = true;
	return NULL;
}

static json_t *do_reprocess(req *r)
{
	static const char *const keys[] = {"paths", NULL};
	const msgpack_object_array *arr = NULL;
	const char **paths = NULL;
	char err[512] = "";
	int rc;
	json_t *res = NULL, *rep = NULL;

	if ((rc = check_keys(r, keys)) || (rc = msg_dec_array(&r->d, r->map, "paths", 0, &arr)))
		return bad(r, rc);
	if (arr->size == 0 || arr->size > REPROCESS_MAX)
		return error_reply("paths: give from 1 to 100000 paths");
	if (!r->c->ops.reprocess)
		return error_reply("reprocess is not available");
	paths = arena_alloc(r->d.a, arr->size * sizeof *paths);
	if (!paths)
		return error_reply("out of memory");
	for (uint32_t i = 0; i < arr->size; i++) {
		const msgpack_object *o = &arr->ptr[i];
		if (o->type != MSGPACK_OBJECT_STR) {
			snprintf(r->err, sizeof r->err, "paths[%" PRIu32 "]: expected a string, got %s", i,
			         msg_dec_type_name(o));
			return error_reply(r->err);
		}
		if (o->via.str.size == 0 || o->via.str.size > PATH_ARG_MAX ||
		    memchr(o->via.str.ptr, '\0', o->via.str.size)) {
			snprintf(r->err, sizeof r->err,
			         "paths[%" PRIu32 "]: empty, longer than %d bytes or holding a NUL byte", i,
			         PATH_ARG_MAX);
			return error_reply(r->err);
		}
		paths[i] = arena_strndup(r->d.a, o->via.str.ptr, o->via.str.size);
		if (!paths[i])
			return error_reply("out of memory");
	}
	res = r->c->ops.reprocess(r->c->ops.ud, paths, arr->size, err, sizeof err);
	if (!res)
		return error_reply(err[0] ? err : "reprocess failed");
	/* Flat: {ok, jobs, sources}. */
	rep = json_is_object(res) ? json_deep_copy(res) : json_object();
	json_decref(res);
	if (rep)
		json_object_set_new(rep, "ok", json_true());
	return rep;
}

static json_t *do_rescan(req *r)
{
	int rc;
	if ((rc = check_keys(r, NULL)))
		return bad(r, rc);
	if (!r->c->ops.rescan)
		return error_reply("rescan is not available");
	r->c->ops.rescan(r->c->ops.ud);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *do_tools(req *r)
{
	static const char *const keys[] = {"fast_scan", "debug_output", NULL};
	bool v[2] = {false, false};
	int rc;
	json_t *rep;

	if ((rc = check_keys(r, keys)))
		return bad(r, rc);
	const msgpack_object *o[2] = {msg_dec_get(r->map, "fast_scan"), msg_dec_get(r->map, "debug_output")};
	if ((rc = msg_dec_bool(&r->d, r->map, "fast_scan", MSG_DEC_OPTIONAL, &v[0])) ||
	    (rc = msg_dec_bool(&r->d, r->map, "debug_output", MSG_DEC_OPTIONAL, &v[1])))
		return bad(r, rc);
	if (!o[0] && !o[1])
		return error_reply("give \"fast_scan\" or \"debug_output\" (true or false)");
	if (!r->c->ops.set_tool)
		return error_reply("tools are not available");
	rep = json_pack("{s:b}", "ok", 1);
	for (int i = 0; i < 2 && rep; i++) {
		if (!o[i] || o[i]->type == MSGPACK_OBJECT_NIL)
			continue;
		const char *name = keys[i];
		if (r->c->ops.set_tool(r->c->ops.ud, name, v[i]) != 0) {
			json_decref(rep);
			snprintf(r->err, sizeof r->err, "%s cannot be changed now", name);
			return error_reply(r->err);
		}
		json_object_set_new(rep, name, json_boolean(v[i]));
	}
	return rep;
}

static json_t *do_connections(req *r)
{
	int rc;
	if ((rc = check_keys(r, NULL)))
		return bad(r, rc);
	ctl_queries_account(r->c);
	ctl_sweep(r->c);
	/* The sweep moves entries: find ours again. */
	r->cl = ctl_client_find(r->c, nng_msg_get_pipe(r->msg).id);
	return ctl_connections_json(r->c);
}

static const struct {
	const char *type;
	json_t *(*fn)(req *r);
} handlers[] = {
    {"hello", do_hello},
    {"status", do_status},
    {"jobs", do_query},
    {"job", do_query},
    {"assets", do_query},
    {"asset", do_query},
    {"products", do_query},
    {"product", do_query},
    {"builders", do_query},
    {"asset_status", do_asset_status},
    {"compile", do_compile},
    {"reprocess", do_reprocess},
    {"rescan", do_rescan},
    {"tools", do_tools},
    {"connections", do_connections},
};

void ctl_handle(control *c, nng_msg *m)
{
	req *r = NULL;
	arena *a = NULL;
	json_t *rep = NULL;
	msgpack_unpacked u;
	bool gone = false;
	const char *refusal;
	size_t len = nng_msg_len(m);
	uint32_t pipe = nng_msg_get_pipe(m).id;

	msgpack_unpacked_init(&u);
	r = calloc(1, sizeof *r);
	if (!r)
		goto out;
	r->c = c;
	r->msg = m;
	r->cl = ctl_client_for(c, pipe, &gone, &r->tcp);
	if (gone)
		goto out; /* nobody to answer */
	c->requests_total++;
	if (r->cl) {
		r->cl->requests++;
		r->cl->last_ms = ctl_now_ms();
	}
	if (len > REQ_MAX) {
		snprintf(r->err, sizeof r->err, "the request is %zu bytes; the limit is %zu", len, REQ_MAX);
		rep = error_reply(r->err);
		goto send;
	}
	if (msg_unpack_map(nng_msg_body(m), len, &u, r->err, sizeof r->err) != 0) {
		char why[1100];
		snprintf(why, sizeof why, "a request must be one MessagePack map: %s", r->err);
		rep = error_reply(why);
		goto send;
	}
	r->map = &u.data;
	if (r->tcp && (refusal = ctl_token_refusal(c, r->map, r->cl ? r->cl->address : "tcp")) != NULL) {
		rep = error_reply(refusal);
		goto send;
	}
	a = arena_new();
	if (!a) {
		rep = error_reply("out of memory");
		goto send;
	}
	msg_dec_init(&r->d, a, r->err, sizeof r->err);
	if (msg_dec_str(&r->d, r->map, "type", 0, &r->type) != 0) {
		rep = error_reply(r->err);
		goto send;
	}
	size_t i;
	for (i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
		if (strcmp(handlers[i].type, r->type) == 0)
			break;
	if (i == sizeof handlers / sizeof handlers[0]) {
		snprintf(r->err, sizeof r->err, "unknown request type \"%.64s\"", r->type);
		rep = error_reply(r->err);
		goto send;
	}
	rep = handlers[i].fn(r);
	if (r->deferred)
		goto out;
	if (!rep)
		rep = error_reply("out of memory");
send:
	if (rep && json_is_false(json_object_get(rep, "ok"))) {
		c->errors_total++;
		if (r->cl)
			r->cl->errors++;
	}
	if (rep)
		(void)ctl_send_reply(c, m, rep);
out:
	json_decref(rep);
	msgpack_unpacked_destroy(&u);
	arena_free(a);
	free(r);
	nng_msg_free(m);
}
