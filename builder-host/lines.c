/* lines.c: stderr line splitting with a bounded line length and a tail. */
#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void lines_init(lines *l)
{
	memset(l, 0, sizeof(*l));
}

static int tail_push(lines *l, const char *text, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (l->tail_n == LINES_TAIL) {
		free(l->tail[l->tail_first]);
		l->tail[l->tail_first] = copy;
		l->tail_first = (l->tail_first + 1) % LINES_TAIL;
	} else {
		l->tail[(l->tail_first + l->tail_n) % LINES_TAIL] = copy;
		l->tail_n++;
	}
	return 0;
}

/* Emits buf[0..len) as one line and empties the buffer. */
static int emit(lines *l, lines_cb cb, void *arg)
{
	size_t len = l->len;
	if (len > 0 && l->buf[len - 1] == '\r')
		len--;
	l->buf[len] = '\0';
	l->len = 0;
	int rc = tail_push(l, l->buf, len);
	if (cb)
		cb(arg, l->buf, len);
	return rc;
}

int lines_feed(lines *l, const char *data, size_t n, lines_cb cb, void *arg)
{
	int rc = 0;
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(data + i, '\n', n - i);
		size_t seg = nl ? (size_t)(nl - (data + i)) : n - i;

		if (l->skipping) {
			/* The rest of a line that was already cut and emitted. */
			if (nl)
				l->skipping = false;
		} else {
			size_t room = LINES_MAX - l->len;
			size_t take = seg < room ? seg : room;
			memcpy(l->buf + l->len, data + i, take);
			l->len += take;
			if (nl) {
				if (emit(l, cb, arg) != 0)
					rc = -ENOMEM;
			} else if (l->len == LINES_MAX) {
				if (emit(l, cb, arg) != 0)
					rc = -ENOMEM;
				/* seg > take means the overflow is in this chunk; either
				 * way everything up to the next '\n' is dropped. */
				l->skipping = true;
			}
		}
		i += seg + (nl ? 1 : 0);
	}
	return rc;
}

int lines_flush(lines *l, lines_cb cb, void *arg)
{
	l->skipping = false;
	if (l->len == 0)
		return 0;
	return emit(l, cb, arg);
}

size_t lines_tail(const lines *l, const char **out, size_t max)
{
	size_t n = l->tail_n < max ? l->tail_n : max;
	size_t skip = l->tail_n - n;
	for (size_t i = 0; i < n; i++)
		out[i] = l->tail[(l->tail_first + skip + i) % LINES_TAIL];
	return n;
}

void lines_tail_clear(lines *l)
{
	for (size_t i = 0; i < l->tail_n; i++) {
		size_t k = (l->tail_first + i) % LINES_TAIL;
		free(l->tail[k]);
		l->tail[k] = NULL;
	}
	l->tail_first = 0;
	l->tail_n = 0;
}

void lines_free(lines *l)
{
	lines_tail_clear(l);
	l->len = 0;
	l->skipping = false;
}

msg_level lines_level(const char **text)
{
	const char *t = *text;
	if (t[0] == 'W' && t[1] == ':' && t[2] == ' ') {
		*text = t + 3;
		return MSG_LEVEL_WARNING;
	}
	if (t[0] == 'E' && t[1] == ':' && t[2] == ' ') {
		*text = t + 3;
		return MSG_LEVEL_ERROR;
	}
	return MSG_LEVEL_INFO;
}
