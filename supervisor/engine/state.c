/* state.c: the engine's records and their rows: helpers, jobs, products,
 * loading what the database holds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/engine_priv.h"
#include "hash.h"
#include "kerr.h"
#include "engine/prescan.h"
#include "klog.h"
#include "uuid.h"

int eng_grow(void **arr, size_t *cap, size_t n, size_t elem)
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

void eng_maybe_commit(engine *e, bool force)
{
	int64_t now = pool_now_ms();
	if (!e->db->in_txn)
		return;
	if (force || now - e->last_commit >= COMMIT_MS) {
		int crc = db_commit(e->db);
		if (crc != 0 && e->db->in_txn && (e->db->last_errcode & 0xff) == SQLITE_FULL &&
		    joblog_release_ballast()) {
			/* The disk filled while jobs ran: the space set aside at
			 * start lets the transaction through. */
			klog(KLOG_WARN, "disk full: using the space set aside in Cache/logs to commit");
			e->db->commit_failed = false;
			crc = db_commit(e->db);
		}
		if (crc != 0) {
			klog(KLOG_WARN, "database commit failed: %s", db_errmsg(e->db));
			if (e->db->commit_failed && !e->stop) {
				/* What the transaction held is lost: no more jobs
				 * now; those it recorded run again next time. */
				klog(KLOG_ERROR, "stopping: results can no longer be recorded");
				e->stop = true;
			}
		}
		e->last_commit = now;
	}
}

int eng_begin(engine *e)
{
	if (e->db->in_txn)
		return 0;
	int rc = db_begin(e->db);
	if (rc)
		return rc;
	if (!e->last_commit)
		e->last_commit = pool_now_ms();
	return 0;
}

const char *eng_folder_abs(engine *e, const esource *s)
{
	if (s->folder == FOLDER_INTERMEDIATE)
		return e->inter_dir;
	return s->folder >= 0 ? e->cfg->folders[s->folder].abs : "";
}

bool eng_platform_selected(engine *e, const char *platform)
{
	if (!e->opts->platforms)
		return true;
	for (const char *const *p = e->opts->platforms; *p; p++)
		if (strcmp(*p, platform) == 0)
			return true;
	return false;
}

