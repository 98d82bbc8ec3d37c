/* klog.c: the supervisor's and hosts' own log.
 *
 * Several processes (the supervisor and its builder hosts) may append to the
 * same file, so every line goes out in one write() on a descriptor opened
 * O_APPEND: the kernel places each write at the end as a whole, and lines
 * never interleave. A mutex keeps threads of one process from closing the
 * file under each other. */
#include "klog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Most lines fit on the stack; longer ones go to the heap up to this size,
 * and beyond it are cut and marked, so one runaway message cannot make one
 * huge write. */
#define KLOG_STACK_LINE 2048
#define KLOG_MAX_LINE   (64 * 1024)

static pthread_mutex_t klog_mu = PTHREAD_MUTEX_INITIALIZER;
static int klog_fd = -1;
static char klog_name[64];
static klog_level klog_file_min = KLOG_INFO;
static klog_level klog_stderr_min = KLOG_WARN;

static const char *level_name(klog_level l)
{
	switch (l) {
	case KLOG_DEBUG:
		return "DEBUG";
	case KLOG_INFO:
		return "INFO";
	case KLOG_WARN:
		return "WARN";
	case KLOG_ERROR:
		return "ERROR";
	}
	return "?";
}

int klog_open(const char *path)
{
	int fd = -1, old;

	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
		if (fd < 0)
			return -errno;
	}
	pthread_mutex_lock(&klog_mu);
	old = klog_fd;
	klog_fd = fd;
	pthread_mutex_unlock(&klog_mu);
	if (old >= 0)
		close(old);
	return 0;
}

void klog_close(void)
{
	(void)klog_open(NULL);
}

void klog_set_name(const char *who)
{
	pthread_mutex_lock(&klog_mu);
	snprintf(klog_name, sizeof klog_name, "%s", who ? who : "");
	pthread_mutex_unlock(&klog_mu);
}

void klog_set_level(klog_level min)
{
	pthread_mutex_lock(&klog_mu);
	klog_file_min = min;
	pthread_mutex_unlock(&klog_mu);
}

void klog_set_stderr_level(klog_level min)
{
	pthread_mutex_lock(&klog_mu);
	klog_stderr_min = min;
	pthread_mutex_unlock(&klog_mu);
}

/* Writes all of buf, retrying after signals. A short write (a full disk)
 * is finished with a second write rather than lost. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Formats "TIMESTAMP LEVEL [who] " into out (at least 128 bytes). */
static int format_prefix(char *out, size_t outsz, klog_level level, const char *who)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	return snprintf(out, outsz, "%s.%03ldZ %s [%s] ", stamp, ts.tv_nsec / 1000000, level_name(level),
	                who);
}

void klog(klog_level level, const char *fmt, ...)
{
	int saved = errno;
	char stackbuf[KLOG_STACK_LINE];
	char *line = stackbuf, *heap = NULL;
	size_t cap = sizeof stackbuf, len, msglen;
	int plen, n, to_file, to_err;
	va_list ap;

	pthread_mutex_lock(&klog_mu);
	to_file = klog_fd >= 0 && level >= klog_file_min;
	to_err = level >= klog_stderr_min;
	if (!to_file && !to_err)
		goto out;

	plen = format_prefix(line, cap, level, klog_name[0] ? klog_name : program_invocation_short_name);
	if (plen < 0 || (size_t)plen >= cap - 2)
		goto out;
	/* errno as the caller left it, for "%m". */
	errno = saved;
	va_start(ap, fmt);
	n = vsnprintf(line + plen, cap - (size_t)plen - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	msglen = (size_t)n;
	if ((size_t)plen + msglen + 2 > cap) {
		static const char cut[] = " [cut]";
		size_t want = (size_t)plen + msglen + 2;

		cap = want < KLOG_MAX_LINE ? want : KLOG_MAX_LINE;
		heap = malloc(cap);
		if (heap) {
			memcpy(heap, line, (size_t)plen);
			line = heap;
			errno = saved;
			va_start(ap, fmt);
			n = vsnprintf(line + plen, cap - (size_t)plen - 1, fmt, ap);
			va_end(ap);
			if (n < 0)
				goto out;
		} else {
			cap = sizeof stackbuf;
		}
		msglen = strlen(line + plen);
		if ((size_t)n > msglen && msglen >= sizeof cut - 1)
			memcpy(line + plen + msglen - (sizeof cut - 1), cut, sizeof cut);
	}
	len = (size_t)plen + msglen;
	/* One record is one line: trailing newlines go, inner ones become
	 * spaces so that a reader splitting on '\n' sees whole records. */
	while (len > (size_t)plen && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	for (size_t i = (size_t)plen; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';

	if (to_file)
		write_all(klog_fd, line, len);
	if (to_err)
		write_all(STDERR_FILENO, line, len);
out:
	pthread_mutex_unlock(&klog_mu);
	free(heap);
	errno = saved;
}
