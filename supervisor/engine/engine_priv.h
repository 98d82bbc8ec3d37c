/* engine_priv.h: the engine's private state, shared by the eng_*.c modules.
 *
 * The engine keeps what it needs of the database in memory (sources, jobs,
 * products, analysis fingerprints), indexed by hash maps, and works
 * incrementally: a changed source queues its create_jobs calls; an answered
 * create_jobs call updates that source's jobs and queues those whose
 * fingerprint changed; a finished job lands its products. `kiln batch` runs
 * this until nothing is left; `kiln run` keeps it going and feeds it file
 * events. Writes go to the database in transactions committed at most every
 * COMMIT_MS.
 *
 * Ownership: every string in these records comes from the engine's arena and
 * lives as long as the engine; arrays are realloc'd and owned by the engine. */
#ifndef KILN_ENG_H
#define KILN_ENG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "arena.h"
#include "config/config.h"
#include "db/db.h"
#include "engine/engine.h"
#include "hmap.h"
#include "hostproto.h"
#include "engine/joblog.h"
#include "msg.h"
#include "path.h"
#include "pattern.h"
#include "pool/pool.h"
#include "engine/runq.h"
#include "hash.h"
#include <jansson.h>

#define COMMIT_MS     250
#define ANALYSE_CHUNK 64
#define MAX_BUILDERS  64
/* Products one job may make unless kiln.json says otherwise: far above what
 * a real builder makes, low enough that a runaway reply fails quickly. */
#define ENG_MAX_PRODUCTS       100000
#define ENG_UNMATCHED_EXAMPLES 5
#define NONE                   ((size_t)-1)

enum { ST_PENDING, ST_PROCESSING, ST_COMPLETED, ST_WARNING, ST_ERROR, ST_FAILED };

/* The folder index of intermediate assets (Cache/intermediate), which act as
 * sources without being under a scan folder. */
#define FOLDER_INTERMEDIATE (-2)
/* How long a chain of intermediate assets may grow. */
#define MAX_CHAIN 16

typedef struct ebuilder {
	const cfg_builder *cfg;
	int64_t db_id;
	char *name, *uuid, *version, *afp;
	char **patterns; /* in force: kiln.json's, or the builder's own */
	size_t n_patterns;
	char **own_patterns; /* what describe said */
	size_t n_own_patterns;
	kpattern **pats;
	char key[24];
	char *args_json; /* malloc'd; freed by engine_close */
	hp_builder hp;
	bool ok;
	char *why_disabled;
	/* Live mode: its files changed (bwatch.c), so it is described again;
	 * gen makes a new key, so hosts start a new process for its next job. */
	unsigned gen;
	bool refresh, describing;
	/* Disabled for the run, but with patterns: its sources are still
	 * sources, and those it alone matches fail with the reason. */
	bool disabled_matching;
	char *prev_ident;        /* malloc'd: what it was before the refresh */
	hp_bstate restart_state; /* what the hosts last said of its restarts */
	char *restart_detail;    /* malloc'd */
	uint64_t cj_n, cj_us, pj_n, pj_us;
	/* sources waiting for create_jobs with this builder (FIFO) */
	size_t *aq;
	size_t aq_head, aq_n, aq_cap;
} ebuilder;

/* 100,000 of these for 100,000 sources: fields are ordered by size so
 * nothing is lost to padding, and the flags are bits. */
typedef struct esource {
	int64_t id; /* 0 until inserted */
	char *rel;
	/* rel lowercased: the same string while rel is lowercase, NULL until
	 * eng_src_key makes it when not; "intermediate:<rel lowercased>"
	 * for intermediate assets. */
	char *key;
	uint64_t size;
	int64_t mtime;
	uint64_t hash;
	uint64_t bmask;     /* builders whose patterns match */
	uint64_t analysing; /* builders with a create_jobs call queued or in flight */
	size_t first_job;   /* head of this source's job chain, NONE when empty */
	size_t first_dep;   /* head of the chain of its source dependencies */
	int64_t origin_job; /* intermediate: the job that made it */
	uint64_t chain;     /* intermediate: builders along its chain (bit per builder) */
	uint64_t afp;   /* analysis fingerprint for builder afp_b (others, rare, are in engine.analysed) */
	int32_t folder; /* -1 when its scan folder is gone */
	char uuid[37];
	int8_t afp_b;      /* builder whose analysis fingerprint is in afp, or -1 */
	uint8_t chain_len; /* intermediate: at most MAX_CHAIN */
	bool on_disk : 1;
	bool changed : 1; /* content or place changed in this pass */
	bool is_new : 1;
	bool dirty : 1;        /* row needs writing */
	bool intermediate : 1; /* made by a job, lives in Cache/intermediate */
	bool seen : 1;         /* scratch flag for graph walks */
} esource;

