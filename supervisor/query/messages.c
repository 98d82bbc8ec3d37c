/* messages.c: the commands' errors, warnings and notes, on stderr or
 * collected for query_json(), and arguments quoted for them. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "query/query_priv.h"

static void q_vmsg(qctx *q, bool prefix, const char *fmt, va_list ap)
{
	if (!q->capture) {
		if (prefix)
			fprintf(stderr, "kiln %s: ", q->cmd);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		return;
	}
	if (!q->err || q->errsz == 0)
		return;
	size_t used = strlen(q->err);
	if (used > 0 && used + 2 < q->errsz) {
		memcpy(q->err + used, "; ", 3);
		used += 2;
	}
	if (used + 1 < q->errsz)
		vsnprintf(q->err + used, q->errsz - used, fmt, ap);
}

/* An argument as it may appear in a message: control characters escaped,
 * cut at 60 characters, so that a hostile argument can neither drive the
 * terminal nor flood it. Four buffers turn in round, for messages that
 * quote more than one; per thread, as the control's query workers and the
 * dashboard's threads run queries at once. */
const char *q_arg(const char *a)
{
	static _Thread_local char bufs[4][128];
	static _Thread_local int turn;
	char *out = bufs[turn++ & 3];
	size_t o = 0, n = 0;
	for (; a && *a && o < sizeof bufs[0] - 8; a++, n++) {
		if (n >= 60) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = (unsigned char)*a;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, sizeof bufs[0] - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
	return out;
}

void q_err(qctx *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	q_vmsg(q, true, fmt, ap);
	va_end(ap);
}

void q_warn(qctx *q, const char *fmt, ...)
{
	va_list ap;
	if (q->capture)
		return;
	va_start(ap, fmt);
	q_vmsg(q, true, fmt, ap);
	va_end(ap);
}

void q_note(qctx *q, const char *fmt, ...)
{
	va_list ap;
	if (q->capture)
		return;
	va_start(ap, fmt);
	q_vmsg(q, false, fmt, ap);
	va_end(ap);
}

int q_oom(qctx *q)
{
	q_err(q, "out of memory");
	return Q_USAGE;
}
