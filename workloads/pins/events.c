/* The events between the process's production and the device read. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cowbench.h"
#include "pin.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

const char *const cb_pin_event_names[CB_EV_COUNT] = {
	[CB_EV_NONE] = "none", [CB_EV_FORK] = "fork", [CB_EV_CLEAR_REFS] = "clear-refs",
	[CB_EV_UFFD_WP] = "uffd-wp", [CB_EV_PAGEOUT] = "pageout",
	[CB_EV_FORK_PIN] = "fork-pin", [CB_EV_FORK_PIN_CHILD] = "fork-pin-child",
};

bool cb_pin_event_ready(struct cb_ctx *c, enum cb_pin_event ev, size_t len, char *why,
			size_t whylen)
{
	switch (ev) {
	case CB_EV_CLEAR_REFS:
		return cb_have_softdirty(why, whylen);
	case CB_EV_UFFD_WP:
		return cb_have_uffd_wp(why, whylen);
	case CB_EV_PAGEOUT:
		if (!cb_have_pageout(why, whylen))
			return false;
		/* A swap file keeps swapped-in pages in the swap cache (zram would
		 * not), the case where the page_count era copies. */
		return cb_want_swap(c, len + (16u << 20), "file", why, whylen) == 0;
	default:
		return true;
	}
}

static int fork_and_reap(struct cb_ctx *c, char *why, size_t whylen)
{
	pid_t pid = cb_fork(c);
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(0);
	return cb_reap(pid) == 0 ? 0 : (snprintf(why, whylen, "child failed"), -1);
}

int cb_clear_soft_dirty(char *why, size_t whylen)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "4", 1) != 1) {
		snprintf(why, whylen, "clear_refs: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int uffd_wp(int fd, void *buf, size_t len, bool on)
{
	struct uffdio_writeprotect wp = {
		.range = { (uintptr_t)buf, len }, .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };
	return ioctl(fd, UFFDIO_WRITEPROTECT, &wp);
}

/* Protect, unprotect, unregister: afterwards no fault can block on the
 * (handler-less) userfaultfd, but the PTEs may still be read-only. */
int cb_uffd_wp_cycle(void *buf, size_t len, char *why, size_t whylen)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, whylen, "userfaultfd: %s", strerror(errno));
		return -1;
	}
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg = { .range = { (uintptr_t)buf, len },
				       .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_range range = { (uintptr_t)buf, len };
	const char *step = "UFFDIO_API";
	int rc = ioctl(fd, UFFDIO_API, &api);
	if (!rc && (step = "UFFDIO_REGISTER", rc = ioctl(fd, UFFDIO_REGISTER, &reg)) == 0) {
		step = "UFFDIO_WRITEPROTECT";
		rc = uffd_wp(fd, buf, len, true);
		rc |= uffd_wp(fd, buf, len, false);
		if (ioctl(fd, UFFDIO_UNREGISTER, &range) && !rc)
			step = "UFFDIO_UNREGISTER", rc = -1;
	}
	if (rc)
		snprintf(why, whylen, "%s: %s", step, strerror(errno));
	close(fd);
	return rc ? -1 : 0;
}

static void sharer_serve(int in, char *buf, size_t len)
{
	char op = 0;
	while (read(in, &op, 1) < 0 && errno == EINTR)
		;
	/* Data of the child's own, never what the parent writes. */
	for (size_t off = 0; op == 'w' && off < len; off += cb_page_size())
		cb_fresh_write(buf + off, 0xc41dULL);
	_exit(0);
}

int cb_sharer_start(struct cb_ctx *c, struct cb_sharer *s, char *buf, size_t len, char *why,
		    size_t whylen)
{
	int fds[2];
	s->pid = -1;
	s->cmd = -1;
	if (pipe2(fds, O_CLOEXEC))
		return snprintf(why, whylen, "pipe: %s", strerror(errno)), -1;
	s->pid = cb_fork(c);
	if (s->pid == 0) {
		close(fds[1]);
		sharer_serve(fds[0], buf, len);
	}
	int saved = errno;
	close(fds[0]);
	if (s->pid < 0) {
		close(fds[1]);
		return snprintf(why, whylen, "fork: %s", strerror(saved)), -1;
	}
	s->cmd = fds[1];
	return 0;
}

int cb_sharer_finish(struct cb_sharer *s, bool write_first, char *why, size_t whylen)
{
	if (s->pid <= 0)
		return 0;
	char op = write_first ? 'w' : 'x';
	bool sent = write(s->cmd, &op, 1) == 1;
	close(s->cmd);
	int rc = cb_reap(s->pid);
	s->pid = -1;
	s->cmd = -1;
	if (!sent || rc)
		return snprintf(why, whylen, "sharing child %s", sent ? "failed" : "unreachable"),
		       -1;
	return 0;
}

int cb_pin_event_run(struct cb_ctx *c, enum cb_pin_event ev, void *buf, size_t len,
		     char *why, size_t whylen)
{
	switch (ev) {
	case CB_EV_NONE:
		return 0;
	case CB_EV_FORK:
		return fork_and_reap(c, why, whylen);
	case CB_EV_CLEAR_REFS:
		return cb_clear_soft_dirty(why, whylen);
	case CB_EV_UFFD_WP:
		return cb_uffd_wp_cycle(buf, len, why, whylen);
	case CB_EV_PAGEOUT:
		if (madvise(buf, len, MADV_PAGEOUT) == 0)
			return 0;
		snprintf(why, whylen, "madvise(MADV_PAGEOUT): %s", strerror(errno));
		return -1;
	default:
		snprintf(why, whylen, "unknown event %d", (int)ev);
		return -1;
	}
}
