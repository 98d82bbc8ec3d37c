/* reconcile.c: reconciling the files on disk with the known sources. */
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
#include "engine/scan.h"

void eng_source_delete(engine *e, size_t si)
{
	esource *s = &e->src[si];
	for (size_t ji = s->first_job; ji != NONE; ji = e->jobs[ji].next_in_src)
		eng_job_delete(e, &e->jobs[ji]);
	/* Jobs of builders no longer configured are not in memory: their
	 * products go through the database. */
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(
	        e->db->h,
	        "SELECT p.platform, p.path, p.intermediate FROM products p JOIN jobs j ON p.job_id = j.id"
	        " WHERE j.source_id = ?1",
	        -1, &q, NULL) == SQLITE_OK) {
		db_bind_int64(q, 1, s->id);
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
	eng_begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_SOURCE_DELETE);
	db_bind_int64(st, 1, s->id);
	db_step_done(e->db, st);
	hmap_del(&e->src_by_key, eng_src_mapkey(s));
	eng_uuid_map_del(e, si);
	s->on_disk = false;
	s->bmask = 0;
	for (size_t di = s->first_dep; di != NONE; di = e->deps[di].next_in_src)
		e->deps[di].dead = true;
	e->st->deleted++;
	/* Whatever depended on it weighs again (its print now says missing). */
	eng_deps_changed(e, si);
}

static void write_source_row(engine *e, size_t si)
{
	esource *s = &e->src[si];
	sqlite3_stmt *st;
	eng_begin(e);
	if (!s->id) {
		st = db_stmt_get(e->db, DBS_SOURCE_INSERT);
		db_bind_text(st, 1, s->uuid);
		db_bind_text(st, 2, eng_folder_abs(e, s));
		db_bind_text(st, 3, s->rel);
		db_bind_int64(st, 4, (int64_t)s->size);
		db_bind_int64(st, 5, s->mtime);
		db_bind_int64(st, 6, (int64_t)s->hash);
		if (db_step_done(e->db, st) == 0) {
			s->id = sqlite3_last_insert_rowid(e->db->h);
		}
	} else {
		st = db_stmt_get(e->db, DBS_SOURCE_UPDATE);
		db_bind_int64(st, 1, s->id);
		db_bind_text(st, 2, eng_folder_abs(e, s));
		db_bind_text(st, 3, s->rel);
		db_bind_int64(st, 4, (int64_t)s->size);
		db_bind_int64(st, 5, s->mtime);
		db_bind_int64(st, 6, (int64_t)s->hash);
		db_step_done(e->db, st);
	}
	s->dirty = false;
}

/* Brings one file on disk into the sources: new, moved (an override came or
 * went), changed or unchanged. Returns the source's index, or NONE when the
 * file is not a source (no builder matches) or cannot be read. */
