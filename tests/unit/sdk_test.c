/* sdk_test: kb_main driven over pipes. A forked child runs a tiny builder;
 * the test sends request frames and checks the reply frames, including a
 * malformed request getting a "failed" reply instead of a hang. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "kerr.h"
#include "kiln_builder.h"
#include "test.h"

static const char *const test_patterns[] = {"*.foo", "*.bar", NULL};

static int t_create_jobs(kb_ctx *ctx, const msg_create_jobs_req *req, msg_create_jobs_resp *resp, arena *a)
{
	/* A stray printf must not reach the protocol stream. */
	printf("this goes to stderr, not into a frame\n");
	fflush(stdout);
	if (strcmp(req->source_file, "fail.foo") == 0)
		return -EIO;
	kb_log(ctx, MSG_LEVEL_INFO, "jobs for %s", req->source_file);
	int rc = kb_jobs_per_platform(req, resp, a, "foo");
	if (rc == 0 && resp->n_jobs) {
		msg_source_dep *d = arena_alloc(a, sizeof(*d));
		d->path = "shared.inc";
		resp->deps = d;
		resp->n_deps = 1;
		resp->jobs[0].critical = true;
	}
	return rc;
}

static int t_process_job(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a)
{
	static const char *const keys[] = {"file", NULL};
	const char *values[] = {req->source_file, NULL};
	kb_log_ctx(ctx, MSG_LEVEL_WARNING, keys, values, "job %llu on %s", (unsigned long long)req->job_id,
	           req->job.platform);
	if (strcmp(req->job.job_key, "leave-failed") == 0)
		return 0; /* the SDK's default result is failed */
	if (!kb_user(ctx))
		return -EINVAL;
	/* Enough products to make kb_add_product grow its array a few times. */
	for (uint32_t i = 0; i < 20; i++) {
		char *name = arena_printf(a, "out/%u.bin", i);
		msg_product *p = kb_add_product(resp, a, name, "bin", i);
		if (!p)
			return -ENOMEM;
	}
	resp->products[3].intermediate = true;
	resp->result = MSG_RESULT_SUCCESS;
	return 0;
}

static int user_token = 7;

static const kb_builder test_builder = {
    .name = "test-builder",
    .uuid = "0b5fca54-6f84-4a4e-8c10-4d6b5a1e7b11",
    .version = "2",
    .analysis_fingerprint = NULL,
    .patterns = test_patterns,
    .create_jobs = t_create_jobs,
    .process_job = t_process_job,
    .user = &user_token,
};

typedef struct child {
	pid_t pid;
	int to;   /* the child's stdin */
	int from; /* the child's stdout */
} child;

static void start(child *c)
{
	int in[2], out[2];
	if (pipe(in) || pipe(out)) {
		perror("pipe");
		exit(2);
	}
	c->pid = fork();
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 2);
		char *argv[] = {"test-builder", NULL};
		_exit(kb_main(&test_builder, 1, argv));
	}
	close(in[0]);
	close(out[1]);
	c->to = in[1];
	c->from = out[0];
}

