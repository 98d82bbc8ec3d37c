/* deps.c: the source side of the dependency graph.
 *
 * Source dependencies come from create_jobs for a (source, builder): by path
 * (relative to the scan folder root, or to the source's own folder), by UUID,
 * or by wildcard. They are kept whether or not their target exists, indexed
 * in reverse by every key they could resolve through, so that a dependency
 * that appears, changes or goes away wakes exactly the jobs that depend on
 * it. A job's fingerprint covers the content hashes of the transitive
 * closure of its source's dependencies.
 *
 * Job dependencies (after O3DE's JobDependency) make a job wait for another
 * source's jobs; "fingerprint" ones also fold that job's fingerprint into
 * this one's. Sidecars (kiln.json "metadata") are files like X.fbx.assetinfo
 * that belong to X.fbx. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_priv.h"
#include "kerr.h"
#include "klog.h"
#include "uuid.h"
#include "engine/scan.h"

int eng_evec_push(evec *v, size_t x)
{
	if (eng_grow((void **)&v->items, &v->cap, v->n, sizeof *v->items) != 0)
		return -ENOMEM;
	v->items[v->n++] = x;
	return 0;
}

static void rev_add(engine *e, const char *key, size_t di)
{
	size_t ri;
	if (!hmap_get(&e->dep_rev, key, &ri)) {
		if (eng_grow((void **)&e->rev, &e->cap_rev, e->n_rev, sizeof *e->rev) != 0)
			return;
		ri = e->n_rev++;
		memset(&e->rev[ri], 0, sizeof e->rev[ri]);
		hmap_put(&e->dep_rev, arena_strdup(e->ar, key), ri);
	}
	eng_evec_push(&e->rev[ri], di);
}

static bool has_wildcard(const char *p)
{
	return strpbrk(p, "*?[") != NULL;
}

/* Normalises a dependency path into a source key; NULL when it leaves its
 * root or is empty. */
static char *dep_key(engine *e, const char *base, const char *path)
{
	char joined[KILN_PATH_MAX], norm[KILN_PATH_MAX];
	if (base && *base)
		snprintf(joined, sizeof joined, "%s/%s", base, path);
	else
		snprintf(joined, sizeof joined, "%s", path);
	if (path_normalize(joined, norm, sizeof norm) != 0 || norm[0] == 0 || norm[0] == '/' ||
	    strcmp(norm, ".") == 0)
		return NULL;
	path_lower(norm);
	return arena_strdup(e->ar, norm);
}

static void dep_add(engine *e, size_t si, int bi, const char *path, const char *uuid)
{
	esource *s = &e->src[si];
	if (eng_grow((void **)&e->deps, &e->cap_deps, e->n_deps, sizeof *e->deps) != 0)
		return;
	size_t di = e->n_deps;
	edep *d = &e->deps[di];
	memset(d, 0, sizeof *d);
	d->src = si;
	d->builder = bi;
	if (uuid) {
		kuuid u;
		char us[37];
		if (uuid_parse(uuid, &u) != 0) {
			klog(KLOG_WARN, "%s: source dependency \"%s\" is not a UUID; ignored", s->rel, uuid);
			return;
		}
		uuid_format(&u, us);
		d->uuid = arena_strdup(e->ar, us);
		d->raw = d->uuid;
	} else {
		d->raw = arena_strdup(e->ar, path);
		/* An absolute path inside a scan folder becomes relative to it. */
		const char *p = path;
		for (size_t f = 0; path[0] == '/' && f < e->cfg->n_folders; f++) {
			size_t n = strlen(e->cfg->folders[f].abs);
			if (strncmp(path, e->cfg->folders[f].abs, n) == 0 && path[n] == '/') {
				p = path + n + 1;
				break;
			}
		}
		if (has_wildcard(p)) {
			char err[256];
			if (pattern_compile(p, &d->glob, err, sizeof err) != 0) {
				klog(KLOG_WARN, "%s: wildcard dependency \"%s\": %s; ignored", s->rel, p,
				     err);
				return;
			}
		} else {
			d->key = dep_key(e, NULL, p);
			char dir[KILN_PATH_MAX];
			snprintf(dir, sizeof dir, "%s", s->rel);
			char *slash = strrchr(dir, '/');
			if (slash) {
				*slash = 0;
				d->key2 = dep_key(e, dir, p);
				if (d->key2 && d->key && strcmp(d->key2, d->key) == 0)
					d->key2 = NULL;
			}
			if (!d->key && !d->key2) {
				klog(KLOG_WARN,
				     "%s: source dependency \"%s\" leaves the scan folder; ignored", s->rel,
				     p);
				return;
			}
		}
	}
	d->next_in_src = s->first_dep;
	s->first_dep = di;
	e->n_deps++;
	if (d->glob)
		eng_evec_push(&e->glob_deps, di);
	if (d->key)
		rev_add(e, d->key, di);
	if (d->key2)
		rev_add(e, d->key2, di);
	if (d->uuid) {
		char k[48];
		snprintf(k, sizeof k, "uuid:%s", d->uuid);
		rev_add(e, k, di);
	}
}

