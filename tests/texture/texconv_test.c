/* texconv_test.c: whole conversions to files: the header and the file size
 * agree for BC1, BC3 and RGBA8 at odd sizes, 1x1 and 1xN; every mip level
 * has its size and sane content; mip 0 stays within the PSNR bound (BC) or
 * is exact (RGBA8); the format follows alpha; failures leave no file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>

#include "bc.h"
#include "dds.h"
#include "kerr.h"
#include "mip.h"
#include "tex_fixtures.h"
#include "texconv.h"
#include "test.h"

#define MIN_PSNR 33.0 /* README.md's bound for generated images */

static char dir[256];

/* Decodes level `level` of a DDS file image into RGBA8 (malloc'd). */
static uint8_t *decode_level(const uint8_t *file, const dds_info *info, uint32_t level, uint32_t *lw,
                             uint32_t *lh)
{
	size_t off = DDS_HEADER_SIZE;
	uint32_t w = info->width, h = info->height;
	for (uint32_t i = 0; i < level; i++) {
		off += dds_level_size(info->format, w, h);
		w = mip_next(w);
		h = mip_next(h);
	}
	uint8_t *px = malloc((size_t)w * h * 4);
	if (info->format == DDS_RGBA8) {
		for (size_t i = 0; i < (size_t)w * h; i++) {
			const uint8_t *p = file + off + i * 4;
			px[i * 4 + 0] = p[2];
			px[i * 4 + 1] = p[1];
			px[i * 4 + 2] = p[0];
			px[i * 4 + 3] = p[3];
		}
	} else {
		bc_decode_level(info->format, file + off, w, h, px);
	}
	*lw = w;
	*lh = h;
	return px;
}

/* Writes px as a PNG, converts it, and checks everything about the DDS. */
static void convert_and_check(uint32_t w, uint32_t h, int alpha, texconv_mode mode)
{
	char src[300], dst[300], err[256];
	uint8_t *px = fx_natural(w, h, 6, alpha, w * 31 + h);
	texconv_info ti;
	dds_info di;
	size_t len = 0;
	bool input_error = true;

	snprintf(src, sizeof(src), "%s/src_%ux%u_%d.png", dir, w, h, alpha);
	snprintf(dst, sizeof(dst), "%s/out/%ux%u_%d_%d.dds", dir, w, h, alpha, (int)mode);
	CHECK(stbi_write_png(src, (int)w, (int)h, 4, px, (int)w * 4) != 0);
	int rc = texconv_file(src, dst, mode, &ti, &input_error, err, sizeof(err));
	CHECK_EQ_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "%ux%u: %s\n", w, h, err);
		free(px);
		return;
	}
	CHECK(!input_error);
	dds_format want = mode == TEXCONV_RGBA8 ? DDS_RGBA8 : alpha ? DDS_BC3 : DDS_BC1;
	CHECK_EQ_INT(ti.format, want);
	CHECK_EQ_INT(ti.has_alpha, alpha != 0);
	CHECK_EQ_INT(ti.mips, mip_count(w, h));

	uint8_t *file = fx_read(dst, &len);
	CHECK(file != NULL);
	CHECK_EQ_INT(len, ti.dds_bytes);
	CHECK_EQ_INT(len, dds_file_size(want, w, h, mip_count(w, h)));
	CHECK_EQ_INT(dds_parse_header(file, len, &di, err, sizeof(err)), 0);
	CHECK_EQ_INT(di.format, want);
	CHECK_EQ_INT(di.width, w);
	CHECK_EQ_INT(di.height, h);
	CHECK_EQ_INT(di.mips, ti.mips);

	uint32_t lw, lh;
	uint8_t *l0 = decode_level(file, &di, 0, &lw, &lh);
	double p = fx_psnr(px, l0, w, h, want == DDS_BC1 ? 3 : 4);
	if (want == DDS_RGBA8)
		CHECK(p == INFINITY);
	else if ((uint64_t)w * h >= 32)
		CHECK(p >= MIN_PSNR);
	else
		/* An image of one or two blocks spans the whole generated
		 * gradient, four corner colours that no BC block (two
		 * endpoints on a line) can hold: not a natural image. */
		CHECK(p >= 12.0);
	if (want != DDS_RGBA8 && p < MIN_PSNR)
		fprintf(stderr, "%ux%u alpha %d: PSNR %.2f dB\n", w, h, alpha, p);
	free(l0);

	/* The last level is 1x1 and its colour is near the image's mean
	 * (the mean in sRGB is not the mean in light, so allow a margin). */
	uint8_t *last = decode_level(file, &di, di.mips - 1, &lw, &lh);
	CHECK(lw == 1 && lh == 1);
	double mean = 0;
	for (size_t i = 0; i < (size_t)w * h; i++)
		mean += px[i * 4 + 1];
	mean /= (double)w * h;
	CHECK(abs((int)last[1] - (int)(mean + 0.5)) <= 24);
	free(last);
	free(file);
	free(px);
}