/* A source dependency that create_jobs gave for (src, builder). */
typedef struct edep {
	size_t src;
	int builder;
	char *raw;      /* as the builder gave it */
	char *key;      /* relative to the scan folder root, lowercase */
	char *key2;     /* relative to the dependent's own folder, or NULL */
	char *uuid;     /* lowercase, or NULL */
	kpattern *glob; /* a wildcard dependency */
	bool dead;
	size_t next_in_src;
} edep;

/* A job dependency (order, or order and fingerprint) from create_jobs. */
typedef struct ejdep {
	char *path, *uuid, *job_key, *platform;
	bool fingerprint;
} ejdep;

/* A metadata sidecar (kiln.json "metadata"): X.fbx.assetinfo for X.fbx. */
typedef struct esidecar {
	char *owner_key; /* key of the source it belongs to */
	char *rel;
	int32_t folder;
	uint64_t hash;
} esidecar;

typedef struct evec {
	size_t *items;
	size_t n, cap;
} evec;

/* As many as sources times platforms: ordered by size, flags as bits. */
typedef struct ejob {
	int64_t id;
	char *job_key, *platform, *params;
	int64_t priority;
	uint64_t fp, new_fp;
	const char *run_reason;
	size_t next_in_src; /* chain of the source's jobs */
	size_t first_prod;  /* head of the chain of its products */
	ejdep *jdeps;       /* job dependencies; arena */
	char *jdeps_json;
	char *fp_parts;     /* JSON of the last good run's fingerprint inputs */
	char *new_fp_parts; /* malloc'd while the job runs */
	uint32_t src;       /* index into sources */
	uint32_t n_jdeps;
	int16_t builder;     /* index into builders, -1 when the builder is gone */
	uint8_t status;      /* ST_* */
	uint8_t fail_reason; /* the last failure's reason: db_reasons[fail_reason - 1], 0 for none */
	bool critical : 1;
	bool has_fp : 1;
	bool requested : 1;
	bool escalated : 1;
	bool deleted : 1;
	bool product_missing : 1;
	bool analysis_failure : 1; /* the stand-in row of a failed create_jobs call */
	bool queued : 1;
	bool running : 1;
	bool begun : 1; /* running, and its host has begun it (not queued there) */
	bool waiting : 1;
} ejob;

typedef struct eproduct {
	int64_t id;
	int64_t job_id;
	char *platform;
	char *path;         /* arena; its source's rel string when the two are equal */
	size_t next_in_job; /* chain of the job's products */
	uint32_t sub_id;
	bool intermediate;
	bool deleted;
} eproduct;

typedef enum run_kind { RUN_DESCRIBE, RUN_ANALYSE, RUN_PROCESS } run_kind;

typedef struct erun {
	uint64_t id;
	run_kind kind;
	int builder;
	size_t *items; /* sources (analyse) or one job (process); malloc'd */
	size_t n_items;
	joblog log; /* process runs */
	char temp[KILN_PATH_MAX];
	int64_t start_ms; /* sent to a host */
	int64_t begun_ms; /* the host began it (0: still queued on the host) */
	int host;         /* the host serving it, once begun */
	bool active;
} erun;

typedef struct live live;

