/* kiln-copy: the builder for files that go to the cache as they are
 * (sounds, fonts, raw data). One job per platform; the product is the source
 * itself, under the same relative path.
 *
 * It runs persistently and serves thousands of small jobs, so a job costs
 * two opens and a copy_file_range: no process spawns, no fsync (the host
 * renames products into place, and a crash reprocesses the job anyway). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiln_builder.h"
#include "path.h"

#define COPY_CHUNK (1u << 30)

static const char *const copy_patterns[] = {
    "*.ogg", "*.wav", "*.mp3", "*.flac", "*.ttf", "*.otf", "*.txt", "*.bin", "*.dat", NULL,
};

static int copy_create_jobs(kb_ctx *ctx, const msg_create_jobs_req *req, msg_create_jobs_resp *resp, arena *a)
{
	(void)ctx;
	return kb_jobs_per_platform(req, resp, a, "copy");
}

/* The read/write loop for file systems where copy_file_range does not work
 * (across mounts on older kernels, some FUSE and network file systems). It
 * continues from the descriptors' current offsets. Returns 0 or -errno;
 * *wrote_failed (OUT) tells a write error from a read error. */
static int copy_rw(int in, int out, int *write_failed)
{
	static char buf[256 * 1024];
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return 0;
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				*write_failed = 1;
				return -errno;
			}
			off += w;
		}
	}
}

/* Copies src to dst, creating dst's folders. Failures are logged with the
 * path and the errno text. Returns 0 or -errno. */
static int copy_file(kb_ctx *ctx, const char *src, const char *dst)
{
	int in = -1, out = -1, rc = 0, write_failed = 0;
	struct stat st;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		rc = -errno;
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot read %s: %s", src, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot read %s: not a regular file", src);
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0 && errno == ENOENT) {
		rc = path_mkdirs_for(dst, 0755);
		if (rc) {
			kb_log(ctx, MSG_LEVEL_ERROR, "cannot create the folders of %s: %s", dst,
			       strerror(-rc));
			goto out;
		}
		out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (out < 0) {
		rc = -errno;
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot create %s: %s", dst, strerror(-rc));
		goto out;
	}
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, COPY_CHUNK, 0);
		if (n > 0)
			continue;
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
		    errno == EBADF) {
			rc = copy_rw(in, out, &write_failed);
		} else {
			/* copy_file_range does not say which side failed;
			 * out of space and quota are the write side. */
			rc = -errno;
			write_failed = errno == ENOSPC || errno == EDQUOT || errno == EFBIG;
		}
		break;
	}
	if (rc) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot %s %s: %s", write_failed ? "write" : "read",
		       write_failed ? dst : src, strerror(-rc));
		goto out;
	}
	if (close(out) < 0) {
		out = -1;
		rc = -errno;
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot write %s: %s", dst, strerror(-rc));
		goto out;
	}
	out = -1;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static int copy_process_job(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a)
{
	char dst[KILN_PATH_MAX];

	if (path_check_relative(req->source_file, strlen(req->source_file)) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "source_file \"%s\" is not a relative path inside its folder",
		       req->source_file);
		return 0;
	}
	if (path_join(dst, sizeof(dst), req->temp_dir, req->source_file) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "output path for %s is too long", req->source_file);
		return 0;
	}
	if (copy_file(ctx, req->full_path, dst) != 0)
		return 0;

	const char *ext = path_ext(req->source_file);
	char *type = arena_strdup(a, *ext ? ext : "copy");
	if (!type)
		return -ENOMEM;
	path_lower(type);
	if (!kb_add_product(resp, a, req->source_file, type, 0))
		return -ENOMEM;
	resp->result = MSG_RESULT_SUCCESS;
	return 0;
}

int main(int argc, char **argv)
{
	static const kb_builder b = {
	    .name = "kiln-copy",
	    .uuid = "c9fef55a-f01f-420f-97b8-0a8f3dd0ccba",
	    .version = "1",
	    .analysis_fingerprint = "1",
	    .patterns = copy_patterns,
	    .create_jobs = copy_create_jobs,
	    .process_job = copy_process_job,
	};
	return kb_main(&b, argc, argv);
}
