/* kiln-refs: the builder for data files that name other files (XML, JSON,
 * scripts, configuration, and binary formats a project lists in its
 * patterns). The product is the file itself, copied like kiln-copy does; the
 * builder reports every other file of the scan folder that the source names
 * as a path dependency of that product (type "source"), so that the cache
 * knows what a level, a unit definition or a mesh needs.
 *
 * One info line per job says how many references were found and lists them
 * in its context ("paths", one per line), so the job log shows what the
 * database will hold. Malformed XML is still copied, with a warning naming
 * expat's line and column. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kerr.h"
#include "kiln_builder.h"
#include "path.h"
#include "refs.h"

/* Files over this size are copied but not scanned: no game data file that
 * names other files is this big, and reading it whole would be a way to
 * make the builder use memory without bound. */
#define MAX_SCAN_BYTES (64u << 20)
/* The "paths" context of the info line stops after this many bytes. */
#define MAX_LOG_PATHS (64u << 10)

static const char *const refs_patterns[] = {
    "*.xml", "*.json", "*.cfg", "*.ini", "*.lua", "*.tscn", "*.material", NULL,
};

static int refs_create_jobs(kb_ctx *ctx, const msg_create_jobs_req *req, msg_create_jobs_resp *resp, arena *a)
{
	(void)ctx;
	return kb_jobs_per_platform(req, resp, a, "refs");
}

static int open_out(kb_ctx *ctx, const char *dst, int *fd)
{
	*fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (*fd < 0 && errno == ENOENT) {
		int rc = path_mkdirs_for(dst, 0755);
		if (rc) {
			kb_log(ctx, MSG_LEVEL_ERROR, "cannot create the folders of %s: %s", dst,
			       strerror(-rc));
			return rc;
		}
		*fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (*fd < 0) {
		int rc = -errno;
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot create %s: %s", dst, strerror(-rc));
		return rc;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copies the rest of in to out: copy_file_range, with a read/write loop
 * where the file system does not support it. Returns 0 or -errno. */
static int copy_fd(int in, int out)
{
	static uint8_t buf[256 * 1024];
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1u << 30, 0);
		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
		    errno != EBADF)
			return -errno;
		break;
	}
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 0;
		int rc = write_all(out, buf, (size_t)r);
		if (rc)
			return rc;
	}
}

/* Reads up to cap bytes of fd into a new buffer (*out, OUT, freed by the
 * caller; *len, OUT). Returns 0 or -errno. */
static int read_upto(int fd, size_t cap, uint8_t **out, size_t *len)
{
	uint8_t *buf = malloc(cap ? cap : 1);
	size_t n = 0;
	*out = NULL;
	*len = 0;
	if (!buf)
		return -ENOMEM;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;
			free(buf);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Joins the found paths into one newline-separated string for the log
 * context, up to MAX_LOG_PATHS bytes. Returns NULL when out of memory. */
static char *join_paths(arena *a, const char *const *paths, size_t n)
{
	size_t total = 0, shown = 0;
	for (; shown < n; shown++) {
		size_t l = strlen(paths[shown]) + 1;
		if (total + l > MAX_LOG_PATHS)
			break;
		total += l;
	}
	char *s = arena_alloc(a, total + 32), *p = s;
	if (!s)
		return NULL;
	for (size_t i = 0; i < shown; i++) {
		size_t l = strlen(paths[i]);
		memcpy(p, paths[i], l);
		p += l;
		*p++ = '\n';
	}
	if (shown < n)
		sprintf(p, "(%zu more)", n - shown);
	else if (p > s)
		p[-1] = '\0';
	return s;
}

/* Scans buf and attaches what it found to product (an index into resp).
 * Warnings for malformed XML and for limits; -ENOMEM is returned, anything
 * else is logged and leaves the product without dependencies. */
static int scan_refs(kb_ctx *ctx, const msg_process_job_req *req, const uint8_t *buf, size_t len,
                     msg_process_job_resp *resp, size_t product, arena *a)
{
	refs_scan *s = NULL;
	refs_xml_error xerr;
	const char *why = NULL;
	int rc = refs_scan_new(req->watch_folder, req->source_file, NULL, &s);
	if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot scan %s for references: %s", req->source_file,
		       kiln_strerror(rc));
		return rc == -ENOMEM ? rc : 0;
	}
	refs_format fmt = refs_guess_format(req->source_file, buf, len);
	switch (fmt) {
	case REFS_XML:
		rc = refs_scan_xml(s, buf, len, &xerr);
		break;
	case REFS_BINARY:
		rc = refs_scan_binary(s, buf, len);
		break;
	default:
		rc = refs_scan_text(s, buf, len);
		break;
	}
	size_t n;
	const char *const *paths = refs_scan_paths(s, &n);
	if (rc == -ENOMEM)
		goto out;
	if (rc == KILN_E_PROTO)
		kb_log(ctx, MSG_LEVEL_WARNING,
		       "malformed XML in %s at line %lu, column %lu: %s; copied as it is, with the %zu "
		       "references "
		       "seen before that point",
		       req->source_file, xerr.line, xerr.column, xerr.message, n);
	else if (rc == KILN_E_LIMIT && refs_scan_limited(s, &why))
		kb_log(ctx, MSG_LEVEL_WARNING,
		       "%s: the scan stopped at %s (%zu references, %zu look-ups); later references are not "
		       "reported",
		       req->source_file, why, n, refs_scan_lookups(s));
	else if (rc)
		kb_log(ctx, MSG_LEVEL_WARNING, "%s: scan stopped: %s", req->source_file, kiln_strerror(rc));
	rc = 0;

	msg_path_dep *deps = n ? arena_alloc(a, n * sizeof(*deps)) : NULL;
	char *joined = join_paths(a, paths, n);
	char *count = arena_printf(a, "%zu", n), *looks = arena_printf(a, "%zu", refs_scan_lookups(s));
	if ((n && !deps) || !joined || !count || !looks) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(deps[i].path = arena_strdup(a, paths[i]))) {
			rc = -ENOMEM;
			goto out;
		}
		deps[i].is_source = true;
	}
	resp->products[product].path_deps = deps;
	resp->products[product].n_path_deps = n;
	const char *const keys[] = {"format", "references", "lookups", "paths", NULL};
	const char *const values[] = {refs_format_name(fmt), count, looks, joined, NULL};
	kb_log_ctx(ctx, MSG_LEVEL_INFO, keys, values, "%zu references found in %s (%s)", n, req->source_file,
	           refs_format_name(fmt));