typedef struct engine {
	const kiln_config *cfg;
	live *live; /* live mode (kiln run) state; NULL in a batch */
	/* Publishes an event (live mode); NULL in a batch. body is borrowed. */
	void (*publish)(struct engine *e, const char *topic, json_t *body);
	bool hash_all; /* hash every file, not only those whose size or time changed */
	const engine_opts *opts;
	engine_stats *st;
	kdb *db;
	pool *pool;
	arena *ar;
	ebuilder b[MAX_BUILDERS];
	size_t nb;
	kpattern **excludes;
	size_t n_excludes;
	int lock_fd, log_fd;

	esource *src;
	size_t n_src, cap_src;
	hmap src_by_key;

	ejob *jobs;
	size_t n_jobs, cap_jobs;
	/* Jobs are found through their source's chain, and by id through a
	 * binary search: the array is in id order (rows are added with
	 * growing ids). */

	eproduct *prods;
	size_t n_prods, cap_prods;
	/* Products by path, one map per platform ("intermediate" is one),
	 * keyed by the product's own path string, which is the source's rel
	 * when the two are equal (kiln-copy keeps paths): see
	 * eng_product_find. */
	struct eprodmap {
		const char *platform; /* interned */
		hmap by_path;
	} * prod_maps;
	size_t n_prod_maps;

	edep *deps;
	size_t n_deps, cap_deps;
	hmap dep_rev; /* dependency key -> index into rev */
	evec *rev;
	size_t n_rev, cap_rev;
	evec glob_deps; /* indices of wildcard dependencies */
	evec jdep_jobs; /* jobs that have job dependencies */
	evec waiting;   /* jobs waiting for their job dependencies */
	bool waiting_retried;
	bool catalog_dirty; /* products changed since the catalogs were written */
	esidecar *sidecars;
	size_t n_sidecars, cap_sidecars;
	hmap side_by_owner;
	hmap src_by_uuid; /* built on first use */
	bool uuid_map;
	char inter_dir[KILN_PATH_MAX];
	struct scan_result *files; /* the last full scan: every file, source or not */
	/* A batch's disk walk, running on a second thread while the database
	 * loads (prescan.h); NULL in live mode. Borrowed from engine_batch. */
	struct prescan *pre;

	hmap interned; /* repeated short strings -> index into intern_strs */
	char **intern_strs;
	size_t n_intern, cap_intern;
	hmap analysed; /* analysis key -> index into analysis_fp */
	uint64_t *analysis_fp;
	size_t n_afp, cap_afp;

	erun *runs;
	size_t n_runs;
	uint64_t next_run;
	runq q;
	size_t aq_total; /* create_jobs calls queued over all builders */
	int next_aq_builder;

	uint32_t *slot_uses; /* jobs served by each run slot's temp dir */
	size_t n_slot_uses;
	size_t max_products; /* products one job may make; more fails it */
	bool refreshing;     /* builders are being described again (live mode) */
	/* Files of the last full scan that no builder matches: how many, and
	 * the first few (arena strings), for the log and kiln status. */
	size_t unmatched;
	const char *unmatched_ex[ENG_UNMATCHED_EXAMPLES];
	char cache_tmp[KILN_PATH_MAX];
	char logs_jobs[KILN_PATH_MAX];
	int64_t last_commit;
	bool stop;
	int signals;
	int64_t progress_at;
	size_t *failed; /* jobs that failed in this pass, for the report */
	size_t n_failed, cap_failed;
} engine;

/* eng_state.c: bookkeeping */
int eng_grow(void **arr, size_t *cap, size_t n, size_t elem);
/* Opens the batch's write transaction when none is open. Returns 0, or
 * KILN_E_DB (logged) when BEGIN failed: then nothing may be written as if it
 * were part of a transaction. */
int eng_begin(engine *e);
void eng_maybe_commit(engine *e, bool force);
const char *eng_folder_abs(engine *e, const esource *s);
bool eng_platform_selected(engine *e, const char *platform);
bool eng_folder_has_platform(engine *e, int32_t folder, const char *platform);
const char *eng_job_key(char *buf, size_t sz, size_t src, int builder, const char *key, const char *platform);
/* A failure reason (one of db_reasons) as ejob.fail_reason; unknown ones
 * read as "failed". */