/* Exit status of the child, waiting at most ~5 s; -1 if it did not exit. */
static int finish(child *c)
{
	close(c->to);
	close(c->from);
	for (int i = 0; i < 500; i++) {
		int st;
		pid_t r = waitpid(c->pid, &st, WNOHANG);
		if (r == c->pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	return -1;
}

static void send_sb(child *c, msgpack_sbuffer *sb)
{
	CHECK_EQ_INT(frame_write_fd(c->to, sb->data, sb->size), 0);
	msgpack_sbuffer_clear(sb);
}

/* Reads one frame with a 5 s limit, so a builder that hangs fails the test
 * instead of hanging it. Returns 0 and sets *type, or -1. */
static int recv_frame(child *c, uint8_t **buf, size_t *len, char *type, size_t typesz)
{
	struct pollfd p = {.fd = c->from, .events = POLLIN};
	if (poll(&p, 1, 5000) != 1) {
		fprintf(stderr, "no reply within 5 s\n");
		return -1;
	}
	if (frame_read_fd(c->from, buf, len) != 0)
		return -1;
	char err[128];
	if (msg_peek_type(*buf, *len, type, typesz, err, sizeof(err)) != 0) {
		fprintf(stderr, "bad frame from builder: %s\n", err);
		free(*buf);
		return -1;
	}
	return 0;
}

static msg_create_jobs_req sample_cj(const char *file)
{
	static const char *plats[] = {"pc", "linux"};
	msg_create_jobs_req r = {.source_file = file,
	                         .watch_folder = "/w",
	                         .full_path = "/w/x",
	                         .source_uuid = "u",
	                         .builder_uuid = test_builder.uuid,
	                         .platforms = {plats, 2}};
	return r;
}

static void test_session(void)
{
	child c;
	msgpack_sbuffer sb;
	uint8_t *buf = NULL;
	size_t len;
	char type[32], err[256];
	arena *a = arena_new();

	start(&c);
	msgpack_sbuffer_init(&sb);

	/* describe */
	msg_encode_describe_req(&sb);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "describe");
	msg_describe d;
	CHECK_EQ_INT(msg_decode_describe(buf, len, a, &d, err, sizeof(err)), 0);
	CHECK_EQ_STR(d.name, "test-builder");
	CHECK_EQ_STR(d.uuid, test_builder.uuid);
	CHECK_EQ_STR(d.version, "2");
	CHECK_EQ_STR(d.analysis_fingerprint, "");
	CHECK_EQ_INT(d.patterns.n, 2);
	free(buf);

	/* create_jobs: a log frame, then the reply. */
	msg_create_jobs_req cj = sample_cj("a.foo");
	msg_encode_create_jobs_req(&sb, &cj);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "log");
	msg_log lg;
	CHECK_EQ_INT(msg_decode_log(buf, len, a, &lg, err, sizeof(err)), 0);
	CHECK_EQ_STR(lg.message, "jobs for a.foo");
	free(buf);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "create_jobs");
	msg_create_jobs_resp cr;
	CHECK_EQ_INT(msg_decode_create_jobs_resp(buf, len, a, &cr, err, sizeof(err)), 0);
	CHECK_EQ_INT(cr.result, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(cr.n_jobs, 2);
	if (cr.n_jobs == 2) {
		CHECK_EQ_STR(cr.jobs[0].job_key, "foo");
		CHECK_EQ_STR(cr.jobs[0].platform, "pc");
		CHECK(cr.jobs[0].critical);
		CHECK_EQ_STR(cr.jobs[1].platform, "linux");
		CHECK_EQ_INT(cr.jobs[1].priority, 0);
	}
	CHECK_EQ_INT(cr.n_deps, 1);
	free(buf);

	/* A callback error: logged, and the reply is failed. */
	cj = sample_cj("fail.foo");
	msg_encode_create_jobs_req(&sb, &cj);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "log");
	CHECK_EQ_INT(msg_decode_log(buf, len, a, &lg, err, sizeof(err)), 0);
	CHECK_EQ_INT(lg.level, MSG_LEVEL_ERROR);
	CHECK(strstr(lg.message, "fail.foo") && strstr(lg.message, "Input/output error"));
	free(buf);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_INT(msg_decode_create_jobs_resp(buf, len, a, &cr, err, sizeof(err)), 0);
	CHECK_EQ_INT(cr.result, MSG_RESULT_FAILED);
	CHECK_EQ_INT(cr.n_jobs, 0);
	free(buf);

	/* process_job: a log frame with context, then 20 products. */
	msg_process_job_req pj = {.source_file = "a.foo",
	                          .watch_folder = "/w",
	                          .full_path = "/w/a.foo",
	                          .builder_uuid = test_builder.uuid,
	                          .job = {.job_key = "foo", .platform = "pc"},
	                          .temp_dir = "/tmp/x",
	                          .platform_info = {.identifier = "pc"},
	                          .source_uuid = "u",
	                          .job_id = 77};
	msg_encode_process_job_req(&sb, &pj);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "log");
	CHECK_EQ_INT(msg_decode_log(buf, len, a, &lg, err, sizeof(err)), 0);
	CHECK_EQ_INT(lg.level, MSG_LEVEL_WARNING);
	CHECK_EQ_STR(lg.message, "job 77 on pc");
	CHECK_EQ_INT(lg.context.n, 1);
	if (lg.context.n == 1)
		CHECK_EQ_STR(lg.context.items[0].value, "a.foo");
	free(buf);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "process_job");
	msg_process_job_resp pr;
	CHECK_EQ_INT(msg_decode_process_job_resp(buf, len, a, &pr, err, sizeof(err)), 0);
	CHECK_EQ_INT(pr.result, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(pr.n_products, 20);
	if (pr.n_products == 20) {
		int ok = 1;
		for (uint32_t i = 0; i < 20; i++) {
			char want[32];
			snprintf(want, sizeof(want), "out/%u.bin", i);
			ok &= strcmp(pr.products[i].file, want) == 0 && pr.products[i].sub_id == i &&
			      strcmp(pr.products[i].asset_type, "bin") == 0 &&
			      pr.products[i].dependencies_handled && pr.products[i].intermediate == (i == 3);
		}
		CHECK(ok);
	}
	free(buf);

	/* A callback that returns 0 without setting a result: failed. */
	pj.job.job_key = "leave-failed";
	msg_encode_process_job_req(&sb, &pj);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "log");
	free(buf);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_INT(msg_decode_process_job_resp(buf, len, a, &pr, err, sizeof(err)), 0);
	CHECK_EQ_INT(pr.result, MSG_RESULT_FAILED);
	CHECK_EQ_INT(pr.n_products, 0);
	free(buf);

	/* A malformed request (platforms is a string): an error log naming the
	 * field, then a failed reply, and the builder keeps serving. */
	msgpack_packer p;
	msgpack_packer_init(&p, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&p, 2);
	msgpack_pack_str_with_body(&p, "type", 4);
	msgpack_pack_str_with_body(&p, "create_jobs", 11);
	msgpack_pack_str_with_body(&p, "platforms", 9);
	msgpack_pack_str_with_body(&p, "pc", 2);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "log");
	CHECK_EQ_INT(msg_decode_log(buf, len, a, &lg, err, sizeof(err)), 0);
	CHECK_EQ_INT(lg.level, MSG_LEVEL_ERROR);
	CHECK(strstr(lg.message, "source_file: missing") != NULL);
	free(buf);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "create_jobs");
	CHECK_EQ_INT(msg_decode_create_jobs_resp(buf, len, a, &cr, err, sizeof(err)), 0);
	CHECK_EQ_INT(cr.result, MSG_RESULT_FAILED);
	free(buf);

	/* The same for process_job with a wrong-typed nested field. */
	msgpack_pack_map(&p, 2);
	msgpack_pack_str_with_body(&p, "type", 4);
	msgpack_pack_str_with_body(&p, "process_job", 11);
	msgpack_pack_str_with_body(&p, "job_id", 6);
	msgpack_pack_str_with_body(&p, "1", 1);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "log");
	free(buf);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "process_job");
	CHECK_EQ_INT(msg_decode_process_job_resp(buf, len, a, &pr, err, sizeof(err)), 0);
	CHECK_EQ_INT(pr.result, MSG_RESULT_FAILED);
	free(buf);

	/* An unknown request type. */
	msgpack_pack_map(&p, 1);
	msgpack_pack_str_with_body(&p, "type", 4);
	msgpack_pack_str_with_body(&p, "frobnicate", 10);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "log");
	CHECK_EQ_INT(msg_decode_log(buf, len, a, &lg, err, sizeof(err)), 0);
	CHECK(strstr(lg.message, "frobnicate") != NULL);
	free(buf);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "frobnicate");
	free(buf);

	/* Still alive: describe again, then shutdown exits 0. */
	msg_encode_describe_req(&sb);
	send_sb(&c, &sb);
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "describe");
	free(buf);
	msg_encode_shutdown(&sb);
	send_sb(&c, &sb);
	CHECK_EQ_INT(finish(&c), 0);

	msgpack_sbuffer_destroy(&sb);
	arena_free(a);
}

