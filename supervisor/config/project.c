/* project.c: the project on disk: finding its root (the nearest folder
 * holding kiln.json) and reading kiln.json for config_parse.
 *
 * kiln.json is read with the care a file from anywhere needs: it must be a
 * regular file (a FIFO in its place must not hang kiln) no larger than
 * CFG_MAX_FILE, however it changes while it is read. */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_priv.h"
#include "path.h"

int cfg_absolute_dir(const char *in, char *out, size_t outsz)
{
	char buf[KILN_PATH_MAX];
	if (in[0] != '/') {
		char cwd[KILN_PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return -errno;
		if (path_join(buf, sizeof buf, cwd, in))
			return -ENAMETOOLONG;
		in = buf;
	}
	return path_normalize(in, out, outsz) ? -ENAMETOOLONG : 0;
}

int config_load(const char *root, const char *self_dir, kiln_config **out, char *err, size_t errsz)
{
	char absroot[KILN_PATH_MAX], file[KILN_PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int fd = -1, rc;

	*out = NULL;
	if ((rc = cfg_absolute_dir(root, absroot, sizeof absroot)) ||
	    (path_join(file, sizeof file, absroot, "kiln.json") && (rc = -ENAMETOOLONG))) {
		snprintf(err, errsz, "%s/kiln.json: %s", root, strerror(-rc));
		return rc;
	}
	/* O_NONBLOCK: a FIFO in kiln.json's place must not hang the open. */
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errsz, "%s: cannot read: %s", file, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = KILN_E_CONFIG;
		snprintf(err, errsz, "%s: not a regular file", file);
		goto out;
	}
	if ((uint64_t)st.st_size > CFG_MAX_FILE) {
		rc = KILN_E_CONFIG;
		snprintf(err, errsz, "%s:1:1: the file is larger than %u bytes; this is not a project file",
		         file, CFG_MAX_FILE);
		goto out;
	}
	/* One byte more than the size: a file that grows while read is still
	 * bounded, and the read loop sees its end. */
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		rc = -ENOMEM;
		snprintf(err, errsz, "%s: out of memory", file);
		goto out;
	}
	while (len < (size_t)st.st_size + 1) {
		ssize_t r = read(fd, text + len, (size_t)st.st_size + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, errsz, "%s: cannot read: %s", file, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	rc = config_parse(text, len, file, absroot, self_dir, out, err, errsz);
out:
	free(text);
	if (fd >= 0)
		close(fd);
	return rc;
}

int config_find_root(const char *start, char *out, size_t outsz)
{
	char dir[KILN_PATH_MAX], probe[KILN_PATH_MAX];
	struct stat st;

	if (cfg_absolute_dir(start, dir, sizeof dir))
		return KILN_E_NOTFOUND;
	for (;;) {
		if (path_join(probe, sizeof probe, dir, "kiln.json") == 0 && stat(probe, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			if (strlen(dir) + 1 > outsz)
				return KILN_E_TOOBIG;
			memcpy(out, dir, strlen(dir) + 1);
			return 0;
		}
		if (strcmp(dir, "/") == 0)
			return KILN_E_NOTFOUND;
		char *slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}