uint8_t eng_reason_code(const char *reason);
/* The product of platform at path (index into prods), if any. */
bool eng_product_find(engine *e, const char *platform, const char *path, size_t *pi);
/* Takes a product out of the by-path maps (it stays in prods). */
void eng_product_unmap(engine *e, const eproduct *p);
void eng_product_file(engine *e, const eproduct *p, char *out, size_t outsz);
void eng_full_path(engine *e, const esource *s, char *out, size_t outsz);
void eng_job_set_jdeps_json(engine *e, size_t ji, const char *js);
bool eng_job_by_id(engine *e, int64_t id, size_t *ji);
bool eng_source_by_id(engine *e, int64_t id, size_t *si);
char *eng_intern(engine *e, const char *str);
/* Room for this many more sources and jobs (and as many products). */
void eng_reserve_for(engine *e, size_t sources, size_t jobs);
size_t eng_job_find(engine *e, size_t si, int bi, const char *key, const char *platform);
bool eng_analysis_get(engine *e, size_t si, int bi, uint64_t *fp);
void eng_analysis_set(engine *e, size_t si, int bi, uint64_t fp);
size_t eng_source_by_uuid(engine *e, const char *uuid);
void eng_uuid_map_put(engine *e, size_t si);
void eng_uuid_map_del(engine *e, size_t si);
ejob *eng_job_add(engine *e, size_t src, int builder, const char *key, const char *platform, size_t *idx_out);
void eng_job_upsert_row(engine *e, ejob *j);
void eng_job_delete(engine *e, ejob *j);
void eng_products_delete(engine *e, int64_t job_id, const hmap *keep_subids);
void eng_product_remember(engine *e, int64_t pid, int64_t job_id, uint32_t sub_id, const char *plat,
                          const char *path, bool intermediate);
void eng_note_failed(engine *e, size_t ji);
void eng_job_fail_row(engine *e, const ejob *j, const char *reason, const joblog *log, int64_t now,
                      int64_t duration_ms, bool keep_fp);
int eng_load(engine *e);
int eng_builder_index(engine *e, int64_t db_id);

/* eng_builders.c: describe, the describe cache, patterns */
int eng_describe(engine *e);
void eng_on_describe_reply(engine *e, erun *r, const hp_reply *rep);
/* Live mode: builders whose files changed (mask, by index) are described
 * again, each with a new key, so every host starts a new process for it at
 * its next job. eng_builders_poll() drives the describe runs from the loop
 * and returns true once they are done and a builder's name, uuid, version,
 * analysis fingerprint or patterns changed: then the caller scans, which
 * reprocesses that builder's jobs as a start would. */
void eng_builders_refresh(engine *e, uint64_t mask);
bool eng_builders_poll(engine *e);

/* The files no builder matches as JSON {count, examples} (new ref). */
json_t *eng_unmatched_json(engine *e);

/* bwatch.c: the builders' files, watched in live mode. */
typedef struct bwatch bwatch;
/* On success *out belongs to the caller (bwatch_close). */
int bwatch_open(engine *e, bwatch **out);
int bwatch_fd(const bwatch *w);
/* Reads what inotify has; now is pool_now_ms(). */
void bwatch_read(bwatch *w, int64_t now);
/* The builders whose files changed and have been quiet since, once each. */
uint64_t bwatch_due(bwatch *w, int64_t now);
void bwatch_close(bwatch *w);

uint64_t eng_match_builders(engine *e, const char *rel);
char *eng_json_str_array(char **items, size_t n);

/* A source's identity in src_by_key (which folds case): its rel, or its
 * key for an intermediate asset. */
static inline const char *eng_src_mapkey(const esource *s)
{
	return s->intermediate ? s->key : s->rel;
}
/* A source's key (rel lowercased), made on first use. */
const char *eng_src_key(engine *e, size_t si);

/* eng_scan.c: reconciling files on disk with the sources */
int eng_full_scan(engine *e);
/* The last full scan's file list (every file, source or not), walking the
 * scan folders again when it was not kept; NULL when that fails. Owned by
 * the engine. */
const struct scan_result *eng_files(engine *e);
void eng_source_delete(engine *e, size_t si);
/* After a source is known and hashed: queue create_jobs where its inputs
 * changed, and weigh its other jobs. */
void eng_source_settle(engine *e, size_t si);
void eng_intermediate_landed(engine *e, size_t ji, const char *rel, uint32_t sub_id, uint64_t size,
                             int64_t mtime, uint64_t hash);

/* eng_analyse.c: create_jobs calls */
uint64_t eng_analysis_fingerprint(engine *e, const esource *s, const ebuilder *b);
int64_t eng_analysis_key(const esource *s, const ebuilder *b);
void eng_analysis_queue(engine *e, size_t si, int bi);
bool eng_analysis_dispatch(engine *e);
void eng_on_analyse_reply(engine *e, erun *r, const hp_reply *rep);
void eng_analysis_lost(engine *e, erun *r, uint32_t first_idx, const char *detail);
void eng_analysis_abandon(engine *e, const char *why);
void eng_analysis_fail(engine *e, size_t si, int bi, const char *reason, const char *detail);

