/* api.c: the dashboard's JSON API (supervisor/dash/web/README.md). Runs on the
 * dashboard's worker threads. Listings and details come from the database
 * through query_json() (its own read-only connection each time, so any
 * number of workers may ask at once); state and actions go to the
 * supervisor through the control API; the Logs tab reads Cache/logs/kiln.log.
 * Every argument is checked here before it reaches either. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dash/dash_priv.h"
#include "kerr.h"
#include "pattern.h"
#include "query/query.h"

#define LOG_TAIL_BYTES (8 << 20)
#define LOG_LINES_MAX  20000

/* ---- the control API ---- */

json_t *dash_control(dash *d, kclient **ctl, json_t *req, int timeout_ms, char *err, size_t errsz)
{
	json_t *rep = NULL;
	int rc;
	if (!*ctl) {
		if ((rc = kclient_open(d->cfg->cache, ctl)) != 0) {
			*ctl = NULL;
			snprintf(err, errsz, "the supervisor does not answer (%s)", kiln_strerror(rc));
			return NULL;
		}
		/* Named, so that the Connections tab tells the dashboard's
		 * own connections from an editor's. */
		json_t *hello = json_pack("{s:s, s:s, s:i}", "type", "hello", "name", "kiln-dashboard", "pid",
		                          (int)getpid());
		rc = kclient_request(*ctl, hello, &rep, timeout_ms);
		json_decref(hello);
		json_decref(rep);
		rep = NULL;
		if (rc != 0) {
			kclient_close(*ctl);
			*ctl = NULL;
			snprintf(err, errsz, "the supervisor does not answer (%s)", kiln_strerror(rc));
			return NULL;
		}
	}
	if ((rc = kclient_request(*ctl, req, &rep, timeout_ms)) != 0) {
		/* A client that timed out may get a late reply to the
		 * abandoned request; kclient skips it. A broken one is
		 * replaced at the next request. */
		if (rc != -ETIMEDOUT) {
			kclient_close(*ctl);
			*ctl = NULL;
		}
		snprintf(err, errsz, "the supervisor did not answer: %s", kiln_strerror(rc));
		return NULL;
	}
	return rep;
}

/* Sends req (taken) and answers with the reply without "ok", or with its
 * error: 400 for a refused request, 503 when the supervisor is not there. */
static void control_answer(dash *d, kclient **ctl, json_t *req, int timeout_ms, dash_res *res)
{
	char err[512];
	json_t *rep = dash_control(d, ctl, req, timeout_ms, err, sizeof err);
	json_decref(req);
	if (!rep) {
		dash_res_error(res, 503, "%s", err);
		return;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		const char *e = json_string_value(json_object_get(rep, "error"));
		dash_res_error(res, 400, "%s", e ? e : "the supervisor refused the request");
		json_decref(rep);
		return;
	}
	json_object_del(rep, "ok");
	dash_res_json(res, 200, rep);
}

/* ---- arguments ---- */

/* Reads one query argument into out. Returns 1 when found, 0 when absent,
 * -1 when malformed (res is then the 400 answer). */
static int arg(const dash_req *req, const char *key, char *out, size_t outsz, dash_res *res)
{
	const char *why = NULL;
	int rc = dash_query_get(req->query, key, out, outsz, &why);
	if (rc == 0)
		return 1;
	if (rc == 1)
		return 0;
	dash_res_error(res, 400, "argument %s: %s", key, why ? why : "malformed");
	return -1;
}

/* An argv for query_json() with copies of its strings. */
typedef struct qargs {
	char *v[24];
	int n;
} qargs;

static void qa_add(qargs *a, const char *s)
{
	if (a->n < 23)
		a->v[a->n++] = strdup(s ? s : "");
	a->v[a->n] = NULL;
}

