/* mpread_test: the decoding helpers, on hand-made maps: unpacking a frame,
 * each getter's types, ranges, defaults and NUL handling, the loops over
 * arrays and nested maps, and the field paths that every error names. */
#include <stdint.h>
#include <string.h>

#include "kerr.h"
#include "mpread.h"
#include "test.h"

/* A packer over a fresh sbuffer, and the decoder state over one map that
 * it was unpacked into. */
typedef struct fx {
	msgpack_sbuffer sb;
	msgpack_packer p;
	msgpack_unpacked u;
	arena *a;
	msg_dec d;
	char err[256];
} fx;

static void fx_init(fx *f)
{
	memset(f, 0, sizeof(*f));
	msgpack_sbuffer_init(&f->sb);
	msgpack_packer_init(&f->p, &f->sb, msgpack_sbuffer_write);
	msgpack_unpacked_init(&f->u);
	f->a = arena_new();
	msg_dec_init(&f->d, f->a, f->err, sizeof(f->err));
}

static void fx_done(fx *f)
{
	msgpack_unpacked_destroy(&f->u);
	msgpack_sbuffer_destroy(&f->sb);
	arena_free(f->a);
}

static void pstr(fx *f, const char *s)
{
	msgpack_pack_str_with_body(&f->p, s, strlen(s));
}

/* Unpacks what was packed; returns the map. */
static const msgpack_object *fx_map(fx *f)
{
	char err[256] = "";
	int rc = msg_unpack_map((const uint8_t *)f->sb.data, f->sb.size, &f->u, err, sizeof(err));
	if (rc)
		fprintf(stderr, "unpack: %s\n", err);
	CHECK_EQ_INT(rc, 0);
	return &f->u.data;
}

/* Checks a getter's result: KILN_E_PROTO with exactly the error want. */
static void expect_fail(fx *f, int rc, const char *want, int line)
{
	if (rc != KILN_E_PROTO || strcmp(f->err, want) != 0)
		fprintf(stderr, "line %d: rc %d, error \"%s\", wanted \"%s\"\n", line, rc, f->err, want);
	CHECK_EQ_INT(rc, KILN_E_PROTO);
	CHECK_EQ_STR(f->err, want);
}

static void test_unpack(void)
{
	msgpack_unpacked u;
	char err[64];
	msgpack_unpacked_init(&u);
	strcpy(err, "untouched");
	CHECK_EQ_INT(msg_unpack_map((const uint8_t *)"\x80", 1, &u, err, sizeof(err)), 0);
	CHECK_EQ_STR(err, "untouched");
	CHECK_EQ_INT(msg_unpack_map((const uint8_t *)"", 0, &u, err, sizeof(err)), KILN_E_PROTO);
	CHECK_EQ_STR(err, "empty frame");
	CHECK_EQ_INT(msg_unpack_map((const uint8_t *)"\x91\x01", 2, &u, err, sizeof(err)), KILN_E_PROTO);
	CHECK_EQ_STR(err, "expected a map, got an array");
	CHECK_EQ_INT(msg_unpack_map((const uint8_t *)"\x82\xa1k\x01\xc3\x02", 6, &u, err, sizeof(err)),
	             KILN_E_PROTO);
	CHECK_EQ_STR(err, "map key 1 is a boolean, not a string");
	/* The pre-scan's reasons come through as they are. */
	CHECK_EQ_INT(msg_unpack_map((const uint8_t *)"\x80\xc0", 2, &u, err, sizeof(err)), KILN_E_PROTO);
	CHECK_EQ_STR(err, "1 trailing bytes after the MessagePack object");
	CHECK_EQ_INT(msg_unpack_map((const uint8_t *)"", 0, &u, NULL, 0), KILN_E_PROTO);
	msgpack_unpacked_destroy(&u);
}