out:
	refs_scan_free(s);
	return rc;
}

static int refs_process_job(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a)
{
	char dst[KILN_PATH_MAX];
	int in = -1, out = -1, rc = 0;
	uint8_t *buf = NULL;
	size_t len = 0;
	bool scan = false;
	struct stat st;

	if (path_check_relative(req->source_file, strlen(req->source_file)) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "source_file \"%s\" is not a relative path inside its folder",
		       req->source_file);
		return 0;
	}
	if (path_join(dst, sizeof(dst), req->temp_dir, req->source_file) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "output path for %s is too long", req->source_file);
		return 0;
	}
	in = open(req->full_path, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot read %s: %s", req->full_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot read %s: not a regular file", req->full_path);
		goto out;
	}
	if (open_out(ctx, dst, &out) != 0)
		goto out;

	/* What is scanned is what is copied: the file is read once, so a file
	 * that changes meanwhile cannot give a product and references that
	 * disagree (the scanner sees the change and runs the job again). */
	if ((uint64_t)st.st_size <= MAX_SCAN_BYTES) {
		if ((rc = read_upto(in, (size_t)st.st_size, &buf, &len)) != 0) {
			kb_log(ctx, MSG_LEVEL_ERROR, "cannot read %s: %s", req->full_path, strerror(-rc));
			goto out;
		}
		rc = write_all(out, buf, len);
		scan = true;
	} else {
		kb_log(ctx, MSG_LEVEL_WARNING,
		       "%s is %lld bytes, over the %u MiB scan limit: copied, not scanned", req->source_file,
		       (long long)st.st_size, MAX_SCAN_BYTES >> 20);
		rc = copy_fd(in, out);
	}
	if (rc == 0 && close(out) < 0)
		rc = -errno;
	out = -1;
	if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot copy %s to %s: %s", req->full_path, dst, strerror(-rc));
		rc = 0;
		goto out;
	}

	const char *ext = path_ext(req->source_file);
	char *type = arena_strdup(a, *ext ? ext : "refs");
	if (type)
		path_lower(type);
	if (!type || !kb_add_product(resp, a, req->source_file, type, 0)) {
		rc = -ENOMEM;
		goto out;
	}
	if (scan && (rc = scan_refs(ctx, req, buf, len, resp, resp->n_products - 1, a)) != 0)
		goto out;
	resp->result = MSG_RESULT_SUCCESS;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	static const kb_builder b = {
	    .name = "kiln-refs",
	    .uuid = "55ee2ba8-504f-4368-bd75-a7ec973c1014",
	    .version = "1",
	    .analysis_fingerprint = "1",
	    .patterns = refs_patterns,
	    .create_jobs = refs_create_jobs,
	    .process_job = refs_process_job,
	};
	return kb_main(&b, argc, argv);
}
