/* msg_test: every builder protocol message round-trips, and every kind of
 * bad input is refused with an error naming the field. Also the arena. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "kerr.h"
#include "msg.h"
#include "test.h"

#define CHECK_HAS(s, sub)                                                                                    \
	do {                                                                                                 \
		const char *s_ = (s), *sub_ = (sub);                                                         \
		if (s_ && strstr(s_, sub_)) {                                                                \
			test_passed_++;                                                                      \
		} else {                                                                                     \
			test_failed_++;                                                                      \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, s_,   \
			        sub_);                                                                       \
		}                                                                                            \
	} while (0)

/* A packer over a fresh sbuffer, for hand-made frames. */
typedef struct pk {
	msgpack_sbuffer sb;
	msgpack_packer p;
} pk;

static void pk_init(pk *k)
{
	msgpack_sbuffer_init(&k->sb);
	msgpack_packer_init(&k->p, &k->sb, msgpack_sbuffer_write);
}

static void pk_str(pk *k, const char *s)
{
	msgpack_pack_str_with_body(&k->p, s, strlen(s));
}

static void pk_kv(pk *k, const char *key, const char *val)
{
	pk_str(k, key);
	pk_str(k, val);
}

/* Starts a hand-made message: a map of nfields fields, the first its
 * "type". */
static void pk_msg(pk *k, int nfields, const char *type)
{
	pk_init(k);
	msgpack_pack_map(&k->p, nfields);
	pk_kv(k, "type", type);
}

/* A reply of type whose second field is "result": "success". */
static void pk_success(pk *k, int nfields, const char *type)
{
	pk_msg(k, nfields, type);
	pk_kv(k, "result", "success");
}

static const uint8_t *B(const msgpack_sbuffer *sb)
{
	return (const uint8_t *)sb->data;
}

/* What a round trip needs: an arena for the decoded message, a buffer for
 * the encoded one and room for an error. */
typedef struct fx {
	arena *a;
	msgpack_sbuffer sb;
	char err[256];
} fx;

static void fx_init(fx *f)
{
	f->a = arena_new();
	msgpack_sbuffer_init(&f->sb);
	f->err[0] = '\0';
}

static void fx_done(fx *f)
{
	msgpack_sbuffer_destroy(&f->sb);
	arena_free(f->a);
}

/* Runs decoder fn over the bytes in sb, into out, with f's arena and
 * error buffer. */
#define DECODE(fn, f, sb, out) fn(B(sb), (sb)->size, (f)->a, (out), (f)->err, sizeof((f)->err))

/* Checks that a decoder refused its input with an error containing want. */
static void expect_refused(int rc, const char *err, const char *want, int line)
{
	if (rc != KILN_E_PROTO || !strstr(err, want))
		fprintf(stderr, "line %d: rc %d, error \"%s\", wanted \"%s\"\n", line, rc, err, want);
	CHECK_EQ_INT(rc, KILN_E_PROTO);
	CHECK_HAS(err, want);
}

/* ---- arena ---- */

static void test_arena(void)
{
	arena *a = arena_new();
	CHECK(a != NULL);
	char *p1 = arena_alloc(a, 3);
	char *p2 = arena_alloc(a, 1);
	CHECK(p1 && p2 && p1 != p2);
	CHECK((uintptr_t)p2 % _Alignof(max_align_t) == 0);
	CHECK(p1[0] == 0 && p1[2] == 0);
	/* Large requests get their own block, zeroed; small ones keep going. */
	size_t big = 1 << 20;
	unsigned char *b = arena_alloc(a, big);
	CHECK(b != NULL);
	int zero = 1;
	for (size_t i = 0; i < big; i += 4096)
		zero &= b[i] == 0;
	CHECK(zero && b[big - 1] == 0);
	memset(b, 0xab, big);
	char *p3 = arena_alloc(a, 16);
	CHECK(p3 && (p3 < (char *)b || p3 >= (char *)b + big));
	/* Many small allocations span blocks without overlapping. */
	int ok = 1;
	for (int i = 0; i < 5000; i++) {
		int *x = arena_alloc(a, sizeof(int) * 3);
		if (!x || x[0] || x[2]) {
			ok = 0;
			break;
		}
		x[0] = x[1] = x[2] = i + 1;
	}
	CHECK(ok);
	CHECK(arena_alloc(a, 0) != NULL);
	CHECK(arena_alloc(a, SIZE_MAX) == NULL);
	CHECK_EQ_STR(arena_strdup(a, "hello"), "hello");
	CHECK(arena_strdup(a, NULL) == NULL);
	CHECK_EQ_STR(arena_strndup(a, "hello", 3), "hel");
	CHECK_EQ_STR(arena_printf(a, "%s-%d", "x", 42), "x-42");
	char *longs = arena_printf(a, "%5000d", 7);
	CHECK(longs && strlen(longs) == 5000 && longs[4999] == '7');
	arena_free(a);
	arena_free(NULL);
}

/* ---- round trips ---- */

