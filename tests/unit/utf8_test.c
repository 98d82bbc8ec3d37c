/* utf8_test.c: the UTF-8 check against RFC 3629 (valid and invalid
 * sequences, overlong forms, surrogates, cut-short characters, code points
 * above U+10FFFF), against a reference decoder over every sequence of up to
 * three bytes and the four-byte ones that matter, and reading nothing past
 * the bytes it is given. */
#include "test.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A reference written from the RFC's definition rather than from its
 * table: it decodes byte by byte and stops at the first byte after which no
 * code point of the character's length can be valid (shortest form, not a
 * surrogate, at most U+10FFFF). Returns the length or 0 with *bad. */
static size_t ref_len(const unsigned char *s, size_t left, size_t *bad)
{
	static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned char c = s[0];
	uint32_t cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc0 && c < 0xe0) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c < 0xf0) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c < 0xf8) {
		n = 4;
		cp = c & 0x07;
	} else {
		*bad = 0;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			if (i >= left || (s[i] & 0xc0) != 0x80) {
				*bad = i;
				return 0;
			}
			cp = cp << 6 | (s[i] & 0x3f);
		}
		/* The code points the bytes so far still allow. */
		unsigned rest = 6 * (unsigned)(n - 1 - i);
		uint32_t lo = cp << rest, hi = lo | ((1u << rest) - 1);
		if (hi < least[n] || lo > 0x10ffff || (lo >= 0xd800 && hi <= 0xdfff)) {
			*bad = i;
			return 0;
		}
	}
	return n;
}

/* utf8_char_len() on the first len bytes of s, with *bad preset to 99 so
 * that a test sees whether it was written. */
static size_t len_of(const char *s, size_t len, size_t *bad)
{
	*bad = 99;
	return utf8_char_len(s, len, bad);
}

static void test_ascii(void)
{
	int wrong = 0;
	for (int c = 0; c < 0x80; c++) {
		char b[1] = {(char)c};
		size_t bad = 99;
		if (utf8_char_len(b, 1, &bad) != 1 || bad != 99)
			wrong++;
	}
	CHECK_EQ_INT(wrong, 0);
}

static void test_valid(void)
{
	static const struct {
		const char *s;
		size_t n;
	} ok[] = {
	    {"\xc2\x80", 2},         /* U+0080, the first two-byte character */
	    {"\xc3\xa9", 2},         /* U+00E9 */
	    {"\xdf\xbf", 2},         /* U+07FF */
	    {"\xe0\xa0\x80", 3},     /* U+0800, the first three-byte character */
	    {"\xe2\x82\xac", 3},     /* U+20AC */
	    {"\xed\x9f\xbf", 3},     /* U+D7FF, just below the surrogates */
	    {"\xee\x80\x80", 3},     /* U+E000, just above them */
	    {"\xef\xbf\xbd", 3},     /* U+FFFD */
	    {"\xef\xbf\xbf", 3},     /* U+FFFF */
	    {"\xf0\x90\x80\x80", 4}, /* U+10000, the first four-byte character */
	    {"\xf0\x9d\x84\x9e", 4}, /* U+1D11E */
	    {"\xf3\xbf\xbf\xbf", 4}, /* U+FFFFF */
	    {"\xf4\x8f\xbf\xbf", 4}, /* U+10FFFF, the last code point */
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		size_t bad;
		CHECK_EQ_INT(len_of(ok[i].s, ok[i].n, &bad), ok[i].n);
		CHECK_EQ_INT(bad, 99);
		/* What follows the character does not matter. */
		char buf[8];
		memcpy(buf, ok[i].s, ok[i].n);
		memcpy(buf + ok[i].n, "\xff\xff", 2);
		CHECK_EQ_INT(len_of(buf, ok[i].n + 2, &bad), ok[i].n);
	}
}

