/* engine.c: the batch pipeline.
 *
 * Everything the pass needs from the database is loaded once into arrays
 * (sources, jobs, products) indexed by hash maps; writes go back in batched
 * transactions committed at most every COMMIT_MS. No step spawns a process
 * per file: builders run inside the host pool and serve many requests each. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "arena.h"
#include "db.h"
#include "hash.h"
#include "hmap.h"
#include "hostproto.h"
#include "joblog.h"
#include "kerr.h"
#include "klog.h"
#include "msg.h"
#include "path.h"
#include "pattern.h"
#include "pool.h"
#include "scan.h"
#include "runq.h"
#include "uuid.h"

#define COMMIT_MS 250
#define ANALYSE_CHUNK 64
#define MAX_BUILDERS 64

typedef struct ebuilder {
	const cfg_builder *cfg;
	int64_t db_id;
	char *name, *uuid, *version, *afp;
	char **patterns;
	size_t n_patterns;
	kpattern **pats;
	char key[24];
	hp_builder hp;
	bool ok;
	char *why_disabled;
	uint64_t cj_n, cj_us, pj_n, pj_us;
} ebuilder;

typedef struct esource {
	int64_t id;        /* 0 until inserted */
	int32_t folder;    /* -1 when its scan folder is gone */
	char *rel, *key;
	char uuid[37];
	uint64_t size;
	int64_t mtime;
	uint64_t hash;
	bool on_disk;
	bool changed;
	bool is_new;
	bool dirty;        /* row needs writing */
	uint64_t bmask;    /* builders whose patterns match */
	size_t first_job;  /* head of this source's job chain, NONE when empty */
} esource;

#define NONE ((size_t)-1)

typedef struct ejob {
	int64_t id;
	size_t src;
	int builder;       /* index into builders, -1 when the builder is gone */
	char *job_key, *platform, *params;
	bool critical;
	int64_t priority;
	bool has_fp;
	uint64_t fp, new_fp;
	int status;        /* index into db_statuses */
	bool requested, escalated;
	bool deleted;
	bool product_missing;
	const char *run_reason;
	size_t next_in_src; /* chain of the source's jobs */
} ejob;

typedef struct eproduct {
	int64_t id;
	int64_t job_id;
	uint32_t sub_id;
	char *platform, *path;
	bool intermediate;
	bool deleted;
	size_t next_in_job; /* chain of the job's products */
} eproduct;

typedef enum run_kind { RUN_DESCRIBE, RUN_ANALYSE, RUN_PROCESS } run_kind;

typedef struct erun {
	uint64_t id;
	run_kind kind;
	int builder;
	size_t *items;     /* sources (analyse) or one job (process) */
	size_t n_items;
	/* process runs */
	joblog log;
	char temp[KILN_PATH_MAX];
	int64_t start_ms;
	bool active;
} erun;

typedef struct engine {
	const kiln_config *cfg;
	const engine_opts *opts;
	engine_stats *st;
	kdb *db;
	pool *pool;
	arena *ar;
	ebuilder b[MAX_BUILDERS];
	size_t nb;
	kpattern **excludes;
	size_t n_excludes;

	esource *src;
	size_t n_src, cap_src;
	hmap src_by_key;
	hmap src_by_id;

	ejob *jobs;
	size_t n_jobs, cap_jobs;
	hmap job_by_key;   /* "src\x1fbuilder\x1fkey\x1fplatform" */
	hmap job_by_id;

	eproduct *prods;
	size_t n_prods, cap_prods;
	hmap prod_by_path; /* "platform/path" */
	hmap prod_by_job;  /* job id -> head of the job's product chain */

	hmap analysed;     /* (source id << 16 | builder db id) -> fingerprint index */
	uint64_t *analysis_fp;
	size_t n_afp, cap_afp;

	erun *runs;
	size_t n_runs;
	uint64_t next_run;
	runq q;
	size_t *aq;        /* analysis runs waiting (indices into runs) */
	size_t n_aq, cap_aq;

	char cache_tmp[KILN_PATH_MAX];
	char logs_jobs[KILN_PATH_MAX];
	int64_t last_commit;
	bool stop;
	int signals;
	int64_t progress_at;
	size_t progress_total;
	/* failed jobs, for the report */
	size_t *failed;
	size_t n_failed, cap_failed;
} engine;

/* ---------- small helpers ---------- */

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 256;
	void *p = realloc(*arr, nc * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = nc;
	return 0;
}

static int status_index(const char *s)
{
	for (int i = 0; i < 6; i++)
		if (s && strcmp(db_statuses[i], s) == 0)
			return i;
	return 0;
}

enum { ST_PENDING, ST_PROCESSING, ST_COMPLETED, ST_WARNING, ST_ERROR, ST_FAILED };

static void maybe_commit(engine *e, bool force)
{
	int64_t now = pool_now_ms();
	if (!e->db->in_txn)
		return;
	if (force || now - e->last_commit >= COMMIT_MS) {
		if (db_commit(e->db) != 0)
			klog(KLOG_ERROR, "database commit failed: %s", db_errmsg(e->db));
		e->last_commit = now;
	}
}

static void begin(engine *e)
{
	if (!e->db->in_txn) {
		db_begin(e->db);
		if (!e->last_commit)
			e->last_commit = pool_now_ms();
	}
}

static const char *folder_abs(engine *e, const esource *s)
{
	return s->folder >= 0 ? e->cfg->folders[s->folder].abs : "";
}

static bool platform_selected(engine *e, const char *platform)
{
	if (!e->opts->platforms)
		return true;
	for (const char *const *p = e->opts->platforms; *p; p++)
		if (strcmp(*p, platform) == 0)
			return true;
	return false;
}

static bool folder_has_platform(engine *e, int32_t folder, const char *platform)
{
	bool in_project = false;
	for (size_t i = 0; i < e->cfg->n_platforms; i++)
		if (strcmp(e->cfg->platforms[i], platform) == 0)
			in_project = true;
	if (!in_project || folder < 0)
		return false;
	const cfg_scan_folder *f = &e->cfg->folders[folder];
	if (!f->platforms)
		return true;
	for (size_t i = 0; i < f->n_platforms; i++)
		if (strcmp(f->platforms[i], platform) == 0)
			return true;
	return false;
}

static char *job_map_key(engine *e, size_t src, int builder, const char *key, const char *platform)
{
	return arena_printf(e->ar, "%zu\x1f%d\x1f%s\x1f%s", src, builder, key, platform);
}

static char *product_map_key(engine *e, const char *platform, const char *path)
{
	return arena_printf(e->ar, "%s/%s", platform, path);
}

static void product_file(engine *e, const eproduct *p, char *out, size_t outsz)
{
	if (p->intermediate)
		snprintf(out, outsz, "%s/intermediate/%s", e->cfg->cache, p->path);
	else
		snprintf(out, outsz, "%s/%s/%s", e->cfg->cache, p->platform, p->path);
}

/* ---------- builders ---------- */

static char *json_str_array(char **items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static int builder_compile_patterns(engine *e, ebuilder *b)
{
	char err[256];
	b->pats = arena_alloc(e->ar, (b->n_patterns + 1) * sizeof *b->pats);
	if (!b->pats)
		return -ENOMEM;
	for (size_t i = 0; i < b->n_patterns; i++) {
		if (pattern_compile(b->patterns[i], &b->pats[i], err, sizeof err) != 0) {
			b->why_disabled = arena_printf(e->ar, "pattern \"%s\" does not compile: %s", b->patterns[i], err);
			b->ok = false;
			return 0;
		}
	}
	return 0;
}

static void builder_set_patterns(engine *e, ebuilder *b, const char *const *items, size_t n)
{
	if (b->cfg->has_patterns) {
		items = (const char *const *)b->cfg->patterns;
		n = b->cfg->n_patterns;
	}
	b->patterns = arena_alloc(e->ar, (n + 1) * sizeof *b->patterns);
	for (size_t i = 0; i < n; i++)
		b->patterns[i] = arena_strdup(e->ar, items[i]);
	b->n_patterns = n;
}

static int builder_store(engine *e, ebuilder *b, const struct stat *xst, const char *args_json, bool described)
{
	char *pj = json_str_array(b->patterns, b->n_patterns);
	/* The describe cache stores the builder's own patterns, not kiln.json's. */
	sqlite3_stmt *s = db_stmt_get(e->db, DBS_BUILDER_UPSERT);
	db_bind_text(s, 1, b->cfg->exec_abs);
	db_bind_text(s, 2, args_json);
	sqlite3_bind_int64(s, 3, described ? (int64_t)xst->st_size : -1);
	sqlite3_bind_int64(s, 4, described ? (int64_t)xst->st_mtim.tv_sec * 1000000000LL + xst->st_mtim.tv_nsec : -1);
	db_bind_text(s, 5, b->name);
	db_bind_text(s, 6, b->uuid);
	db_bind_text(s, 7, b->version);
	db_bind_text(s, 8, b->afp);
	db_bind_text(s, 9, pj);
	sqlite3_bind_int(s, 10, b->cfg->internal);
	db_bind_text(s, 11, b->ok ? NULL : b->why_disabled);
	int rc = KILN_E_DB;
	if (sqlite3_step(s) == SQLITE_ROW) {
		b->db_id = sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		klog(KLOG_ERROR, "storing builder %s: %s", b->name, db_errmsg(e->db));
	}
	sqlite3_reset(s);
	free(pj);
	return rc;
}

/* Fills builder b from the describe cache when the executable is unchanged.
 * Returns true on a hit. */
static bool builder_from_cache(engine *e, ebuilder *b, const struct stat *xst, const char *args_json)
{
	sqlite3_stmt *s = db_stmt_get(e->db, DBS_BUILDER_BY_EXEC);
	db_bind_text(s, 1, b->cfg->exec_abs);
	db_bind_text(s, 2, args_json);
	bool hit = false;
	int64_t mt = (int64_t)xst->st_mtim.tv_sec * 1000000000LL + xst->st_mtim.tv_nsec;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_int64(s, 1) != (int64_t)xst->st_size || sqlite3_column_int64(s, 2) != mt)
			continue;
		b->db_id = sqlite3_column_int64(s, 0);
		b->name = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 3));
		b->uuid = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 4));
		b->version = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 5));
		b->afp = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 6));
		json_t *pj = json_loads((const char *)sqlite3_column_text(s, 7), 0, NULL);
		size_t n = json_is_array(pj) ? json_array_size(pj) : 0;
		const char **items = calloc(n + 1, sizeof *items);
		for (size_t i = 0; items && i < n; i++)
			items[i] = json_string_value(json_array_get(pj, i)) ? json_string_value(json_array_get(pj, i))
									     : "";
		builder_set_patterns(e, b, items, items ? n : 0);
		free(items);
		json_decref(pj);
		hit = true;
		break;
	}
	sqlite3_reset(s);
	return hit;
}