static size_t reconcile_file(engine *e, uint32_t folder, const char *rel, const char *key, uint64_t size,
                             int64_t mtime, bool hash_all)
{
	char owner[KILN_PATH_MAX];
	if (e->cfg->n_metadata && eng_is_sidecar(e, rel, key, owner, sizeof owner)) {
		/* A sidecar is not a source: its hash goes into its owner's
		 * fingerprints. Sidecars are few, so they are always hashed. */
		char fp[KILN_PATH_MAX];
		uint64_t h = 0;
		snprintf(fp, sizeof fp, "%s/%s", e->cfg->folders[folder].abs, rel);
		if (hash_file(fp, &h) == 0)
			eng_sidecar_add(e, (int32_t)folder, rel, owner, h);
		return NONE;
	}
	uint64_t m = eng_match_builders(e, rel);
	if (!m) {
		if (e->unmatched < ENG_UNMATCHED_EXAMPLES)
			e->unmatched_ex[e->unmatched] =
			    arena_printf(e->ar, "%s/%s", e->cfg->folders[folder].path, rel);
		e->unmatched++;
		return NONE;
	}
	size_t si;
	esource *s;
	bool known = hmap_get(&e->src_by_key, key, &si);
	if (known) {
		s = &e->src[si];
	} else {
		if (eng_grow((void **)&e->src, &e->cap_src, e->n_src, sizeof *e->src) != 0)
			return NONE;
		si = e->n_src++;
		s = &e->src[si];
		memset(s, 0, sizeof *s);
		s->first_job = NONE;
		s->first_dep = NONE;
		s->afp_b = -1;
		kuuid u;
		uuid_for_source(rel, &u);
		uuid_format(&u, s->uuid);
		eng_uuid_map_put(e, si);
		s->is_new = true;
		s->changed = true;
		s->dirty = true;
		s->folder = (int32_t)folder;
		s->rel = arena_strdup(e->ar, rel);
		/* Most paths are lowercase already: then key and rel share;
		 * otherwise the key is made when something asks for it. */
		s->key = strcmp(rel, key) == 0 ? s->rel : NULL;
		hmap_put(&e->src_by_key, s->rel, si);
	}
	s->on_disk = true;
	s->bmask = m;
	if ((int32_t)folder != s->folder || strcmp(s->rel, rel) != 0) {
		/* Found in another folder (an override came or went) or renamed
		 * in case only: the same source in a new place. */
		s->folder = (int32_t)folder;
		s->rel = arena_strdup(e->ar, rel);
		s->dirty = true;
		s->changed = true;
	}
	if (s->is_new || hash_all || s->size != size || s->mtime != mtime || s->changed) {
		char fp[KILN_PATH_MAX];
		uint64_t h = 0;
		eng_full_path(e, s, fp, sizeof fp);
		int hrc = hash_file(fp, &h);
		if (hrc != 0) {
			klog(KLOG_WARN, "cannot read %s: %s; skipped this pass", fp, kiln_strerror(hrc));
			if (s->is_new && !s->id) {
				s->on_disk = false;
				s->bmask = 0;
				hmap_del(&e->src_by_key, eng_src_mapkey(s));
			}
			return NONE;
		}
		e->st->hashed++;
		if (h != s->hash || s->is_new)
			s->changed = true;
		s->hash = h;
		s->size = size;
		s->mtime = mtime;
		s->dirty = true;
	}
	if (s->dirty)
		write_source_row(e, si);
	return si;
}

void eng_source_settle(engine *e, size_t si)
{
	esource *s = &e->src[si];
	if (!s->on_disk || !s->id)
		return;
	for (size_t bi = 0; bi < e->nb; bi++) {
		if (!(s->bmask & (1ULL << bi)) || !e->b[bi].ok)
			continue;
		if (s->analysing & (1ULL << bi))
			continue;
		if (s->intermediate && ((s->chain & (1ULL << bi)) || s->chain_len >= MAX_CHAIN)) {
			/* A builder would feed on what it made, directly or
			 * through other builders: a loop, not a pipeline. */
			char why[512];
			if (s->chain_len >= MAX_CHAIN)
				snprintf(why, sizeof why,
				         "intermediate chain longer than %d steps at %s; stopped", MAX_CHAIN,
				         s->rel);
			else
				snprintf(
				    why, sizeof why,
				    "loop: builder %s would process %s, an intermediate asset it helped make",
				    e->b[bi].name, s->rel);
			eng_analysis_fail(e, si, (int)bi, "failed", why);
			continue;
		}
		uint64_t want = eng_analysis_fingerprint(e, s, &e->b[bi]), have;
		if (!eng_analysis_get(e, si, (int)bi, &have) || have != want)
			eng_analysis_queue(e, si, (int)bi);
		else
			eng_jobs_of_consider(e, si, (int)bi);
	}
	/* Only disabled builders take this source: it fails, saying why. */
	bool any_ok = false;
	for (size_t bi = 0; bi < e->nb; bi++)
		any_ok |= (s->bmask & (1ULL << bi)) && e->b[bi].ok;
	for (size_t bi = 0; !any_ok && bi < e->nb; bi++) {
		ebuilder *b = &e->b[bi];
		if (!(s->bmask & (1ULL << bi)) || b->ok || !b->disabled_matching || !b->db_id)
			continue;
		char why[1024];
		snprintf(why, sizeof why, "builder %s is disabled: %s", b->cfg->exec,
		         b->why_disabled ? b->why_disabled : "unknown");
		eng_analysis_fail(e, si, (int)bi, "failed", why);
	}
}

/* Jobs whose builder is gone from kiln.json, or whose builder's patterns no
 * longer match their source, lose their rows and products. */
