/* utf8.c: the RFC 3629 check of UTF-8 that kiln's readers of text share. */
#include "utf8.h"

size_t utf8_char_len(const char *s, size_t left, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, off = 0;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		goto invalid;
	/* Continuation bytes are 80 to BF, but the second one has a narrower
	 * range after the lead bytes that could start an overlong form (E0,
	 * F0), a surrogate (ED) or a code point above U+10FFFF (F4). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	/* Byte by byte, so that *bad names the first byte that is wrong and a
	 * cut-short character is told from a wrong byte before the end. */
	for (off = 1; off < n; off++) {
		if (off >= left || p[off] < lo || p[off] > hi)
			goto invalid;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
invalid:
	if (bad)
		*bad = off;
	return 0;
}

bool utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(s + i, len - i, NULL);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}
