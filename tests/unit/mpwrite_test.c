/* mpwrite_test: field tables write the same bytes as msgpack-c's packer
 * called by hand, leave MSG_F_IF fields out of the map and its size, and an
 * encoder that fails leaves the buffer as it was. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mpwrite.h"
#include "test.h"

/* The bytes a table wrote, against the bytes the packer in want wrote. */
static void expect_bytes(const msgpack_sbuffer *got, const msgpack_sbuffer *want, int line)
{
	int same = got->size == want->size && memcmp(got->data, want->data, got->size) == 0;
	if (!same)
		fprintf(stderr, "line %d: %zu bytes written, %zu expected\n", line, got->size, want->size);
	CHECK(same);
}

static void pstr(msgpack_packer *p, const char *s)
{
	msgpack_pack_str_with_body(p, s, strlen(s));
}

typedef struct point {
	int64_t x, y;
} point;

static void enc_point(msg_enc *e, const void *v)
{
	const point *pt = v;
	const msg_field f[] = {MSG_F_I64("x", pt->x), MSG_F_I64("y", pt->y)};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

static void test_every_kind(void)
{
	msgpack_sbuffer got, want;
	msgpack_packer p;
	msgpack_sbuffer_init(&got);
	msgpack_sbuffer_init(&want);
	msgpack_packer_init(&p, &want, msgpack_sbuffer_write);

	const char *items[] = {"a", "b"};
	msg_strs strs = {items, 2};
	msg_kv kv[] = {{"k", "v"}};
	msg_kvs kvs = {kv, 1};
	point pts[] = {{1, -2}, {INT64_MIN, INT64_MAX}};
	const msg_field f[] = {
	    MSG_F_STR("s", "text"),
	    MSG_F_STR("null", NULL),
	    MSG_F_BOOL("b", true),
	    MSG_F_I64("i", -70000),
	    MSG_F_U64("u", UINT64_MAX),
	    MSG_F_NIL("nil"),
	    MSG_F_BIN("bin", "\x00\x01", 2),
	    MSG_F_BIN("nobin", NULL, 0),
	    MSG_F_STRS("strs", &strs),
	    MSG_F_KVS("kvs", &kvs),
	    MSG_F_VALUE("pt", enc_point, &pts[0]),
	    MSG_F_ARRAY("pts", enc_point, pts, 2),
	    MSG_F_IF(0, MSG_F_STR("gone", "x")),
	    MSG_F_IF(1, MSG_F_STR("kept", "y")),
	};
	CHECK_EQ_INT(msg_enc_message(&got, f, MSG_NFIELDS(f)), 0);

	msgpack_pack_map(&p, 13);
	pstr(&p, "s");
	pstr(&p, "text");
	pstr(&p, "null");
	pstr(&p, "");
	pstr(&p, "b");
	msgpack_pack_true(&p);
	pstr(&p, "i");
	msgpack_pack_int64(&p, -70000);
	pstr(&p, "u");
	msgpack_pack_uint64(&p, UINT64_MAX);
	pstr(&p, "nil");
	msgpack_pack_nil(&p);
	pstr(&p, "bin");
	msgpack_pack_bin_with_body(&p, "\x00\x01", 2);
	pstr(&p, "nobin");
	msgpack_pack_bin_with_body(&p, "", 0);
	pstr(&p, "strs");
	msgpack_pack_array(&p, 2);
	pstr(&p, "a");
	pstr(&p, "b");
	pstr(&p, "kvs");
	msgpack_pack_map(&p, 1);
	pstr(&p, "k");
	pstr(&p, "v");
	pstr(&p, "pt");
	msgpack_pack_map(&p, 2);
	pstr(&p, "x");
	msgpack_pack_int64(&p, 1);
	pstr(&p, "y");
	msgpack_pack_int64(&p, -2);
	pstr(&p, "pts");
	msgpack_pack_array(&p, 2);
	for (int i = 0; i < 2; i++) {
		msgpack_pack_map(&p, 2);
		pstr(&p, "x");
		msgpack_pack_int64(&p, pts[i].x);
		pstr(&p, "y");
		msgpack_pack_int64(&p, pts[i].y);
	}
	pstr(&p, "kept");
	pstr(&p, "y");
	expect_bytes(&got, &want, __LINE__);
	msgpack_sbuffer_destroy(&got);
	msgpack_sbuffer_destroy(&want);
}

static void test_empty_and_absent(void)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	/* No fields, or none present: an empty map. */
	CHECK_EQ_INT(msg_enc_message(&sb, NULL, 0), 0);
	const msg_field gone[] = {MSG_F_IF(0, MSG_F_U64("a", 1)), MSG_F_IF(0, MSG_F_NIL("b"))};
	CHECK_EQ_INT(msg_enc_message(&sb, gone, MSG_NFIELDS(gone)), 0);
	/* An empty array of elements that were never read. */
	const msg_field none[] = {MSG_F_ARRAY("pts", enc_point, (const point *)NULL, 0)};
	CHECK_EQ_INT(msg_enc_message(&sb, none, MSG_NFIELDS(none)), 0);
	const char want[] = "\x80\x80\x81\xa3pts\x90";
	CHECK_EQ_INT(sb.size, sizeof(want) - 1);
	CHECK(memcmp(sb.data, want, sizeof(want) - 1) == 0);
	msgpack_sbuffer_destroy(&sb);
}

/* Messages append to what the buffer holds; one that fails is taken back
 * out whole. */
static void test_append_and_rollback(void)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_write(&sb, "ab", 2);
	const msg_field f[] = {MSG_F_STR("t", "x")};
	CHECK_EQ_INT(msg_enc_message(&sb, f, MSG_NFIELDS(f)), 0);
	CHECK_EQ_INT(sb.size, 2 + 5);
	CHECK(memcmp(sb.data, "ab\x81\xa1t\xa1x", 7) == 0);

	msg_enc e;
	msg_enc_init(&e, &sb);
	msg_enc_fields(&e, f, MSG_NFIELDS(f));
	CHECK_EQ_INT(sb.size, 2 + 10);
	e.failed = 1; /* as a failed write would leave it */
	CHECK_EQ_INT(msg_enc_done(&e), -ENOMEM);
	CHECK_EQ_INT(sb.size, 2 + 5);
	msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
	test_every_kind();
	test_empty_and_absent();
	test_append_and_rollback();
	TEST_DONE();
}