static void test_paths(void)
{
	fx f;
	fx_init(&f);
	CHECK_EQ_STR(f.err, "");
	expect_fail(&f, msg_dec_fail(&f.d, NULL, "bad %d", 1), "bad 1", __LINE__);
	expect_fail(&f, msg_dec_fail(&f.d, "k", "bad"), "k: bad", __LINE__);
	size_t s0 = msg_dec_push_key(&f.d, "jobs");
	size_t s1 = msg_dec_push_idx(&f.d, 2);
	size_t s2 = msg_dec_push_key(&f.d, "params");
	expect_fail(&f, msg_dec_fail(&f.d, "q", "bad"), "jobs[2].params.q: bad", __LINE__);
	expect_fail(&f, msg_dec_fail(&f.d, NULL, "bad"), "jobs[2].params: bad", __LINE__);
	msg_dec_pop(&f.d, s2);
	expect_fail(&f, msg_dec_fail(&f.d, NULL, "bad"), "jobs[2]: bad", __LINE__);
	msg_dec_pop(&f.d, s1);
	msg_dec_pop(&f.d, s0);
	expect_fail(&f, msg_dec_fail(&f.d, "x", "bad"), "x: bad", __LINE__);
	/* A path longer than its buffer is cut, and pops still restore it. */
	char key[100];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	size_t s3 = msg_dec_push_key(&f.d, "top");
	for (int i = 0; i < 5; i++)
		msg_dec_push_key(&f.d, key);
	CHECK_EQ_INT(f.d.plen, sizeof(f.d.path) - 1);
	CHECK_EQ_INT(strlen(f.d.path), sizeof(f.d.path) - 1);
	msg_dec_pop(&f.d, s3);
	CHECK_EQ_INT(f.d.plen, 0);
	CHECK_EQ_STR(f.d.path, "");
	/* No error buffer: failures still return KILN_E_PROTO. */
	msg_dec quiet;
	msg_dec_init(&quiet, NULL, NULL, 0);
	CHECK_EQ_INT(msg_dec_fail(&quiet, "k", "bad"), KILN_E_PROTO);
	fx_done(&f);
}