/* ---------- runs ---------- */

static erun *run_new(engine *e, run_kind kind, int builder)
{
	for (size_t i = 0; i < e->n_runs; i++) {
		if (!e->runs[i].active) {
			erun *r = &e->runs[i];
			free(r->items);
			memset(r, 0, sizeof *r);
			r->active = true;
			r->id = ++e->next_run;
			r->kind = kind;
			r->builder = builder;
			return r;
		}
	}
	erun *nr = realloc(e->runs, (e->n_runs + 1) * sizeof *nr);
	if (!nr)
		return NULL;
	e->runs = nr;
	erun *r = &e->runs[e->n_runs++];
	memset(r, 0, sizeof *r);
	r->active = true;
	r->id = ++e->next_run;
	r->kind = kind;
	r->builder = builder;
	return r;
}

static erun *run_find(engine *e, uint64_t id)
{
	for (size_t i = 0; i < e->n_runs; i++)
		if (e->runs[i].active && e->runs[i].id == id)
			return &e->runs[i];
	return NULL;
}

static void run_end(erun *r)
{
	free(r->items);
	r->items = NULL;
	r->active = false;
}

/* ---------- describe ---------- */

static void on_describe_reply(engine *e, erun *r, const hp_reply *rep)
{
	ebuilder *b = &e->b[r->builder];
	char err[512];
	arena *a = arena_new();
	msg_describe d;
	if (rep->status != HP_OK) {
		b->why_disabled = arena_printf(e->ar, "describe failed (%s): %s", hp_status_name(rep->status),
					       rep->detail ? rep->detail : "");
		b->ok = false;
		goto out;
	}
	if (msg_decode_describe(rep->frame.data, rep->frame.len, a, &d, err, sizeof err) != 0) {
		b->why_disabled = arena_printf(e->ar, "describe reply is malformed: %s", err);
		b->ok = false;
		goto out;
	}
	kuuid u;
	if (uuid_parse(d.uuid, &u) != 0) {
		b->why_disabled = arena_printf(e->ar, "describe reply has a bad uuid \"%s\"", d.uuid);
		b->ok = false;
		goto out;
	}
	char us[37];
	uuid_format(&u, us);
	b->name = arena_strdup(e->ar, d.name);
	b->uuid = arena_strdup(e->ar, us);
	b->version = arena_strdup(e->ar, d.version);
	b->afp = arena_strdup(e->ar, d.analysis_fingerprint ? d.analysis_fingerprint : "");
	builder_set_patterns(e, b, d.patterns.items, d.patterns.n);
	b->ok = true;
out:
	arena_free(a);
	run_end(r);
}

/* ---------- analysis ---------- */

static uint64_t analysis_fingerprint(engine *e, const esource *s, const ebuilder *b)
{
	fp_state f;
	fp_init(&f);
	fp_u64(&f, s->hash);
	fp_str(&f, s->rel);
	fp_str(&f, folder_abs(e, s));
	fp_str(&f, b->uuid);
	fp_str(&f, b->version);
	fp_str(&f, b->afp);
	for (size_t i = 0; i < e->cfg->n_platforms; i++)
		if (folder_has_platform(e, s->folder, e->cfg->platforms[i]))
			fp_str(&f, e->cfg->platforms[i]);
	return fp_final(&f);
}

static int64_t analysis_key(const esource *s, const ebuilder *b)
{
	return (s->id << 16) ^ (b->db_id & 0xffff);
}

static void full_path(engine *e, const esource *s, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", folder_abs(e, s), s->rel);
}

static ejob *job_add(engine *e, size_t src, int builder, const char *key, const char *platform, size_t *idx_out)
{
	if (grow((void **)&e->jobs, &e->cap_jobs, e->n_jobs, sizeof *e->jobs) != 0)
		return NULL;
	ejob *j = &e->jobs[e->n_jobs];
	memset(j, 0, sizeof *j);
	j->src = src;
	j->builder = builder;
	j->job_key = arena_strdup(e->ar, key);
	j->platform = arena_strdup(e->ar, platform);
	j->params = "{}";
	j->next_in_src = e->src[src].first_job;
	e->src[src].first_job = e->n_jobs;
	hmap_put(&e->job_by_key, job_map_key(e, src, builder, key, platform), e->n_jobs);
	*idx_out = e->n_jobs;
	e->n_jobs++;
	return j;
}

static void delete_products_of_job(engine *e, int64_t job_id, const hmap *keep_subids)
{
	size_t i = NONE;
	if (!hmap_get_int(&e->prod_by_job, job_id, &i))
		return;
	for (; i != NONE; i = e->prods[i].next_in_job) {
		eproduct *p = &e->prods[i];
		if (p->deleted)
			continue;
		if (keep_subids && hmap_get_int(keep_subids, p->sub_id, NULL))
			continue;
		char f[KILN_PATH_MAX];
		product_file(e, p, f, sizeof f);
		if (unlink(f) == 0)
			path_prune_empty_parents(f, e->cfg->cache);
		begin(e);
		sqlite3_stmt *s = db_stmt_get(e->db, DBS_PRODUCT_DELETE);
		sqlite3_bind_int64(s, 1, p->id);
		db_step_done(e->db, s);
		hmap_del(&e->prod_by_path, product_map_key(e, p->platform, p->path));
		p->deleted = true;
	}
}

static void job_delete(engine *e, ejob *j)
{
	if (j->deleted)
		return;
	if (j->id) {
		delete_products_of_job(e, j->id, NULL);
		begin(e);
		sqlite3_stmt *s = db_stmt_get(e->db, DBS_JOB_DELETE);
		sqlite3_bind_int64(s, 1, j->id);
		db_step_done(e->db, s);
	}
	j->deleted = true;
}

static char *params_json(const msg_kvs *kv)
{
	json_t *o = json_object();
	for (size_t i = 0; i < kv->n; i++)
		json_object_set_new(o, kv->items[i].key, json_string(kv->items[i].value ? kv->items[i].value : ""));
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static void job_upsert_row(engine *e, ejob *j)
{
	esource *s = &e->src[j->src];
	begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_UPSERT);
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_int64(st, 2, e->b[j->builder].db_id);
	db_bind_text(st, 3, j->job_key);
	db_bind_text(st, 4, j->platform);
	sqlite3_bind_int(st, 5, j->critical);
	sqlite3_bind_int64(st, 6, j->priority);
	db_bind_text(st, 7, j->params);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (!j->id) {
			j->id = id;
			hmap_put_int(&e->job_by_id, id, (size_t)(j - e->jobs));
		}
	} else {
		klog(KLOG_ERROR, "storing job %s/%s: %s", s->rel, j->job_key, db_errmsg(e->db));
	}
	sqlite3_reset(st);
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
	char *mk = job_map_key(e, si, bi, "create_jobs", platform);
	ejob *j;
	if (hmap_get(&e->job_by_key, mk, &ji))
		j = &e->jobs[ji];
	else
		j = job_add(e, si, bi, "create_jobs", platform, &ji);
	if (!j)
		return;
	j->deleted = false;
	job_upsert_row(e, j);
	joblog jl;
	int64_t now = wall_ms();
	joblog_open(&jl, e->logs_jobs, j->id, now);
	joblog_linef(&jl, MSG_LEVEL_ERROR, "create_jobs for %s by %s failed (%s): %s", s->rel, e->b[bi].name, reason,
		     detail);
	for (size_t i = 0; tail && i < tail->n; i++)
		joblog_line(&jl, MSG_LEVEL_INFO, "stderr", tail->items[i], NULL);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_FINISH_FAIL);
	sqlite3_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, reason);
	sqlite3_bind_int(st, 3, jl.warnings);
	sqlite3_bind_int(st, 4, jl.errors);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, 0);
	db_bind_text(st, 7, jl.path);
	sqlite3_bind_null(st, 8);
	db_step_done(e->db, st);
	joblog_close(&jl);
	j->status = ST_FAILED;
	e->st->jobs++;
	e->st->failed++;
	if (grow((void **)&e->failed, &e->cap_failed, e->n_failed, sizeof *e->failed) == 0)
		e->failed[e->n_failed++] = ji;
}

