/* mpscan_test: the pre-scan accepts every kind of MessagePack object that
 * msgpack-c parses, and refuses truncation, trailing bytes, the unused byte
 * 0xc1, counts the bytes cannot hold and nesting past MPSCAN_DEPTH_MAX, each
 * with its reason. */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kerr.h"
#include "mpscan.h"
#include "test.h"

/* Scans buf and checks the result: want 0, or KILN_E_PROTO with err
 * containing sub. where (a line or a table index) is printed on failure. */
static void expect_scan(const void *buf, size_t len, const char *sub, int line)
{
	char err[128] = "";
	int rc = mpscan_check(buf, len, err, sizeof(err));
	if ((sub == NULL) != (rc == 0) || (sub && !strstr(err, sub)))
		fprintf(stderr, "line %d: rc %d, error \"%s\", wanted \"%s\"\n", line, rc, err,
		        sub ? sub : "");
	CHECK_EQ_INT(rc, sub ? KILN_E_PROTO : 0);
	if (sub)
		CHECK(strstr(err, sub) != NULL);
}

/* Whether msgpack-c parses buf as exactly one object. */
static int msgpack_parses(const void *buf, size_t len)
{
	msgpack_unpacked u;
	size_t off = 0;
	msgpack_unpacked_init(&u);
	msgpack_unpack_return ur = msgpack_unpack_next(&u, buf, len, &off);
	msgpack_unpacked_destroy(&u);
	return ur == MSGPACK_UNPACK_SUCCESS && off == len;
}

/* One object of every kind, in every width, inside one array. */
static void pack_every_kind(msgpack_sbuffer *sb)
{
	msgpack_packer p;
	static char big[70000];
	msgpack_packer_init(&p, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&p, 27);
	msgpack_pack_nil(&p);
	msgpack_pack_true(&p);
	msgpack_pack_false(&p);
	msgpack_pack_int64(&p, 5);                  /* positive fixint */
	msgpack_pack_int64(&p, -5);                 /* negative fixint */
	msgpack_pack_uint64(&p, 200);               /* uint 8 */
	msgpack_pack_uint64(&p, 60000);             /* uint 16 */
	msgpack_pack_uint64(&p, 4000000000u);       /* uint 32 */
	msgpack_pack_uint64(&p, UINT64_MAX);        /* uint 64 */
	msgpack_pack_int64(&p, -100);               /* int 8 */
	msgpack_pack_int64(&p, -30000);             /* int 16 */
	msgpack_pack_int64(&p, -2000000000);        /* int 32 */
	msgpack_pack_int64(&p, INT64_MIN);          /* int 64 */
	msgpack_pack_float(&p, 1.5f);               /* float 32 */
	msgpack_pack_double(&p, 2.5);               /* float 64 */
	msgpack_pack_str_with_body(&p, "abc", 3);   /* fixstr */
	msgpack_pack_str_with_body(&p, big, 200);   /* str 8 */
	msgpack_pack_str_with_body(&p, big, 1000);  /* str 16 */
	msgpack_pack_str_with_body(&p, big, 70000); /* str 32 */
	msgpack_pack_bin_with_body(&p, big, 3);     /* bin 8 */
	msgpack_pack_bin_with_body(&p, big, 1000);  /* bin 16 */
	msgpack_pack_bin_with_body(&p, big, 70000); /* bin 32 */
	msgpack_pack_array(&p, 16);                 /* array 16 */
	for (int i = 0; i < 16; i++)
		msgpack_pack_nil(&p);
	msgpack_pack_map(&p, 16); /* map 16 */
	for (int i = 0; i < 32; i++)
		msgpack_pack_int(&p, i);
	msgpack_pack_map(&p, 0);
	msgpack_pack_array(&p, 0);
	/* ext: fixext 1..16, then ext 8 and ext 16, each a type byte and data. */
	msgpack_pack_array(&p, 7);
	for (size_t n = 1; n <= 16; n *= 2)
		msgpack_pack_ext_with_body(&p, big, n, 1);
	msgpack_pack_ext_with_body(&p, big, 3, 2);
	msgpack_pack_ext_with_body(&p, big, 300, 3);
}

static void test_every_kind(void)
{
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);
	pack_every_kind(&sb);
	CHECK(msgpack_parses(sb.data, sb.size));
	expect_scan(sb.data, sb.size, NULL, __LINE__);
	/* Every proper prefix is truncated, for msgpack-c and the scan alike. */
	int same = 1;
	for (size_t n = 0; n < sb.size; n++) {
		char err[128];
		int rc = mpscan_check((const uint8_t *)sb.data, n, err, sizeof(err));
		same &= rc == KILN_E_PROTO && strstr(err, "truncated") && !msgpack_parses(sb.data, n);
	}
	CHECK(same);
	msgpack_sbuffer_destroy(&sb);

	/* ext 32, which msgpack-c packs only past 65535 bytes, by hand. */
	uint8_t ext32[] = {0xc9, 0, 0, 0, 2, 7, 'a', 'b'};
	CHECK(msgpack_parses(ext32, sizeof(ext32)));
	expect_scan(ext32, sizeof(ext32), NULL, __LINE__);
	expect_scan(ext32, sizeof(ext32) - 1, "truncated MessagePack object (7 bytes)", __LINE__);
}

