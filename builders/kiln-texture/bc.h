/* bc.h: BC1 (DXT1) and BC3 (DXT5) block compression with stb_dxt, and a
 * decoder for both, used by the tests and by the PSNR measurement.
 *
 * Images are RGBA8, rows packed (stride w * 4). A level is encoded one row
 * of 4x4 blocks at a time so that the builder can stream blocks to the file
 * without holding the whole compressed level. Partial edge blocks are padded
 * by clamping to the last column and row, which keeps the padding out of the
 * block's colour endpoints. */
#ifndef KILN_TEX_BC_H
#define KILN_TEX_BC_H

#include <stdint.h>

#include "dds.h"

/* Bytes per 4x4 block: 8 for BC1, 16 for BC3. f must be DDS_BC1 or DDS_BC3. */
uint32_t bc_block_bytes(dds_format f);

/* Encodes block row `by` (pixel rows 4*by .. 4*by+3, clamped to h) of a w x h
 * RGBA8 image into out, which holds (w + 3) / 4 blocks. BC1 ignores alpha;
 * BC3 keeps it. Uses stb_dxt's high-quality mode. */
void bc_encode_block_row(dds_format f, const uint8_t *rgba, uint32_t w, uint32_t h, uint32_t by,
                         uint8_t *out);

/* Decodes one block into 16 RGBA8 pixels (row-major). BC1 blocks in
 * three-colour mode decode their fourth index as transparent black, as the
 * format says; BC3's colour block is always four-colour. */
void bc_decode_block(dds_format f, const uint8_t *block, uint8_t out[64]);

/* Decodes a whole w x h level (dds_level_size bytes) into rgba (w * h * 4
 * bytes, caller-owned). */
void bc_decode_level(dds_format f, const uint8_t *blocks, uint32_t w, uint32_t h, uint8_t *rgba);

#endif
