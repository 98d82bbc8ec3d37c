/* child.h: starting, killing and describing builder processes.
 *
 * A builder runs in a process group of its own (its pgid is its pid), so one
 * kill() reaches every process it forked. Reaping is left to the caller's
 * event loop (waitpid(WNOHANG) after a SIGCHLD wake-up); this module only
 * starts processes and turns wait statuses into sentences. */
#ifndef KILN_CHILD_H
#define KILN_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sandbox.h"

typedef struct child_spec {
	const char *exec;  /* path of the executable, run with execve (no shell, no PATH search) */
	char *const *argv; /* NULL-terminated; argv[0] is usually exec */
	char *const *envp; /* NULL-terminated, e.g. from sandbox_env_build() */
	const char *cwd;   /* the builder's working directory */
	sandbox_limits limits;
	sandbox_iso iso; /* namespaces, no_new_privs, Landlock; the ruleset stays the caller's */
} child_spec;

typedef struct child_proc {
	pid_t pid;  /* also the process group id */
	int in_fd;  /* write end of the builder's stdin */
	int out_fd; /* read end of its stdout */
	int err_fd; /* read end of its stderr */
} child_proc;

/* Starts the builder: fork, then in the child its own process group,
 * PR_SET_PDEATHSIG SIGKILL, chdir(cwd), the sandbox limits and isolation,
 * default signal handling, stdin/stdout/stderr on pipes and every other
 * descriptor closed, then execve. The parent waits until the exec has happened or failed (a
 * close-on-exec pipe carries the child's errno back).
 *
 * On success *out (OUT) holds the pid and three non-blocking close-on-exec
 * descriptors that belong to the caller. On failure nothing is left running
 * or open, err holds a sentence such as "cannot start /x/y: No such file or
 * directory" (for a script whose #! interpreter is missing, it names the
 * interpreter), and the return is -errno. */
int child_spawn(const child_spec *spec, child_proc *out, char *err, size_t errsz);

/* SIGKILL to the whole process group pgid. A group that is already gone is
 * not an error. */
void child_kill_group(pid_t pgid);

/* Waits up to timeout_ms for pid to end, reaping it. Returns 1 with
 * *wstatus (OUT) set once reaped, 0 if it is still running, -errno on error
 * (-ECHILD when somebody else reaped it). */
int child_wait(pid_t pid, int timeout_ms, int *wstatus);

/* "killed by signal 11 (Segmentation fault)" or "exited with code 3". */
void child_describe_status(int wstatus, char *buf, size_t n);

/* Closes *fd if it is open and sets it to -1. */
void child_close_fd(int *fd);

#endif
