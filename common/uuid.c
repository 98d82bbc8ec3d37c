/* uuid.c: name-based UUIDs (version 5) over a small SHA-1 of our own.
 *
 * SHA-1 is here for identity, not security: a source's UUID must be the same
 * bytes that O3DE's AZ::Uuid::CreateName gives, and that is SHA-1. */
#include "uuid.h"
#include "hex.h"
#include "kerr.h"

#include <string.h>

typedef struct sha1_ctx {
	uint32_t h[5];
	uint64_t len; /* bytes so far */
	uint8_t buf[64];
	size_t nbuf;
} sha1_ctx;

static uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(sha1_ctx *c, const uint8_t *p)
{
	uint32_t w[80], a, b, d, e, f, k, t, cc;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0];
	b = c->h[1];
	cc = c->h[2];
	d = c->h[3];
	e = c->h[4];
	for (int i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5A827999u;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ED9EBA1u;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8F1BBCDCu;
		} else {
			f = b ^ cc ^ d;
			k = 0xCA62C1D6u;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = rol32(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

static void sha1_init(sha1_ctx *c)
{
	c->h[0] = 0x67452301u;
	c->h[1] = 0xEFCDAB89u;
	c->h[2] = 0x98BADCFEu;
	c->h[3] = 0x10325476u;
	c->h[4] = 0xC3D2E1F0u;
	c->len = 0;
	c->nbuf = 0;
}

static void sha1_update(sha1_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	c->len += len;
	if (c->nbuf) {
		size_t take = 64 - c->nbuf < len ? 64 - c->nbuf : len;
		memcpy(c->buf + c->nbuf, p, take);
		c->nbuf += take;
		p += take;
		len -= take;
		if (c->nbuf < 64)
			return;
		sha1_block(c, c->buf);
		c->nbuf = 0;
	}
	for (; len >= 64; p += 64, len -= 64)
		sha1_block(c, p);
	if (len) {
		memcpy(c->buf, p, len);
		c->nbuf = len;
	}
}

static void sha1_final(sha1_ctx *c, uint8_t out[20])
{
	uint64_t bits = c->len * 8;
	uint8_t pad[72] = {0x80};
	/* Pad to 56 mod 64, then the 64-bit big-endian bit length. */
	size_t padlen = (c->nbuf < 56 ? 56 : 120) - c->nbuf;

	for (int i = 0; i < 8; i++)
		pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(c, pad, padlen + 8);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void sha1(const void *data, size_t len, uint8_t out[20])
{
	sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, data, len);
	sha1_final(&c, out);
}

/* The first 16 bytes of the digest with version 5 and the RFC 4122 variant. */
static void uuid_from_digest(const uint8_t d[20], kuuid *out)
{
	memcpy(out->b, d, 16);
	out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x50);
	out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}

void uuid_v5(const void *name, size_t len, kuuid *out)
{
	uint8_t d[20];

	sha1(name, len, d);
	uuid_from_digest(d, out);
}

void uuid_v5_ns(const kuuid *ns, const void *name, size_t len, kuuid *out)
{
	sha1_ctx c;
	uint8_t d[20];

	sha1_init(&c);
	sha1_update(&c, ns->b, sizeof ns->b);
	sha1_update(&c, name, len);
	sha1_final(&c, d);
	uuid_from_digest(d, out);
}

void uuid_for_source(const char *rel, kuuid *out)
{
	sha1_ctx c;
	uint8_t chunk[256], d[20];
	size_t n = 0;

	/* Lowercased in chunks straight into SHA-1, so any length works
	 * without a copy of the path. Backslashes become slashes as O3DE's
	 * CreateSafeSourceUUIDFromName does, so a Windows-style path gives the
	 * same UUID. */
	sha1_init(&c);
	for (const char *p = rel; *p; p++) {
		char ch = *p;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		else if (ch == '\\')
			ch = '/';
		chunk[n++] = (uint8_t)ch;
		if (n == sizeof chunk) {
			sha1_update(&c, chunk, n);
			n = 0;
		}
	}
	sha1_update(&c, chunk, n);
	sha1_final(&c, d);
	uuid_from_digest(d, out);
}

void uuid_format(const kuuid *u, char out[37])
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = digits[u->b[i] >> 4];
		out[o++] = digits[u->b[i] & 0xf];
	}
	out[o] = '\0';
}

int uuid_parse(const char *s, kuuid *out)
{
	size_t len = strnlen(s, 40);
	kuuid u;

	if (len == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		len = 36;
	} else if (len != 36) {
		return KILN_E_PROTO;
	}
	for (size_t i = 0, b = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return KILN_E_PROTO;
			i++;
			continue;
		}
		int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
		if (hi < 0 || lo < 0)
			return KILN_E_PROTO;
		u.b[b++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*out = u;
	return 0;
}
