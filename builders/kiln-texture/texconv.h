/* texconv.h: one source image to one DDS file with a full mip chain.
 *
 * Memory stays bounded by the source image plus its next level: level n+1
 * is made from level n, which is then freed, and compressed blocks are
 * written one block row at a time. */
#ifndef KILN_TEX_TEXCONV_H
#define KILN_TEX_TEXCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dds.h"

/* What the caller asks for: block compression (BC1, or BC3 when the image
 * has alpha) or uncompressed RGBA8. */
typedef enum texconv_mode { TEXCONV_BC = 0, TEXCONV_RGBA8 } texconv_mode;

/* Parses "bc" or "rgba8". Returns 0, or KILN_E_PROTO for anything else. */
int texconv_mode_parse(const char *s, texconv_mode *out);

typedef struct texconv_info {
	uint32_t width, height, mips;
	dds_format format;
	bool has_alpha;     /* some pixel's alpha is below 255 */
	uint64_t src_bytes; /* size of the source file */
	uint64_t dds_bytes; /* size of the written file */
} texconv_info;

/* Converts the image at src into a DDS file at dst (its folders are
 * created). On failure nothing is left at dst, err says why (without the
 * source path; the caller names the file), and the return is -errno, -ENOMEM,
 * KILN_E_TOOBIG (image over the limits) or KILN_E_PROTO (the decoder rejects
 * the file). *is_input_error (OUT, may be NULL) tells a bad source apart from
 * a failure to write. */
int texconv_file(const char *src, const char *dst, texconv_mode mode, texconv_info *info,
                 bool *is_input_error, char *err, size_t errsz);

/* Writes an RGBA8 image (w x h, caller-owned) as a DDS with a full mip
 * chain: the second half of texconv_file, for callers with pixels in hand.
 * The format is picked the same way. */
int texconv_write(const uint8_t *rgba, uint32_t w, uint32_t h, texconv_mode mode, const char *dst,
                  texconv_info *info, char *err, size_t errsz);

#endif
