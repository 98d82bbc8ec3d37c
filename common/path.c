/* path.c: path helpers. All paths use forward slashes. */
#include "path.h"
#include "kerr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int path_normalize(const char *in, char *out, size_t outsz)
{
	bool abs = in[0] == '/';
	size_t o = 0, base;
	const char *p = in;

	if (outsz == 0)
		return KILN_E_TOOBIG;
	if (abs)
		out[o++] = '/';
	/* Nothing at or before base can be popped by "..": it is the root of
	 * an absolute path, or the start of a relative one. */
	base = o;
	for (;;) {
		const char *q;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		q = p;
		while (*q && *q != '/')
			q++;
		len = (size_t)(q - p);
		if (len == 1 && p[0] == '.') {
			p = q;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (o > base) {
				while (o > base && out[o - 1] != '/')
					o--;
				if (o > base)
					o--; /* the separator before the popped component */
			} else if (!abs) {
				return KILN_E_PATH;
			}
			p = q;
			continue;
		}
		/* Room for a separator, the component and the final NUL. */
		if (o + (o > base) + len + 1 > outsz)
			return KILN_E_TOOBIG;
		if (o > base)
			out[o++] = '/';
		memcpy(out + o, p, len);
		o += len;
		p = q;
	}
	if (o == 0) {
		/* A relative path that resolved to its own start. */
		if (outsz < 2)
			return KILN_E_TOOBIG;
		out[o++] = '.';
	}
	if (o >= outsz)
		return KILN_E_TOOBIG;
	out[o] = '\0';
	return 0;
}

int path_check_relative(const char *p, size_t len)
{
	long depth = 0;
	size_t i = 0;

	if (!p || len == 0 || len > KILN_PATH_MAX)
		return KILN_E_PATH;
	if (memchr(p, '\0', len) || memchr(p, '\\', len))
		return KILN_E_PATH;
	if (p[0] == '/')
		return KILN_E_PATH;
	/* Walking the components and counting depth is the same test as
	 * normalising and looking for a leading "..", without a copy. */
	while (i < len) {
		size_t start, clen;

		while (i < len && p[i] == '/')
			i++;
		start = i;
		while (i < len && p[i] != '/')
			i++;
		clen = i - start;
		if (clen == 0 || (clen == 1 && p[start] == '.'))
			continue;
		if (clen == 2 && p[start] == '.' && p[start + 1] == '.') {
			if (--depth < 0)
				return KILN_E_PATH;
		} else {
			depth++;
		}
	}
	return 0;
}

void path_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

int path_join(char *out, size_t outsz, const char *a, const char *b)
{
	size_t la, lb, sep;

	if (b[0] == '/' || a[0] == '\0')
		a = "";
	la = strlen(a);
	lb = strlen(b);
	sep = (la > 0 && lb > 0 && a[la - 1] != '/') ? 1 : 0;
	if (la + sep + lb + 1 > outsz)
		return KILN_E_TOOBIG;
	/* out may be a itself (appending in place), hence memmove; out must
	 * not be b, which the copy of a would overwrite. */
	memmove(out, a, la);
	if (sep)
		out[la] = '/';
	memmove(out + la + sep, b, lb);
	out[la + sep + lb] = '\0';
	return 0;
}

const char *path_basename(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

const char *path_ext(const char *p)
{
	const char *base = path_basename(p);
	const char *dot = strrchr(base, '.');

	/* A leading dot names a hidden file (".gitignore"), not an extension. */
	if (!dot || dot == base)
		return base + strlen(base);
	return dot + 1;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int path_mkdirs(const char *dir, mode_t mode)
{
	char buf[KILN_PATH_MAX + 1];
	size_t len = strlen(dir);

	if (len == 0)
		return 0;
	if (len > KILN_PATH_MAX)
		return -ENAMETOOLONG;
	/* The common case: the parent exists already, so one mkdir does it. */
	if (mkdir(dir, mode) == 0)
		return 0;
	if (errno == EEXIST)
		return is_dir(dir) ? 0 : -ENOTDIR;
	if (errno != ENOENT)
		return -errno;

	memcpy(buf, dir, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = '\0';
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue; /* "a//b": the empty component is not a folder */
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, mode) != 0) {
			int e = errno;
			if (e != EEXIST)
				return -e;
			if (!is_dir(buf))
				return -ENOTDIR;
		}
		buf[i] = c;
	}
	return 0;
}

