/* prescan.c: the scan-folder walk and the cache listing, on a second thread
 * while the first reads the database. */
#include "engine/prescan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "kerr.h"
#include "klog.h"
#include "path.h"

static int add_hash(cache_listing *l, uint64_t h)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 4096;
		uint64_t *nh = realloc(l->h, ncap * sizeof *nh);
		if (!nh)
			return -ENOMEM;
		l->h = nh;
		l->cap = ncap;
	}
	l->h[l->n++] = h;
	return 0;
}

/* Lists dfd (which it closes) into l; path holds "dir/rel" of that folder,
 * len bytes long. */
static int list_dir(cache_listing *l, int dfd, char *path, size_t len, int depth)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)))
			continue;
		size_t nlen = strlen(name);
		if (len + 1 + nlen + 1 > KILN_PATH_MAX)
			continue; /* no product has a path that long */
		path[len] = '/';
		memcpy(path + len + 1, name, nlen + 1);
		unsigned char type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		}
		if (type == DT_DIR) {
			if (depth >= 256)
				continue;
			int cfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0)
				rc = list_dir(l, cfd, path, len + 1 + nlen, depth + 1);
		} else {
			rc = add_hash(l, hash_bytes(path, len + 1 + nlen));
		}
	}
	path[len] = 0;
	closedir(d);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int cache_list(const kiln_config *cfg, cache_listing *out)
{
	memset(out, 0, sizeof *out);
	out->dirs = calloc(cfg->n_platforms + 1, sizeof *out->dirs);
	if (!out->dirs)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_platforms; i++)
		out->dirs[out->n_dirs++] = cfg->platforms[i];
	out->dirs[out->n_dirs++] = "intermediate";
	int cache_fd = open(cfg->cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cache_fd < 0)
		return 0; /* no cache yet: nothing is there */
	int rc = 0;
	char path[KILN_PATH_MAX];
	for (size_t i = 0; i < out->n_dirs && rc == 0; i++) {
		size_t len = strlen(out->dirs[i]);
		if (len + 1 > sizeof path)
			continue;
		memcpy(path, out->dirs[i], len + 1);
		int fd = openat(cache_fd, out->dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			rc = list_dir(out, fd, path, len, 0);
	}
	close(cache_fd);
	if (rc) {
		cache_listing_free(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->h, out->n, sizeof *out->h, cmp_u64);
	return 0;
}

int cache_listing_has(const cache_listing *l, const char *dir, const char *rel)
{
	bool listed = false;
	for (size_t i = 0; i < l->n_dirs && !listed; i++)
		listed = strcmp(l->dirs[i], dir) == 0;
	if (!listed)
		return -1;
	char path[KILN_PATH_MAX];
	size_t dl = strlen(dir), rl = strlen(rel);
	if (dl + 1 + rl + 1 > sizeof path)
		return 0;
	memcpy(path, dir, dl);
	path[dl] = '/';
	memcpy(path + dl + 1, rel, rl + 1);
	uint64_t h = hash_bytes(path, dl + 1 + rl);
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->h[mid] == h)
			return 1;
		if (l->h[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void cache_listing_free(cache_listing *l)
{
	free(l->h);
	free(l->dirs);
	memset(l, 0, sizeof *l);
}

static void *prescan_main(void *arg)
{
	prescan *p = arg;
	p->scan_rc = scan_run(p->cfg, p->excludes, p->n_excludes, &p->sr);
	p->list_rc = cache_list(p->cfg, &p->cl);
	return NULL;
}

int prescan_start(prescan *p, const kiln_config *cfg, kpattern *const *excludes, size_t n_excludes)
{
	memset(p, 0, sizeof *p);
	p->cfg = cfg;
	p->excludes = excludes;
	p->n_excludes = n_excludes;
	int rc = pthread_create(&p->thread, NULL, prescan_main, p);
	if (rc != 0)
		return -rc;
	p->started = true;
	return 0;
}

void prescan_join(prescan *p)
{
	if (p->started && !p->joined) {
		pthread_join(p->thread, NULL);
		p->joined = true;
	}
}

void prescan_free(prescan *p)
{
	prescan_join(p);
	if (p->started && p->scan_rc == 0 && !p->sr_taken)
		scan_result_free(&p->sr);
	if (p->started && p->list_rc == 0)
		cache_listing_free(&p->cl);
	memset(p, 0, sizeof *p);
}
