/* bc.c: block compression (see bc.h). The only file that compiles stb_dxt. */
#include <string.h>

#define STB_DXT_IMPLEMENTATION
#define STB_DXT_STATIC
#include <stb/stb_dxt.h>

#include "bc.h"

uint32_t bc_block_bytes(dds_format f)
{
	return f == DDS_BC1 ? 8u : 16u;
}

void bc_encode_block_row(dds_format f, const uint8_t *rgba, uint32_t w, uint32_t h, uint32_t by, uint8_t *out)
{
	uint32_t bw = (w + 3) / 4, bsz = bc_block_bytes(f);
	uint8_t blk[64];
	const uint8_t *rows[4];

	for (uint32_t j = 0; j < 4; j++) {
		uint32_t y = by * 4 + j;
		rows[j] = rgba + (size_t)(y < h ? y : h - 1) * w * 4;
	}
	for (uint32_t bx = 0; bx < bw; bx++) {
		uint32_t x0 = bx * 4;
		if (x0 + 4 <= w) {
			for (uint32_t j = 0; j < 4; j++)
				memcpy(blk + j * 16, rows[j] + (size_t)x0 * 4, 16);
		} else {
			for (uint32_t j = 0; j < 4; j++)
				for (uint32_t i = 0; i < 4; i++) {
					uint32_t x = x0 + i < w ? x0 + i : w - 1;
					memcpy(blk + j * 16 + i * 4, rows[j] + (size_t)x * 4, 4);
				}
		}
		if (f == DDS_BC1) {
			/* stb_dxt wants a constant alpha when it is not
			 * encoding alpha. */
			for (int i = 0; i < 16; i++)
				blk[i * 4 + 3] = 255;
		}
		stb_compress_dxt_block(out + (size_t)bx * bsz, blk, f == DDS_BC3, STB_DXT_HIGHQUAL);
	}
}

static void rgb565(uint16_t c, uint8_t out[4])
{
	uint8_t r = (c >> 11) & 31, g = (c >> 5) & 63, b = c & 31;
	out[0] = (uint8_t)(r << 3 | r >> 2);
	out[1] = (uint8_t)(g << 2 | g >> 4);
	out[2] = (uint8_t)(b << 3 | b >> 2);
	out[3] = 255;
}

/* The colour half of a block: two RGB565 endpoints and 2-bit indices. */
static void decode_color(const uint8_t *b, int four_colour_always, uint8_t out[64])
{
	uint16_t c0 = (uint16_t)(b[0] | b[1] << 8), c1 = (uint16_t)(b[2] | b[3] << 8);
	uint32_t idx = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
	uint8_t pal[4][4];

	rgb565(c0, pal[0]);
	rgb565(c1, pal[1]);
	if (c0 > c1 || four_colour_always) {
		for (int k = 0; k < 3; k++) {
			pal[2][k] = (uint8_t)((2 * pal[0][k] + pal[1][k]) / 3);
			pal[3][k] = (uint8_t)((pal[0][k] + 2 * pal[1][k]) / 3);
		}
		pal[2][3] = pal[3][3] = 255;
	} else {
		for (int k = 0; k < 3; k++)
			pal[2][k] = (uint8_t)((pal[0][k] + pal[1][k]) / 2);
		pal[2][3] = 255;
		memset(pal[3], 0, 4);
	}
	for (int i = 0; i < 16; i++)
		memcpy(out + i * 4, pal[(idx >> (2 * i)) & 3], 4);
}

/* The alpha half of a BC3 block: two 8-bit endpoints and 3-bit indices. */
static void decode_alpha(const uint8_t *b, uint8_t out[64])
{
	uint8_t pal[8];
	uint64_t idx = 0;

	pal[0] = b[0];
	pal[1] = b[1];
	if (pal[0] > pal[1]) {
		for (int i = 1; i < 7; i++)
			pal[i + 1] = (uint8_t)(((7 - i) * pal[0] + i * pal[1]) / 7);
	} else {
		for (int i = 1; i < 5; i++)
			pal[i + 1] = (uint8_t)(((5 - i) * pal[0] + i * pal[1]) / 5);
		pal[6] = 0;
		pal[7] = 255;
	}
	for (int i = 0; i < 6; i++)
		idx |= (uint64_t)b[2 + i] << (8 * i);
	for (int i = 0; i < 16; i++)
		out[i * 4 + 3] = pal[(idx >> (3 * i)) & 7];
}

void bc_decode_block(dds_format f, const uint8_t *block, uint8_t out[64])
{
	if (f == DDS_BC1) {
		decode_color(block, 0, out);
		return;
	}
	decode_color(block + 8, 1, out);
	decode_alpha(block, out);
}

void bc_decode_level(dds_format f, const uint8_t *blocks, uint32_t w, uint32_t h, uint8_t *rgba)
{
	uint32_t bw = (w + 3) / 4, bh = (h + 3) / 4, bsz = bc_block_bytes(f);
	uint8_t px[64];

	for (uint32_t by = 0; by < bh; by++)
		for (uint32_t bx = 0; bx < bw; bx++) {
			bc_decode_block(f, blocks + ((size_t)by * bw + bx) * bsz, px);
			for (uint32_t j = 0; j < 4 && by * 4 + j < h; j++)
				for (uint32_t i = 0; i < 4 && bx * 4 + i < w; i++)
					memcpy(rgba + ((size_t)(by * 4 + j) * w + bx * 4 + i) * 4,
					       px + (j * 4 + i) * 4, 4);
		}
}
