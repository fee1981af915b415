/* repro:uffd-wp-pin: a pinned page is write-protected and unprotected with
 * userfaultfd, then written (S7c), repeated. Per pin backend (io_uring
 * registered buffer = R/W long-term pin, RDMA read-only memory region,
 * vmsplice = short-term read reference): lost = iterations where the pin's
 * device read does not show what the process wrote after the cycle (its
 * write fault copied the page away from the pin). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cowbench.h"
#include "pins/pin.h"

struct uwp_totals {
	uint64_t iterations, in_flight, lost, copies;
};

static const struct cb_opt opts[] = {
	{ .name = "iterations", .type = CB_OPT_U64, .def = "200", .min = 1, .max = 10000000,
	  .help = "attempts per pin backend" },
	{ .name = "pin", .type = CB_OPT_ENUM, .def = "all", .choices = "all|iouring|rdma|vmsplice",
	  .help = "pin backend, or all" },
	CB_OPT_END
};

static int setup(struct cb_ctx *c)
{
	const char *pin = cb_opt_str(c, "pin");
	if (strcmp(pin, "all") && !cb_pin_find(pin))
		return cb_fail(c, "unknown pin backend '%s'", pin);
	return 0;
}

/* One attempt; 1 with why when the pin cannot be taken here at all. */
static int attempt(const struct cb_pin_ops *ops, uint64_t *tag, struct uwp_totals *t,
		   char *why, size_t whylen)
{
	size_t ps = cb_page_size();
	char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return snprintf(why, whylen, "mmap: %s", strerror(errno)), -1;
	cb_fresh_write(p, ++*tag);
	struct cb_pin pin;
	int rc = 1;
	if (!cb_pin_open(&pin, ops, p, ps, why, whylen)) {
		uint64_t pfn0 = cb_pfn_of(p);
		rc = cb_uffd_wp_cycle(p, ps, why, whylen);
		cb_fresh_write(p, ++*tag);
		uint64_t pfn1 = cb_pfn_of(p);
		long lost = rc ? -1 : cb_pin_lost_sync(&pin, why, whylen);
		if (lost >= 0) {
			t->iterations++;
			t->in_flight++;
			t->lost += lost > 0;
			t->copies += pfn0 && pfn1 && pfn0 != pfn1;
		}
		rc = lost < 0 ? -1 : 0;
		cb_pin_close(&pin);
	}
	munmap(p, ps);
	return rc;
}

static int run_backend(struct cb_ctx *c, const struct cb_pin_ops *ops)
{
	uint64_t n = cb_opt_u64(c, "iterations"), tag = (uint64_t)cb_rep(c) << 40;
	struct uwp_totals t = { 0 };
	char why[256] = "";
	int rc = attempt(ops, &tag, &(struct uwp_totals){ 0 }, why, sizeof why);
	if (rc > 0) {
		cb_phase_skip(c, ops->name, "%s", why);
		return 0;
	}
	if (rc < 0)
		return cb_fail(c, "%s: %s", ops->name, why);
	char key[64];
	snprintf(key, sizeof key, "pin.%s", ops->name);
	cb_note(c, key, "%s", ops->kind);
	cb_phase_begin(c, ops->name);
	for (uint64_t i = 0; i < n && !rc; i++)
		rc = attempt(ops, &tag, &t, why, sizeof why);
	cb_phase_ops(c, t.iterations);
	cb_phase_metric(c, "iterations", (double)t.iterations, "iterations");
	cb_phase_metric(c, "in_flight", (double)t.in_flight, "iterations");
	cb_phase_metric(c, "lost", (double)t.lost, "iterations");
	cb_phase_metric(c, "copies", (double)t.copies, "pages");
	cb_phase_end(c);
	return rc ? cb_fail(c, "%s: %s", ops->name, why) : 0;
}

static int run(struct cb_ctx *c)
{
	const char *pin = cb_opt_str(c, "pin");
	for (int i = 0; cb_pins[i]; i++)
		if ((!strcmp(pin, "all") || !strcmp(pin, cb_pins[i]->name)) &&
		    run_backend(c, cb_pins[i]))
			return -1;
	return 0;
}

const struct cb_workload cb_wl_repro_uffd_wp_pin = {
	.name = "repro:uffd-wp-pin",
	.suite = CB_SUITE_REPRO,
	.op = "race iteration",
	.summary = "a pinned page write-protected and unprotected with userfaultfd, then "
		   "written: does the pin keep seeing the process's data?",
	.scenarios = "S7c",
	.opts = opts,
	.needs = CB_NEED_UFFD_WP,
	.setup = setup,
	.run = run,
	.teardown = NULL,
};
