/* frame.h: the builder protocol's framing (SPEC section 5).
 *
 * A frame is a 4-byte big-endian length followed by that many bytes, which must
 * hold exactly one MessagePack map. A length over FRAME_MAX is a protocol error
 * that is reported as soon as the 4 length bytes are in, before any payload is
 * read or allocated. */
#ifndef KILN_FRAME_H
#define KILN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX (64u * 1024u * 1024u)

/* Blocking read of one frame from fd. On success *buf (OUT) is malloc'd and
 * belongs to the caller, *len (OUT) is its size. Returns 0, KILN_E_EOF when the
 * stream ends before any byte, KILN_E_TRUNC when it ends inside a frame,
 * KILN_E_TOOBIG for a length over FRAME_MAX, or -errno. EINTR is retried. */
int frame_read_fd(int fd, uint8_t **buf, size_t *len);

/* Blocking write of one frame (length prefix and payload). The payload stays
 * the caller's. Returns 0, KILN_E_TOOBIG or -errno. EINTR is retried. */
int frame_write_fd(int fd, const void *payload, size_t len);

/* Incremental reader for non-blocking descriptors: feed it whatever read()
 * returned, take complete frames out. */
typedef struct frame_reader {
	uint8_t hdr[4];
	size_t hdr_have;
	uint8_t *buf;  /* payload being filled; owned by the reader */
	uint32_t len;  /* payload length once the header is in */
	uint32_t have; /* payload bytes received */
} frame_reader;

void frame_reader_init(frame_reader *r);

/* Consumes bytes from data[0..n). Stops after one complete frame. *consumed
 * (OUT) says how many bytes were used; feed the rest again. When a frame is
 * complete, *frame (OUT) is set to a malloc'd payload that belongs to the
 * caller and *frame_len (OUT) to its length; otherwise *frame is NULL.
 * Returns 0, or KILN_E_TOOBIG for an over-long length (the reader is then
 * unusable until frame_reader_init again), or -ENOMEM. */
int frame_reader_feed(frame_reader *r, const uint8_t *data, size_t n, size_t *consumed,
		      uint8_t **frame, size_t *frame_len);

/* True when the reader holds a partial frame (bytes of a header or payload). */
int frame_reader_partial(const frame_reader *r);

/* Frees the partial payload, if any. */
void frame_reader_free(frame_reader *r);

/* Writes the 4-byte big-endian prefix for len into out. */
void frame_put_len(uint8_t out[4], uint32_t len);

#endif