void eng_deps_set(engine *e, size_t si, int bi, const msg_source_dep *deps, size_t n, bool store)
{
	esource *s = &e->src[si];
	for (size_t di = s->first_dep; di != NONE; di = e->deps[di].next_in_src)
		if (e->deps[di].builder == bi)
			e->deps[di].dead = true;
	for (size_t i = 0; i < n; i++)
		dep_add(e, si, bi, deps[i].path, deps[i].uuid);
	if (!store)
		return;
	eng_begin(e);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(e->db->h, "DELETE FROM source_deps WHERE source_id = ?1 AND builder_id = ?2",
	                       -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) == SQLITE_OK) {
		db_bind_int64(st, 1, s->id);
		db_bind_int64(st, 2, e->b[bi].db_id);
		db_step_done(e->db, st);
	}
	sqlite3_finalize(st);
	if (!n)
		return;
	st = NULL;
	if (sqlite3_prepare_v3(
	        e->db->h,
	        "INSERT INTO source_deps(source_id, builder_id, dep_path, dep_uuid) VALUES(?1, ?2, ?3, ?4)",
	        -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		db_bind_int64(st, 1, s->id);
		db_bind_int64(st, 2, e->b[bi].db_id);
		db_bind_text(st, 3, deps[i].path);
		db_bind_text(st, 4, deps[i].uuid);
		db_step_done(e->db, st);
	}
	sqlite3_finalize(st);
}

int eng_deps_load(engine *e)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(e->db->h, "SELECT source_id, builder_id, dep_path, dep_uuid FROM source_deps",
	                       -1, &st, NULL) != SQLITE_OK)
		return KILN_E_DB;
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t si;
		if (!eng_source_by_id(e, sqlite3_column_int64(st, 0), &si))
			continue;
		int bi = eng_builder_index(e, sqlite3_column_int64(st, 1));
		if (bi < 0)
			continue;
		dep_add(e, si, bi, (const char *)sqlite3_column_text(st, 2),
		        (const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	return 0;
}

static size_t by_key(engine *e, const char *key)
{
	size_t si;
	if (!key)
		return NONE;
	if (hmap_get(&e->src_by_key, key, &si) && e->src[si].on_disk)
		return si;
	char k[KILN_PATH_MAX];
	snprintf(k, sizeof k, "intermediate:%s", key);
	if (hmap_get(&e->src_by_key, k, &si) && e->src[si].on_disk)
		return si;
	return NONE;
}

size_t eng_dep_resolve(engine *e, const edep *d)
{
	size_t si;
	if (d->uuid)
		return eng_source_by_uuid(e, d->uuid);
	si = by_key(e, d->key2);
	if (si != NONE)
		return si;
	return by_key(e, d->key);
}

size_t eng_source_by_path(engine *e, const char *path, const esource *rel_to)
{
	char *k = NULL;
	if (rel_to) {
		char dir[KILN_PATH_MAX];
		snprintf(dir, sizeof dir, "%s", rel_to->rel);
		char *slash = strrchr(dir, '/');
		if (slash) {
			*slash = 0;
			k = dep_key(e, dir, path);
			size_t si = by_key(e, k);
			if (si != NONE)
				return si;
		}
	}
	return by_key(e, dep_key(e, NULL, path));
}

/* A dependency on a file that is no source (no builder wants it) still
 * counts: it is found under the scan folders by the path as written, and
 * hashed when its size or time changed. */
typedef struct plain_file {
	char *path;
	uint64_t size;
	int64_t mtime;
	uint64_t hash;
} plain_file;

static plain_file *plains;
static size_t n_plains, cap_plains;
static hmap plain_by_path;

/* Finds a plain file named by dependency d: relative to the dependent's own
 * folder first, then to each scan folder's root. */
bool eng_dep_plain_path(engine *e, const edep *d, char *norm, size_t normsz, struct stat *st)
{
	char dir[KILN_PATH_MAX], full[KILN_PATH_MAX];
	const esource *s = &e->src[d->src];
	if (!d->raw || d->uuid || d->glob || d->raw[0] == '/')
		return false;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t f = 0; f < e->cfg->n_folders; f++) {
			if (pass == 0) {
				if (s->folder != (int32_t)f)
					continue;
				snprintf(dir, sizeof dir, "%s", s->rel);
				char *slash = strrchr(dir, '/');
				if (!slash)
					continue;
				*slash = 0;
				snprintf(full, sizeof full, "%s/%s/%s", e->cfg->folders[f].abs, dir, d->raw);
			} else {
				snprintf(full, sizeof full, "%s/%s", e->cfg->folders[f].abs, d->raw);
			}
			size_t rl = strlen(e->cfg->folders[f].abs);
			if (path_normalize(full, norm, normsz) != 0 ||
			    strncmp(norm, e->cfg->folders[f].abs, rl) != 0 || norm[rl] != '/')
				continue;
			if (stat(norm, st) == 0 && S_ISREG(st->st_mode))
				return true;
		}
	}
	return false;
}

