/* kiln-texture: the builder for textures. PNG, JPEG, TGA and BMP sources
 * become DDS files with a full mip chain: BC1 for opaque images, BC3 for
 * images with alpha, or uncompressed RGBA8 on the platforms named with
 * --rgba8 in the builder's args.
 *
 *   {"exec": "kiln-texture", "args": ["--rgba8", "linux,mobile"]}
 *
 * One job per platform, job key "texture", params {"format": "bc"|"rgba8"}.
 * The product is the source path with its extension replaced by ".dds".
 *
 * `kiln-texture --convert IN OUT [--format bc|rgba8]` converts one file
 * outside kiln, for trying settings and for measuring. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kerr.h"
#include "kiln_builder.h"
#include "path.h"
#include "texconv.h"

#define MAX_RGBA8_PLATFORMS 64

static const char *const texture_patterns[] = {"*.png", "*.jpg", "*.jpeg", "*.tga", "*.bmp", NULL};

/* The builder's configuration, from its command line. */
typedef struct texture_cfg {
	const char *rgba8[MAX_RGBA8_PLATFORMS];
	size_t n_rgba8;
} texture_cfg;

static bool wants_rgba8(const texture_cfg *cfg, const char *platform)
{
	for (size_t i = 0; i < cfg->n_rgba8; i++)
		if (strcmp(cfg->rgba8[i], platform) == 0)
			return true;
	return false;
}

/* Splits a comma-separated platform list into cfg (in place: list is
 * argv's own string). Returns 0 or -E2BIG. */
static int add_rgba8_list(texture_cfg *cfg, char *list)
{
	char *save = NULL;
	for (char *p = strtok_r(list, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
		if (cfg->n_rgba8 == MAX_RGBA8_PLATFORMS)
			return -E2BIG;
		cfg->rgba8[cfg->n_rgba8++] = p;
	}
	return 0;
}

static int texture_create_jobs(kb_ctx *ctx, const msg_create_jobs_req *req, msg_create_jobs_resp *resp,
                               arena *a)
{
	const texture_cfg *cfg = kb_user(ctx);
	int rc = kb_jobs_per_platform(req, resp, a, "texture");
	if (rc)
		return rc;
	for (size_t i = 0; i < resp->n_jobs; i++) {
		msg_kv *kv = arena_alloc(a, sizeof(*kv));
		if (!kv)
			return -ENOMEM;
		kv->key = "format";
		kv->value = wants_rgba8(cfg, resp->jobs[i].platform) ? "rgba8" : "bc";
		resp->jobs[i].params.items = kv;
		resp->jobs[i].params.n = 1;
	}
	return 0;
}

static const char *param(const msg_kvs *kvs, const char *key)
{
	for (size_t i = 0; i < kvs->n; i++)
		if (kvs->items[i].key && strcmp(kvs->items[i].key, key) == 0)
			return kvs->items[i].value;
	return NULL;
}

/* out = src with its extension replaced by ".dds" (or ".dds" appended when
 * it has none). Returns 0 or KILN_E_TOOBIG. */
static int dds_name(const char *src, char *out, size_t outsz)
{
	const char *ext = path_ext(src);
	size_t stem = strlen(src) - (*ext ? strlen(ext) + 1 : 0);
	int n = snprintf(out, outsz, "%.*s.dds", (int)stem, src);
	return n < 0 || (size_t)n >= outsz ? KILN_E_TOOBIG : 0;
}

static int texture_process_job(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp,
                               arena *a)
{
	char rel[KILN_PATH_MAX], dst[KILN_PATH_MAX], err[512];
	texconv_mode mode;
	texconv_info info;
	bool input_error = false;

	if (path_check_relative(req->source_file, strlen(req->source_file)) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "source_file \"%s\" is not a relative path inside its folder",
		       req->source_file);
		return 0;
	}
	const char *format = param(&req->job.params, "format");
	if (texconv_mode_parse(format, &mode) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "job for %s has format \"%s\"; expected \"bc\" or \"rgba8\"",
		       req->source_file, format ? format : "(none)");
		return 0;
	}
	if (dds_name(req->source_file, rel, sizeof(rel)) != 0 ||
	    path_join(dst, sizeof(dst), req->temp_dir, rel) != 0) {
		kb_log(ctx, MSG_LEVEL_ERROR, "output path for %s is too long", req->source_file);
		return 0;
	}

	int rc = texconv_file(req->full_path, dst, mode, &info, &input_error, err, sizeof(err));
	if (rc) {
		static const char *const keys[] = {"file", "reason", NULL};
		const char *values[] = {req->source_file, err, NULL};
		kb_log_ctx(ctx, MSG_LEVEL_ERROR, keys, values, "cannot %s %s: %s",
		           input_error ? "decode" : "convert", req->source_file, err);
		return 0;
	}

	char w[16], h[16], m[16];
	snprintf(w, sizeof(w), "%u", info.width);
	snprintf(h, sizeof(h), "%u", info.height);
	snprintf(m, sizeof(m), "%u", info.mips);
	static const char *const keys[] = {"width", "height", "format", "mips", NULL};
	const char *values[] = {w, h, dds_format_name(info.format), m, NULL};
	kb_log_ctx(ctx, MSG_LEVEL_INFO, keys, values, "%s: %ux%u %s, %u mip levels, %llu bytes", rel,
	           info.width, info.height, dds_format_name(info.format), info.mips,
	           (unsigned long long)info.dds_bytes);

	if (!kb_add_product(resp, a, rel, "texture", 0))
		return -ENOMEM;
	resp->result = MSG_RESULT_SUCCESS;
	return 0;
}

