/* hostproto_test: the supervisor <-> builder host messages round-trip, and
 * bad ones are refused with the field named. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostproto.h"
#include "kerr.h"
#include "test.h"

static const uint8_t *B(const msgpack_sbuffer *sb)
{
	return (const uint8_t *)sb->data;
}

static void test_run(void)
{
	arena *a = arena_new();
	msgpack_sbuffer sb;
	char err[256];
	msgpack_sbuffer_init(&sb);
	const char *args[] = {"--fast", "-v"};
	uint8_t f1[] = {0x81, 0xa4, 't', 'y', 'p', 'e', 0xa8, 'd', 'e', 's', 'c', 'r', 'i', 'b', 'e'};
	hp_bytes frames[] = {{f1, sizeof(f1)}, {NULL, 0}};
	hp_run in = {.id = 1ull << 40,
	             .builder = {.key = "kiln-copy#0",
	                         .exec = "/opt/kiln/bin/kiln-copy",
	                         .args = {args, 2},
	                         .persistent = true,
	                         .timeout_s = 600,
	                         .memory_mb = UINT32_MAX},
	             .cwd = "/p/Cache/tmp/7",
	             .frames = frames,
	             .n_frames = 2};
	CHECK_EQ_INT(hp_encode_run(&sb, &in), 0);
	hp_msg m;
	CHECK_EQ_INT(hp_decode(B(&sb), sb.size, a, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.type, HP_T_RUN);
	hp_run *r = &m.u.run;
	CHECK(r->id == 1ull << 40);
	CHECK_EQ_STR(r->builder.key, "kiln-copy#0");
	CHECK_EQ_STR(r->builder.exec, "/opt/kiln/bin/kiln-copy");
	CHECK_EQ_INT(r->builder.args.n, 2);
	if (r->builder.args.n == 2)
		CHECK_EQ_STR(r->builder.args.items[1], "-v");
	CHECK(r->builder.persistent);
	CHECK_EQ_INT(r->builder.timeout_s, 600);
	CHECK(r->builder.memory_mb == UINT32_MAX);
	CHECK_EQ_STR(r->cwd, "/p/Cache/tmp/7");
	CHECK_EQ_INT(r->n_frames, 2);
	if (r->n_frames == 2) {
		CHECK_EQ_INT(r->frames[0].len, sizeof(f1));
		CHECK(memcmp(r->frames[0].data, f1, sizeof(f1)) == 0);
		/* Frame bytes are copied, not pointing into the message. */
		CHECK((const char *)r->frames[0].data < sb.data ||
		      (const char *)r->frames[0].data >= sb.data + sb.size);
		CHECK_EQ_INT(r->frames[1].len, 0);
	}
	msgpack_sbuffer_destroy(&sb);
	arena_free(a);
}