static bool plain_hash_path(engine *e, const char *norm, const struct stat *stp, uint64_t *out)
{
	struct stat st = *stp;
	int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	size_t i;
	if (!plain_by_path.cap)
		hmap_init(&plain_by_path);
	if (hmap_get(&plain_by_path, norm, &i) && plains[i].size == (uint64_t)st.st_size &&
	    plains[i].mtime == mt && !e->opts->hash) {
		*out = plains[i].hash;
		return true;
	}
	uint64_t h;
	if (hash_file(norm, &h) != 0)
		return false;
	if (!hmap_get(&plain_by_path, norm, &i)) {
		if (eng_grow((void **)&plains, &cap_plains, n_plains, sizeof *plains) != 0)
			return false;
		i = n_plains++;
		plains[i].path = strdup(norm);
		hmap_put(&plain_by_path, plains[i].path, i);
	}
	plains[i].size = (uint64_t)st.st_size;
	plains[i].mtime = mt;
	plains[i].hash = h;
	*out = h;
	return true;
}

static bool plain_hash(engine *e, const edep *d, uint64_t *out)
{
	char norm[KILN_PATH_MAX];
	struct stat st;
	if (!eng_dep_plain_path(e, d, norm, sizeof norm, &st))
		return false;
	return plain_hash_path(e, norm, &st, out);
}

void eng_deps_free_plain(void)
{
	for (size_t i = 0; i < n_plains; i++)
		free(plains[i].path);
	free(plains);
	plains = NULL;
	n_plains = cap_plains = 0;
	hmap_free(&plain_by_path);
}

typedef struct dep_hash {
	const char *name;
	uint64_t hash;
	bool missing;
} dep_hash;

static int cmp_dep_hash(const void *a, const void *b)
{
	return strcmp(((const dep_hash *)a)->name, ((const dep_hash *)b)->name);
}

static void collect(engine *e, size_t si, evec *seen, dep_hash **out, size_t *n, size_t *cap, int depth)
{
	if (depth > 64)
		return;
	for (size_t di = e->src[si].first_dep; di != NONE; di = e->deps[di].next_in_src) {
		edep *d = &e->deps[di];
		if (d->dead)
			continue;
		if (d->glob) {
			/* Every file the wildcard matches, source or not: a match
			 * that appears or goes changes the print. */
			const scan_result *files = eng_files(e);
			for (size_t fi = 0; files && fi < files->n; fi++) {
				const scan_file *sf = &files->files[fi];
				if (pattern_match(d->glob, sf->rel) != 1)
					continue;
				size_t t;
				if (hmap_get(&e->src_by_key, sf->key, &t) && e->src[t].on_disk) {
					esource *ts = &e->src[t];
					if (t == si || ts->seen)
						continue;
					ts->seen = true;
					eng_evec_push(seen, t);
					if (eng_grow((void **)out, cap, *n, sizeof **out) == 0)
						(*out)[(*n)++] =
						    (dep_hash){eng_src_key(e, t), ts->hash, false};
					collect(e, t, seen, out, n, cap, depth + 1);
					continue;
				}
				char full[KILN_PATH_MAX];
				struct stat st;
				uint64_t h = 0;
				snprintf(full, sizeof full, "%s/%s", e->cfg->folders[sf->folder].abs,
				         sf->rel);
				if (stat(full, &st) != 0 || !plain_hash_path(e, full, &st, &h))
					continue;
				if (eng_grow((void **)out, cap, *n, sizeof **out) == 0)
					(*out)[(*n)++] = (dep_hash){sf->key, h, false};
			}
			continue;
		}
		size_t t = eng_dep_resolve(e, d);
		if (t == NONE) {
			uint64_t h = 0;
			bool found = plain_hash(e, d, &h);
			if (eng_grow((void **)out, cap, *n, sizeof **out) == 0)
				(*out)[(*n)++] = (dep_hash){d->key2 && found ? d->key2
				                            : d->key         ? d->key
				                                             : d->raw,
				                            h, !found};
			continue;
		}
		if (t == si || e->src[t].seen)
			continue;
		e->src[t].seen = true;
		eng_evec_push(seen, t);
		if (eng_grow((void **)out, cap, *n, sizeof **out) == 0)
			(*out)[(*n)++] = (dep_hash){eng_src_key(e, t), e->src[t].hash, false};
		collect(e, t, seen, out, n, cap, depth + 1);
	}
}

