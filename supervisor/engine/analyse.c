/* analyse.c: create_jobs calls, batched per builder. */
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

uint64_t eng_analysis_fingerprint(engine *e, const esource *s, const ebuilder *b)
{
	fp_state f;
	fp_init(&f);
	fp_u64(&f, s->hash);
	fp_str(&f, s->rel);
	fp_str(&f, eng_folder_abs(e, s));
	fp_str(&f, b->uuid);
	fp_str(&f, b->version);
	fp_str(&f, b->afp);
	for (size_t i = 0; i < e->cfg->n_platforms; i++)
		if (eng_folder_has_platform(e, s->folder, e->cfg->platforms[i]))
			fp_str(&f, e->cfg->platforms[i]);
	const esidecar *sc = eng_sidecar_of(e, s);
	if (sc)
		fp_u64(&f, sc->hash);
	return fp_final(&f);
}

int64_t eng_analysis_key(const esource *s, const ebuilder *b)
{
	return (s->id << 16) ^ (b->db_id & 0xffff);
}

static char *params_json(const msg_kvs *kv)
{
	json_t *o = json_object();
	for (size_t i = 0; i < kv->n; i++)
		json_object_set_new(o, kv->items[i].key,
		                    json_string(kv->items[i].value ? kv->items[i].value : ""));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* A create_jobs call that did not succeed shows as a failed job of its own,
 * keyed "create_jobs", so that `kiln jobs` and the batch summary show it. The
 * source's earlier jobs are kept, and the analysis is asked again next time. */
static void analysis_failed(engine *e, size_t si, int bi, const char *reason, const char *detail,
                            const msg_strs *tail)
{
	esource *s = &e->src[si];
	const char *platform = e->cfg->platforms[0];
	size_t ji;
	ejob *j;
	if ((ji = eng_job_find(e, si, bi, "create_jobs", platform)) != NONE)
		j = &e->jobs[ji];
	else
		j = eng_job_add(e, si, bi, "create_jobs", platform, &ji);
	if (!j)
		return;
	j->deleted = false;
	j->analysis_failure = true;
	eng_job_upsert_row(e, j);
	joblog jl;
	int64_t now = wall_ms();
	joblog_open(&jl, e->logs_jobs, j->id, now);
	joblog_linef(&jl, MSG_LEVEL_ERROR, "create_jobs for %s by %s failed (%s): %s", s->rel, e->b[bi].name,
	             reason, detail);
	for (size_t i = 0; tail && i < tail->n; i++)
		joblog_line(&jl, MSG_LEVEL_INFO, "stderr", tail->items[i], NULL);
	eng_job_fail_row(e, j, reason, &jl, now, 0, false);
	joblog_close(&jl);
	j->status = ST_FAILED;
	j->fail_reason = eng_reason_code(reason);
	e->st->jobs++;
	e->st->failed++;
	eng_note_failed(e, ji);
	eng_emit_job(e, ji);
}

void eng_analysis_fail(engine *e, size_t si, int bi, const char *reason, const char *detail)
{
	analysis_failed(e, si, bi, reason, detail, NULL);
}

/* Keeps a job's job dependencies in memory and in its row (as JSON). */
static void store_job_deps(engine *e, size_t ji, const msg_job_desc *d)
{
	ejob *j = &e->jobs[ji];
	char *js = NULL;
	if (d->n_job_deps) {
		json_t *a = json_array();
		for (size_t k = 0; k < d->n_job_deps; k++) {
			const msg_job_dep *dep = &d->job_deps[k];
			json_t *o = json_object();
			if (dep->path)
				json_object_set_new(o, "path", json_string(dep->path));
			if (dep->uuid)
				json_object_set_new(o, "uuid", json_string(dep->uuid));
			if (dep->job_key)
				json_object_set_new(o, "job_key", json_string(dep->job_key));
			if (dep->platform)
				json_object_set_new(o, "platform", json_string(dep->platform));
			json_object_set_new(o, "fingerprint", json_boolean(dep->fingerprint));
			json_array_append_new(a, o);
		}
		js = json_dumps(a, JSON_COMPACT);
		json_decref(a);
	}
	if (!js && !j->jdeps_json)
		return;
	if (js && j->jdeps_json && strcmp(js, j->jdeps_json) == 0) {
		free(js);
		return;
	}
	if (js)
		eng_job_set_jdeps_json(e, ji, js);
	else {
		j->jdeps = NULL;
		j->n_jdeps = 0;
		j->jdeps_json = NULL;
	}
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_SET_JOB_DEPS);
	db_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, js);
	db_step_done(e->db, st);
	free(js);
}

