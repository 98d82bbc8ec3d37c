/* child.c: fork + exec of a builder inside its sandbox. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the child writes to the report pipe when it cannot exec. It fits in
 * PIPE_BUF, so it arrives whole. */
typedef struct spawn_report {
	int err;
	char step[32]; /* "" for execve itself, else the setup step */
} spawn_report;

void child_close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void close_pair(int p[2])
{
	child_close_fd(&p[0]);
	child_close_fd(&p[1]);
}

/* Async-signal-safe: the rest of this file up to child_spawn() runs in the
 * child of a multi-threaded process, where only such calls are allowed. */
static void copy_step(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < n; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

static __attribute__((noreturn)) void child_fail(int report_fd, const char *step, int err)
{
	spawn_report r;
	memset(&r, 0, sizeof(r));
	r.err = err;
	copy_step(r.step, sizeof(r.step), step);
	ssize_t w = write(report_fd, &r, sizeof(r));
	(void)w;
	_exit(127);
}

/* Moves fd above the standard descriptors so that the dup2() calls that set
 * up 0, 1 and 2 cannot overwrite it. */
static int lift_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

static void close_from(int lowfd)
{
	if (close_range((unsigned)lowfd, ~0u, 0) == 0)
		return;
	/* Kernels before 5.9 have no close_range; the descriptor limit was
	 * already lowered to SANDBOX_NOFILE, so this loop is short. */
	for (int fd = lowfd; fd < (int)SANDBOX_NOFILE; fd++)
		close(fd);
}

static __attribute__((noreturn)) void child_main(const child_spec *spec, pid_t parent, int in_r, int out_w,
                                                 int err_w, int report_w)
{
	const char *step = NULL;
	struct sigaction sa;
	sigset_t none;
	int rc;

	/* Handlers are reset by exec, but ignored signals (the host ignores
	 * SIGPIPE) and the signal mask are inherited: give the builder the
	 * defaults a freshly started program expects. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++) {
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	report_w = lift_fd(report_w);
	if (report_w < 0)
		_exit(127);
	in_r = lift_fd(in_r);
	out_w = lift_fd(out_w);
	err_w = lift_fd(err_w);
	if (in_r < 0 || out_w < 0 || err_w < 0)
		child_fail(report_w, "dup", errno);

	if (setpgid(0, 0) != 0)
		child_fail(report_w, "setpgid", errno);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		child_fail(report_w, "prctl", errno);
	/* The host may have died between fork() and prctl(); then the death
	 * signal was never armed for it. */
	if (getppid() != parent)
		_exit(127);
	if (chdir(spec->cwd) != 0)
		child_fail(report_w, "chdir", errno);
	if ((rc = sandbox_apply_limits(&spec->limits, &step)) != 0)
		child_fail(report_w, step, -rc);
	/* Before the descriptors are rearranged: the Landlock ruleset may sit
	 * on one of the low numbers that dup2() is about to take. */
	if ((rc = sandbox_isolate(&spec->iso, &step)) != 0)
		child_fail(report_w, step, -rc);

	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		child_fail(report_w, "dup2", errno);
	if (dup2(report_w, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		child_fail(report_w, "dup2", errno);
	report_w = 3;
	close_from(4);

	execve(spec->exec, spec->argv, spec->envp);
	child_fail(report_w, "", errno);
}

/* execve() says ENOENT both for a missing file and for a script whose #!
 * interpreter is missing; the second is a puzzle unless the interpreter is
 * named. */
static void describe_exec_error(const char *exec, int err, char *buf, size_t n)
{
	char line[256];
	ssize_t got = -1;
	int fd = -1;

	if (err == ENOENT || err == ENOEXEC)
		fd = open(exec, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, line, sizeof(line) - 1);
		close(fd);
	}
	if (got > 2 && line[0] == '#' && line[1] == '!' && err == ENOENT) {
		line[got] = '\0';
		char *p = line + 2;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, " \t\r\n");
		p[len] = '\0';
		snprintf(buf, n, "cannot start %s: its interpreter %s (from the #! line) does not exist",
		         exec, p);
	} else if (err == ENOEXEC) {
		snprintf(buf, n, "cannot start %s: %s (a script needs a #! line)", exec, strerror(err));
	} else {
		snprintf(buf, n, "cannot start %s: %s", exec, strerror(err));
	}
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int child_spawn(const child_spec *spec, child_proc *out, char *err, size_t errsz)
{
	int in[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
	pid_t pid = -1;
	int rc = 0;
	spawn_report r;
	ssize_t got = 0;

	out->pid = -1;
	out->in_fd = out->out_fd = out->err_fd = -1;
	err[0] = '\0';

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 ||
	    pipe2(rep, O_CLOEXEC) != 0) {
		rc = -errno;
		snprintf(err, errsz, "cannot start %s: pipe: %s", spec->exec, strerror(-rc));
		goto fail;
	}
	if ((rc = set_nonblock(in[1])) != 0 || (rc = set_nonblock(outp[0])) != 0 ||
	    (rc = set_nonblock(errp[0])) != 0) {
		snprintf(err, errsz, "cannot start %s: fcntl: %s", spec->exec, strerror(-rc));
		goto fail;
	}

	pid_t parent = getpid();
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errsz, "cannot start %s: fork: %s", spec->exec, strerror(-rc));
		goto fail;
	}
	if (pid == 0)
		child_main(spec, parent, in[0], outp[1], errp[1], rep[1]);

	/* Also set the group from this side, so that a kill(-pid) right after
	 * this function returns cannot miss a child that has not run yet. */
	setpgid(pid, pid);
	child_close_fd(&in[0]);
	child_close_fd(&outp[1]);
	child_close_fd(&errp[1]);
	child_close_fd(&rep[1]);

	memset(&r, 0, sizeof(r));
	do {
		got = read(rep[0], &r, sizeof(r));
	} while (got < 0 && errno == EINTR);
	child_close_fd(&rep[0]);
	if (got > 0) {
		int st;
		/* The child exits right after the report; reap it here so that no
		 * zombie is left for the event loop to puzzle over. */
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		pid = -1;
		rc = got == (ssize_t)sizeof(r) && r.err > 0 ? -r.err : -EIO;
		if (r.step[0] == '\0')
			describe_exec_error(spec->exec, -rc, err, errsz);
		else if (strcmp(r.step, "chdir") == 0)
			snprintf(err, errsz, "cannot start %s: chdir %s: %s", spec->exec, spec->cwd,
			         strerror(-rc));
		else
			snprintf(err, errsz, "cannot start %s: %s: %s", spec->exec, r.step, strerror(-rc));
		goto fail;
	}

	out->pid = pid;
	out->in_fd = in[1];
	out->out_fd = outp[0];
	out->err_fd = errp[0];
	return 0;
fail:
	close_pair(in);
	close_pair(outp);
	close_pair(errp);
	close_pair(rep);
	return rc ? rc : -EIO;
}

void child_kill_group(pid_t pgid)
{
	if (pgid > 0)
		kill(-pgid, SIGKILL);
}

int child_wait(pid_t pid, int timeout_ms, int *wstatus)
{
	struct timespec nap = {0, 2 * 1000 * 1000};
	int waited = 0;

	for (;;) {
		pid_t r = waitpid(pid, wstatus, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (waited >= timeout_ms)
			return 0;
		nanosleep(&nap, NULL);
		waited += 2;
	}
}

void child_describe_status(int wstatus, char *buf, size_t n)
{
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		const char *name = strsignal(sig);
		snprintf(buf, n, "killed by signal %d (%s)", sig, name ? name : "unknown");
	} else if (WIFEXITED(wstatus)) {
		snprintf(buf, n, "exited with code %d", WEXITSTATUS(wstatus));
	} else {
		snprintf(buf, n, "ended with wait status 0x%x", (unsigned)wstatus);
	}
}
