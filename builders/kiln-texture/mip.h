/* mip.h: mip chains. Each level halves the one above (floor, at least 1)
 * until 1x1, so a w x h texture has floor(log2(max(w, h))) + 1 levels.
 *
 * Levels are made with a box filter in linear light: sRGB bytes are decoded
 * to linear values, every destination pixel averages exactly the source area
 * it covers (so an odd width or height is filtered with fractional weights,
 * not by dropping the last column), colour is weighted by alpha so that
 * transparent pixels do not bleed their colour into visible ones, and the
 * result is encoded back to sRGB with exact rounding. */
#ifndef KILN_TEX_MIP_H
#define KILN_TEX_MIP_H

#include <stdint.h>

/* The number of levels of a w x h texture (w, h >= 1). */
uint32_t mip_count(uint32_t w, uint32_t h);

/* The size of one axis at the next level: n / 2, at least 1. */
uint32_t mip_next(uint32_t n);

/* The width and height of `level` (0 = the source size). OUT: *lw, *lh. */
void mip_level_size(uint32_t w, uint32_t h, uint32_t level, uint32_t *lw, uint32_t *lh);

/* Makes the next level of a sw x sh RGBA8 image into dst, which holds
 * mip_next(sw) * mip_next(sh) pixels (caller-owned). Returns 0 or -ENOMEM
 * (for the filter's small row buffers). */
int mip_downsample(const uint8_t *src, uint32_t sw, uint32_t sh, uint8_t *dst);

/* The sRGB transfer function as the filter uses it, for tests: a byte to a
 * linear value in [0, 1], and a linear value to the nearest byte. */
float mip_srgb_to_linear(uint8_t v);
uint8_t mip_linear_to_srgb(float l);

#endif
