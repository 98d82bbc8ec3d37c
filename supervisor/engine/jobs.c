/* jobs.c: weighing jobs, running them, landing their products. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/engine_priv.h"
#include "hash.h"
#include "kerr.h"
#include "klog.h"
#include "uuid.h"

/* A job's temp dir is emptied of files for the next job of its run slot;
 * its folders are kept (making and removing them per job is what costs on
 * ext4), but every 64 jobs the slot starts afresh, so that emptying it never
 * walks more folders than a few jobs made. */
void eng_temp_release(engine *e, erun *r)
{
	size_t slot = (size_t)(r - e->runs);
	if (slot >= e->n_slot_uses) {
		size_t n = slot + 16;
		uint32_t *nu = realloc(e->slot_uses, n * sizeof *nu);
		if (nu) {
			memset(nu + e->n_slot_uses, 0, (n - e->n_slot_uses) * sizeof *nu);
			e->slot_uses = nu;
			e->n_slot_uses = n;
		}
	}
	if (slot < e->n_slot_uses && ++e->slot_uses[slot] % 64 == 0)
		path_rmtree(r->temp);
	else
		path_clear_files(r->temp);
}

static const char *reason_for(hp_status s)
{
	switch (s) {
	case HP_TIMEOUT:
		return "timeout";
	case HP_PROTOCOL_ERROR:
		return "protocol_error";
	case HP_CANCELLED:
		return "cancelled";
	case HP_SPAWN_FAILED:
		return "failed";
	default:
		return "crashed";
	}
}

/* The time the builder worked on a run (SPEC 4: duration_ms), not the time
 * it waited on its host: the host's own figure when it replied, else the
 * time since the host began it. */
static int64_t run_ms(const erun *r, const hp_reply *rep, int64_t now)
{
	if (rep)
		return (int64_t)(rep->duration_us / 1000);
	return r->begun_ms ? now - r->begun_ms : 0;
}

static void job_finish_fail(engine *e, erun *r, ejob *j, const char *reason, const hp_reply *rep)
{
	int64_t now = wall_ms();
	joblog_linef(&r->log, MSG_LEVEL_ERROR, "job failed: %s", reason);
	eng_begin(e);
	eng_job_fail_row(e, j, reason, &r->log, now, run_ms(r, rep, now), true);
	j->status = ST_FAILED;
	j->fail_reason = eng_reason_code(reason);
	j->requested = j->escalated = false;
	e->st->failed++;
	size_t ji = (size_t)(j - e->jobs);
	eng_note_failed(e, ji);
}

/* sources_to_reprocess: those sources' jobs run again. */
static void reprocess_sources(engine *e, const ejob *j, const msg_strs *list)
{
	for (size_t k = 0; k < list->n; k++) {
		const char *p = list->items[k];
		for (size_t f = 0; p[0] == '/' && f < e->cfg->n_folders; f++) {
			size_t n = strlen(e->cfg->folders[f].abs);
			if (strncmp(p, e->cfg->folders[f].abs, n) == 0 && p[n] == '/') {
				p += n + 1;
				break;
			}
		}
		size_t si = eng_source_by_path(e, p, &e->src[j->src]);
		if (si == NONE) {
			klog(KLOG_WARN, "%s asked to reprocess %s, which is not a source", e->src[j->src].rel,
			     list->items[k]);
			continue;
		}
		sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOBS_REQUEST_SOURCE_ID);
		db_bind_int64(st, 1, e->src[si].id);
		db_step_done(e->db, st);
		for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src) {
			e->jobs[t].requested = true;
			eng_job_consider(e, t);
		}
	}
}