static void qa_free(qargs *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

/* Adds "--opt value" when the query has key. Returns -1 on a malformed
 * argument (res set). */
static int qa_opt(qargs *a, const dash_req *req, const char *key, const char *opt, dash_res *res)
{
	char v[DASH_ARG_MAX + 1];
	int rc = arg(req, key, v, sizeof v, res);
	if (rc < 0)
		return -1;
	if (rc == 1 && v[0]) {
		qa_add(a, opt);
		qa_add(a, v);
	}
	return 0;
}

/* Paging: limit 1..10000 (default 200) and offset, checked here so that a
 * bad value is the dashboard's 400 with the argument's name. */
static int qa_page(qargs *a, const dash_req *req, dash_res *res)
{
	char v[32];
	int64_t n;
	int rc = arg(req, "limit", v, sizeof v, res);
	if (rc < 0)
		return -1;
	if (rc == 1 && (dash_parse_count(v, 10000, &n) != 0 || n < 1)) {
		dash_res_error(res, 400, "limit takes a number from 1 to 10000");
		return -1;
	}
	qa_add(a, "--limit");
	qa_add(a, rc == 1 ? v : "200");
	rc = arg(req, "offset", v, sizeof v, res);
	if (rc < 0)
		return -1;
	if (rc == 1 && dash_parse_count(v, 1000000000, &n) != 0) {
		dash_res_error(res, 400, "offset takes a number from 0 to 1000000000");
		return -1;
	}
	qa_add(a, "--offset");
	qa_add(a, rc == 1 ? v : "0");
	return 0;
}

/* Runs a query and answers with its document: 200 (with "failed": true
 * when the job or asset failed), 404 when what was asked for does not
 * exist, 400 for a bad argument. */
static void run_query(dash *d, qargs *a, dash_res *res)
{
	json_t *doc = NULL;
	char err[2048];
	int rc = query_json(d->cfg, a->n, a->v, &doc, err, sizeof err);
	if (doc) {
		if (rc == 1 && json_is_object(doc) && !json_object_get(doc, "total"))
			json_object_set_new(doc, "failed", json_true());
		dash_res_json(res, 200, doc);
	} else {
		dash_res_error(res, rc == 1 ? 404 : 400, "%s", err[0] ? err : "the query failed");
	}
}

/* ---- handlers ---- */

static void api_status(dash *d, kclient **ctl, dash_res *res)
{
	char err[512];
	json_t *req = json_pack("{s:s}", "type", "status");
	json_t *rep = dash_control(d, ctl, req, 3000, err, sizeof err);
	json_decref(req);
	json_t *st = json_object_get(rep, "status");
	json_t *out = json_is_object(st) ? json_incref(st) : NULL;
	json_decref(rep);

	/* Counts from the database; also the whole answer when the
	 * supervisor does not answer (it is busy, or stopping). */
	qargs a = {0};
	json_t *db = NULL;
	char qerr[512];
	qa_add(&a, "status");
	query_json(d->cfg, a.n, a.v, &db, qerr, sizeof qerr);
	qa_free(&a);
	if (!out) {
		out = db ? json_incref(db) : json_object();
		json_object_set_new(out, "supervisor_error", json_string(err));
	} else if (db) {
		static const char *const keys[] = {"jobs_total", "jobs_failed",        "sources",
		                                   "products",   "critical_remaining", NULL};
		for (int i = 0; keys[i]; i++) {
			json_t *v = json_object_get(db, keys[i]);
			if (v)
				json_object_set(out, keys[i], v);
		}
	}
	json_decref(db);
	json_t *dash = json_pack("{s:s, s:I, s:b}", "url", d->url, "events_seq",
	                         (json_int_t)dash_events_seq(d), "events_connected", d->events_connected);
	json_object_set_new(out, "dashboard", dash);
	json_t *plats = json_array();
	for (size_t i = 0; i < d->cfg->n_platforms; i++)
		json_array_append_new(plats, json_string(d->cfg->platforms[i]));
	json_object_set_new(out, "platforms", plats);
	dash_res_json(res, 200, out);
}

static void api_jobs(dash *d, const dash_req *req, dash_res *res)
{
	qargs a = {0};
	qa_add(&a, "jobs");
	if (qa_opt(&a, req, "filter", "--filter", res) == 0 &&
	    qa_opt(&a, req, "status", "--status", res) == 0 && qa_opt(&a, req, "sort", "--sort", res) == 0 &&
	    qa_opt(&a, req, "order", "--order", res) == 0 && qa_page(&a, req, res) == 0)
		run_query(d, &a, res);
	qa_free(&a);
}

static void api_job(dash *d, const char *id, dash_res *res)
{
	int64_t n;
	if (dash_parse_count(id, INT64_MAX / 2, &n) != 0 || n < 1) {
		dash_res_error(res, 400, "a job id is a number from 1 up");
		return;
	}
	qargs a = {0};
	qa_add(&a, "job");
	qa_add(&a, id);
	run_query(d, &a, res);
	qa_free(&a);
}

static void api_list(dash *d, const dash_req *req, dash_res *res, const char *cmd, bool platform)
{
	qargs a = {0};
	char v[DASH_ARG_MAX + 1];
	qa_add(&a, cmd);
	int rc = arg(req, "dir", v, sizeof v, res);
	if (rc == 1) {
		/* "" is the top of the tree. */
		qa_add(&a, "--dir");
		qa_add(&a, v);
	}
	if (rc >= 0 && qa_opt(&a, req, "filter", "--filter", res) == 0 &&
	    (!platform || qa_opt(&a, req, "platform", "--platform", res) == 0) && qa_page(&a, req, res) == 0)
		run_query(d, &a, res);
	qa_free(&a);
}

/* One source or product named by one of keys; the value goes after "--",
 * so that a name starting with '-' is not read as an option. */
static void api_one(dash *d, const dash_req *req, dash_res *res, const char *cmd, const char *const *keys)
{
	char v[DASH_ARG_MAX + 1];
	qargs a = {0};
	int found = 0;
	qa_add(&a, cmd);
	if (strcmp(cmd, "product") == 0 && qa_opt(&a, req, "platform", "--platform", res) != 0)
		goto out;
	for (int i = 0; keys[i]; i++) {
		int rc = arg(req, keys[i], v, sizeof v, res);
		if (rc < 0)
			goto out;
		if (rc == 1 && v[0]) {
			if (found++) {
				dash_res_error(res, 400, "give one of %s and %s, not both", keys[0], keys[1]);
				goto out;
			}
			qa_add(&a, "--");
			qa_add(&a, v);
		}
	}
	if (!found) {
		dash_res_error(res, 400, "which %s? give %s or %s", cmd, keys[0], keys[1]);
		goto out;
	}
	run_query(d, &a, res);
out:
	qa_free(&a);
}

static void api_builders(dash *d, const dash_req *req, dash_res *res, const char *name)
{
	qargs a = {0};
	char v[8];
	int all = arg(req, "all", v, sizeof v, res);
	if (all < 0)
		return;
	qa_add(&a, "builders");
	if (name || (all == 1 && strcmp(v, "0") != 0))
		qa_add(&a, "--all");
	if (!name) {
		run_query(d, &a, res);
		qa_free(&a);
		return;
	}
	json_t *doc = NULL, *b;
	char err[1024];
	size_t i;
	int rc = query_json(d->cfg, a.n, a.v, &doc, err, sizeof err);
	qa_free(&a);
	if (!doc) {
		dash_res_error(res, rc == 1 ? 404 : 400, "%s", err);
		return;
	}
	json_array_foreach(doc, i, b)
	{
		const char *n = json_string_value(json_object_get(b, "name"));
		const char *u = json_string_value(json_object_get(b, "uuid"));
		if ((n && strcmp(n, name) == 0) || (u && strcasecmp(u, name) == 0)) {
			dash_res_json(res, 200, json_incref(b));
			json_decref(doc);
			return;
		}
	}
	json_decref(doc);
	dash_res_error(res, 404, "no builder named \"%.200s\"", name);
}

/* ---- the supervisor's log ---- */

static void api_logs(dash *d, const dash_req *req, dash_res *res)
{
	char view[32] = "messages", filter[DASH_ARG_MAX + 1] = "", lim[32];
	int64_t limit = 2000;
	kpattern *re = NULL;
	char *buf = NULL;
	int fd = -1, rc;
	json_t *lines = NULL;

	if (arg(req, "view", view, sizeof view, res) < 0 ||
	    arg(req, "filter", filter, sizeof filter, res) < 0 ||
	    (rc = arg(req, "limit", lim, sizeof lim, res)) < 0)
		return;
	int min_level;
	if (strcmp(view, "debug") == 0)
		min_level = 0;
	else if (strcmp(view, "messages") == 0)
		min_level = 1;
	else if (strcmp(view, "problems") == 0)
		min_level = 2;
	else {
		dash_res_error(res, 400, "view takes debug, messages or problems");
		return;
	}
	if (rc == 1 && (dash_parse_count(lim, LOG_LINES_MAX, &limit) != 0 || limit < 1)) {
		dash_res_error(res, 400, "limit takes a number from 1 to %d", LOG_LINES_MAX);
		return;
	}
	if (filter[0]) {
		char err[256];
		if (regex_compile(filter, &re, err, sizeof err) != 0) {
			dash_res_error(res, 400, "filter: %s", err);
			return;
		}
	}
	json_t *out = json_object();
	lines = json_array();
	if (!out || !lines) {
		json_decref(out);
		json_decref(lines);
		pattern_free(re);
		dash_res_error(res, 500, "out of memory");
		return;
	}
	json_object_set_new(out, "path", json_string(d->log_path));
	fd = open(d->log_path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	size_t len = 0;
	bool cut = false;
	if (fd >= 0 && fstat(fd, &sb) == 0) {
		off_t start = sb.st_size > LOG_TAIL_BYTES ? sb.st_size - LOG_TAIL_BYTES : 0;
		cut = start > 0;
		size_t want = (size_t)(sb.st_size - start);
		buf = malloc(want + 1);
		if (buf) {
			ssize_t n = pread(fd, buf, want, start);
			len = n > 0 ? (size_t)n : 0;
			buf[len] = '\0';
		}
	}
	if (fd >= 0)
		close(fd);
	/* Whole entries, newest kept: a line of another shape belongs to the
	 * entry before it (a message with newlines). The first partial line
	 * of a cut log is skipped. */
	size_t pos = 0;
	if (cut && buf) {
		char *nl = memchr(buf, '\n', len);
		pos = nl ? (size_t)(nl - buf) + 1 : len;
	}
	json_t *cur = NULL;
	int cur_level = -1;
	bool hit_limit = false;
	while (buf && pos < len) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - buf) - pos : len - pos;
		char *line = buf + pos;
		line[l] = '\0';
		pos += l + 1;
		int lv = dash_log_level(line, l);
		if (lv < 0) {
			if (cur) {
				const char *m = json_string_value(json_object_get(cur, "message"));
				char *joined = NULL;
				if (asprintf(&joined, "%s\n%s", m ? m : "", line) >= 0) {
					json_t *s = json_string(joined);
					if (s)
						json_object_set_new(cur, "message", s);
					free(joined);
				}
			}
			continue;
		}
		/* The entry before is complete: keep it if it passes. */
		if (cur) {
			const char *m = json_string_value(json_object_get(cur, "message"));
			int keep = cur_level >= min_level;
			if (keep && re) {
				int mr = pattern_match(re, m ? m : "");
				if (mr == KILN_E_LIMIT) {
					json_decref(cur);
					cur = NULL;
					hit_limit = true;
					break;
				}
				keep = mr == 1;
			}
			if (keep)
				json_array_append_new(lines, cur);
			else
				json_decref(cur);
			cur = NULL;
		}
		static const char *const names[] = {"debug", "info", "warning", "error"};
		size_t tl = 24;
		const char *rest = line + 25;
		rest = strchr(rest, ' ');
		rest = rest ? rest + 1 : line + l;
		const char *who = "";
		size_t wl = 0;
		if (*rest == '[') {
			const char *close = strchr(rest, ']');
			if (close) {
				who = rest + 1;
				wl = (size_t)(close - rest - 1);
				rest = close[1] == ' ' ? close + 2 : close + 1;
			}
		}
		json_t *tm = json_stringn(line, tl), *wh = json_stringn(who, wl), *msg = json_string(rest);
		if (!msg)
			msg = json_string("(a message that is not UTF-8)");
		cur = json_pack("{s:o, s:s, s:o, s:o}", "time", tm ? tm : json_null(), "level", names[lv],
		                "who", wh ? wh : json_string(""), "message", msg ? msg : json_string(""));
		cur_level = lv;
	}
	if (cur) {
		const char *m = json_string_value(json_object_get(cur, "message"));
		int keep = cur_level >= min_level;
		if (keep && re) {
			int mr = pattern_match(re, m ? m : "");
			hit_limit = mr == KILN_E_LIMIT;
			keep = mr == 1;
		}
		if (keep)
			json_array_append_new(lines, cur);
		else
			json_decref(cur);
	}
	free(buf);
	pattern_free(re);
	if (hit_limit) {
		json_decref(lines);
		json_decref(out);
		dash_res_error(res, 400, "filter: regex hit its match limit");
		return;
	}
	size_t total = json_array_size(lines);
	if (total > (size_t)limit) {
		json_t *tail = json_array();
		for (size_t i = total - (size_t)limit; i < total; i++)
			json_array_append(tail, json_array_get(lines, i));
		json_decref(lines);
		lines = tail;
	}
	json_object_set_new(out, "matched", json_integer((json_int_t)total));
	json_object_set_new(out, "truncated", json_boolean(cut));
	json_object_set_new(out, "lines", lines);
	dash_res_json(res, 200, out);
}

