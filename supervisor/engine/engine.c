/* engine.c: the engine's loop and `kiln batch`. */
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
#include "engine/prescan.h"
#include "klog.h"
#include "uuid.h"
#include "engine/scan.h"
#include <sys/file.h>

erun *eng_run_new(engine *e, run_kind kind, int builder)
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

erun *eng_run_find(engine *e, uint64_t id)
{
	for (size_t i = 0; i < e->n_runs; i++)
		if (e->runs[i].active && e->runs[i].id == id)
			return &e->runs[i];
	return NULL;
}

void eng_run_end(erun *r)
{
	free(r->items);
	r->items = NULL;
	r->active = false;
}

static void cb_log(void *ud, uint64_t id, const hp_log *log)
{
	engine *e = ud;
	erun *r = eng_run_find(e, id);
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
	erun *r = eng_run_find(e, id);
	if (!r)
		return;
	switch (r->kind) {
	case RUN_DESCRIBE:
		eng_on_describe_reply(e, r, rep);
		break;
	case RUN_ANALYSE:
		eng_on_analyse_reply(e, r, rep);
		break;
	case RUN_PROCESS:
		eng_on_process_reply(e, r, rep);
		break;
	}
	eng_maybe_commit(e, false);
}

static void cb_begin(void *ud, uint64_t id, int host)
{
	engine *e = ud;
	erun *r = eng_run_find(e, id);
	if (!r)
		return;
	r->begun_ms = wall_ms();
	r->host = host;
	if (r->kind == RUN_PROCESS)
		eng_process_begun(e, r);
}

static void cb_lost(void *ud, uint64_t id, uint32_t first_idx, const char *detail)
{
	engine *e = ud;
	erun *r = eng_run_find(e, id);
	if (!r)
		return;
	if (r->kind == RUN_PROCESS) {
		eng_process_lost(e, r, detail);
	} else if (r->kind == RUN_ANALYSE) {
		eng_analysis_lost(e, r, first_idx, detail);
	} else {
		hp_reply rep = {.id = id, .idx = first_idx, .status = HP_CRASHED, .detail = detail};
		eng_on_describe_reply(e, r, &rep);
	}
	eng_maybe_commit(e, false);
}

/* A host tells how a persistent builder fares: backing off after crashes,
 * given up, or well again. The state shows in kiln builders (as the
 * builder's disabled_reason while given up) and in the log. */
static void cb_builder(void *ud, int host, const hp_bnote *n)
{
	engine *e = ud;
	int bi = -1;
	for (size_t i = 0; i < e->nb; i++)
		if (strcmp(e->b[i].key, n->key) == 0)
			bi = (int)i;
	if (bi < 0)
		return;
	ebuilder *b = &e->b[bi];
	klog(n->state == HP_BSTATE_GIVEN_UP  ? KLOG_ERROR
	     : n->state == HP_BSTATE_BACKOFF ? KLOG_WARN
	                                     : KLOG_INFO,
	     "builder %s on host %d: %s%s%s", b->name ? b->name : b->cfg->exec, host,
	     hp_bstate_name(n->state), n->detail && *n->detail ? ": " : "", n->detail ? n->detail : "");
	bool was_given_up = b->restart_state == HP_BSTATE_GIVEN_UP;
	b->restart_state = n->state;
	free(b->restart_detail);
	b->restart_detail = n->detail ? strdup(n->detail) : NULL;
	if ((n->state == HP_BSTATE_GIVEN_UP) != was_given_up && b->db_id) {
		eng_begin(e);
		sqlite3_stmt *st = db_stmt_get(e->db, DBS_BUILDER_SET_ACTIVE);
		db_bind_int64(st, 1, b->db_id);
		db_bind_int64(st, 2, 1);
		db_bind_text(st, 3, n->state == HP_BSTATE_GIVEN_UP ? n->detail : NULL);
		db_step_done(e->db, st);
	}
	if (e->publish) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "name", b->name ? b->name : "", "state",
		                      hp_bstate_name(n->state), "detail", n->detail ? n->detail : "",
		                      "crashes", (json_int_t)n->crashes);
		e->publish(e, "builder", o);
		json_decref(o);
	}
}