/* Invalid sequences, each with the offset of the byte that makes it so. */
static const struct {
	const char *what;
	const char *s;
	size_t n, bad;
} invalid[] = {
    {"lone continuation", "\x80", 1, 0},
    {"lone continuation", "\xbf\x80", 2, 0},
    {"never a lead", "\xf8\x88\x80\x80", 4, 0},
    {"never a lead", "\xfe", 1, 0},
    {"never a lead", "\xff", 1, 0},
    {"ASCII after a lead", "\xc3\x41", 2, 1},
    {"a lead after a lead", "\xe2\xe2\x82\xac", 4, 1},
    {"ASCII as third byte", "\xe2\x82\x41", 3, 2},
    {"ASCII as fourth byte", "\xf0\x9d\x84\x41", 4, 3},
    {"NUL inside", "\xe2\x00\xac", 3, 1},
    /* Overlong forms: the lead itself (C0, C1) or the second byte tells. */
    {"overlong '/'", "\xc0\xaf", 2, 0},
    {"overlong U+007F", "\xc1\xbf", 2, 0},
    {"overlong NUL", "\xc0\x80", 2, 0},
    {"overlong '/' in three", "\xe0\x80\xaf", 3, 1},
    {"overlong U+07FF in three", "\xe0\x9f\xbf", 3, 1},
    {"overlong '/' in four", "\xf0\x80\x80\xaf", 4, 1},
    {"overlong U+FFFF in four", "\xf0\x8f\xbf\xbf", 4, 1},
    /* Surrogates (CESU-8 and the like). */
    {"U+D800", "\xed\xa0\x80", 3, 1},
    {"U+DBFF", "\xed\xaf\xbf", 3, 1},
    {"U+DC00", "\xed\xb0\x80", 3, 1},
    {"U+DFFF", "\xed\xbf\xbf", 3, 1},
    /* Above U+10FFFF. */
    {"U+110000", "\xf4\x90\x80\x80", 4, 1},
    {"U+13FFFF", "\xf4\xbf\xbf\xbf", 4, 1},
    {"U+140000", "\xf5\x80\x80\x80", 4, 0},
    {"U+1FFFFF", "\xf7\xbf\xbf\xbf", 4, 0},
    /* Cut short by the end of the input. */
    {"two of two-byte", "\xc3", 1, 1},
    {"two of three-byte", "\xe2\x82", 2, 2},
    {"one of three-byte", "\xe2", 1, 1},
    {"three of four-byte", "\xf0\x9d\x84", 3, 3},
    {"one of four-byte", "\xf4", 1, 1},
    /* A wrong byte before the end is named, not the end. */
    {"wrong byte, then the end", "\xf0\x41", 2, 1},
    {"overlong, then the end", "\xe0\x80", 2, 1},
    {"surrogate, then the end", "\xed\xa0", 2, 1},
};

static void test_invalid(void)
{
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		size_t bad;
		size_t n = len_of(invalid[i].s, invalid[i].n, &bad);
		if (n != 0 || bad != invalid[i].bad)
			fprintf(stderr, "%s: length %zu, bad %zu\n", invalid[i].what, n, bad);
		CHECK_EQ_INT(n, 0);
		CHECK_EQ_INT(bad, invalid[i].bad);
		CHECK(!utf8_valid(invalid[i].s, invalid[i].n));
		/* bad may be left out. */
		CHECK_EQ_INT(utf8_char_len(invalid[i].s, invalid[i].n, NULL), 0);
	}
}

/* Every valid character cut at every shorter length, each placed right
 * before a page that cannot be read, so that a read past the end crashes
 * the test instead of passing unseen. */