/* ---- actions ---- */

static json_t *body_object(const dash_req *req, dash_res *res)
{
	json_error_t e;
	if (!req->body || req->body_len == 0)
		return json_object();
	json_t *v = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!json_is_object(v)) {
		json_decref(v);
		dash_res_error(res, 400, "the body must be a JSON object (%s)", v ? "not an object" : e.text);
		return NULL;
	}
	return v;
}

static void api_reprocess(dash *d, kclient **ctl, const dash_req *req, dash_res *res)
{
	json_t *b = body_object(req, res);
	if (!b)
		return;
	json_t *paths = json_object_get(b, "paths");
	json_t *one = json_object_get(b, "path");
	json_t *list = json_array();
	size_t i;
	json_t *v;
	if (json_is_string(one))
		json_array_append(list, one);
	json_array_foreach(paths, i, v) json_array_append(list, v);
	if (json_array_size(list) == 0 || (paths && !json_is_array(paths)) || (one && !json_is_string(one))) {
		json_decref(list);
		json_decref(b);
		dash_res_error(res, 400,
		               "give \"path\" (a source's path or uuid) or \"paths\" (a list of them)");
		return;
	}
	json_decref(b);
	control_answer(d, ctl, json_pack("{s:s, s:o}", "type", "reprocess", "paths", list), 60000, res);
}