static void on_analyse_reply(engine *e, erun *r, const hp_reply *rep)
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
		goto done;
	}
	char err[512];
	arena *a = arena_new();
	msg_create_jobs_resp resp;
	if (msg_decode_create_jobs_resp(rep->frame.data, rep->frame.len, a, &resp, err, sizeof err) != 0) {
		analysis_failed(e, si, r->builder, "protocol_error", err, NULL);
		arena_free(a);
		goto done;
	}
	if (resp.result != MSG_RESULT_SUCCESS) {
		analysis_failed(e, si, r->builder, "failed", "the builder returned a result other than success", NULL);
		arena_free(a);
		goto done;
	}
	/* The new job set replaces the old one for this (source, builder). */
	hmap keep;
	hmap_init(&keep);
	for (size_t k = 0; k < resp.n_jobs; k++) {
		const msg_job_desc *d = &resp.jobs[k];
		if (!folder_has_platform(e, s->folder, d->platform)) {
			klog(KLOG_DEBUG, "%s: %s asked for platform %s, which the folder does not build", s->rel, b->name,
			     d->platform);
			continue;
		}
		size_t ji;
		ejob *j;
		char *mk = job_map_key(e, si, r->builder, d->job_key, d->platform);
		if (hmap_get(&e->job_by_key, mk, &ji)) {
			j = &e->jobs[ji];
		} else {
			j = job_add(e, si, r->builder, d->job_key, d->platform, &ji);
			if (!j)
				continue;
			j->status = ST_PENDING;
		}
		j->deleted = false;
		j->critical = d->critical;
		j->priority = d->priority;
		char *pj = params_json(&d->params);
		j->params = arena_strdup(e->ar, pj ? pj : "{}");
		free(pj);
		job_upsert_row(e, j);
		hmap_put_int(&keep, (int64_t)ji, 1);
	}
	for (size_t ji = e->src[si].first_job; ji != NONE; ji = e->jobs[ji].next_in_src) {
		ejob *j = &e->jobs[ji];
		if (j->builder == r->builder && !j->deleted && !hmap_get_int(&keep, (int64_t)ji, NULL))
			job_delete(e, j);
	}
	hmap_free(&keep);
	begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_ANALYSIS_UPSERT);
	sqlite3_bind_int64(st, 1, s->id);
	sqlite3_bind_int64(st, 2, b->db_id);
	sqlite3_bind_int64(st, 3, (int64_t)analysis_fingerprint(e, s, b));
	sqlite3_bind_null(st, 4);
	db_step_done(e->db, st);
	arena_free(a);
	e->st->analysed++;
done:
	if (rep->idx + 1 >= r->n_items)
		run_end(r);
}

/* ---------- processing ---------- */

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

static void job_finish_fail(engine *e, erun *r, ejob *j, const char *reason)
{
	int64_t now = wall_ms();
	joblog_linef(&r->log, MSG_LEVEL_ERROR, "job failed: %s", reason);
	begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_FINISH_FAIL);
	sqlite3_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, reason);
	sqlite3_bind_int(st, 3, r->log.warnings);
	sqlite3_bind_int(st, 4, r->log.errors);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now - r->start_ms);
	db_bind_text(st, 7, r->log.path);
	sqlite3_bind_int64(st, 8, (int64_t)j->new_fp);
	db_step_done(e->db, st);
	j->status = ST_FAILED;
	e->st->failed++;
	size_t ji = (size_t)(j - e->jobs);
	if (grow((void **)&e->failed, &e->cap_failed, e->n_failed, sizeof *e->failed) == 0)
		e->failed[e->n_failed++] = ji;
}

typedef struct landing {
	const msg_product *p;
	char src[KILN_PATH_MAX];
	char rel[KILN_PATH_MAX]; /* normalised, lowercase */
	uint64_t size, hash;
} landing;

/* Checks every product before moving any, so that a job lands all of its
 * products or none. Returns NULL when all are fine, else the reason text. */