void eng_deps_fingerprint(engine *e, size_t si, fp_state *f, json_t *parts)
{
	evec seen = {0};
	dep_hash *hs = NULL;
	size_t n = 0, cap = 0;
	e->src[si].seen = true;
	eng_evec_push(&seen, si);
	collect(e, si, &seen, &hs, &n, &cap, 0);
	for (size_t i = 0; i < seen.n; i++)
		e->src[seen.items[i]].seen = false;
	free(seen.items);
	if (n > 1)
		qsort(hs, n, sizeof *hs, cmp_dep_hash);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0)
			continue;
		fp_str(f, hs[i].name);
		fp_u64(f, hs[i].missing ? 0 : hs[i].hash);
		fp_u64(f, hs[i].missing);
		if (parts) {
			char hex[17];
			hash_hex(hs[i].hash, hex);
			json_object_set_new(parts, hs[i].name, json_string(hs[i].missing ? "missing" : hex));
		}
	}
	free(hs);
	const esidecar *sc = eng_sidecar_of(e, &e->src[si]);
	if (sc) {
		fp_str(f, sc->rel);
		fp_u64(f, sc->hash);
		if (parts) {
			char hex[17];
			hash_hex(sc->hash, hex);
			json_object_set_new(parts, sc->rel, json_string(hex));
		}
	}
}

/* The walk over what depends on a changed source marks each source it
 * passes (esource.seen) so that a cycle ends; the jobs it reaches are only
 * noted on the way (todo: source and builder, two entries each) and weighed
 * once every mark is gone again, because weighing a job prints its
 * fingerprint, and the print (collect) passes over marked sources too. */
typedef struct wake_walk {
	evec visited;
	evec todo;
} wake_walk;

static void wake(engine *e, size_t si, wake_walk *w, int depth);

static void wake_dep(engine *e, size_t di, wake_walk *w, int depth)
{
	edep *d = &e->deps[di];
	if (d->dead || e->src[d->src].seen)
		return;
	eng_evec_push(&w->todo, d->src);
	eng_evec_push(&w->todo, (size_t)d->builder);
	wake(e, d->src, w, depth + 1);
}

static void wake_key(engine *e, const char *key, size_t si, wake_walk *w, int depth)
{
	size_t ri;
	if (!hmap_get(&e->dep_rev, key, &ri))
		return;
	for (size_t k = 0; k < e->rev[ri].n; k++) {
		if (e->deps[e->rev[ri].items[k]].src == si)
			continue;
		wake_dep(e, e->rev[ri].items[k], w, depth);
	}
}

/* Everything that depends on si, transitively, is noted to be weighed. */
static void wake(engine *e, size_t si, wake_walk *w, int depth)
{
	esource *s = &e->src[si];
	if (s->seen || depth > 64)
		return;
	s->seen = true;
	eng_evec_push(&w->visited, si);
	const char *key = eng_src_key(e, si);
	if (strncmp(key, "intermediate:", 13) == 0)
		key += 13;
	wake_key(e, key, si, w, depth);
	char k[48];
	snprintf(k, sizeof k, "uuid:%s", s->uuid);
	wake_key(e, k, si, w, depth);
	for (size_t g = 0; g < e->glob_deps.n; g++) {
		edep *d = &e->deps[e->glob_deps.items[g]];
		if (!d->dead && d->src != si && pattern_match(d->glob, s->rel) == 1)
			wake_dep(e, e->glob_deps.items[g], w, depth);
	}
}