static void api_tools(dash *d, kclient **ctl, const dash_req *req, dash_res *res, bool post)
{
	if (!post) {
		char err[512];
		json_t *r = json_pack("{s:s}", "type", "status");
		json_t *rep = dash_control(d, ctl, r, 3000, err, sizeof err);
		json_decref(r);
		json_t *st = json_object_get(rep, "status");
		json_t *out = json_pack("{s:O?, s:b, s:b}", "fast_scan", json_object_get(st, "fast_scan"),
		                        "debug_output", d->debug_output, "running", rep != NULL);
		json_decref(rep);
		dash_res_json(res, 200, out);
		return;
	}
	json_t *b = body_object(req, res);
	if (!b)
		return;
	json_t *fs = json_object_get(b, "fast_scan"), *dbg = json_object_get(b, "debug_output");
	if ((fs && !json_is_boolean(fs)) || (dbg && !json_is_boolean(dbg)) || (!fs && !dbg) ||
	    json_object_size(b) != (size_t)(!!fs + !!dbg)) {
		json_decref(b);
		dash_res_error(res, 400,
		               "give \"fast_scan\" and/or \"debug_output\", true or false, and nothing else");
		return;
	}
	json_t *r = json_pack("{s:s}", "type", "tools");
	if (fs)
		json_object_set(r, "fast_scan", fs);
	if (dbg)
		json_object_set(r, "debug_output", dbg);
	bool want_dbg = dbg && json_is_true(dbg);
	json_decref(b);
	control_answer(d, ctl, r, 10000, res);
	if (res->status == 200 && dbg)
		d->debug_output = want_dbg;
}

