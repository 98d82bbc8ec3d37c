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

/* What a round trip needs: an arena for the decoded message, a buffer for
 * the encoded one, room for an error and the decoded message itself. */
typedef struct fx {
	arena *a;
	msgpack_sbuffer sb;
	char err[256];
	hp_msg m;
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

/* Checks that the encoder returned 0 (enc_rc) and that what it wrote into
 * f->sb decodes as a message of type want, into f->m. f->sb keeps the
 * bytes. */
static void round_trip(fx *f, int enc_rc, hp_type want)
{
	CHECK_EQ_INT(enc_rc, 0);
	int rc = hp_decode(B(&f->sb), f->sb.size, f->a, &f->m, f->err, sizeof(f->err));
	if (rc)
		fprintf(stderr, "decode: %s\n", f->err);
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(f->m.type, want);
}

static void test_run(void)
{
	fx f;
	fx_init(&f);
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
	round_trip(&f, hp_encode_run(&f.sb, &in), HP_T_RUN);
	hp_run *r = &f.m.u.run;
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
		CHECK((const char *)r->frames[0].data < f.sb.data ||
		      (const char *)r->frames[0].data >= f.sb.data + f.sb.size);
		CHECK_EQ_INT(r->frames[1].len, 0);
	}
	fx_done(&f);
}

static void test_small(void)
{
	fx f;
	fx_init(&f);

	round_trip(&f, hp_encode_cancel(&f.sb, 99), HP_T_CANCEL);
	CHECK_EQ_INT(f.m.u.cancel_id, 99);

	msgpack_sbuffer_clear(&f.sb);
	round_trip(&f, hp_encode_shutdown(&f.sb), HP_T_SHUTDOWN);

	msgpack_sbuffer_clear(&f.sb);
	round_trip(&f, hp_encode_hello(&f.sb, 4242), HP_T_HELLO);
	CHECK_EQ_INT(f.m.u.hello_pid, 4242);

	msg_kv ctx[] = {{"source", "stderr"}};
	hp_log l = {.id = 5, .idx = 1, .level = MSG_LEVEL_ERROR, .message = "E: bad", .context = {ctx, 1}};
	msgpack_sbuffer_clear(&f.sb);
	round_trip(&f, hp_encode_log(&f.sb, &l), HP_T_LOG);
	const hp_log *got = &f.m.u.log;
	CHECK_EQ_INT(got->id, 5);
	CHECK_EQ_INT(got->idx, 1);
	CHECK_EQ_INT(got->level, MSG_LEVEL_ERROR);
	CHECK_EQ_STR(got->message, "E: bad");
	CHECK_EQ_INT(got->context.n, 1);
	if (got->context.n == 1)
		CHECK_EQ_STR(got->context.items[0].value, "stderr");
	fx_done(&f);
}