static void drop_orphan_jobs(engine *e)
{
	for (size_t ji = 0; ji < e->n_jobs; ji++) {
		ejob *j = &e->jobs[ji];
		if (j->deleted)
			continue;
		if (j->builder >= 0 && !e->b[j->builder].ok)
			continue; /* disabled for the run: kept, with its products */
		if (j->builder < 0 || !(e->src[j->src].bmask & (1ULL << j->builder)))
			eng_job_delete(e, j);
	}
	/* Jobs of builders that are not configured any more were not loaded;
	 * remove their products and rows through the database. */
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
	eng_begin(e);
	db_exec(e->db, "DELETE FROM jobs WHERE builder_id IN (SELECT id FROM builders WHERE active = 0)");
}

/* An intermediate asset is a source while the product that it is exists in
 * the database. Its file may be gone from the cache (then the job that made
 * it runs again, "product missing"); when present and changed, it is hashed
 * again like any source. */
static void refresh_intermediate(engine *e, size_t si, bool hash_all)
{
	esource *s = &e->src[si];
	size_t ji;
	if (!eng_job_by_id(e, s->origin_job, &ji) || e->jobs[ji].deleted) {
		s->on_disk = false;
		return;
	}
	s->bmask = eng_match_builders(e, s->rel);
	if (e->jobs[ji].builder >= 0)
		s->bmask &= ~(1ULL << e->jobs[ji].builder);
	char fp[KILN_PATH_MAX];
	struct stat st;
	eng_full_path(e, s, fp, sizeof fp);
	if (stat(fp, &st) != 0)
		return;
	int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	if (!hash_all && (uint64_t)st.st_size == s->size && mt == s->mtime)
		return;
	uint64_t h;
	if (hash_file(fp, &h) != 0)
		return;
	if (h != s->hash)
		s->changed = true;
	s->hash = h;
	s->size = (uint64_t)st.st_size;
	s->mtime = mt;
	write_source_row(e, si);
}

const scan_result *eng_files(engine *e)
{
	if (e->files)
		return e->files;
	scan_result *sr = malloc(sizeof *sr);
	if (!sr)
		return NULL;
	int rc = scan_run(e->cfg, e->excludes, e->n_excludes, sr);
	if (rc) {
		klog(KLOG_WARN, "listing the scan folders for wildcard dependencies: %s", kiln_strerror(rc));
		free(sr);
		return NULL;
	}
	e->files = sr;
	return sr;
}

json_t *eng_unmatched_json(engine *e)
{
	json_t *ex = json_array();
	for (size_t i = 0; i < e->unmatched && i < ENG_UNMATCHED_EXAMPLES; i++)
		json_array_append_new(ex, json_string(e->unmatched_ex[i]));
	return json_pack("{s:I, s:o}", "count", (json_int_t)e->unmatched, "examples", ex);
}

/* Says once a scan how many files no builder takes, with a few of them: a
 * PNG dropped where only kiln-copy is registered does nothing, and this is
 * where a user learns why. Kept in the database for kiln status. */
static void report_unmatched(engine *e)
{
	json_t *o = eng_unmatched_json(e);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (e->unmatched) {
		char ex[1024] = "";
		size_t n = 0;
		for (size_t i = 0; i < e->unmatched && i < ENG_UNMATCHED_EXAMPLES; i++)
			n += (size_t)snprintf(ex + n, n < sizeof ex ? sizeof ex - n : 0, "%s%s",
			                      i ? ", " : "", e->unmatched_ex[i]);
		klog(KLOG_INFO,
		     "scan: %zu file%s match%s no builder (%s%s); kiln.json's builders and patterns decide",
		     e->unmatched, e->unmatched == 1 ? "" : "s", e->unmatched == 1 ? "es" : "", ex,
		     e->unmatched > ENG_UNMATCHED_EXAMPLES ? ", ..." : "");
	}
	if (text) {
		sqlite3_stmt *st = db_stmt_get(e->db, DBS_STATE_SET);
		db_bind_text(st, 1, "unmatched");
		db_bind_text(st, 2, text);
		db_step_done(e->db, st);
	}
	free(text);
	json_decref(o);
}

