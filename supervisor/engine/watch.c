/* watch.c: recursive inotify with per-path coalescing. */
#include "engine/watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hmap.h"
#include "kerr.h"
#include "klog.h"
#include "path.h"

/* A path is handed out after this much quiet; a file still open for writing
 * (IN_MODIFY without IN_CLOSE_WRITE) waits longer. */
#define QUIET_MS      3
#define OPEN_QUIET_MS 100

#define WATCH_MASK                                                                                           \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
	 IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR | IN_EXCL_UNLINK)

typedef struct wdir {
	uint32_t folder;
	char *rel; /* "" for the scan folder itself */
	bool live;
} wdir;

typedef struct pending {
	uint32_t folder;
	char *rel;
	char *key; /* owned; the by_path map points at it */
	bool dir;
	bool open; /* modified but not closed yet */
	int64_t last;
	bool live;
} pending;

struct watch {
	const kiln_config *cfg;
	kpattern *const *excludes;
	size_t n_excludes;
	int fd;
	hmap by_wd; /* wd -> index into dirs */
	wdir *dirs;
	size_t n_dirs, cap_dirs;
	hmap by_path; /* "folder\x1frel" -> index into pend */
	pending *pend;
	size_t n_pend, cap_pend, n_live;
	bool overflow;
	dev_t cache_dev;
	ino_t cache_ino;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 64;
	void *p = realloc(*arr, nc * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = nc;
	return 0;
}

static bool excluded_dir(watch *w, const char *rel)
{
	char buf[KILN_PATH_MAX];
	snprintf(buf, sizeof buf, "%s/", rel);
	for (size_t i = 0; i < w->n_excludes; i++)
		if (pattern_match(w->excludes[i], buf) == 1)
			return true;
	return false;
}

static void note(watch *w, uint32_t folder, const char *rel, bool dir, bool open)
{
	char key[KILN_PATH_MAX + 16];
	snprintf(key, sizeof key, "%u\x1f%s", folder, rel);
	size_t i;
	if (hmap_get(&w->by_path, key, &i) && w->pend[i].live) {
		w->pend[i].last = now_ms();
		w->pend[i].dir |= dir;
		w->pend[i].open = open;
		return;
	}
	if (grow((void **)&w->pend, &w->cap_pend, w->n_pend, sizeof *w->pend) != 0)
		return;
	i = w->n_pend++;
	pending *p = &w->pend[i];
	p->folder = folder;
	p->rel = strdup(rel);
	p->dir = dir;
	p->open = open;
	p->last = now_ms();
	p->live = true;
	p->key = strdup(key);
	if (!p->rel || !p->key) {
		free(p->rel);
		free(p->key);
		w->n_pend--;
		return;
	}
	w->n_live++;
	hmap_put(&w->by_path, p->key, i);
}

/* Adds a watch on folder rel and, when announce is set, reports every file
 * below it (a folder that appears comes with whatever was put in it before
 * the watch existed). */
static void add_tree(watch *w, uint32_t folder, const char *rel, bool announce, int depth)
{
	char full[KILN_PATH_MAX];
	const char *root = w->cfg->folders[folder].abs;
	if (depth > 256)
		return;
	if (*rel)
		snprintf(full, sizeof full, "%s/%s", root, rel);
	else
		snprintf(full, sizeof full, "%s", root);
	struct stat st;
	if (lstat(full, &st) != 0 || !S_ISDIR(st.st_mode))
		return;
	if (st.st_dev == w->cache_dev && st.st_ino == w->cache_ino)
		return;
	if (*rel && excluded_dir(w, rel))
		return;
	int wd = inotify_add_watch(w->fd, full, WATCH_MASK);
	if (wd < 0) {
		klog(KLOG_WARN, "watch: cannot watch %s: %s%s", full, strerror(errno),
		     errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
		return;
	}
	size_t di;
	if (!hmap_get_int(&w->by_wd, wd, &di)) {
		if (grow((void **)&w->dirs, &w->cap_dirs, w->n_dirs, sizeof *w->dirs) != 0)
			return;
		di = w->n_dirs++;
		hmap_put_int(&w->by_wd, wd, di);
	} else {
		free(w->dirs[di].rel);
	}
	w->dirs[di].folder = folder;
	w->dirs[di].rel = strdup(rel);
	w->dirs[di].live = true;
	if (!w->cfg->folders[folder].recursive && *rel)
		return;
	DIR *d = opendir(full);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0)))
			continue;
		char sub[KILN_PATH_MAX];
		if (*rel)
			snprintf(sub, sizeof sub, "%s/%s", rel, de->d_name);
		else
			snprintf(sub, sizeof sub, "%s", de->d_name);
		bool is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			char f[KILN_PATH_MAX];
			snprintf(f, sizeof f, "%s/%s", full, de->d_name);
			is_dir = lstat(f, &st) == 0 && S_ISDIR(st.st_mode);
		}
		if (is_dir) {
			if (w->cfg->folders[folder].recursive)
				add_tree(w, folder, sub, announce, depth + 1);
		} else if (announce) {
			note(w, folder, sub, false, false);
		}
	}
	closedir(d);
}

