/* eng_scan.c: reconciling the files on disk with the known sources. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "eng.h"
#include "hash.h"
#include "kerr.h"
#include "klog.h"
#include "uuid.h"
#include "scan.h"

void eng_source_delete(engine *e, size_t si)
{
	esource *s = &e->src[si];
	for (size_t ji = s->first_job; ji != NONE; ji = e->jobs[ji].next_in_src)
		eng_job_delete(e, &e->jobs[ji]);
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
	eng_begin(e);
	sqlite3_stmt *st = db_stmt_get(e->db, DBS_SOURCE_DELETE);
	sqlite3_bind_int64(st, 1, s->id);
	db_step_done(e->db, st);
	hmap_del(&e->src_by_key, s->key);
	s->on_disk = false;
	s->bmask = 0;
	e->st->deleted++;
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
		db_bind_text(st, 2, eng_folder_abs(e, s));
		db_bind_text(st, 3, s->rel);
		sqlite3_bind_int64(st, 4, (int64_t)s->size);
		sqlite3_bind_int64(st, 5, s->mtime);
		sqlite3_bind_int64(st, 6, (int64_t)s->hash);
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
	uint64_t m = eng_match_builders(e, rel);
	if (!m)
		return NONE;
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
		s->key = arena_strdup(e->ar, key);
		kuuid u;
		uuid_for_source(rel, &u);
		uuid_format(&u, s->uuid);
		s->is_new = true;
		s->changed = true;
		s->dirty = true;
		s->folder = (int32_t)folder;
		s->rel = arena_strdup(e->ar, rel);
		hmap_put(&e->src_by_key, s->key, si);
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
				hmap_del(&e->src_by_key, s->key);
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
		size_t ai;
		uint64_t want = eng_analysis_fingerprint(e, s, &e->b[bi]);
		if (!hmap_get_int(&e->analysed, eng_analysis_key(s, &e->b[bi]), &ai) || e->analysis_fp[ai] != want)
			eng_analysis_queue(e, si, (int)bi);
		else
			eng_jobs_of_consider(e, si, (int)bi);
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
				 sqlite3_column_int(q, 2) ? "intermediate" : (const char *)sqlite3_column_text(q, 0),
				 (const char *)sqlite3_column_text(q, 1));
			if (unlink(f) == 0)
				path_prune_empty_parents(f, e->cfg->cache);
		}
	}
	sqlite3_finalize(q);
	eng_begin(e);
	db_exec(e->db, "DELETE FROM jobs WHERE builder_id IN (SELECT id FROM builders WHERE active = 0)");
}

int eng_full_scan(engine *e)
{
	scan_result sr;
	int rc = scan_run(e->cfg, e->excludes, e->n_excludes, &sr);
	if (rc)
		return rc;
	e->st->scanned = sr.n;
	bool hash_all = e->opts->hash || e->cfg->scan_hash;
	for (size_t si = 0; si < e->n_src; si++)
		e->src[si].on_disk = false;
	eng_begin(e);
	for (size_t i = 0; i < sr.n; i++) {
		scan_file *f = &sr.files[i];
		reconcile_file(e, f->folder, f->rel, f->key, f->size, f->mtime_ns, hash_all);
	}
	for (size_t si = 0; si < e->n_src; si++) {
		esource *s = &e->src[si];
		if (!s->on_disk && s->id && hmap_get(&e->src_by_key, s->key, NULL))
			eng_source_delete(e, si);
		else if (s->on_disk)
			e->st->sources++;
	}
	drop_orphan_jobs(e);
	eng_maybe_commit(e, true);
	for (size_t si = 0; si < e->n_src; si++)
		eng_source_settle(e, si);
	scan_result_free(&sr);
	return 0;
}