static const char *check_products(engine *e, erun *r, ejob *j, const msg_process_job_resp *resp, landing *L)
{
	static char why[1024];
	for (size_t i = 0; i < resp->n_products; i++) {
		const msg_product *p = &resp->products[i];
		L[i].p = p;
		if (path_check_relative(p->file, strlen(p->file)) != 0) {
			snprintf(why, sizeof why, "product \"%s\" is not a path inside the temp dir", p->file);
			return why;
		}
		if (path_normalize(p->file, L[i].rel, sizeof L[i].rel) != 0) {
			snprintf(why, sizeof why, "product \"%s\" leaves the temp dir", p->file);
			return why;
		}
		path_lower(L[i].rel);
		snprintf(L[i].src, sizeof L[i].src, "%s/%s", r->temp, p->file);
		struct stat st;
		if (lstat(L[i].src, &st) != 0) {
			snprintf(why, sizeof why, "listed product \"%s\" does not exist in the temp dir", p->file);
			return why;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(why, sizeof why, "product \"%s\" is not a regular file%s", p->file,
				 S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
			return why;
		}
		/* A symbolic link in a parent folder could still point out of
		 * the temp dir: resolve and compare. */
		char real[PATH_MAX];
		if (!realpath(L[i].src, real) || strncmp(real, r->temp, strlen(r->temp)) != 0) {
			snprintf(why, sizeof why, "product \"%s\" resolves outside the temp dir", p->file);
			return why;
		}
		L[i].size = (uint64_t)st.st_size;
		if (hash_file(L[i].src, &L[i].hash) != 0) {
			snprintf(why, sizeof why, "product \"%s\" cannot be read", p->file);
			return why;
		}
		for (size_t k = 0; k < i; k++) {
			if (L[k].p->sub_id == p->sub_id) {
				snprintf(why, sizeof why, "products \"%s\" and \"%s\" share sub_id %u", L[k].p->file,
					 p->file, p->sub_id);
				return why;
			}
			if (strcmp(L[k].rel, L[i].rel) == 0 && L[k].p->intermediate == p->intermediate) {
				snprintf(why, sizeof why, "products \"%s\" and \"%s\" land on the same path", L[k].p->file,
					 p->file);
				return why;
			}
		}
		size_t pi;
		const char *plat = p->intermediate ? "intermediate" : j->platform;
		if (hmap_get(&e->prod_by_path, product_map_key(e, plat, L[i].rel), &pi) &&
		    e->prods[pi].job_id != j->id) {
			size_t oj;
			const char *other = "another job";
			if (hmap_get_int(&e->job_by_id, e->prods[pi].job_id, &oj))
				other = arena_printf(e->ar, "job %lld (%s, %s)", (long long)e->prods[pi].job_id,
						     e->src[e->jobs[oj].src].rel, e->jobs[oj].job_key);
			snprintf(why, sizeof why, "product \"%s\" is already made by %s", L[i].rel, other);
			return why;
		}
	}
	return NULL;
}

static void land_products(engine *e, erun *r, ejob *j, const msg_process_job_resp *resp, landing *L)
{
	int64_t now = wall_ms();
	hmap keep;
	hmap_init(&keep);
	for (size_t i = 0; i < resp->n_products; i++) {
		const msg_product *p = L[i].p;
		char dest[KILN_PATH_MAX];
		const char *plat = p->intermediate ? "intermediate" : j->platform;
		snprintf(dest, sizeof dest, "%s/%s/%s", e->cfg->cache, plat, L[i].rel);
		/* Same sub_id on a new path: the old file must not linger. */
		size_t oi = NONE;
		if (hmap_get_int(&e->prod_by_job, j->id, &oi)) {
			for (; oi != NONE; oi = e->prods[oi].next_in_job) {
				eproduct *op = &e->prods[oi];
				if (op->deleted || op->sub_id != p->sub_id ||
				    (strcmp(op->path, L[i].rel) == 0 && op->intermediate == p->intermediate))
					continue;
				char of[KILN_PATH_MAX];
				product_file(e, op, of, sizeof of);
				if (unlink(of) == 0)
					path_prune_empty_parents(of, e->cfg->cache);
				hmap_del(&e->prod_by_path, product_map_key(e, op->platform, op->path));
				op->deleted = true;
			}
		}
		path_mkdirs_for(dest, 0755);
		if (rename(L[i].src, dest) != 0) {
			joblog_linef(&r->log, MSG_LEVEL_ERROR, "moving %s into the cache: %s", L[i].rel, strerror(errno));
			continue;
		}
		hmap_put_int(&keep, p->sub_id, 1);
		begin(e);
		sqlite3_stmt *st = db_stmt_get(e->db, DBS_PRODUCT_UPSERT);
		sqlite3_bind_int64(st, 1, j->id);
		sqlite3_bind_int64(st, 2, p->sub_id);
		db_bind_text(st, 3, j->platform);
		db_bind_text(st, 4, L[i].rel);
		db_bind_text(st, 5, p->asset_type ? p->asset_type : "");
		sqlite3_bind_int64(st, 6, (int64_t)L[i].size);
		sqlite3_bind_int64(st, 7, (int64_t)L[i].hash);
		sqlite3_bind_int(st, 8, p->intermediate);
		sqlite3_bind_int64(st, 9, now);
		int64_t pid = 0;
		if (sqlite3_step(st) == SQLITE_ROW)
			pid = sqlite3_column_int64(st, 0);
		else
			klog(KLOG_ERROR, "storing product %s: %s", L[i].rel, db_errmsg(e->db));
		sqlite3_reset(st);
		/* Remember it in memory too, for collision checks later in the pass. */
		size_t known;
		if (hmap_get(&e->prod_by_path, product_map_key(e, plat, L[i].rel), &known) &&
		    e->prods[known].job_id == j->id) {
			e->prods[known].sub_id = p->sub_id;
			e->prods[known].id = pid;
		} else if (pid && grow((void **)&e->prods, &e->cap_prods, e->n_prods, sizeof *e->prods) == 0) {
			eproduct *np = &e->prods[e->n_prods];
			np->id = pid;
			np->job_id = j->id;
			np->sub_id = p->sub_id;
			np->platform = arena_strdup(e->ar, plat);
			np->path = arena_strdup(e->ar, L[i].rel);
			np->intermediate = p->intermediate;
			np->deleted = false;
			np->next_in_job = NONE;
			size_t head;
			if (hmap_get_int(&e->prod_by_job, j->id, &head))
				np->next_in_job = head;
			hmap_put_int(&e->prod_by_job, j->id, e->n_prods);
			hmap_put(&e->prod_by_path, product_map_key(e, plat, L[i].rel), e->n_prods);
			e->n_prods++;
		}
		e->st->products++;
	}
	/* Products this job made before and no longer makes go away. */
	delete_products_of_job(e, j->id, &keep);
	hmap_free(&keep);
}

static void on_process_reply(engine *e, erun *r, const hp_reply *rep)
{
	ejob *j = &e->jobs[r->items[0]];
	ebuilder *b = &e->b[r->builder];
	b->pj_n++;
	b->pj_us += rep->duration_us;
	arena *a = NULL;
	landing *L = NULL;
	if (rep->status != HP_OK) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "builder %s: %s", hp_status_name(rep->status),
			     rep->detail ? rep->detail : "");
		if (rep->stderr_tail.n) {
			joblog_linef(&r->log, MSG_LEVEL_INFO, "last %zu stderr lines:", rep->stderr_tail.n);
			for (size_t i = 0; i < rep->stderr_tail.n; i++)
				joblog_line(&r->log, MSG_LEVEL_INFO, "stderr", rep->stderr_tail.items[i], NULL);
		}
		job_finish_fail(e, r, j, reason_for(rep->status));
		goto out;
	}
	char err[512];
	a = arena_new();
	msg_process_job_resp resp;
	if (!a || msg_decode_process_job_resp(rep->frame.data, rep->frame.len, a, &resp, err, sizeof err) != 0) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "the builder's reply is malformed: %s", err);
		job_finish_fail(e, r, j, "protocol_error");
		goto out;
	}
	if (resp.result != MSG_RESULT_SUCCESS) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "the builder returned \"%s\"", msg_result_name(resp.result));
		job_finish_fail(e, r, j, msg_result_name(resp.result));
		goto out;
	}
	if (resp.n_products == 0) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "the builder returned success but no products");
		job_finish_fail(e, r, j, "failed");
		goto out;
	}
	L = calloc(resp.n_products, sizeof *L);
	if (!L) {
		job_finish_fail(e, r, j, "failed");
		goto out;
	}
	const char *why = check_products(e, r, j, &resp, L);
	if (why) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "%s", why);
		job_finish_fail(e, r, j, "invalid_product");
		goto out;
	}
	for (size_t i = 0; i < resp.n_products; i++)
		if (!resp.products[i].dependencies_handled)
			joblog_linef(&r->log, MSG_LEVEL_WARNING,
				     "product \"%s\" says its dependencies are not handled (dependencies_handled false)",
				     resp.products[i].file);
	land_products(e, r, j, &resp, L);
	int64_t now = wall_ms();
	int status = r->log.errors ? ST_ERROR : r->log.warnings ? ST_WARNING : ST_COMPLETED;
	joblog_linef(&r->log, MSG_LEVEL_INFO, "job %s: %zu products in %lld ms", db_statuses[status], resp.n_products,
		     (long long)(now - r->start_ms));
	/* The summary line above is kiln's own: do not count it. */
	begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_FINISH_OK);
	sqlite3_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, db_statuses[status]);
	sqlite3_bind_int64(st, 3, (int64_t)j->new_fp);
	sqlite3_bind_int(st, 4, r->log.warnings);
	sqlite3_bind_int(st, 5, r->log.errors);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, now - r->start_ms);
	db_bind_text(st, 8, r->log.path);
	db_step_done(e->db, st);
	j->status = status;
	j->has_fp = true;
	j->fp = j->new_fp;
	if (status == ST_COMPLETED)
		e->st->completed++;
	else if (status == ST_WARNING)
		e->st->warnings++;
	else
		e->st->errors++;
out:
	free(L);
	arena_free(a);
	joblog_close(&r->log);
	path_clear_files(r->temp);
	run_end(r);
}

/* ---------- pool callbacks ---------- */

static void cb_log(void *ud, uint64_t id, const hp_log *log)
{
	engine *e = ud;
	erun *r = run_find(e, id);
	if (!r)
		return;
	if (r->kind == RUN_PROCESS) {
		joblog_line(&r->log, log->level, "builder", log->message, &log->context);
	} else if (log->level != MSG_LEVEL_INFO) {
		klog(log->level == MSG_LEVEL_ERROR ? KLOG_ERROR : KLOG_WARN, "%s: %s", e->b[r->builder].name,
		     log->message);
	}
}

static void cb_reply(void *ud, uint64_t id, const hp_reply *rep)
{
	engine *e = ud;
	erun *r = run_find(e, id);
	if (!r)
		return;
	switch (r->kind) {
	case RUN_DESCRIBE:
		on_describe_reply(e, r, rep);
		break;
	case RUN_ANALYSE:
		on_analyse_reply(e, r, rep);
		break;
	case RUN_PROCESS:
		on_process_reply(e, r, rep);
		break;
	}
	maybe_commit(e, false);
}

static void cb_lost(void *ud, uint64_t id, uint32_t first_idx, const char *detail)
{
	engine *e = ud;
	erun *r = run_find(e, id);
	if (!r)
		return;
	if (r->kind == RUN_PROCESS) {
		ejob *j = &e->jobs[r->items[0]];
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "%s", detail);
		job_finish_fail(e, r, j, "host_lost");
		joblog_close(&r->log);
		path_clear_files(r->temp);
		run_end(r);
	} else {
		/* Answer the frames that got no reply as lost, one by one. */
		for (uint32_t i = first_idx; r->active && i < r->n_items; i++) {
			hp_reply rep = {.id = id, .idx = i, .status = HP_CRASHED, .detail = detail};
			if (r->kind == RUN_ANALYSE) {
				analysis_failed(e, r->items[i], r->builder, "host_lost", detail, NULL);
				if (i + 1 >= r->n_items)
					run_end(r);
			} else {
				on_describe_reply(e, r, &rep);
			}
		}
	}
	maybe_commit(e, false);
}

static void cb_signal(void *ud, int signo)
{
	engine *e = ud;
	e->signals++;
	klog(KLOG_WARN, "signal %d: stopping after the running jobs%s", signo,
	     e->signals > 1 ? " (second signal: cancelling them)" : "");
	e->stop = true;
	if (e->signals > 1) {
		for (size_t i = 0; i < e->n_runs; i++)
			if (e->runs[i].active)
				pool_cancel(e->pool, e->runs[i].id);
	}
}

