/* sandbox.h: what a builder process may see and use (docs/sandbox.md).
 *
 * The environment is cut down to an allowlist (plus TMPDIR pointing at the
 * builder's working directory), and resource limits bound memory, CPU time,
 * file size, open files and core dumps. Where the kernel allows it, a builder
 * also runs in an empty network namespace (inside an unprivileged user
 * namespace), under PR_SET_NO_NEW_PRIVS, and under a Landlock ruleset that
 * lets it write only below the folder that holds every temp dir.
 *
 * Everything that allocates happens in the parent before fork();
 * sandbox_apply_limits() and sandbox_isolate() only make system calls, so
 * they are safe in a child forked from the multi-threaded host (NNG runs its
 * own threads). */
#ifndef KILN_SANDBOX_H
#define KILN_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SANDBOX_NOFILE 1024u
/* RLIMIT_FSIZE: no builder product comes near it, and a runaway writer is
 * stopped (SIGXFSZ) before it fills the disk. */
#define SANDBOX_FSIZE_BYTES (4ull << 30)

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

/* False in sanitizer builds, where the address-space limit is left off. */
bool sandbox_memory_limited(void);

/* Applies the limits and RLIMIT_CORE = 0, RLIMIT_NOFILE = SANDBOX_NOFILE,
 * RLIMIT_FSIZE = SANDBOX_FSIZE_BYTES to the calling process. Async-signal-safe: meant for the child between
 * fork() and exec(). Returns 0, or -errno with *step (OUT) naming the failed limit. */
int sandbox_apply_limits(const sandbox_limits *l, const char **step);

/* Moves the CPU-time backstop of a running (persistent) builder so that it
 * again allows timeout_s * 2 + 10 s beyond what the process has used so far:
 * RLIMIT_CPU counts a process's whole life, and a persistent builder serves
 * many jobs. Returns 0 or -errno. */
int sandbox_renew_cpu(pid_t pid, uint32_t timeout_s);

/* Which isolation layers to use; both by default. KILN_SANDBOX, when set,
 * lists the layers to use, comma-separated: "netns", "landlock"; "none" or ""
 * for neither. */
typedef struct sandbox_want {
	bool netns;
	bool landlock;
} sandbox_want;

/* Parses a KILN_SANDBOX value (NULL: the default). Words it does not know
 * are named in bad (OUT, "" when none) and otherwise ignored. */
void sandbox_want_parse(const char *value, sandbox_want *out, char *bad, size_t badsz);

/* What this machine allows, found once when the host starts. */
typedef struct sandbox_caps {
	bool netns;        /* an empty network namespace in a user namespace */
	int landlock_abi;  /* 0 when Landlock is not used */
	char net_why[256]; /* why netns is off; "" when on */
	char fs_why[256];  /* why Landlock is off; "" when on */
} sandbox_caps;

/* Tries each wanted layer in a short-lived child (fork, the same steps a
 * builder's child takes, _exit) so that a layer the kernel refuses is known
 * before any builder starts. write_dir is the folder builders will be let
 * to write below. Call it before the process has threads. */
void sandbox_probe(const sandbox_want *want, const char *write_dir, sandbox_caps *out);

/* Isolation for one builder, prepared in the parent and applied by the
 * child with sandbox_isolate(). */
typedef struct sandbox_iso {
	bool netns;
	int ruleset_fd; /* a Landlock ruleset; -1 for none */
	uid_t uid;      /* mapped to itself inside the user namespace */
	gid_t gid;
} sandbox_iso;

/* Makes a Landlock ruleset for ABI abi (>= 1) that denies every kind of
 * write except below the n paths (a folder: anything below it; a file: writing
 * it; those that do not exist are skipped) and to /dev/null, /dev/zero, /dev/full, /dev/tty, /dev/random and
 * /dev/urandom; from ABI 4 on it also denies TCP bind and connect, from ABI 6
 * on signals and abstract unix sockets that leave the builder's own domain.
 * Reading and executing stay allowed everywhere. On success *fd (OUT) is a
 * close-on-exec descriptor that belongs to the caller. On failure err holds a
 * sentence and the return is -errno. */
int sandbox_fs_ruleset(int abi, const char *const *paths, size_t n, int *fd, char *err, size_t errsz);

/* In the child between fork() and exec(): the user and network namespaces
 * (with the caller's uid and gid mapped to themselves), PR_SET_NO_NEW_PRIVS,
 * then landlock_restrict_self(). Async-signal-safe. Returns 0, or -errno
 * with *step (OUT) naming the failed step. */
int sandbox_isolate(const sandbox_iso *iso, const char **step);

#endif