static void test_describe(void)
{
	fx f;
	fx_init(&f);
	const char *pats[] = {"*.png", "re:^x/"};
	msg_describe in = {.name = "kiln-x",
	                   .uuid = "c9fef55a-f01f-420f-97b8-0a8f3dd0ccba",
	                   .version = "3",
	                   .analysis_fingerprint = "fp",
	                   .patterns = {.items = pats, .n = 2}};
	CHECK_EQ_INT(msg_encode_describe(&f.sb, &in), 0);
	char type[32];
	CHECK_EQ_INT(msg_peek_type(B(&f.sb), f.sb.size, type, sizeof(type), f.err, sizeof(f.err)), 0);
	CHECK_EQ_STR(type, "describe");
	msg_describe out;
	CHECK_EQ_INT(DECODE(msg_decode_describe, &f, &f.sb, &out), 0);
	CHECK_EQ_STR(out.name, "kiln-x");
	CHECK_EQ_STR(out.uuid, in.uuid);
	CHECK_EQ_STR(out.version, "3");
	CHECK_EQ_STR(out.analysis_fingerprint, "fp");
	CHECK_EQ_INT(out.patterns.n, 2);
	if (out.patterns.n == 2) {
		CHECK_EQ_STR(out.patterns.items[0], "*.png");
		CHECK_EQ_STR(out.patterns.items[1], "re:^x/");
	}

	/* Defaults: no fingerprint, no patterns; unknown keys ignored. */
	pk k;
	pk_msg(&k, 5, "describe");
	pk_kv(&k, "name", "n");
	pk_kv(&k, "uuid", "u");
	pk_kv(&k, "version", "v");
	pk_str(&k, "extra");
	msgpack_pack_array(&k.p, 1);
	msgpack_pack_double(&k.p, 1.5);
	CHECK_EQ_INT(DECODE(msg_decode_describe, &f, &k.sb, &out), 0);
	CHECK_EQ_STR(out.analysis_fingerprint, "");
	CHECK_EQ_INT(out.patterns.n, 0);
	msgpack_sbuffer_destroy(&k.sb);

	/* version may be an integer (O3DE's builder version is): it is kept as
	 * text; anything else but a string is refused. */
	static const int64_t ints[] = {1, 0, -3, 4000000000LL};
	static const char *const texts[] = {"1", "0", "-3", "4000000000"};
	for (size_t i = 0; i < 4; i++) {
		pk_msg(&k, 4, "describe");
		pk_kv(&k, "name", "n");
		pk_kv(&k, "uuid", "u");
		pk_str(&k, "version");
		msgpack_pack_int64(&k.p, ints[i]);
		CHECK_EQ_INT(DECODE(msg_decode_describe, &f, &k.sb, &out), 0);
		CHECK_EQ_STR(out.version, texts[i]);
		msgpack_sbuffer_destroy(&k.sb);
	}
	pk_msg(&k, 4, "describe");
	pk_kv(&k, "name", "n");
	pk_kv(&k, "uuid", "u");
	pk_str(&k, "version");
	msgpack_pack_double(&k.p, 1.5);
	expect_refused(DECODE(msg_decode_describe, &f, &k.sb, &out), f.err,
	               "version: expected a string or an integer", __LINE__);
	msgpack_sbuffer_destroy(&k.sb);

	/* The request and shutdown carry only a type. */
	msgpack_sbuffer_clear(&f.sb);
	CHECK_EQ_INT(msg_encode_describe_req(&f.sb), 0);
	CHECK_EQ_INT(msg_peek_type(B(&f.sb), f.sb.size, type, sizeof(type), f.err, sizeof(f.err)), 0);
	CHECK_EQ_STR(type, "describe");
	msgpack_sbuffer_clear(&f.sb);
	CHECK_EQ_INT(msg_encode_shutdown(&f.sb), 0);
	CHECK_EQ_INT(msg_peek_type(B(&f.sb), f.sb.size, type, sizeof(type), f.err, sizeof(f.err)), 0);
	CHECK_EQ_STR(type, "shutdown");
	/* A short type buffer truncates. */
	char t3[4];
	CHECK_EQ_INT(msg_peek_type(B(&f.sb), f.sb.size, t3, sizeof(t3), f.err, sizeof(f.err)), 0);
	CHECK_EQ_STR(t3, "shu");
	fx_done(&f);
}

