/* scan.c: a stat walk with openat()/fstatat(), then one sort to apply
 * overrides. No per-file allocation beyond the two strings in the arena. */
#include "engine/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kerr.h"
#include "klog.h"
#include "path.h"

typedef struct walk {
	const kiln_config *cfg;
	kpattern *const *excludes;
	size_t n_excludes;
	scan_result *out;
	uint32_t folder;
	const char *root;         /* absolute scan folder */
	char root_real[PATH_MAX]; /* the same with links resolved, for link checks */
	size_t root_len;
	dev_t cache_dev;
	ino_t cache_ino;
	bool have_cache;
	char rel[KILN_PATH_MAX];
} walk;

static bool excluded(walk *w, const char *rel)
{
	for (size_t i = 0; i < w->n_excludes; i++) {
		int m = pattern_match(w->excludes[i], rel);
		if (m == 1)
			return true;
		if (m < 0)
			klog(KLOG_WARN, "exclude /%s/ hit its match limit on %s; the file is kept",
			     pattern_source(w->excludes[i]), rel);
	}
	return false;
}

static int add_file(walk *w, const char *rel, const struct stat *st)
{
	scan_result *r = w->out;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 1024;
		scan_file *nf = realloc(r->files, ncap * sizeof *nf);
		if (!nf)
			return -ENOMEM;
		r->files = nf;
		r->cap = ncap;
	}
	size_t len = strlen(rel);
	char *s = arena_alloc_bytes(r->strings, 2 * (len + 1));
	if (!s)
		return -ENOMEM;
	memcpy(s, rel, len + 1);
	char *k = s + len + 1;
	memcpy(k, rel, len + 1);
	path_lower(k);
	scan_file *f = &r->files[r->n++];
	f->folder = w->folder;
	f->rel = s;
	f->key = k;
	f->size = (uint64_t)st->st_size;
	f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	return 0;
}

/* A symbolic link is taken only when it resolves to a regular file inside
 * the scan folder, so a link cannot pull outside files into the project. */
static bool link_ok(walk *w, int dfd, const char *name, struct stat *st)
{
	char full[KILN_PATH_MAX], real[PATH_MAX];
	if (path_join(full, sizeof full, w->root, w->rel) != 0)
		return false;
	(void)dfd;
	(void)name;
	if (!realpath(full, real))
		return false;
	if (strncmp(real, w->root_real, w->root_len) != 0 ||
	    (real[w->root_len] != '/' && real[w->root_len] != 0))
		return false;
	if (stat(real, st) != 0 || !S_ISREG(st->st_mode))
		return false;
	return true;
}

static int walk_dir(walk *w, int dfd, size_t rel_len, int depth)
{
	DIR *d = fdopendir(dfd);
	int rc = 0;
	if (!d) {
		close(dfd);
		return 0;
	}
	if (depth > 256) {
		klog(KLOG_WARN, "scan: %s/%s is nested too deep; skipped", w->root, w->rel);
		closedir(d);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
			continue;
		size_t nlen = strlen(name);
		if (rel_len + nlen + 2 >= sizeof w->rel) {
			klog(KLOG_WARN, "scan: path too long under %s/%s; skipped", w->root, w->rel);
			continue;
		}
		size_t off = rel_len;
		if (rel_len)
			w->rel[off++] = '/';
		memcpy(w->rel + off, name, nlen + 1);
		size_t new_len = off + nlen;

		unsigned char type = de->d_type;
		struct stat st;
		if (type == DT_UNKNOWN || type == DT_REG || type == DT_LNK) {
			if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				goto next;
			if (S_ISDIR(st.st_mode))
				type = DT_DIR;
			else if (S_ISLNK(st.st_mode))
				type = DT_LNK;
			else if (S_ISREG(st.st_mode))
				type = DT_REG;
			else
				goto next;
		}
		if (type == DT_DIR) {
			if (!w->cfg->folders[w->folder].recursive)
				goto next;
			int cfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0)
				goto next;
			struct stat dst;
			if (w->have_cache && fstat(cfd, &dst) == 0 && dst.st_dev == w->cache_dev &&
			    dst.st_ino == w->cache_ino) {
				close(cfd);
				goto next;
			}
			/* A folder is pruned when "folder/" matches an exclude,
			 * so excluding "(^|/)\.git/" never walks the .git tree. */
			w->rel[new_len] = '/';
			w->rel[new_len + 1] = 0;
			bool ex = excluded(w, w->rel);
			w->rel[new_len] = 0;
			if (ex) {
				close(cfd);
				goto next;
			}
			rc = walk_dir(w, cfd, new_len, depth + 1);
			if (rc)
				break;
		} else if (type == DT_LNK) {
			if (!link_ok(w, dirfd(d), name, &st))
				goto next;
			if (excluded(w, w->rel)) {
				w->out->n_excluded++;
				goto next;
			}
			rc = add_file(w, w->rel, &st);
			if (rc)
				break;
		} else if (type == DT_REG) {
			if (excluded(w, w->rel)) {
				w->out->n_excluded++;
				goto next;
			}
			rc = add_file(w, w->rel, &st);
			if (rc)
				break;
		}
	next:
		w->rel[rel_len] = 0;
	}
	closedir(d);
	return rc;
}

static int cmp_files(const void *a, const void *b)
{
	const scan_file *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	/* Folders are sorted by order in the config, so a lower index wins. */
	return (x->folder > y->folder) - (x->folder < y->folder);
}

int scan_run(const kiln_config *cfg, kpattern *const *excludes, size_t n_excludes, scan_result *out)
{
	memset(out, 0, sizeof *out);
	out->strings = arena_new();
	if (!out->strings)
		return -ENOMEM;
	walk w = {.cfg = cfg, .excludes = excludes, .n_excludes = n_excludes, .out = out};
	struct stat cst;
	if (stat(cfg->cache, &cst) == 0) {
		w.have_cache = true;
		w.cache_dev = cst.st_dev;
		w.cache_ino = cst.st_ino;
	}
	int rc = 0;
	for (uint32_t i = 0; i < cfg->n_folders; i++) {
		w.folder = i;
		w.root = cfg->folders[i].abs;
		if (!realpath(w.root, w.root_real))
			snprintf(w.root_real, sizeof w.root_real, "%s", w.root);
		w.root_len = strlen(w.root_real);
		w.rel[0] = 0;
		int fd = open(w.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			klog(KLOG_WARN, "scan: cannot open scan folder %s: %s", w.root, strerror(errno));
			continue;
		}
		rc = walk_dir(&w, fd, 0, 0);
		if (rc)
			goto fail;
	}
	if (out->n > 1)
		qsort(out->files, out->n, sizeof *out->files, cmp_files);
	/* Keep the first of each key: the lowest-order folder's file. */
	size_t j = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (j > 0 && strcmp(out->files[j - 1].key, out->files[i].key) == 0) {
			if (out->files[j - 1].folder == out->files[i].folder)
				klog(KLOG_WARN,
				     "scan: %s/%s differs from %s only in case; the second is ignored",
				     cfg->folders[out->files[i].folder].abs, out->files[i].rel,
				     out->files[j - 1].rel);
			out->n_overridden++;
			continue;
		}
		out->files[j++] = out->files[i];
	}
	out->n = j;
	return 0;
fail:
	scan_result_free(out);
	return rc;
}

long scan_find(const scan_result *r, const char *key)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->files[mid].key, key);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void scan_result_free(scan_result *r)
{
	free(r->files);
	arena_free(r->strings);
	memset(r, 0, sizeof *r);
}
