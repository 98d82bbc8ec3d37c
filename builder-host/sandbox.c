/* sandbox.c: a builder's environment and resource limits. */
#include "sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
