/* sandbox.c: a builder's environment, resource limits and isolation. */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/landlock.h>

static const char *const allowed_names[] = {
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "PYTHONPATH",
    "PYTHONDONTWRITEBYTECODE",
    "LD_LIBRARY_PATH",
    "ASAN_OPTIONS",
    "UBSAN_OPTIONS",
    "LSAN_OPTIONS",
    NULL,
};

bool sandbox_env_allowed(const char *entry)
{
	const char *eq = strchr(entry, '=');
	if (!eq || eq == entry)
		return false;
	size_t n = (size_t)(eq - entry);
	if (n > 5 && strncmp(entry, "KILN_", 5) == 0)
		return true;
	for (size_t i = 0; allowed_names[i]; i++) {
		if (strlen(allowed_names[i]) == n && strncmp(entry, allowed_names[i], n) == 0)
			return true;
	}
	return false;
}

int sandbox_env_build(char *const *env, const char *tmpdir, char ***out)
{
	size_t n = 0, k = 0;
	char **v = NULL;

	*out = NULL;
	while (env && env[n])
		n++;
	v = calloc(n + 2, sizeof(*v));
	if (!v)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (!sandbox_env_allowed(env[i]))
			continue;
		v[k] = strdup(env[i]);
		if (!v[k])
			goto fail;
		k++;
	}
	if (asprintf(&v[k], "TMPDIR=%s", tmpdir) < 0) {
		v[k] = NULL;
		goto fail;
	}
	*out = v;
	return 0;
fail:
	sandbox_env_free(v);
	return -ENOMEM;
}