void eng_on_analyse_reply(engine *e, erun *r, const hp_reply *rep)
{
	if (rep->idx >= r->n_items)
		return;
	size_t si = r->items[rep->idx];
	esource *s = &e->src[si];
	ebuilder *b = &e->b[r->builder];
	b->cj_n++;
	b->cj_us += rep->duration_us;
	if (rep->status != HP_OK) {
		const char *reason = rep->status == HP_TIMEOUT          ? "timeout"
		                     : rep->status == HP_PROTOCOL_ERROR ? "protocol_error"
		                     : rep->status == HP_CANCELLED      ? "cancelled"
		                     : rep->status == HP_SPAWN_FAILED   ? "failed"
		                                                        : "crashed";
		analysis_failed(e, si, r->builder, reason, rep->detail ? rep->detail : "", &rep->stderr_tail);
		goto failed;
	}
	char err[512];
	arena *a = arena_new();
	msg_create_jobs_resp resp;
	if (msg_decode_create_jobs_resp(rep->frame.data, rep->frame.len, a, &resp, err, sizeof err) != 0) {
		analysis_failed(e, si, r->builder, "protocol_error", err, NULL);
		arena_free(a);
		goto failed;
	}
	if (resp.result != MSG_RESULT_SUCCESS) {
		analysis_failed(e, si, r->builder, "failed",
		                "the builder returned a result other than success", NULL);
		arena_free(a);
		goto failed;
	}
	/* The new job set replaces the old one for this (source, builder). */
	hmap keep;
	hmap_init(&keep);
	for (size_t k = 0; k < resp.n_jobs; k++) {
		const msg_job_desc *d = &resp.jobs[k];
		if (!eng_folder_has_platform(e, s->folder, d->platform)) {
			klog(KLOG_DEBUG, "%s: %s asked for platform %s, which the folder does not build",
			     s->rel, b->name, d->platform);
			continue;
		}
		size_t ji;
		ejob *j;
		if ((ji = eng_job_find(e, si, r->builder, d->job_key, d->platform)) != NONE) {
			j = &e->jobs[ji];
		} else {
			j = eng_job_add(e, si, r->builder, d->job_key, d->platform, &ji);
			if (!j)
				continue;
			j->status = ST_PENDING;
		}
		j->deleted = false;
		j->critical = d->critical;
		j->priority = d->priority;
		char *pj = params_json(&d->params);
		j->params = eng_intern(e, pj ? pj : "{}");
		free(pj);
		eng_job_upsert_row(e, j);
		store_job_deps(e, ji, d);
		hmap_put_int(&keep, (int64_t)ji, 1);
	}
	for (size_t ji = e->src[si].first_job; ji != NONE; ji = e->jobs[ji].next_in_src) {
		ejob *j = &e->jobs[ji];
		if (j->builder == r->builder && !j->deleted && !hmap_get_int(&keep, (int64_t)ji, NULL))
			eng_job_delete(e, j);
	}
	hmap_free(&keep);
	eng_deps_set(e, si, r->builder, resp.deps, resp.n_deps, true);
	eng_begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_ANALYSIS_UPSERT);
	db_bind_int64(st, 1, s->id);
	db_bind_int64(st, 2, b->db_id);
	uint64_t afp = eng_analysis_fingerprint(e, s, b);
	db_bind_int64(st, 3, (int64_t)afp);
	db_bind_null(st, 4);
	db_step_done(e->db, st);
	eng_analysis_set(e, si, r->builder, afp);
	arena_free(a);
	e->st->analysed++;
	/* The source's jobs for this builder are known now: weigh them. After
	 * a failed call the old jobs stay as they were and do not run. */
	s->analysing &= ~(1ULL << r->builder);
	eng_jobs_of_consider(e, si, r->builder);
	goto out;
failed:
	s->analysing &= ~(1ULL << r->builder);
out:
	if (rep->idx + 1 >= r->n_items)
		eng_run_end(r);
}

void eng_analysis_queue(engine *e, size_t si, int bi)
{
	ebuilder *b = &e->b[bi];
	esource *s = &e->src[si];
	if (s->analysing & (1ULL << bi))
		return;
	if (b->aq_head + b->aq_n == b->aq_cap) {
		if (b->aq_head > 0) {
			memmove(b->aq, b->aq + b->aq_head, b->aq_n * sizeof *b->aq);
			b->aq_head = 0;
		}
		if (b->aq_n == b->aq_cap &&
		    eng_grow((void **)&b->aq, &b->aq_cap, b->aq_n, sizeof *b->aq) != 0)
			return;
	}
	b->aq[b->aq_head + b->aq_n++] = si;
	s->analysing |= 1ULL << bi;
	e->aq_total++;
}

