/* dds.h: the DirectDraw Surface container that kiln-texture writes.
 *
 * A product is a legacy DDS file: the 4-byte magic "DDS ", the 124-byte
 * DDS_HEADER, then every mip level from the largest down, each level's bytes
 * right after the previous one. Three pixel formats are written:
 *
 *   DDS_BC1    FourCC "DXT1", 8 bytes per 4x4 block (opaque images)
 *   DDS_BC3    FourCC "DXT5", 16 bytes per 4x4 block (images with alpha)
 *   DDS_RGBA8  uncompressed 32-bit, stored B, G, R, A in memory (masks
 *              R 0x00ff0000, G 0x0000ff00, B 0x000000ff, A 0xff000000;
 *              D3DFMT_A8R8G8B8), the one uncompressed layout every DDS
 *              reader agrees on (ImageMagick 6 ignores the masks and reads
 *              32-bit pixels in this order whatever they say)
 *
 * Block formats cover partial edge blocks whole: a 5x3 level is 2x1 blocks. */
#ifndef KILN_TEX_DDS_H
#define KILN_TEX_DDS_H

#include <stddef.h>
#include <stdint.h>

#define DDS_HEADER_SIZE 128u /* magic + DDS_HEADER */

typedef enum dds_format { DDS_BC1 = 0, DDS_BC3, DDS_RGBA8 } dds_format;

/* "bc1", "bc3", "rgba8". */
const char *dds_format_name(dds_format f);

/* The bytes of one level of w x h pixels (w, h >= 1). */
uint64_t dds_level_size(dds_format f, uint32_t w, uint32_t h);

/* The bytes of a whole file: header plus `mips` levels starting at w x h,
 * each halving (floor, at least 1). */
uint64_t dds_file_size(dds_format f, uint32_t w, uint32_t h, uint32_t mips);

/* Fills out with the magic and the header of a w x h texture of `mips`
 * levels. w, h and mips must be at least 1. */
void dds_write_header(uint8_t out[DDS_HEADER_SIZE], dds_format f, uint32_t w, uint32_t h, uint32_t mips);

/* What dds_parse_header found. */
typedef struct dds_info {
	dds_format format;
	uint32_t width, height, mips;
	uint32_t flags;    /* dwFlags */
	uint32_t caps;     /* dwCaps */
	uint32_t pitch;    /* dwPitchOrLinearSize */
	uint32_t pf_flags; /* ddspf.dwFlags */
	uint32_t masks[4]; /* R, G, B, A bit masks */
} dds_info;

/* Reads the header of a file that kiln-texture could have written (the
 * three formats above; a missing mip count means 1). Validates every field
 * it reads. Returns 0, or KILN_E_PROTO for anything else (err says what). */
int dds_parse_header(const uint8_t *buf, size_t len, dds_info *out, char *err, size_t errsz);

#endif
