/* live.c: `kiln run`, the engine beside an editor (issue 6).
 *
 * The initial scan and processing, then file events from the watcher, and
 * requests from the control API, all on the engine's one thread: the pool's
 * poll loop watches the builder hosts, the inotify descriptor and the control
 * socket. Job status changes, product changes and the ready state go out as
 * events for hot reload. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/control.h"
#include "dash/dash.h"
#include "engine/engine_priv.h"
#include "kerr.h"
#include "klog.h"
#include "uuid.h"
#include "engine/watch.h"

#define STOP_GRACE_MS    10000
#define CATALOG_DELAY_MS 200

typedef struct compile_wait {
	control_token token;
	size_t si;
	char *platform;   /* NULL: every platform */
	int64_t deadline; /* 0: none */
	bool active;
} compile_wait;

struct live {
	watch *w;
	bwatch *bw; /* the builders' own files */
	control *ctl;
	compile_wait *waits;
	size_t n_waits, cap_waits;
	int ready; /* -1 unknown */
	const char *state;
	int64_t last_scan_ms, last_analysis_ms, last_processing_ms;
	int64_t busy_since, analysis_since;
	bool fast_scan;
	int64_t stop_deadline;
	bool cancelled;
	int64_t catalog_due;
	int64_t metrics_at;
	char sock[KILN_PATH_MAX];
};

/* ---- events ---- */

static void live_publish(engine *e, const char *topic, json_t *body)
{
	if (e->live && e->live->ctl)
		control_publish(e->live->ctl, topic, body);
	if (strcmp(topic, "product") == 0 && e->live)
		e->live->catalog_due = pool_now_ms() + CATALOG_DELAY_MS;
}

static void publish(engine *e, const char *topic, json_t *body)
{
	live_publish(e, topic, body);
	json_decref(body);
}

/* ---- state ---- */

static bool analysis_busy(engine *e)
{
	if (e->aq_total)
		return true;
	for (size_t i = 0; i < e->n_runs; i++)
		if (e->runs[i].active && e->runs[i].kind == RUN_ANALYSE)
			return true;
	return false;
}

static size_t jobs_running(engine *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_runs; i++)
		n += e->runs[i].active && e->runs[i].kind == RUN_PROCESS && e->runs[i].begun_ms;
	return n;
}

static bool critical_left(engine *e)
{
	if (analysis_busy(e) || runq_critical_count(&e->q))
		return true;
	for (size_t i = 0; i < e->n_runs; i++)
		if (e->runs[i].active && e->runs[i].kind == RUN_PROCESS &&
		    e->jobs[e->runs[i].items[0]].critical)
			return true;
	for (size_t i = 0; i < e->waiting.n; i++)
		if (e->jobs[e->waiting.items[i]].waiting && e->jobs[e->waiting.items[i]].critical)
			return true;
	return false;
}

static void update_state(engine *e)
{
	live *l = e->live;
	int64_t now = pool_now_ms();
	const char *st = analysis_busy(e)                         ? "analysing"
	                 : (runq_count(&e->q) || jobs_running(e)) ? "processing"
	                                                          : "idle";
	if (l->state && strcmp(l->state, "scanning") == 0)
		st = "scanning";
	if (strcmp(st, "idle") != 0 && !l->busy_since)
		l->busy_since = now;
	if (strcmp(st, "analysing") == 0 && !l->analysis_since)
		l->analysis_since = now;
	if (strcmp(st, "analysing") != 0 && l->analysis_since) {
		l->last_analysis_ms = now - l->analysis_since;
		l->analysis_since = 0;
	}
	if (strcmp(st, "idle") == 0 && l->busy_since) {
		l->last_processing_ms = now - l->busy_since;
		l->busy_since = 0;
	}
	l->state = st;
	int ready = !critical_left(e) && strcmp(st, "scanning") != 0;
	if (ready != l->ready) {
		l->ready = ready;
		publish(e, "ready", json_pack("{s:b}", "ready", ready));
		klog(KLOG_INFO, "%s", ready ? "ready: no critical job left" : "not ready");
	}
}

/* ---- finding a source from what a client or user typed ---- */

