/* kiln-upper: an example builder written against the installed C SDK, outside
 * the kiln source tree. It turns *.up text files into products of the same
 * path with every ASCII letter in upper case, one job per platform.
 *
 * It needs nothing but what `cmake --install` puts under a prefix:
 * kiln_builder.h (with arena.h and msg.h), libkiln_builder_sdk.a,
 * libkiln_common.a and kiln-builder.pc. Build it with the Makefile or the
 * CMakeLists.txt beside it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kiln_builder.h"

static const char *const upper_patterns[] = {"*.up", NULL};

static int upper_create_jobs(kb_ctx *ctx, const msg_create_jobs_req *req, msg_create_jobs_resp *resp,
                             arena *a)
{
	(void)ctx;
	return kb_jobs_per_platform(req, resp, a, "upper");
}

/* True when rel is absolute or has a ".." component, and so could name a
 * file outside the folder it is joined to. */
static int leaves_folder(const char *rel)
{
	if (rel[0] == '/')
		return 1;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

/* Creates the folders of path, which lies inside the job's temp dir.
 * Returns 0 or -errno. */
static int make_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int rc = mkdir(path, 0755) < 0 && errno != EEXIST ? -errno : 0;
		*p = '/';
		if (rc)
			return rc;
	}
	return 0;
}

/* Copies in to out in upper case. Returns the bytes copied, or -1 after a
 * read or write error (errno tells which). */
static long upper_copy(FILE *in, FILE *out)
{
	char buf[64 * 1024];
	long total = 0;
	size_t n;

	while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
		for (size_t i = 0; i < n; i++)
			if (buf[i] >= 'a' && buf[i] <= 'z')
				buf[i] = (char)(buf[i] - 'a' + 'A');
		if (fwrite(buf, 1, n, out) != n)
			return -1;
		total += (long)n;
	}
	return ferror(in) ? -1 : total;
}

static int upper_process_job(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp,
                             arena *a)
{
	FILE *in = NULL, *out = NULL;
	long n;
	int rc = 0;

	/* kiln sends a path relative to the scan folder; one that climbs out
	 * of it would also climb out of the temp dir. */
	if (leaves_folder(req->source_file)) {
		kb_log(ctx, MSG_LEVEL_ERROR, "refusing source path \"%s\"", req->source_file);
		return 0;
	}
	char *dst = arena_printf(a, "%s/%s", req->temp_dir, req->source_file);
	if (!dst)
		return -ENOMEM;
	if (make_parents(dst) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot create the folders of %s: %s", dst, strerror(errno));
		return 0;
	}
	in = fopen(req->full_path, "rb");
	if (!in) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot read %s: %s", req->full_path, strerror(errno));
		goto out;
	}
	out = fopen(dst, "wb");
	if (!out) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot create %s: %s", dst, strerror(errno));
		goto out;
	}
	n = upper_copy(in, out);
	if (fclose(out) != 0)
		n = -1;
	out = NULL;
	if (n < 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "cannot copy %s: %s", req->source_file, strerror(errno));
		goto out;
	}
	/* A stray printf cannot break the protocol: kb_main points stdout at
	 * stderr, where this becomes an info line of the job log. */
	printf("upper-cased %s (%ld bytes) for %s\n", req->source_file, n, req->job.platform);
	if (!kb_add_product(resp, a, req->source_file, "upper-text", 0)) {
		rc = -ENOMEM;
		goto out;
	}
	resp->result = MSG_RESULT_SUCCESS;
out:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	return rc;
}

int main(int argc, char **argv)
{
	static const kb_builder b = {
	    .name = "kiln-upper",
	    .uuid = "3c0f8f0e-7d43-4f4b-9a50-5f6f2b1d8e01",
	    .version = "1",
	    .analysis_fingerprint = "1",
	    .patterns = upper_patterns,
	    .create_jobs = upper_create_jobs,
	    .process_job = upper_process_job,
	};
	return kb_main(&b, argc, argv);
}
