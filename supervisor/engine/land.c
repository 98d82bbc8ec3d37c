/* land.c: a job's products, from the builder's temp dir into the cache:
 * each one checked (a path inside the temp dir, a regular file, no
 * duplicate sub id or destination, not made by another job), then all of
 * them moved in, and their rows stored, or none (SPEC 3 and 6). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/engine_priv.h"
#include "hash.h"
#include "kerr.h"
#include "klog.h"

/* One product of a reply on its way into the cache. */
typedef struct landing {
	const msg_product *p;
	const char *plat; /* the job's platform, or "intermediate" */
	/* In the reply's arena: the file in the temp dir, its place relative to
	 * Cache/<plat>/ (normalised, lowercase), and that place in full. */
	char *src, *rel, *dest;
	uint64_t size, hash;
	int64_t pid;  /* its row, once stored */
	bool swapped; /* an older product was exchanged out to src */
} landing;

/* Two jobs that make the same product both fail, each naming the other. The
 * other job is not running: its row and a log of its own say why, and its
 * last good products stay where they are. */
static void fail_for_collision(engine *e, size_t oj, const char *path, size_t ji)
{
	ejob *o = &e->jobs[oj], *j = &e->jobs[ji];
	joblog jl;
	int64_t now = wall_ms();
	if (o->running || o->deleted)
		return;
	joblog_open(&jl, e->logs_jobs, o->id, now);
	joblog_linef(&jl, MSG_LEVEL_ERROR, "product \"%s\" is also made by job %lld (%s, %s); both fail",
	             path, (long long)j->id, e->src[j->src].rel, j->job_key);
	eng_begin(e);
	eng_job_fail_row(e, o, "invalid_product", &jl, now, 0, false);
	joblog_close(&jl);
	o->fail_reason = eng_reason_code("invalid_product");
	if (o->status != ST_FAILED) {
		o->status = ST_FAILED;
		eng_emit_job(e, oj);
		e->st->failed++;
		eng_note_failed(e, oj);
	}
}

/* Opens file below dirfd without leaving it: no "..", no absolute or
 * outward symbolic link on the way, and no link as the last component.
 * openat2's RESOLVE_BENEATH does that in the kernel (Linux 5.6); on an older
 * kernel the path is resolved and compared instead. Returns a descriptor or
 * -errno: -EXDEV when the path leaves the folder, -ELOOP for a link. */
static int open_beneath(int dirfd, const char *dir, const char *file)
{
#ifdef SYS_openat2
	struct open_how how = {.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
	                       .resolve = RESOLVE_BENEATH};
	long fd = syscall(SYS_openat2, dirfd, file, &how, sizeof how);
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS)
		return -errno;
#endif
	char abs[KILN_PATH_MAX], real[PATH_MAX];
	snprintf(abs, sizeof abs, "%s/%s", dir, file);
	int f = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (f < 0)
		return -errno;
	size_t n = strlen(dir);
	if (!realpath(abs, real) || strncmp(real, dir, n) != 0 || (real[n] != '/' && real[n] != 0)) {
		close(f);
		return -EXDEV;
	}
	return f;
}

static int cmp_sub_id(const void *a, const void *b)
{
	const landing *x = *(landing *const *)a, *y = *(landing *const *)b;
	if (x->p->sub_id != y->p->sub_id)
		return x->p->sub_id < y->p->sub_id ? -1 : 1;
	return x < y ? -1 : x > y; /* the earlier product first */
}

static int cmp_dest(const void *a, const void *b)
{
	const landing *x = *(landing *const *)a, *y = *(landing *const *)b;
	int c = strcmp(x->rel, y->rel);
	if (c)
		return c;
	if (x->p->intermediate != y->p->intermediate)
		return x->p->intermediate ? 1 : -1;
	return x < y ? -1 : x > y;
}

/* No two products of the job share a sub_id or a destination: one sort for
 * each (n log n; a job may have tens of thousands of products). */