void sandbox_env_free(char **env)
{
	if (!env)
		return;
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

bool sandbox_memory_limited(void)
{
#ifdef __SANITIZE_ADDRESS__
	return false;
#else
	return true;
#endif
}

static uint64_t cpu_budget(uint32_t timeout_s)
{
	return (uint64_t)timeout_s * 2u + 10u;
}

void sandbox_limits_for(uint32_t memory_mb, uint32_t timeout_s, sandbox_limits *out)
{
	out->as_bytes = (uint64_t)memory_mb << 20;
#ifdef __SANITIZE_ADDRESS__
	/* AddressSanitizer reserves terabytes of shadow address space at start,
	 * so an instrumented builder could not even start under RLIMIT_AS. In a
	 * sanitizer build every kiln binary is instrumented, the builders
	 * included, so the address-space limit is left off there. */
	out->as_bytes = 0;
#endif
	out->cpu_s = cpu_budget(timeout_s);
}

/* Sets the soft limit and lowers the hard one to match when asked; never
 * raises a hard limit (that would need privileges). */
static int set_limit(int resource, rlim_t soft, int lower_hard)
{
	struct rlimit rl;
	if (getrlimit(resource, &rl) != 0)
		return -errno;
	if (rl.rlim_max != RLIM_INFINITY && soft > rl.rlim_max)
		soft = rl.rlim_max;
	rl.rlim_cur = soft;
	if (lower_hard)
		rl.rlim_max = soft;
	if (setrlimit(resource, &rl) != 0)
		return -errno;
	return 0;
}

int sandbox_apply_limits(const sandbox_limits *l, const char **step)
{
	int rc;

	*step = "RLIMIT_CORE";
	if ((rc = set_limit(RLIMIT_CORE, 0, 1)) != 0)
		return rc;
	*step = "RLIMIT_NOFILE";
	if ((rc = set_limit(RLIMIT_NOFILE, SANDBOX_NOFILE, 1)) != 0)
		return rc;
	*step = "RLIMIT_FSIZE";
	if ((rc = set_limit(RLIMIT_FSIZE, (rlim_t)SANDBOX_FSIZE_BYTES, 1)) != 0)
		return rc;
	if (l->as_bytes) {
		*step = "RLIMIT_AS";
		if ((rc = set_limit(RLIMIT_AS, (rlim_t)l->as_bytes, 1)) != 0)
			return rc;
	}
	if (l->cpu_s) {
		/* Only the soft limit: SIGXCPU ends the builder, and the hard
		 * limit stays high so that sandbox_renew_cpu() can move the soft
		 * one for a persistent builder later. */
		*step = "RLIMIT_CPU";
		if ((rc = set_limit(RLIMIT_CPU, (rlim_t)l->cpu_s, 0)) != 0)
			return rc;
	}
	*step = NULL;
	return 0;
}

/* CPU seconds (user + system) used so far by pid, from /proc/pid/stat. */
static int cpu_used(pid_t pid, uint64_t *out)
{
	char path[64], buf[1024];
	FILE *f = NULL;
	size_t n;
	unsigned long long ut, st;
	long tck = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses; the
	 * fields after the last ')' are plain numbers. utime and stime are
	 * fields 14 and 15; after ')' comes field 3. */
	const char *p = strrchr(buf, ')');
	if (!p || tck <= 0)
		return -EINVAL;
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EINVAL;
	*out = (ut + st) / (unsigned long long)tck;
	return 0;
}

int sandbox_renew_cpu(pid_t pid, uint32_t timeout_s)
{
	struct rlimit rl;
	uint64_t used;
	int rc;

	if ((rc = cpu_used(pid, &used)) != 0)
		return rc;
	if (prlimit(pid, RLIMIT_CPU, NULL, &rl) != 0)
		return -errno;
	rlim_t want = (rlim_t)(used + cpu_budget(timeout_s));
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
		want = rl.rlim_max;
	rl.rlim_cur = want;
	if (prlimit(pid, RLIMIT_CPU, &rl, NULL) != 0)
		return -errno;
	return 0;
}

/* ---- isolation ---- */

/* The Landlock interface as of ABI 6, spelled out here because the
 * installed kernel headers may be older than the running kernel: the
 * ruleset attribute grew from one field (ABI 1) to three (ABI 6), and the
 * kernel takes the size we pass as the version of the structure. */
struct kiln_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define KL_FS_WRITE_FILE  (1ULL << 1)
#define KL_FS_REMOVE_DIR  (1ULL << 4)
#define KL_FS_REMOVE_FILE (1ULL << 5)
#define KL_FS_MAKE_CHAR   (1ULL << 6)
#define KL_FS_MAKE_DIR    (1ULL << 7)
#define KL_FS_MAKE_REG    (1ULL << 8)
#define KL_FS_MAKE_SOCK   (1ULL << 9)
#define KL_FS_MAKE_FIFO   (1ULL << 10)
#define KL_FS_MAKE_BLOCK  (1ULL << 11)
#define KL_FS_MAKE_SYM    (1ULL << 12)
#define KL_FS_REFER       (1ULL << 13) /* ABI 2 */
#define KL_FS_TRUNCATE    (1ULL << 14) /* ABI 3 */
#define KL_NET_BIND_TCP   (1ULL << 0)  /* ABI 4 */
#define KL_NET_CONN_TCP   (1ULL << 1)  /* ABI 4 */
#define KL_SCOPE_ABSTRACT (1ULL << 0)  /* ABI 6 */
#define KL_SCOPE_SIGNAL   (1ULL << 1)  /* ABI 6 */
#define KL_RULE_PATH      1

static long ll_create(const struct kiln_ruleset_attr *attr, size_t size, uint32_t flags)
{
	return syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

static int ll_abi(void)
{
	long v = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? -errno : (int)v;
}

/* Every right that writes, as far as ABI abi knows them. Rights left out
 * of a ruleset stay allowed, so reading and executing need no rule. */
static uint64_t write_rights(int abi)
{
	uint64_t r = KL_FS_WRITE_FILE | KL_FS_REMOVE_DIR | KL_FS_REMOVE_FILE | KL_FS_MAKE_CHAR |
	             KL_FS_MAKE_DIR | KL_FS_MAKE_REG | KL_FS_MAKE_SOCK | KL_FS_MAKE_FIFO | KL_FS_MAKE_BLOCK |
	             KL_FS_MAKE_SYM;
	/* REFER is always denied across folders once a ruleset exists; it
	 * must be handled to be granted inside the write folders, so that a
	 * builder may move a file from one of its folders to another. */
	if (abi >= 2)
		r |= KL_FS_REFER;
	if (abi >= 3)
		r |= KL_FS_TRUNCATE;
	return r;
}

/* Device files that programs open for writing as a matter of course. */
static const char *const dev_files[] = {
    "/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/random", "/dev/urandom", NULL,
};

/* Allows `allowed` below path when it is a folder; on anything else only the
 * rights that apply to files (a rule on a file may carry no others). */
static int add_path_rule(int rfd, const char *path, uint64_t allowed, uint64_t file_rights)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) != 0) {
		int e = errno;
		close(pfd);
		return -e;
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = S_ISDIR(st.st_mode) ? allowed : allowed & file_rights;
	pb.parent_fd = pfd;
	long rc = syscall(SYS_landlock_add_rule, rfd, KL_RULE_PATH, &pb, 0);
	int e = errno;
	close(pfd);
	return rc < 0 ? -e : 0;
}

