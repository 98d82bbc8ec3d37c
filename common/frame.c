/* frame.c: the builder protocol's length-prefixed frames. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"
#include "kerr.h"

/* The incremental reader grows its buffer as payload arrives instead of
 * trusting the length prefix, so a peer that announces 64 MiB and sends a
 * few bytes pins only what it sent. */
#define FRAME_CHUNK (64u * 1024u)

void frame_put_len(uint8_t out[4], uint32_t len)
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

static uint32_t get_len(const uint8_t in[4])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | (uint32_t)in[3];
}

/* Reads exactly n bytes. *got (OUT) says how many arrived before an end of
 * stream. Returns 0 (all n read, or an end of stream: compare *got) or
 * -errno. */
static int read_full(int fd, uint8_t *p, size_t n, size_t *got)
{
	size_t have = 0;
	while (have < n) {
		ssize_t r = read(fd, p + have, n - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*got = have;
			return -errno;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	*got = have;
	return 0;
}

int frame_read_fd(int fd, uint8_t **buf, size_t *len)
{
	uint8_t hdr[4];
	uint8_t *p = NULL;
	size_t got = 0;
	int rc;

	*buf = NULL;
	*len = 0;
	rc = read_full(fd, hdr, sizeof(hdr), &got);
	if (rc < 0)
		return rc;
	if (got == 0)
		return KILN_E_EOF;
	if (got < sizeof(hdr))
		return KILN_E_TRUNC;
	uint32_t n = get_len(hdr);
	if (n > FRAME_MAX)
		return KILN_E_TOOBIG;
	p = malloc(n ? n : 1);
	if (!p)
		return -ENOMEM;
	rc = read_full(fd, p, n, &got);
	if (rc < 0)
		goto fail;
	if (got < n) {
		rc = KILN_E_TRUNC;
		goto fail;
	}
	*buf = p;
	*len = n;
	return 0;
fail:
	free(p);
	return rc;
}

int frame_write_fd(int fd, const void *payload, size_t len)
{
	uint8_t hdr[4];
	if (len > FRAME_MAX)
		return KILN_E_TOOBIG;
	frame_put_len(hdr, (uint32_t)len);

	/* One writev for header and payload: a frame is usually written by a
	 * single system call, so a reader never sees a header without its
	 * payload for long. */
	struct iovec iov[2] = {
	    {.iov_base = hdr, .iov_len = sizeof(hdr)},
	    {.iov_base = (void *)payload, .iov_len = len},
	};
	int idx = 0, cnt = len ? 2 : 1;
	while (idx < cnt) {
		ssize_t w = writev(fd, iov + idx, cnt - idx);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		size_t left = (size_t)w;
		while (idx < cnt && left >= iov[idx].iov_len) {
			left -= iov[idx].iov_len;
			idx++;
		}
		if (idx < cnt) {
			iov[idx].iov_base = (char *)iov[idx].iov_base + left;
			iov[idx].iov_len -= left;
		}
	}
	return 0;
}

void frame_reader_init(frame_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void frame_reader_free(frame_reader *r)
{
	free(r->buf);
	frame_reader_init(r);
}

int frame_reader_partial(const frame_reader *r)
{
	return r->hdr_have > 0;
}

/* The buffer capacity the reader holds for `have` payload bytes: a
 * function of `have` alone, so the struct needs no capacity field. */
static size_t reader_cap(const frame_reader *r, size_t have)
{
	size_t cap = FRAME_CHUNK;
	while (cap < have)
		cap *= 2;
	return cap < r->len ? cap : r->len;
}

int frame_reader_feed(frame_reader *r, const uint8_t *data, size_t n, size_t *consumed, uint8_t **frame,
                      size_t *frame_len)
{
	size_t used = 0;

	*consumed = 0;
	*frame = NULL;
	*frame_len = 0;
	if (r->hdr_have == sizeof(r->hdr) && r->len > FRAME_MAX)
		return KILN_E_TOOBIG;

	while (r->hdr_have < sizeof(r->hdr) && used < n)
		r->hdr[r->hdr_have++] = data[used++];
	if (r->hdr_have < sizeof(r->hdr)) {
		*consumed = used;
		return 0;
	}
	if (r->have == 0 && !r->buf) {
		r->len = get_len(r->hdr);
		if (r->len > FRAME_MAX) {
			*consumed = used;
			return KILN_E_TOOBIG;
		}
	}

	size_t take = n - used;
	if (take > r->len - r->have)
		take = r->len - r->have;
	size_t want = reader_cap(r, (size_t)r->have + take);
	if (!r->buf || want > reader_cap(r, r->have)) {
		uint8_t *nb = realloc(r->buf, want ? want : 1);
		if (!nb) {
			*consumed = used;
			return -ENOMEM;
		}
		r->buf = nb;
	}
	if (take) {
		memcpy(r->buf + r->have, data + used, take);
		r->have += (uint32_t)take;
		used += take;
	}
	*consumed = used;
	if (r->have == r->len) {
		*frame = r->buf;
		*frame_len = r->len;
		r->buf = NULL;
		frame_reader_init(r);
	}
	return 0;
}