static void test_small(void)
{
	arena *a = arena_new();
	msgpack_sbuffer sb;
	char err[256];
	hp_msg m;
	msgpack_sbuffer_init(&sb);

	CHECK_EQ_INT(hp_encode_cancel(&sb, 99), 0);
	CHECK_EQ_INT(hp_decode(B(&sb), sb.size, a, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.type, HP_T_CANCEL);
	CHECK_EQ_INT(m.u.cancel_id, 99);

	msgpack_sbuffer_clear(&sb);
	CHECK_EQ_INT(hp_encode_shutdown(&sb), 0);
	CHECK_EQ_INT(hp_decode(B(&sb), sb.size, a, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.type, HP_T_SHUTDOWN);

	msgpack_sbuffer_clear(&sb);
	CHECK_EQ_INT(hp_encode_hello(&sb, 4242), 0);
	CHECK_EQ_INT(hp_decode(B(&sb), sb.size, a, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.type, HP_T_HELLO);
	CHECK_EQ_INT(m.u.hello_pid, 4242);

	msg_kv ctx[] = {{"source", "stderr"}};
	hp_log l = {.id = 5, .idx = 1, .level = MSG_LEVEL_ERROR, .message = "E: bad", .context = {ctx, 1}};
	msgpack_sbuffer_clear(&sb);
	CHECK_EQ_INT(hp_encode_log(&sb, &l), 0);
	CHECK_EQ_INT(hp_decode(B(&sb), sb.size, a, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.type, HP_T_LOG);
	CHECK_EQ_INT(m.u.log.id, 5);
	CHECK_EQ_INT(m.u.log.idx, 1);
	CHECK_EQ_INT(m.u.log.level, MSG_LEVEL_ERROR);
	CHECK_EQ_STR(m.u.log.message, "E: bad");
	CHECK_EQ_INT(m.u.log.context.n, 1);
	if (m.u.log.context.n == 1)
		CHECK_EQ_STR(m.u.log.context.items[0].value, "stderr");
	msgpack_sbuffer_destroy(&sb);
	arena_free(a);
}

static void test_reply(void)
{
	arena *a = arena_new();
	msgpack_sbuffer sb;
	char err[256];
	hp_msg m;
	msgpack_sbuffer_init(&sb);

	const uint8_t frame[] = {0x80};
	const char *tail[] = {"line 1", "line 2"};
	hp_reply ok = {.id = 3,
	               .idx = 2,
	               .status = HP_OK,
	               .detail = "",
	               .frame = {frame, 1},
	               .stderr_tail = {tail, 2},
	               .duration_us = 123456789ull};
	CHECK_EQ_INT(hp_encode_reply(&sb, &ok), 0);
	CHECK_EQ_INT(hp_decode(B(&sb), sb.size, a, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.type, HP_T_REPLY);
	CHECK_EQ_INT(m.u.reply.id, 3);
	CHECK_EQ_INT(m.u.reply.idx, 2);
	CHECK_EQ_INT(m.u.reply.status, HP_OK);
	CHECK_EQ_STR(m.u.reply.detail, "");
	CHECK_EQ_INT(m.u.reply.frame.len, 1);
	CHECK(m.u.reply.frame.data && m.u.reply.frame.data[0] == 0x80);
	CHECK_EQ_INT(m.u.reply.stderr_tail.n, 2);
	CHECK(m.u.reply.duration_us == 123456789ull);

	/* Every failure status, without a frame. */
	for (int s = HP_CRASHED; s <= HP_CANCELLED; s++) {
		hp_reply bad = {.id = 4,
		                .status = (hp_status)s,
		                .detail = "killed by signal 11 (Segmentation fault)",
		                .frame = {frame, 1}};
		msgpack_sbuffer_clear(&sb);
		CHECK_EQ_INT(hp_encode_reply(&sb, &bad), 0);
		CHECK_EQ_INT(hp_decode(B(&sb), sb.size, a, &m, err, sizeof(err)), 0);
		CHECK_EQ_INT(m.u.reply.status, s);
		CHECK(m.u.reply.frame.data == NULL);
		CHECK_EQ_STR(m.u.reply.detail, "killed by signal 11 (Segmentation fault)");
	}
	const char *names[] = {"ok", "crashed", "timeout", "protocol_error", "spawn_failed", "cancelled"};
	for (int s = 0; s < 6; s++)
		CHECK_EQ_STR(hp_status_name((hp_status)s), names[s]);
	msgpack_sbuffer_destroy(&sb);
	arena_free(a);
}

/* Hand-made messages that must be refused with err containing want. */
static void expect_err(msgpack_sbuffer *sb, const char *want, int line)
{
	arena *a = arena_new();
	char err[256] = "";
	hp_msg m;
	int rc = hp_decode(B(sb), sb->size, a, &m, err, sizeof(err));
	if (rc != KILN_E_PROTO || !strstr(err, want))
		fprintf(stderr, "line %d: rc %d, error \"%s\", wanted \"%s\"\n", line, rc, err, want);
	CHECK_EQ_INT(rc, KILN_E_PROTO);
	CHECK(strstr(err, want) != NULL);
	arena_free(a);
	msgpack_sbuffer_clear(sb);
}

static void pstr(msgpack_packer *p, const char *s)
{
	msgpack_pack_str_with_body(p, s, strlen(s));
}

static void test_errors(void)
{
	msgpack_sbuffer sb;
	msgpack_packer p;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&p, &sb, msgpack_sbuffer_write);

	msgpack_pack_map(&p, 1);
	pstr(&p, "t");
	pstr(&p, "launch");
	expect_err(&sb, "t: unknown message \"launch\"", __LINE__);

	msgpack_pack_map(&p, 1);
	pstr(&p, "type");
	pstr(&p, "run");
	expect_err(&sb, "t: missing", __LINE__);

	msgpack_pack_map(&p, 1);
	pstr(&p, "t");
	msgpack_pack_int(&p, 1);
	expect_err(&sb, "t: expected a string, got an integer", __LINE__);

	msgpack_pack_map(&p, 2);
	pstr(&p, "t");
	pstr(&p, "cancel");
	pstr(&p, "id");
	msgpack_pack_int(&p, -3);
	expect_err(&sb, "id: -3 is out of range", __LINE__);

	msgpack_pack_map(&p, 1);
	pstr(&p, "t");
	pstr(&p, "hello");
	expect_err(&sb, "pid: missing", __LINE__);

	/* run with a builder missing exec, and with a frame that is a string. */
	const char *no_args[] = {NULL};
	hp_bytes fr = {(const uint8_t *)"\x80", 1};
	hp_run run = {.id = 1,
	              .builder = {.key = "k", .exec = "e", .args = {no_args, 0}},
	              .cwd = "",
	              .frames = &fr,
	              .n_frames = 1};
	CHECK_EQ_INT(hp_encode_run(&sb, &run), 0);
	uint8_t *copy = malloc(sb.size);
	size_t n = sb.size;
	memcpy(copy, sb.data, n);
	msgpack_sbuffer_clear(&sb);
	uint8_t *hit = memmem(copy, n, "exec", 4);
	CHECK(hit != NULL);
	if (hit)
		hit[0] = 'X';
	msgpack_sbuffer_write(&sb, (const char *)copy, n);
	expect_err(&sb, "builder.exec: missing", __LINE__);
	if (hit)
		hit[0] = 'e';
	/* The frame is the last bytes: bin8 of length 1, 0x80. Make it the
	 * two-byte string "xy" in the same three bytes. */
	CHECK(copy[n - 3] == 0xc4 && copy[n - 2] == 1);
	copy[n - 3] = 0xa2;
	copy[n - 2] = 'x';
	copy[n - 1] = 'y';
	msgpack_sbuffer_write(&sb, (const char *)copy, n);
	expect_err(&sb, "frames[0]: expected binary data, got a string", __LINE__);
	msgpack_pack_map(&p, 5);
	pstr(&p, "t");
	pstr(&p, "run");
	pstr(&p, "id");
	msgpack_pack_int(&p, 1);
	pstr(&p, "builder");
	msgpack_pack_map(&p, 6);
	pstr(&p, "key");
	pstr(&p, "k");
	pstr(&p, "exec");
	pstr(&p, "e");
	pstr(&p, "args");
	msgpack_pack_array(&p, 0);
	pstr(&p, "persistent");
	msgpack_pack_true(&p);
	pstr(&p, "timeout_s");
	msgpack_pack_uint64(&p, 1ull << 32);
	pstr(&p, "memory_mb");
	msgpack_pack_int(&p, 1);
	pstr(&p, "cwd");
	pstr(&p, "");
	pstr(&p, "frames");
	msgpack_pack_array(&p, 0);
	expect_err(&sb, "builder.timeout_s: 4294967296 is out of range", __LINE__);

	msgpack_pack_map(&p, 5);
	pstr(&p, "t");
	pstr(&p, "run");
	pstr(&p, "id");
	msgpack_pack_int(&p, 1);
	pstr(&p, "builder");
	msgpack_pack_map(&p, 6);
	pstr(&p, "key");
	pstr(&p, "k");
	pstr(&p, "exec");
	pstr(&p, "e");
	pstr(&p, "args");
	msgpack_pack_array(&p, 0);
	pstr(&p, "persistent");
	msgpack_pack_true(&p);
	pstr(&p, "timeout_s");
	msgpack_pack_int(&p, 1);
	pstr(&p, "memory_mb");
	msgpack_pack_int(&p, 1);
	pstr(&p, "cwd");
	pstr(&p, "");
	pstr(&p, "frames");
	msgpack_pack_array(&p, 2);
	msgpack_pack_bin_with_body(&p, "\x80", 1);
	pstr(&p, "{}");
	expect_err(&sb, "frames[1]: expected binary data, got a string", __LINE__);
	free(copy);

	/* reply: ok without a frame, a failure with one, an unknown status. */
	hp_reply r = {.id = 1, .status = HP_OK, .detail = "", .frame = {(const uint8_t *)"\x80", 1}};
	msgpack_pack_map(&p, 8);
	pstr(&p, "t");
	pstr(&p, "reply");
	pstr(&p, "id");
	msgpack_pack_int(&p, 1);
	pstr(&p, "idx");
	msgpack_pack_int(&p, 0);
	pstr(&p, "status");
	pstr(&p, "ok");
	pstr(&p, "detail");
	pstr(&p, "");
	pstr(&p, "frame");
	msgpack_pack_nil(&p);
	pstr(&p, "stderr_tail");
	msgpack_pack_array(&p, 0);
	pstr(&p, "duration_us");
	msgpack_pack_int(&p, 0);
	expect_err(&sb, "frame: expected binary data, got nil", __LINE__);

	msgpack_pack_map(&p, 8);
	pstr(&p, "t");
	pstr(&p, "reply");
	pstr(&p, "id");
	msgpack_pack_int(&p, 1);
	pstr(&p, "idx");
	msgpack_pack_int(&p, 0);
	pstr(&p, "status");
	pstr(&p, "timeout");
	pstr(&p, "detail");
	pstr(&p, "");
	pstr(&p, "frame");
	msgpack_pack_bin_with_body(&p, "\x80", 1);
	pstr(&p, "stderr_tail");
	msgpack_pack_array(&p, 0);
	pstr(&p, "duration_us");
	msgpack_pack_int(&p, 0);
	expect_err(&sb, "frame: expected nil for status \"timeout\", got binary data", __LINE__);

	msgpack_pack_map(&p, 8);
	pstr(&p, "t");
	pstr(&p, "reply");
	pstr(&p, "id");
	msgpack_pack_int(&p, 1);
	pstr(&p, "idx");
	msgpack_pack_uint64(&p, 1ull << 33);
	pstr(&p, "status");
	pstr(&p, "ok");
	pstr(&p, "detail");
	pstr(&p, "");
	pstr(&p, "frame");
	msgpack_pack_nil(&p);
	pstr(&p, "stderr_tail");
	msgpack_pack_array(&p, 0);
	pstr(&p, "duration_us");
	msgpack_pack_int(&p, 0);
	expect_err(&sb, "idx: 8589934592 is out of range", __LINE__);

	CHECK_EQ_INT(hp_encode_reply(&sb, &r), 0);
	copy = malloc(sb.size);
	n = sb.size;
	memcpy(copy, sb.data, n);
	msgpack_sbuffer_clear(&sb);
	hit = memmem(copy, n, "\xa2ok", 3);
	CHECK(hit != NULL);
	if (hit)
		hit[1] = 'k';
	msgpack_sbuffer_write(&sb, (const char *)copy, n);
	expect_err(&sb, "status: unknown status \"kk\"", __LINE__);
	free(copy);

	/* log with a bad level. */
	msgpack_pack_map(&p, 6);
	pstr(&p, "t");
	pstr(&p, "log");
	pstr(&p, "id");
	msgpack_pack_int(&p, 1);
	pstr(&p, "idx");
	msgpack_pack_int(&p, 0);
	pstr(&p, "level");
	pstr(&p, "fatal");
	pstr(&p, "message");
	pstr(&p, "m");
	pstr(&p, "context");
	msgpack_pack_map(&p, 0);
	expect_err(&sb, "level: expected \"info\", \"warning\" or \"error\", got \"fatal\"", __LINE__);

	/* Garbage, truncation and non-maps. */
	msgpack_sbuffer_write(&sb, "\xc1", 1);
	expect_err(&sb, "not MessagePack", __LINE__);
	msgpack_sbuffer_write(&sb, "\x93\x01", 2);
	expect_err(&sb, "truncated", __LINE__);
	msgpack_sbuffer_write(&sb, "\x01", 1);
	expect_err(&sb, "expected a map, got an integer", __LINE__);
	msgpack_sbuffer_write(&sb, "\x80\x80", 2);
	expect_err(&sb, "trailing", __LINE__);
	msgpack_sbuffer_write(&sb, "\xdf\xff\xff\xff\xff", 5);
	expect_err(&sb, "truncated", __LINE__);
	msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
	test_run();
	test_small();
	test_reply();
	test_errors();
	TEST_DONE();
}