int sandbox_fs_ruleset(int abi, const char *const *paths, size_t n, int *fd, char *err, size_t errsz)
{
	struct kiln_ruleset_attr attr;
	size_t size = sizeof(attr.handled_access_fs);
	uint64_t w = write_rights(abi);
	int rfd = -1, rc;

	*fd = -1;
	err[0] = '\0';
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = w;
	if (abi >= 4) {
		/* Handled with no rule: no TCP port may be bound or connected. */
		attr.handled_access_net = KL_NET_BIND_TCP | KL_NET_CONN_TCP;
		size = offsetof(struct kiln_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = KL_SCOPE_ABSTRACT | KL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	long r = ll_create(&attr, size, 0);
	if (r < 0) {
		rc = -errno;
		snprintf(err, errsz, "landlock_create_ruleset: %s", strerror(-rc));
		return rc;
	}
	rfd = (int)r;
	uint64_t fw = KL_FS_WRITE_FILE | (abi >= 3 ? KL_FS_TRUNCATE : 0);
	for (size_t i = 0; i < n; i++) {
		if (!paths[i] || !paths[i][0])
			continue;
		rc = add_path_rule(rfd, paths[i], w, fw);
		if (rc == -ENOENT || rc == -ENOTDIR)
			continue;
		if (rc != 0) {
			snprintf(err, errsz, "landlock_add_rule %s: %s", paths[i], strerror(-rc));
			goto fail;
		}
	}
	for (size_t i = 0; dev_files[i]; i++) {
		rc = add_path_rule(rfd, dev_files[i], fw, fw);
		if (rc != 0 && rc != -ENOENT && rc != -EACCES && rc != -ENXIO) {
			snprintf(err, errsz, "landlock_add_rule %s: %s", dev_files[i], strerror(-rc));
			goto fail;
		}
	}
	*fd = rfd;
	return 0;
fail:
	close(rfd);
	return rc;
}

/* Writes a decimal number; async-signal-safe, unlike snprintf(). */
static size_t put_ulong(char *buf, unsigned long v)
{
	char t[24];
	size_t n = 0, k = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		buf[k++] = t[--n];
	return k;
}

static int write_proc(const char *path, const char *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, buf, n);
	int e = errno;
	close(fd);
	if (w < 0)
		return -e;
	return w == (ssize_t)n ? 0 : -EIO;
}

/* "id id 1": the id maps to itself, so that the builder sees its own user
 * and files it creates carry it. */
static int write_id_map(const char *path, unsigned long id)
{
	char buf[64];
	size_t n = put_ulong(buf, id);
	buf[n++] = ' ';
	n += put_ulong(buf + n, id);
	buf[n++] = ' ';
	buf[n++] = '1';
	buf[n++] = '\n';
	return write_proc(path, buf, n);
}

int sandbox_isolate(const sandbox_iso *iso, const char **step)
{
	int rc;

	if (iso->netns) {
		*step = "unshare";
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
			return -errno;
		*step = "uid_map";
		if ((rc = write_id_map("/proc/self/uid_map", (unsigned long)iso->uid)) != 0)
			return rc;
		/* Without CAP_SETGID in the parent namespace, gid_map may only
		 * be written once setgroups() is denied for good. */
		*step = "setgroups";
		if ((rc = write_proc("/proc/self/setgroups", "deny", 4)) != 0)
			return rc;
		*step = "gid_map";
		if ((rc = write_id_map("/proc/self/gid_map", (unsigned long)iso->gid)) != 0)
			return rc;
	}
	*step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	if (iso->ruleset_fd >= 0) {
		*step = "landlock_restrict_self";
		if (syscall(SYS_landlock_restrict_self, iso->ruleset_fd, 0) != 0)
			return -errno;
	}
	*step = NULL;
	return 0;
}

void sandbox_want_parse(const char *value, sandbox_want *out, char *bad, size_t badsz)
{
	char buf[256];
	char *save = NULL;

	bad[0] = '\0';
	out->netns = out->landlock = true;
	if (!value)
		return;
	out->netns = out->landlock = false;
	snprintf(buf, sizeof(buf), "%s", value);
	for (char *w = strtok_r(buf, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
		if (strcmp(w, "netns") == 0)
			out->netns = true;
		else if (strcmp(w, "landlock") == 0)
			out->landlock = true;
		else if (strcmp(w, "none") != 0 && strcmp(w, "off") != 0)
			snprintf(bad + strlen(bad), badsz - strlen(bad), "%s\"%s\"", bad[0] ? ", " : "", w);
	}
}

/* Runs sandbox_isolate() in a child and reports how it went: 0, or -errno
 * with the failed step copied into step. */
static int try_isolate(const sandbox_iso *iso, char *step, size_t stepsz)
{
	int p[2];
	struct {
		int err;
		char step[32];
	} r;

	step[0] = '\0';
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		const char *s = NULL;
		memset(&r, 0, sizeof(r));
		r.err = -sandbox_isolate(iso, &s);
		for (size_t i = 0; s && s[i] && i + 1 < sizeof(r.step); i++)
			r.step[i] = s[i];
		ssize_t w = write(p[1], &r, sizeof(r));
		(void)w;
		_exit(0);
	}
	close(p[1]);
	memset(&r, 0, sizeof(r));
	ssize_t got;
	do {
		got = read(p[0], &r, sizeof(r));
	} while (got < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)sizeof(r))
		return -EIO;
	r.step[sizeof(r.step) - 1] = '\0';
	snprintf(step, stepsz, "%s", r.step);
	return -r.err;
}

