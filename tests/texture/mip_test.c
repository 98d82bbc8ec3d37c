/* mip_test.c: mip counts and level sizes, the sRGB tables, and the box
 * filter on odd sizes, uniform images and alpha. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mip.h"
#include "test.h"

static void test_counts(void)
{
	uint32_t w, h;

	CHECK_EQ_INT(mip_count(1, 1), 1);
	CHECK_EQ_INT(mip_count(2, 1), 2);
	CHECK_EQ_INT(mip_count(1, 1000), 10);
	CHECK_EQ_INT(mip_count(256, 256), 9);
	CHECK_EQ_INT(mip_count(257, 3), 9);
	CHECK_EQ_INT(mip_count(8192, 8192), 14);
	CHECK_EQ_INT(mip_count(3, 5), 3);

	mip_level_size(3, 5, 0, &w, &h);
	CHECK(w == 3 && h == 5);
	mip_level_size(3, 5, 1, &w, &h);
	CHECK(w == 1 && h == 2);
	mip_level_size(3, 5, 2, &w, &h);
	CHECK(w == 1 && h == 1);
	mip_level_size(37, 19, 3, &w, &h);
	CHECK(w == 4 && h == 2);
	mip_level_size(1, 1000, 9, &w, &h);
	CHECK(w == 1 && h == 1);
	CHECK_EQ_INT(mip_next(1), 1);
	CHECK_EQ_INT(mip_next(7), 3);
}

static void test_srgb(void)
{
	int exact = 1;
	for (int v = 0; v < 256; v++)
		if (mip_linear_to_srgb(mip_srgb_to_linear((uint8_t)v)) != v)
			exact = 0;
	CHECK(exact);
	CHECK(fabsf(mip_srgb_to_linear(255) - 1.0f) < 1e-6f);
	CHECK(mip_srgb_to_linear(0) == 0.0f);
	/* sRGB 188 is about linear 0.5: the midpoint of black and white in
	 * light, not 128. */
	CHECK_EQ_INT(mip_linear_to_srgb(0.5f), 188);
	CHECK_EQ_INT(mip_linear_to_srgb(-1.0f), 0);
	CHECK_EQ_INT(mip_linear_to_srgb(2.0f), 255);
	CHECK_EQ_INT(mip_linear_to_srgb(NAN), 0);
}

static void fill(uint8_t *px, size_t n, uint8_t r, uint8_t g, uint8_t b, uint8_t a)
{
	for (size_t i = 0; i < n; i++) {
		px[i * 4 + 0] = r;
		px[i * 4 + 1] = g;
		px[i * 4 + 2] = b;
		px[i * 4 + 3] = a;
	}
}

/* A uniform image stays exactly uniform through every level, at every odd
 * size: the weights sum to one and the sRGB round trip is exact. */
static void test_uniform(void)
{
	static const uint32_t sizes[][2] = {{1, 1}, {2, 1}, {3, 5}, {7, 1}, {1, 9}, {37, 19}, {64, 33}};
	int ok = 1;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t w = sizes[s][0], h = sizes[s][1];
		uint8_t *src = malloc((size_t)w * h * 4), *dst = malloc((size_t)w * h * 4);
		fill(src, (size_t)w * h, 200, 17, 93, 130);
		CHECK_EQ_INT(mip_downsample(src, w, h, dst), 0);
		size_t n = (size_t)mip_next(w) * mip_next(h);
		for (size_t i = 0; i < n; i++)
			if (dst[i * 4] != 200 || dst[i * 4 + 1] != 17 || dst[i * 4 + 2] != 93 ||
			    dst[i * 4 + 3] != 130)
				ok = 0;
		free(src);
		free(dst);
	}
	CHECK(ok);
}

