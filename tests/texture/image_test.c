/* image_test.c: decoding with stb_image. Valid PNG, BMP, TGA and JPEG
 * decode to the pixels written; empty, garbage, truncated, bit-flipped and
 * oversized files return an error with a reason and never crash (this test
 * also runs under ASan and UBSan); alpha detection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include "image.h"
#include "kerr.h"
#include "tex_fixtures.h"
#include "test.h"

typedef struct membuf {
	uint8_t *p;
	size_t n;
} membuf;

static void mb_put(void *ctx, void *data, int size)
{
	membuf *m = ctx;
	uint8_t *np = realloc(m->p, m->n + (size_t)size);
	if (!np)
		abort();
	memcpy(np + m->n, data, (size_t)size);
	m->p = np;
	m->n += (size_t)size;
}

/* JPEGs come from committed fixtures (made with ImageMagick): stb's JPEG
 * writer shifts negative values, which UBSan stops on. */
enum { F_PNG, F_BMP, F_TGA, F_JPG, F_PJPG, F_N };
static const char *const fname[F_N] = {"png", "bmp", "tga", "jpg", "progressive jpg"};

static membuf fixture(const char *name)
{
	char path[512];
	membuf m = {0};
	snprintf(path, sizeof(path), "%s/%s", TEXTURE_TEST_DATA, name);
	m.p = fx_read(path, &m.n);
	if (!m.p) {
		fprintf(stderr, "cannot read fixture %s\n", path);
		abort();
	}
	return m;
}

/* Encodes px (RGBA8) in one of the lossless formats, or returns a JPEG
 * fixture. */
static membuf encode(int f, const uint8_t *px, int w, int h)
{
	membuf m = {0};
	switch (f) {
	case F_PNG:
		stbi_write_png_to_func(mb_put, &m, w, h, 4, px, w * 4);
		break;
	case F_BMP:
		stbi_write_bmp_to_func(mb_put, &m, w, h, 4, px);
		break;
	case F_TGA:
		stbi_write_tga_to_func(mb_put, &m, w, h, 4, px);
		break;
	case F_JPG:
		return fixture("natural.jpg");
	case F_PJPG:
		return fixture("progressive.jpg");
	}
	return m;
}

static void test_valid(void)
{
	const int w = 23, h = 17;
	uint8_t *px = fx_natural(w, h, 4, 1, 7);
	img_image im;
	char err[256];

	for (int f = 0; f < F_N; f++) {
		membuf m = encode(f, px, w, h);
		bool jpeg = f == F_JPG || f == F_PJPG;
		CHECK(m.n > 0);
		int rc = img_load_memory(m.p, m.n, &im, err, sizeof(err));
		CHECK_EQ_INT(rc, 0);
		if (rc == 0 && jpeg) {
			CHECK_EQ_INT(im.w, 24);
			CHECK_EQ_INT(im.h, 20);
			CHECK_EQ_INT(im.channels, 3);
			CHECK(!img_has_alpha(im.px, (size_t)im.w * im.h));
		} else if (rc == 0) {
			/* Lossless formats with alpha come back exactly. */
			CHECK_EQ_INT(im.w, w);
			CHECK_EQ_INT(im.h, h);
			CHECK_EQ_INT(im.channels, 4);
			CHECK(memcmp(px, im.px, (size_t)w * h * 4) == 0);
			CHECK(img_has_alpha(im.px, (size_t)w * h));
		} else {
			fprintf(stderr, "%s: %s\n", fname[f], err);
		}
		img_free(&im);
		CHECK(im.px == NULL);
		free(m.p);
	}

	/* Grey becomes RGBA with opaque alpha. */
	uint8_t grey[6] = {0, 50, 100, 150, 200, 250};
	membuf m = {0};
	stbi_write_png_to_func(mb_put, &m, 3, 2, 1, grey, 3);
	CHECK_EQ_INT(img_load_memory(m.p, m.n, &im, err, sizeof(err)), 0);
	CHECK_EQ_INT(im.channels, 1);
	CHECK(im.px && im.px[4 * 4] == 200 && im.px[4 * 4 + 2] == 200 && im.px[4 * 4 + 3] == 255);
	CHECK(im.px && !img_has_alpha(im.px, 6));
	img_free(&im);
	free(m.p);
	m = fixture("grey.jpg");
	CHECK_EQ_INT(img_load_memory(m.p, m.n, &im, err, sizeof(err)), 0);
	CHECK_EQ_INT(im.channels, 1);
	CHECK(im.px && im.w == 17 && im.h == 9 && im.px[40] == im.px[41] && im.px[41] == im.px[42]);
	img_free(&im);
	free(m.p);
	free(px);
}