/* Why an unprivileged user namespace may be refused, for the warning. */
static const char *userns_hint(void)
{
	char buf[16] = "";
	FILE *f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if (buf[0] == '0')
			return " (kernel.unprivileged_userns_clone is 0)";
	}
	f = fopen("/proc/sys/user/max_user_namespaces", "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if (buf[0] == '0')
			return " (user.max_user_namespaces is 0)";
	}
	return "";
}

void sandbox_probe(const sandbox_want *want, const char *write_dir, sandbox_caps *out)
{
	char step[32];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!want->netns) {
		snprintf(out->net_why, sizeof(out->net_why), "turned off by KILN_SANDBOX");
	} else {
		sandbox_iso iso = {.netns = true, .ruleset_fd = -1, .uid = geteuid(), .gid = getegid()};
		rc = try_isolate(&iso, step, sizeof(step));
		if (rc == 0)
			out->netns = true;
		else
			snprintf(out->net_why, sizeof(out->net_why), "%s: %s%s", step[0] ? step : "probe",
			         strerror(-rc), rc == -EPERM || rc == -ENOSPC ? userns_hint() : "");
	}

	if (!want->landlock) {
		snprintf(out->fs_why, sizeof(out->fs_why), "turned off by KILN_SANDBOX");
		return;
	}
	int abi = ll_abi();
	if (abi <= 0) {
		snprintf(out->fs_why, sizeof(out->fs_why), "%s",
		         abi == -ENOSYS       ? "the kernel has no Landlock (landlock_create_ruleset: ENOSYS)"
		         : abi == -EOPNOTSUPP ? "Landlock is built into the kernel but not enabled (lsm=)"
		                              : strerror(abi < 0 ? -abi : EINVAL));
		return;
	}
	int rfd = -1;
	char err[256];
	const char *dirs[1] = {write_dir};
	if ((rc = sandbox_fs_ruleset(abi, dirs, 1, &rfd, err, sizeof(err))) != 0) {
		snprintf(out->fs_why, sizeof(out->fs_why), "%s", err);
		return;
	}
	sandbox_iso iso = {.netns = false, .ruleset_fd = rfd, .uid = geteuid(), .gid = getegid()};
	rc = try_isolate(&iso, step, sizeof(step));
	close(rfd);
	if (rc != 0) {
		snprintf(out->fs_why, sizeof(out->fs_why), "%s: %s", step[0] ? step : "probe", strerror(-rc));
		return;
	}
	out->landlock_abi = abi;
}
