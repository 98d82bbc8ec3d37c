/* image.c: source image decoding (see image.h). stb_image itself is
 * compiled in stbi_impl.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "kerr.h"
#include "stbi_impl.h"

#define STBI_NO_STDIO
#include <stb/stb_image.h>

/* stb_image reads through these callbacks so that a read past the end of
 * the data is seen: stb_image answers it with zero bytes and carries on,
 * which turns a truncated file into an image with a black or grey tail. */
typedef struct reader {
	const uint8_t *buf;
	size_t len, pos;
	bool past_end;
} reader;

static int rd_read(void *user, char *data, int size)
{
	reader *r = user;
	size_t left = r->len - r->pos, n = size > 0 ? (size_t)size : 0;
	if (n > left)
		n = left;
	if (n == 0 && size > 0)
		r->past_end = true;
	memcpy(data, r->buf + r->pos, n);
	r->pos += n;
	return (int)n;
}

static void rd_skip(void *user, int n)
{
	reader *r = user;
	if (n < 0) {
		r->pos = (size_t)-n > r->pos ? 0 : r->pos - (size_t)-n;
	} else if ((size_t)n > r->len - r->pos) {
		r->pos = r->len;
		r->past_end = true;
	} else {
		r->pos += (size_t)n;
	}
}

static int rd_eof(void *user)
{
	reader *r = user;
	return r->pos >= r->len;
}

static const stbi_io_callbacks rd_io = {rd_read, rd_skip, rd_eof};

static const char *failure(void)
{
	const char *why = stbi_failure_reason();
	return why ? why : "the decoder gave no reason";
}

/* Checks a size from a header against the limits. Returns 0 or
 * KILN_E_PROTO / KILN_E_TOOBIG with err set. */
static int check_size(int w, int h, char *err, size_t errsz)
{
	if (w <= 0 || h <= 0) {
		snprintf(err, errsz, "the header says %dx%d pixels", w, h);
		return KILN_E_PROTO;
	}
	if ((uint32_t)w > IMG_MAX_SIDE || (uint32_t)h > IMG_MAX_SIDE ||
	    (uint64_t)w * (uint64_t)h > IMG_MAX_PIXELS) {
		snprintf(err, errsz, "%dx%d pixels is over the limit of %u per side and %u Mpixels", w, h,
		         IMG_MAX_SIDE, IMG_MAX_PIXELS / (1024u * 1024u));
		return KILN_E_TOOBIG;
	}
	return 0;
}

#define TRUNCATED "the file ends before the image does (truncated?)"

int img_load_memory(const uint8_t *buf, size_t len, img_image *out, char *err, size_t errsz)
{
	reader r = {.buf = buf, .len = len};
	uint8_t *px = NULL;
	int w = 0, h = 0, comp = 0, lw = 0, lh = 0, rc;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		snprintf(err, errsz, "the file is empty");
		return KILN_E_PROTO;
	}
	/* The size comes first, so that a header asking for more than the
	 * limits is refused before the decoder allocates for it. */
	bool header_ok = stbi_info_from_callbacks(&rd_io, &r, &w, &h, &comp) != 0;
	if (header_ok && (rc = check_size(w, h, err, errsz)) != 0)
		return rc;

	/* When stbi_info fails the loader still runs: stbi_info tries every
	 * format and reports only "unknown type", while the loader stops at
	 * the same bad header with the reason of the format that the file
	 * claims to be. Its own STBI_MAX_DIMENSIONS check (set to our side
	 * limit) bounds what it could allocate. */
	r.pos = 0;
	r.past_end = false;
	stbi_impl_reset_oom();
	px = stbi_load_from_callbacks(&rd_io, &r, &lw, &lh, &comp, 4);
	if (!px) {
		if (stbi_impl_oom()) {
			if (header_ok)
				snprintf(err, errsz, "out of memory decoding %dx%d pixels (raise memory_mb?)",
				         w, h);
			else
				snprintf(err, errsz, "out of memory decoding it (raise memory_mb?)");
			return -ENOMEM;
		}
		if (r.past_end) {
			snprintf(err, errsz, TRUNCATED);
			return KILN_E_PROTO;
		}
		/* PNG and JPEG headers check STBI_MAX_DIMENSIONS inside
		 * stb_image; say which limit that is. */
		if (strcmp(failure(), "Very large image (corrupt?)") == 0) {
			snprintf(err, errsz, "over the limit of %u pixels per side (or a corrupt header)",
			         IMG_MAX_SIDE);
			return KILN_E_TOOBIG;
		}
		snprintf(err, errsz, "%s", failure());
		return KILN_E_PROTO;
	}
	if (r.past_end) {
		rc = KILN_E_PROTO;
		snprintf(err, errsz, TRUNCATED);
		goto fail;
	}
	if (header_ok && (lw != w || lh != h)) {
		/* The header said one size and the decoder made another; trust
		 * neither. */
		rc = KILN_E_PROTO;
		snprintf(err, errsz, "the header says %dx%d but the image decodes as %dx%d", w, h, lw, lh);
		goto fail;
	}
	if (!header_ok && (rc = check_size(lw, lh, err, errsz)) != 0)
		goto fail;
	out->px = px;
	out->w = (uint32_t)lw;
	out->h = (uint32_t)lh;
	out->channels = comp;
	return 0;
fail:
	stbi_image_free(px);
	return rc;
}

int img_load(const char *path, img_image *out, char *err, size_t errsz)
{
	uint8_t *buf = NULL;
	int fd = -1, rc = 0;
	struct stat st;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errsz, "cannot read it: %s", strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errsz, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > IMG_MAX_FILE) {
		rc = KILN_E_TOOBIG;
		snprintf(err, errsz, "%lld bytes is over the limit of %u MiB for a source image",
		         (long long)st.st_size, IMG_MAX_FILE / (1024u * 1024u));
		goto out;
	}
	size_t len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf) {
		rc = -ENOMEM;
		snprintf(err, errsz, "out of memory reading %zu bytes", len);
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = read(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errsz, "cannot read it: %s", strerror(-rc));
			goto out;
		}
		if (n == 0) {
			/* The file shrank under us; decode what is there. */
			len = off;
			break;
		}
		off += (size_t)n;
	}
	rc = img_load_memory(buf, len, out, err, errsz);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

void img_free(img_image *im)
{
	if (im->px)
		stbi_image_free(im->px);
	memset(im, 0, sizeof(*im));
}

bool img_has_alpha(const uint8_t *rgba, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rgba[i * 4 + 3] != 255)
			return true;
	return false;
}
