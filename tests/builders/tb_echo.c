/* tb_echo: a well-behaved test builder written with the SDK.
 *
 * create_jobs logs "pid N" (so tests can tell whether a process was reused),
 * writes a warning, an error and a plain line on stderr, and makes one job
 * "echo" per platform. process_job copies the source into temp_dir/out.txt. */
#include <stdio.h>
#include <unistd.h>

#include "kiln_builder.h"

static int create_jobs(kb_ctx *ctx, const msg_create_jobs_req *req, msg_create_jobs_resp *resp, arena *a)
{
	kb_log(ctx, MSG_LEVEL_INFO, "pid %d", (int)getpid());
	fprintf(stderr, "W: careful with %s\n", req->source_file);
	fprintf(stderr, "E: broken %s\n", req->source_file);
	fprintf(stderr, "just info\n");
	return kb_jobs_per_platform(req, resp, a, "echo");
}

static int process_job(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a)
{
	char path[4096];
	kb_log(ctx, MSG_LEVEL_INFO, "pid %d", (int)getpid());
	snprintf(path, sizeof(path), "%s/out.txt", req->temp_dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%s\n", req->source_file);
	fclose(f);
	if (!kb_add_product(resp, a, "out.txt", "text", 0))
		return -1;
	resp->result = MSG_RESULT_SUCCESS;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const patterns[] = {"*.txt", NULL};
	kb_builder b = {
	    .name = "tb_echo",
	    .uuid = "6f1c0a3e-8a8e-4c57-9a4e-0d3c2b1a0e01",
	    .version = "1",
	    .patterns = patterns,
	    .create_jobs = create_jobs,
	    .process_job = process_job,
	};
	return kb_main(&b, argc, argv);
}