void eng_on_process_reply(engine *e, erun *r, const hp_reply *rep)
{
	ejob *j = &e->jobs[r->items[0]];
	ebuilder *b = &e->b[r->builder];
	b->pj_n++;
	b->pj_us += rep->duration_us;
	arena *a = NULL;
	bool fp_changed = false;
	size_t ji = r->items[0];
	if (rep->status != HP_OK) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "builder %s: %s", hp_status_name(rep->status),
		             rep->detail ? rep->detail : "");
		if (rep->stderr_tail.n) {
			joblog_linef(&r->log, MSG_LEVEL_INFO, "last %zu stderr lines:", rep->stderr_tail.n);
			for (size_t i = 0; i < rep->stderr_tail.n; i++)
				joblog_line(&r->log, MSG_LEVEL_INFO, "stderr", rep->stderr_tail.items[i],
				            NULL);
		}
		job_finish_fail(e, r, j, reason_for(rep->status), rep);
		goto out;
	}
	char err[512];
	a = arena_new();
	msg_process_job_resp resp;
	if (!a ||
	    msg_decode_process_job_resp(rep->frame.data, rep->frame.len, a, &resp, err, sizeof err) != 0) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "the builder's reply is malformed: %s", err);
		job_finish_fail(e, r, j, "protocol_error", rep);
		goto out;
	}
	if (resp.result != MSG_RESULT_SUCCESS) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "the builder returned \"%s\"",
		             msg_result_name(resp.result));
		job_finish_fail(e, r, j, msg_result_name(resp.result), rep);
		goto out;
	}
	if (resp.n_products == 0) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "the builder returned success but no products");
		job_finish_fail(e, r, j, "failed", rep);
		goto out;
	}
	const char *reason = NULL;
	if (eng_land(e, r, j, &resp, a, &reason) != 0) {
		job_finish_fail(e, r, j, reason, rep);
		goto out;
	}
	int64_t now = wall_ms();
	int status = r->log.errors ? ST_ERROR : r->log.warnings ? ST_WARNING : ST_COMPLETED;
	joblog_linef(&r->log, MSG_LEVEL_INFO, "job %s: %zu products in %lld ms", db_statuses[status],
	             resp.n_products, (long long)run_ms(r, rep, now));
	/* The summary line above is kiln's own: do not count it. */
	eng_begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_FINISH_OK);
	db_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, db_statuses[status]);
	db_bind_int64(st, 3, (int64_t)j->new_fp);
	db_bind_int64(st, 4, r->log.warnings);
	db_bind_int64(st, 5, r->log.errors);
	db_bind_int64(st, 6, now);
	db_bind_int64(st, 7, run_ms(r, rep, now));
	db_bind_text(st, 8, r->log.path);
	db_step_done(e->db, st);
	st = db_stmt_get(e->db, DBS_JOB_SET_FP_PARTS);
	db_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, j->new_fp_parts);
	db_step_done(e->db, st);
	fp_changed = !j->has_fp || j->fp != j->new_fp;
	j->status = status;
	j->has_fp = true;
	j->fp = j->new_fp;
	j->fp_parts = NULL; /* read again from the row when needed */
	j->requested = false;
	j->product_missing = false;
	j->escalated = false;
	reprocess_sources(e, j, &resp.sources_to_reprocess);
	if (status == ST_COMPLETED)
		e->st->completed++;
	else if (status == ST_WARNING)
		e->st->warnings++;
	else
		e->st->errors++;
out:
	j->running = j->begun = false;
	free(j->new_fp_parts);
	j->new_fp_parts = NULL;
	eng_emit_job(e, ji);
	eng_jdeps_job_done(e, ji, fp_changed);
	arena_free(a);
	/* The temp dir goes first: on a full disk a half-written product there
	 * holds the space the log still needs. */
	eng_temp_release(e, r);
	joblog_close(&r->log);
	eng_run_end(r);
}

/* A job's fingerprint, from parts that are kept (as JSON) with each good run
 * so that the next run can say which of them changed. */