static void test_scalars(void)
{
	fx f;
	fx_init(&f);
	msgpack_pack_map(&f.p, 10);
	pstr(&f, "s");
	pstr(&f, "text");
	pstr(&f, "nul");
	msgpack_pack_str_with_body(&f.p, "ab\0cd", 5);
	pstr(&f, "nil");
	msgpack_pack_nil(&f.p);
	pstr(&f, "t");
	msgpack_pack_true(&f.p);
	pstr(&f, "neg");
	msgpack_pack_int64(&f.p, INT64_MIN);
	pstr(&f, "big");
	msgpack_pack_uint64(&f.p, (uint64_t)INT64_MAX + 1);
	pstr(&f, "max");
	msgpack_pack_uint64(&f.p, UINT64_MAX);
	pstr(&f, "f");
	msgpack_pack_double(&f.p, 0.5);
	pstr(&f, "type");
	pstr(&f, "describe");
	pstr(&f, "long");
	char longs[100];
	memset(longs, 'x', sizeof(longs));
	msgpack_pack_str_with_body(&f.p, longs, sizeof(longs));
	const msgpack_object *m = fx_map(&f);

	const msgpack_object *o = NULL;
	CHECK_EQ_INT(msg_dec_lookup(&f.d, m, "s", 0, &o), 1);
	CHECK(o && o->type == MSGPACK_OBJECT_STR);
	CHECK(msg_dec_get(m, "s") == o);
	CHECK(msg_dec_get(m, "absent") == NULL);
	CHECK_EQ_INT(msg_dec_lookup(&f.d, m, "absent", MSG_DEC_OPTIONAL, &o), 0);
	CHECK_EQ_INT(msg_dec_lookup(&f.d, m, "nil", MSG_DEC_OPTIONAL, &o), 0);
	expect_fail(&f, msg_dec_lookup(&f.d, m, "absent", 0, &o), "absent: missing", __LINE__);
	expect_fail(&f, msg_dec_lookup(&f.d, m, "nil", 0, &o), "nil: missing (nil)", __LINE__);

	/* Strings: copied into the arena, a NUL refused or, for text, cut. */
	const char *s = "default";
	CHECK_EQ_INT(msg_dec_str(&f.d, m, "s", 0, &s), 0);
	CHECK_EQ_STR(s, "text");
	CHECK(s < f.sb.data || s >= f.sb.data + f.sb.size);
	s = "default";
	CHECK_EQ_INT(msg_dec_str(&f.d, m, "absent", MSG_DEC_OPTIONAL, &s), 0);
	CHECK_EQ_STR(s, "default");
	expect_fail(&f, msg_dec_str(&f.d, m, "nul", 0, &s), "nul: string holds a NUL byte", __LINE__);
	CHECK_EQ_INT(msg_dec_str(&f.d, m, "nul", MSG_DEC_TEXT, &s), 0);
	CHECK_EQ_STR(s, "ab");
	expect_fail(&f, msg_dec_str(&f.d, m, "t", 0, &s), "t: expected a string, got a boolean", __LINE__);

	bool b = false;
	CHECK_EQ_INT(msg_dec_bool(&f.d, m, "t", 0, &b), 0);
	CHECK(b);
	expect_fail(&f, msg_dec_bool(&f.d, m, "s", 0, &b), "s: expected a boolean, got a string", __LINE__);

	int64_t i = 0;
	CHECK_EQ_INT(msg_dec_i64(&f.d, m, "neg", 0, &i), 0);
	CHECK(i == INT64_MIN);
	expect_fail(&f, msg_dec_i64(&f.d, m, "big", 0, &i), "big: 9223372036854775808 is out of range",
	            __LINE__);
	expect_fail(&f, msg_dec_i64(&f.d, m, "f", 0, &i), "f: expected an integer, got a float", __LINE__);

	uint64_t u = 0;
	CHECK_EQ_INT(msg_dec_u64(&f.d, m, "max", 0, UINT64_MAX, &u), 0);
	CHECK(u == UINT64_MAX);
	expect_fail(&f, msg_dec_u64(&f.d, m, "max", 0, 10, &u),
	            "max: 18446744073709551615 is out of range (0..10)", __LINE__);
	expect_fail(&f, msg_dec_u64(&f.d, m, "neg", 0, 10, &u),
	            "neg: -9223372036854775808 is out of range (0..10)", __LINE__);
	u = 7;
	CHECK_EQ_INT(msg_dec_u64(&f.d, m, "nil", MSG_DEC_OPTIONAL, 10, &u), 0);
	CHECK(u == 7);

	/* The type check, with a long wrong value shown in part. */
	CHECK_EQ_INT(msg_dec_expect_type(&f.d, m, NULL, "describe"), 0);
	expect_fail(&f, msg_dec_expect_type(&f.d, m, NULL, "log"), "type: expected \"log\", got \"describe\"",
	            __LINE__);
	char want[128];
	snprintf(want, sizeof(want), "long: expected \"x\", got \"%.64s\"", longs);
	expect_fail(&f, msg_dec_expect_type(&f.d, m, "long", "x"), want, __LINE__);
	expect_fail(&f, msg_dec_expect_type(&f.d, m, "t", "x"), "t: expected a string, got a boolean",
	            __LINE__);
	fx_done(&f);
}