int path_mkdirs_for(const char *file, mode_t mode)
{
	char buf[KILN_PATH_MAX + 1];
	const char *slash = strrchr(file, '/');
	size_t len;

	if (!slash)
		return 0; /* the current folder */
	len = (size_t)(slash - file);
	if (len == 0)
		return 0; /* "/x": the root exists */
	if (len > KILN_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, file, len);
	buf[len] = '\0';
	return path_mkdirs(buf, mode);
}

/* Empties the folder open as dfd (which this call closes) and everything in
 * it. Every open uses O_NOFOLLOW and every removal is relative to a folder
 * fd, so a symbolic link (even one swapped in while we run) is removed, never
 * followed. Entries that vanish under us are fine. */
static int rmtree_fd(int dfd, bool keep_dirs)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(dfd);
		return rc;
	}
	for (;;) {
		bool dir;

		errno = 0;
		e = readdir(d);
		if (!e) {
			if (errno)
				rc = -errno;
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				if (errno == ENOENT)
					continue;
				rc = -errno;
				break;
			}
			dir = S_ISDIR(st.st_mode);
		} else {
			dir = e->d_type == DT_DIR;
		}
		if (dir) {
			int sub =
			    openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				if (errno == ENOENT)
					continue;
				if (errno != ENOTDIR && errno != ELOOP) {
					rc = -errno;
					break;
				}
				/* Replaced by a file or link since readdir: unlink it. */
				dir = false;
			} else {
				rc = rmtree_fd(sub, keep_dirs);
				if (rc < 0)
					break;
				if (keep_dirs)
					continue;
				if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
					rc = -errno;
					break;
				}
				continue;
			}
		}
		if (unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT) {
			rc = -errno;
			break;
		}
	}
	closedir(d);
	return rc;
}

int path_rmtree(const char *dir)
{
	int fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP) {
			/* A file or a symbolic link: rm -rf removes the
			 * entry itself, not what a link points to. */
			if (unlink(dir) != 0 && errno != ENOENT)
				return -errno;
			return 0;
		}
		return -errno;
	}
	rc = rmtree_fd(fd, false);
	if (rc < 0)
		return rc;
	if (rmdir(dir) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

void path_prune_empty_parents(const char *file, const char *stop)
{
	char buf[KILN_PATH_MAX + 1];
	size_t len = strlen(file), slen = strlen(stop);

	if (len > KILN_PATH_MAX || slen == 0)
		return;
	while (slen > 1 && stop[slen - 1] == '/')
		slen--;
	memcpy(buf, file, len + 1);
	for (;;) {
		char *slash = strrchr(buf, '/');
		if (!slash)
			return;
		*slash = '\0';
		len = (size_t)(slash - buf);
		/* Only folders strictly below stop are candidates. */
		if (len <= slen || memcmp(buf, stop, slen) != 0 ||
		    (buf[slen] != '/' && stop[slen - 1] != '/'))
			return;
		if (rmdir(buf) != 0)
			return; /* not empty, gone, or not ours: stop here */
	}
}

int path_self_dir(char *out, size_t outsz)
{
	char buf[KILN_PATH_MAX + 1];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf);
	char *slash;
	size_t len;

	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof buf)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return -ENOENT;
	len = slash == buf ? 1 : (size_t)(slash - buf);
	if (len + 1 > outsz)
		return -ENAMETOOLONG;
	memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

int path_clear_files(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	return rmtree_fd(fd, true);
}
