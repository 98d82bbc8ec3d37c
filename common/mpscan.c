/* mpscan.c: the pre-scan, a walk over the bytes of one MessagePack object
 * that refuses what would make msgpack-c allocate more than the bytes can
 * hold (see mpscan.h). */
#include <stdarg.h>
#include <stdio.h>

#include "kerr.h"
#include "mpscan.h"

static void set_err(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || errsz == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* Big-endian unsigned integer of n (1, 2 or 4) bytes. */
static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Walks one MessagePack object that must fill buf exactly. Every object
 * takes at least one byte, so a container announcing more elements than
 * bytes remain is truncated: rejecting it here keeps msgpack-c, which
 * allocates a container's elements up front, from being asked for gigabytes
 * by a ten-byte frame. */
int mpscan_check(const uint8_t *buf, size_t len, char *err, size_t errsz)
{
	uint64_t stack[MPSCAN_DEPTH_MAX + 1];
	int depth = 1;
	uint64_t pending = 1; /* objects still to read, at every level */
	uint64_t objects = 0; /* read so far */
	size_t pos = 0;

	stack[0] = 1;
	while (depth > 0) {
		if (stack[depth - 1] == 0) {
			depth--;
			continue;
		}
		if (pos >= len)
			goto truncated;
		stack[depth - 1]--;
		pending--;
		if (++objects > MPSCAN_OBJECTS_MAX) {
			set_err(err, errsz, "more than %llu MessagePack objects in one message",
			        (unsigned long long)MPSCAN_OBJECTS_MAX);
			return KILN_E_PROTO;
		}
		uint8_t b = buf[pos++];
		size_t lenbytes = 0; /* size of a length or count field */
		uint64_t skip = 0;   /* payload bytes after the header */
		uint64_t extra = 0;  /* fixed-size payload added to a length (ext type byte) */
		int container = 0;   /* 1 array, 2 map */
		uint64_t count = 0;

		if (b <= 0x7f || b >= 0xe0) {
			/* fixint */
		} else if (b <= 0x8f) {
			container = 2;
			count = b & 0x0f;
		} else if (b <= 0x9f) {
			container = 1;
			count = b & 0x0f;
		} else if (b <= 0xbf) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc0: /* nil */
			case 0xc2: /* false */
			case 0xc3: /* true */
				break;
			case 0xc4: /* bin 8/16/32 */
			case 0xc5:
			case 0xc6:
				lenbytes = (size_t)1 << (b - 0xc4);
				break;
			case 0xc7: /* ext 8/16/32: length, then a type byte */
			case 0xc8:
			case 0xc9:
				lenbytes = (size_t)1 << (b - 0xc7);
				extra = 1;
				break;
			case 0xca:
				skip = 4;
				break;
			case 0xcb:
				skip = 8;
				break;
			case 0xcc: /* uint 8..64 */
			case 0xcd:
			case 0xce:
			case 0xcf:
				skip = (uint64_t)1 << (b - 0xcc);
				break;
			case 0xd0: /* int 8..64 */
			case 0xd1:
			case 0xd2:
			case 0xd3:
				skip = (uint64_t)1 << (b - 0xd0);
				break;
			case 0xd4: /* fixext 1..16 */
			case 0xd5:
			case 0xd6:
			case 0xd7:
			case 0xd8:
				skip = 1 + ((uint64_t)1 << (b - 0xd4));
				break;
			case 0xd9: /* str 8/16/32 */
			case 0xda:
			case 0xdb:
				lenbytes = (size_t)1 << (b - 0xd9);
				break;
			case 0xdc: /* array 16/32 */
			case 0xdd:
				container = 1;
				lenbytes = (size_t)2 << (b - 0xdc);
				break;
			case 0xde: /* map 16/32 */
			case 0xdf:
				container = 2;
				lenbytes = (size_t)2 << (b - 0xde);
				break;
			default: /* 0xc1 is never used */
				set_err(err, errsz, "not MessagePack: byte 0x%02x at offset %zu", b, pos - 1);
				return KILN_E_PROTO;
			}
		}
		if (lenbytes) {
			if (len - pos < lenbytes)
				goto truncated;
			uint64_t v = be(buf + pos, lenbytes);
			pos += lenbytes;
			if (container)
				count = v;
			else
				skip = v + extra;
		}
		if (skip > len - pos)
			goto truncated;
		pos += (size_t)skip;
		if (container && count) {
			if (container == 2)
				count *= 2;
			if (depth > MPSCAN_DEPTH_MAX) {
				set_err(err, errsz, "MessagePack nested deeper than %d levels",
				        MPSCAN_DEPTH_MAX);
				return KILN_E_PROTO;
			}
			if (count > len - pos || pending + count > len - pos)
				goto truncated;
			stack[depth++] = count;
			pending += count;
		}
	}
	if (pos != len) {
		set_err(err, errsz, "%zu trailing bytes after the MessagePack object", len - pos);
		return KILN_E_PROTO;
	}
	return 0;
truncated:
	set_err(err, errsz, "truncated MessagePack object (%zu bytes)", len);
	return KILN_E_PROTO;
}
