/* lines.h: splitting a builder's stderr into log lines.
 *
 * Bytes arrive in arbitrary chunks; complete lines (ended by '\n', a trailing
 * '\r' dropped) are handed to a callback. A line longer than LINES_MAX is cut
 * to its first LINES_MAX bytes and the rest of it, up to the next '\n', is
 * skipped, so one endless line cannot grow memory. The last LINES_TAIL lines
 * are kept as a tail for failure reports. */
#ifndef KILN_LINES_H
#define KILN_LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"

#define LINES_MAX  8192u
#define LINES_TAIL 20u

typedef struct lines {
	char buf[LINES_MAX + 1]; /* the line being collected, room for a NUL */
	size_t len;
	bool skipping;          /* inside the cut-off rest of an over-long line */
	char *tail[LINES_TAIL]; /* ring of malloc'd copies, oldest at tail_first */
	size_t tail_first, tail_n;
} lines;

/* Called for every line: text is NUL-terminated (len bytes, no '\n') and
 * only valid during the call. */
typedef void (*lines_cb)(void *arg, const char *text, size_t len);

void lines_init(lines *l);

/* Feeds n bytes; calls cb (may be NULL) once per completed line, after the
 * line went into the tail. Returns 0 or -ENOMEM (the line is still passed to
 * cb; only its tail copy is missing). */
int lines_feed(lines *l, const char *data, size_t n, lines_cb cb, void *arg);

/* Treats a pending partial line as complete (at end of stream, or before a
 * reply is sent). */
int lines_flush(lines *l, lines_cb cb, void *arg);

/* Fills out with up to LINES_TAIL pointers to the tail, oldest first; they
 * stay owned by l and valid until the next feed, flush, clear or free.
 * Returns how many were written. */
size_t lines_tail(const lines *l, const char **out, size_t max);

/* Forgets the tail (a new frame starts). */
void lines_tail_clear(lines *l);

void lines_free(lines *l);

/* The level a stderr line stands for: "W: " is a warning, "E: " an error,
 * anything else info. *text (IN/OUT) is moved past the prefix. */
msg_level lines_level(const char **text);

#endif
