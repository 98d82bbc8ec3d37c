/* sandbox.h: what a builder process may see and use.
 *
 * The environment is cut down to an allowlist (plus TMPDIR pointing at the
 * builder's working directory), and resource limits bound memory, CPU time,
 * open files and core dumps. Everything that allocates happens in the parent
 * before fork(); sandbox_apply_limits() only makes system calls, so it is safe
 * in a child forked from the multi-threaded host (NNG runs its own threads). */
#ifndef KILN_SANDBOX_H
#define KILN_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SANDBOX_NOFILE 1024u

/* True when the "NAME=value" entry may pass into a builder's environment:
 * PATH, HOME, locale and time zone, Python and sanitizer settings,
 * LD_LIBRARY_PATH, and any KILN_* variable. TMPDIR is never passed on (the
 * sandbox sets its own). */
bool sandbox_env_allowed(const char *entry);

/* Builds a NULL-terminated environment from env (NULL-terminated, usually
 * environ): the allowed entries in their order, then TMPDIR=tmpdir. On
 * success *out (OUT) is malloc'd, belongs to the caller and is released with
 * sandbox_env_free(). Returns 0 or -ENOMEM. */
int sandbox_env_build(char *const *env, const char *tmpdir, char ***out);
void sandbox_env_free(char **env);

typedef struct sandbox_limits {
	uint64_t as_bytes; /* RLIMIT_AS; 0 leaves the address space unlimited */
	uint64_t cpu_s;    /* RLIMIT_CPU soft limit; 0 leaves it unchanged */
} sandbox_limits;

/* Derives the limits for a builder: memory_mb MiB of address space (none
 * when memory_mb is 0, or when this is a sanitizer build, see sandbox.c) and
 * timeout_s * 2 + 10 s of CPU time as a backstop behind the host's own timer. */
void sandbox_limits_for(uint32_t memory_mb, uint32_t timeout_s, sandbox_limits *out);

/* Applies the limits and RLIMIT_CORE = 0, RLIMIT_NOFILE = SANDBOX_NOFILE to
 * the calling process. Async-signal-safe: meant for the child between fork()
 * and exec(). Returns 0, or -errno with *step (OUT) naming the failed limit. */
int sandbox_apply_limits(const sandbox_limits *l, const char **step);

/* Moves the CPU-time backstop of a running (persistent) builder so that it
 * again allows timeout_s * 2 + 10 s beyond what the process has used so far:
 * RLIMIT_CPU counts a process's whole life, and a persistent builder serves
 * many jobs. Returns 0 or -errno. */
int sandbox_renew_cpu(pid_t pid, uint32_t timeout_s);

#endif
