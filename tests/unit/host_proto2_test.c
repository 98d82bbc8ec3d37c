/* host_proto2_test: the host -> supervisor "builder" message (a persistent
 * builder's restart state) round-trips, and bad ones are refused with the
 * field named. */
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

static void roundtrip(hp_bstate st, const char *name, uint32_t crashes, uint64_t retry_ms)
{
	arena *a = arena_new();
	msgpack_sbuffer sb;
	char err[256];
	hp_msg m;
	hp_bnote in = {.key = "b3",
	               .state = st,
	               .detail = "builder given up after 5 crashes",
	               .crashes = crashes,
	               .retry_ms = retry_ms};

	msgpack_sbuffer_init(&sb);
	CHECK_EQ_INT(hp_encode_builder(&sb, &in), 0);
	CHECK_EQ_INT(hp_decode(B(&sb), sb.size, a, &m, err, sizeof(err)), 0);
	CHECK_EQ_INT(m.type, HP_T_BUILDER);
	CHECK_EQ_STR(m.u.builder.key, "b3");
	CHECK_EQ_INT(m.u.builder.state, st);
	CHECK_EQ_STR(m.u.builder.detail, "builder given up after 5 crashes");
	CHECK(m.u.builder.crashes == crashes);
	CHECK(m.u.builder.retry_ms == retry_ms);
	CHECK_EQ_STR(hp_bstate_name(st), name);
	msgpack_sbuffer_destroy(&sb);
	arena_free(a);
}

/* Packs {t:"builder", key, state, detail, crashes} with the given raw
 * values so that each field can be broken on its own. */
static int decode_raw(const char *state, int crashes_is_string, int64_t crashes, char *err, size_t errsz)
{
	arena *a = arena_new();
	msgpack_sbuffer sb;
	msgpack_packer pk;
	hp_msg m;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	msgpack_pack_str_with_body(&pk, "t", 1);
	msgpack_pack_str_with_body(&pk, "builder", 7);
	msgpack_pack_str_with_body(&pk, "key", 3);
	msgpack_pack_str_with_body(&pk, "b0", 2);
	msgpack_pack_str_with_body(&pk, "state", 5);
	msgpack_pack_str_with_body(&pk, state, strlen(state));
	msgpack_pack_str_with_body(&pk, "detail", 6);
	msgpack_pack_str_with_body(&pk, "d", 1);
	msgpack_pack_str_with_body(&pk, "crashes", 7);
	if (crashes_is_string)
		msgpack_pack_str_with_body(&pk, "5", 1);
	else
		msgpack_pack_int64(&pk, crashes);
	int rc = hp_decode(B(&sb), sb.size, a, &m, err, errsz);
	msgpack_sbuffer_destroy(&sb);
	arena_free(a);
	return rc;
}

static void test_bad(void)
{
	char err[256];
	/* retry_ms may be left out (it defaults to 0). */
	CHECK_EQ_INT(decode_raw("given_up", 0, 5, err, sizeof(err)), 0);
	CHECK_EQ_INT(decode_raw("exploded", 0, 5, err, sizeof(err)), KILN_E_PROTO);
	CHECK(strstr(err, "state") && strstr(err, "exploded"));
	CHECK_EQ_INT(decode_raw("ok", 1, 0, err, sizeof(err)), KILN_E_PROTO);
	CHECK(strstr(err, "crashes") != NULL);
	CHECK_EQ_INT(decode_raw("ok", 0, -1, err, sizeof(err)), KILN_E_PROTO);
	CHECK(strstr(err, "crashes") != NULL);
	CHECK_EQ_INT(decode_raw("ok", 0, (int64_t)UINT32_MAX + 1, err, sizeof(err)), KILN_E_PROTO);
	/* An unknown state value never names another state. */
	CHECK_EQ_STR(hp_bstate_name((hp_bstate)7), "ok");
}

int main(void)
{
	roundtrip(HP_BSTATE_OK, "ok", 0, 0);
	roundtrip(HP_BSTATE_BACKOFF, "backoff", 3, 200);
	roundtrip(HP_BSTATE_GIVEN_UP, "given_up", UINT32_MAX, UINT64_MAX);
	test_bad();
	TEST_DONE();
}