/* Sends one run of up to ANALYSE_CHUNK create_jobs calls to a free host,
 * taking builders in turn. Returns true when a run went out. */
bool eng_analysis_dispatch(engine *e)
{
	if (e->aq_total == 0 || !pool_can_submit(e->pool))
		return false;
	int bi = -1;
	for (size_t k = 0; k < e->nb; k++) {
		int cand = (int)((e->next_aq_builder + k) % e->nb);
		if (e->b[cand].aq_n > 0) {
			bi = cand;
			break;
		}
	}
	if (bi < 0)
		return false;
	e->next_aq_builder = (bi + 1) % (int)e->nb;
	ebuilder *b = &e->b[bi];
	size_t n = b->aq_n < ANALYSE_CHUNK ? b->aq_n : ANALYSE_CHUNK;
	erun *r = eng_run_new(e, RUN_ANALYSE, bi);
	hp_bytes *frames = calloc(n, sizeof *frames);
	msgpack_sbuffer *bufs = calloc(n, sizeof *bufs);
	size_t *items = malloc(n * sizeof *items);
	if (!r || !frames || !bufs || !items) {
		if (r)
			eng_run_end(r);
		free(frames);
		free(bufs);
		free(items);
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		size_t si = b->aq[b->aq_head + k];
		esource *s = &e->src[si];
		char fp[KILN_PATH_MAX];
		eng_full_path(e, s, fp, sizeof fp);
		const char *plats[64];
		size_t np = 0;
		for (size_t pi = 0; pi < e->cfg->n_platforms && np < 64; pi++)
			if (eng_folder_has_platform(e, s->folder, e->cfg->platforms[pi]))
				plats[np++] = e->cfg->platforms[pi];
		msg_create_jobs_req q = {.source_file = s->rel,
		                         .watch_folder = eng_folder_abs(e, s),
		                         .full_path = fp,
		                         .source_uuid = s->uuid,
		                         .builder_uuid = b->uuid,
		                         .platforms = {plats, np}};
		msgpack_sbuffer_init(&bufs[k]);
		msg_encode_create_jobs_req(&bufs[k], &q);
		frames[k].data = (const uint8_t *)bufs[k].data;
		frames[k].len = bufs[k].size;
		items[k] = si;
	}
	int rc = pool_submit(e->pool, r->id, &b->hp, "", frames, n);
	for (size_t k = 0; k < n; k++)
		msgpack_sbuffer_destroy(&bufs[k]);
	free(frames);
	free(bufs);
	if (rc != 0) {
		free(items);
		eng_run_end(r);
		return false;
	}
	r->items = items;
	r->n_items = n;
	b->aq_head += n;
	b->aq_n -= n;
	e->aq_total -= n;
	return true;
}

/* The host serving an analysis run died: the calls it did not answer fail
 * with host_lost (and are asked again next time). */
void eng_analysis_lost(engine *e, erun *r, uint32_t first_idx, const char *detail)
{
	for (uint32_t i = first_idx; i < r->n_items; i++) {
		size_t si = r->items[i];
		analysis_failed(e, si, r->builder, "host_lost", detail, NULL);
		e->src[si].analysing &= ~(1ULL << r->builder);
	}
	eng_run_end(r);
}

/* Calls that can never be sent (hosts given up, a stop) fail visibly. */
void eng_analysis_abandon(engine *e, const char *why)
{
	for (size_t bi = 0; bi < e->nb; bi++) {
		ebuilder *b = &e->b[bi];
		for (size_t k = 0; k < b->aq_n; k++) {
			size_t si = b->aq[b->aq_head + k];
			analysis_failed(e, si, (int)bi, "host_lost", why, NULL);
			e->src[si].analysing &= ~(1ULL << bi);
		}
		e->aq_total -= b->aq_n;
		b->aq_head = b->aq_n = 0;
	}
}

/* create_jobs calls sent to a host that died before beginning them: they
 * go back to their builder's queue. */
void eng_analysis_requeue(engine *e, erun *r)
{
	for (size_t i = 0; i < r->n_items; i++) {
		size_t si = r->items[i];
		e->src[si].analysing &= ~(1ULL << r->builder);
		eng_analysis_queue(e, si, r->builder);
	}
	eng_run_end(r);
}