static size_t find_source(engine *e, const char *arg)
{
	size_t si;
	kuuid u;
	char buf[KILN_PATH_MAX], us[37];
	if (!arg || !*arg || strlen(arg) >= KILN_PATH_MAX)
		return NONE;
	if (uuid_parse(arg, &u) == 0) {
		uuid_format(&u, us);
		return eng_source_by_uuid(e, us);
	}
	/* absolute, relative to the project root, or relative to a scan folder */
	const char *rel = arg;
	if (arg[0] == '/') {
		for (size_t f = 0; f < e->cfg->n_folders; f++) {
			size_t n = strlen(e->cfg->folders[f].abs);
			if (strncmp(arg, e->cfg->folders[f].abs, n) == 0 && arg[n] == '/') {
				rel = arg + n + 1;
				break;
			}
		}
	} else {
		for (size_t f = 0; f < e->cfg->n_folders; f++) {
			size_t rl = strlen(e->cfg->root);
			const char *fa = e->cfg->folders[f].abs;
			if (strncmp(fa, e->cfg->root, rl) != 0 || fa[rl] != '/')
				continue;
			const char *frel = fa + rl + 1; /* folder relative to the root */
			size_t n = strlen(frel);
			if (strncmp(arg, frel, n) == 0 && arg[n] == '/') {
				rel = arg + n + 1;
				break;
			}
		}
	}
	if (path_normalize(rel, buf, sizeof buf) != 0)
		return NONE;
	path_lower(buf);
	if (hmap_get(&e->src_by_key, buf, &si) && e->src[si].on_disk)
		return si;
	char k[KILN_PATH_MAX + 16];
	snprintf(k, sizeof k, "intermediate:%s", buf);
	if (hmap_get(&e->src_by_key, k, &si) && e->src[si].on_disk)
		return si;
	return NONE;
}

/* ---- compile ---- */

static void escalate_job(engine *e, size_t ji, int depth)
{
	ejob *j = &e->jobs[ji];
	if (depth > 32 || j->escalated)
		return;
	j->escalated = true;
	if (j->queued)
		runq_escalate(&e->q, ji);
	/* Its job dependencies go first too. */
	for (size_t k = 0; k < j->n_jdeps; k++) {
		size_t si =
		    j->jdeps[k].uuid ? NONE : eng_source_by_path(e, j->jdeps[k].path, &e->src[j->src]);
		if (si == NONE)
			continue;
		for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src)
			if (!e->jobs[t].deleted && strcmp(e->jobs[t].platform, j->platform) == 0)
				escalate_job(e, t, depth + 1);
	}
}

static json_t *jobs_json(engine *e, size_t si, const char *platform, const char **result)
{
	json_t *a = json_array();
	bool failed = false, pending = (e->src[si].analysing != 0), any = false;
	for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src) {
		ejob *j = &e->jobs[t];
		if (j->deleted || (platform && strcmp(platform, j->platform) != 0))
			continue;
		any = true;
		const char *st = j->begun                                  ? "processing"
		                 : (j->running || j->queued || j->waiting) ? "pending"
		                                                           : db_statuses[j->status];
		if (j->running || j->queued || j->waiting)
			pending = true;
		if (j->status == ST_FAILED && !j->running && !j->queued && !j->waiting)
			failed = true;
		json_array_append_new(a,
		                      json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)j->id, "platform",
		                                j->platform, "job_key", j->job_key, "status", st));
	}
	*result = pending ? NULL : failed ? "failed" : any ? "completed" : "missing";
	return a;
}

static void check_waits(engine *e)
{
	live *l = e->live;
	int64_t now = pool_now_ms();
	for (size_t i = 0; i < l->n_waits; i++) {
		compile_wait *w = &l->waits[i];
		if (!w->active)
			continue;
		const char *result;
		json_t *jobs = jobs_json(e, w->si, w->platform, &result);
		if (!result && w->deadline && now >= w->deadline)
			result = "timeout";
		if (result) {
			json_t *r = json_pack("{s:s, s:s, s:o}", "result", result, "source",
			                      e->src[w->si].rel, "jobs", jobs);
			control_reply(l->ctl, w->token, r);
			json_decref(r);
			free(w->platform);
			w->active = false;
		} else {
			json_decref(jobs);
		}
	}
}

static void fence(engine *e);

