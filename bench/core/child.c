/* Children of a workload: forked so that they die with the harness, reaped,
 * and, when one dies unexpectedly, the repetition failed with how. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

pid_t cb_fork(struct cb_ctx *c)
{
	(void)c;
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* The child must never run the harness's restore-on-signal. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
	}
	return pid;
}

pid_t cb_fork_server(struct cb_ctx *c, void (*serve)(void *arg, int in, int out), void *arg,
		     int *to, int *from)
{
	int down[2], up[2];
	if (pipe(down))
		return cb_fail(c, "pipe: %s", strerror(errno));
	if (pipe(up)) {
		int saved = errno;
		close(down[0]);
		close(down[1]);
		return cb_fail(c, "pipe: %s", strerror(saved));
	}
	pid_t pid = cb_fork(c);
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		serve(arg, down[0], up[1]);
		_exit(1); /* serve() must not return */
	}
	int saved = errno;
	close(down[0]);
	close(up[1]);
	if (pid < 0) {
		close(down[1]);
		close(up[0]);
		return cb_fail(c, "fork: %s", strerror(saved));
	}
	*to = down[1];
	*from = up[0];
	return pid;
}

/* A child whose pipe just broke may not have been reaped by the kernel
 * yet: wait up to a second for it to become a zombie. */
static bool death_of(pid_t pid, siginfo_t *si)
{
	for (int i = 0; i < 100; i++) {
		memset(si, 0, sizeof *si);
		if (waitid(P_PID, (id_t)pid, si, WEXITED | WNOHANG | WNOWAIT) == 0 && si->si_pid)
			return true;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

int cb_fail_child(struct cb_ctx *c, const char *who, pid_t pid)
{
	siginfo_t si;
	char how[96] = "still running, but its pipe broke";
	if (death_of(pid, &si) && si.si_code == CLD_EXITED)
		snprintf(how, sizeof how, "exited with status %d", si.si_status);
	else if (si.si_pid)
		snprintf(how, sizeof how, "killed by signal %d (%s)", si.si_status,
			 strsignal(si.si_status));
	uint64_t kills;
	if (cb_cgroup_path() && cb_cgroup_oom_kills(&kills) == 0 && kills)
		return cb_fail(c, "%s %d %s; the run's memory cgroup %s counts %llu OOM kill(s)",
			       who, (int)pid, how, cb_cgroup_path(), (unsigned long long)kills);
	return cb_fail(c, "%s %d %s", who, (int)pid, how);
}

int cb_reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