uint64_t eng_job_fingerprint(engine *e, size_t ji, char **parts_out)
{
	const ejob *j = &e->jobs[ji];
	const esource *s = &e->src[j->src];
	const ebuilder *b = &e->b[j->builder];
	fp_state f;
	char hex[17];
	json_t *parts = parts_out ? json_object() : NULL, *deps = parts_out ? json_object() : NULL;

	fp_init(&f);
	fp_str(&f, b->uuid);
	fp_str(&f, b->version);
	fp_str(&f, b->afp);
	uint64_t hb = fp_final(&f);
	fp_init(&f);
	fp_str(&f, j->job_key);
	fp_str(&f, j->platform);
	fp_str(&f, j->params);
	uint64_t hp = fp_final(&f);
	fp_init(&f);
	eng_deps_fingerprint(e, j->src, &f, deps);
	uint64_t hd = fp_final(&f);
	fp_init(&f);
	eng_jdeps_fingerprint(e, ji, &f);
	uint64_t hj = fp_final(&f);

	fp_init(&f);
	fp_u64(&f, s->hash);
	fp_u64(&f, hb);
	fp_u64(&f, hp);
	fp_u64(&f, hd);
	fp_u64(&f, hj);
	uint64_t all = fp_final(&f);
	if (parts_out) {
		hash_hex(s->hash, hex);
		json_object_set_new(parts, "source", json_string(hex));
		hash_hex(hb, hex);
		json_object_set_new(parts, "builder", json_string(hex));
		hash_hex(hp, hex);
		json_object_set_new(parts, "params", json_string(hex));
		hash_hex(hj, hex);
		json_object_set_new(parts, "jobs", json_string(hex));
		json_object_set(parts, "deps", deps);
		*parts_out = json_dumps(parts, JSON_COMPACT | JSON_SORT_KEYS);
	}
	json_decref(deps);
	json_decref(parts);
	return all;
}

/* The parts of a job's last good fingerprint, read from its row on demand
 * (they are needed only when the fingerprint changed). */