/* ---------- loading ---------- */

static int load_sources(engine *e)
{
	sqlite3_stmt *s = NULL;
	int rc = KILN_E_DB;
	if (sqlite3_prepare_v2(e->db->h, "SELECT id, uuid, scan_folder, path, size, mtime_ns, hash FROM sources", -1,
			       &s, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (grow((void **)&e->src, &e->cap_src, e->n_src, sizeof *e->src) != 0) {
			rc = -ENOMEM;
			goto out;
		}
		esource *x = &e->src[e->n_src];
		memset(x, 0, sizeof *x);
		x->first_job = NONE;
		x->id = sqlite3_column_int64(s, 0);
		snprintf(x->uuid, sizeof x->uuid, "%s", (const char *)sqlite3_column_text(s, 1));
		const char *folder = (const char *)sqlite3_column_text(s, 2);
		x->folder = -1;
		for (size_t f = 0; f < e->cfg->n_folders; f++)
			if (strcmp(e->cfg->folders[f].abs, folder) == 0)
				x->folder = (int32_t)f;
		x->rel = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 3));
		x->key = arena_strdup(e->ar, x->rel);
		path_lower(x->key);
		x->size = (uint64_t)sqlite3_column_int64(s, 4);
		x->mtime = sqlite3_column_int64(s, 5);
		x->hash = (uint64_t)sqlite3_column_int64(s, 6);
		hmap_put(&e->src_by_key, x->key, e->n_src);
		hmap_put_int(&e->src_by_id, x->id, e->n_src);
		e->n_src++;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int builder_index_by_db_id(engine *e, int64_t id)
{
	for (size_t i = 0; i < e->nb; i++)
		if (e->b[i].ok && e->b[i].db_id == id)
			return (int)i;
	return -1;
}

static int load_jobs_and_products(engine *e)
{
	sqlite3_stmt *s = NULL;
	int rc = KILN_E_DB;
	if (sqlite3_prepare_v2(e->db->h,
			       "SELECT id, source_id, builder_id, job_key, platform, critical, priority, params,"
			       " fingerprint, status, requested, escalated FROM jobs ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		size_t si;
		if (!hmap_get_int(&e->src_by_id, sqlite3_column_int64(s, 1), &si))
			continue;
		int bi = builder_index_by_db_id(e, sqlite3_column_int64(s, 2));
		size_t ji;
		ejob *j = job_add(e, si, bi, (const char *)sqlite3_column_text(s, 3),
				  (const char *)sqlite3_column_text(s, 4), &ji);
		if (!j) {
			rc = -ENOMEM;
			goto out;
		}
		j->id = sqlite3_column_int64(s, 0);
		j->critical = sqlite3_column_int(s, 5);
		j->priority = sqlite3_column_int64(s, 6);
		j->params = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 7));
		j->has_fp = sqlite3_column_type(s, 8) != SQLITE_NULL;
		j->fp = (uint64_t)sqlite3_column_int64(s, 8);
		j->status = status_index((const char *)sqlite3_column_text(s, 9));
		j->requested = sqlite3_column_int(s, 10);
		j->escalated = sqlite3_column_int(s, 11);
		hmap_put_int(&e->job_by_id, j->id, ji);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(e->db->h, "SELECT id, job_id, sub_id, platform, path, intermediate FROM products", -1,
			       &s, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (grow((void **)&e->prods, &e->cap_prods, e->n_prods, sizeof *e->prods) != 0) {
			rc = -ENOMEM;
			goto out;
		}
		eproduct *p = &e->prods[e->n_prods];
		p->id = sqlite3_column_int64(s, 0);
		p->job_id = sqlite3_column_int64(s, 1);
		p->sub_id = (uint32_t)sqlite3_column_int64(s, 2);
		p->intermediate = sqlite3_column_int(s, 5);
		p->platform = arena_strdup(e->ar, p->intermediate ? "intermediate"
								  : (const char *)sqlite3_column_text(s, 3));
		p->path = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 4));
		p->deleted = false;
		p->next_in_job = NONE;
		size_t head;
		if (hmap_get_int(&e->prod_by_job, p->job_id, &head))
			p->next_in_job = head;
		hmap_put_int(&e->prod_by_job, p->job_id, e->n_prods);
		hmap_put(&e->prod_by_path, product_map_key(e, p->platform, p->path), e->n_prods);
		e->n_prods++;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(e->db->h, "SELECT source_id, builder_id, fingerprint FROM analyses", -1, &s, NULL) !=
	    SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (grow((void **)&e->analysis_fp, &e->cap_afp, e->n_afp, sizeof *e->analysis_fp) != 0) {
			rc = -ENOMEM;
			goto out;
		}
		e->analysis_fp[e->n_afp] = (uint64_t)sqlite3_column_int64(s, 2);
		int64_t k = (sqlite3_column_int64(s, 0) << 16) ^ (sqlite3_column_int64(s, 1) & 0xffff);
		hmap_put_int(&e->analysed, k, e->n_afp);
		e->n_afp++;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* ---------- the phases ---------- */

static void pump(engine *e)
{
	pool_poll(e->pool, 100);
	maybe_commit(e, false);
}

static bool any_active(engine *e)
{
	for (size_t i = 0; i < e->n_runs; i++)
		if (e->runs[i].active)
			return true;
	return false;
}

static int phase_describe(engine *e, const char *args_json[])
{
	struct stat xst[MAX_BUILDERS];
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msg_encode_describe_req(&sb);
	hp_bytes frame = {(const uint8_t *)sb.data, sb.size};
	size_t pending = 0;
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		if (stat(b->cfg->exec_abs, &xst[i]) != 0) {
			b->why_disabled = arena_printf(e->ar, "cannot find %s: %s", b->cfg->exec_abs, strerror(errno));
			continue;
		}
		if (builder_from_cache(e, b, &xst[i], args_json[i])) {
			b->ok = true;
			continue;
		}
		pending++;
	}
	/* Ask the builders that are not in the describe cache, each in a run of
	 * its own (the builder differs from run to run). */
	size_t next = 0;
	while ((pending > 0 || any_active(e)) && !e->stop) {
		pool_ensure(e->pool, pending);
		while (pending > 0 && pool_can_submit(e->pool)) {
			while (next < e->nb && (e->b[next].ok || e->b[next].why_disabled))
				next++;
			if (next >= e->nb) {
				pending = 0;
				break;
			}
			erun *r = run_new(e, RUN_DESCRIBE, (int)next);
			if (!r || pool_submit(e->pool, r->id, &e->b[next].hp, "", &frame, 1) != 0) {
				if (r)
					run_end(r);
				break;
			}
			next++;
			pending--;
		}
		if (pool_given_up(e->pool)) {
			for (size_t i = 0; i < e->nb; i++)
				if (!e->b[i].ok && !e->b[i].why_disabled)
					e->b[i].why_disabled = "builder hosts cannot be started";
			break;
		}
		pump(e);
	}
	msgpack_sbuffer_destroy(&sb);
	begin(e);
	sqlite3_stmt *s = db_stmt_get(e->db, DBS_BUILDER_SET_ACTIVE_ALL);
	sqlite3_bind_int(s, 1, 0);
	db_step_done(e->db, s);
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		if (b->ok) {
			builder_compile_patterns(e, b);
			if (b->ok)
				builder_store(e, b, &xst[i], args_json[i], true);
		}
		if (!b->ok) {
			klog(KLOG_ERROR, "builder %s is disabled: %s", b->cfg->exec,
			     b->why_disabled ? b->why_disabled : "unknown");
			fprintf(stderr, "kiln: builder %s is disabled: %s\n", b->cfg->exec,
				b->why_disabled ? b->why_disabled : "unknown");
			e->st->builder_failures++;
		}
	}
	for (size_t i = 0; i < e->nb; i++)
		for (size_t k = 0; k < i; k++)
			if (e->b[i].ok && e->b[k].ok && strcmp(e->b[i].uuid, e->b[k].uuid) == 0) {
				fprintf(stderr, "kiln: builders %s and %s share the uuid %s; the second is disabled\n",
					e->b[k].cfg->exec, e->b[i].cfg->exec, e->b[i].uuid);
				e->b[i].ok = false;
				e->st->builder_failures++;
			}
	maybe_commit(e, true);
	return 0;
}

static uint64_t match_builders(engine *e, const char *rel)
{
	uint64_t m = 0;
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		if (!b->ok)
			continue;
		for (size_t k = 0; k < b->n_patterns; k++) {
			if (pattern_match(b->pats[k], rel) == 1) {
				m |= 1ULL << i;
				break;
			}
		}
	}
	return m;
}

