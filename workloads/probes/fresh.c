/* Probe S4: a write to fresh pages mapped read-only that still sit in this
 * CPU's LRU batch (one extra reference each). */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

/* UFFDIO_COPY with write-protect, protection lifted again: fresh pages,
 * mapped R/O, not written by the process. */
static int copy_wp(struct cb_ctx *c, int fd, char *b, char *src, size_t len)
{
	struct uffdio_register reg = { .range = { (uintptr_t)b, len },
				       .mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP };
	struct uffdio_copy cp = { .dst = (uintptr_t)b, .src = (uintptr_t)src, .len = len,
				  .mode = UFFDIO_COPY_MODE_WP };
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)b, len }, .mode = 0 };
	int rc = -1;
	if (ioctl(fd, UFFDIO_REGISTER, &reg))
		cb_skip(c, "UFFDIO_REGISTER: %s", strerror(errno));
	else if (ioctl(fd, UFFDIO_COPY, &cp) || cp.copy != (__s64)len)
		cb_skip(c, "UFFDIO_COPY: %s", strerror(errno));
	else if (ioctl(fd, UFFDIO_WRITEPROTECT, &wp))
		cb_skip(c, "UFFDIO_WRITEPROTECT: %s", strerror(errno));
	else
		rc = 0;
	/* Unregistered, no write can block on a handler-less userfaultfd. */
	ioctl(fd, UFFDIO_UNREGISTER, &reg.range);
	return rc;
}

static int fill_fresh_ro(struct cb_ctx *c, char *b, size_t pages)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api)) {
		cb_skip(c, "userfaultfd write-protect: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char *src = probe_map(c, pages, true);
	int rc = src ? copy_wp(c, fd, b, src, pages * cb_page_size()) : -1;
	close(fd);
	if (src)
		munmap(src, pages * cb_page_size());
	return rc;
}

/* S4: copied (>= 4 of 256) in 5.9-5.17, where the batch's reference makes
 * page_count > 1; reused by mapcount, by 5.18 (local batch drained) and by
 * the exclusive era. */
static int s4_run(struct cb_ctx *c)
{
	char *b = probe_map(c, PROBE_PAGES, false);
	if (!b)
		return -1;
	if (!fill_fresh_ro(c, b, PROBE_PAGES))
		probe_measured_write(c, "S4", b, PROBE_PAGES);
	munmap(b, PROBE_PAGES * cb_page_size());
	return 0;
}

const struct cb_workload cb_wl_probe_s4 = {
	.name = "probe:s4", .suite = CB_SUITE_PROBE, .scenarios = "S4",
	.summary = "write to a fresh R/O page with an LRU-batch ref (uffd)",
	.needs = CB_NEED_ROOT, .run = s4_run,
};
