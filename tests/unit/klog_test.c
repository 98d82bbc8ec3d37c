/* klog_test.c: line format, thresholds, and whole lines from several
 * processes appending to one file. */
#include "klog.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) != 0)
		goto out;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto out;
	while ((n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	*len = got;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

/* Checks "YYYY-MM-DDTHH:MM:SS.mmmZ " (25 bytes) at the start of line and that the time
 * is now (within a minute). */
static int good_stamp(const char *line)
{
	struct tm tm;
	int ms = -1, used = 0;
	time_t t, now = time(NULL);

	memset(&tm, 0, sizeof tm);
	if (sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ %n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	           &tm.tm_min, &tm.tm_sec, &ms, &used) != 7 ||
	    used != 25)
		return 0;
	if (line[10] != 'T' || line[19] != '.' || line[23] != 'Z' || ms < 0 || ms > 999)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	return t > now - 60 && t <= now + 1;
}

static void test_format_and_levels(void)
{
	char path[128];
	char *text, *line, *save = NULL;
	size_t len = 0;
	int n = 0;

	snprintf(path, sizeof path, "%s/kiln.log", dir);
	CHECK_EQ_INT(klog_open(path), 0);
	klog_set_name("kiln");
	klog_set_stderr_level(KLOG_ERROR + 1); /* keep the test's stderr quiet */
	klog(KLOG_DEBUG, "hidden %d", 1);
	klog(KLOG_INFO, "hello %s %d", "world", 42);
	klog(KLOG_WARN, "careful\n");
	klog(KLOG_ERROR, "two\nlines\r\n");
	klog_set_level(KLOG_DEBUG);
	klog_set_name("host-3");
	klog(KLOG_DEBUG, "now visible");
	errno = ENOENT;
	klog(KLOG_INFO, "open: %m");
	CHECK_EQ_INT(errno, ENOENT); /* klog leaves errno alone */
	klog_set_level(KLOG_WARN);
	klog(KLOG_INFO, "filtered");
	klog_close();
	klog(KLOG_ERROR, "after close, nowhere");

	text = slurp(path, &len);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(len > 0 && text[len - 1] == '\n');
	const char *want[] = {"INFO [kiln] hello world 42", "WARN [kiln] careful", "ERROR [kiln] two lines",
	                      "DEBUG [host-3] now visible", "INFO [host-3] open: No such file or directory"};
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		CHECK(good_stamp(line));
		if (n < 5)
			CHECK_EQ_STR(line + 25, want[n]);
	}
	CHECK_EQ_INT(n, 5);
	free(text);
}

static void test_stderr(void)
{
	char path[128];
	char *text;
	size_t len = 0;
	int saved = dup(STDERR_FILENO), fd;

	snprintf(path, sizeof path, "%s/stderr.txt", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && saved >= 0);
	if (fd < 0 || saved < 0)
		return;
	dup2(fd, STDERR_FILENO);
	close(fd);
	klog_set_name("cli");
	klog_set_stderr_level(KLOG_WARN);
	klog(KLOG_INFO, "not on stderr");
	klog(KLOG_WARN, "on stderr");
	klog(KLOG_ERROR, "also on stderr");
	dup2(saved, STDERR_FILENO);
	close(saved);

	text = slurp(path, &len);
	CHECK(text != NULL);
	if (!text)
		return;
	CHECK(strstr(text, "not on stderr") == NULL);
	CHECK(strstr(text, " WARN [cli] on stderr\n") != NULL);
	CHECK(strstr(text, " ERROR [cli] also on stderr\n") != NULL);
	CHECK(good_stamp(text));
	free(text);
}

/* Finds our descriptor for path and returns its open flags from fdinfo. */
static long fd_flags_of(const char *path)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long flags = -1;

	while (d && (e = readdir(d)) != NULL) {
		char link[300], target[256], info[300], buf[512];
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof target - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) != 0)
			continue;
		snprintf(info, sizeof info, "/proc/self/fdinfo/%s", e->d_name);
		fd = open(info, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			char *f;
			buf[n] = '\0';
			f = strstr(buf, "flags:");
			if (f)
				flags = strtol(f + 6, NULL, 8);
		}
	}
	if (d)
		closedir(d);
	return flags;
}

