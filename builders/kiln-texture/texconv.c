/* texconv.c: the conversion pipeline (see texconv.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bc.h"
#include "image.h"
#include "kerr.h"
#include "mip.h"
#include "path.h"
#include "texconv.h"

int texconv_mode_parse(const char *s, texconv_mode *out)
{
	if (s && strcmp(s, "bc") == 0) {
		*out = TEXCONV_BC;
		return 0;
	}
	if (s && strcmp(s, "rgba8") == 0) {
		*out = TEXCONV_RGBA8;
		return 0;
	}
	return KILN_E_PROTO;
}

/* Writes one level: BC blocks a block row at a time, or RGBA8 rows turned
 * into the file's B, G, R, A order. buf holds a block row or a pixel row. */
static int write_level(FILE *f, dds_format fmt, const uint8_t *px, uint32_t w, uint32_t h, uint8_t *buf)
{
	if (fmt == DDS_RGBA8) {
		for (uint32_t y = 0; y < h; y++) {
			const uint8_t *row = px + (size_t)y * w * 4;
			for (uint32_t x = 0; x < w; x++) {
				buf[x * 4 + 0] = row[x * 4 + 2];
				buf[x * 4 + 1] = row[x * 4 + 1];
				buf[x * 4 + 2] = row[x * 4 + 0];
				buf[x * 4 + 3] = row[x * 4 + 3];
			}
			if (fwrite(buf, 4, w, f) != w)
				return errno ? -errno : -EIO;
		}
		return 0;
	}
	uint32_t bh = (h + 3) / 4;
	size_t rowbytes = (size_t)((w + 3) / 4) * bc_block_bytes(fmt);
	for (uint32_t by = 0; by < bh; by++) {
		bc_encode_block_row(fmt, px, w, h, by, buf);
		if (fwrite(buf, 1, rowbytes, f) != rowbytes)
			return errno ? -errno : -EIO;
	}
	return 0;
}

int texconv_write(const uint8_t *rgba, uint32_t w, uint32_t h, texconv_mode mode, const char *dst,
                  texconv_info *info, char *err, size_t errsz)
{
	uint8_t hdr[DDS_HEADER_SIZE];
	uint8_t *rowbuf = NULL, *level = NULL, *next = NULL;
	FILE *f = NULL;
	int rc = 0;

	memset(info, 0, sizeof(*info));
	info->width = w;
	info->height = h;
	info->mips = mip_count(w, h);
	info->has_alpha = img_has_alpha(rgba, (size_t)w * h);
	info->format = mode == TEXCONV_RGBA8 ? DDS_RGBA8 : info->has_alpha ? DDS_BC3 : DDS_BC1;
	info->dds_bytes = dds_file_size(info->format, w, h, info->mips);

	/* A block row of BC3 is 16 bytes per 4 pixels, an RGBA8 row 16 bytes
	 * per 4 pixels: one buffer of w rounded up to 4, times 4, fits both. */
	rowbuf = malloc(((size_t)w + 3) / 4 * 16);
	if (!rowbuf) {
		rc = -ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	f = fopen(dst, "wbe");
	if (!f && errno == ENOENT) {
		rc = path_mkdirs_for(dst, 0755);
		if (rc) {
			snprintf(err, errsz, "cannot create the folders of %s: %s", dst, strerror(-rc));
			goto fail;
		}
		f = fopen(dst, "wbe");
	}
	if (!f) {
		rc = -errno;
		snprintf(err, errsz, "cannot create %s: %s", dst, strerror(-rc));
		goto fail;
	}
	setvbuf(f, NULL, _IOFBF, 1u << 20);
	dds_write_header(hdr, info->format, w, h, info->mips);
	errno = 0;
	if (fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr)) {
		rc = errno ? -errno : -EIO;
		goto write_failed;
	}

	const uint8_t *cur = rgba;
	uint32_t cw = w, ch = h;
	for (uint32_t lv = 0; lv < info->mips; lv++) {
		errno = 0;
		rc = write_level(f, info->format, cur, cw, ch, rowbuf);
		if (rc)
			goto write_failed;
		if (lv + 1 == info->mips)
			break;
		uint32_t nw = mip_next(cw), nh = mip_next(ch);
		next = malloc((size_t)nw * nh * 4);
		if (!next || mip_downsample(cur, cw, ch, next) != 0) {
			rc = -ENOMEM;
			snprintf(err, errsz, "out of memory for mip level %u (%ux%u)", lv + 1, nw, nh);
			goto fail;
		}
		/* Level n is no longer needed once n + 1 exists: at most two
		 * levels besides the source are alive at a time. */
		free(level);
		level = next;
		next = NULL;
		cur = level;
		cw = nw;
		ch = nh;
	}
	errno = 0;
	if (fflush(f) != 0 || ferror(f)) {
		rc = errno ? -errno : -EIO;
		goto write_failed;
	}
	FILE *tmp = f;
	f = NULL;
	if (fclose(tmp) != 0) {
		rc = -errno;
		goto write_failed;
	}
	goto out;

write_failed:
	snprintf(err, errsz, "cannot write %s: %s", dst, strerror(-rc));
fail:
	if (f) {
		fclose(f);
		f = NULL;
	}
	unlink(dst);
out:
	free(rowbuf);
	free(level);
	free(next);
	return rc;
}

int texconv_file(const char *src, const char *dst, texconv_mode mode, texconv_info *info,
                 bool *is_input_error, char *err, size_t errsz)
{
	img_image im;
	struct stat st;
	int rc;

	memset(info, 0, sizeof(*info));
	if (is_input_error)
		*is_input_error = true;
	rc = img_load(src, &im, err, errsz);
	if (rc)
		return rc;
	if (is_input_error)
		*is_input_error = false;
	rc = texconv_write(im.px, im.w, im.h, mode, dst, info, err, errsz);
	if (rc == 0 && stat(src, &st) == 0)
		info->src_bytes = (uint64_t)st.st_size;
	img_free(&im);
	return rc;
}