/* Averages happen in linear light: black and white make sRGB 188. */
static void test_linear_average(void)
{
	uint8_t src[2 * 4], dst[4];
	fill(src, 1, 0, 0, 0, 255);
	fill(src + 4, 1, 255, 255, 255, 255);
	CHECK_EQ_INT(mip_downsample(src, 2, 1, dst), 0);
	CHECK_EQ_INT(dst[0], 188);
	CHECK_EQ_INT(dst[3], 255);
}

/* An odd width: 3 pixels onto 1 weighs each by a third, so the last column
 * is not dropped. 5 onto 2: the middle pixel is split between both. */
static void test_odd_weights(void)
{
	uint8_t src[5 * 4], dst[2 * 4];
	fill(src, 3, 0, 0, 0, 255);
	fill(src + 8, 1, 255, 255, 255, 255);
	CHECK_EQ_INT(mip_downsample(src, 3, 1, dst), 0);
	/* linear 1/3 -> sRGB 156 */
	CHECK_EQ_INT(dst[0], mip_linear_to_srgb(1.0f / 3.0f));
	CHECK_EQ_INT(dst[0], 156);

	/* 0 0 W 0 0 onto 2: each output gets half of the white pixel out of
	 * 2.5, a fifth. */
	fill(src, 5, 0, 0, 0, 255);
	fill(src + 8, 1, 255, 255, 255, 255);
	CHECK_EQ_INT(mip_downsample(src, 5, 1, dst), 0);
	CHECK_EQ_INT(dst[0], mip_linear_to_srgb(0.2f));
	CHECK_EQ_INT(dst[4], dst[0]);

	/* The same along y, on a 1x3 column. */
	fill(src, 3, 255, 255, 255, 255);
	fill(src + 8, 1, 0, 0, 0, 255);
	CHECK_EQ_INT(mip_downsample(src, 1, 3, dst), 0);
	CHECK_EQ_INT(dst[0], mip_linear_to_srgb(2.0f / 3.0f));
}

/* Colour is weighted by alpha: a transparent red pixel does not tint its
 * opaque blue neighbour; alpha itself is a plain average; a wholly
 * transparent footprint keeps its (plain) colour. */
static void test_alpha_weighting(void)
{
	uint8_t src[4 * 4], dst[2 * 4];
	fill(src, 1, 255, 0, 0, 0);
	fill(src + 4, 1, 0, 0, 255, 255);
	fill(src + 8, 2, 0, 255, 0, 0);
	CHECK_EQ_INT(mip_downsample(src, 4, 1, dst), 0);
	CHECK_EQ_INT(dst[0], 0);
	CHECK_EQ_INT(dst[2], 255);
	CHECK_EQ_INT(dst[3], 128);
	CHECK_EQ_INT(dst[4 + 1], 255);
	CHECK_EQ_INT(dst[4 + 3], 0);
}

/* A checkerboard of black and white averages to linear grey at every
 * level, and a 1x1 image stays as it is. */
static void test_chain(void)
{
	uint32_t w = 64, h = 48;
	uint8_t *src = malloc((size_t)w * h * 4), *dst = malloc((size_t)w * h * 4);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			uint8_t v = ((x ^ y) & 1) ? 255 : 0;
			fill(src + ((size_t)y * w + x) * 4, 1, v, v, v, 255);
		}
	CHECK_EQ_INT(mip_downsample(src, w, h, dst), 0);
	int ok = 1;
	for (size_t i = 0; i < (size_t)32 * 24; i++)
		if (dst[i * 4] != 188)
			ok = 0;
	CHECK(ok);

	uint8_t one[4] = {1, 2, 3, 4}, out[4];
	CHECK_EQ_INT(mip_downsample(one, 1, 1, out), 0);
	CHECK(memcmp(one, out, 4) == 0);
	free(src);
	free(dst);
}

int main(void)
{
	test_counts();
	test_srgb();
	test_uniform();
	test_linear_average();
	test_odd_weights();
	test_alpha_weighting();
	test_chain();
	TEST_DONE();
}