static void test_containers(void)
{
	fx f;
	fx_init(&f);
	msgpack_pack_map(&f.p, 5);
	pstr(&f, "list");
	msgpack_pack_array(&f.p, 2);
	pstr(&f, "a");
	msgpack_pack_str_with_body(&f.p, "b\0c", 3);
	pstr(&f, "kv");
	msgpack_pack_map(&f.p, 2);
	pstr(&f, "k1");
	pstr(&f, "v1");
	pstr(&f, "k2");
	msgpack_pack_int(&f.p, 2);
	pstr(&f, "sub");
	msgpack_pack_map(&f.p, 1);
	pstr(&f, "x");
	msgpack_pack_int(&f.p, 1);
	pstr(&f, "badkeys");
	msgpack_pack_map(&f.p, 1);
	msgpack_pack_int(&f.p, 1);
	msgpack_pack_int(&f.p, 1);
	pstr(&f, "n");
	msgpack_pack_int(&f.p, 3);
	const msgpack_object *m = fx_map(&f);

	msg_strs strs = {0};
	expect_fail(&f, msg_dec_strs(&f.d, m, "list", 0, &strs), "list[1]: string holds a NUL byte",
	            __LINE__);
	CHECK_EQ_INT(strs.n, 0);
	CHECK_EQ_INT(msg_dec_strs(&f.d, m, "list", MSG_DEC_TEXT, &strs), 0);
	CHECK_EQ_INT(strs.n, 2);
	if (strs.n == 2)
		CHECK_EQ_STR(strs.items[1], "b");
	msg_strs none = {0};
	CHECK_EQ_INT(msg_dec_strs(&f.d, m, "absent", MSG_DEC_OPTIONAL, &none), 0);
	CHECK(none.items == NULL && none.n == 0);
	expect_fail(&f, msg_dec_strs(&f.d, m, "n", 0, &none), "n: expected an array, got an integer",
	            __LINE__);

	msg_kvs kvs = {0};
	expect_fail(&f, msg_dec_kvs(&f.d, m, "kv", 0, &kvs), "kv.k2: expected a string, got an integer",
	            __LINE__);
	expect_fail(&f, msg_dec_kvs(&f.d, m, "badkeys", 0, &kvs),
	            "badkeys: map key 0 is an integer, not a string", __LINE__);
	expect_fail(&f, msg_dec_kvs(&f.d, m, "list", 0, &kvs), "list: expected a map, got an array",
	            __LINE__);

	const msgpack_object *sub = NULL;
	CHECK_EQ_INT(msg_dec_map(&f.d, m, "sub", 0, &sub), 0);
	CHECK(sub && sub->via.map.size == 1);
	sub = NULL;
	CHECK_EQ_INT(msg_dec_map(&f.d, m, "absent", MSG_DEC_OPTIONAL, &sub), 0);
	CHECK(sub == NULL);
	const msgpack_object_array *arr = NULL;
	CHECK_EQ_INT(msg_dec_array(&f.d, m, "list", 0, &arr), 0);
	CHECK(arr && arr->size == 2);
	expect_fail(&f, msg_dec_array(&f.d, m, "sub", 0, &arr), "sub: expected an array, got a map",
	            __LINE__);
	fx_done(&f);
}

/* Element and nested-map decoders for the loops below. */
static int dec_int_el(msg_dec *d, const msgpack_object *o, void *out)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return msg_dec_fail(d, NULL, "expected a small integer, got %s", msg_dec_type_name(o));
	*(int *)out = (int)o->via.u64;
	return 0;
}

static int dec_id_map(msg_dec *d, const msgpack_object *m, void *out)
{
	return msg_dec_str(d, m, "id", 0, out);
}

