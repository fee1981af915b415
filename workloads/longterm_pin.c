/* longterm-pin: a "device" holds a pin or reference on a buffer the
 * process keeps producing data in (S7a, S7b, S7c, S7d; vmsplice as the
 * short-term read reference, S6c's mechanism). Per pin backend and event:
 * the process fills the buffer, the device pins it, an event happens (fork
 * + child exit, clear_refs soft-dirty reset, userfaultfd write-protect
 * on/off, MADV_PAGEOUT), the process writes fresh data, and the device
 * reads the buffer. The phase reports the copies of that write and the
 * pin's coherency: lost_sync_pages = pages whose device read does not show
 * what the process wrote.
 * S7e turns the order round: fork first, then the pin is taken on pages
 * still COW-shared with the live child (its own "-register" phase holds
 * the copies the pin makes), then the parent writes with the child alive
 * ("fork-pin") or after the child wrote its view and exited
 * ("fork-pin-child"). A read-only pin that breaks COW with FOLL_WRITE
 * (RDMA through 6.1) leaves the parent's PTE writable; a true read-only
 * pin that unshares (6.2+) leaves it read-only: the parent's write then
 * takes a fault per page (write_faults) and reuses the page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cowbench.h"
#include "pins/pin.h"

struct longterm_pin {
	char *buf;
	size_t len;
	uint64_t tag;
};

static const struct cb_opt opts[] = {
	{ .name = "size", .type = CB_OPT_SIZE, .def = "1M", .min = 4096, .max = 1ull << 44,
	  .help = "bytes pinned and written per case" },
	{ .name = "pin", .type = CB_OPT_ENUM, .def = "all", .choices = "iouring|rdma|vmsplice|all",
	  .help = "pin backend" },
	{ .name = "event", .type = CB_OPT_ENUM, .def = "all",
	  .choices = "none|fork|clear-refs|uffd-wp|pageout|fork-pin|fork-pin-child|all",
	  .help = "what happens between production and the device read" },
	CB_OPT_END
};

static void write_all(struct longterm_pin *l)
{
	size_t ps = cb_page_size();
	l->tag++;
	for (size_t off = 0; off < l->len; off += ps)
		cb_fresh_write(l->buf + off, l->tag);
}

static void unmap_buffer(struct longterm_pin *l)
{
	if (l->buf)
		munmap(l->buf, l->len);
	l->buf = NULL;
}

/* A fresh buffer per case: no case inherits swapped or copied pages. */
static int map_buffer(struct cb_ctx *c, struct longterm_pin *l)
{
	l->buf = mmap(NULL, l->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (l->buf == MAP_FAILED) {
		l->buf = NULL;
		return cb_fail(c, "mmap %zu bytes failed", l->len);
	}
	madvise(l->buf, l->len, MADV_NOHUGEPAGE);
	write_all(l);
	cb_track_clear(c);
	return cb_track(c, getpid(), l->buf, l->len);
}

static int setup(struct cb_ctx *c)
{
	struct longterm_pin *l = cb_priv(c);
	size_t ps = cb_page_size();
	l->len = (cb_opt_u64(c, "size") + ps - 1) / ps * ps;
	return 0;
}

/* The phase: the process writes after the event, then the device reads. */
static void measured_write(struct cb_ctx *c, struct longterm_pin *l, struct cb_pin *pin,
			   const char *name, enum cb_pin_event ev, uint64_t event_ns)
{
	char why[256] = "";
	size_t pages = l->len / cb_page_size();
	/* After a pageout the write swaps pages in: the fault log tells a
	 * swap-in that copied from one that reused. */
	cb_phase_begin_opts(c, name, ev == CB_EV_PAGEOUT ? CB_PHASE_MAY_RECLAIM : 0);
	uint64_t f0 = cb_own_faults(), t0 = cb_now_ns();
	write_all(l);
	uint64_t t1 = cb_now_ns(), f1 = cb_own_faults();
	long lost = cb_pin_lost_sync(pin, why, sizeof why);
	uint64_t t2 = cb_now_ns();
	cb_phase_ops(c, pages);
	cb_phase_metric(c, "event_ns", (double)event_ns, "ns");
	cb_phase_metric(c, "write_ns", (double)(t1 - t0), "ns");
	/* the writer's own faults: a child alive in the phase adds none */
	cb_phase_metric(c, "write_faults", (double)(f1 - f0), "faults");
	cb_phase_metric(c, "device_read_ns", (double)(t2 - t1), "ns");
	if (lost < 0) {
		cb_phase_unavailable(c, "lost_sync_pages", "device read failed: %s", why);
	} else {
		cb_phase_metric(c, "lost_sync_pages", (double)lost, "pages");
		cb_phase_metric(c, "lost_sync_fraction", (double)lost / (double)pages, "fraction");
	}
	cb_phase_end(c);
}

static int pin_early(struct cb_ctx *c, struct longterm_pin *l, const struct cb_pin_ops *ops,
		     enum cb_pin_event ev, const char *name)
{
	char why[256] = "";
	struct cb_pin pin;
	if (cb_pin_open(&pin, ops, l->buf, l->len, why, sizeof why)) {
		cb_phase_skip(c, name, "%s", why);
		return 0;
	}
	cb_track_pinned(c, l->buf, l->len);
	uint64_t t0 = cb_now_ns();
	int rc = cb_pin_event_run(c, ev, l->buf, l->len, why, sizeof why);
	uint64_t event_ns = cb_now_ns() - t0;
	if (rc)
		cb_fail(c, "%s: %s", name, why);
	else
		measured_write(c, l, &pin, name, ev, event_ns);
	cb_pin_close(&pin);
	return rc;
}

/* A pin that writes (FOLL_WRITE) marks the PTEs dirty and soft-dirty; an
 * unshare keeps the soft-dirty bit the PTE had. */
static void soft_dirty_metric(struct cb_ctx *c, struct longterm_pin *l, bool cleared,
			      const char *why)
{
	long n = cleared ? cb_track_count_own(l->buf, l->len, PM_SOFT_DIRTY, PM_SOFT_DIRTY) : -1;
	if (n < 0)
		cb_phase_unavailable(c, "soft_dirty_pages", "%s", cleared ? "pagemap" : why);
	else
		cb_phase_metric(c, "soft_dirty_pages", (double)n, "pages");
}

/* S7e: the registration is a phase of its own, its copies the COW breaks
 * (or unshares) the pin makes on the pages the child still shares; the
 * soft-dirty bits, reset just before, tell whether the pin wrote. */
static int pin_late(struct cb_ctx *c, struct longterm_pin *l, const struct cb_pin_ops *ops,
		    enum cb_pin_event ev, const char *name)
{
	char why[256] = "", reg[80], sdwhy[160] = "";
	struct cb_sharer child;
	struct cb_pin pin;
	if (cb_sharer_start(c, &child, l->buf, l->len, why, sizeof why))
		return cb_fail(c, "%s: %s", name, why);
	snprintf(reg, sizeof reg, "%s-register", name);
	bool cleared = cb_have_softdirty(sdwhy, sizeof sdwhy) &&
		       !cb_clear_soft_dirty(sdwhy, sizeof sdwhy);
	cb_phase_begin(c, reg);
	uint64_t t0 = cb_now_ns();
	if (cb_pin_open(&pin, ops, l->buf, l->len, why, sizeof why)) {
		cb_phase_skip(c, reg, "%s", why);
		cb_phase_skip(c, name, "%s", why);
		return cb_sharer_finish(&child, false, why, sizeof why) ? cb_fail(c, "%s", why) : 0;
	}
	cb_track_pinned(c, l->buf, l->len);
	cb_phase_metric(c, "register_ns", (double)(cb_now_ns() - t0), "ns");
	/* The pin, not the process, met every page: it breaks COW (a writing
	 * pin) or unshares (a read-only one), so every page took part in a COW
	 * decision in this phase. */
	for (size_t off = 0; off < l->len; off += cb_page_size())
		cb_written(l->buf + off);
	soft_dirty_metric(c, l, cleared, sdwhy);
	cb_phase_end(c);
	int rc = 0;
	t0 = cb_now_ns();
	if (ev == CB_EV_FORK_PIN_CHILD)
		rc = cb_sharer_finish(&child, true, why, sizeof why);
	uint64_t event_ns = cb_now_ns() - t0;
	if (!rc)
		measured_write(c, l, &pin, name, ev, event_ns);
	if (!rc && ev == CB_EV_FORK_PIN)
		rc = cb_sharer_finish(&child, false, why, sizeof why);
	cb_pin_close(&pin);
	if (rc) {
		cb_sharer_finish(&child, false, why, sizeof why);
		return cb_fail(c, "%s: %s", name, why);
	}
	return 0;
}

static int run_case(struct cb_ctx *c, struct longterm_pin *l, const struct cb_pin_ops *ops,
		    enum cb_pin_event ev)
{
	char name[64], why[256] = "";
	snprintf(name, sizeof name, "%s-%s", ops->name, cb_pin_event_names[ev]);
	if (!cb_pin_event_ready(c, ev, l->len, why, sizeof why)) {
		cb_phase_skip(c, name, "%s", why);
		return 0;
	}
	if (map_buffer(c, l))
		return -1;
	int rc = cb_pin_event_pins_late(ev) ? pin_late(c, l, ops, ev, name)
					    : pin_early(c, l, ops, ev, name);
	unmap_buffer(l);
	return rc;
}

static bool selected(const char *choice, const char *name)
{
	return !strcmp(choice, "all") || !strcmp(choice, name);
}

static int run(struct cb_ctx *c)
{
	struct longterm_pin *l = cb_priv(c);
	const char *pin = cb_opt_str(c, "pin"), *event = cb_opt_str(c, "event");
	for (int i = 0; cb_pins[i]; i++) {
		if (!selected(pin, cb_pins[i]->name))
			continue;
		char key[64];
		snprintf(key, sizeof key, "pin.%s", cb_pins[i]->name);
		cb_note(c, key, "%s", cb_pins[i]->kind);
		for (int ev = 0; ev < CB_EV_COUNT; ev++)
			if (selected(event, cb_pin_event_names[ev]) &&
			    run_case(c, l, cb_pins[i], (enum cb_pin_event)ev))
				return -1;
	}
	return 0;
}

static void teardown(struct cb_ctx *c)
{
	struct longterm_pin *l = cb_priv(c);
	if (l)
		unmap_buffer(l);
}

const struct cb_workload cb_wl_longterm_pin = {
	.name = "longterm-pin",
	.summary = "a device pins a buffer the process keeps writing; copies and pin "
		   "coherency after fork, clear_refs, uffd-wp, pageout, and pins taken "
		   "after fork (S7e)",
	.scenarios = "S7a S7b S7c S7d S7e S6c",
	.opts = opts,
	.needs = 0,
	.priv_size = sizeof(struct longterm_pin),
	.footprint = 3, /* fork-pin-child: the child's copies, the parent's, originals */
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