static void test_open_flags(void)
{
	char path[128], real[256];
	long flags;

	snprintf(path, sizeof path, "%s/flags.log", dir);
	CHECK_EQ_INT(klog_open(path), 0);
	CHECK(realpath(path, real) != NULL);
	flags = fd_flags_of(real);
	CHECK(flags >= 0);
	CHECK((flags & O_APPEND) != 0);
	CHECK((flags & O_CLOEXEC) != 0);
	/* Reopening replaces the file without leaking the old descriptor. */
	CHECK_EQ_INT(klog_open(path), 0);
	klog_close();
	CHECK_EQ_INT(fd_flags_of(real), -1);

	CHECK_EQ_INT(klog_open("/nonexistent/kiln/x.log"), -ENOENT);
}

static void test_long_line(void)
{
	char path[128];
	char *big = malloc(200000), *text;
	size_t len = 0;

	CHECK(big != NULL);
	if (!big)
		return;
	memset(big, 'q', 199999);
	big[199999] = '\0';
	snprintf(path, sizeof path, "%s/long.log", dir);
	CHECK_EQ_INT(klog_open(path), 0);
	klog_set_level(KLOG_INFO);
	klog_set_name("kiln");
	klog(KLOG_INFO, "%s", big);
	klog(KLOG_INFO, "%.3000s", big); /* longer than the stack buffer, shorter than the cap */
	klog_close();
	text = slurp(path, &len);
	CHECK(text != NULL);
	if (text) {
		char *nl = strchr(text, '\n');
		CHECK(nl != NULL);
		if (nl) {
			size_t l1 = (size_t)(nl - text) + 1;
			CHECK(l1 <= 64 * 1024);
			CHECK(l1 > 60 * 1024);
			CHECK(strncmp(nl - 6, " [cut]", 6) == 0);
			/* The second line is whole. */
			CHECK_EQ_INT(len - l1, 25 + strlen("INFO [kiln] ") + 3000 + 1);
		}
		free(text);
	}
	free(big);
}

/* Children append to one file at once; every line must come out whole. */
static void test_processes(void)
{
	enum { KIDS = 4, LINES = 1500 };
	char path[128];
	char *text, *line, *save = NULL;
	size_t len = 0;
	int lines = 0, bad = 0;
	pid_t pids[KIDS];

	snprintf(path, sizeof path, "%s/shared.log", dir);
	for (int k = 0; k < KIDS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			char pad[5001];
			char name[16];

			if (klog_open(path) != 0)
				_exit(2);
			snprintf(name, sizeof name, "kid-%d", k);
			klog_set_name(name);
			klog_set_level(KLOG_DEBUG);
			memset(pad, 'a' + k, sizeof pad - 1);
			pad[sizeof pad - 1] = '\0';
			for (int i = 0; i < LINES; i++) {
				int w = (i * 37 + k * 101) % 5000;
				klog(KLOG_INFO, "%d %d %d %.*s", k, i, w, w, pad);
			}
			klog_close();
			_exit(0);
		}
		CHECK(pids[k] > 0);
	}
	for (int k = 0; k < KIDS; k++) {
		int st = -1;
		if (pids[k] > 0)
			waitpid(pids[k], &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	text = slurp(path, &len);
	CHECK(text != NULL);
	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int k = -1, i = -1, w = -1, used = 0;
		char name[16];

		lines++;
		if (!good_stamp(line)) {
			bad++;
			continue;
		}
		if (sscanf(line + 25, "INFO [%15[^]]] %d %d %d %n", name, &k, &i, &w, &used) != 4 || k < 0 ||
		    k >= KIDS || w < 0) {
			bad++;
			continue;
		}
		const char *payload = line + 25 + used;
		if (strlen(payload) != (size_t)w ||
		    strspn(payload, (char[]){(char)('a' + k), 0}) != (size_t)w)
			bad++;
	}
	CHECK_EQ_INT(lines, KIDS * LINES);
	CHECK_EQ_INT(bad, 0);
	free(text);
}

int main(void)
{
	char tmpl[] = "/tmp/kiln_klog_test.XXXXXX";

	if (!mkdtemp(tmpl)) {
		CHECK(0);
		TEST_DONE();
	}
	snprintf(dir, sizeof dir, "%s", tmpl);

	test_format_and_levels();
	test_stderr();
	test_open_flags();
	test_long_line();
	test_processes();

	/* Leave nothing behind. */
	{
		DIR *d = opendir(dir);
		struct dirent *e;
		char p[340];
		while (d && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
		if (d)
			closedir(d);
		rmdir(dir);
	}
	TEST_DONE();
}