int watch_open(const kiln_config *cfg, kpattern *const *excludes, size_t n_excludes, watch **out)
{
	watch *w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->cfg = cfg;
	w->excludes = excludes;
	w->n_excludes = n_excludes;
	hmap_init(&w->by_wd);
	hmap_init(&w->by_path);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		int rc = -errno;
		free(w);
		return rc;
	}
	struct stat st;
	if (stat(cfg->cache, &st) == 0) {
		w->cache_dev = st.st_dev;
		w->cache_ino = st.st_ino;
	}
	for (uint32_t f = 0; f < cfg->n_folders; f++)
		add_tree(w, f, "", false, 0);
	*out = w;
	return 0;
}

void watch_close(watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->n_dirs; i++)
		free(w->dirs[i].rel);
	free(w->dirs);
	for (size_t i = 0; i < w->n_pend; i++) {
		free(w->pend[i].rel);
		free(w->pend[i].key);
	}
	free(w->pend);
	hmap_free(&w->by_wd);
	hmap_free(&w->by_path);
	free(w);
}

int watch_fd(const watch *w)
{
	return w->fd;
}

size_t watch_count(const watch *w)
{
	size_t n = 0;
	for (size_t i = 0; i < w->n_dirs; i++)
		n += w->dirs[i].live;
	return n;
}

int watch_read(watch *w)
{
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		if (n == 0)
			return 0;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				w->overflow = true;
				continue;
			}
			size_t di;
			if (!hmap_get_int(&w->by_wd, ev->wd, &di))
				continue;
			wdir *d = &w->dirs[di];
			if (ev->mask & IN_IGNORED) {
				d->live = false;
				hmap_del_int(&w->by_wd, ev->wd);
				continue;
			}
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
				if (*d->rel)
					note(w, d->folder, d->rel, true, false);
				continue;
			}
			if (!ev->len)
				continue;
			char rel[KILN_PATH_MAX];
			if (*d->rel)
				snprintf(rel, sizeof rel, "%s/%s", d->rel, ev->name);
			else
				snprintf(rel, sizeof rel, "%s", ev->name);
			bool is_dir = ev->mask & IN_ISDIR;
			if (is_dir) {
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					add_tree(w, d->folder, rel, true, 0);
				note(w, d->folder, rel, true, false);
				continue;
			}
			bool open = (ev->mask & IN_MODIFY) && !(ev->mask & IN_CLOSE_WRITE);
			note(w, d->folder, rel, false, open);
		}
	}
}

static int64_t due_at(const pending *p)
{
	return p->last + (p->open ? OPEN_QUIET_MS : QUIET_MS);
}

int watch_next_due_ms(const watch *w)
{
	if (!w->n_live)
		return -1;
	int64_t now = now_ms(), best = INT64_MAX;
	for (size_t i = 0; i < w->n_pend; i++)
		if (w->pend[i].live && due_at(&w->pend[i]) < best)
			best = due_at(&w->pend[i]);
	return best <= now ? 0 : (int)(best - now);
}

size_t watch_take(watch *w, bool force, watch_change **out, bool *rescan)
{
	*out = NULL;
	*rescan = w->overflow;
	w->overflow = false;
	if (!w->n_live)
		return 0;
	int64_t now = now_ms();
	watch_change *res = calloc(w->n_live, sizeof *res);
	size_t k = 0;
	if (!res)
		return 0;
	for (size_t i = 0; i < w->n_pend; i++) {
		pending *p = &w->pend[i];
		if (!p->live || (!force && due_at(p) > now))
			continue;
		res[k].folder = p->folder;
		res[k].rel = p->rel;
		res[k].dir = p->dir;
		k++;
		p->rel = NULL;
		p->live = false;
		w->n_live--;
		hmap_del(&w->by_path, p->key);
		free(p->key);
		p->key = NULL;
	}
	/* Keep only live entries, and point the map at their new places. */
	size_t j = 0;
	for (size_t i = 0; i < w->n_pend; i++) {
		if (!w->pend[i].live)
			continue;
		w->pend[j] = w->pend[i];
		hmap_put(&w->by_path, w->pend[j].key, j);
		j++;
	}
	w->n_pend = j;
	*out = res;
	return k;
}

void watch_changes_free(watch_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].rel);
	free(c);
}