static void test_empty_and_garbage(void)
{
	img_image im;
	char err[256], dir[256], path[300];
	uint8_t junk[4096];
	uint32_t seed = 42;

	CHECK_EQ_INT(img_load_memory((const uint8_t *)"", 0, &im, err, sizeof(err)), KILN_E_PROTO);
	CHECK(strstr(err, "empty") != NULL);
	CHECK(im.px == NULL);

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)fx_rand(&seed);
	err[0] = 0;
	CHECK(img_load_memory(junk, sizeof(junk), &im, err, sizeof(err)) < 0);
	CHECK(err[0] != 0);
	CHECK(im.px == NULL);

	/* A PNG signature followed by garbage. */
	memcpy(junk, "\x89PNG\r\n\x1a\n", 8);
	CHECK_EQ_INT(img_load_memory(junk, sizeof(junk), &im, err, sizeof(err)), KILN_E_PROTO);
	CHECK(strstr(err, "PNG") != NULL);

	/* Files: zero bytes, missing, a folder. */
	CHECK_EQ_INT(fx_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/zero.png", dir);
	CHECK_EQ_INT(fx_write(path, "", 0), 0);
	CHECK_EQ_INT(img_load(path, &im, err, sizeof(err)), KILN_E_PROTO);
	CHECK(strstr(err, "empty") != NULL);
	snprintf(path, sizeof(path), "%s/missing.png", dir);
	CHECK_EQ_INT(img_load(path, &im, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK(img_load(dir, &im, err, sizeof(err)) < 0);
	path_rmtree(dir);
}

/* Every proper prefix of a valid file is refused: stb_image pads BMP, TGA
 * and JPEG data with zeros past the end, and image.c notices. */
static void test_truncated(void)
{
	const int w = 19, h = 11;
	uint8_t *px = fx_natural(w, h, 4, 1, 3);
	img_image im;
	char err[256];

	for (int f = 0; f < F_N; f++) {
		membuf m = encode(f, px, w, h);
		size_t accepted = 0;
		for (size_t len = 0; len < m.n; len++) {
			uint8_t *copy = malloc(len ? len : 1);
			memcpy(copy, m.p, len);
			int rc = img_load_memory(copy, len, &im, err, sizeof(err));
			if (rc == 0) {
				accepted++;
				fprintf(stderr, "%s prefix of %zu/%zu bytes accepted\n", fname[f], len, m.n);
			}
			img_free(&im);
			free(copy);
		}
		CHECK_EQ_INT(accepted, 0);
		/* The reason for a cut in the pixel data. */
		img_load_memory(m.p, m.n - 1, &im, err, sizeof(err));
		printf("%s cut by one byte: %s\n", fname[f], err);
		free(m.p);
	}
	free(px);
}

/* Random byte flips: each result is an image of the right size or an error
 * with a reason; under ASan this is a small fuzz run of the decoders. */
static void test_bitflips(void)
{
	const int w = 24, h = 20;
	uint8_t *px = fx_natural(w, h, 8, 1, 11);
	uint32_t seed = 2024;
	int bad = 0;

	for (int f = 0; f < F_N; f++) {
		membuf m = encode(f, px, w, h);
		for (int round = 0; round < 300; round++) {
			uint8_t *copy = malloc(m.n);
			memcpy(copy, m.p, m.n);
			int flips = 1 + (int)(fx_rand(&seed) % 4);
			for (int k = 0; k < flips; k++)
				copy[fx_rand(&seed) % m.n] ^= (uint8_t)(1u << (fx_rand(&seed) % 8));
			img_image im;
			char err[256] = "";
			int rc = img_load_memory(copy, m.n, &im, err, sizeof(err));
			if (rc == 0 && (!im.px || im.w == 0 || im.h == 0))
				bad++;
			if (rc != 0 && (err[0] == 0 || im.px))
				bad++;
			img_free(&im);
			free(copy);
		}
		free(m.p);
	}
	CHECK_EQ_INT(bad, 0);
	free(px);
}

/* Headers that claim huge images are refused before any pixel memory. */
static void test_too_large(void)
{
	img_image im;
	char err[256];

	/* PNG: signature and an IHDR of 20000 x 20000 (stb_image does not
	 * check CRCs). */
	uint8_t png[33] = {0x89, 'P',  'N',  'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0,
	                   0,    0x4e, 0x20, 0,   0,    0x4e, 0x20, 8,    6, 0, 0, 0,  0,   0,   0,   0};
	CHECK_EQ_INT(img_load_memory(png, sizeof(png), &im, err, sizeof(err)), KILN_E_TOOBIG);
	CHECK(strstr(err, "16384") != NULL);

	/* TGA: 18-byte header, uncompressed true colour, 16385 x 2. */
	uint8_t tga[18 + 16] = {0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x40, 2, 0, 32, 8};
	CHECK_EQ_INT(img_load_memory(tga, sizeof(tga), &im, err, sizeof(err)), KILN_E_TOOBIG);
	CHECK(strstr(err, "16385x2") != NULL);
	CHECK(im.px == NULL);

	/* BMP: 9000 x 9000 is within the side limit but the file holds no
	 * pixels: refused as truncated, not decoded as zeros. */
	membuf m = {0};
	uint8_t one[4] = {1, 2, 3, 255};
	stbi_write_bmp_to_func(mb_put, &m, 1, 1, 4, one);
	m.p[18] = 0x28; /* width 9000 = 0x2328 */
	m.p[19] = 0x23;
	m.p[22] = 0x28;
	m.p[23] = 0x23;
	CHECK(img_load_memory(m.p, m.n, &im, err, sizeof(err)) < 0);
	CHECK(im.px == NULL);
	free(m.p);
}

static void test_has_alpha(void)
{
	uint8_t px[3 * 4] = {1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255};
	CHECK(!img_has_alpha(px, 3));
	px[11] = 254;
	CHECK(img_has_alpha(px, 3));
	CHECK(!img_has_alpha(px, 2));
	px[3] = 0;
	CHECK(img_has_alpha(px, 1));
	CHECK(!img_has_alpha(px, 0));
}

int main(void)
{
	test_valid();
	test_empty_and_garbage();
	test_truncated();
	test_bitflips();
	test_too_large();
	test_has_alpha();
	TEST_DONE();
}