static void test_loops(void)
{
	fx f;
	fx_init(&f);
	msgpack_pack_map(&f.p, 5);
	pstr(&f, "ints");
	msgpack_pack_array(&f.p, 3);
	msgpack_pack_int(&f.p, 4);
	msgpack_pack_int(&f.p, 5);
	msgpack_pack_int(&f.p, 6);
	pstr(&f, "mixed");
	msgpack_pack_array(&f.p, 2);
	msgpack_pack_int(&f.p, 4);
	msgpack_pack_nil(&f.p);
	pstr(&f, "maps");
	msgpack_pack_array(&f.p, 3);
	msgpack_pack_map(&f.p, 1);
	pstr(&f, "id");
	pstr(&f, "a");
	msgpack_pack_map(&f.p, 1);
	pstr(&f, "id");
	pstr(&f, "b");
	msgpack_pack_int(&f.p, 1);
	pstr(&f, "empty");
	msgpack_pack_array(&f.p, 0);
	pstr(&f, "sub");
	msgpack_pack_map(&f.p, 1);
	pstr(&f, "idd");
	pstr(&f, "a");
	const msgpack_object *m = fx_map(&f);

	void *items = NULL;
	size_t n = 99;
	CHECK_EQ_INT(msg_dec_each(&f.d, m, "ints", 0, sizeof(int), dec_int_el, &items, &n), 0);
	CHECK_EQ_INT(n, 3);
	if (items && n == 3)
		CHECK(((int *)items)[0] == 4 && ((int *)items)[2] == 6);
	items = NULL;
	n = 99;
	expect_fail(&f, msg_dec_each(&f.d, m, "mixed", 0, sizeof(int), dec_int_el, &items, &n),
	            "mixed[1]: expected a small integer, got nil", __LINE__);
	CHECK(items == NULL && n == 99);
	CHECK_EQ_INT(msg_dec_each(&f.d, m, "absent", MSG_DEC_OPTIONAL, sizeof(int), dec_int_el, &items, &n),
	             0);
	CHECK(items == NULL && n == 99);
	expect_fail(&f, msg_dec_each(&f.d, m, "absent", 0, sizeof(int), dec_int_el, &items, &n),
	            "absent: missing", __LINE__);
	CHECK_EQ_INT(msg_dec_each(&f.d, m, "empty", 0, sizeof(int), dec_int_el, &items, &n), 0);
	CHECK(items != NULL && n == 0);

	/* Arrays of maps: each element checked to be a map first. */
	items = NULL;
	expect_fail(&f, msg_dec_maps(&f.d, m, "maps", 0, sizeof(const char *), dec_id_map, &items, &n),
	            "maps[2]: expected a map, got an integer", __LINE__);
	CHECK(items == NULL);
	expect_fail(&f, msg_dec_maps(&f.d, m, "ints", 0, sizeof(const char *), dec_id_map, &items, &n),
	            "ints[0]: expected a map, got an integer", __LINE__);

	/* A nested map, and the path its errors carry, also below an index. */
	const char *id = NULL;
	expect_fail(&f, msg_dec_sub(&f.d, m, "sub", 0, dec_id_map, &id), "sub.id: missing", __LINE__);
	size_t saved = msg_dec_push_idx(&f.d, 1);
	expect_fail(&f, msg_dec_sub(&f.d, m, "sub", 0, dec_id_map, &id), "[1].sub.id: missing", __LINE__);
	msg_dec_pop(&f.d, saved);
	CHECK_EQ_STR(f.d.path, "");
	CHECK_EQ_INT(msg_dec_sub(&f.d, m, "absent", MSG_DEC_OPTIONAL, dec_id_map, &id), 0);
	CHECK(id == NULL);
	expect_fail(&f, msg_dec_sub(&f.d, m, "ints", 0, dec_id_map, &id),
	            "ints: expected a map, got an array", __LINE__);
	fx_done(&f);
}

static void test_frame(void)
{
	arena *a = arena_new();
	char err[128] = "stale";
	const char *id = NULL;
	/* {"id": "z"}: decoded, with err cleared first. */
	CHECK_EQ_INT(
	    msg_dec_frame((const uint8_t *)"\x81\xa2id\xa1z", 6, a, dec_id_map, &id, err, sizeof(err)), 0);
	CHECK_EQ_STR(id, "z");
	CHECK_EQ_STR(err, "");
	CHECK_EQ_INT(
	    msg_dec_frame((const uint8_t *)"\x81\xa2ix\xa1z", 6, a, dec_id_map, &id, err, sizeof(err)),
	    KILN_E_PROTO);
	CHECK_EQ_STR(err, "id: missing");
	CHECK_EQ_INT(msg_dec_frame((const uint8_t *)"\x93", 1, a, dec_id_map, &id, err, sizeof(err)),
	             KILN_E_PROTO);
	CHECK_EQ_STR(err, "truncated MessagePack object (1 bytes)");
	arena_free(a);
}

int main(void)
{
	test_unpack();
	test_paths();
	test_scalars();
	test_containers();
	test_loops();
	test_frame();
	TEST_DONE();
}