static const char *stored_parts(engine *e, ejob *j)
{
	if (j->fp_parts)
		return j->fp_parts;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(e->db->h, "SELECT fp_parts FROM jobs WHERE id = ?1", -1, 0, &st, NULL) ==
	    SQLITE_OK) {
		db_bind_int64(st, 1, j->id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			j->fp_parts = arena_strdup(e->ar, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return j->fp_parts;
}

/* Says which input changed between the last good run (old) and now (new). */
static const char *why_changed(engine *e, const char *old, const char *cur)
{
	json_t *o = old ? json_loads(old, 0, NULL) : NULL, *n = cur ? json_loads(cur, 0, NULL) : NULL;
	const char *why = NULL;
	char buf[1024] = "";
	if (!o || !n) {
		why = "its inputs changed";
		goto out;
	}
#define DIFF(k) (!json_equal(json_object_get(o, k), json_object_get(n, k)))
	if (DIFF("source")) {
		why = "source content changed";
		goto out;
	}
	if (DIFF("builder")) {
		why = "builder version or analysis fingerprint changed";
		goto out;
	}
	if (DIFF("params")) {
		why = "job parameters changed";
		goto out;
	}
	json_t *od = json_object_get(o, "deps"), *nd = json_object_get(n, "deps");
	const char *k;
	json_t *v;
	json_object_foreach(nd, k, v)
	{
		json_t *ov = json_object_get(od, k);
		const char *ovs = json_string_value(ov) ? json_string_value(ov) : "";
		if (ov && json_equal(ov, v))
			continue; /* the same as before, missing then and now included */
		if (!ov || strcmp(ovs, "missing") == 0)
			snprintf(buf, sizeof buf, "dependency %s appeared", k);
		else if (!json_equal(ov, v))
			snprintf(buf, sizeof buf, "dependency %s %s", k,
			         strcmp(json_string_value(v) ? json_string_value(v) : "", "missing") == 0
			             ? "went away"
			             : "changed");
		if (buf[0])
			break;
	}
	if (!buf[0]) {
		json_object_foreach(od, k, v)
		{
			if (!json_object_get(nd, k)) {
				snprintf(buf, sizeof buf, "dependency %s is no longer a dependency", k);
				break;
			}
		}
	}
	if (buf[0]) {
		why = arena_strdup(e->ar, buf);
		goto out;
	}
	if (DIFF("jobs")) {
		why = "a job it depends on changed its fingerprint";
		goto out;
	}
#undef DIFF
	why = "its inputs changed";
out:
	json_decref(o);
	json_decref(n);
	return why;
}

/* The absolute paths a builder may read besides its source: the sidecar and
 * every source dependency that exists (the transitive closure is what the
 * fingerprint covers; the builder gets the direct ones). */
static msg_strs source_file_deps(engine *e, size_t si, arena *a)
{
	msg_strs out = {0};
	size_t n = 1;
	for (size_t di = e->src[si].first_dep; di != NONE; di = e->deps[di].next_in_src)
		n++;
	out.items = a ? arena_alloc(a, n * sizeof *out.items) : NULL;
	if (!out.items)
		return out;
	char fp[KILN_PATH_MAX];
	const esidecar *sc = eng_sidecar_of(e, &e->src[si]);
	if (sc) {
		snprintf(fp, sizeof fp, "%s/%s", sc->folder >= 0 ? e->cfg->folders[sc->folder].abs : "",
		         sc->rel);
		out.items[out.n++] = arena_strdup(a, fp);
	}
	for (size_t di = e->src[si].first_dep; di != NONE && out.n < n; di = e->deps[di].next_in_src) {
		edep *d = &e->deps[di];
		if (d->dead || d->glob)
			continue;
		size_t t = eng_dep_resolve(e, d);
		struct stat pst;
		if (t != NONE)
			eng_full_path(e, &e->src[t], fp, sizeof fp);
		else if (!eng_dep_plain_path(e, d, fp, sizeof fp, &pst))
			continue;
		bool dup = false;
		for (size_t k = 0; k < out.n; k++)
			dup |= strcmp(out.items[k], fp) == 0;
		if (!dup)
			out.items[out.n++] = arena_strdup(a, fp);
	}
	return out;
}

static int start_job(engine *e, size_t ji)
{
	ejob *j = &e->jobs[ji];
	esource *s = &e->src[j->src];
	ebuilder *b = &e->b[j->builder];
	erun *r = eng_run_new(e, RUN_PROCESS, j->builder);
	if (!r)
		return -ENOMEM;
	r->items = malloc(sizeof *r->items);
	if (!r->items) {
		eng_run_end(r);
		return -ENOMEM;
	}
	r->items[0] = ji;
	r->n_items = 1;
	r->start_ms = wall_ms();
	/* Temp dirs belong to run slots and are reused job after job (emptied
	 * of files, folders kept): making and removing a folder per job costs
	 * more than the job itself on ext4. */
	snprintf(r->temp, sizeof r->temp, "%s/slot-%zu", e->cache_tmp, (size_t)(r - e->runs));
	if (path_mkdirs(r->temp, 0700) != 0 || joblog_open(&r->log, e->logs_jobs, j->id, r->start_ms) != 0) {
		klog(KLOG_ERROR, "cannot prepare job %lld: %s", (long long)j->id, strerror(errno));
	}
	char fp[KILN_PATH_MAX];
	eng_full_path(e, s, fp, sizeof fp);
	joblog_linef(&r->log, MSG_LEVEL_INFO, "job %lld: %s on %s for %s (%s); reason: %s", (long long)j->id,
	             j->job_key, s->rel, j->platform, b->name, j->run_reason);
	/* The log lines above and below are kiln's own notes; they are not
	 * counted as the builder's warnings or errors. */
	r->log.warnings = r->log.errors = 0;
	eng_begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_START);
	db_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, j->run_reason);
	db_bind_int64(st, 3, r->start_ms);
	db_bind_text(st, 4, r->log.path);
	db_step_done(e->db, st);

	/* params back from their JSON form */
	arena *a = arena_new();
	json_t *pj = json_loads(j->params, 0, NULL);
	msg_kvs params = {0};
	if (json_is_object(pj) && a) {
		params.items = arena_alloc(a, (json_object_size(pj) + 1) * sizeof *params.items);
		const char *k;
		json_t *v;
		json_object_foreach(pj, k, v)
		{
			params.items[params.n].key = arena_strdup(a, k);
			params.items[params.n].value =
			    arena_strdup(a, json_is_string(v) ? json_string_value(v) : "");
			params.n++;
		}
	}
	json_decref(pj);
	msg_process_job_req q = {
	    .source_file = s->rel,
	    .watch_folder = eng_folder_abs(e, s),
	    .full_path = fp,
	    .builder_uuid = b->uuid,
	    .job = {.job_key = j->job_key,
	            .platform = j->platform,
	            .critical = j->critical,
	            .priority = j->priority,
	            .params = params},
	    .temp_dir = r->temp,
	    .platform_info = {.identifier = j->platform},
	    .source_file_dependencies = source_file_deps(e, j->src, a),
	    .source_uuid = s->uuid,
	    .job_id = (uint64_t)j->id,
	};
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	int rc = msg_encode_process_job_req(&sb, &q);
	arena_free(a);
	if (rc == 0) {
		hp_bytes frame = {(const uint8_t *)sb.data, sb.size};
		rc = pool_submit(e->pool, r->id, &b->hp, r->temp, &frame, 1);
	}
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0) {
		joblog_close(&r->log);
		eng_temp_release(e, r);
		eng_run_end(r);
		return rc;
	}
	e->st->jobs++;
	return 0;
}

