/* jobs.h: running whole kiln-mesh jobs in the tests, on models the tests
 * write into a scan folder of their own.
 *
 * job_dir is the scan folder (job_setup makes it); job_run runs one job
 * through mesh_process_isolated, as the builder does, into job_dir/out-TAG
 * and keeps the job's log (its stderr) in job_log. Header-only (static
 * functions), so that every test can include it. */
#ifndef KILN_TEST_MESH_JOBS_H
#define KILN_TEST_MESH_JOBS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"
#include "process.h"
#include "test.h"

static char job_dir[256];     /* the scan folder of the test */
static char job_log[1 << 20]; /* stderr of the last job */

/* Makes /tmp/kmesh-NAME-PID; job_cleanup removes it. */
static inline void job_setup(const char *name)
{
	snprintf(job_dir, sizeof job_dir, "/tmp/kmesh-%s-%d", name, (int)getpid());
	path_mkdirs(job_dir, 0755);
}

static inline void job_cleanup(void)
{
	path_rmtree(job_dir);
}

/* Writes len bytes of text to job_dir/name (len 0: strlen). */
static inline void job_write_n(const char *name, const char *text, size_t len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", job_dir, name);
	path_mkdirs_for(p, 0755);
	FILE *f = fopen(p, "w");
	fwrite(text, 1, len ? len : strlen(text), f);
	fclose(f);
}

static inline void job_write(const char *name, const char *text)
{
	job_write_n(name, text, 0);
}

/* Runs one job on job_dir/name into job_dir/out-TAG; the log lands in
 * job_log. Returns the result. */
static inline msg_result job_run(const char *name, const char *tag, arena *a, msg_process_job_resp *resp,
                                 unsigned timeout)
{
	char full[512], out[512], logf[512];
	snprintf(full, sizeof full, "%s/%s", job_dir, name);
	snprintf(out, sizeof out, "%s/out-%s", job_dir, tag);
	snprintf(logf, sizeof logf, "%s/log-%s", job_dir, tag);
	path_mkdirs(out, 0755);
	msg_process_job_req req = {.source_file = name,
	                           .watch_folder = job_dir,
	                           .full_path = full,
	                           .builder_uuid = "",
	                           .job = {.job_key = "mesh", .platform = "pc"},
	                           .temp_dir = out,
	                           .source_uuid = ""};
	memset(resp, 0, sizeof *resp);
	fflush(stderr);
	int saved = dup(2);
	int fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	int rc = mesh_process_isolated(NULL, &req, resp, a, timeout);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK_EQ_INT(rc, 0);
	FILE *f = fopen(logf, "r");
	size_t n = fread(job_log, 1, sizeof job_log - 1, f);
	job_log[n] = 0;
	fclose(f);
	return resp->result;
}

/* The path of product file of the job TAG, in out (at least 1024 bytes). */
static inline const char *job_product(const char *tag, const char *file, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/out-%s/%s", job_dir, tag, file ? file : "");
	return out;
}

/* The product of resp with sub_id id, or NULL. */
static inline const msg_product *job_find(const msg_process_job_resp *resp, uint32_t id)
{
	for (size_t i = 0; i < resp->n_products; i++)
		if (resp->products[i].sub_id == id)
			return &resp->products[i];
	return NULL;
}

/* How many products of resp have asset_type type. */
static inline size_t job_count(const msg_process_job_resp *resp, const char *type)
{
	size_t n = 0;
	for (size_t i = 0; i < resp->n_products; i++)
		n += resp->products[i].asset_type && strcmp(resp->products[i].asset_type, type) == 0;
	return n;
}

#endif
