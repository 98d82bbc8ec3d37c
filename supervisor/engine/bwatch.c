/* bwatch.c: live mode's watch over the builders' own files.
 *
 * A builder is its executable and, for an interpreter, the scripts among its
 * arguments (`python3 tools/x.py`). Their folders are watched with inotify
 * (the files may be anywhere: beside kiln, in the project's tools/), and a
 * change to one of the files marks its builder; once the files have been
 * quiet for BWATCH_QUIET_MS (an editor or a linker writes in several steps),
 * bwatch_due() hands the marked builders to the engine, which describes
 * them again (builders.c). */
#include "engine/engine_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "klog.h"

#define BWATCH_QUIET_MS 200

/* One watched file: its folder's watch and its name there. */
typedef struct bfile {
	int wd;
	char *name;   /* malloc'd */
	uint64_t who; /* the builders it belongs to, by bit */
} bfile;

struct bwatch {
	int fd;
	bfile *files;
	size_t n;
	uint64_t changed; /* builders whose files changed, by bit */
	int64_t last_event;
};

static int add_file(bwatch *w, const char *path, int bi)
{
	char dir[KILN_PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) >= sizeof dir)
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!dir[0])
		snprintf(dir, sizeof dir, "/");
	int wd =
	    inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB | IN_DELETE);
	if (wd < 0) {
		klog(KLOG_WARN,
		     "builder %s: its folder %s cannot be watched (%s); a change to it is seen at the next "
		     "start",
		     path, dir, strerror(errno));
		return 0;
	}
	for (size_t i = 0; i < w->n; i++)
		if (w->files[i].wd == wd && strcmp(w->files[i].name, slash + 1) == 0) {
			w->files[i].who |= 1ULL << bi;
			return 0;
		}
	bfile *nf = realloc(w->files, (w->n + 1) * sizeof *nf);
	if (!nf)
		return -ENOMEM;
	w->files = nf;
	nf[w->n] = (bfile){.wd = wd, .name = strdup(slash + 1), .who = 1ULL << bi};
	if (!nf[w->n].name)
		return -ENOMEM;
	w->n++;
	return 0;
}

int bwatch_open(engine *e, bwatch **out)
{
	int rc = -ENOMEM;
	bwatch *w = calloc(1, sizeof *w);
	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		rc = -errno;
		goto fail;
	}
	for (size_t i = 0; i < e->nb; i++) {
		const ebuilder *b = &e->b[i];
		if ((rc = add_file(w, b->cfg->exec_abs, (int)i)) != 0)
			goto fail;
		for (size_t k = 0; k < b->hp.args.n; k++) {
			const char *a = b->hp.args.items[k];
			/* Only arguments made absolute because they name a file of the
			 * project (engine.c) are files. */
			if (a[0] == '/' && (rc = add_file(w, a, (int)i)) != 0)
				goto fail;
		}
	}
	*out = w;
	return 0;
fail:
	bwatch_close(w);
	return rc;
}

int bwatch_fd(const bwatch *w)
{
	return w ? w->fd : -1;
}

void bwatch_read(bwatch *w, int64_t now)
{
	_Alignas(struct inotify_event) char buf[8192];
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof buf);
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* Anything may have changed: every builder is asked. */
				w->changed = ~0ULL;
				w->last_event = now;
				continue;
			}
			if (!ev->len)
				continue;
			for (size_t i = 0; i < w->n; i++)
				if (w->files[i].wd == ev->wd && strcmp(w->files[i].name, ev->name) == 0) {
					w->changed |= w->files[i].who;
					w->last_event = now;
				}
		}
	}
}

uint64_t bwatch_due(bwatch *w, int64_t now)
{
	if (!w || !w->changed || now - w->last_event < BWATCH_QUIET_MS)
		return 0;
	uint64_t m = w->changed;
	w->changed = 0;
	return m;
}

void bwatch_close(bwatch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->n; i++)
		free(w->files[i].name);
	free(w->files);
	free(w);
}