static void test_exits(void)
{
	child c;

	/* End of input: exit 0. */
	start(&c);
	CHECK_EQ_INT(finish(&c), 0);

	/* A frame that is not MessagePack: exit 1 (after an error log). */
	start(&c);
	CHECK_EQ_INT(frame_write_fd(c.to, "\xc1\xc1", 2), 0);
	uint8_t *buf;
	size_t len;
	char type[16];
	CHECK_EQ_INT(recv_frame(&c, &buf, &len, type, sizeof(type)), 0);
	CHECK_EQ_STR(type, "log");
	free(buf);
	CHECK_EQ_INT(finish(&c), 1);

	/* A 4 GiB length prefix: exit 1, without trying to read it. */
	start(&c);
	CHECK_EQ_INT(write(c.to, "\xff\xff\xff\xff", 4), 4);
	struct pollfd p = {.fd = c.from, .events = POLLIN};
	CHECK_EQ_INT(poll(&p, 1, 5000), 1);
	char tmp;
	CHECK_EQ_INT(read(c.from, &tmp, 1), 0); /* closed without a frame */
	CHECK_EQ_INT(finish(&c), 1);

	/* A frame cut short by end of input: exit 1. */
	start(&c);
	CHECK_EQ_INT(write(c.to,
	                   "\0\0\0\x10"
	                   "ab",
	                   6),
	             6);
	CHECK_EQ_INT(finish(&c), 1);
}

