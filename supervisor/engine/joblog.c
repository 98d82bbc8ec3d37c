/* joblog.c: JSON Lines job logs, written through jansson so every string is
 * escaped correctly whatever a builder sends. */
#include "engine/joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void iso8601_ms(int64_t ms, char out[32])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Builders may send bytes that are not UTF-8; such a string is kept with
 * its non-ASCII bytes replaced, rather than dropped. */
static json_t *jstr(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	if (j)
		return j;
	char *c = malloc(n + 1);
	if (!c)
		return json_string("");
	for (size_t i = 0; i < n; i++)
		c[i] = (s[i] > 0 && s[i] < 0x7f) ? s[i] : '?';
	c[n] = 0;
	j = json_stringn(c, n);
	free(c);
	return j ? j : json_string("");
}

static void rewrite(joblog *jl);

int joblog_open(joblog *jl, const char *dir, int64_t job_id, int64_t start_ms)
{
	memset(jl, 0, sizeof *jl);
	snprintf(jl->path, sizeof jl->path, "%s/%lld-%lld.log", dir, (long long)job_id, (long long)start_ms);
	int fd = open(jl->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* Room for the log is taken now, while there is some: a job that
	 * fills the disk must still be able to say so. joblog_close gives
	 * back what was not used. */
	if (posix_fallocate(fd, 0, JOBLOG_RESERVE) == 0)
		jl->reserved = true;
	jl->f = fdopen(fd, "w");
	if (!jl->f) {
		int e = errno;
		close(fd);
		return -e;
	}
	return 0;
}

void joblog_line(joblog *jl, msg_level level, const char *source, const char *message, const msg_kvs *ctx)
{
	if (level == MSG_LEVEL_WARNING)
		jl->warnings++;
	else if (level == MSG_LEVEL_ERROR)
		jl->errors++;
	if (!jl->f)
		return;
	size_t mlen = message ? strlen(message) : 0;
	if (jl->bytes + mlen > JOBLOG_MAX_BYTES) {
		jl->dropped += mlen;
		return;
	}
	char ts[32];
	iso8601_ms(wall_ms(), ts);
	json_t *o = json_object();
	json_t *c = json_object();
	json_object_set_new(o, "time", json_string(ts));
	json_object_set_new(o, "level", json_string(msg_level_name(level)));
	json_object_set_new(o, "source", json_string(source ? source : "kiln"));
	json_object_set_new(o, "message", jstr(message ? message : "", mlen));
	for (size_t i = 0; ctx && i < ctx->n; i++) {
		const char *k = ctx->items[i].key ? ctx->items[i].key : "";
		const char *v = ctx->items[i].value ? ctx->items[i].value : "";
		json_t *kj = jstr(k, strlen(k));
		json_object_set_new(c, json_string_value(kj), jstr(v, strlen(v)));
		json_decref(kj);
	}
	json_object_set_new(o, "context", c);
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s) {
		size_t n = strlen(s);
		fwrite(s, 1, n, jl->f);
		fputc('\n', jl->f);
		jl->bytes += n + 1;
		/* A copy in memory, to write the log again if the disk was full
		 * when the file was flushed. */
		if (jl->mem_len + n + 1 > jl->mem_cap) {
			size_t nc = jl->mem_cap ? jl->mem_cap * 2 : 1024;
			while (nc < jl->mem_len + n + 1)
				nc *= 2;
			char *nm = realloc(jl->mem, nc);
			if (nm) {
				jl->mem = nm;
				jl->mem_cap = nc;
			}
		}
		if (jl->mem_len + n + 1 <= jl->mem_cap) {
			memcpy(jl->mem + jl->mem_len, s, n);
			jl->mem[jl->mem_len + n] = '\n';
			jl->mem_len += n + 1;
		}
		free(s);
	}
	json_decref(o);
}

void joblog_linef(joblog *jl, msg_level level, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	joblog_line(jl, level, "kiln", buf, NULL);
}

void joblog_close(joblog *jl)
{
	if (!jl->f)
		return;
	if (jl->dropped) {
		char note[128];
		uint64_t d = jl->dropped;
		jl->dropped = 0;
		jl->bytes = 0; /* let the note itself through */
		snprintf(note, sizeof note, "log capped at %u bytes: %llu more bytes dropped",
		         JOBLOG_MAX_BYTES, (unsigned long long)d);
		int w = jl->warnings;
		joblog_line(jl, MSG_LEVEL_WARNING, "kiln", note, NULL);
		jl->warnings = w; /* the cap is kiln's note, not the builder's warning */
	}
	bool bad = fflush(jl->f) != 0 || ferror(jl->f);
	off_t end = ftello(jl->f);
	if (!bad && jl->reserved && end >= 0 && ftruncate(fileno(jl->f), end) != 0) {
		/* the log stays as long as its reservation: harmless */
	}
	bad |= fclose(jl->f) != 0;
	jl->f = NULL;
	if (bad)
		rewrite(jl);
	free(jl->mem);
	jl->mem = NULL;
	jl->mem_len = jl->mem_cap = 0;
}

/* ---- a full disk ----
 *
 * The engine keeps a ballast file in the logs folder: space set aside while
 * there was some. A job log that could not be written (the disk filled while
 * the job ran) gives up the ballast and is written again from memory, so the
 * job that hit the full disk still says why. */

static char ballast_path[4096];

void joblog_set_ballast(const char *path)
{
	snprintf(ballast_path, sizeof ballast_path, "%s", path);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (posix_fallocate(fd, 0, JOBLOG_BALLAST) != 0) {
		close(fd);
		unlink(path);
		ballast_path[0] = 0;
		return;
	}
	close(fd);
}

bool joblog_release_ballast(void)
{
	if (!ballast_path[0] || unlink(ballast_path) != 0)
		return false;
	ballast_path[0] = 0;
	return true;
}

static int write_all(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		off += (size_t)w;
	}
	return close(fd) == 0 ? 0 : -errno;
}

static void rewrite(joblog *jl)
{
	if (!jl->mem_len)
		return;
	if (write_all(jl->path, jl->mem, jl->mem_len) == 0)
		return;
	if (ballast_path[0] && unlink(ballast_path) == 0) {
		ballast_path[0] = 0;
		write_all(jl->path, jl->mem, jl->mem_len);
	}
}
