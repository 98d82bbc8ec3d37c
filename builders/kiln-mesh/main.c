/* kiln-mesh: the builder for 3D models. assimp reads the model, every
 * triangle, line and point mesh in it becomes one .kmesh product (format.h,
 * README.md) with a sub_id that stays the same from run to run (subid.h),
 * its vertex data optimised by meshoptimizer (geo.h), and the model's node
 * tree, cameras, lights and animations one .kscene product (scene.h).
 * Options come from an optional X.fbx.assetinfo sidecar (info.h).
 *
 * Args: `--import-timeout SECONDS` bounds one model's import (default: 60 s
 * plus 1 s per MiB; process.h says why there is one).
 *
 * `kiln-mesh --convert MODEL OUTDIR` runs the same job outside the protocol,
 * for surveys over many models and for sanitizer runs on broken files: the
 * log goes to stderr, one line per product to stdout, and the exit code is 0
 * when the job would have succeeded, 1 otherwise. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deps.h"
#include "kiln_builder.h"
#include "path.h"
#include "process.h"

/* The formats assimp 5.2 reads well enough to ship by default (README.md
 * has the figures). */
static const char *const mesh_patterns[] = {
    "*.fbx", "*.gltf", "*.glb", "*.obj", "*.dae", "*.3ds", "*.ply", "*.stl", "*.blend", NULL,
};

/* --import-timeout SECONDS from the builder's args; 0 = by model size. */
static unsigned import_timeout;

/* One job per platform; the files the model reads besides itself (an
 * OBJ's .mtl, a glTF's .bin) are source dependencies, so that editing them
 * rebuilds the meshes. */
static int mesh_create_jobs(kb_ctx *ctx, const msg_create_jobs_req *req, msg_create_jobs_resp *resp, arena *a)
{
	const char **paths;
	size_t n;
	(void)ctx;
	int rc = kb_jobs_per_platform(req, resp, a, "mesh");
	if (rc)
		return rc;
	if ((rc = mesh_deps_scan(req->full_path, req->source_file, a, &paths, &n)))
		return rc;
	if (!n)
		return 0;
	resp->deps = arena_alloc(a, n * sizeof *resp->deps);
	if (!resp->deps)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		resp->deps[i] = (msg_source_dep){.path = paths[i]};
	resp->n_deps = n;
	return 0;
}

static int mesh_process_job(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a)
{
	if (path_check_relative(req->source_file, strlen(req->source_file)) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "source_file \"%s\" is not a relative path inside its folder",
		       req->source_file);
		return 0;
	}
	return mesh_process_isolated(ctx, req, resp, a, import_timeout);
}

static int convert(const char *model, const char *outdir)
{
	char full[PATH_MAX], dir[PATH_MAX], out[PATH_MAX];
	arena *a = NULL;
	int rc = 1;

	if (!realpath(model, full)) {
		fprintf(stderr, "E: %s: %s\n", model, strerror(errno));
		return 1;
	}
	if (path_mkdirs(outdir, 0755) != 0 || !realpath(outdir, out)) {
		fprintf(stderr, "E: %s: %s\n", outdir, strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof dir, "%s", full);
	char *slash = strrchr(dir, '/');
	*slash = 0; /* realpath gives an absolute path: there is a slash */
	msg_process_job_req req = {
	    .source_file = full + (slash - dir) + 1,
	    .watch_folder = dir[0] ? dir : "/",
	    .full_path = full,
	    .builder_uuid = "",
	    .job = {.job_key = "mesh", .platform = "pc"},
	    .temp_dir = out,
	    .platform_info = {.identifier = "pc"},
	    .source_uuid = "",
	};
	msg_process_job_resp resp = {0};
	a = arena_new();
	if (!a)
		goto out;
	if (mesh_process_isolated(NULL, &req, &resp, a, import_timeout) != 0 ||
	    resp.result != MSG_RESULT_SUCCESS)
		goto out;
	for (size_t i = 0; i < resp.n_products; i++) {
		const msg_product *p = &resp.products[i];
		printf("%08x %s", p->sub_id, p->file);
		for (size_t k = 0; k < p->n_path_deps; k++)
			printf(" dep=%s", p->path_deps[k].path);
		printf("\n");
	}
	rc = 0;
out:
	arena_free(a);
	return rc;
}

int main(int argc, char **argv)
{
	static const kb_builder b = {
	    .name = "kiln-mesh",
	    .uuid = "bf9d06bd-4c6c-4c49-b298-b8a3e878bc68",
	    /* 2: lines, points and the scene product. A new version
	     * reprocesses every model, so that caches built by version 1
	     * gain them. */
	    .version = "2",
	    .analysis_fingerprint = "1",
	    .patterns = mesh_patterns,
	    .create_jobs = mesh_create_jobs,
	    .process_job = mesh_process_job,
	};
	int i = 1;
	if (argc >= 3 && strcmp(argv[1], "--import-timeout") == 0) {
		char *end;
		unsigned long v = strtoul(argv[2], &end, 10);
		if (*end || end == argv[2] || v == 0 || v > 86400) {
			fprintf(stderr, "E: --import-timeout wants seconds from 1 to 86400, not \"%s\"\n",
			        argv[2]);
			return 2;
		}
		import_timeout = (unsigned)v;
		i = 3;
	}
	if (argc > i && strcmp(argv[i], "--convert") == 0) {
		if (argc != i + 3) {
			fprintf(stderr, "usage: kiln-mesh [--import-timeout S] --convert MODEL OUTDIR\n");
			return 2;
		}
		return convert(argv[i + 1], argv[i + 2]);
	}
	return kb_main(&b, argc, argv);
}