int eng_full_scan(engine *e)
{
	scan_result sr;
	int rc;
	if (e->pre && e->pre->started && !e->pre->sr_taken) {
		/* The batch's walk thread did this walk already. */
		prescan_join(e->pre);
		e->pre->sr_taken = true;
		rc = e->pre->scan_rc;
		sr = e->pre->sr;
		memset(&e->pre->sr, 0, sizeof e->pre->sr);
	} else {
		rc = scan_run(e->cfg, e->excludes, e->n_excludes, &sr);
	}
	if (rc)
		return rc;
	e->st->scanned = sr.n;
	/* Room for every file as a source, and a job per platform each: the
	 * arrays never double past what is needed. */
	if (sr.n > e->n_src)
		eng_reserve_for(e, sr.n - e->n_src, (sr.n - e->n_src) * e->cfg->n_platforms);
	bool hash_all = e->hash_all;
	for (size_t si = 0; si < e->n_src; si++)
		e->src[si].on_disk = e->src[si].intermediate;
	e->n_sidecars = 0;
	hmap_free(&e->side_by_owner); /* keeps its case folding */
	e->unmatched = 0;
	eng_begin(e);
	for (size_t i = 0; i < sr.n; i++) {
		scan_file *f = &sr.files[i];
		reconcile_file(e, f->folder, f->rel, f->key, f->size, f->mtime_ns, hash_all);
	}
	for (size_t si = 0; si < e->n_src; si++) {
		esource *s = &e->src[si];
		if (s->intermediate && s->on_disk)
			refresh_intermediate(e, si, hash_all);
		if (!s->on_disk && s->id && hmap_get(&e->src_by_key, eng_src_mapkey(s), NULL))
			eng_source_delete(e, si);
		else if (s->on_disk)
			e->st->sources++;
	}
	drop_orphan_jobs(e);
	report_unmatched(e);
	eng_maybe_commit(e, true);
	/* The file list stays for wildcard dependencies, which may name files
	 * that are no sources: when some exist, and in live mode. A first
	 * run's create_jobs calls may declare the first ones; eng_files walks
	 * the folders again then, rather than every first run holding every
	 * path twice while the jobs are made. */
	if (e->files) {
		scan_result_free(e->files);
		free(e->files);
		e->files = NULL;
	}
	if (e->glob_deps.n || e->live)
		e->files = malloc(sizeof *e->files);
	if (e->files)
		*e->files = sr;
	else
		scan_result_free(&sr);
	for (size_t si = 0; si < e->n_src; si++)
		eng_source_settle(e, si);
	return 0;
}

/* Registers (or refreshes) the intermediate asset that product sub_id of job
 * ji just became, and sets it on its way to the builders that want it. */
void eng_intermediate_landed(engine *e, size_t ji, const char *rel, uint32_t sub_id, uint64_t size,
                             int64_t mtime, uint64_t hash)
{
	ejob *j = &e->jobs[ji];
	esource *parent = &e->src[j->src];
	char key[KILN_PATH_MAX + 16];
	snprintf(key, sizeof key, "intermediate:%s", rel);
	size_t si;
	bool known = hmap_get(&e->src_by_key, key, &si);
	if (!known) {
		if (eng_grow((void **)&e->src, &e->cap_src, e->n_src, sizeof *e->src) != 0)
			return;
		si = e->n_src++;
		esource *s = &e->src[si];
		parent = &e->src[j->src]; /* the array may have moved */
		memset(s, 0, sizeof *s);
		s->first_job = NONE;
		s->first_dep = NONE;
		s->afp_b = -1;
		s->key = arena_strdup(e->ar, key);
		s->rel = arena_strdup(e->ar, rel);
		s->folder = FOLDER_INTERMEDIATE;
		s->intermediate = true;
		s->is_new = true;
		/* Its identity is where it came from: (source, builder, sub_id). */
		kuuid ns, u;
		char name[96];
		uuid_parse(parent->uuid, &ns);
		snprintf(name, sizeof name, "%s:%u", e->b[j->builder].uuid, sub_id);
		uuid_v5_ns(&ns, name, strlen(name), &u);
		uuid_format(&u, s->uuid);
		hmap_put(&e->src_by_key, s->key, si);
		eng_uuid_map_put(e, si);
	}
	esource *s = &e->src[si];
	bool changed = !known || s->hash != hash || !s->on_disk;
	s->on_disk = true;
	s->changed = changed;
	s->hash = hash;
	s->size = size;
	s->mtime = mtime;
	s->origin_job = j->id;
	s->chain = parent->chain | (1ULL << j->builder);
	s->chain_len = parent->chain_len < UINT8_MAX ? (uint8_t)(parent->chain_len + 1) : UINT8_MAX;
	s->bmask = eng_match_builders(e, rel) & ~(1ULL << j->builder);
	write_source_row(e, si);
	json_t *ch = json_array();
	for (size_t bi = 0; bi < e->nb; bi++)
		if (s->chain & (1ULL << bi))
			json_array_append_new(ch, json_string(e->b[bi].uuid));
	char *chs = json_dumps(ch, JSON_COMPACT);
	json_decref(ch);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_SOURCE_SET_ORIGIN);
	db_bind_int64(st, 1, s->id);
	db_bind_int64(st, 2, j->id);
	db_bind_text(st, 3, chs);
	db_step_done(e->db, st);
	free(chs);
	if (!changed)
		return;
	eng_source_settle(e, si);
	eng_deps_changed(e, si);
}