/* Clears the walk's marks, then weighs the jobs it reached. */
static void wake_finish(engine *e, wake_walk *w)
{
	for (size_t i = 0; i < w->visited.n; i++)
		e->src[w->visited.items[i]].seen = false;
	for (size_t i = 0; i + 1 < w->todo.n; i += 2)
		eng_jobs_of_consider(e, w->todo.items[i], (int)w->todo.items[i + 1]);
	free(w->visited.items);
	free(w->todo.items);
}

void eng_deps_changed_key(engine *e, const char *key)
{
	wake_walk w = {0};
	wake_key(e, key, NONE, &w, 0);
	wake_finish(e, &w);
}

void eng_deps_changed(engine *e, size_t si)
{
	wake_walk w = {0};
	wake(e, si, &w, 0);
	wake_finish(e, &w);
}

/* ---- sidecars ---- */

bool eng_is_sidecar(engine *e, const char *rel, const char *key, char *owner_key, size_t owner_sz)
{
	(void)rel;
	const char *dot = strrchr(key, '.');
	if (!dot || strchr(dot, '/'))
		return false;
	for (size_t m = 0; m < e->cfg->n_metadata; m++) {
		const cfg_metadata *md = &e->cfg->metadata[m];
		if (strcmp(dot + 1, md->ext) != 0)
			continue;
		size_t olen = (size_t)(dot - key);
		if (olen == 0 || olen >= owner_sz)
			return false;
		memcpy(owner_key, key, olen);
		owner_key[olen] = 0;
		const char *oext = path_ext(owner_key);
		for (size_t k = 0; k < md->n_source_exts; k++)
			if (strcmp(oext, md->source_exts[k]) == 0)
				return true;
	}
	return false;
}

void eng_sidecar_add(engine *e, int32_t folder, const char *rel, const char *owner_key, uint64_t hash)
{
	size_t i;
	if (hmap_get(&e->side_by_owner, owner_key, &i)) {
		if (e->sidecars[i].folder <= folder && e->sidecars[i].folder >= 0)
			return; /* a lower-order folder's sidecar wins, as for sources */
	} else {
		if (eng_grow((void **)&e->sidecars, &e->cap_sidecars, e->n_sidecars, sizeof *e->sidecars) !=
		    0)
			return;
		i = e->n_sidecars++;
		e->sidecars[i].owner_key = arena_strdup(e->ar, owner_key);
		hmap_put(&e->side_by_owner, e->sidecars[i].owner_key, i);
	}
	e->sidecars[i].rel = arena_strdup(e->ar, rel);
	e->sidecars[i].folder = folder;
	e->sidecars[i].hash = hash;
}

void eng_sidecar_remove(engine *e, const char *owner_key)
{
	size_t i;
	if (!hmap_get(&e->side_by_owner, owner_key, &i))
		return;
	hmap_del(&e->side_by_owner, owner_key);
	e->sidecars[i].hash = 0;
}

const esidecar *eng_sidecar_of(engine *e, const esource *s)
{
	size_t i;
	if (!e->n_sidecars || !hmap_get(&e->side_by_owner, eng_src_mapkey(s), &i))
		return NULL;
	return &e->sidecars[i];
}

/* ---- job dependencies ---- */

static size_t jdep_source(engine *e, const ejob *j, const ejdep *d)
{
	if (d->uuid) {
		kuuid u;
		char us[37];
		if (uuid_parse(d->uuid, &u) != 0)
			return NONE;
		uuid_format(&u, us);
		return eng_source_by_uuid(e, us);
	}
	return eng_source_by_path(e, d->path, &e->src[j->src]);
}

static bool jdep_matches(const ejob *j, const ejdep *d, const ejob *t)
{
	if (t->deleted || t->analysis_failure)
		return false;
	if (d->job_key && strcmp(d->job_key, t->job_key) != 0)
		return false;
	return strcmp(d->platform ? d->platform : j->platform, t->platform) == 0;
}

void eng_jdeps_fingerprint(engine *e, size_t ji, fp_state *f)
{
	ejob *j = &e->jobs[ji];
	for (size_t k = 0; k < j->n_jdeps; k++) {
		ejdep *d = &j->jdeps[k];
		if (!d->fingerprint)
			continue;
		size_t si = jdep_source(e, j, d);
		fp_str(f, d->path ? d->path : d->uuid);
		if (si == NONE) {
			fp_u64(f, 0);
			continue;
		}
		for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src)
			if (jdep_matches(j, d, &e->jobs[t]))
				fp_u64(f, e->jobs[t].has_fp ? e->jobs[t].fp : 0);
	}
}

