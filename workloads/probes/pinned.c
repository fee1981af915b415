/* Probes S7a-S7d: an io_uring registered buffer (a long-term R/W pin), an
 * event, the process writes, the "device" reads the pinned pages back;
 * lost_sync counts the pages it sees differently from the process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pins/pin.h"
#include "probe.h"

/* A child that maps everything until the parent closes the pipe. */
static pid_t fork_holder(struct cb_ctx *c, int *release)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t pid = cb_fork(c);
	if (pid == 0) {
		char x;
		close(p[1]);
		while (read(p[0], &x, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	*release = p[1];
	return pid;
}

/* The measured write, then the device read, in one phase (the read
 * changes no PFN of the process). */
static void write_then_read(struct cb_ctx *c, const char *id, struct cb_pin *pin)
{
	char why[256] = "";
	probe_begin(c, id, pin->buf, PROBE_PAGES);
	probe_write(pin->buf, PROBE_PAGES);
	long lost = cb_pin_lost_sync(pin, why, sizeof why);
	if (lost < 0) {
		cb_phase_skip(c, id, "device read: %s", why);
		return;
	}
	cb_phase_metric(c, "lost_sync", (double)lost, "pages");
	cb_phase_end(c);
}

static int pin_probe(struct cb_ctx *c, const char *id, enum cb_pin_event ev, bool hold)
{
	size_t len = PROBE_PAGES * cb_page_size();
	char why[256] = "";
	if (!cb_pin_event_ready(c, ev, len, why, sizeof why))
		return cb_skip(c, "%s", why);
	char *b = probe_map(c, PROBE_PAGES, true);
	struct cb_pin pin;
	if (!b)
		return -1;
	if (cb_pin_open(&pin, &cb_pin_iouring, b, len, why, sizeof why)) {
		munmap(b, len);
		return cb_skip(c, "%s", why);
	}
	int release = -1;
	pid_t holder = hold ? fork_holder(c, &release) : 0;
	if (holder < 0 || cb_pin_event_run(c, ev, b, len, why, sizeof why))
		cb_phase_skip(c, id, "%s", holder < 0 ? "fork failed" : why);
	else
		write_then_read(c, id, &pin);
	if (holder > 0) {
		close(release);
		cb_reap(holder);
	}
	cb_pin_close(&pin);
	munmap(b, len);
	return 0;
}

/* S7a: pin, fork, the parent writes while the child still maps the pages:
 * lost before 5.9 only (fork copies pinned pages for the child from 5.9). */
static int s7a_run(struct cb_ctx *c) { return pin_probe(c, "S7a", CB_EV_NONE, true); }
/* S7b: pin, clear_refs 4, write: lost in 5.9-5.10.8 only. */
static int s7b_run(struct cb_ctx *c) { return pin_probe(c, "S7b", CB_EV_CLEAR_REFS, false); }
/* S7c: pin, UFFDIO_WRITEPROTECT on and off, write: lost in 5.9-5.18. */
static int s7c_run(struct cb_ctx *c) { return pin_probe(c, "S7c", CB_EV_UFFD_WP, false); }
/* S7d: pin, MADV_PAGEOUT (a reclaim attempt), write: lost in 5.9-5.10.8. */
static int s7d_run(struct cb_ctx *c) { return pin_probe(c, "S7d", CB_EV_PAGEOUT, false); }

/* The pageout event's swap file (made by cb_pin_event_ready) goes in
 * teardown; the others make none, and releasing nothing is a no-op. */
const struct cb_workload cb_wl_probe_s7a = {
	.name = "probe:s7a", .suite = CB_SUITE_PROBE, .scenarios = "S7a",
	.summary = "io_uring pin, fork (child alive), parent writes",
	.needs = CB_NEED_ROOT, .run = s7a_run, .teardown = probe_teardown,
};

const struct cb_workload cb_wl_probe_s7b = {
	.name = "probe:s7b", .suite = CB_SUITE_PROBE, .scenarios = "S7b",
	.summary = "io_uring pin, clear_refs 4, write",
	.needs = CB_NEED_ROOT, .run = s7b_run, .teardown = probe_teardown,
};

const struct cb_workload cb_wl_probe_s7c = {
	.name = "probe:s7c", .suite = CB_SUITE_PROBE, .scenarios = "S7c",
	.summary = "io_uring pin, uffd-wp on/off, write",
	.needs = CB_NEED_ROOT, .run = s7c_run, .teardown = probe_teardown,
};

const struct cb_workload cb_wl_probe_s7d = {
	.name = "probe:s7d", .suite = CB_SUITE_PROBE, .scenarios = "S7d",
	.summary = "io_uring pin, MADV_PAGEOUT, write",
	.needs = CB_NEED_ROOT, .run = s7d_run, .teardown = probe_teardown,
};