static void test_helpers(void)
{
	arena *a = arena_new();
	const char *plats[] = {"pc"};
	msg_create_jobs_req rq = {.platforms = {plats, 1}};
	msg_create_jobs_resp rs = {.result = MSG_RESULT_FAILED};
	CHECK_EQ_INT(kb_jobs_per_platform(&rq, &rs, a, "k"), 0);
	CHECK_EQ_INT(rs.result, MSG_RESULT_SUCCESS);
	CHECK_EQ_INT(rs.n_jobs, 1);
	CHECK_EQ_STR(rs.jobs[0].job_key, "k");
	CHECK_EQ_STR(rs.jobs[0].platform, "pc");
	CHECK(!rs.jobs[0].critical);

	/* Appending to an array the builder allocated itself copies it. */
	msg_process_job_resp pr = {0};
	msg_product *mine = arena_alloc(a, sizeof(*mine));
	mine->file = "mine";
	pr.products = mine;
	pr.n_products = 1;
	msg_product *p = kb_add_product(&pr, a, "next", "t", 9);
	CHECK(p != NULL);
	CHECK(pr.products != mine);
	CHECK_EQ_INT(pr.n_products, 2);
	CHECK_EQ_STR(pr.products[0].file, "mine");
	CHECK_EQ_STR(pr.products[1].file, "next");
	CHECK_EQ_INT(pr.products[1].sub_id, 9);
	CHECK(pr.products[1].dependencies_handled);
	arena_free(a);

	/* kb_log without a context goes to stderr and does not crash. */
	kb_log(NULL, MSG_LEVEL_WARNING, "outside kb_main %d", 1);
	CHECK(kb_user(NULL) == NULL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_session();
	test_exits();
	test_helpers();
	TEST_DONE();
}