static void test_reply(void)
{
	fx f;
	fx_init(&f);

	const uint8_t frame[] = {0x80};
	const char *tail[] = {"line 1", "line 2"};
	hp_reply ok = {.id = 3,
	               .idx = 2,
	               .status = HP_OK,
	               .detail = "",
	               .frame = {frame, 1},
	               .stderr_tail = {tail, 2},
	               .duration_us = 123456789ull};
	round_trip(&f, hp_encode_reply(&f.sb, &ok), HP_T_REPLY);
	const hp_reply *got = &f.m.u.reply;
	CHECK_EQ_INT(got->id, 3);
	CHECK_EQ_INT(got->idx, 2);
	CHECK_EQ_INT(got->status, HP_OK);
	CHECK_EQ_STR(got->detail, "");
	CHECK_EQ_INT(got->frame.len, 1);
	CHECK(got->frame.data && got->frame.data[0] == 0x80);
	CHECK_EQ_INT(got->stderr_tail.n, 2);
	CHECK(got->duration_us == 123456789ull);

	/* Every failure status, without a frame. */
	for (int s = HP_CRASHED; s <= HP_CANCELLED; s++) {
		hp_reply bad = {.id = 4,
		                .status = (hp_status)s,
		                .detail = "killed by signal 11 (Segmentation fault)",
		                .frame = {frame, 1}};
		msgpack_sbuffer_clear(&f.sb);
		round_trip(&f, hp_encode_reply(&f.sb, &bad), HP_T_REPLY);
		CHECK_EQ_INT(got->status, s);
		CHECK(got->frame.data == NULL);
		CHECK_EQ_STR(got->detail, "killed by signal 11 (Segmentation fault)");
	}
	const char *names[] = {"ok", "crashed", "timeout", "protocol_error", "spawn_failed", "cancelled"};
	for (int s = 0; s < 6; s++)
		CHECK_EQ_STR(hp_status_name((hp_status)s), names[s]);
	fx_done(&f);
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

static void pkv(msgpack_packer *p, const char *key, const char *val)
{
	pstr(p, key);
	pstr(p, val);
}

/* A hand-made "run" whose builder has timeout_s, ending with the header of
 * an array of nframes frames that the caller packs. */
static void pack_run(msgpack_packer *p, uint64_t timeout_s, uint32_t nframes)
{
	msgpack_pack_map(p, 5);
	pkv(p, "t", "run");
	pstr(p, "id");
	msgpack_pack_int(p, 1);
	pstr(p, "builder");
	msgpack_pack_map(p, 6);
	pkv(p, "key", "k");
	pkv(p, "exec", "e");
	pstr(p, "args");
	msgpack_pack_array(p, 0);
	pstr(p, "persistent");
	msgpack_pack_true(p);
	pstr(p, "timeout_s");
	msgpack_pack_uint64(p, timeout_s);
	pstr(p, "memory_mb");
	msgpack_pack_int(p, 1);
	pkv(p, "cwd", "");
	pstr(p, "frames");
	msgpack_pack_array(p, nframes);
}

/* A hand-made "reply" for frame idx with status; its frame is a one-byte
 * bin when with_frame, nil otherwise. */
static void pack_reply(msgpack_packer *p, uint64_t idx, const char *status, bool with_frame)
{
	msgpack_pack_map(p, 8);
	pkv(p, "t", "reply");
	pstr(p, "id");
	msgpack_pack_int(p, 1);
	pstr(p, "idx");
	msgpack_pack_uint64(p, idx);
	pkv(p, "status", status);
	pkv(p, "detail", "");
	pstr(p, "frame");
	if (with_frame)
		msgpack_pack_bin_with_body(p, "\x80", 1);
	else
		msgpack_pack_nil(p);
	pstr(p, "stderr_tail");
	msgpack_pack_array(p, 0);
	pstr(p, "duration_us");
	msgpack_pack_int(p, 0);
}

/* Moves what sb holds into a malloc'd copy of *n bytes (the caller frees
 * it), leaving sb empty. */
static uint8_t *take(msgpack_sbuffer *sb, size_t *n)
{
	*n = sb->size;
	uint8_t *copy = malloc(*n);
	if (copy)
		memcpy(copy, sb->data, *n);
	msgpack_sbuffer_clear(sb);
	return copy;
}

/* Sets byte at of the first occurrence of find in copy to to, checks that
 * the result is refused with want, and puts the byte back. */
static void expect_patched(msgpack_sbuffer *sb, uint8_t *copy, size_t n, const char *find, size_t at, char to,
                           const char *want, int line)
{
	uint8_t *hit = memmem(copy, n, find, strlen(find));
	CHECK(hit != NULL);
	if (!hit)
		return;
	uint8_t was = hit[at];
	hit[at] = (uint8_t)to;
	msgpack_sbuffer_write(sb, (const char *)copy, n);
	expect_err(sb, want, line);
	hit[at] = was;
}

static void test_errors(void)
{
	msgpack_sbuffer sb;
	msgpack_packer p;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&p, &sb, msgpack_sbuffer_write);

	msgpack_pack_map(&p, 1);
	pkv(&p, "t", "launch");
	expect_err(&sb, "t: unknown message \"launch\"", __LINE__);

	msgpack_pack_map(&p, 1);
	pkv(&p, "type", "run");
	expect_err(&sb, "t: missing", __LINE__);

	msgpack_pack_map(&p, 1);
	pstr(&p, "t");
	msgpack_pack_int(&p, 1);
	expect_err(&sb, "t: expected a string, got an integer", __LINE__);

	msgpack_pack_map(&p, 2);
	pkv(&p, "t", "cancel");
	pstr(&p, "id");
	msgpack_pack_int(&p, -3);
	expect_err(&sb, "id: -3 is out of range", __LINE__);

	msgpack_pack_map(&p, 1);
	pkv(&p, "t", "hello");
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
	size_t n;
	uint8_t *copy = take(&sb, &n);
	expect_patched(&sb, copy, n, "exec", 0, 'X', "builder.exec: missing", __LINE__);
	/* The frame is the last bytes: bin8 of length 1, 0x80. Make it the
	 * two-byte string "xy" in the same three bytes. */
	CHECK(copy[n - 3] == 0xc4 && copy[n - 2] == 1);
	copy[n - 3] = 0xa2;
	copy[n - 2] = 'x';
	copy[n - 1] = 'y';
	msgpack_sbuffer_write(&sb, (const char *)copy, n);
	expect_err(&sb, "frames[0]: expected binary data, got a string", __LINE__);
	free(copy);

	pack_run(&p, 1ull << 32, 0);
	expect_err(&sb, "builder.timeout_s: 4294967296 is out of range", __LINE__);

	pack_run(&p, 1, 2);
	msgpack_pack_bin_with_body(&p, "\x80", 1);
	pstr(&p, "{}");
	expect_err(&sb, "frames[1]: expected binary data, got a string", __LINE__);

	/* reply: ok without a frame, a failure with one, an unknown status. */
	pack_reply(&p, 0, "ok", false);
	expect_err(&sb, "frame: expected binary data, got nil", __LINE__);

	pack_reply(&p, 0, "timeout", true);
	expect_err(&sb, "frame: expected nil for status \"timeout\", got binary data", __LINE__);

	pack_reply(&p, 1ull << 33, "ok", false);
	expect_err(&sb, "idx: 8589934592 is out of range", __LINE__);

	hp_reply r = {.id = 1, .status = HP_OK, .detail = "", .frame = {(const uint8_t *)"\x80", 1}};
	CHECK_EQ_INT(hp_encode_reply(&sb, &r), 0);
	copy = take(&sb, &n);
	expect_patched(&sb, copy, n, "\xa2ok", 1, 'k', "status: unknown status \"kk\"", __LINE__);
	free(copy);

	/* log with a bad level. */
	msgpack_pack_map(&p, 6);
	pkv(&p, "t", "log");
	pstr(&p, "id");
	msgpack_pack_int(&p, 1);
	pstr(&p, "idx");
	msgpack_pack_int(&p, 0);
	pkv(&p, "level", "fatal");
	pkv(&p, "message", "m");
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