static const char *check_unique(landing *L, size_t n, char *why, size_t whysz)
{
	const char *fail = NULL;
	landing **v = malloc(n * sizeof *v);
	if (!v)
		return "out of memory checking the products";
	for (size_t i = 0; i < n; i++)
		v[i] = &L[i];
	qsort(v, n, sizeof *v, cmp_sub_id);
	for (size_t i = 1; i < n && !fail; i++)
		if (v[i]->p->sub_id == v[i - 1]->p->sub_id) {
			snprintf(why, whysz, "products \"%s\" and \"%s\" share sub_id %u", v[i - 1]->p->file,
			         v[i]->p->file, v[i]->p->sub_id);
			fail = why;
		}
	qsort(v, n, sizeof *v, cmp_dest);
	for (size_t i = 1; i < n && !fail; i++)
		if (strcmp(v[i]->rel, v[i - 1]->rel) == 0 &&
		    v[i]->p->intermediate == v[i - 1]->p->intermediate) {
			snprintf(why, whysz, "products \"%s\" and \"%s\" land on the same path",
			         v[i - 1]->p->file, v[i]->p->file);
			fail = why;
		}
	free(v);
	return fail;
}

/* One product: a path inside the temp dir, a regular file there, not made
 * by another job; then its size and content hash. */
static const char *check_product(engine *e, erun *r, ejob *j, int dirfd, landing *l, arena *a, char *why,
                                 size_t whysz)
{
	const msg_product *p = l->p;
	char rel[KILN_PATH_MAX];
	if (path_check_relative(p->file, strlen(p->file)) != 0) {
		snprintf(why, whysz, "product \"%s\" is not a path inside the temp dir", p->file);
		return why;
	}
	if (path_normalize(p->file, rel, sizeof rel) != 0) {
		snprintf(why, whysz, "product \"%s\" leaves the temp dir", p->file);
		return why;
	}
	path_lower(rel);
	l->rel = arena_strdup(a, rel);
	l->src = arena_printf(a, "%s/%s", r->temp, p->file);
	if (!l->rel || !l->src)
		return "out of memory checking the products";
	int fd = open_beneath(dirfd, r->temp, p->file);
	if (fd < 0) {
		struct stat st;
		if (fd == -ENOENT || fd == -ENOTDIR)
			snprintf(why, whysz, "listed product \"%s\" does not exist in the temp dir", p->file);
		else if (fd == -ELOOP && fstatat(dirfd, p->file, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		         S_ISLNK(st.st_mode))
			snprintf(why, whysz, "product \"%s\" is not a regular file (a symbolic link)",
			         p->file);
		else if (fd == -EXDEV || fd == -ELOOP)
			snprintf(why, whysz, "product \"%s\" resolves outside the temp dir", p->file);
		else
			snprintf(why, whysz, "product \"%s\" cannot be read: %s", p->file, strerror(-fd));
		return why;
	}
	struct stat st;
	const char *fail = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "product \"%s\" is not a regular file", p->file);
		fail = why;
	} else {
		l->size = (uint64_t)st.st_size;
		if (hash_fd_size(fd, l->size, &l->hash) != 0) {
			snprintf(why, whysz, "product \"%s\" cannot be read", p->file);
			fail = why;
		}
	}
	close(fd);
	if (fail)
		return fail;
	size_t pi;
	const char *plat = p->intermediate ? "intermediate" : j->platform;
	if (eng_product_find(e, plat, l->rel, &pi) && e->prods[pi].job_id != j->id) {
		size_t oj;
		const char *other = "another job";
		bool known = eng_job_by_id(e, e->prods[pi].job_id, &oj);
		if (known)
			other = arena_printf(a, "job %lld (%s, %s)", (long long)e->prods[pi].job_id,
			                     e->src[e->jobs[oj].src].rel, e->jobs[oj].job_key);
		snprintf(why, whysz, "product \"%s\" is already made by %s", l->rel,
		         other ? other : "another job");
		if (known)
			fail_for_collision(e, oj, l->rel, (size_t)(j - e->jobs));
		return why;
	}
	return NULL;
}

/* Checks every product before moving any, so that a job lands all of its
 * products or none. Returns NULL when all are fine, else the reason text
 * (static storage, valid until the next call). Strings go in a. */