static int op_compile(void *ud, const char *arg, const char *platform, int64_t timeout_ms,
                      control_token token, char *err, size_t errsz)
{
	engine *e = ud;
	live *l = e->live;
	fence(e);
	size_t si = find_source(e, arg);
	if (si == NONE) {
		json_t *r = json_pack("{s:s, s:s, s:[]}", "result", "missing", "source", arg, "jobs");
		control_reply(l->ctl, token, r);
		json_decref(r);
		return 0;
	}
	if (platform && *platform) {
		bool known = false;
		for (size_t i = 0; i < e->cfg->n_platforms; i++)
			known |= strcmp(e->cfg->platforms[i], platform) == 0;
		if (!known) {
			snprintf(err, errsz, "unknown platform \"%s\"", platform);
			return -EINVAL;
		}
	}
	/* Its create_jobs calls go to the front of their queues. */
	for (size_t bi = 0; bi < e->nb; bi++) {
		ebuilder *b = &e->b[bi];
		for (size_t k = 0; k < b->aq_n; k++) {
			if (b->aq[b->aq_head + k] != si)
				continue;
			size_t t = b->aq[b->aq_head];
			b->aq[b->aq_head] = si;
			b->aq[b->aq_head + k] = t;
			e->next_aq_builder = (int)bi;
		}
	}
	for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src)
		if (!e->jobs[t].deleted &&
		    (!platform || !*platform || strcmp(platform, e->jobs[t].platform) == 0))
			escalate_job(e, t, 0);
	if (eng_grow((void **)&l->waits, &l->cap_waits, l->n_waits, sizeof *l->waits) != 0) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	compile_wait *w = &l->waits[l->n_waits++];
	w->token = token;
	w->si = si;
	w->platform = platform && *platform ? strdup(platform) : NULL;
	w->deadline = timeout_ms > 0 ? pool_now_ms() + timeout_ms : 0;
	w->active = true;
	check_waits(e);
	return 0;
}

/* ---- other control ops ---- */

static json_t *op_status(void *ud)
{
	engine *e = ud;
	live *l = e->live;
	size_t remaining = runq_count(&e->q) + e->aq_total;
	/* Sent to a host that has not begun them (it serves one at a time):
	 * still pending. */
	for (size_t i = 0; i < e->n_runs; i++)
		remaining += e->runs[i].active && e->runs[i].kind == RUN_PROCESS && !e->runs[i].begun_ms;
	for (size_t i = 0; i < e->waiting.n; i++)
		remaining += e->jobs[e->waiting.items[i]].waiting;
	json_t *o =
	    json_pack("{s:s, s:b, s:I, s:I, s:s, s:s, s:s, s:b, s:b}", "state", l->state ? l->state : "idle",
	              "ready", l->ready == 1, "jobs_active", (json_int_t)jobs_running(e), "jobs_remaining",
	              (json_int_t)remaining, "project", e->cfg->project, "root", e->cfg->root, "control",
	              l->sock, "running", 1, "hosts_given_up", pool_given_up(e->pool));
	json_object_set_new(o, "last_scan_ms",
	                    l->last_scan_ms >= 0 ? json_integer(l->last_scan_ms) : json_null());
	json_object_set_new(o, "last_analysis_ms",
	                    l->last_analysis_ms >= 0 ? json_integer(l->last_analysis_ms) : json_null());
	json_object_set_new(o, "last_processing_ms",
	                    l->last_processing_ms >= 0 ? json_integer(l->last_processing_ms) : json_null());
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "fast_scan", json_boolean(l->fast_scan));
	json_object_set_new(o, "unmatched", eng_unmatched_json(e));
	return o;
}

static void op_flush(void *ud)
{
	eng_maybe_commit(ud, true);
}

static json_t *op_asset_status(void *ud, const char *arg, char *err, size_t errsz)
{
	engine *e = ud;
	(void)err;
	(void)errsz;
	size_t si = find_source(e, arg);
	if (si == NONE)
		return json_pack("{s:s, s:s, s:[]}", "source", arg, "state", "missing", "jobs");
	const char *result;
	json_t *jobs = jobs_json(e, si, NULL, &result);
	bool running = false;
	for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src)
		running |= e->jobs[t].running && !e->jobs[t].deleted;
	const char *state = running                            ? "processing"
	                    : !result                          ? "queued"
	                    : strcmp(result, "completed") == 0 ? "compiled"
	                                                       : result;
	return json_pack("{s:s, s:s, s:s, s:o}", "uuid", e->src[si].uuid, "source", e->src[si].rel, "state",
	                 state, "jobs", jobs);
}

