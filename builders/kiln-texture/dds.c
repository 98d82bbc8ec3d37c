/* dds.c: DDS headers (see dds.h). The field layout follows Microsoft's
 * DDS_HEADER and DDS_PIXELFORMAT documentation; all fields little endian. */
#include <stdio.h>
#include <string.h>

#include "dds.h"
#include "kerr.h"

#define DDSD_CAPS        0x1u
#define DDSD_HEIGHT      0x2u
#define DDSD_WIDTH       0x4u
#define DDSD_PITCH       0x8u
#define DDSD_PIXELFORMAT 0x1000u
#define DDSD_MIPMAPCOUNT 0x20000u
#define DDSD_LINEARSIZE  0x80000u

#define DDPF_ALPHAPIXELS 0x1u
#define DDPF_FOURCC      0x4u
#define DDPF_RGB         0x40u

#define DDSCAPS_COMPLEX 0x8u
#define DDSCAPS_TEXTURE 0x1000u
#define DDSCAPS_MIPMAP  0x400000u

/* Byte offsets from the start of the file (the magic is 4 bytes). */
enum {
	OFF_SIZE = 4,
	OFF_FLAGS = 8,
	OFF_HEIGHT = 12,
	OFF_WIDTH = 16,
	OFF_PITCH = 20,
	OFF_DEPTH = 24,
	OFF_MIPS = 28,
	OFF_PF = 76,
	OFF_PF_FLAGS = 80,
	OFF_FOURCC = 84,
	OFF_BITCOUNT = 88,
	OFF_MASKS = 92,
	OFF_CAPS = 108,
	OFF_CAPS2 = 112,
};

static const uint32_t bgra_masks[4] = {0x00ff0000u, 0x0000ff00u, 0x000000ffu, 0xff000000u};

const char *dds_format_name(dds_format f)
{
	switch (f) {
	case DDS_BC1:
		return "bc1";
	case DDS_BC3:
		return "bc3";
	case DDS_RGBA8:
		return "rgba8";
	}
	return "?";
}

uint64_t dds_level_size(dds_format f, uint32_t w, uint32_t h)
{
	uint64_t bw = ((uint64_t)w + 3) / 4, bh = ((uint64_t)h + 3) / 4;
	switch (f) {
	case DDS_BC1:
		return bw * bh * 8;
	case DDS_BC3:
		return bw * bh * 16;
	case DDS_RGBA8:
		return (uint64_t)w * h * 4;
	}
	return 0;
}

uint64_t dds_file_size(dds_format f, uint32_t w, uint32_t h, uint32_t mips)
{
	uint64_t total = DDS_HEADER_SIZE;
	for (uint32_t i = 0; i < mips; i++) {
		total += dds_level_size(f, w, h);
		w = w > 1 ? w / 2 : 1;
		h = h > 1 ? h / 2 : 1;
	}
	return total;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void dds_write_header(uint8_t out[DDS_HEADER_SIZE], dds_format f, uint32_t w, uint32_t h, uint32_t mips)
{
	uint32_t flags = DDSD_CAPS | DDSD_HEIGHT | DDSD_WIDTH | DDSD_PIXELFORMAT | DDSD_MIPMAPCOUNT;
	uint32_t caps = DDSCAPS_TEXTURE;

	memset(out, 0, DDS_HEADER_SIZE);
	memcpy(out, "DDS ", 4);
	put32(out + OFF_SIZE, 124);
	put32(out + OFF_HEIGHT, h);
	put32(out + OFF_WIDTH, w);
	put32(out + OFF_MIPS, mips);
	put32(out + OFF_PF, 32);
	if (f == DDS_RGBA8) {
		/* Uncompressed surfaces give the pitch of a row; a 32-bit row
		 * needs no padding. */
		flags |= DDSD_PITCH;
		put32(out + OFF_PITCH, w * 4);
		put32(out + OFF_PF_FLAGS, DDPF_RGB | DDPF_ALPHAPIXELS);
		put32(out + OFF_BITCOUNT, 32);
		for (int i = 0; i < 4; i++)
			put32(out + OFF_MASKS + 4 * i, bgra_masks[i]);
	} else {
		flags |= DDSD_LINEARSIZE;
		put32(out + OFF_PITCH, (uint32_t)dds_level_size(f, w, h));
		put32(out + OFF_PF_FLAGS, DDPF_FOURCC);
		memcpy(out + OFF_FOURCC, f == DDS_BC1 ? "DXT1" : "DXT5", 4);
	}
	if (mips > 1)
		caps |= DDSCAPS_COMPLEX | DDSCAPS_MIPMAP;
	put32(out + OFF_FLAGS, flags);
	put32(out + OFF_CAPS, caps);
}

static int bad(char *err, size_t errsz, const char *why)
{
	snprintf(err, errsz, "not a kiln-texture DDS: %s", why);
	return KILN_E_PROTO;
}

int dds_parse_header(const uint8_t *buf, size_t len, dds_info *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	if (len < DDS_HEADER_SIZE)
		return bad(err, errsz, "shorter than a header");
	if (memcmp(buf, "DDS ", 4) != 0)
		return bad(err, errsz, "no \"DDS \" magic");
	if (get32(buf + OFF_SIZE) != 124 || get32(buf + OFF_PF) != 32)
		return bad(err, errsz, "wrong header or pixel format size");
	out->flags = get32(buf + OFF_FLAGS);
	out->height = get32(buf + OFF_HEIGHT);
	out->width = get32(buf + OFF_WIDTH);
	out->pitch = get32(buf + OFF_PITCH);
	out->mips = (out->flags & DDSD_MIPMAPCOUNT) ? get32(buf + OFF_MIPS) : 1;
	out->pf_flags = get32(buf + OFF_PF_FLAGS);
	out->caps = get32(buf + OFF_CAPS);
	for (int i = 0; i < 4; i++)
		out->masks[i] = get32(buf + OFF_MASKS + 4 * i);
	if (out->width == 0 || out->height == 0)
		return bad(err, errsz, "zero width or height");
	if (out->mips == 0)
		out->mips = 1;
	uint32_t longest = out->width > out->height ? out->width : out->height, levels = 1;
	while (longest > 1) {
		longest /= 2;
		levels++;
	}
	if (out->mips > levels)
		return bad(err, errsz, "more mip levels than the size allows");
	if (get32(buf + OFF_DEPTH) > 1 || get32(buf + OFF_CAPS2) != 0)
		return bad(err, errsz, "a volume or cube map");
	if (out->pf_flags & DDPF_FOURCC) {
		if (memcmp(buf + OFF_FOURCC, "DXT1", 4) == 0)
			out->format = DDS_BC1;
		else if (memcmp(buf + OFF_FOURCC, "DXT5", 4) == 0)
			out->format = DDS_BC3;
		else
			return bad(err, errsz, "a FourCC other than DXT1 and DXT5");
	} else if ((out->pf_flags & DDPF_RGB) && get32(buf + OFF_BITCOUNT) == 32 &&
	           memcmp(out->masks, bgra_masks, sizeof(bgra_masks)) == 0) {
		out->format = DDS_RGBA8;
	} else {
		return bad(err, errsz, "an uncompressed layout other than 32-bit BGRA");
	}
	return 0;
}