static void test_create_jobs(void)
{
	fx f;
	fx_init(&f);

	const char *plats[] = {"pc", "linux"};
	msg_create_jobs_req rq = {.source_file = "Sounds/boom.ogg",
	                          .watch_folder = "/p/Assets",
	                          .full_path = "/p/Assets/Sounds/boom.ogg",
	                          .source_uuid = "1d6a8f0e-0000-5000-8000-000000000001",
	                          .builder_uuid = "b",
	                          .platforms = {.items = plats, .n = 2}};
	CHECK_EQ_INT(msg_encode_create_jobs_req(&f.sb, &rq), 0);
	msg_create_jobs_req rq2;
	CHECK_EQ_INT(DECODE(msg_decode_create_jobs_req, &f, &f.sb, &rq2), 0);
	CHECK_EQ_STR(rq2.source_file, rq.source_file);
	CHECK_EQ_STR(rq2.watch_folder, rq.watch_folder);
	CHECK_EQ_STR(rq2.full_path, rq.full_path);
	CHECK_EQ_STR(rq2.source_uuid, rq.source_uuid);
	CHECK_EQ_STR(rq2.builder_uuid, "b");
	CHECK_EQ_INT(rq2.platforms.n, 2);
	if (rq2.platforms.n == 2)
		CHECK_EQ_STR(rq2.platforms.items[1], "linux");

	msg_kv params[] = {{"quality", "high"}, {"k", ""}};
	msg_job_desc jobs[] = {
	    {.job_key = "copy", .platform = "pc", .critical = true, .priority = -5},
	    {.job_key = "copy",
	     .platform = "linux",
	     .priority = INT64_MAX,
	     .params = {.items = params, .n = 2}},
	};
	msg_source_dep deps[] = {{.path = "a/b.txt"}, {.uuid = "u-1"}};
	msg_create_jobs_resp rs = {
	    .result = MSG_RESULT_SUCCESS, .jobs = jobs, .n_jobs = 2, .deps = deps, .n_deps = 2};
	msgpack_sbuffer_clear(&f.sb);
	CHECK_EQ_INT(msg_encode_create_jobs_resp(&f.sb, &rs), 0);
	msg_create_jobs_resp rs2;
	CHECK_EQ_INT(DECODE(msg_decode_create_jobs_resp, &f, &f.sb, &rs2), 0);
	CHECK_EQ_INT(rs2.result, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(rs2.n_jobs, 2);
	CHECK_EQ_INT(rs2.n_deps, 2);
	if (rs2.n_jobs == 2 && rs2.n_deps == 2) {
		CHECK_EQ_STR(rs2.jobs[0].job_key, "copy");
		CHECK_EQ_STR(rs2.jobs[0].platform, "pc");
		CHECK(rs2.jobs[0].critical);
		CHECK_EQ_INT(rs2.jobs[0].priority, -5);
		CHECK_EQ_INT(rs2.jobs[0].params.n, 0);
		CHECK(!rs2.jobs[1].critical);
		CHECK(rs2.jobs[1].priority == INT64_MAX);
		CHECK_EQ_INT(rs2.jobs[1].params.n, 2);
		CHECK_EQ_STR(rs2.jobs[1].params.items[0].key, "quality");
		CHECK_EQ_STR(rs2.jobs[1].params.items[0].value, "high");
		CHECK_EQ_STR(rs2.jobs[1].params.items[1].value, "");
		CHECK_EQ_STR(rs2.deps[0].path, "a/b.txt");
		CHECK(rs2.deps[0].uuid == NULL);
		CHECK_EQ_STR(rs2.deps[1].uuid, "u-1");
		CHECK(rs2.deps[1].path == NULL);
	}

	/* A minimal failed reply: defaults for jobs and deps. */
	pk k;
	pk_msg(&k, 2, "create_jobs");
	pk_kv(&k, "result", "failed");
	CHECK_EQ_INT(DECODE(msg_decode_create_jobs_resp, &f, &k.sb, &rs2), 0);
	CHECK_EQ_INT(rs2.result, MSG_RESULT_FAILED);
	CHECK_EQ_INT(rs2.n_jobs, 0);
	CHECK_EQ_INT(rs2.n_deps, 0);
	msgpack_sbuffer_destroy(&k.sb);
	fx_done(&f);
}

static void test_process_job(void)
{
	fx f;
	fx_init(&f);

	msg_kv params[] = {{"fmt", "bc7"}};
	const char *tags[] = {"desktop", "renderer"};
	const char *sdeps[] = {"/p/Assets/x.fbx.assetinfo"};
	msg_process_job_req rq = {
	    .source_file = "x.fbx",
	    .watch_folder = "/p/Assets",
	    .full_path = "/p/Assets/x.fbx",
	    .builder_uuid = "bu",
	    .job = {.job_key = "mesh",
	            .platform = "pc",
	            .critical = true,
	            .priority = 7,
	            .params = {.items = params, .n = 1}},
	    .temp_dir = "/p/Cache/tmp/job-1",
	    .platform_info = {.identifier = "pc", .tags = {.items = tags, .n = 2}},
	    .source_file_dependencies = {.items = sdeps, .n = 1},
	    .source_uuid = "su",
	    .job_id = UINT64_MAX,
	};
	CHECK_EQ_INT(msg_encode_process_job_req(&f.sb, &rq), 0);
	msg_process_job_req r2;
	CHECK_EQ_INT(DECODE(msg_decode_process_job_req, &f, &f.sb, &r2), 0);
	CHECK_EQ_STR(r2.source_file, "x.fbx");
	CHECK_EQ_STR(r2.watch_folder, "/p/Assets");
	CHECK_EQ_STR(r2.full_path, "/p/Assets/x.fbx");
	CHECK_EQ_STR(r2.builder_uuid, "bu");
	CHECK_EQ_STR(r2.job.job_key, "mesh");
	CHECK_EQ_STR(r2.job.platform, "pc");
	CHECK(r2.job.critical);
	CHECK_EQ_INT(r2.job.priority, 7);
	CHECK_EQ_INT(r2.job.params.n, 1);
	CHECK_EQ_STR(r2.temp_dir, "/p/Cache/tmp/job-1");
	CHECK_EQ_STR(r2.platform_info.identifier, "pc");
	CHECK_EQ_INT(r2.platform_info.tags.n, 2);
	CHECK_EQ_INT(r2.source_file_dependencies.n, 1);
	if (r2.source_file_dependencies.n == 1)
		CHECK_EQ_STR(r2.source_file_dependencies.items[0], sdeps[0]);
	CHECK_EQ_STR(r2.source_uuid, "su");
	CHECK(r2.job_id == UINT64_MAX);

	/* The request's exact key names, as builders in other languages see them. */
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	CHECK_EQ_INT(msgpack_unpack_next(&u, f.sb.data, f.sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
	const char *keys[] = {"type",        "source_file",   "watch_folder",
	                      "full_path",   "builder_uuid",  "job_description",
	                      "temp_dir",    "platform_info", "source_file_dependencies",
	                      "source_uuid", "job_id"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(msg_dec_get(&u.data, keys[i]) != NULL);
	const msgpack_object *jd = msg_dec_get(&u.data, "job_description");
	CHECK(jd && msg_dec_get(jd, "params") && msg_dec_get(jd, "critical") && msg_dec_get(jd, "priority"));
	msgpack_unpacked_destroy(&u);

	const char *ids[] = {"{aa}:1", "{bb}:0"};
	msg_path_dep pdeps[] = {{.path = "x/y.png", .is_source = true}, {.path = "z.bin"}};
	msg_product prods[] = {
	    {.file = "x.mesh",
	     .asset_type = "mesh",
	     .sub_id = UINT32_MAX,
	     .dep_asset_ids = ids,
	     .n_dep_asset_ids = 2,
	     .path_deps = pdeps,
	     .n_path_deps = 2,
	     .dependencies_handled = false,
	     .intermediate = true},
	    {.file = "x.meta", .sub_id = 0, .dependencies_handled = true},
	};
	const char *again[] = {"other.fbx"};
	msg_process_job_resp rs = {.result = MSG_RESULT_NETWORK_ISSUE,
	                           .products = prods,
	                           .n_products = 2,
	                           .sources_to_reprocess = {.items = again, .n = 1}};
	msgpack_sbuffer_clear(&f.sb);
	CHECK_EQ_INT(msg_encode_process_job_resp(&f.sb, &rs), 0);
	msg_process_job_resp s2;
	int prc = DECODE(msg_decode_process_job_resp, &f, &f.sb, &s2);
	if (prc)
		fprintf(stderr, "%s\n", f.err);
	CHECK_EQ_INT(prc, 0);
	CHECK_EQ_INT(s2.result, MSG_RESULT_NETWORK_ISSUE);
	CHECK_EQ_INT(s2.n_products, 2);
	if (s2.n_products == 2) {
		msg_product *p = &s2.products[0];
		CHECK_EQ_STR(p->file, "x.mesh");
		CHECK_EQ_STR(p->asset_type, "mesh");
		CHECK(p->sub_id == UINT32_MAX);
		CHECK_EQ_INT(p->n_dep_asset_ids, 2);
		if (p->n_dep_asset_ids == 2)
			CHECK_EQ_STR(p->dep_asset_ids[1], "{bb}:0");
		CHECK_EQ_INT(p->n_path_deps, 2);
		if (p->n_path_deps == 2) {
			CHECK_EQ_STR(p->path_deps[0].path, "x/y.png");
			CHECK(p->path_deps[0].is_source);
			CHECK(!p->path_deps[1].is_source);
		}
		CHECK(!p->dependencies_handled);
		CHECK(p->intermediate);
		CHECK_EQ_STR(s2.products[1].asset_type, "");
		CHECK(s2.products[1].dependencies_handled);
		CHECK(!s2.products[1].intermediate);
	}
	CHECK_EQ_INT(s2.sources_to_reprocess.n, 1);

	/* Product defaults when only file and sub_id are sent. */
	pk k;
	pk_success(&k, 3, "process_job");
	pk_str(&k, "products");
	msgpack_pack_array(&k.p, 1);
	msgpack_pack_map(&k.p, 3);
	pk_kv(&k, "file", "a.bin");
	pk_str(&k, "sub_id");
	msgpack_pack_int(&k.p, 3);
	pk_str(&k, "asset_type");
	msgpack_pack_nil(&k.p); /* nil for an optional field is its default */
	CHECK_EQ_INT(DECODE(msg_decode_process_job_resp, &f, &k.sb, &s2), 0);
	CHECK_EQ_INT(s2.n_products, 1);
	if (s2.n_products == 1) {
		CHECK_EQ_STR(s2.products[0].asset_type, "");
		CHECK(s2.products[0].dependencies_handled);
		CHECK_EQ_INT(s2.products[0].sub_id, 3);
		CHECK_EQ_INT(s2.products[0].n_path_deps, 0);
	}
	msgpack_sbuffer_destroy(&k.sb);
	fx_done(&f);
}

static void test_log(void)
{
	fx f;
	fx_init(&f);
	msg_kv ctx[] = {{"file", "a.png"}, {"line", "3"}};
	msg_log in = {.level = MSG_LEVEL_WARNING, .message = "careful", .context = {.items = ctx, .n = 2}};
	CHECK_EQ_INT(msg_encode_log(&f.sb, &in), 0);
	msg_log out;
	CHECK_EQ_INT(DECODE(msg_decode_log, &f, &f.sb, &out), 0);
	CHECK_EQ_INT(out.level, MSG_LEVEL_WARNING);
	CHECK_EQ_STR(out.message, "careful");
	CHECK_EQ_INT(out.context.n, 2);
	if (out.context.n == 2) {
		CHECK_EQ_STR(out.context.items[1].key, "line");
		CHECK_EQ_STR(out.context.items[1].value, "3");
	}

	/* level defaults to info; a message may hold a NUL (it is cut there). */
	pk k;
	pk_msg(&k, 2, "log");
	pk_str(&k, "message");
	msgpack_pack_str_with_body(&k.p, "ab\0cd", 5);
	CHECK_EQ_INT(DECODE(msg_decode_log, &f, &k.sb, &out), 0);
	CHECK_EQ_INT(out.level, MSG_LEVEL_INFO);
	CHECK_EQ_STR(out.message, "ab");
	CHECK_EQ_INT(out.context.n, 0);
	msgpack_sbuffer_destroy(&k.sb);

	pk_msg(&k, 3, "log");
	pk_kv(&k, "message", "m");
	pk_kv(&k, "level", "debug");
	expect_refused(DECODE(msg_decode_log, &f, &k.sb, &out), f.err,
	               "level: expected \"info\", \"warning\" or \"error\", got \"debug\"", __LINE__);
	msgpack_sbuffer_destroy(&k.sb);
	fx_done(&f);
}

static void test_names(void)
{
	msg_result r = MSG_RESULT_FAILED;
	const char *names[] = {"success", "failed", "crashed", "cancelled", "network_issue"};
	for (int i = 0; i < 5; i++) {
		CHECK_EQ_STR(msg_result_name((msg_result)i), names[i]);
		CHECK_EQ_INT(msg_result_parse(names[i], &r), 0);
		CHECK_EQ_INT(r, i);
	}
	CHECK_EQ_INT(msg_result_parse("timeout", &r), KILN_E_PROTO);
	CHECK_EQ_STR(msg_level_name(MSG_LEVEL_INFO), "info");
	CHECK_EQ_STR(msg_level_name(MSG_LEVEL_WARNING), "warning");
	CHECK_EQ_STR(msg_level_name(MSG_LEVEL_ERROR), "error");
}

/* ---- bad input ---- */

/* Runs every decoder on buf and checks they all refuse it. */
static void all_refuse(const uint8_t *buf, size_t len, int line)
{
	arena *a = arena_new();
	char err[256], type[16];
	msg_describe d;
	msg_create_jobs_req cq;
	msg_create_jobs_resp cs;
	msg_process_job_req pq;
	msg_process_job_resp ps;
	msg_log l;
	int bad = 0;
	bad += msg_peek_type(buf, len, type, sizeof(type), err, sizeof(err)) == KILN_E_PROTO;
	bad += msg_decode_describe(buf, len, a, &d, err, sizeof(err)) == KILN_E_PROTO;
	bad += msg_decode_create_jobs_req(buf, len, a, &cq, err, sizeof(err)) == KILN_E_PROTO;
	bad += msg_decode_create_jobs_resp(buf, len, a, &cs, err, sizeof(err)) == KILN_E_PROTO;
	bad += msg_decode_process_job_req(buf, len, a, &pq, err, sizeof(err)) == KILN_E_PROTO;
	bad += msg_decode_process_job_resp(buf, len, a, &ps, err, sizeof(err)) == KILN_E_PROTO;
	bad += msg_decode_log(buf, len, a, &l, err, sizeof(err)) == KILN_E_PROTO;
	if (bad != 7)
		fprintf(stderr, "input from line %d: only %d of 7 refused (last error: %s)\n", line, bad,
		        err);
	CHECK_EQ_INT(bad, 7);
	CHECK(err[0] != '\0');
	arena_free(a);
}

static void test_garbage(void)
{
	char err[256];
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	CHECK_EQ_INT(msg_encode_shutdown(&sb), 0);

	all_refuse((const uint8_t *)"", 0, __LINE__);
	all_refuse((const uint8_t *)"\xc1", 1, __LINE__);
	all_refuse((const uint8_t *)"hello world", 11, __LINE__);
	/* Truncated: every proper prefix of a real frame. */
	for (size_t n = 0; n < sb.size; n++)
		all_refuse(B(&sb), n, __LINE__);
	/* Trailing bytes after a map. */
	uint8_t trail[64];
	memcpy(trail, sb.data, sb.size);
	trail[sb.size] = 0xc0;
	all_refuse(trail, sb.size + 1, __LINE__);
	CHECK_EQ_INT(msg_peek_type(trail, sb.size + 1, NULL, 0, err, sizeof(err)), KILN_E_PROTO);
	CHECK_HAS(err, "trailing");
	/* Two maps in one frame. */
	memcpy(trail + sb.size, sb.data, sb.size);
	all_refuse(trail, sb.size * 2, __LINE__);
	/* Not a map. */
	all_refuse((const uint8_t *)"\x92\x01\x02", 3, __LINE__);
	CHECK_EQ_INT(msg_peek_type((const uint8_t *)"\x92\x01\x02", 3, NULL, 0, err, sizeof(err)),
	             KILN_E_PROTO);
	CHECK_HAS(err, "expected a map, got an array");
	all_refuse((const uint8_t *)"\x05", 1, __LINE__);
	/* A map with an integer key. */
	all_refuse((const uint8_t *)"\x81\x01\x02", 3, __LINE__);
	/* Containers that claim more elements than the frame holds: refused
	 * before anything is allocated for them. */
	all_refuse((const uint8_t *)"\xdd\xff\xff\xff\xff", 5, __LINE__);
	all_refuse((const uint8_t *)"\xdf\xff\xff\xff\xff", 5, __LINE__);
	all_refuse((const uint8_t *)"\x81\xa4type\xdd\x7f\xff\xff\xff\xc0", 12, __LINE__);
	all_refuse((const uint8_t *)"\x81\xa4type\xdb\xff\xff\xff\xff", 10, __LINE__);
	all_refuse((const uint8_t *)"\x81\xa4type\xc6\xff\xff\xff\xff", 10, __LINE__);
	/* Nesting deeper than any message needs. */
	uint8_t deep[80];
	size_t n = 0;
	deep[n++] = 0x81;
	deep[n++] = 0xa1;
	deep[n++] = 'x';
	for (int i = 0; i < 40; i++)
		deep[n++] = 0x91;
	deep[n++] = 0xc0;
	all_refuse(deep, n, __LINE__);
	/* Every single-byte frame, every two-byte frame beginning with a map. */
	for (int b = 0; b < 256; b++) {
		uint8_t one = (uint8_t)b;
		all_refuse(&one, 1, __LINE__);
	}
	msgpack_sbuffer_destroy(&sb);
}

/* A process_job reply whose single product is a map of nfields fields,
 * which the caller packs. */
static void resp_with_product(pk *k, int nfields)
{
	pk_success(k, 3, "process_job");
	pk_str(k, "products");
	msgpack_pack_array(&k->p, 1);
	msgpack_pack_map(&k->p, nfields);
}

/* The same, its product beginning with "file": "x" and the key "sub_id",
 * whose value the caller packs next. */
static void resp_with_sub_id(pk *k, int nfields)
{
	resp_with_product(k, nfields);
	pk_kv(k, "file", "x");
	pk_str(k, "sub_id");
}

/* The same with a valid sub_id of 0: what the caller adds is what fails. */
static void resp_with_valid_product(pk *k, int nfields)
{
	resp_with_sub_id(k, nfields);
	msgpack_pack_int(&k->p, 0);
}

/* Decodes k (and frees it) as a create_jobs or a process_job reply and
 * checks the error. */
static void expect_reply_err(pk *k, bool create_jobs, const char *want, int line)
{
	fx f;
	union {
		msg_create_jobs_resp cj;
		msg_process_job_resp pj;
	} r;
	fx_init(&f);
	int rc = create_jobs ? DECODE(msg_decode_create_jobs_resp, &f, &k->sb, &r.cj)
	                     : DECODE(msg_decode_process_job_resp, &f, &k->sb, &r.pj);
	expect_refused(rc, f.err, want, line);
	msgpack_sbuffer_destroy(&k->sb);
	fx_done(&f);
}

static void expect_resp_err(pk *k, const char *want, int line)
{
	expect_reply_err(k, false, want, line);
}

static void expect_cjobs_err(pk *k, const char *want, int line)
{
	expect_reply_err(k, true, want, line);
}

static void test_product_errors(void)
{
	pk k;

	resp_with_product(&k, 1);
	pk_kv(&k, "asset_type", "x");
	expect_resp_err(&k, "products[0].file: missing", __LINE__);

	resp_with_product(&k, 1);
	pk_kv(&k, "file", "x");
	expect_resp_err(&k, "products[0].sub_id: missing", __LINE__);

	resp_with_sub_id(&k, 2);
	pk_str(&k, "1");
	expect_resp_err(&k, "products[0].sub_id: expected an integer, got a string", __LINE__);

	resp_with_sub_id(&k, 2);
	msgpack_pack_int64(&k.p, -1);
	expect_resp_err(&k, "products[0].sub_id: -1 is out of range", __LINE__);

	resp_with_sub_id(&k, 2);
	msgpack_pack_uint64(&k.p, (uint64_t)UINT32_MAX + 1);
	expect_resp_err(&k, "products[0].sub_id: 4294967296 is out of range", __LINE__);

	resp_with_sub_id(&k, 2);
	msgpack_pack_double(&k.p, 1.0);
	expect_resp_err(&k, "products[0].sub_id: expected an integer, got a float", __LINE__);

	resp_with_product(&k, 2);
	pk_str(&k, "file");
	msgpack_pack_str_with_body(&k.p, "a\0b", 3);
	pk_str(&k, "sub_id");
	msgpack_pack_int(&k.p, 0);
	expect_resp_err(&k, "products[0].file: string holds a NUL byte", __LINE__);

	resp_with_product(&k, 2);
	pk_str(&k, "file");
	msgpack_pack_bin_with_body(&k.p, "ab", 2);
	pk_str(&k, "sub_id");
	msgpack_pack_int(&k.p, 0);
	expect_resp_err(&k, "products[0].file: expected a string, got binary data", __LINE__);

	resp_with_valid_product(&k, 3);
	pk_str(&k, "intermediate");
	msgpack_pack_int(&k.p, 1);
	expect_resp_err(&k, "products[0].intermediate: expected a boolean, got an integer", __LINE__);

	resp_with_valid_product(&k, 3);
	pk_str(&k, "dependencies");
	msgpack_pack_array(&k.p, 2);
	msgpack_pack_map(&k.p, 1);
	pk_kv(&k, "asset_id", "{a}:1");
	msgpack_pack_map(&k.p, 1);
	pk_kv(&k, "asset", "{a}:1");
	expect_resp_err(&k, "products[0].dependencies[1].asset_id: missing", __LINE__);

	resp_with_valid_product(&k, 3);
	pk_str(&k, "path_dependencies");
	msgpack_pack_array(&k.p, 1);
	msgpack_pack_map(&k.p, 2);
	pk_kv(&k, "path", "p");
	pk_kv(&k, "type", "weird");
	expect_resp_err(&k, "products[0].path_dependencies[0].type: expected \"product\" or \"source\"",
	                __LINE__);

	resp_with_valid_product(&k, 3);
	pk_str(&k, "path_dependencies");
	msgpack_pack_array(&k.p, 1);
	pk_str(&k, "p");
	expect_resp_err(&k, "products[0].path_dependencies[0]: expected a map, got a string", __LINE__);

	/* A product that is not a map at all. */
	pk_success(&k, 3, "process_job");
	pk_str(&k, "products");
	msgpack_pack_array(&k.p, 2);
	msgpack_pack_map(&k.p, 2);
	pk_kv(&k, "file", "x");
	pk_str(&k, "sub_id");
	msgpack_pack_int(&k.p, 0);
	msgpack_pack_true(&k.p);
	expect_resp_err(&k, "products[1]: expected a map, got a boolean", __LINE__);

	/* products not an array. */
	pk_success(&k, 3, "process_job");
	pk_kv(&k, "products", "none");
	expect_resp_err(&k, "products: expected an array, got a string", __LINE__);

	/* result: missing, wrong type, unknown value. */
	pk_msg(&k, 1, "process_job");
	expect_resp_err(&k, "result: missing", __LINE__);
	pk_msg(&k, 2, "process_job");
	pk_str(&k, "result");
	msgpack_pack_nil(&k.p);
	expect_resp_err(&k, "result: missing", __LINE__);
	pk_msg(&k, 2, "process_job");
	pk_kv(&k, "result", "great");
	expect_resp_err(&k, "result: unknown result \"great\"", __LINE__);
	pk_msg(&k, 2, "process_job");
	pk_str(&k, "result");
	msgpack_pack_true(&k.p);
	expect_resp_err(&k, "result: expected a string, got a boolean", __LINE__);

	/* sources_to_reprocess items must be strings. */
	pk_success(&k, 3, "process_job");
	pk_str(&k, "sources_to_reprocess");
	msgpack_pack_array(&k.p, 2);
	pk_str(&k, "a");
	msgpack_pack_int(&k.p, 5);
	expect_resp_err(&k, "sources_to_reprocess[1]: expected a string, got an integer", __LINE__);

	/* Wrong, missing and mistyped "type". */
	pk_success(&k, 2, "create_jobs");
	expect_resp_err(&k, "type: expected \"process_job\", got \"create_jobs\"", __LINE__);
	pk_init(&k);
	msgpack_pack_map(&k.p, 1);
	pk_kv(&k, "result", "success");
	expect_resp_err(&k, "type: missing", __LINE__);
	pk_init(&k);
	msgpack_pack_map(&k.p, 2);
	pk_str(&k, "type");
	msgpack_pack_int(&k.p, 3);
	pk_kv(&k, "result", "success");
	expect_resp_err(&k, "type: expected a string, got an integer", __LINE__);
}

/* A job map of nfields fields that begins with a valid job_key and
 * platform; the caller packs the rest. */
static void job_head(pk *k, int nfields)
{
	msgpack_pack_map(&k->p, nfields);
	pk_kv(k, "job_key", "k");
	pk_kv(k, "platform", "pc");
}

/* A create_jobs reply with three jobs; job 2 gets the caller's extra field. */
static void expect_jobs_err(void (*third_job)(pk *), const char *want, int line)
{
	pk k;
	pk_success(&k, 3, "create_jobs");
	pk_str(&k, "jobs");
	msgpack_pack_array(&k.p, 3);
	for (int i = 0; i < 2; i++)
		job_head(&k, 2);
	third_job(&k);
	expect_cjobs_err(&k, want, line);
}

static void job_prio_str(pk *k)
{
	job_head(k, 3);
	pk_kv(k, "priority", "high");
}

static void job_prio_big(pk *k)
{
	job_head(k, 3);
	pk_str(k, "priority");
	msgpack_pack_uint64(&k->p, (uint64_t)INT64_MAX + 1);
}

static void job_no_platform(pk *k)
{
	msgpack_pack_map(&k->p, 1);
	pk_kv(k, "job_key", "k");
}

static void job_critical_str(pk *k)
{
	job_head(k, 3);
	pk_kv(k, "critical", "true");
}

static void job_param_int(pk *k)
{
	job_head(k, 3);
	pk_str(k, "params");
	msgpack_pack_map(&k->p, 2);
	pk_kv(k, "a", "b");
	pk_str(k, "q");
	msgpack_pack_int(&k->p, 1);
}

static void job_param_key_int(pk *k)
{
	job_head(k, 3);
	pk_str(k, "params");
	msgpack_pack_map(&k->p, 1);
	msgpack_pack_int(&k->p, 1);
	pk_str(k, "b");
}

static void job_key_nul(pk *k)
{
	msgpack_pack_map(&k->p, 2);
	pk_str(k, "job_key");
	msgpack_pack_str_with_body(&k->p, "k\0x", 3);
	pk_kv(k, "platform", "pc");
}

static void test_job_errors(void)
{
	expect_jobs_err(job_prio_str, "jobs[2].priority: expected an integer, got a string", __LINE__);
	expect_jobs_err(job_prio_big, "jobs[2].priority: 9223372036854775808 is out of range", __LINE__);
	expect_jobs_err(job_no_platform, "jobs[2].platform: missing", __LINE__);
	expect_jobs_err(job_critical_str, "jobs[2].critical: expected a boolean, got a string", __LINE__);
	expect_jobs_err(job_param_int, "jobs[2].params.q: expected a string, got an integer", __LINE__);
	expect_jobs_err(job_param_key_int, "jobs[2].params: map key 0 is an integer, not a string", __LINE__);
	expect_jobs_err(job_key_nul, "jobs[2].job_key: string holds a NUL byte", __LINE__);

	/* source_dependencies: exactly one of path or uuid. */
	pk k;
	pk_success(&k, 3, "create_jobs");
	pk_str(&k, "source_dependencies");
	msgpack_pack_array(&k.p, 2);
	msgpack_pack_map(&k.p, 1);
	pk_kv(&k, "path", "a");
	msgpack_pack_map(&k.p, 2);
	pk_kv(&k, "path", "a");
	pk_kv(&k, "uuid", "b");
	expect_cjobs_err(&k, "source_dependencies[1]: needs exactly one of", __LINE__);
	pk_success(&k, 3, "create_jobs");
	pk_str(&k, "source_dependencies");
	msgpack_pack_array(&k.p, 1);
	msgpack_pack_map(&k.p, 0);
	expect_cjobs_err(&k, "source_dependencies[0]: needs exactly one of", __LINE__);
}

/* A malloc'd copy of sb whose first occurrence of key has its first byte
 * replaced by to, so that the decoder no longer finds the key (or finds
 * another). The caller frees it. */
static uint8_t *renamed(const msgpack_sbuffer *sb, const char *key, char to)
{
	uint8_t *copy = malloc(sb->size);
	if (!copy)
		return NULL;
	memcpy(copy, sb->data, sb->size);
	uint8_t *hit = memmem(copy, sb->size, key, strlen(key));
	CHECK(hit != NULL);
	if (hit)
		hit[0] = (uint8_t)to;
	return copy;
}

/* Requests: every required field is required, job_id is unsigned. */
static void test_request_errors(void)
{
	fx f;
	fx_init(&f);
	const char *plats[] = {"pc"};
	msg_create_jobs_req cq = {.source_file = "a",
	                          .watch_folder = "/w",
	                          .full_path = "/w/a",
	                          .source_uuid = "u",
	                          .builder_uuid = "b",
	                          .platforms = {plats, 1}};
	CHECK_EQ_INT(msg_encode_create_jobs_req(&f.sb, &cq), 0);
	/* Drop each field in turn by renaming its key in the encoded bytes. */
	const char *fields[] = {"source_file", "watch_folder", "full_path",
	                        "source_uuid", "builder_uuid", "platforms"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint8_t *copy = renamed(&f.sb, fields[i], 'X');
		msg_create_jobs_req out;
		CHECK_EQ_INT(msg_decode_create_jobs_req(copy, f.sb.size, f.a, &out, f.err, sizeof(f.err)),
		             KILN_E_PROTO);
		char want[64];
		snprintf(want, sizeof(want), "%s: missing", fields[i]);
		CHECK_EQ_STR(f.err, want);
		free(copy);
	}

	/* A path with a NUL in it. */
	pk k;
	pk_msg(&k, 7, "create_jobs");
	pk_str(&k, "source_file");
	msgpack_pack_str_with_body(&k.p, "a.txt\0/../../etc/passwd", 23);
	pk_kv(&k, "watch_folder", "/w");
	pk_kv(&k, "full_path", "/w/a.txt");
	pk_kv(&k, "source_uuid", "u");
	pk_kv(&k, "builder_uuid", "b");
	pk_str(&k, "platforms");
	msgpack_pack_array(&k.p, 0);
	msg_create_jobs_req out;
	CHECK_EQ_INT(DECODE(msg_decode_create_jobs_req, &f, &k.sb, &out), KILN_E_PROTO);
	CHECK_EQ_STR(f.err, "source_file: string holds a NUL byte");
	msgpack_sbuffer_destroy(&k.sb);

	/* process_job: nested paths in errors, and a negative job_id. */
	msg_process_job_req pq = {.source_file = "a",
	                          .watch_folder = "/w",
	                          .full_path = "/w/a",
	                          .builder_uuid = "b",
	                          .job = {.job_key = "k", .platform = "pc"},
	                          .temp_dir = "/t",
	                          .platform_info = {.identifier = "pc"},
	                          .source_uuid = "u",
	                          .job_id = 1};
	msgpack_sbuffer_clear(&f.sb);
	CHECK_EQ_INT(msg_encode_process_job_req(&f.sb, &pq), 0);
	msg_process_job_req po;
	CHECK_EQ_INT(DECODE(msg_decode_process_job_req, &f, &f.sb, &po), 0);
	const struct {
		const char *key;
		const char *want;
	} nested[] = {
	    {"identifier", "platform_info.identifier: missing"},
	    {"job_key", "job_description.job_key: missing"},
	};
	for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
		uint8_t *copy = renamed(&f.sb, nested[i].key, 'X');
		CHECK_EQ_INT(msg_decode_process_job_req(copy, f.sb.size, f.a, &po, f.err, sizeof(f.err)),
		             KILN_E_PROTO);
		CHECK_EQ_STR(f.err, nested[i].want);
		free(copy);
	}
	{
		uint8_t *copy = malloc(f.sb.size);
		memcpy(copy, f.sb.data, f.sb.size);
		/* job_id is the last field: 0xa6 "job_id" then fixint 1. */
		CHECK(copy[f.sb.size - 1] == 0x01);
		copy[f.sb.size - 1] = 0xff; /* negative fixint -1 */
		CHECK_EQ_INT(msg_decode_process_job_req(copy, f.sb.size, f.a, &po, f.err, sizeof(f.err)),
		             KILN_E_PROTO);
		CHECK_HAS(f.err, "job_id: -1 is out of range");
		free(copy);
	}
	fx_done(&f);
}

/* An encoder that fails leaves the buffer as it was. */
static void test_encode_append(void)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	CHECK_EQ_INT(msg_encode_describe_req(&sb), 0);
	size_t one = sb.size;
	CHECK_EQ_INT(msg_encode_shutdown(&sb), 0);
	CHECK(sb.size > one);
	char type[16], err[64];
	/* Two maps appended back to back are two frames' worth: refused as one. */
	CHECK_EQ_INT(msg_peek_type(B(&sb), sb.size, type, sizeof(type), err, sizeof(err)), KILN_E_PROTO);
	CHECK_EQ_INT(msg_peek_type(B(&sb) + one, sb.size - one, type, sizeof(type), err, sizeof(err)), 0);
	CHECK_EQ_STR(type, "shutdown");
	/* NULL strings encode as "". */
	msg_describe d = {0};
	msgpack_sbuffer_clear(&sb);
	CHECK_EQ_INT(msg_encode_describe(&sb, &d), 0);
	arena *a = arena_new();
	msg_describe o;
	CHECK_EQ_INT(msg_decode_describe(B(&sb), sb.size, a, &o, err, sizeof(err)), 0);
	CHECK_EQ_STR(o.name, "");
	arena_free(a);
	msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
	test_arena();
	test_describe();
	test_create_jobs();
	test_process_job();
	test_log();
	test_names();
	test_garbage();
	test_product_errors();
	test_job_errors();
	test_request_errors();
	test_encode_append();
	TEST_DONE();
}
