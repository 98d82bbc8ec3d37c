/* stbi_impl.c: the one translation unit that compiles stb_image, limited to
 * the four formats kiln-texture reads (fewer decoders, less attack surface
 * for untrusted files) and to the size limit of image.h. Kept apart from
 * image.c so that the third-party code could get its own warning flags if a
 * compiler ever needs them; with gcc 12 it builds clean under -Werror. */
#include "image.h"

#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_TGA
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#define STBI_MAX_DIMENSIONS IMG_MAX_SIDE
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