/* ---- routing ---- */

void dash_api(dash *d, kclient **ctl, const dash_req *req, dash_res *res)
{
	bool post = strcmp(req->method, "POST") == 0;
	const char *p = req->path + 5; /* after "/api/" */
	char name[DASH_ARG_MAX + 1];
	const char *why = NULL;

	if (strlen(p) > DASH_ARG_MAX) {
		dash_res_error(res, 404, "no such API");
		return;
	}
	if (!post) {
		if (strcmp(p, "status") == 0) {
			api_status(d, ctl, res);
			return;
		}
		if (strcmp(p, "jobs") == 0) {
			api_jobs(d, req, res);
			return;
		}
		if (strncmp(p, "job/", 4) == 0) {
			snprintf(name, sizeof name, "%s", p + 4);
			if (dash_unescape(name, &why) != 0) {
				dash_res_error(res, 400, "job id: %s", why ? why : "malformed");
				return;
			}
			{
				api_job(d, name, res);
				return;
			}
		}
		if (strcmp(p, "assets") == 0) {
			api_list(d, req, res, "assets", false);
			return;
		}
		if (strcmp(p, "products") == 0) {
			api_list(d, req, res, "products", true);
			return;
		}
		if (strcmp(p, "asset") == 0) {
			static const char *const keys[] = {"path", "uuid", NULL};
			{
				api_one(d, req, res, "asset", keys);
				return;
			}
		}
		if (strcmp(p, "product") == 0) {
			static const char *const keys[] = {"path", "asset_id", NULL};
			{
				api_one(d, req, res, "product", keys);
				return;
			}
		}
		if (strcmp(p, "builders") == 0) {
			api_builders(d, req, res, NULL);
			return;
		}
		if (strncmp(p, "builder/", 8) == 0) {
			snprintf(name, sizeof name, "%s", p + 8);
			if (dash_unescape(name, &why) != 0 || !name[0]) {
				dash_res_error(res, 400, "builder name: %s", why ? why : "missing");
				return;
			}
			{
				api_builders(d, req, res, name);
				return;
			}
		}
		if (strcmp(p, "logs") == 0) {
			api_logs(d, req, res);
			return;
		}
		if (strcmp(p, "connections") == 0) {
			control_answer(d, ctl, json_pack("{s:s}", "type", "connections"), 5000, res);
			return;
		}
		if (strcmp(p, "tools") == 0) {
			api_tools(d, ctl, req, res, false);
			return;
		}
		if (strcmp(p, "shared-cache") == 0) {
			dash_res_json(
			    res, 200,
			    json_pack("{s:s, s:s, s:s}", "mode", "not configured", "state", "not configured",
			              "detail",
			              "this kiln has no shared cache yet; the tab fills in when it does"));
			return;
		}
	} else {
		if (strcmp(p, "reprocess") == 0) {
			api_reprocess(d, ctl, req, res);
			return;
		}
		if (strcmp(p, "rescan") == 0) {
			control_answer(d, ctl, json_pack("{s:s}", "type", "rescan"), 120000, res);
			return;
		}
		if (strcmp(p, "tools") == 0) {
			api_tools(d, ctl, req, res, true);
			return;
		}
	}
	static const char *const gets[] = {"status",      "jobs",         "assets",   "products",
	                                   "asset",       "product",      "builders", "logs",
	                                   "connections", "shared-cache", NULL};
	static const char *const posts[] = {"reprocess", "rescan", NULL};
	for (int i = 0; gets[i]; i++)
		if (post && strcmp(p, gets[i]) == 0) {
			dash_res_error(res, 405, "/api/%s takes GET", p);
			return;
		}
	for (int i = 0; posts[i]; i++)
		if (!post && strcmp(p, posts[i]) == 0) {
			dash_res_error(res, 405, "/api/%s takes POST", p);
			return;
		}
	dash_res_error(res, 404, "no such API: /api/%.200s", p);
}