/* Walks the wait-for graph from job ji; true when it leads back to start. */
static bool waits_on(engine *e, size_t ji, size_t start, int depth)
{
	if (depth > 64)
		return true;
	ejob *j = &e->jobs[ji];
	for (size_t k = 0; k < j->n_jdeps; k++) {
		size_t si = jdep_source(e, j, &j->jdeps[k]);
		if (si == NONE)
			continue;
		for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src) {
			ejob *tj = &e->jobs[t];
			if (!jdep_matches(j, &j->jdeps[k], tj))
				continue;
			if (t == start)
				return true;
			if ((tj->queued || tj->waiting) && waits_on(e, t, start, depth + 1))
				return true;
		}
	}
	return false;
}

int eng_jdeps_ready(engine *e, size_t ji, char *why, size_t whysz)
{
	ejob *j = &e->jobs[ji];
	why[0] = 0;
	for (size_t k = 0; k < j->n_jdeps; k++) {
		ejdep *d = &j->jdeps[k];
		size_t si = jdep_source(e, j, d);
		if (si == NONE)
			continue; /* nothing to wait for (yet) */
		if (e->src[si].analysing) {
			snprintf(why, whysz, "waiting for create_jobs of %s", e->src[si].rel);
			return 0;
		}
		for (size_t t = e->src[si].first_job; t != NONE; t = e->jobs[t].next_in_src) {
			ejob *tj = &e->jobs[t];
			if (t == ji || !jdep_matches(j, d, tj))
				continue;
			if (tj->queued || tj->running || tj->waiting) {
				if (!tj->running && (t == ji || waits_on(e, t, ji, 0))) {
					snprintf(
					    why, whysz,
					    "job dependency cycle: %s (%s) and %s (%s) wait for each other",
					    e->src[j->src].rel, j->job_key, e->src[tj->src].rel, tj->job_key);
					return -1;
				}
				snprintf(why, whysz, "waiting for %s (%s, %s)", e->src[tj->src].rel,
				         tj->job_key, tj->platform);
				return 0;
			}
		}
	}
	return 1;
}

/* When nothing runs and jobs still wait, what they wait for will never
 * come: queue them once more, and fail them if they park again. */
bool eng_jdeps_stalled(engine *e)
{
	size_t live = 0;
	for (size_t i = 0; i < e->waiting.n; i++)
		live += e->jobs[e->waiting.items[i]].waiting;
	if (!live) {
		e->waiting.n = 0;
		return false;
	}
	if (!e->waiting_retried) {
		e->waiting_retried = true;
		eng_jdeps_job_done(e, NONE, false);
		e->waiting_retried = true;
		return true;
	}
	for (size_t i = 0; i < e->waiting.n; i++) {
		size_t w = e->waiting.items[i];
		if (!e->jobs[w].waiting)
			continue;
		e->jobs[w].waiting = false;
		eng_job_fail_unstarted(
		    e, w, "its job dependencies never finished (they wait on each other or are gone)");
	}
	e->waiting.n = 0;
	return true;
}

void eng_jdeps_job_done(engine *e, size_t ji, bool fp_changed)
{
	e->waiting_retried = false;
	/* Parked jobs may be free now: put them back in the queue, where the
	 * dispatcher checks them again. */
	size_t keep = 0;
	for (size_t i = 0; i < e->waiting.n; i++) {
		size_t w = e->waiting.items[i];
		ejob *wj = &e->jobs[w];
		if (!wj->waiting)
			continue;
		wj->waiting = false;
		if (!wj->deleted && runq_push(&e->q, w, wj->escalated, wj->critical, wj->priority) == 0)
			wj->queued = true;
	}
	e->waiting.n = keep;
	if (!fp_changed || ji == NONE)
		return;
	/* Jobs that fold this job's fingerprint into theirs weigh again. */
	ejob *done = &e->jobs[ji];
	for (size_t i = 0; i < e->jdep_jobs.n; i++) {
		size_t d = e->jdep_jobs.items[i];
		ejob *dj = &e->jobs[d];
		if (d == ji || dj->deleted)
			continue;
		for (size_t k = 0; k < dj->n_jdeps; k++) {
			if (dj->jdeps[k].fingerprint && jdep_source(e, dj, &dj->jdeps[k]) == done->src &&
			    jdep_matches(dj, &dj->jdeps[k], done)) {
				eng_job_consider(e, d);
				break;
			}
		}
	}
}