static json_t *op_reprocess(void *ud, const char *const *paths, size_t n, char *err, size_t errsz)
{
	engine *e = ud;
	size_t jobs = 0, sources = 0;
	fence(e);
	for (size_t i = 0; i < n; i++) {
		size_t si = find_source(e, paths[i]);
		if (si == NONE) {
			snprintf(err, errsz, "unknown source \"%.200s\"", paths[i]);
			return NULL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t si = find_source(e, paths[i]);
		sources++;
		eng_begin(e);
		sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOBS_REQUEST_SOURCE_ID);
		db_bind_int64(st, 1, e->src[si].id);
		db_step_done(e->db, st);
		for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src) {
			if (e->jobs[t].deleted)
				continue;
			e->jobs[t].requested = true;
			eng_job_consider(e, t);
			jobs++;
		}
	}
	return json_pack("{s:I, s:I}", "jobs", (json_int_t)jobs, "sources", (json_int_t)sources);
}

static void full_scan(engine *e)
{
	live *l = e->live;
	int64_t t0 = pool_now_ms();
	l->state = "scanning";
	e->st->sources = e->st->scanned = 0;
	eng_full_scan(e);
	l->last_scan_ms = pool_now_ms() - t0;
	l->state = NULL;
	klog(KLOG_INFO, "scan: %zu files, %zu sources in %lld ms", e->st->scanned, e->st->sources,
	     (long long)l->last_scan_ms);
	publish(e, "scan",
	        json_pack("{s:s, s:I, s:I, s:I}", "event", "finished", "files", (json_int_t)e->st->scanned,
	                  "sources", (json_int_t)e->st->sources, "ms", (json_int_t)l->last_scan_ms));
	update_state(e);
}

static void op_rescan(void *ud)
{
	full_scan(ud);
}

static int op_set_tool(void *ud, const char *name, bool on)
{
	engine *e = ud;
	if (strcmp(name, "fast_scan") == 0) {
		e->live->fast_scan = on;
		e->hash_all = !on || e->cfg->scan_hash || e->opts->hash;
		return 0;
	}
	if (strcmp(name, "debug_output") == 0) {
		klog_set_level(on ? KLOG_DEBUG : KLOG_INFO);
		return 0;
	}
	return -EINVAL;
}

static json_t *op_hosts(void *ud)
{
	engine *e = ud;
	int pids[256];
	size_t n = pool_host_pids(e->pool, pids, 256);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    a, json_pack("{s:i, s:s, s:b}", "pid", pids[i], "kind", "builder_host", "automatic", 1));
	return a;
}

/* ---- file events ---- */

static void apply_changes(engine *e, bool force)
{
	live *l = e->live;
	watch_change *ch = NULL;
	bool rescan = false;
	size_t n = watch_take(l->w, force, &ch, &rescan);
	if (rescan) {
		klog(KLOG_WARN, "watch: events were lost (queue overflow); scanning everything");
		full_scan(e);
	}
	for (size_t i = 0; i < n; i++)
		eng_path_changed(e, ch[i].folder, ch[i].rel, ch[i].dir);
	watch_changes_free(ch, n);
	if (n)
		eng_maybe_commit(e, false);
}

/* Everything saved before now is seen before what comes next. */
static void fence(engine *e)
{
	watch_read(e->live->w);
	apply_changes(e, true);
}

static void cb_watch(void *ud, int fd)
{
	engine *e = ud;
	(void)fd;
	watch_read(e->live->w);
}

static void cb_bwatch(void *ud, int fd)
{
	engine *e = ud;
	(void)fd;
	bwatch_read(e->live->bw, pool_now_ms());
}

static void cb_control(void *ud, int fd)
{
	engine *e = ud;
	(void)fd;
	control_on_readable(e->live->ctl);
}