static const char *check_products(engine *e, erun *r, ejob *j, const msg_process_job_resp *resp, landing *L,
                                  arena *a)
{
	static char why[1024];
	const char *fail = NULL;
	size_t n = resp->n_products;
	if (n > e->max_products) {
		snprintf(why, sizeof why, "the builder returned %zu products; a job may make at most %zu", n,
		         e->max_products);
		return why;
	}
	int dirfd = open(r->temp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		snprintf(why, sizeof why, "the job's temp dir %s cannot be opened: %s", r->temp,
		         strerror(errno));
		return why;
	}
	for (size_t i = 0; i < n && !fail; i++) {
		L[i].p = &resp->products[i];
		fail = check_product(e, r, j, dirfd, &L[i], a, why, sizeof why);
	}
	close(dirfd);
	if (!fail)
		fail = check_unique(L, n, why, sizeof why);
	return fail;
}

/* A product's dependencies: asset ids as given (lowercased), and path
 * dependencies kept as paths; they resolve to asset ids when read (kiln
 * product, the asset catalog), so one whose target appears later is met
 * then. A product never depends on itself. Returns 0 or KILN_E_DB. */
static int store_product_deps(engine *e, const ejob *j, int64_t pid, const msg_product *p, const char *rel,
                              bool fresh)
{
	char self[64];
	sqlite3_stmt *st;
	snprintf(self, sizeof self, "{%s}:%x", e->src[j->src].uuid, p->sub_id);
	/* A product row that is new has no dependency rows to replace. */
	if (!fresh) {
		st = db_stmt_get(e->db, DBS_PRODUCT_DEPS_DELETE);
		db_bind_int64(st, 1, pid);
		if (db_step_done(e->db, st))
			return KILN_E_DB;
	}
	for (size_t k = 0; k < p->n_dep_asset_ids; k++) {
		char id[128];
		snprintf(id, sizeof id, "%s", p->dep_asset_ids[k]);
		path_lower(id);
		if (strcmp(id, self) == 0)
			continue;
		st = db_stmt_get(e->db, DBS_PRODUCT_DEP_INSERT);
		db_bind_int64(st, 1, pid);
		db_bind_text(st, 2, id);
		db_bind_null(st, 3);
		db_bind_text(st, 4, "asset");
		if (db_step_done(e->db, st))
			return KILN_E_DB;
	}
	for (size_t k = 0; k < p->n_path_deps; k++) {
		const msg_path_dep *d = &p->path_deps[k];
		if (!d->is_source) {
			char low[KILN_PATH_MAX];
			snprintf(low, sizeof low, "%s", d->path);
			path_lower(low);
			if (strcmp(low, rel) == 0)
				continue;
		} else if (strcasecmp(d->path, e->src[j->src].rel) == 0 && p->n_path_deps == 1) {
			/* a product that names its own source is not a dependency */
			continue;
		}
		st = db_stmt_get(e->db, DBS_PRODUCT_DEP_INSERT);
		db_bind_int64(st, 1, pid);
		db_bind_null(st, 2);
		db_bind_text(st, 3, d->path);
		db_bind_text(st, 4, d->is_source ? "source_path" : "product_path");
		if (db_step_done(e->db, st))
			return KILN_E_DB;
	}
	return 0;
}

/* Moves a checked product into the cache: a plain rename where nothing is
 * there yet; where a file is (the product of the last good run), the two are
 * exchanged, so the old one waits in the temp dir until the job has landed
 * and can be put back if it does not. Anything but a file or a link in the
 * way (a folder) is put back and refused. Returns 0 or -errno. */