static void test_sizes(void)
{
	static const uint32_t sizes[][2] = {{1, 1},  {2, 2},   {3, 5},   {1, 37},
	                                    {37, 1}, {37, 19}, {64, 64}, {129, 67}};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int alpha = 0; alpha < 3; alpha++)
			for (int mode = 0; mode < 2; mode++)
				convert_and_check(sizes[s][0], sizes[s][1], alpha, (texconv_mode)mode);
}

/* An opaque image with an alpha channel (all 255) is still BC1. */
static void test_opaque_rgba(void)
{
	char src[300], dst[300], err[256];
	texconv_info ti;
	uint8_t *px = fx_natural(16, 16, 0, 0, 5);
	snprintf(src, sizeof(src), "%s/opaque_rgba.tga", dir);
	snprintf(dst, sizeof(dst), "%s/opaque_rgba.dds", dir);
	CHECK(stbi_write_tga(src, 16, 16, 4, px) != 0);
	CHECK_EQ_INT(texconv_file(src, dst, TEXCONV_BC, &ti, NULL, err, sizeof(err)), 0);
	CHECK_EQ_INT(ti.format, DDS_BC1);
	CHECK(!ti.has_alpha);
	free(px);
}

static void test_failures(void)
{
	char src[300], dst[300], err[256];
	texconv_info ti;
	bool input_error = false;
	struct stat st;

	snprintf(src, sizeof(src), "%s/bad.png", dir);
	snprintf(dst, sizeof(dst), "%s/bad.dds", dir);
	CHECK_EQ_INT(fx_write(src, "\x89PNG\r\n\x1a\nnot really", 18), 0);
	CHECK_EQ_INT(texconv_file(src, dst, TEXCONV_BC, &ti, &input_error, err, sizeof(err)), KILN_E_PROTO);
	CHECK(input_error);
	CHECK(strstr(err, "PNG") != NULL);
	CHECK(stat(dst, &st) != 0 && errno == ENOENT);

	/* A destination that cannot be created is a write failure. */
	uint8_t px[4] = {1, 2, 3, 255};
	snprintf(src, sizeof(src), "%s/ok.bmp", dir);
	CHECK(stbi_write_bmp(src, 1, 1, 4, px) != 0);
	snprintf(dst, sizeof(dst), "%s/ok.bmp/sub.dds", dir);
	CHECK(texconv_file(src, dst, TEXCONV_BC, &ti, &input_error, err, sizeof(err)) < 0);
	CHECK(!input_error);
	CHECK(strstr(err, "cannot create") != NULL);

	CHECK_EQ_INT(texconv_mode_parse("bc", &(texconv_mode){0}), 0);
	CHECK_EQ_INT(texconv_mode_parse("rgba8", &(texconv_mode){0}), 0);
	CHECK_EQ_INT(texconv_mode_parse("BC", &(texconv_mode){0}), KILN_E_PROTO);
	CHECK_EQ_INT(texconv_mode_parse(NULL, &(texconv_mode){0}), KILN_E_PROTO);
}

/* Wide and tall extremes, up to the side limit: 16384x32 has 15 levels. */
static void test_extremes(void)
{
	convert_and_check(4096, 2, 1, TEXCONV_BC);
	convert_and_check(2, 4096, 0, TEXCONV_BC);
	convert_and_check(16384, 32, 0, TEXCONV_BC);
	convert_and_check(3, 16384, 1, TEXCONV_RGBA8);
}

/* A source folder that does not exist yet is created; one that cannot be
 * (a file in the way) is a clear error. */
static void test_folders(void)
{
	char dst[300], err[256];
	texconv_info ti;
	uint8_t px[2 * 2 * 4] = {0};
	struct stat st;

	snprintf(dst, sizeof(dst), "%s/a/b/c/t.dds", dir);
	CHECK_EQ_INT(texconv_write(px, 2, 2, TEXCONV_BC, dst, &ti, err, sizeof(err)), 0);
	CHECK(stat(dst, &st) == 0 && (uint64_t)st.st_size == ti.dds_bytes);
	CHECK_EQ_INT(ti.format, DDS_BC3); /* alpha 0 everywhere */
	snprintf(dst, sizeof(dst), "%s/a/b/c/t.dds/d/u.dds", dir);
	CHECK(texconv_write(px, 2, 2, TEXCONV_BC, dst, &ti, err, sizeof(err)) < 0);
	CHECK(strstr(err, "cannot create") != NULL);
}

int main(void)
{
	if (fx_tmpdir(dir, sizeof(dir)) != 0) {
		perror("mkdtemp");
		return 1;
	}
	test_sizes();
	test_opaque_rgba();
	test_failures();
	test_extremes();
	test_folders();
	path_rmtree(dir);
	TEST_DONE();
}