int engine_live(const kiln_config *cfg, const engine_opts *o, char *err, size_t errsz)
{
	engine_stats st;
	engine e = {.cfg = cfg, .opts = o, .st = &st};
	dash *dsh = NULL;
	live l = {.ready = -1,
	          .fast_scan = !cfg->scan_hash,
	          .last_scan_ms = -1,
	          .last_analysis_ms = -1,
	          .last_processing_ms = -1};
	int rc;
	memset(&st, 0, sizeof st);
	e.live = &l;
	e.publish = live_publish;
	if ((rc = eng_open(&e, err, errsz)) != 0)
		goto out;
	snprintf(l.sock, sizeof l.sock, "%s/kiln.sock", cfg->cache);
	if ((rc = eng_describe(&e)) != 0)
		goto out;
	if ((rc = eng_load(&e)) != 0) {
		snprintf(err, errsz, "reading the database: %s", db_errmsg(e.db));
		goto out;
	}
	/* The watches go in before the scan, so nothing saved during the scan
	 * is missed. */
	if ((rc = watch_open(cfg, e.excludes, e.n_excludes, &l.w)) != 0) {
		snprintf(err, errsz, "cannot watch the scan folders: %s", kiln_strerror(rc));
		goto out;
	}
	control_ops ops = {.status = op_status,
	                   .flush = op_flush,
	                   .asset_status = op_asset_status,
	                   .compile = op_compile,
	                   .reprocess = op_reprocess,
	                   .rescan = op_rescan,
	                   .set_tool = op_set_tool,
	                   .hosts = op_hosts,
	                   .ud = &e};
	if ((rc = control_open(cfg, &ops, &l.ctl, err, errsz)) != 0)
		goto out;
	if ((rc = bwatch_open(&e, &l.bw)) != 0) {
		snprintf(err, errsz, "cannot watch the builders' files: %s", kiln_strerror(rc));
		goto out;
	}
	if ((rc = pool_watch_fd(e.pool, watch_fd(l.w), cb_watch, &e)) != 0 ||
	    (rc = pool_watch_fd(e.pool, bwatch_fd(l.bw), cb_bwatch, &e)) != 0 ||
	    (rc = pool_watch_fd(e.pool, control_fd(l.ctl), cb_control, &e)) != 0) {
		snprintf(err, errsz, "cannot watch the file and control descriptors: %s", kiln_strerror(rc));
		goto out;
	}
	/* The dashboard is a client of the control API: it starts after it.
	 * A port in use leaves kiln running without one. */
	char dash_err[512] = "";
	if (dash_open(cfg, o->self_dir, &dsh, dash_err, sizeof dash_err) != 0) {
		fprintf(stderr, "kiln run: no dashboard: %s\n", dash_err);
		klog(KLOG_INFO, "no dashboard: %s", dash_err);
	}
	printf("kiln run: %s\n  watching %zu folders under %zu scan folders\n  control: %s\n  events:  "
	       "%s/kiln.events\n",
	       cfg->root, watch_count(l.w), cfg->n_folders, l.sock, cfg->cache);
	if (dsh)
		printf("  dashboard: %s\n", dash_url(dsh));
	fflush(stdout);
	klog(KLOG_INFO, "live mode: control at %s", l.sock);
	full_scan(&e);

	for (;;) {
		int64_t now = pool_now_ms();
		if (e.stop && !l.stop_deadline) {
			l.stop_deadline = now + STOP_GRACE_MS;
			klog(KLOG_INFO, "stopping: no new jobs; running ones get %d s", STOP_GRACE_MS / 1000);
		}
		if (e.stop && (e.signals > 1 || now >= l.stop_deadline) && !l.cancelled) {
			for (size_t i = 0; i < e.n_runs; i++)
				if (e.runs[i].active)
					pool_cancel(e.pool, e.runs[i].id);
			l.cancelled = true;
			l.stop_deadline = now + 2000;
		}
		if (e.stop && (!eng_any_active(&e) || (l.cancelled && now >= l.stop_deadline)))
			break;
		if (!e.stop) {
			uint64_t changed = bwatch_due(l.bw, now);
			if (changed)
				eng_builders_refresh(&e, changed);
			if (eng_builders_poll(&e))
				full_scan(&e);
			apply_changes(&e, false);
			eng_dispatch(&e);
			eng_idle(&e); /* fails jobs whose job dependencies never come */
		}
		check_waits(&e);
		update_state(&e);
		if (l.catalog_due && now >= l.catalog_due && strcmp(l.state, "idle") == 0) {
			eng_catalog_write(&e);
			l.catalog_due = 0;
		}
		if (now - l.metrics_at >= 2000) {
			/* Builder timings reach `kiln builders` and the dashboard
			 * while kiln runs, not only when it stops. */
			eng_store_metrics(&e);
			l.metrics_at = now;
		}
		int t = watch_next_due_ms(l.w);
		if (t < 0 || t > 100)
			t = 100;
		pool_poll(e.pool, t);
		eng_maybe_commit(&e, false);
	}
	klog(KLOG_INFO, "stopped");
	rc = 0;
out:
	if (e.db) {
		eng_store_metrics(&e);
		eng_maybe_commit(&e, true);
		eng_catalog_write(&e);
	}
	for (size_t i = 0; i < l.n_waits; i++)
		free(l.waits[i].platform);
	free(l.waits);
	dash_close(dsh);
	control_close(l.ctl);
	watch_close(l.w);
	bwatch_close(l.bw);
	e.live = NULL;
	eng_close(&e);
	engine_stats_free(&st);
	return rc;
}