static void cb_requeue(void *ud, uint64_t id)
{
	engine *e = ud;
	erun *r = eng_run_find(e, id);
	if (!r)
		return;
	if (r->kind == RUN_PROCESS)
		eng_process_requeue(e, r);
	else if (r->kind == RUN_ANALYSE)
		eng_analysis_requeue(e, r);
	else
		eng_on_describe_reply(e, r,
		                      &(hp_reply){.id = id, .status = HP_CRASHED, .detail = "host lost"});
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

bool eng_any_active(engine *e)
{
	for (size_t i = 0; i < e->n_runs; i++)
		if (e->runs[i].active)
			return true;
	return false;
}

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
		char *nl = strchr(pid, '\n');
		if (nl)
			*nl = 0;
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

static void progress(engine *e, bool final)
{
	if (!e->opts->progress)
		return;
	int64_t now = pool_now_ms();
	if (!final && now - e->progress_at < 100)
		return;
	e->progress_at = now;
	size_t done = e->st->completed + e->st->warnings + e->st->errors + e->st->failed;
	size_t total = done + runq_count(&e->q) + pool_busy(e->pool);
	fprintf(stderr, "\r\033[K[%zu/%zu] %zu failed, %zu create_jobs calls waiting", done, total,
	        e->st->failed, e->aq_total);
	if (final)
		fputs("\r\033[K", stderr);
	fflush(stderr);
}

void eng_close(engine *e)
{
	if (e->db && e->db->in_txn)
		db_commit(e->db);
	pool_free(e->pool);
	e->pool = NULL;
	for (size_t i = 0; i < e->nb; i++) {
		free(e->b[i].args_json);
		free(e->b[i].restart_detail);
		free(e->b[i].prev_ident);
		free(e->b[i].aq);
		for (size_t k = 0; e->b[i].pats && k < e->b[i].n_patterns; k++)
			pattern_free(e->b[i].pats[k]);
	}
	for (size_t i = 0; i < e->n_excludes; i++)
		pattern_free(e->excludes[i]);
	for (size_t i = 0; i < e->n_runs; i++) {
		if (e->runs[i].active && e->runs[i].kind == RUN_PROCESS)
			joblog_close(&e->runs[i].log);
		free(e->runs[i].items);
	}
	free(e->runs);
	free(e->slot_uses);
	free(e->src);
	for (size_t i = 0; i < e->n_jobs; i++)
		free(e->jobs[i].new_fp_parts);
	free(e->jobs);
	free(e->prods);
	free(e->analysis_fp);
	free(e->failed);
	hmap_free(&e->src_by_key);
	for (size_t i = 0; i < e->n_prod_maps; i++)
		hmap_free(&e->prod_maps[i].by_path);
	free(e->prod_maps);
	hmap_free(&e->analysed);
	hmap_free(&e->dep_rev);
	hmap_free(&e->interned);
	free(e->intern_strs);
	hmap_free(&e->side_by_owner);
	hmap_free(&e->src_by_uuid);
	for (size_t i = 0; i < e->n_rev; i++)
		free(e->rev[i].items);
	free(e->rev);
	for (size_t i = 0; i < e->n_deps; i++)
		pattern_free(e->deps[i].glob);
	free(e->deps);
	free(e->glob_deps.items);
	free(e->jdep_jobs.items);
	free(e->waiting.items);
	free(e->sidecars);
	eng_deps_free_plain();
	if (e->files) {
		scan_result_free(e->files);
		free(e->files);
	}
	runq_free(&e->q);
	db_close(e->db);
	e->db = NULL;
	if (e->log_fd >= 0)
		close(e->log_fd);
	if (e->lock_fd >= 0)
		close(e->lock_fd);
	klog_close();
	arena_free(e->ar);
}

/* Takes the cache (lock, folders, log, temp dirs), opens the database and
 * the host pool, and prepares the builders. */
int eng_open(engine *e, char *err, size_t errsz)
{
	const kiln_config *cfg = e->cfg;
	char path[KILN_PATH_MAX];
	int rc;
	e->lock_fd = e->log_fd = -1;
	hmap_init_fold(&e->src_by_key);
	hmap_init(&e->analysed);
	hmap_init(&e->dep_rev);
	hmap_init(&e->interned);
	hmap_init_fold(&e->side_by_owner);
	hmap_init(&e->src_by_uuid);
	runq_init(&e->q);
	snprintf(e->inter_dir, sizeof e->inter_dir, "%s/intermediate", cfg->cache);
	e->hash_all = e->opts->hash || cfg->scan_hash;
	e->max_products = cfg->max_products_per_job ? cfg->max_products_per_job : ENG_MAX_PRODUCTS;
	e->ar = arena_new();
	if (!e->ar)
		return -ENOMEM;
	if (cfg->n_builders > MAX_BUILDERS) {
		snprintf(err, errsz, "%s: at most %d builders are supported", cfg->file, MAX_BUILDERS);
		return KILN_E_CONFIG;
	}
	snprintf(path, sizeof path, "%s/logs/jobs", cfg->cache);
	if ((rc = path_mkdirs(path, 0755)) != 0) {
		snprintf(err, errsz, "cannot create %s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(e->logs_jobs, sizeof e->logs_jobs, "%s", path);
	snprintf(path, sizeof path, "%s/logs/.ballast", cfg->cache);
	joblog_set_ballast(path);
	if ((rc = lock_cache(cfg, &e->lock_fd, err, errsz)) != 0)
		return rc;
	snprintf(path, sizeof path, "%s/logs/kiln.log", cfg->cache);
	klog_open(path);
	e->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	klog(KLOG_INFO, "kiln on %s (%s; hashing with %s)", cfg->root, cfg->file, hash_impl_name());
	snprintf(e->cache_tmp, sizeof e->cache_tmp, "%s/tmp", cfg->cache);
	path_rmtree(e->cache_tmp);
	path_mkdirs(e->cache_tmp, 0700);

	snprintf(path, sizeof path, "%s/assetdb.sqlite", cfg->cache);
	if ((rc = db_open(path, false, &e->db, err, errsz)) != 0)
		return rc;

	e->excludes = arena_alloc(e->ar, (cfg->n_excludes + 1) * sizeof *e->excludes);
	for (size_t i = 0; i < cfg->n_excludes; i++)
		if (regex_compile(cfg->excludes[i], &e->excludes[e->n_excludes], err, errsz) == 0)
			e->n_excludes++;

	e->nb = cfg->n_builders;
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		b->cfg = &cfg->builders[i];
		snprintf(b->key, sizeof b->key, "b%zu", i);
		b->hp.key = b->key;
		b->hp.exec = b->cfg->exec_abs;
		/* An argument naming a file of the project (a script for an
		 * interpreter) is made absolute: builders run in their temp dir. */
		const char **args = arena_alloc(e->ar, (b->cfg->n_args + 1) * sizeof *args);
		for (size_t k = 0; args && k < b->cfg->n_args; k++) {
			const char *a = b->cfg->args[k];
			char full[KILN_PATH_MAX];
			struct stat ast;
			args[k] = a;
			if (a[0] != '/' && a[0] != '-' &&
			    snprintf(full, sizeof full, "%s/%s", cfg->root, a) > 0 && stat(full, &ast) == 0 &&
			    S_ISREG(ast.st_mode))
				args[k] = arena_strdup(e->ar, full);
		}
		b->hp.args.items = args ? args : (const char **)b->cfg->args;
		b->hp.args.n = b->cfg->n_args;
		b->hp.persistent = b->cfg->persistent;
		b->hp.timeout_s = b->cfg->timeout_s;
		b->hp.memory_mb = b->cfg->memory_mb;
		b->args_json = eng_json_str_array(b->cfg->args, b->cfg->n_args);
	}

	char host_exe[KILN_PATH_MAX];
	snprintf(host_exe, sizeof host_exe, "%s/kiln-builder-host", e->opts->self_dir);
	int n_hosts = e->opts->hosts > 0 ? e->opts->hosts : cfg->hosts > 0 ? cfg->hosts : ncpu();
	pool_cb cb = {.on_log = cb_log,
	              .on_reply = cb_reply,
	              .on_lost = cb_lost,
	              .on_signal = cb_signal,
	              .on_builder = cb_builder,
	              .on_requeue = cb_requeue,
	              .on_begin = cb_begin,
	              .ud = e};
	if ((rc = pool_new(host_exe, e->cache_tmp, e->cache_tmp, e->log_fd, n_hosts, &cb, &e->pool)) != 0) {
		snprintf(err, errsz, "cannot set up builder hosts: %s", kiln_strerror(rc));
		return rc;
	}
	return 0;
}

static bool analysis_in_flight(engine *e)
{
	for (size_t i = 0; i < e->n_runs; i++)
		if (e->runs[i].active && e->runs[i].kind == RUN_ANALYSE)
			return true;
	return false;
}

/* Sends out what can go now: create_jobs calls first (they unlock jobs),
 * then jobs once no create_jobs call is outstanding, so that their
 * fingerprints see the whole dependency graph. Returns false when builder
 * hosts cannot be started at all. */
bool eng_dispatch(engine *e)
{
	/* The full file list is kept for wildcard dependencies only: once
	 * every create_jobs call is answered and none declared a wildcard, it
	 * goes. */
	if (e->files && !e->glob_deps.n && !e->aq_total && !analysis_in_flight(e) && !e->live) {
		scan_result_free(e->files);
		free(e->files);
		e->files = NULL;
	}
	pool_ensure(e->pool, (e->aq_total + ANALYSE_CHUNK - 1) / ANALYSE_CHUNK + runq_count(&e->q));
	while (eng_analysis_dispatch(e))
		;
	while (e->aq_total == 0 && !analysis_in_flight(e) && eng_job_dispatch(e))
		;
	if (pool_given_up(e->pool) && pool_busy(e->pool) == 0 && (e->aq_total || runq_count(&e->q))) {
		eng_analysis_abandon(e, "no builder host could be started");
		klog(KLOG_ERROR, "no builder host could be started; %zu jobs left for the next run",
		     runq_count(&e->q));
		return false;
	}
	return true;
}

/* True when nothing is queued, waiting or running. Jobs that wait for job
 * dependencies that will never come are failed here. */
bool eng_idle(engine *e)
{
	bool busy = eng_any_active(e);
	if (!busy && e->aq_total == 0 && runq_count(&e->q) == 0 && e->waiting.n && eng_jdeps_stalled(e))
		return false;
	return !busy && e->aq_total == 0 && runq_count(&e->q) == 0;
}

/* Runs until no create_jobs call and no job is left (or a stop). */
static void eng_run_until_idle(engine *e)
{
	for (;;) {
		if (!e->stop && !eng_dispatch(e))
			break;
		if (e->stop ? !eng_any_active(e) : eng_idle(e))
			break;
		pool_poll(e->pool, 100);
		eng_maybe_commit(e, false);
		progress(e, false);
	}
	progress(e, true);
	eng_maybe_commit(e, true);
}

static void report(engine *e, engine_stats *st)
{
	for (size_t i = 0; i < e->n_failed; i++) {
		ejob *j = &e->jobs[e->failed[i]];
		sqlite3_stmt *q = NULL;
		const char *reason = "failed", *log = "";
		if (sqlite3_prepare_v2(e->db->h, "SELECT reason, log FROM jobs WHERE id = ?1", -1, &q,
		                       NULL) == SQLITE_OK) {
			db_bind_int64(q, 1, j->id);
			if (sqlite3_step(q) == SQLITE_ROW) {
				if (sqlite3_column_text(q, 0))
					reason = arena_strdup(e->ar, (const char *)sqlite3_column_text(q, 0));
				if (sqlite3_column_text(q, 1))
					log = arena_strdup(e->ar, (const char *)sqlite3_column_text(q, 1));
			}
		}
		sqlite3_finalize(q);
		char *line = NULL;
		if (asprintf(&line, "FAILED %s/%s  builder=%s platform=%s job=%s reason=%s log=%s",
		             eng_folder_abs(e, &e->src[j->src]), e->src[j->src].rel,
		             j->builder >= 0 ? e->b[j->builder].name : "?", j->platform, j->job_key, reason,
		             log) < 0)
			continue;
		char **nl = realloc(st->failed_lines, (st->n_failed_lines + 1) * sizeof *nl);
		if (!nl) {
			free(line);
			continue;
		}
		st->failed_lines = nl;
		st->failed_lines[st->n_failed_lines++] = line;
	}
}

void eng_store_metrics(engine *e)
{
	eng_begin(e);
	for (size_t i = 0; i < e->nb; i++) {
		ebuilder *b = &e->b[i];
		if (!b->ok || (!b->cj_n && !b->pj_n))
			continue;
		sqlite3_stmt *s = db_stmt_get(e->db, DBS_BUILDER_METRICS);
		db_bind_int64(s, 1, b->db_id);
		db_bind_int64(s, 2, (int64_t)b->cj_n);
		db_bind_int64(s, 3, (int64_t)b->cj_us);
		db_bind_int64(s, 4, (int64_t)b->pj_n);
		db_bind_int64(s, 5, (int64_t)b->pj_us);
		db_step_done(e->db, s);
		b->cj_n = b->cj_us = b->pj_n = b->pj_us = 0;
	}
	eng_maybe_commit(e, true);
}

int engine_batch(const kiln_config *cfg, const engine_opts *o, engine_stats *st, char *err, size_t errsz)
{
	engine e = {.cfg = cfg, .opts = o, .st = st};
	prescan pre = {0};
	int64_t t0 = pool_now_ms();
	memset(st, 0, sizeof *st);
	int rc = eng_open(&e, err, errsz);
	if (rc)
		goto out;
	int64_t t1 = pool_now_ms();
	if ((rc = eng_describe(&e)) != 0)
		goto out;
	/* The disk walk runs on a second thread while the database loads; no
	 * process is started until eng_full_scan has joined it. Without a
	 * thread the same work runs in line. */
	if (prescan_start(&pre, cfg, e.excludes, e.n_excludes) == 0)
		e.pre = &pre;
	if ((rc = eng_load(&e)) != 0) {
		snprintf(err, errsz, "reading the database: %s", db_errmsg(e.db));
		goto out;
	}
	if ((rc = eng_full_scan(&e)) != 0) {
		snprintf(err, errsz, "scanning: %s", kiln_strerror(rc));
		goto out;
	}
	if (e.unmatched)
		fprintf(
		    stderr,
		    "kiln: %zu file%s under the scan folders match%s no builder, e.g. %s (see kiln status)\n",
		    e.unmatched, e.unmatched == 1 ? "" : "s", e.unmatched == 1 ? "es" : "",
		    e.unmatched_ex[0]);
	int64_t t2 = pool_now_ms();
	if (e.db->errors) {
		/* A database that fails while the sources are written will not
		 * hold the results of any job either: stop here and say why. */
		klog(KLOG_WARN, "the database failed during the scan; no job runs");
		e.stop = true;
	}
	klog(KLOG_INFO, "scan: %zu files, %zu sources, %zu hashed, %zu deleted in %lld ms", st->scanned,
	     st->sources, st->hashed, st->deleted, (long long)(t2 - t1));
	eng_run_until_idle(&e);
	klog(KLOG_INFO, "processing: %zu create_jobs calls, %zu jobs in %lld ms", st->analysed, st->jobs,
	     (long long)(pool_now_ms() - t2));
	eng_store_metrics(&e);
	eng_catalog_write(&e);
	report(&e, st);
	if (e.db->errors) {
		char path[KILN_PATH_MAX];
		snprintf(path, sizeof path, "%s/assetdb.sqlite", cfg->cache);
		db_describe_error(e.db->last_errcode, path, e.db->last_error, st->db_error,
		                  sizeof st->db_error);
		klog(KLOG_ERROR, "%u database errors in this batch; last: %s", e.db->errors, st->db_error);
	}
	if (e.stop)
		klog(KLOG_WARN, "batch stopped by a signal; unfinished jobs run next time");
out:
	prescan_free(&pre);
	e.pre = NULL;
	eng_close(&e);
	st->seconds = (double)(pool_now_ms() - t0) / 1000.0;
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