/* Weighs one job: runs it when its fingerprint changed, a product is missing,
 * it failed or was interrupted before, or a user asked; records why. */
void eng_job_consider(engine *e, size_t ji)
{
	ejob *j = &e->jobs[ji];
	if (j->deleted || j->queued || j->running || j->analysis_failure || j->builder < 0 ||
	    !e->b[j->builder].ok || !e->src[j->src].on_disk)
		return;
	if (e->src[j->src].analysing & (1ULL << j->builder))
		return; /* weighed again when its create_jobs call answers */
	if (!eng_platform_selected(e, j->platform))
		return;
	j->new_fp = eng_job_fingerprint(e, ji, NULL);
	const char *why = NULL;
	if (j->requested)
		why = "asked for by a user";
	else if (!j->has_fp && e->src[j->src].is_new)
		why = "new source";
	else if (j->status == ST_FAILED)
		why = "failed before";
	else if (j->status == ST_PENDING || j->status == ST_PROCESSING)
		why = j->has_fp ? "interrupted before it finished" : "new job";
	else if (!j->has_fp)
		why = "new job";
	else if (j->fp != j->new_fp) {
		/* Only now are the parts worth printing, to say which changed. */
		char *parts = NULL;
		eng_job_fingerprint(e, ji, &parts);
		why = why_changed(e, stored_parts(e, j), parts);
		free(parts);
	} else if (j->product_missing)
		why = "a product is missing from the cache";
	if (!why)
		return;
	j->run_reason = why;
	if (runq_push(&e->q, ji, j->escalated, j->critical, j->priority) == 0)
		j->queued = true;
}

void eng_jobs_of_consider(engine *e, size_t si, int bi)
{
	for (size_t ji = e->src[si].first_job; ji != NONE; ji = e->jobs[ji].next_in_src)
		if (e->jobs[ji].builder == bi)
			eng_job_consider(e, ji);
}

/* Starts the next queued job on a free host. Returns true when one went. */
/* A job that cannot start at all (a job dependency cycle): failed, with a
 * log of its own. */