static void delete_source(engine *e, size_t si)
{
	esource *s = &e->src[si];
	for (size_t ji = s->first_job; ji != NONE; ji = e->jobs[ji].next_in_src)
		job_delete(e, &e->jobs[ji]);
	/* Jobs of builders no longer configured are not in memory: their
	 * products go through the database. */
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(e->db->h,
			       "SELECT p.platform, p.path, p.intermediate FROM products p JOIN jobs j ON p.job_id = j.id"
			       " WHERE j.source_id = ?1",
			       -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(q, 1, s->id);
		while (sqlite3_step(q) == SQLITE_ROW) {
			char f[KILN_PATH_MAX];
			snprintf(f, sizeof f, "%s/%s/%s", e->cfg->cache,
				 sqlite3_column_int(q, 2) ? "intermediate" : (const char *)sqlite3_column_text(q, 0),
				 (const char *)sqlite3_column_text(q, 1));
			if (unlink(f) == 0)
				path_prune_empty_parents(f, e->cfg->cache);
		}
	}
	sqlite3_finalize(q);
	begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_SOURCE_DELETE);
	sqlite3_bind_int64(st, 1, s->id);
	db_step_done(e->db, st);
	hmap_del(&e->src_by_key, s->key);
	s->on_disk = false;
	s->bmask = 0;
	e->st->deleted++;
}

static int phase_scan(engine *e)
{
	scan_result sr;
	int rc = scan_run(e->cfg, e->excludes, e->n_excludes, &sr);
	if (rc)
		return rc;
	e->st->scanned = sr.n;
	bool hash_all = e->opts->hash || e->cfg->scan_hash;
	for (size_t i = 0; i < sr.n; i++) {
		scan_file *f = &sr.files[i];
		uint64_t m = match_builders(e, f->rel);
		if (!m)
			continue;
		size_t si;
		esource *s;
		bool known = hmap_get(&e->src_by_key, f->key, &si);
		if (known) {
			s = &e->src[si];
		} else {
			if (grow((void **)&e->src, &e->cap_src, e->n_src, sizeof *e->src) != 0) {
				rc = -ENOMEM;
				goto out;
			}
			si = e->n_src++;
			s = &e->src[si];
			memset(s, 0, sizeof *s);
			s->first_job = NONE;
			s->key = arena_strdup(e->ar, f->key);
			kuuid u;
			uuid_for_source(f->rel, &u);
			uuid_format(&u, s->uuid);
			s->is_new = true;
			s->changed = true;
			s->dirty = true;
			hmap_put(&e->src_by_key, s->key, si);
		}
		s->on_disk = true;
		s->bmask = m;
		if ((int32_t)f->folder != s->folder || !s->rel || strcmp(s->rel, f->rel) != 0) {
			/* Found in another folder (an override came or went) or
			 * renamed in case only: same source, new place. */
			s->folder = (int32_t)f->folder;
			s->rel = arena_strdup(e->ar, f->rel);
			s->dirty = true;
			s->changed = true;
		}
		if (s->is_new || hash_all || s->size != f->size || s->mtime != f->mtime_ns || s->changed) {
			char fp[KILN_PATH_MAX];
			uint64_t h = 0;
			full_path(e, s, fp, sizeof fp);
			if (hash_file(fp, &h) != 0) {
				klog(KLOG_WARN, "cannot read %s: %s; skipped this pass", fp, strerror(errno));
				if (s->is_new) {
					s->on_disk = false;
					s->bmask = 0;
					hmap_del(&e->src_by_key, s->key);
				}
				continue;
			}
			e->st->hashed++;
			if (h != s->hash || s->is_new)
				s->changed = true;
			s->hash = h;
			s->size = f->size;
			s->mtime = f->mtime_ns;
			s->dirty = true;
		}
	}
	/* Write new and changed rows in one transaction; then delete the gone. */
	begin(e);
	for (size_t si = 0; si < e->n_src; si++) {
		esource *s = &e->src[si];
		if (!s->on_disk || !s->dirty)
			continue;
		sqlite3_stmt *st;
		if (!s->id) {
			st = db_stmt_get(e->db, DBS_SOURCE_INSERT);
			db_bind_text(st, 1, s->uuid);
			db_bind_text(st, 2, folder_abs(e, s));
			db_bind_text(st, 3, s->rel);
			sqlite3_bind_int64(st, 4, (int64_t)s->size);
			sqlite3_bind_int64(st, 5, s->mtime);
			sqlite3_bind_int64(st, 6, (int64_t)s->hash);
			if (db_step_done(e->db, st) == 0) {
				s->id = sqlite3_last_insert_rowid(e->db->h);
				hmap_put_int(&e->src_by_id, s->id, si);
			}
		} else {
			st = db_stmt_get(e->db, DBS_SOURCE_UPDATE);
			sqlite3_bind_int64(st, 1, s->id);
			db_bind_text(st, 2, folder_abs(e, s));
			db_bind_text(st, 3, s->rel);
			sqlite3_bind_int64(st, 4, (int64_t)s->size);
			sqlite3_bind_int64(st, 5, s->mtime);
			sqlite3_bind_int64(st, 6, (int64_t)s->hash);
			db_step_done(e->db, st);
		}
		s->dirty = false;
	}
	for (size_t si = 0; si < e->n_src; si++) {
		esource *s = &e->src[si];
		if (!s->on_disk && s->id && hmap_get(&e->src_by_key, s->key, NULL))
			delete_source(e, si);
		else if (s->on_disk)
			e->st->sources++;
	}
	/* Jobs whose builder is gone from kiln.json (or whose pattern no longer
	 * matches the source) lose their products. */
	for (size_t ji = 0; ji < e->n_jobs; ji++) {
		ejob *j = &e->jobs[ji];
		if (j->deleted)
			continue;
		if (j->builder < 0 || !(e->src[j->src].bmask & (1ULL << j->builder)))
			job_delete(e, j);
	}
	/* Jobs of builders that are not configured any more were not loaded;
	 * remove their products and rows through the database. */
	{
		sqlite3_stmt *q = NULL;
		if (sqlite3_prepare_v2(e->db->h,
				       "SELECT p.platform, p.path, p.intermediate FROM products p JOIN jobs j ON"
				       " p.job_id = j.id JOIN builders b ON j.builder_id = b.id WHERE b.active = 0",
				       -1, &q, NULL) == SQLITE_OK) {
			while (sqlite3_step(q) == SQLITE_ROW) {
				char f[KILN_PATH_MAX];
				snprintf(f, sizeof f, "%s/%s/%s", e->cfg->cache,
					 sqlite3_column_int(q, 2) ? "intermediate"
								  : (const char *)sqlite3_column_text(q, 0),
					 (const char *)sqlite3_column_text(q, 1));
				if (unlink(f) == 0)
					path_prune_empty_parents(f, e->cfg->cache);
			}
		}
		sqlite3_finalize(q);
		db_exec(e->db, "DELETE FROM jobs WHERE builder_id IN (SELECT id FROM builders WHERE active = 0)");
	}
	maybe_commit(e, true);
out:
	scan_result_free(&sr);
	return rc;
}

static int phase_analyse(engine *e)
{
	/* Group (source, builder) pairs that need create_jobs into runs. */
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	size_t total = 0;
	for (size_t bi = 0; bi < e->nb; bi++) {
		ebuilder *b = &e->b[bi];
		if (!b->ok)
			continue;
		erun *r = NULL;
		for (size_t si = 0; si < e->n_src; si++) {
			esource *s = &e->src[si];
			if (!s->on_disk || !(s->bmask & (1ULL << bi)) || !s->id)
				continue;
			size_t ai;
			uint64_t want = analysis_fingerprint(e, s, b);
			if (hmap_get_int(&e->analysed, analysis_key(s, b), &ai) && e->analysis_fp[ai] == want)
				continue;
			if (!r || r->n_items >= ANALYSE_CHUNK) {
				r = run_new(e, RUN_ANALYSE, (int)bi);
				if (!r)
					return -ENOMEM;
				r->items = malloc(ANALYSE_CHUNK * sizeof *r->items);
				if (!r->items)
					return -ENOMEM;
				if (grow((void **)&e->aq, &e->cap_aq, e->n_aq, sizeof *e->aq) != 0)
					return -ENOMEM;
				e->aq[e->n_aq++] = (size_t)(r - e->runs);
				/* runs may move on realloc; store ids, resolve below */
				e->aq[e->n_aq - 1] = (size_t)r->id;
			}
			r->items[r->n_items++] = si;
			total++;
		}
	}
	size_t next = 0;
	e->progress_total = total;
	while ((next < e->n_aq || pool_busy(e->pool) > 0) && !e->stop) {
		pool_ensure(e->pool, e->n_aq - next);
		while (next < e->n_aq && pool_can_submit(e->pool)) {
			erun *r = run_find(e, e->aq[next]);
			next++;
			if (!r)
				continue;
			ebuilder *b = &e->b[r->builder];
			hp_bytes *frames = calloc(r->n_items, sizeof *frames);
			msgpack_sbuffer *bufs = calloc(r->n_items, sizeof *bufs);
			if (!frames || !bufs) {
				free(frames);
				free(bufs);
				msgpack_sbuffer_destroy(&sb);
				return -ENOMEM;
			}
			for (size_t k = 0; k < r->n_items; k++) {
				esource *s = &e->src[r->items[k]];
				char fp[KILN_PATH_MAX];
				full_path(e, s, fp, sizeof fp);
				const char *plats[64];
				size_t np = 0;
				for (size_t pi = 0; pi < e->cfg->n_platforms && np < 64; pi++)
					if (folder_has_platform(e, s->folder, e->cfg->platforms[pi]))
						plats[np++] = e->cfg->platforms[pi];
				msg_create_jobs_req q = {.source_file = s->rel,
							 .watch_folder = folder_abs(e, s),
							 .full_path = fp,
							 .source_uuid = s->uuid,
							 .builder_uuid = b->uuid,
							 .platforms = {plats, np}};
				msgpack_sbuffer_init(&bufs[k]);
				msg_encode_create_jobs_req(&bufs[k], &q);
				frames[k].data = (const uint8_t *)bufs[k].data;
				frames[k].len = bufs[k].size;
			}
			int rc = pool_submit(e->pool, r->id, &b->hp, "", frames, r->n_items);
			for (size_t k = 0; k < r->n_items; k++)
				msgpack_sbuffer_destroy(&bufs[k]);
			free(frames);
			free(bufs);
			if (rc != 0) {
				next--; /* try again after the next poll */
				break;
			}
		}
		if (pool_given_up(e->pool))
			break;
		pump(e);
	}
	msgpack_sbuffer_destroy(&sb);
	/* Whatever could not be sent (hosts given up, stop) fails visibly. */
	for (size_t k = next; k < e->n_aq; k++) {
		erun *r = run_find(e, e->aq[k]);
		if (!r)
			continue;
		for (size_t i = 0; i < r->n_items && !e->stop; i++)
			analysis_failed(e, r->items[i], r->builder, "host_lost", "no builder host could be started",
					NULL);
		run_end(r);
	}
	maybe_commit(e, true);
	return 0;
}

