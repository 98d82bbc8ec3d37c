/* stbi_impl.h: what stbi_impl.c adds to stb_image. stb_image does not say
 * when it failed for want of memory (its zlib decoder returns without
 * setting a reason, leaving the reason of an earlier format probe, such as
 * "Corrupt JPEG" for a PNG), so its allocations go through wrappers that
 * remember a failure. Single-threaded, like the builder. */
#ifndef KILN_TEX_STBI_IMPL_H
#define KILN_TEX_STBI_IMPL_H

#include <stdbool.h>

/* Forgets earlier allocation failures. */
void stbi_impl_reset_oom(void);

/* True when an allocation by stb_image failed since the last reset. */
bool stbi_impl_oom(void);

#endif