/* eng_deps.c: source dependencies, job dependencies, sidecars */
int eng_evec_push(evec *v, size_t x);
void eng_deps_set(engine *e, size_t si, int bi, const msg_source_dep *deps, size_t n, bool store);
int eng_deps_load(engine *e);
size_t eng_dep_resolve(engine *e, const edep *d);
size_t eng_source_by_path(engine *e, const char *path, const esource *rel_to);
/* Feeds the transitive closure of (si)'s source dependencies, their content
 * hashes and si's sidecar into f; parts (may be NULL) gets a JSON object of
 * dependency -> hash for explaining reruns. */
void eng_deps_fingerprint(engine *e, size_t si, fp_state *f, json_t *parts);
/* si changed (content, appeared, went): weighs again every job that depends
 * on it, transitively. */
void eng_deps_changed(engine *e, size_t si);
void eng_deps_changed_key(engine *e, const char *key);
void eng_deps_free_plain(void);
bool eng_dep_plain_path(engine *e, const edep *d, char *norm, size_t normsz, struct stat *st);
const esidecar *eng_sidecar_of(engine *e, const esource *s);
bool eng_is_sidecar(engine *e, const char *rel, const char *key, char *owner_key, size_t owner_sz);
void eng_sidecar_remove(engine *e, const char *owner_key);
void eng_sidecar_add(engine *e, int32_t folder, const char *rel, const char *owner_key, uint64_t hash);
/* Job dependencies: true when job ji may start now; otherwise it is parked
 * and *cycle is set when waiting would never end. */
/* 1: ready; 0: must wait (why says for what); -1: a cycle (why says which). */
int eng_jdeps_ready(engine *e, size_t ji, char *why, size_t whysz);
void eng_jdeps_fingerprint(engine *e, size_t ji, fp_state *f);
void eng_jdeps_job_done(engine *e, size_t ji, bool fp_changed);
bool eng_jdeps_stalled(engine *e);
void eng_job_fail_unstarted(engine *e, size_t ji, const char *why);

/* eng_jobs.c: weighing, running and finishing jobs */
/* Job ji's fingerprint; with parts_out, also the JSON of its inputs
 * (malloc'd), as kept with a good run. Not static so that unit tests can
 * check what each input changes. */
uint64_t eng_job_fingerprint(engine *e, size_t ji, char **parts_out);
void eng_job_consider(engine *e, size_t ji);
void eng_jobs_of_consider(engine *e, size_t si, int bi);
bool eng_job_dispatch(engine *e);
void eng_on_process_reply(engine *e, erun *r, const hp_reply *rep);
/* land.c: checks the products of a successful reply and lands them all, or
 * none. Returns 0, or non-zero with *reason the job's failure reason
 * (invalid_product, failed) and the cause in the job's log; the cache and
 * the database are then as before the job. Strings go in a. */
int eng_land(engine *e, erun *r, ejob *j, const msg_process_job_resp *resp, arena *a, const char **reason);

void eng_process_begun(engine *e, erun *r);
void eng_process_lost(engine *e, erun *r, const char *detail);
void eng_process_requeue(engine *e, erun *r);
void eng_temp_release(engine *e, erun *r);
void eng_analysis_requeue(engine *e, erun *r);

/* eng_state.c: events for hot reload (no-ops in a batch) */
void eng_emit_job(engine *e, size_t ji);
void eng_emit_product(engine *e, const char *event, size_t si, uint32_t sub_id, const char *platform,
                      const char *path);

/* eng_scan.c: one path changed on disk (live mode) */
void eng_path_changed(engine *e, uint32_t folder, const char *rel, bool dir);

/* eng_catalog.c */
void eng_catalog_write(engine *e);

/* engine.c: opening, the loop's steps, runs */
int eng_open(engine *e, char *err, size_t errsz);
void eng_close(engine *e);
bool eng_dispatch(engine *e);
bool eng_idle(engine *e);
/* Adds the builders' timing since the last call to their rows. */
void eng_store_metrics(engine *e);

erun *eng_run_new(engine *e, run_kind kind, int builder);
erun *eng_run_find(engine *e, uint64_t id);
void eng_run_end(erun *r);
bool eng_any_active(engine *e);

#endif