static uint64_t job_fingerprint(engine *e, const ejob *j)
{
	const esource *s = &e->src[j->src];
	const ebuilder *b = &e->b[j->builder];
	fp_state f;
	fp_init(&f);
	fp_u64(&f, s->hash);
	fp_str(&f, b->uuid);
	fp_str(&f, b->version);
	fp_str(&f, b->afp);
	fp_str(&f, j->job_key);
	fp_str(&f, j->platform);
	fp_str(&f, j->params);
	return fp_final(&f);
}

static void check_products_present(engine *e)
{
	for (size_t i = 0; i < e->n_prods; i++) {
		eproduct *p = &e->prods[i];
		if (p->deleted)
			continue;
		char f[KILN_PATH_MAX];
		struct stat st;
		product_file(e, p, f, sizeof f);
		if (stat(f, &st) == 0)
			continue;
		size_t ji;
		if (hmap_get_int(&e->job_by_id, p->job_id, &ji))
			e->jobs[ji].product_missing = true;
	}
}

static void progress(engine *e, bool final)
{
	if (!e->opts->progress)
		return;
	int64_t now = pool_now_ms();
	if (!final && now - e->progress_at < 100)
		return;
	e->progress_at = now;
	size_t done = e->st->completed + e->st->warnings + e->st->errors + e->st->failed;
	fprintf(stderr, "\r\033[K[%zu/%zu] %zu failed", done, e->progress_total, e->st->failed);
	if (final)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

static int start_job(engine *e, size_t ji)
{
	ejob *j = &e->jobs[ji];
	esource *s = &e->src[j->src];
	ebuilder *b = &e->b[j->builder];
	erun *r = run_new(e, RUN_PROCESS, j->builder);
	if (!r)
		return -ENOMEM;
	r->items = malloc(sizeof *r->items);
	if (!r->items) {
		run_end(r);
		return -ENOMEM;
	}
	r->items[0] = ji;
	r->n_items = 1;
	r->start_ms = wall_ms();
	/* Temp dirs belong to run slots and are reused job after job (emptied
	 * of files, folders kept): making and removing a folder per job costs
	 * more than the job itself on ext4. */
	snprintf(r->temp, sizeof r->temp, "%s/slot-%zu", e->cache_tmp, (size_t)(r - e->runs));
	path_clear_files(r->temp);
	if (path_mkdirs(r->temp, 0700) != 0 || joblog_open(&r->log, e->logs_jobs, j->id, r->start_ms) != 0) {
		klog(KLOG_ERROR, "cannot prepare job %lld: %s", (long long)j->id, strerror(errno));
	}
	char fp[KILN_PATH_MAX];
	full_path(e, s, fp, sizeof fp);
	joblog_linef(&r->log, MSG_LEVEL_INFO, "job %lld: %s on %s for %s (%s); reason: %s", (long long)j->id,
		     j->job_key, s->rel, j->platform, b->name, j->run_reason);
	/* The log lines above and below are kiln's own notes; they are not
	 * counted as the builder's warnings or errors. */
	r->log.warnings = r->log.errors = 0;
	begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_START);
	sqlite3_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, j->run_reason);
	sqlite3_bind_int64(st, 3, r->start_ms);
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
			params.items[params.n].value = arena_strdup(a, json_is_string(v) ? json_string_value(v) : "");
			params.n++;
		}
	}
	json_decref(pj);
	msg_process_job_req q = {
		.source_file = s->rel,
		.watch_folder = folder_abs(e, s),
		.full_path = fp,
		.builder_uuid = b->uuid,
		.job = {.job_key = j->job_key, .platform = j->platform, .critical = j->critical,
			.priority = j->priority, .params = params},
		.temp_dir = r->temp,
		.platform_info = {.identifier = j->platform},
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
		path_clear_files(r->temp);
		run_end(r);
		return rc;
	}
	e->st->jobs++;
	return 0;
}

static int phase_process(engine *e)
{
	check_products_present(e);
	for (size_t ji = 0; ji < e->n_jobs; ji++) {
		ejob *j = &e->jobs[ji];
		if (j->deleted || j->builder < 0 || !e->b[j->builder].ok || !e->src[j->src].on_disk)
			continue;
		if (strcmp(j->job_key, "create_jobs") == 0 && j->status == ST_FAILED)
			continue; /* an analysis failure of this pass, already counted */
		if (!platform_selected(e, j->platform))
			continue;
		j->new_fp = job_fingerprint(e, j);
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
		else if (j->fp != j->new_fp)
			why = e->src[j->src].changed ? "source content changed"
						     : "builder version, analysis fingerprint or job parameters changed";
		else if (j->product_missing)
			why = "a product is missing from the cache";
		if (!why)
			continue;
		j->run_reason = why;
		if (runq_push(&e->q, ji, j->escalated, j->critical, j->priority) != 0)
			return -ENOMEM;
	}
	e->progress_total = runq_count(&e->q);
	while ((runq_count(&e->q) > 0 || pool_busy(e->pool) > 0) && !(e->stop && pool_busy(e->pool) == 0)) {
		if (!e->stop) {
			pool_ensure(e->pool, runq_count(&e->q));
			while (runq_count(&e->q) > 0 && pool_can_submit(e->pool)) {
				runq_item it;
				runq_pop(&e->q, &it);
				if (start_job(e, it.job) != 0) {
					runq_push(&e->q, it.job, true, e->jobs[it.job].critical,
						   e->jobs[it.job].priority);
					break;
				}
			}
			if (pool_given_up(e->pool) && pool_busy(e->pool) == 0)
				break;
		}
		pump(e);
		progress(e, false);
	}
	progress(e, true);
	/* Jobs left in the queue (stop, or hosts given up) stay as they are in
	 * the database and run again next time. */
	maybe_commit(e, true);
	return 0;
}

/* ---------- the batch ---------- */

static int lock_cache(const kiln_config *cfg, int *fd_out, char *err, size_t errsz)
{
	char p[KILN_PATH_MAX];
	snprintf(p, sizeof p, "%s/kiln.lock", cfg->cache);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", p, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "?";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 1] = 0;
		snprintf(err, errsz, "another kiln (pid %s) is working on %s", pid, cfg->cache);
		close(fd);
		return KILN_E_STATE;
	}
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) < 0) {
		/* the pid is only informative */
	}
	*fd_out = fd;
	return 0;
}

static int ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