static bool path_excluded(engine *e, const char *rel)
{
	char buf[KILN_PATH_MAX];
	for (size_t i = 0; i < e->n_excludes; i++) {
		if (pattern_match(e->excludes[i], rel) == 1)
			return true;
		/* a folder on the way that is excluded as "folder/" */
		for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
			size_t n = (size_t)(p - rel) + 1;
			if (n >= sizeof buf)
				break;
			memcpy(buf, rel, n);
			buf[n] = 0;
			if (pattern_match(e->excludes[i], buf) == 1)
				return true;
		}
	}
	return false;
}

void eng_path_changed(engine *e, uint32_t folder, const char *rel, bool dir)
{
	char key[KILN_PATH_MAX];
	(void)folder;
	snprintf(key, sizeof key, "%s", rel);
	path_lower(key);
	if (dir) {
		/* A folder came or went: every source below it is checked again
		 * (files that arrived with a new folder come as their own events). */
		size_t n = strlen(key);
		for (size_t si = 0; si < e->n_src; si++) {
			esource *s = &e->src[si];
			if (s->on_disk && !s->intermediate && strncasecmp(s->rel, key, n) == 0 &&
			    s->rel[n] == '/')
				eng_path_changed(e, (uint32_t)s->folder, s->rel, false);
		}
		return;
	}
	/* The file that counts is the one in the lowest-order folder that has it. */
	int32_t win = -1;
	struct stat st;
	char full[KILN_PATH_MAX];
	if (!path_excluded(e, rel)) {
		for (size_t f = 0; f < e->cfg->n_folders; f++) {
			snprintf(full, sizeof full, "%s/%s", e->cfg->folders[f].abs, rel);
			if (lstat(full, &st) != 0)
				continue;
			if (S_ISLNK(st.st_mode)) {
				char real[PATH_MAX], root[PATH_MAX];
				if (!realpath(full, real) || !realpath(e->cfg->folders[f].abs, root) ||
				    strncmp(real, root, strlen(root)) != 0 || stat(real, &st) != 0)
					continue;
			}
			if (S_ISREG(st.st_mode)) {
				win = (int32_t)f;
				break;
			}
		}
	}
	char owner[KILN_PATH_MAX];
	if (e->cfg->n_metadata && eng_is_sidecar(e, rel, key, owner, sizeof owner)) {
		size_t osi;
		if (win >= 0)
			reconcile_file(e, (uint32_t)win, rel, key, (uint64_t)st.st_size,
			               (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
			               e->hash_all);
		else
			eng_sidecar_remove(e, owner);
		if (hmap_get(&e->src_by_key, owner, &osi) && e->src[osi].on_disk)
			eng_source_settle(e, osi);
		return;
	}
	if (win < 0) {
		size_t si;
		if (hmap_get(&e->src_by_key, key, &si) && e->src[si].on_disk && !e->src[si].intermediate)
			eng_source_delete(e, si);
		else
			eng_deps_changed_key(e, key);
		return;
	}
	size_t si =
	    reconcile_file(e, (uint32_t)win, rel, key, (uint64_t)st.st_size,
	                   (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, e->hash_all);
	if (si == NONE) {
		/* not a source: maybe something depends on it as a plain file */
		size_t old;
		if (hmap_get(&e->src_by_key, key, &old) && e->src[old].on_disk && !e->src[old].intermediate &&
		    !eng_match_builders(e, rel))
			eng_source_delete(e, old);
		eng_deps_changed_key(e, key);
		return;
	}
	esource *s = &e->src[si];
	if (!s->changed)
		return;
	eng_source_settle(e, si);
	eng_deps_changed(e, si);
	s->changed = false;
}