bool eng_folder_has_platform(engine *e, int32_t folder, const char *platform)
{
	bool in_project = false;
	for (size_t i = 0; i < e->cfg->n_platforms; i++)
		if (strcmp(e->cfg->platforms[i], platform) == 0)
			in_project = true;
	if (folder == FOLDER_INTERMEDIATE)
		return in_project;
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

const char *eng_job_key(char *buf, size_t sz, size_t src, int builder, const char *key, const char *platform)
{
	snprintf(buf, sz, "%zu\x1f%d\x1f%s\x1f%s", src, builder, key, platform);
	return buf;
}

/* The by-path map of a platform; made when create is set. NULL when there
 * is none (or no memory). Platforms are few: a linear search. */
static hmap *prod_map(engine *e, const char *platform, bool create)
{
	for (size_t i = 0; i < e->n_prod_maps; i++)
		if (strcmp(e->prod_maps[i].platform, platform) == 0)
			return &e->prod_maps[i].by_path;
	if (!create)
		return NULL;
	struct eprodmap *nm = realloc(e->prod_maps, (e->n_prod_maps + 1) * sizeof *nm);
	if (!nm)
		return NULL;
	e->prod_maps = nm;
	struct eprodmap *m = &nm[e->n_prod_maps++];
	m->platform = eng_intern(e, platform);
	hmap_init(&m->by_path);
	return &m->by_path;
}

bool eng_product_find(engine *e, const char *platform, const char *path, size_t *pi)
{
	hmap *m = prod_map(e, platform, false);
	return m && hmap_get(m, path, pi);
}

void eng_product_unmap(engine *e, const eproduct *p)
{
	hmap *m = prod_map(e, p->platform, false);
	if (m)
		hmap_del(m, p->path);
}

/* Room for n products in each configured platform's map. */
static void reserve_products(engine *e, size_t n)
{
	for (size_t i = 0; i < e->cfg->n_platforms; i++) {
		hmap *m = prod_map(e, e->cfg->platforms[i], true);
		if (m)
			hmap_reserve(m, n);
	}
}

void eng_product_file(engine *e, const eproduct *p, char *out, size_t outsz)
{
	if (p->intermediate)
		snprintf(out, outsz, "%s/intermediate/%s", e->cfg->cache, p->path);
	else
		snprintf(out, outsz, "%s/%s/%s", e->cfg->cache, p->platform, p->path);
}

void eng_full_path(engine *e, const esource *s, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%s", eng_folder_abs(e, s), s->rel);
}

uint8_t eng_reason_code(const char *reason)
{
	for (size_t i = 0; reason && i < sizeof db_reasons / sizeof db_reasons[0]; i++)
		if (strcmp(db_reasons[i], reason) == 0)
			return (uint8_t)(i + 1);
	return 1;
}

const char *eng_src_key(engine *e, size_t si)
{
	esource *s = &e->src[si];
	if (!s->key) {
		char *k = arena_strdup(e->ar, s->rel);
		if (!k)
			return s->rel; /* no memory: the case differs, nothing else */
		path_lower(k);
		s->key = k;
	}
	return s->key;
}

/* Parses the JSON form of a job's job dependencies into j->jdeps. */
void eng_job_set_jdeps_json(engine *e, size_t ji, const char *js)
{
	ejob *j = &e->jobs[ji];
	json_t *a = json_loads(js, 0, NULL);
	size_t n = json_is_array(a) ? json_array_size(a) : 0;
	j->jdeps = n ? arena_alloc(e->ar, n * sizeof *j->jdeps) : NULL;
	j->n_jdeps = 0;
	j->jdeps_json = n ? arena_strdup(e->ar, js) : NULL;
	for (size_t i = 0; j->jdeps && i < n; i++) {
		json_t *o = json_array_get(a, i);
		ejdep *d = &j->jdeps[j->n_jdeps];
#define JS(k)                                                                                                \
	(json_is_string(json_object_get(o, k))                                                               \
	     ? arena_strdup(e->ar, json_string_value(json_object_get(o, k)))                                 \
	     : NULL)
		d->path = JS("path");
		d->uuid = JS("uuid");
		d->job_key = JS("job_key");
		d->platform = JS("platform");
#undef JS
		d->fingerprint = json_is_true(json_object_get(o, "fingerprint"));
		if (d->path || d->uuid)
			j->n_jdeps++;
	}
	json_decref(a);
	if (j->n_jdeps) {
		bool listed = false;
		for (size_t i = 0; i < e->jdep_jobs.n; i++)
			listed |= e->jdep_jobs.items[i] == ji;
		if (!listed)
			eng_evec_push(&e->jdep_jobs, ji);
	}
}

ejob *eng_job_add(engine *e, size_t src, int builder, const char *key, const char *platform, size_t *idx_out)
{
	if (eng_grow((void **)&e->jobs, &e->cap_jobs, e->n_jobs, sizeof *e->jobs) != 0)
		return NULL;
	ejob *j = &e->jobs[e->n_jobs];
	memset(j, 0, sizeof *j);
	j->src = src;
	j->builder = builder;
	j->job_key = eng_intern(e, key);
	j->platform = eng_intern(e, platform);
	j->params = "{}";
	j->first_prod = NONE;
	j->next_in_src = e->src[src].first_job;
	e->src[src].first_job = e->n_jobs;
	*idx_out = e->n_jobs;
	e->n_jobs++;
	return j;
}

void eng_products_delete(engine *e, int64_t job_id, const hmap *keep_subids)
{
	size_t i = NONE, ji;
	if (!eng_job_by_id(e, job_id, &ji))
		return;
	i = e->jobs[ji].first_prod;
	for (; i != NONE; i = e->prods[i].next_in_job) {
		eproduct *p = &e->prods[i];
		if (p->deleted)
			continue;
		if (keep_subids && hmap_get_int(keep_subids, p->sub_id, NULL))
			continue;
		char f[KILN_PATH_MAX];
		eng_product_file(e, p, f, sizeof f);
		if (unlink(f) == 0)
			path_prune_empty_parents(f, e->cfg->cache);
		eng_begin(e);
		sqlite3_stmt *s = db_stmt_get(e->db, DBS_PRODUCT_DELETE);
		db_bind_int64(s, 1, p->id);
		db_step_done(e->db, s);
		eng_product_unmap(e, p);
		p->deleted = true;
		e->catalog_dirty = true;
		size_t pj;
		if (e->live && eng_job_by_id(e, job_id, &pj))
			eng_emit_product(e, "removed", e->jobs[pj].src, p->sub_id, p->platform, p->path);
		if (p->intermediate) {
			/* An intermediate product is also a source: it goes with
			 * everything made from it. */
			size_t si;
			char *k = arena_printf(e->ar, "intermediate:%s", p->path);
			if (hmap_get(&e->src_by_key, k, &si))
				eng_source_delete(e, si);
		}
	}
}

void eng_job_delete(engine *e, ejob *j)
{
	if (j->deleted)
		return;
	if (j->id) {
		eng_products_delete(e, j->id, NULL);
		eng_begin(e);
		sqlite3_stmt *s = db_stmt_get(e->db, DBS_JOB_DELETE);
		db_bind_int64(s, 1, j->id);
		db_step_done(e->db, s);
	}
	j->deleted = true;
}

void eng_job_upsert_row(engine *e, ejob *j)
{
	esource *s = &e->src[j->src];
	eng_begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_UPSERT);
	db_bind_int64(st, 1, s->id);
	db_bind_int64(st, 2, e->b[j->builder].db_id);
	db_bind_text(st, 3, j->job_key);
	db_bind_text(st, 4, j->platform);
	db_bind_int64(st, 5, j->critical);
	db_bind_int64(st, 6, j->priority);
	db_bind_text(st, 7, j->params);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (!j->id) {
			j->id = id;
		}
	} else {
		klog(KLOG_WARN, "storing job %s/%s: %s", s->rel, j->job_key, db_errmsg(e->db));
	}
	sqlite3_reset(st);
}

