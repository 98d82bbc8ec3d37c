/* image.h: decoding source images (PNG, JPEG, TGA, BMP) with stb_image.
 *
 * Source files are untrusted: the size is read from the header first and an
 * image over the limits below is refused before any pixel memory is taken; a
 * file that the decoder has to read past the end of (a truncated BMP, TGA or
 * JPEG, which stb_image would otherwise pad with zeros) is refused too. */
#ifndef KILN_TEX_IMAGE_H
#define KILN_TEX_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMG_MAX_SIDE   16384u                  /* pixels on either axis */
#define IMG_MAX_PIXELS (256u * 1024u * 1024u)  /* width * height */
#define IMG_MAX_FILE   (1024u * 1024u * 1024u) /* bytes of a source file */

typedef struct img_image {
	uint8_t *px; /* RGBA8, rows packed; malloc'd: release with img_free */
	uint32_t w, h;
	int channels; /* in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
} img_image;

/* Decodes the image in the file at path into out (always RGBA8). On failure
 * out is left empty and err holds the reason, without the path (for
 * example "Corrupt PNG", "the file ends before the image does", "7000x40000
 * pixels is over the limit of 16384 per side"). Returns 0, -errno for a file
 * that cannot be read, KILN_E_TOOBIG for an image over the limits,
 * -ENOMEM when the decoder ran out of memory, or KILN_E_PROTO for data the
 * decoder rejects. */
int img_load(const char *path, img_image *out, char *err, size_t errsz);

/* The same for an image already in memory. */
int img_load_memory(const uint8_t *buf, size_t len, img_image *out, char *err, size_t errsz);

/* Frees out->px and empties out. Safe on an empty image. */
void img_free(img_image *im);

/* True when any of the n pixels has alpha below 255. */
bool img_has_alpha(const uint8_t *rgba, size_t n);

#endif