void eng_job_fail_unstarted(engine *e, size_t ji, const char *why)
{
	ejob *j = &e->jobs[ji];
	joblog jl;
	int64_t now = wall_ms();
	joblog_open(&jl, e->logs_jobs, j->id, now);
	joblog_linef(&jl, MSG_LEVEL_ERROR, "%s", why);
	eng_begin(e);
	eng_job_fail_row(e, j, "failed", &jl, now, 0, false);
	joblog_close(&jl);
	j->status = ST_FAILED;
	j->fail_reason = eng_reason_code("failed");
	j->requested = j->escalated = false;
	e->st->jobs++;
	e->st->failed++;
	eng_note_failed(e, ji);
	eng_emit_job(e, ji);
	eng_jdeps_job_done(e, ji, false);
}

bool eng_job_dispatch(engine *e)
{
	while (runq_count(&e->q) > 0 && pool_can_submit(e->pool)) {
		runq_item it;
		runq_pop(&e->q, &it);
		ejob *j = &e->jobs[it.job];
		j->queued = false;
		if (j->deleted || !e->src[j->src].on_disk)
			continue; /* gone since it was queued */
		if (j->n_jdeps) {
			char why[512];
			int ready = eng_jdeps_ready(e, it.job, why, sizeof why);
			if (ready == 0) {
				/* Parked until a job finishes; then it queues again. */
				j->waiting = true;
				eng_evec_push(&e->waiting, it.job);
				klog(KLOG_DEBUG, "job %lld %s", (long long)j->id, why);
				continue;
			}
			if (ready < 0) {
				eng_job_fail_unstarted(e, it.job, why);
				continue;
			}
		}
		/* The graph may have grown since the job was weighed (a job
		 * dependency ran, an intermediate appeared): print it now. */
		char *parts = NULL;
		j->new_fp = eng_job_fingerprint(e, it.job, &parts);
		free(j->new_fp_parts);
		j->new_fp_parts = parts; /* malloc'd; freed when the run ends */
		if (start_job(e, it.job) != 0) {
			if (runq_push(&e->q, it.job, true, j->critical, j->priority) == 0)
				j->queued = true;
			return false;
		}
		j->running = true;
		eng_emit_job(e, it.job);
		return true;
	}
	return false;
}

/* The job's host began it: from now on it is processing, on that host. */
void eng_process_begun(engine *e, erun *r)
{
	size_t ji = r->items[0];
	ejob *j = &e->jobs[ji];
	char host[32];
	j->begun = true;
	snprintf(host, sizeof host, "local-%d", r->host);
	eng_begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_BEGIN);
	db_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, host);
	db_bind_int64(st, 3, r->begun_ms);
	db_step_done(e->db, st);
	eng_emit_job(e, ji);
}

/* The host serving this job died. */
void eng_process_lost(engine *e, erun *r, const char *detail)
{
	ejob *j = &e->jobs[r->items[0]];
	joblog_linef(&r->log, MSG_LEVEL_ERROR, "%s", detail);
	job_finish_fail(e, r, j, "host_lost", NULL);
	j->running = j->begun = false;
	eng_emit_job(e, r->items[0]);
	eng_jdeps_job_done(e, r->items[0], false);
	/* The temp dir goes first: on a full disk a half-written product there
	 * holds the space the log still needs. */
	eng_temp_release(e, r);
	joblog_close(&r->log);
	eng_run_end(r);
}

/* A job sent to a host that died before beginning it: back in the queue,
 * its unused log file gone. */
void eng_process_requeue(engine *e, erun *r)
{
	size_t ji = r->items[0];
	ejob *j = &e->jobs[ji];
	char log[sizeof r->log.path];
	snprintf(log, sizeof log, "%s", r->log.path);
	joblog_close(&r->log);
	unlink(log);
	eng_temp_release(e, r);
	j->running = j->begun = false;
	e->st->jobs--;
	eng_run_end(r);
	if (runq_push(&e->q, ji, j->escalated, j->critical, j->priority) == 0)
		j->queued = true;
}