int engine_batch(const kiln_config *cfg, const engine_opts *o, engine_stats *st, char *err, size_t errsz)
{
	engine e = {.cfg = cfg, .opts = o, .st = st};
	int rc = 0, lock_fd = -1, log_fd = -1;
	const char *args_json[MAX_BUILDERS] = {0};
	char path[KILN_PATH_MAX];
	int64_t t0 = pool_now_ms();
	memset(st, 0, sizeof *st);
	hmap_init(&e.src_by_key);
	hmap_init(&e.src_by_id);
	hmap_init(&e.job_by_key);
	hmap_init(&e.job_by_id);
	hmap_init(&e.prod_by_path);
	hmap_init(&e.prod_by_job);
	hmap_init(&e.analysed);
	runq_init(&e.q);
	e.ar = arena_new();
	if (!e.ar)
		return -ENOMEM;
	if (cfg->n_builders > MAX_BUILDERS) {
		snprintf(err, errsz, "%s: at most %d builders are supported", cfg->file, MAX_BUILDERS);
		rc = KILN_E_CONFIG;
		goto out;
	}

	/* The cache's folders, the lock, the logs. */
	snprintf(path, sizeof path, "%s/logs/jobs", cfg->cache);
	if ((rc = path_mkdirs(path, 0755)) != 0) {
		snprintf(err, errsz, "cannot create %s: %s", path, strerror(-rc));
		goto out;
	}
	snprintf(e.logs_jobs, sizeof e.logs_jobs, "%s", path);
	if ((rc = lock_cache(cfg, &lock_fd, err, errsz)) != 0)
		goto out;
	snprintf(path, sizeof path, "%s/logs/kiln.log", cfg->cache);
	klog_open(path);
	log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	klog(KLOG_INFO, "batch on %s (%s; hashing with %s)", cfg->root, cfg->file, hash_impl_name());
	snprintf(e.cache_tmp, sizeof e.cache_tmp, "%s/tmp", cfg->cache);
	path_rmtree(e.cache_tmp);
	path_mkdirs(e.cache_tmp, 0700);

	snprintf(path, sizeof path, "%s/assetdb.sqlite", cfg->cache);
	if ((rc = db_open(path, false, &e.db, err, errsz)) != 0)
		goto out;

	/* Compile the excludes once for the whole walk. */
	e.excludes = arena_alloc(e.ar, (cfg->n_excludes + 1) * sizeof *e.excludes);
	for (size_t i = 0; i < cfg->n_excludes; i++) {
		if (regex_compile(cfg->excludes[i], &e.excludes[e.n_excludes], err, errsz) == 0)
			e.n_excludes++;
	}

	/* Builders */
	e.nb = cfg->n_builders;
	for (size_t i = 0; i < e.nb; i++) {
		ebuilder *b = &e.b[i];
		b->cfg = &cfg->builders[i];
		snprintf(b->key, sizeof b->key, "b%zu", i);
		b->hp.key = b->key;
		b->hp.exec = b->cfg->exec_abs;
		b->hp.args.items = (const char **)b->cfg->args;
		b->hp.args.n = b->cfg->n_args;
		b->hp.persistent = b->cfg->persistent;
		b->hp.timeout_s = b->cfg->timeout_s;
		b->hp.memory_mb = b->cfg->memory_mb;
		args_json[i] = json_str_array(b->cfg->args, b->cfg->n_args);
	}

	char host_exe[KILN_PATH_MAX];
	snprintf(host_exe, sizeof host_exe, "%s/kiln-builder-host", o->self_dir);
	int n_hosts = o->hosts > 0 ? o->hosts : cfg->hosts > 0 ? cfg->hosts : ncpu();
	pool_cb cb = {.on_log = cb_log, .on_reply = cb_reply, .on_lost = cb_lost, .on_signal = cb_signal, .ud = &e};
	if ((rc = pool_new(host_exe, e.cache_tmp, e.cache_tmp, log_fd, n_hosts, &cb, &e.pool)) != 0) {
		snprintf(err, errsz, "cannot set up builder hosts: %s", kiln_strerror(rc));
		goto out;
	}

	int64_t t1 = pool_now_ms();
	if ((rc = phase_describe(&e, args_json)) != 0)
		goto out;
	if ((rc = load_sources(&e)) != 0 || (rc = load_jobs_and_products(&e)) != 0) {
		snprintf(err, errsz, "reading the database: %s", db_errmsg(e.db));
		goto out;
	}
	if ((rc = phase_scan(&e)) != 0) {
		snprintf(err, errsz, "scanning: %s", kiln_strerror(rc));
		goto out;
	}
	int64_t t2 = pool_now_ms();
	klog(KLOG_INFO, "scan: %zu files, %zu sources, %zu hashed, %zu deleted in %lld ms", st->scanned, st->sources,
	     st->hashed, st->deleted, (long long)(t2 - t1));
	if ((rc = phase_analyse(&e)) != 0)
		goto out;
	int64_t t3 = pool_now_ms();
	klog(KLOG_INFO, "analysis: %zu create_jobs calls in %lld ms", st->analysed, (long long)(t3 - t2));
	if (!e.stop && (rc = phase_process(&e)) != 0)
		goto out;
	klog(KLOG_INFO, "processing: %zu jobs in %lld ms", st->jobs, (long long)(pool_now_ms() - t3));

	/* Builder metrics, one statement per builder. */
	begin(&e);
	for (size_t i = 0; i < e.nb; i++) {
		ebuilder *b = &e.b[i];
		if (!b->ok || (!b->cj_n && !b->pj_n))
			continue;
		sqlite3_stmt *s = db_stmt_get(e.db, DBS_BUILDER_METRICS);
		sqlite3_bind_int64(s, 1, b->db_id);
		sqlite3_bind_int64(s, 2, (int64_t)b->cj_n);
		sqlite3_bind_int64(s, 3, (int64_t)b->cj_us);
		sqlite3_bind_int64(s, 4, (int64_t)b->pj_n);
		sqlite3_bind_int64(s, 5, (int64_t)b->pj_us);
		db_step_done(e.db, s);
	}
	maybe_commit(&e, true);

	/* The failed jobs, after the summary (which main prints last on
	 * stdout), go to stderr. */
	for (size_t i = 0; i < e.n_failed; i++) {
		ejob *j = &e.jobs[e.failed[i]];
		sqlite3_stmt *q = NULL;
		const char *reason = "failed", *log = "";
		if (sqlite3_prepare_v2(e.db->h, "SELECT reason, log FROM jobs WHERE id = ?1", -1, &q, NULL) ==
		    SQLITE_OK) {
			sqlite3_bind_int64(q, 1, j->id);
			if (sqlite3_step(q) == SQLITE_ROW) {
				reason = arena_strdup(e.ar, sqlite3_column_text(q, 0) ? (const char *)sqlite3_column_text(q, 0)
										     : "failed");
				log = arena_strdup(e.ar, sqlite3_column_text(q, 1) ? (const char *)sqlite3_column_text(q, 1)
										  : "");
			}
		}
		sqlite3_finalize(q);
		char *line = NULL;
		if (asprintf(&line, "FAILED %s/%s  builder=%s platform=%s job=%s reason=%s log=%s",
			     folder_abs(&e, &e.src[j->src]), e.src[j->src].rel,
			     j->builder >= 0 ? e.b[j->builder].name : "?", j->platform, j->job_key, reason, log) < 0)
			continue;
		char **nl = realloc(st->failed_lines, (st->n_failed_lines + 1) * sizeof *nl);
		if (!nl) {
			free(line);
			continue;
		}
		st->failed_lines = nl;
		st->failed_lines[st->n_failed_lines++] = line;
	}
	if (e.stop)
		klog(KLOG_WARN, "batch stopped by a signal; unfinished jobs run next time");
out:
	if (e.db && e.db->in_txn)
		db_commit(e.db);
	pool_free(e.pool);
	st->seconds = (double)(pool_now_ms() - t0) / 1000.0;
	free(e.failed);
	for (size_t i = 0; i < e.nb; i++)
		free((void *)args_json[i]);
	for (size_t i = 0; i < e.nb; i++)
		for (size_t k = 0; e.b[i].pats && k < e.b[i].n_patterns; k++)
			pattern_free(e.b[i].pats[k]);
	for (size_t i = 0; i < e.n_excludes; i++)
		pattern_free(e.excludes[i]);
	for (size_t i = 0; i < e.n_runs; i++) {
		if (e.runs[i].active && e.runs[i].kind == RUN_PROCESS)
			joblog_close(&e.runs[i].log);
		free(e.runs[i].items);
	}
	free(e.runs);
	free(e.src);
	free(e.jobs);
	free(e.prods);
	free(e.analysis_fp);
	free(e.aq);
	hmap_free(&e.src_by_key);
	hmap_free(&e.src_by_id);
	hmap_free(&e.job_by_key);
	hmap_free(&e.job_by_id);
	hmap_free(&e.prod_by_path);
	hmap_free(&e.prod_by_job);
	hmap_free(&e.analysed);
	runq_free(&e.q);
	db_close(e.db);
	if (log_fd >= 0)
		close(log_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	klog_close();
	arena_free(e.ar);
	return rc;
}

void engine_stats_free(engine_stats *st)
{
	for (size_t i = 0; i < st->n_failed_lines; i++)
		free(st->failed_lines[i]);
	free(st->failed_lines);
	st->failed_lines = NULL;
	st->n_failed_lines = 0;
}
