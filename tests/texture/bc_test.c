/* bc_test.c: BC1/BC3 encoding through stb_dxt and our decoder: solid
 * colours, clamped edge blocks, and PSNR on generated natural-ish images
 * against the bounds that README.md states. */
#include <stdlib.h>
#include <string.h>

#include "bc.h"
#include "tex_fixtures.h"
#include "test.h"

/* The bounds README.md states for mip 0 of generated natural-ish images
 * (gradients, a soft wave and +-6 grain), in dB over the channels the format
 * keeps. Measured: 34.2 dB (37x19, the steepest gradients) to 43.7 dB. */
#define BC1_MIN_PSNR_RGB  33.0
#define BC3_MIN_PSNR_RGBA 33.0

/* Encodes and decodes a whole level with the builder's own row encoder. */
static uint8_t *roundtrip(dds_format f, const uint8_t *px, uint32_t w, uint32_t h)
{
	uint32_t bw = (w + 3) / 4, bh = (h + 3) / 4, bsz = bc_block_bytes(f);
	uint8_t *blocks = malloc((size_t)bw * bh * bsz), *out = malloc((size_t)w * h * 4);
	for (uint32_t by = 0; by < bh; by++)
		bc_encode_block_row(f, px, w, h, by, blocks + (size_t)by * bw * bsz);
	bc_decode_level(f, blocks, w, h, out);
	free(blocks);
	return out;
}

static void test_solid(void)
{
	uint8_t px[4 * 4 * 4];
	for (int i = 0; i < 16; i++) {
		px[i * 4 + 0] = 255;
		px[i * 4 + 1] = 0;
		px[i * 4 + 2] = 255;
		px[i * 4 + 3] = 77;
	}
	uint8_t *bc1 = roundtrip(DDS_BC1, px, 4, 4), *bc3 = roundtrip(DDS_BC3, px, 4, 4);
	/* Magenta is exact in RGB565; BC1 drops alpha, BC3 keeps it exactly
	 * for a single value. */
	CHECK(bc1[0] == 255 && bc1[1] == 0 && bc1[2] == 255 && bc1[3] == 255);
	CHECK(bc3[0] == 255 && bc3[1] == 0 && bc3[2] == 255 && bc3[3] == 77);
	CHECK(memcmp(bc3, bc3 + 60, 4) == 0);
	free(bc1);
	free(bc3);
}

/* A 5x3 image is 2x1 blocks; the padding clamps, so the second block holds
 * only the last column's colour and decodes it exactly. */
static void test_edges(void)
{
	uint8_t px[5 * 3 * 4];
	for (int y = 0; y < 3; y++)
		for (int x = 0; x < 5; x++) {
			uint8_t *p = px + (y * 5 + x) * 4;
			p[0] = x == 4 ? 0 : 255;
			p[1] = x == 4 ? 255 : 0;
			p[2] = 0;
			p[3] = x == 4 ? 255 : 10;
		}
	uint8_t *out = roundtrip(DDS_BC3, px, 5, 3);
	int ok = 1;
	for (int y = 0; y < 3; y++) {
		const uint8_t *p = out + (y * 5 + 4) * 4;
		if (p[0] != 0 || p[1] != 255 || p[3] != 255)
			ok = 0;
	}
	CHECK(ok);
	free(out);

	/* 1x1 and 1xN go through whole blocks too. */
	uint8_t one[4] = {10, 200, 30, 255};
	out = roundtrip(DDS_BC1, one, 1, 1);
	CHECK(abs(out[0] - 10) <= 4 && abs(out[1] - 200) <= 2 && abs(out[2] - 30) <= 4);
	free(out);
}

/* The BC1 three-colour mode (c0 <= c1) decodes index 3 as transparent
 * black: blocks from other encoders use it. */
static void test_decode_modes(void)
{
	uint8_t blk[8] = {0x00, 0x00, 0xff, 0xff, 0xff, 0, 0, 0}; /* c0 black, c1 white */
	uint8_t out[64];
	bc_decode_block(DDS_BC1, blk, out);
	/* Pixel 0: index 3 -> transparent; pixel 4: index 0 -> black. */
	CHECK(out[0] == 0 && out[3] == 0);
	CHECK(out[16 + 3] == 255 && out[16] == 0);
	/* Pixel 1 in the first byte 0xff is index 3 too; pixel 2 (index 3). */
	blk[4] = 0x06; /* pixel 0: 2 (midpoint), pixel 1: 1 (white) */
	bc_decode_block(DDS_BC1, blk, out);
	CHECK(out[0] == 127 && out[3] == 255);
	CHECK(out[4] == 255);

	/* BC3 alpha, six-value mode (a0 <= a1): index 6 is 0, 7 is 255. */
	uint8_t b3[16] = {10, 20, 0x3e, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0};
	bc_decode_block(DDS_BC3, b3, out);
	CHECK_EQ_INT(out[3], 0);       /* pixel 0: index 6 (0x3e & 7) */
	CHECK_EQ_INT(out[4 + 3], 255); /* pixel 1: index 7 (0x3e >> 3) */
	CHECK_EQ_INT(out[8 + 3], 10);  /* pixel 2: index 0, a0 */
	CHECK_EQ_INT(out[60 + 3], 10); /* pixel 15: index 0 */
	/* Eight-value mode (a0 > a1): index 2 is (6 * a0 + a1) / 7. */
	b3[0] = 200;
	b3[1] = 60;
	b3[2] = 0x02;
	bc_decode_block(DDS_BC3, b3, out);
	CHECK_EQ_INT(out[3], (6 * 200 + 60) / 7);
}

static void test_psnr(void)
{
	static const uint32_t sizes[][2] = {{256, 256}, {37, 19}, {129, 67}, {1, 64}};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t w = sizes[s][0], h = sizes[s][1];
		uint8_t *opaque = fx_natural(w, h, 6, 0, 1234 + (uint32_t)s);
		uint8_t *alpha = fx_natural(w, h, 6, 1, 99 + (uint32_t)s);
		uint8_t *o1 = roundtrip(DDS_BC1, opaque, w, h), *o3 = roundtrip(DDS_BC3, alpha, w, h);
		double p1 = fx_psnr(opaque, o1, w, h, 3), p3 = fx_psnr(alpha, o3, w, h, 4);
		printf("%ux%u: BC1 RGB PSNR %.2f dB, BC3 RGBA PSNR %.2f dB\n", w, h, p1, p3);
		CHECK(p1 >= BC1_MIN_PSNR_RGB);
		CHECK(p3 >= BC3_MIN_PSNR_RGBA);
		free(opaque);
		free(alpha);
		free(o1);
		free(o3);
	}
}

int main(void)
{
	test_solid();
	test_edges();
	test_decode_modes();
	test_psnr();
	TEST_DONE();
}