/* Sizes arrays and maps once from the row counts: no regrowth while
 * loading 100,000 rows, and no doubling slack left over afterwards. */
static void reserve(engine *e)
{
	sqlite3_stmt *s = NULL;
	int64_t n[3] = {0, 0, 0};
	if (sqlite3_prepare_v2(e->db->h,
	                       "SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM jobs),"
	                       " (SELECT count(*) FROM products)",
	                       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		for (int i = 0; i < 3; i++)
			n[i] = sqlite3_column_int64(s, i);
	sqlite3_finalize(s);
	size_t ns = (size_t)n[0] + 64, nj = (size_t)n[1] + 64, np = (size_t)n[2] + 64;
	esource *xs = realloc(e->src, ns * sizeof *xs);
	if (xs) {
		e->src = xs;
		e->cap_src = ns;
	}
	ejob *xj = realloc(e->jobs, nj * sizeof *xj);
	if (xj) {
		e->jobs = xj;
		e->cap_jobs = nj;
	}
	eproduct *xp = realloc(e->prods, np * sizeof *xp);
	if (xp) {
		e->prods = xp;
		e->cap_prods = np;
	}
	hmap_reserve(&e->src_by_key, ns);
	reserve_products(e, e->cfg->n_platforms ? np / e->cfg->n_platforms + 64 : np);
}

static int load_sources(engine *e)
{
	sqlite3_stmt *s = NULL;
	int rc = KILN_E_DB;
	reserve(e);
	if (sqlite3_prepare_v2(
	        e->db->h,
	        "SELECT id, uuid, scan_folder, path, size, mtime_ns, hash, intermediate, origin_job, chain"
	        " FROM sources ORDER BY id",
	        -1, &s, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (eng_grow((void **)&e->src, &e->cap_src, e->n_src, sizeof *e->src) != 0) {
			rc = -ENOMEM;
			goto out;
		}
		esource *x = &e->src[e->n_src];
		memset(x, 0, sizeof *x);
		x->first_job = NONE;
		x->first_dep = NONE;
		x->afp_b = -1;
		x->id = sqlite3_column_int64(s, 0);
		snprintf(x->uuid, sizeof x->uuid, "%s", (const char *)sqlite3_column_text(s, 1));
		const char *folder = (const char *)sqlite3_column_text(s, 2);
		x->folder = -1;
		for (size_t f = 0; f < e->cfg->n_folders; f++)
			if (strcmp(e->cfg->folders[f].abs, folder) == 0)
				x->folder = (int32_t)f;
		x->rel = arena_strdup(e->ar, (const char *)sqlite3_column_text(s, 3));
		x->key = x->rel; /* shared while the path is lowercase */
		for (const char *c = x->rel; *c; c++) {
			if (*c >= 'A' && *c <= 'Z') {
				x->key = NULL; /* made by eng_src_key when asked */
				break;
			}
		}
		x->size = (uint64_t)sqlite3_column_int64(s, 4);
		x->mtime = sqlite3_column_int64(s, 5);
		x->hash = (uint64_t)sqlite3_column_int64(s, 6);
		if (sqlite3_column_int(s, 7)) {
			x->intermediate = true;
			x->folder = FOLDER_INTERMEDIATE;
			x->key = arena_printf(e->ar, "intermediate:%s", x->rel);
			path_lower(x->key);
			x->origin_job = sqlite3_column_int64(s, 8);
			json_t *ch = json_loads(
			    sqlite3_column_text(s, 9) ? (const char *)sqlite3_column_text(s, 9) : "[]", 0,
			    NULL);
			size_t k;
			json_t *v;
			json_array_foreach(ch, k, v)
			{
				for (size_t bi = 0; bi < e->nb; bi++)
					if (e->b[bi].ok && json_is_string(v) &&
					    strcmp(e->b[bi].uuid, json_string_value(v)) == 0)
						x->chain |= 1ULL << bi;
				if (x->chain_len < UINT8_MAX)
					x->chain_len++;
			}
			json_decref(ch);
		}
		hmap_put(&e->src_by_key, eng_src_mapkey(x), e->n_src);
		e->n_src++;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int eng_builder_index(engine *e, int64_t id)
{
	/* A builder disabled for the run has its row too: its jobs load (and
	 * are never run), so that nothing of it is lost. */
	for (size_t i = 0; i < e->nb; i++)
		if ((e->b[i].ok || e->b[i].disabled_matching) && e->b[i].db_id == id)
			return (int)i;
	return -1;
}

static int load_jobs_and_products(engine *e)
{
	sqlite3_stmt *s = NULL;
	int rc = KILN_E_DB;
	if (sqlite3_prepare_v2(
	        e->db->h,
	        "SELECT id, source_id, builder_id, job_key, platform, critical, priority, params,"
	        " fingerprint, status, requested, escalated, fp_parts, job_deps FROM jobs ORDER BY id",
	        -1, &s, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		size_t si;
		if (!eng_source_by_id(e, sqlite3_column_int64(s, 1), &si))
			continue;
		int bi = eng_builder_index(e, sqlite3_column_int64(s, 2));
		size_t ji;
		ejob *j = eng_job_add(e, si, bi, (const char *)sqlite3_column_text(s, 3),
		                      (const char *)sqlite3_column_text(s, 4), &ji);
		if (!j) {
			rc = -ENOMEM;
			goto out;
		}
		j->id = sqlite3_column_int64(s, 0);
		j->critical = sqlite3_column_int(s, 5);
		j->priority = sqlite3_column_int64(s, 6);
		j->params = eng_intern(e, (const char *)sqlite3_column_text(s, 7));
		j->has_fp = sqlite3_column_type(s, 8) != SQLITE_NULL;
		j->fp = (uint64_t)sqlite3_column_int64(s, 8);
		j->status = status_index((const char *)sqlite3_column_text(s, 9));
		j->requested = sqlite3_column_int(s, 10);
		j->escalated = sqlite3_column_int(s, 11);
		j->analysis_failure = strcmp(j->job_key, "create_jobs") == 0 && j->status == ST_FAILED;
		if (sqlite3_column_text(s, 13))
			eng_job_set_jdeps_json(e, ji, (const char *)sqlite3_column_text(s, 13));
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(e->db->h,
	                       "SELECT id, job_id, sub_id, platform, path, intermediate FROM products", -1,
	                       &s, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		bool inter = sqlite3_column_int(s, 5);
		eng_product_remember(e, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
		                     (uint32_t)sqlite3_column_int64(s, 2),
		                     inter ? "intermediate" : (const char *)sqlite3_column_text(s, 3),
		                     (const char *)sqlite3_column_text(s, 4), inter);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(e->db->h, "SELECT source_id, builder_id, fingerprint FROM analyses", -1, &s,
	                       NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(s) == SQLITE_ROW) {
		size_t si;
		int bi = eng_builder_index(e, sqlite3_column_int64(s, 1));
		if (bi >= 0 && eng_source_by_id(e, sqlite3_column_int64(s, 0), &si))
			eng_analysis_set(e, si, bi, (uint64_t)sqlite3_column_int64(s, 2));
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

void eng_product_remember(engine *e, int64_t pid, int64_t job_id, uint32_t sub_id, const char *plat,
                          const char *path, bool intermediate)
{
	size_t known;
	hmap *m = prod_map(e, plat, true);
	if (!m)
		return;
	if (hmap_get(m, path, &known) && !e->prods[known].deleted && e->prods[known].job_id == job_id) {
		e->prods[known].sub_id = sub_id;
		e->prods[known].id = pid;
		return;
	}
	if (eng_grow((void **)&e->prods, &e->cap_prods, e->n_prods, sizeof *e->prods) != 0)
		return;
	size_t ji;
	bool have_job = eng_job_by_id(e, job_id, &ji);
	/* A product at its source's own path (products are lowercased, so:
	 * at its key) shares that string; arena strings live as long as the
	 * engine. */
	char *own = NULL;
	if (have_job) {
		size_t si = e->jobs[ji].src;
		if (strcmp(e->src[si].rel, path) == 0)
			own = e->src[si].rel;
		else if (strcasecmp(e->src[si].rel, path) == 0 && strcmp(eng_src_key(e, si), path) == 0)
			own = e->src[si].key;
	}
	char *p = own ? own : arena_strdup(e->ar, path);
	if (!p)
		return;
	eproduct *np = &e->prods[e->n_prods];
	np->id = pid;
	np->job_id = job_id;
	np->sub_id = sub_id;
	np->platform = eng_intern(e, plat);
	np->path = p;
	np->intermediate = intermediate;
	np->deleted = false;
	np->next_in_job = NONE;
	if (have_job) {
		np->next_in_job = e->jobs[ji].first_prod;
		e->jobs[ji].first_prod = e->n_prods;
	}
	hmap_put(m, p, e->n_prods);
	e->n_prods++;
}

void eng_note_failed(engine *e, size_t ji)
{
	if (eng_grow((void **)&e->failed, &e->cap_failed, e->n_failed, sizeof *e->failed) == 0)
		e->failed[e->n_failed++] = ji;
}

/* A job whose product is gone from the cache must run again. The cache is
 * listed once (readdir, no stat per file; on the batch's walk thread when
 * there is one) and each product looked up in the listing. */
static void check_products_present(engine *e)
{
	cache_listing own = {0}, *cl = NULL;
	if (e->pre && e->pre->started) {
		prescan_join(e->pre);
		if (e->pre->list_rc == 0)
			cl = &e->pre->cl;
	} else if (cache_list(e->cfg, &own) == 0) {
		cl = &own;
	}
	for (size_t i = 0; i < e->n_prods; i++) {
		eproduct *p = &e->prods[i];
		if (p->deleted)
			continue;
		int has = cl ? cache_listing_has(cl, p->platform, p->path) : -1;
		if (has < 0) {
			char f[KILN_PATH_MAX];
			struct stat st;
			eng_product_file(e, p, f, sizeof f);
			has = stat(f, &st) == 0;
		}
		if (has)
			continue;
		size_t ji;
		if (eng_job_by_id(e, p->job_id, &ji))
			e->jobs[ji].product_missing = true;
	}
	if (cl == &own)
		cache_listing_free(&own);
}

int eng_load(engine *e)
{
	int rc = load_sources(e);
	if (rc == 0)
		rc = load_jobs_and_products(e);
	if (rc == 0)
		rc = eng_deps_load(e);
	if (rc == 0)
		check_products_present(e);
	return rc;
}

/* ---- events for hot reload (live mode sets e->publish) ---- */

void eng_emit_job(engine *e, size_t ji)
{
	if (!e->publish)
		return;
	ejob *j = &e->jobs[ji];
	const char *st = j->begun                                ? "processing"
	                 : j->running || j->queued || j->waiting ? "pending"
	                                                         : db_statuses[j->status];
	json_t *o =
	    json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)j->id, "source", e->src[j->src].rel,
	              "platform", j->platform, "job_key", j->job_key, "status", st);
	if (o)
		json_object_set_new(o, "reason",
		                    j->status == ST_FAILED && j->fail_reason
		                        ? json_string(db_reasons[j->fail_reason - 1])
		                        : json_null());
	e->publish(e, "job", o);
	json_decref(o);
}

void eng_emit_product(engine *e, const char *event, size_t si, uint32_t sub_id, const char *platform,
                      const char *path)
{
	if (!e->publish)
		return;
	char aid[64];
	snprintf(aid, sizeof aid, "{%s}:%x", si != NONE ? e->src[si].uuid : "", sub_id);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "event", event, "asset_id", aid, "platform", platform,
	                      "path", path);
	e->publish(e, "product", o);
	json_decref(o);
}

/* ---- lookups without maps of their own ---- */

bool eng_job_by_id(engine *e, int64_t id, size_t *ji)
{
	size_t lo = 0, hi = e->n_jobs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->jobs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A reused id (the last row deleted, a new one added) appears twice:
	 * the live one wins. */
	size_t found = NONE;
	for (size_t i = lo; i < e->n_jobs && e->jobs[i].id == id; i++) {
		found = i;
		if (!e->jobs[i].deleted)
			break;
	}
	if (found == NONE)
		return false;
	*ji = found;
	return true;
}

size_t eng_job_find(engine *e, size_t si, int bi, const char *key, const char *platform)
{
	size_t dead = NONE;
	for (size_t ji = e->src[si].first_job; ji != NONE; ji = e->jobs[ji].next_in_src) {
		ejob *j = &e->jobs[ji];
		if (j->builder != bi || strcmp(j->job_key, key) != 0 || strcmp(j->platform, platform) != 0)
			continue;
		if (!j->deleted)
			return ji;
		dead = ji;
	}
	return dead;
}

bool eng_analysis_get(engine *e, size_t si, int bi, uint64_t *fp)
{
	esource *s = &e->src[si];
	if (s->afp_b == bi) {
		*fp = s->afp;
		return true;
	}
	size_t ai;
	if (!hmap_get_int(&e->analysed, eng_analysis_key(s, &e->b[bi]), &ai))
		return false;
	*fp = e->analysis_fp[ai];
	return true;
}

void eng_analysis_set(engine *e, size_t si, int bi, uint64_t fp)
{
	esource *s = &e->src[si];
	if (s->afp_b < 0 || s->afp_b == bi) {
		s->afp_b = (int8_t)bi;
		s->afp = fp;
		return;
	}
	size_t ai;
	int64_t k = eng_analysis_key(s, &e->b[bi]);
	if (hmap_get_int(&e->analysed, k, &ai)) {
		e->analysis_fp[ai] = fp;
		return;
	}
	if (eng_grow((void **)&e->analysis_fp, &e->cap_afp, e->n_afp, sizeof *e->analysis_fp) != 0)
		return;
	e->analysis_fp[e->n_afp] = fp;
	hmap_put_int(&e->analysed, k, e->n_afp);
	e->n_afp++;
}

void eng_uuid_map_put(engine *e, size_t si)
{
	if (e->uuid_map)
		hmap_put(&e->src_by_uuid, e->src[si].uuid, si);
}

void eng_uuid_map_del(engine *e, size_t si)
{
	if (e->uuid_map)
		hmap_del(&e->src_by_uuid, e->src[si].uuid);
}

/* The UUID map is built the first time something asks by UUID: most
 * projects never do, and it costs a slot per source. */
size_t eng_source_by_uuid(engine *e, const char *uuid)
{
	size_t si;
	if (!e->uuid_map) {
		for (size_t i = 0; i < e->n_src; i++)
			if (e->src[i].on_disk || e->src[i].id)
				hmap_put(&e->src_by_uuid, e->src[i].uuid, i);
		e->uuid_map = true;
	}
	if (!hmap_get(&e->src_by_uuid, uuid, &si) || !e->src[si].on_disk)
		return NONE;
	return si;
}

/* Writes a failed job's row: reason, counts from its log, times; with
 * keep_fp, the fingerprint it failed with (a failed run keeps the products
 * of the last good one, and its own print says what it tried). */
void eng_job_fail_row(engine *e, const ejob *j, const char *reason, const joblog *log, int64_t now,
                      int64_t duration_ms, bool keep_fp)
{
	eng_begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_JOB_FINISH_FAIL);
	db_bind_int64(st, 1, j->id);
	db_bind_text(st, 2, reason);
	db_bind_int64(st, 3, log->warnings);
	db_bind_int64(st, 4, log->errors);
	db_bind_int64(st, 5, now);
	db_bind_int64(st, 6, duration_ms);
	db_bind_text(st, 7, log->path);
	if (keep_fp)
		db_bind_int64(st, 8, (int64_t)j->new_fp);
	else
		db_bind_null(st, 8);
	db_step_done(e->db, st);
}

/* Job keys, platforms and params repeat across thousands of jobs: one copy
 * of each is kept. Long strings are not worth a map entry and are copied. */
char *eng_intern(engine *e, const char *str)
{
	size_t i;
	if (!str)
		str = "";
	if (strlen(str) > 200)
		return arena_strdup(e->ar, str);
	if (hmap_get(&e->interned, str, &i))
		return e->intern_strs[i];
	if (eng_grow((void **)&e->intern_strs, &e->cap_intern, e->n_intern, sizeof *e->intern_strs) != 0)
		return arena_strdup(e->ar, str);
	char *c = arena_strdup(e->ar, str);
	if (!c)
		return NULL;
	e->intern_strs[e->n_intern] = c;
	hmap_put(&e->interned, c, e->n_intern);
	e->n_intern++;
	return c;
}

void eng_reserve_for(engine *e, size_t sources, size_t jobs)
{
	size_t ns = e->n_src + sources + 64, nj = e->n_jobs + jobs + 64;
	if (ns > e->cap_src) {
		esource *x = realloc(e->src, ns * sizeof *x);
		if (x) {
			e->src = x;
			e->cap_src = ns;
		}
	}
	if (nj > e->cap_jobs) {
		ejob *x = realloc(e->jobs, nj * sizeof *x);
		if (x) {
			e->jobs = x;
			e->cap_jobs = nj;
		}
	}
	if (nj > e->cap_prods) {
		eproduct *x = realloc(e->prods, nj * sizeof *x);
		if (x) {
			e->prods = x;
			e->cap_prods = nj;
		}
	}
	hmap_reserve(&e->src_by_key, ns);
	reserve_products(e, ns);
}

/* Sources are in id order too (loaded by id, added with growing ids). */
bool eng_source_by_id(engine *e, int64_t id, size_t *si)
{
	size_t lo = 0, hi = e->n_src;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->src[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= e->n_src || e->src[lo].id != id)
		return false;
	*si = lo;
	return true;
}