static int move_in(landing *l)
{
	l->swapped = false;
	if (renameat2(AT_FDCWD, l->src, AT_FDCWD, l->dest, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOSYS) {
		/* A file system without these flags (NFS): a plain rename, which
		 * cannot be taken back if a later product fails. */
		return rename(l->src, l->dest) == 0 ? 0 : -errno;
	}
	if (errno != EEXIST)
		return -errno;
	if (renameat2(AT_FDCWD, l->src, AT_FDCWD, l->dest, RENAME_EXCHANGE) != 0)
		return errno == EINVAL || errno == ENOSYS ? (rename(l->src, l->dest) == 0 ? 0 : -errno)
		                                          : -errno;
	struct stat st;
	if (lstat(l->src, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		renameat2(AT_FDCWD, l->src, AT_FDCWD, l->dest, RENAME_EXCHANGE);
		return -EISDIR;
	}
	l->swapped = true;
	return 0;
}

/* Puts back what move_in did: the old product where there was one,
 * nothing where there was none. */
static void move_out(engine *e, landing *l)
{
	if (l->swapped) {
		if (renameat2(AT_FDCWD, l->src, AT_FDCWD, l->dest, RENAME_EXCHANGE) != 0)
			klog(KLOG_ERROR, "putting back %s: %s", l->dest, strerror(errno));
	} else if (unlink(l->dest) == 0) {
		path_prune_empty_parents(l->dest, e->cfg->cache);
	}
}

/* The database rows of a job's products, inside a savepoint of the batch's
 * transaction so that a failure takes back this job's rows and nothing
 * else. Returns NULL or the reason, with the rows rolled back. */
static const char *store_products(engine *e, ejob *j, landing *L, size_t n, int64_t now)
{
	static char why[KILN_PATH_MAX + 256];
	if (eng_begin(e) != 0 || db_exec(e->db, "SAVEPOINT land") != 0) {
		snprintf(why, sizeof why, "the database cannot take the job's products: %s",
		         db_errmsg(e->db));
		return why;
	}
	/* The sub ids the job had a row for: every other row is new. */
	hmap old;
	hmap_init(&old);
	for (size_t oi = j->first_prod; oi != NONE; oi = e->prods[oi].next_in_job)
		hmap_put_int(&old, e->prods[oi].sub_id, 1);
	for (size_t i = 0; i < n; i++) {
		const msg_product *p = L[i].p;
		sqlite3_stmt *st = db_stmt_get(e->db, DBS_PRODUCT_UPSERT);
		db_bind_int64(st, 1, j->id);
		db_bind_int64(st, 2, p->sub_id);
		db_bind_text(st, 3, L[i].plat);
		db_bind_text(st, 4, L[i].rel);
		db_bind_text(st, 5, p->asset_type ? p->asset_type : "");
		db_bind_int64(st, 6, (int64_t)L[i].size);
		db_bind_int64(st, 7, (int64_t)L[i].hash);
		db_bind_int64(st, 8, p->intermediate);
		db_bind_int64(st, 9, now);
		L[i].pid = 0;
		if (db_step_row(e->db, st) == 0)
			L[i].pid = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		bool fresh = !hmap_get_int(&old, p->sub_id, NULL);
		if (!L[i].pid || store_product_deps(e, j, L[i].pid, p, L[i].rel, fresh) != 0) {
			snprintf(why, sizeof why, "storing product %s/%s: %s", L[i].plat, L[i].rel,
			         db_errmsg(e->db));
			db_savepoint_rollback(e->db, "land");
			hmap_free(&old);
			return why;
		}
	}
	hmap_free(&old);
	if (db_exec(e->db, "RELEASE land") != 0) {
		snprintf(why, sizeof why, "storing the job's products: %s", db_errmsg(e->db));
		db_savepoint_rollback(e->db, "land");
		return why;
	}
	return NULL;
}

/* Lands a checked job's products: all of them or none. Folders first, then
 * every file moved in (each one undoable), then the rows; only when all of
 * that held does the engine's memory change and do events go out. Returns
 * NULL, or the reason with the cache and the database as they were. */
static const char *land_products(engine *e, erun *r, ejob *j, const msg_process_job_resp *resp, landing *L,
                                 arena *a)
{
	static char why[KILN_PATH_MAX + 256];
	const char *fail = NULL;
	size_t n = resp->n_products, moved = 0, last_dl = 0;
	int64_t now = wall_ms();
	for (size_t i = 0; i < n; i++) {
		L[i].plat = L[i].p->intermediate ? "intermediate" : j->platform;
		L[i].dest = arena_printf(a, "%s/%s/%s", e->cfg->cache, L[i].plat, L[i].rel);
		if (!L[i].dest)
			return "out of memory landing the products";
		/* Products come in folders: a folder made for the one before is
		 * not asked for again (a mkdir a product, on 40,000 of them). */
		const char *slash = strrchr(L[i].dest, '/');
		size_t dl = slash ? (size_t)(slash - L[i].dest) : 0;
		if (i > 0 && dl == last_dl && strncmp(L[i].dest, L[i - 1].dest, dl) == 0)
			continue;
		last_dl = dl;
		int rc = path_mkdirs_for(L[i].dest, 0755);
		if (rc) {
			snprintf(why, sizeof why, "making the folder of %s in the cache: %s", L[i].rel,
			         kiln_strerror(rc));
			return why;
		}
	}
	for (; moved < n; moved++) {
		int rc = move_in(&L[moved]);
		if (rc) {
			snprintf(why, sizeof why, "moving %s into the cache: %s", L[moved].rel,
			         kiln_strerror(rc));
			fail = why;
			goto undo;
		}
	}
	fail = store_products(e, j, L, n, now);
	if (fail)
		goto undo;

	/* Landed. A sub_id that moved to a new path leaves no old file behind:
	 * one walk over the job's products from before (this loop must not see
	 * the ones remembered below, or it grows with the square of a job's
	 * products). */
	hmap keep;
	hmap_init(&keep);
	for (size_t i = 0; i < n; i++)
		hmap_put_int(&keep, L[i].p->sub_id, i);
	for (size_t oi = j->first_prod; oi != NONE; oi = e->prods[oi].next_in_job) {
		eproduct *op = &e->prods[oi];
		size_t i;
		if (op->deleted || !hmap_get_int(&keep, op->sub_id, &i) ||
		    (strcmp(op->path, L[i].rel) == 0 && op->intermediate == L[i].p->intermediate))
			continue;
		char of[KILN_PATH_MAX];
		eng_product_file(e, op, of, sizeof of);
		if (unlink(of) == 0)
			path_prune_empty_parents(of, e->cfg->cache);
		eng_product_unmap(e, op);
		op->deleted = true;
	}
	for (size_t i = 0; i < n; i++) {
		const msg_product *p = L[i].p;
		if (p->intermediate) {
			struct stat dst;
			if (stat(L[i].dest, &dst) == 0)
				eng_intermediate_landed(
				    e, (size_t)(j - e->jobs), L[i].rel, p->sub_id, L[i].size,
				    (int64_t)dst.st_mtim.tv_sec * 1000000000LL + dst.st_mtim.tv_nsec,
				    L[i].hash);
		}
		/* Remember it in memory too, for collision checks later on. */
		eng_product_remember(e, L[i].pid, j->id, p->sub_id, L[i].plat, L[i].rel, p->intermediate);
		e->st->products++;
		e->catalog_dirty = true;
		eng_emit_product(e, "changed", j->src, p->sub_id, L[i].plat, L[i].rel);
	}
	/* Products this job made before and no longer makes go away. */
	eng_products_delete(e, j->id, &keep);
	hmap_free(&keep);
	return NULL;
undo:
	while (moved > 0)
		move_out(e, &L[--moved]);
	joblog_linef(&r->log, MSG_LEVEL_ERROR, "%s; none of the job's products landed", fail);
	return fail;
}

int eng_land(engine *e, erun *r, ejob *j, const msg_process_job_resp *resp, arena *a, const char **reason)
{
	landing *L = calloc(resp->n_products, sizeof *L);
	const char *why;
	int rc = 0;
	if (!L) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "out of memory landing %zu products",
		             resp->n_products);
		*reason = "failed";
		return -ENOMEM;
	}
	int64_t t0 = pool_now_ms();
	why = check_products(e, r, j, resp, L, a);
	int64_t t1 = pool_now_ms();
	if (why) {
		joblog_linef(&r->log, MSG_LEVEL_ERROR, "%s", why);
		*reason = "invalid_product";
		rc = KILN_E_PROTO;
		goto out;
	}
	for (size_t i = 0; i < resp->n_products; i++)
		if (!resp->products[i].dependencies_handled)
			joblog_linef(&r->log, MSG_LEVEL_WARNING,
			             "product \"%s\" says its dependencies are not handled "
			             "(dependencies_handled false)",
			             resp->products[i].file);
	if (land_products(e, r, j, resp, L, a) != NULL) {
		*reason = "failed";
		rc = KILN_E_STATE;
	}
	/* What landing costs the loop, for jobs where it shows. */
	if (resp->n_products >= 1000)
		klog(KLOG_INFO, "job %lld: %zu products checked in %lld ms, landed in %lld ms",
		     (long long)j->id, resp->n_products, (long long)(t1 - t0),
		     (long long)(pool_now_ms() - t1));
out:
	free(L);
	return rc;
}
