/* Probes S6b and S6c: a reader that holds a reference to the process's
 * pages through another path than its page tables. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probe.h"

/* S6b needs an O_DIRECT read held in flight while soft-dirty tracking
 * write-protects the buffer (repro:clear-refs-odirect does it with a
 * throttled disk); the probe keeps its row, with the reason. */
static int s6b_run(struct cb_ctx *c)
{
	cb_phase_skip(c, "S6b", "needs an O_DIRECT read held in flight (a throttled disk), "
		      "which the probe set does not set up");
	return 0;
}

const struct cb_workload cb_wl_probe_s6b = {
	.name = "probe:s6b", .suite = CB_SUITE_PROBE, .scenarios = "S6b",
	.summary = "O_DIRECT read in flight + clear_refs + write",
	.needs = CB_NEED_ROOT | CB_NEED_SOFTDIRTY, .run = s6b_run,
};

static int child_vmsplice(int fd, char *b, size_t len)
{
	for (size_t done = 0; done < len;) {
		struct iovec iov = { b + done, len - done };
		ssize_t n = vmsplice(fd, &iov, 1, 0);
		if (n <= 0)
			return 1;
		done += (size_t)n;
	}
	munmap(b, len);
	return 0;
}

/* Pipe pages equal to the process's pages now: the reader sees the
 * parent's later writes. -1 with why when the pipe cannot be read. */
static long pipe_sees_writes(int fd, const char *b, size_t len, char *why, size_t whylen)
{
	size_t ps = cb_page_size();
	char *dev = malloc(len);
	long same = 0;
	for (size_t done = 0; dev && done < len;) {
		ssize_t n = read(fd, dev + done, len - done);
		if (n <= 0) {
			snprintf(why, whylen, "pipe read: %s", n ? strerror(errno) : "short");
			free(dev);
			return -1;
		}
		done += (size_t)n;
	}
	if (!dev) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < len / ps; i++)
		same += !memcmp(dev + i * ps, b + i * ps, ps);
	free(dev);
	return same;
}

/* The child vmsplices b into the pipe and exits; the parent writes, and
 * the pipe is read inside the phase (it changes no PFN of the parent). */
static void vmsplice_then_write(struct cb_ctx *c, int pp[2], char *b, size_t len)
{
	char why[160];
	pid_t pid = cb_fork(c);
	if (pid == 0)
		_exit(child_vmsplice(pp[1], b, len));
	if (pid < 0 || cb_reap(pid)) {
		cb_phase_skip(c, "S6c", "child vmsplice failed");
		return;
	}
	probe_begin(c, "S6c", b, PROBE_PAGES);
	probe_write(b, PROBE_PAGES);
	long lost = pipe_sees_writes(pp[0], b, len, why, sizeof why);
	if (lost < 0) {
		cb_phase_skip(c, "S6c", "%s", why);
		return;
	}
	cb_phase_metric(c, "lost_sync", (double)lost, "pages");
	cb_phase_end(c);
}

/* S6c (CVE-2020-29374): lost_sync counts pipe pages that show the parent's
 * later data, the child's reference leaking into the parent: <= 5.7 only. */
static int s6c_run(struct cb_ctx *c)
{
	size_t len = PROBE_PAGES * cb_page_size();
	int pp[2];
	char *b = probe_map(c, PROBE_PAGES, true);
	if (!b)
		return -1;
	if (pipe2(pp, O_CLOEXEC)) {
		cb_skip(c, "pipe: %s", strerror(errno));
		munmap(b, len);
		return -1;
	}
	/* One slot per page; non-blocking so a small pipe fails, not hangs. */
	if (fcntl(pp[1], F_SETPIPE_SZ, (int)len) < 0 || fcntl(pp[1], F_SETFL, O_NONBLOCK))
		cb_skip(c, "pipe of %zu bytes: %s", len, strerror(errno));
	else
		vmsplice_then_write(c, pp, b, len);
	close(pp[0]);
	close(pp[1]);
	munmap(b, len);
	return 0;
}

const struct cb_workload cb_wl_probe_s6c = {
	.name = "probe:s6c", .suite = CB_SUITE_PROBE, .scenarios = "S6c",
	.summary = "child vmsplices shared pages, unmaps; parent writes",
	.needs = CB_NEED_ROOT, .run = s6c_run,
};