/* Every single byte: what msgpack-c takes as a whole object, the scan takes
 * too, and the rest it refuses. */
static void test_single_bytes(void)
{
	int agree = 1;
	for (int b = 0; b < 256; b++) {
		uint8_t one = (uint8_t)b;
		int rc = mpscan_check(&one, 1, NULL, 0);
		if ((rc == 0) != msgpack_parses(&one, 1)) {
			fprintf(stderr, "byte 0x%02x: scan %d\n", b, rc);
			agree = 0;
		}
	}
	CHECK(agree);
	expect_scan("\xc1", 1, "not MessagePack: byte 0xc1 at offset 0", __LINE__);
	expect_scan("\x92\x01\xc1", 3, "not MessagePack: byte 0xc1 at offset 2", __LINE__);
}

/* Frames and what the scan says of them (NULL: accepted). */
static const struct {
	const char *bytes;
	size_t len;
	const char *want;
} shapes[] = {
    {"", 0, "truncated MessagePack object (0 bytes)"},
    {"\x80\x80", 2, "1 trailing bytes after the MessagePack object"},
    {"\x01\x02\x03", 3, "2 trailing bytes"},
    /* Counts and lengths that the remaining bytes cannot hold. */
    {"\xdd\xff\xff\xff\xff", 5, "truncated"},
    {"\xdf\xff\xff\xff\xff", 5, "truncated"},
    {"\xdc\x00\x03\xc0\xc0", 5, "truncated"},
    {"\xdb\xff\xff\xff\xff", 5, "truncated"},
    {"\xc6\xff\xff\xff\xff", 5, "truncated"},
    {"\xc9\xff\xff\xff\xff\x01", 6, "truncated"},
    {"\xcf\x00\x00", 3, "truncated"},
    /* The inner count fits the bytes left, but not beside the outer
     * elements still to come. */
    {"\x93\x92\xc0\xc0", 4, "truncated"},
    /* A map's count is of pairs. */
    {"\x82\xa1k\xc0", 4, "truncated"},
    {"\x81\xa1k\xc0", 4, NULL},
};

static void test_bad_shapes(void)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		expect_scan(shapes[i].bytes, shapes[i].len, shapes[i].want, (int)i);
	/* A NULL err is allowed, and a short one is cut. */
	CHECK_EQ_INT(mpscan_check((const uint8_t *)"\xc1", 1, NULL, 0), KILN_E_PROTO);
	char small[8];
	CHECK_EQ_INT(mpscan_check((const uint8_t *)"\xc1", 1, small, sizeof(small)), KILN_E_PROTO);
	CHECK_EQ_STR(small, "not Mes");
}

/* n arrays of one element nested in each other around a nil. */
static size_t nest(uint8_t *buf, int n)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		buf[len++] = 0x91;
	buf[len++] = 0xc0;
	return len;
}

static void test_depth(void)
{
	uint8_t buf[64];
	size_t n = nest(buf, MPSCAN_DEPTH_MAX);
	expect_scan(buf, n, NULL, __LINE__);
	n = nest(buf, MPSCAN_DEPTH_MAX + 1);
	expect_scan(buf, n, "MessagePack nested deeper than 16 levels", __LINE__);
	/* Empty containers hold nothing to descend into. */
	n = nest(buf, MPSCAN_DEPTH_MAX);
	buf[n - 1] = 0x90;
	expect_scan(buf, n, NULL, __LINE__);
}

/* An array of n nils (array 32 header, then n bytes), in a malloc'd buffer. */
static uint8_t *nils(uint64_t n, size_t *len)
{
	uint8_t *b = malloc((size_t)n + 5);
	if (!b)
		return NULL;
	b[0] = 0xdd;
	b[1] = (uint8_t)(n >> 24);
	b[2] = (uint8_t)(n >> 16);
	b[3] = (uint8_t)(n >> 8);
	b[4] = (uint8_t)n;
	memset(b + 5, 0xc0, (size_t)n);
	*len = (size_t)n + 5;
	return b;
}

/* A small frame of many one-byte objects would cost msgpack-c 24 bytes
 * each: the count is bounded (the array counts as one object). */
static void test_object_count(void)
{
	size_t len;
	uint8_t *b = nils(MPSCAN_OBJECTS_MAX - 1, &len);
	CHECK(b != NULL);
	if (b)
		expect_scan(b, len, NULL, __LINE__);
	free(b);
	b = nils(MPSCAN_OBJECTS_MAX, &len);
	CHECK(b != NULL);
	if (b)
		expect_scan(b, len, "more than 4194304 MessagePack objects in one message", __LINE__);
	free(b);
	/* The frame of the issue: 16 million nils in 16 MiB. */
	b = nils(16u << 20, &len);
	CHECK(b != NULL);
	if (b)
		expect_scan(b, len, "more than 4194304 MessagePack objects", __LINE__);
	free(b);
}

int main(void)
{
	test_object_count();
	test_every_kind();
	test_single_bytes();
	test_bad_shapes();
	test_depth();
	TEST_DONE();
}
