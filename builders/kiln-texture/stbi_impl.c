/* stbi_impl.c: the one translation unit that compiles stb_image, limited to
 * the four formats kiln-texture reads (fewer decoders, less attack surface
 * for untrusted files) and to the size limit of image.h, with allocations
 * that report failure (see stbi_impl.h). Kept apart from image.c so that the
 * third-party code could get its own warning flags if a compiler ever needs
 * them; with gcc 12 it builds clean under -Werror. */
#include <stdlib.h>

#include "image.h"
#include "stbi_impl.h"

static bool oom;

void stbi_impl_reset_oom(void)
{
	oom = false;
}

bool stbi_impl_oom(void)
{
	return oom;
}

static void *impl_malloc(size_t n)
{
	void *p = malloc(n);
	if (!p && n)
		oom = true;
	return p;
}

static void *impl_realloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q && n)
		oom = true;
	return q;
}

#define STBI_MALLOC(n)     impl_malloc(n)
#define STBI_REALLOC(p, n) impl_realloc(p, n)
#define STBI_FREE(p)       free(p)

#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_TGA
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#define STBI_MAX_DIMENSIONS IMG_MAX_SIDE
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
