/* test.h: the smallest test harness that does the job.
 *
 * CHECK(cond) records a failure with file and line and goes on; main() ends
 * with TEST_DONE(), which prints "N passed, N failed" and returns non-zero
 * when anything failed. */
#ifndef KILN_TEST_H
#define KILN_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed_, test_failed_;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (cond) {                                                                \
			test_passed_++;                                                    \
		} else {                                                                   \
			test_failed_++;                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                             \
	do {                                                                                           \
		long long a_ = (long long)(a), b_ = (long long)(b);                                    \
		if (a_ == b_) {                                                                        \
			test_passed_++;                                                                \
		} else {                                                                               \
			test_failed_++;                                                                \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
				#b, a_, b_);                                                           \
		}                                                                                      \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                            \
	do {                                                                                          \
		const char *a_ = (a), *b_ = (b);                                                      \
		if (a_ && b_ && strcmp(a_, b_) == 0) {                                                \
			test_passed_++;                                                               \
		} else {                                                                              \
			test_failed_++;                                                               \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
				#a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                      \
		}                                                                                     \
	} while (0)

#define TEST_DONE()                                                                   \
	do {                                                                          \
		printf("%d passed, %d failed\n", test_passed_, test_failed_);        \
		return test_failed_ ? 1 : 0;                                          \
	} while (0)

/* ---- helpers shared by tests that touch files, processes and time ---- */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static inline int64_t test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void test_nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Sets ok to the value of cond, evaluated again every millisecond or two
 * until it holds or ms milliseconds have passed: tests wait for a condition
 * with a deadline rather than sleep for a guessed time. cond may do work
 * (poll an event loop) on each evaluation. */
#define WAIT_FOR(ok, ms, cond)                                                                               \
	do {                                                                                                 \
		int64_t wait_end_ = test_now_ms() + (ms);                                                    \
		while (!((ok) = (cond)) && test_now_ms() < wait_end_)                                        \
			test_nap_ms(1);                                                                      \
	} while (0)

/* A fresh folder /tmp/kiln-NAME-XXXXXX in out (at least 64 bytes); false
 * when it cannot be made. The test removes it at the end (path_rmtree). */
static inline bool test_tmpdir(char *out, size_t outsz, const char *name)
{
	snprintf(out, outsz, "/tmp/kiln-%s-XXXXXX", name);
	if (mkdtemp(out))
		return true;
	perror("mkdtemp");
	return false;
}

/* Writes text to dir/rel (dir may be NULL when rel is absolute), making the
 * folders on the way. Returns 0 or -errno. */
static inline int test_put(const char *dir, const char *rel, const char *text)
{
	char p[4096];
	if (dir)
		snprintf(p, sizeof p, "%s/%s", dir, rel);
	else
		snprintf(p, sizeof p, "%s", rel);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int rc = w == (ssize_t)n ? 0 : -EIO;
	close(fd);
	return rc;
}

/* Reads up to outsz - 1 bytes of dir/rel into out (NUL-terminated). Returns
 * the length, or -1 when the file cannot be read. */
static inline long test_slurp(const char *dir, const char *rel, char *out, size_t outsz)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, out, outsz - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = 0;
	return (long)n;
}

/* True when dir/rel exists (as anything, links not followed). */
static inline bool test_exists(const char *dir, const char *rel)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

/* out = the file name beside the running test binary, where the build puts
 * kiln, kiln-builder-host and the test builders. False when that is not
 * executable. */
static inline bool test_bin_path(char *out, size_t outsz, const char *name)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return false;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(out, outsz, "%s/%s", self, name);
	return access(out, X_OK) == 0;
}

#ifdef KILN_CONFIG_H
/* For tests that include config/config.h (before this file): kiln.json text
 * parsed with root as the project root, or NULL after a failed check that
 * prints the loader's message. */
static inline kiln_config *test_config(const char *root, const char *json)
{
	kiln_config *cfg = NULL;
	char err[512];
	int rc = config_parse(json, strlen(json), "kiln.json", root, root, &cfg, err, sizeof err);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err);
	return cfg;
}
#endif

#endif