/* --convert IN OUT [--format bc|rgba8]: one conversion, a line of figures
 * on stdout. Exit 0, 1 when the conversion failed, 2 for usage. */
static int convert_main(int argc, char **argv)
{
	texconv_mode mode = TEXCONV_BC;
	texconv_info info;
	struct timespec t0, t1, c0, c1;
	char err[512];

	if (argc == 6 && strcmp(argv[4], "--format") == 0) {
		if (texconv_mode_parse(argv[5], &mode) != 0) {
			fprintf(stderr, "E: kiln-texture: --format is bc or rgba8, not \"%s\"\n", argv[5]);
			return 2;
		}
	} else if (argc != 4) {
		fprintf(stderr, "usage: kiln-texture --convert IN OUT [--format bc|rgba8]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	int rc = texconv_file(argv[2], argv[3], mode, &info, NULL, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	if (rc) {
		fprintf(stderr, "E: kiln-texture: %s: %s\n", argv[2], err);
		return 1;
	}
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	printf("%s: %ux%u %s, %u mips, %llu -> %llu bytes, %.3f s, %.3f s CPU\n", argv[2], info.width,
	       info.height, dds_format_name(info.format), info.mips, (unsigned long long)info.src_bytes,
	       (unsigned long long)info.dds_bytes, s, cpu);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The analysis fingerprint: the supervisor calls create_jobs again only
 * when it changes, and the --rgba8 list decides the jobs' params, so the
 * list (sorted, without repeats) is part of it. Returns 0 or KILN_E_TOOBIG. */
static int make_fingerprint(texture_cfg *cfg, char *out, size_t outsz)
{
	qsort(cfg->rgba8, cfg->n_rgba8, sizeof(cfg->rgba8[0]), cmp_str);
	int n = snprintf(out, outsz, "1 rgba8=");
	if (n < 0 || (size_t)n >= outsz)
		return KILN_E_TOOBIG;
	size_t o = (size_t)n;
	for (size_t i = 0; i < cfg->n_rgba8; i++) {
		if (i > 0 && strcmp(cfg->rgba8[i], cfg->rgba8[i - 1]) == 0)
			continue;
		n = snprintf(out + o, outsz - o, "%s%s", i > 0 ? "," : "", cfg->rgba8[i]);
		if (n < 0 || (size_t)n >= outsz - o)
			return KILN_E_TOOBIG;
		o += (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static texture_cfg cfg;
	static char fingerprint[4096];
	static const kb_builder b_template = {
	    .name = "kiln-texture",
	    .uuid = "5b0f3c7e-8f4d-4a51-9d2e-6c1a7e93b4f0",
	    .version = "1",
	    .patterns = texture_patterns,
	    .create_jobs = texture_create_jobs,
	    .process_job = texture_process_job,
	};
	kb_builder b = b_template;
	b.user = &cfg;

	if (argc >= 2 && strcmp(argv[1], "--convert") == 0)
		return convert_main(argc, argv);
	for (int i = 1; i < argc; i++) {
		char *list = NULL;
		if (strcmp(argv[i], "--rgba8") == 0 && i + 1 == argc) {
			fprintf(stderr, "E: kiln-texture: --rgba8 needs a list of platforms (pc,mobile)\n");
			return 2;
		}
		if (strcmp(argv[i], "--rgba8") == 0)
			list = argv[++i];
		else if (strncmp(argv[i], "--rgba8=", 8) == 0)
			list = argv[i] + 8;
		if (!list) {
			fprintf(stderr,
			        "E: kiln-texture: unknown argument \"%s\"; the builder takes --rgba8 "
			        "PLATFORM,... "
			        "(or, alone, --convert IN OUT [--format bc|rgba8])\n",
			        argv[i]);
			return 2;
		}
		if (add_rgba8_list(&cfg, list) != 0) {
			fprintf(stderr, "E: kiln-texture: more than %d --rgba8 platforms\n",
			        MAX_RGBA8_PLATFORMS);
			return 2;
		}
	}
	if (make_fingerprint(&cfg, fingerprint, sizeof(fingerprint)) != 0) {
		fprintf(stderr, "E: kiln-texture: the --rgba8 platform list is too long\n");
		return 2;
	}
	b.analysis_fingerprint = fingerprint;
	return kb_main(&b, argc, argv);
}
