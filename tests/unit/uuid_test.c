/* uuid_test.c: SHA-1 against FIPS 180 vectors, v5 UUIDs against Python. */
#include "kerr.h"
#include "test.h"
#include "uuid.h"

#include <stdlib.h>
#include <string.h>

static const char *sha1_hex(const void *data, size_t len)
{
	static char out[41];
	uint8_t d[20];

	sha1(data, len, d);
	for (int i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return out;
}

static void test_sha1(void)
{
	char buf[65];
	char *million;

	/* FIPS 180-2 appendix A and B. */
	CHECK_EQ_STR(sha1_hex("abc", 3), "a9993e364706816aba3e25717850c26c9cd0d89d");
	CHECK_EQ_STR(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
	             "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	CHECK_EQ_STR(sha1_hex("", 0), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	million = malloc(1000000);
	CHECK(million != NULL);
	if (million) {
		memset(million, 'a', 1000000);
		CHECK_EQ_STR(sha1_hex(million, 1000000), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
		free(million);
	}
	/* Lengths around the padding boundary (values from Python's hashlib). */
	memset(buf, 'x', sizeof buf);
	CHECK_EQ_STR(sha1_hex(buf, 55), "cef734ba81a024479e09eb5a75b6ddae62e6abf1");
	CHECK_EQ_STR(sha1_hex(buf, 56), "901305367c259952f4e7af8323f480d59f81335b");
	CHECK_EQ_STR(sha1_hex(buf, 63), "0ddc4e0cccd9a12850deb5abb0853a4425559fec");
	CHECK_EQ_STR(sha1_hex(buf, 64), "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163");
	CHECK_EQ_STR(sha1_hex(buf, 65), "78c741ddc482e4cdf8c474a0876347a0905b6233");
}

static const char *fmt(const kuuid *u)
{
	static char out[37];
	uuid_format(u, out);
	return out;
}

static void test_v5(void)
{
	kuuid u, dns, url;
	char a200[200];

	/* Expected values: SHA-1 of the name alone with version and variant
	 * set, computed with /usr/bin/python3 hashlib.sha1. */
	uuid_v5("", 0, &u);
	CHECK_EQ_STR(fmt(&u), "da39a3ee-5e6b-5b0d-b255-bfef95601890");
	uuid_v5("textures/hero.png", 17, &u);
	CHECK_EQ_STR(fmt(&u), "99f269ee-eb92-5377-8166-bb15342abf88");
	uuid_v5("Textures/Hero.PNG", 17, &u);
	CHECK_EQ_STR(fmt(&u), "0a3d2183-5c1d-501e-ad66-abfe245c8fc7");
	memset(a200, 'a', sizeof a200);
	uuid_v5(a200, sizeof a200, &u);
	CHECK_EQ_STR(fmt(&u), "e61cfffe-0d91-55a5-a5fc-6cf06ca2d771");
	uuid_v5("caf\xc3\xa9/x.png", 11, &u);
	CHECK_EQ_STR(fmt(&u), "43b912cf-3d37-5d6b-9767-22c2635af1d7");
	CHECK_EQ_INT(u.b[6] >> 4, 5);
	CHECK_EQ_INT(u.b[8] & 0xc0, 0x80);

	/* The source UUID lowercases (ASCII only) and uses forward slashes. */
	uuid_for_source("Textures/Hero.PNG", &u);
	CHECK_EQ_STR(fmt(&u), "99f269ee-eb92-5377-8166-bb15342abf88");
	uuid_for_source("textures\\HERO.png", &u);
	CHECK_EQ_STR(fmt(&u), "99f269ee-eb92-5377-8166-bb15342abf88");
	uuid_for_source("CAF\xc3\xa9/X.PNG", &u);
	CHECK_EQ_STR(fmt(&u), "43b912cf-3d37-5d6b-9767-22c2635af1d7");
	{
		char long_name[601];
		memset(long_name, 'A', 600);
		long_name[600] = '\0';
		kuuid w;
		char lower[600];
		memset(lower, 'a', sizeof lower);
		uuid_for_source(long_name, &u);
		uuid_v5(lower, sizeof lower, &w);
		CHECK(memcmp(u.b, w.b, 16) == 0);
	}

	/* RFC 4122 form: Python's uuid.uuid5. */
	CHECK_EQ_INT(uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8", &dns), 0);
	uuid_v5_ns(&dns, "python.org", 10, &u);
	CHECK_EQ_STR(fmt(&u), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	CHECK_EQ_INT(uuid_parse("{6BA7B811-9DAD-11D1-80B4-00C04FD430C8}", &url), 0);
	uuid_v5_ns(&url, "https://example.com/", 20, &u);
	CHECK_EQ_STR(fmt(&u), "dd2c1780-811a-5296-81c5-178a0ef488bc");
}

static void test_parse(void)
{
	kuuid u, v;

	memset(&u, 0xaa, sizeof u);
	CHECK_EQ_INT(uuid_parse("00112233-4455-6677-8899-aabbccddeeff", &u), 0);
	CHECK_EQ_INT(u.b[0], 0x00);
	CHECK_EQ_INT(u.b[7], 0x77);
	CHECK_EQ_INT(u.b[15], 0xff);
	CHECK_EQ_STR(fmt(&u), "00112233-4455-6677-8899-aabbccddeeff");
	CHECK_EQ_INT(uuid_parse("{00112233-4455-6677-8899-AABBCCDDEEFF}", &v), 0);
	CHECK(memcmp(u.b, v.b, 16) == 0);

	v = u;
	CHECK_EQ_INT(uuid_parse("", &v), KILN_E_PROTO);
	CHECK_EQ_INT(uuid_parse("00112233-4455-6677-8899-aabbccddeef", &v), KILN_E_PROTO);
	CHECK_EQ_INT(uuid_parse("00112233-4455-6677-8899-aabbccddeeff0", &v), KILN_E_PROTO);
	CHECK_EQ_INT(uuid_parse("0011223344556677-8899-aabbccddeeff00", &v), KILN_E_PROTO);
	CHECK_EQ_INT(uuid_parse("00112233-4455-6677-8899-aabbccddeefg", &v), KILN_E_PROTO);
	CHECK_EQ_INT(uuid_parse("{00112233-4455-6677-8899-aabbccddeeff", &v), KILN_E_PROTO);
	CHECK_EQ_INT(uuid_parse("(00112233-4455-6677-8899-aabbccddeeff)", &v), KILN_E_PROTO);
	CHECK_EQ_INT(uuid_parse("00112233-4455-6677-8899-aabbccddee f", &v), KILN_E_PROTO);
	CHECK_EQ_INT(uuid_parse("0x112233-4455-6677-8899-aabbccddeeff", &v), KILN_E_PROTO);
	/* A failed parse leaves the output alone. */
	CHECK(memcmp(u.b, v.b, 16) == 0);
}

int main(void)
{
	test_sha1();
	test_v5();
	test_parse();
	TEST_DONE();
}