static void test_truncation_reads_nothing_more(void)
{
	static const char *const chars[] = {"\xc2\x80", "\xe2\x82\xac", "\xef\xbf\xbf", "\xf0\x9d\x84\x9e",
	                                    "\xf4\x8f\xbf\xbf"};
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(map != MAP_FAILED);
	if (map == MAP_FAILED)
		return;
	CHECK_EQ_INT(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (size_t i = 0; i < sizeof chars / sizeof chars[0]; i++) {
		size_t n = strlen(chars[i]);
		for (size_t k = 1; k <= n; k++) {
			char *at = map + page - k;
			size_t bad = 99;
			memcpy(at, chars[i], k);
			CHECK_EQ_INT(utf8_char_len(at, k, &bad), k == n ? n : 0);
			CHECK_EQ_INT(bad, k == n ? 99 : k);
			CHECK(utf8_valid(at, k) == (k == n));
		}
	}
	munmap(map, (size_t)page * 2);
}

/* The check against the reference: every input of one, two and three bytes
 * (with every shorter left as well), and four-byte inputs for each lead
 * from F0 to F7 with every second byte and the third and fourth bytes that
 * sit on the edges of the continuation range. */
static void test_against_reference(void)
{
	static const unsigned char edges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0xbf, 0xc0, 0xff};
	long wrong = 0, valid2 = 0, valid3 = 0, valid4 = 0;
	unsigned char b[4];

	for (uint32_t v = 0; v < (1u << 24); v++) {
		b[0] = (unsigned char)(v >> 16);
		b[1] = (unsigned char)(v >> 8);
		b[2] = (unsigned char)v;
		for (size_t left = 1; left <= 3; left++) {
			/* Shorter inputs are the same for every value of the
			 * bytes they do not reach: try each once. */
			if ((left < 3 && b[2] != 0) || (left < 2 && b[1] != 0))
				continue;
			size_t rb = 77, gb = 77;
			size_t r = ref_len(b, left, &rb), g = utf8_char_len((const char *)b, left, &gb);
			if (r != g || (r == 0 && rb != gb)) {
				if (wrong++ < 5)
					fprintf(stderr,
					        "%02x %02x %02x left %zu: got %zu (bad %zu), want %zu (bad "
					        "%zu)\n",
					        b[0], b[1], b[2], left, g, gb, r, rb);
			}
			if (left == 2 && g == 2)
				valid2++;
			if (left == 3 && g == 3)
				valid3++;
		}
	}
	for (unsigned lead = 0xf0; lead <= 0xf7; lead++)
		for (unsigned s1 = 0; s1 < 256; s1++)
			for (size_t i2 = 0; i2 < sizeof edges; i2++)
				for (size_t i3 = 0; i3 < sizeof edges; i3++) {
					b[0] = (unsigned char)lead;
					b[1] = (unsigned char)s1;
					b[2] = edges[i2];
					b[3] = edges[i3];
					size_t rb = 77, gb = 77;
					size_t r = ref_len(b, 4, &rb),
					       g = utf8_char_len((const char *)b, 4, &gb);
					if (r != g || (r == 0 && rb != gb))
						wrong++;
					if (g == 4)
						valid4++;
				}
	CHECK_EQ_INT(wrong, 0);
	/* Each valid character was seen once: U+0080 to U+07FF in two bytes,
	 * U+0800 to U+FFFF without the 2048 surrogates in three. */
	CHECK_EQ_INT(valid2, 0x800 - 0x80);
	CHECK_EQ_INT(valid3, 0x10000 - 0x800 - 0x800);
	/* Four bytes: 48 second bytes after F0, 64 after each of F1 to F3 and
	 * 16 after F4 (256 in all, U+10000 to U+10FFFF in steps of 4096),
	 * each with four of the edges (80, 8F, 90, BF) valid as third and
	 * fourth byte. */
	CHECK_EQ_INT(valid4, 256 * 4 * 4);
}

static void test_valid_strings(void)
{
	CHECK(utf8_valid("", 0));
	CHECK(utf8_valid("textures/stone.png", 18));
	/* NUL bytes are ASCII to a length-bounded check. */
	CHECK(utf8_valid("a\0b", 3));
	const char *mixed = "Assets/\xc3\xa9t\xc3\xa9/\xe2\x82\xac\xf0\x9d\x84\x9e.png";
	CHECK(utf8_valid(mixed, strlen(mixed)));
	/* The length bounds the check: the same string cut inside the last
	 * character, or a bad byte past len. */
	CHECK(!utf8_valid(mixed, strlen(mixed) - 5));
	CHECK(utf8_valid("ok\xff", 2));
	CHECK(!utf8_valid("ok\xff", 3));
	CHECK(!utf8_valid("\xff"
	                  "ok",
	                  3));
	CHECK(!utf8_valid("a\xc3\x28z", 4));
	CHECK(!utf8_valid("latin-1 caf\xe9", 12));
	CHECK(!utf8_valid("cesu \xed\xa0\xbd\xed\xb8\x80", 11));
}

int main(void)
{
	test_ascii();
	test_valid();
	test_invalid();
	test_truncation_reads_nothing_more();
	test_against_reference();
	test_valid_strings();
	TEST_DONE();
}
