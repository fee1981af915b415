/* The fault log against known answers on the running kernel:
 *  - fork, the child keeps the pages, the parent writes each page once:
 *    one protection write fault per page, and the frame the allocator
 *    handed out in that fault is the page's new PFN (this is what lets the
 *    tracker call a PFN change a copy);
 *  - MADV_PAGEOUT, then a write: a not-present fault per page (a refault),
 *    never a protection fault.
 * Prints the figures docs/method.md quotes (N of N, ns per logged fault). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "faultlog.h"
#include "testutil.h"

#define NPAGES 512

static char *region(void)
{
	size_t ps = cb_page_size();
	char *p = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(p != MAP_FAILED);
	madvise(p, NPAGES * ps, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < NPAGES; i++)
		cb_fresh_write(p + i * ps, i + 1);
	return p;
}

static struct cb_faultlog *open_own(char *p, char *why, size_t len)
{
	pid_t me = getpid();
	struct cb_fl_range r = { me, (uintptr_t)p, (uintptr_t)p + NPAGES * cb_page_size() };
	return cb_faultlog_open(&me, 1, &r, 1, CB_FL_WITH_ALLOCS, NPAGES * 4, why, len);
}

static bool skip_unless_available(void)
{
	char why[256];
	if (cb_faultlog_available(why, sizeof why))
		return false;
	printf("skipped: %s\n", why);
	return true;
}

/* The first alloc after fault i of the same thread, before its next fault. */
static uint64_t alloc_after(const struct cb_fl_event *ev, size_t n, size_t i)
{
	for (size_t k = i + 1; k < n; k++) {
		if (ev[k].tid != ev[i].tid)
			continue;
		if (ev[k].kind == CB_FL_FAULT)
			return 0;
		return ev[k].pfn;
	}
	return 0;
}

static void test_cow_alloc_is_new_frame(void **state)
{
	(void)state;
	if (skip_unless_available())
		return;
	size_t ps = cb_page_size();
	char *p = region(), why[256];
	struct cb_faultlog *fl = open_own(p, why, sizeof why);
	if (!fl)
		fail_msg("%s", why);
	pid_t kid = fork();
	if (!kid) {
		pause();
		_exit(0);
	}
	assert_int_equal(cb_faultlog_enable(fl), 0);
	uint64_t t0 = cb_now_ns();
	for (size_t i = 0; i < NPAGES; i++)
		cb_fresh_write(p + i * ps, 1000 + i);
	uint64_t t1 = cb_now_ns();
	cb_faultlog_disable(fl);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	const struct cb_fl_event *ev;
	uint64_t lost;
	size_t n = cb_faultlog_drain(fl, &ev, &lost), wp = 0, match = 0;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind != CB_FL_FAULT)
			continue;
		assert_true(ev[i].error_code & CB_PF_USER);
		if ((ev[i].error_code & (CB_PF_PROT | CB_PF_WRITE)) != (CB_PF_PROT | CB_PF_WRITE))
			continue;
		wp++;
		uint64_t a = alloc_after(ev, n, i);
		match += a && a == cb_pfn_of((void *)(uintptr_t)(ev[i].addr & ~(uint64_t)(ps - 1)));
	}
	printf("COW after fork: %zu write-protect faults, alloc PFN == new frame in %zu of %d, "
	       "lost %llu, %.0f ns per page written\n", wp, match, NPAGES,
	       (unsigned long long)lost, (double)(t1 - t0) / NPAGES);
	assert_int_equal(lost, 0);
	assert_int_equal(wp, NPAGES);
	assert_int_equal(match, NPAGES);
	cb_faultlog_close(fl);
	munmap(p, NPAGES * ps);
}

static void test_refault_is_not_present(void **state)
{
	(void)state;
	if (skip_unless_available())
		return;
	char why[256];
	if (!cb_have_pageout(why, sizeof why) || !cb_have_swap()) {
		printf("skipped: no pageout or no swap (%s)\n", why);
		return;
	}
	size_t ps = cb_page_size();
	char *p = region();
	struct cb_faultlog *fl = open_own(p, why, sizeof why);
	if (!fl)
		fail_msg("%s", why);
	madvise(p, NPAGES * ps, MADV_PAGEOUT);
	long out = cb_track_count_own(p, NPAGES * ps, PM_SWAPPED, PM_SWAPPED);
	assert_int_equal(cb_faultlog_enable(fl), 0);
	for (size_t i = 0; i < NPAGES; i++)
		cb_fresh_write(p + i * ps, 5000 + i);
	cb_faultlog_disable(fl);
	const struct cb_fl_event *ev;
	uint64_t lost;
	size_t n = cb_faultlog_drain(fl, &ev, &lost), np = 0, prot = 0;
	for (size_t i = 0; i < n; i++)
		if (ev[i].kind == CB_FL_FAULT)
			(ev[i].error_code & CB_PF_PROT) ? prot++ : np++;
	printf("pageout then write: %ld pages swapped out, %zu not-present faults, %zu protection "
	       "faults\n", out, np, prot);
	assert_true(out > 0);
	assert_true(np >= (size_t)out);
	assert_int_equal(prot, 0);
	cb_faultlog_close(fl);
	munmap(p, NPAGES * ps);
}

static uint64_t cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* CPU ns (user + kernel, so other agents' load does not count) per reuse
 * write fault (fork, child reaped, parent writes: the cheapest fault that
 * still hits the tracepoint, ~1 us) with or without the log. */
static double reuse_fault_ns(bool logged)
{
	size_t ps = cb_page_size();
	char *p = region(), why[256];
	struct cb_faultlog *fl = logged ? open_own(p, why, sizeof why) : NULL;
	pid_t kid = fork();
	if (!kid)
		_exit(0);
	waitpid(kid, NULL, 0);
	if (fl)
		cb_faultlog_enable(fl);
	uint64_t t0 = cpu_ns();
	for (size_t i = 0; i < NPAGES; i++)
		((volatile char *)p)[i * ps] = 7;
	uint64_t t1 = cpu_ns();
	if (fl)
		cb_faultlog_disable(fl);
	cb_faultlog_close(fl);
	munmap(p, NPAGES * ps);
	return (double)(t1 - t0) / NPAGES;
}

/* Not a pass/fail check: the figure for docs/method.md. The minimum of
 * 15 alternating trials: on a loaded VM, steal time only ever adds. */
static void test_cost(void **state)
{
	(void)state;
	if (skip_unless_available())
		return;
	double off = 1e18, on = 1e18;
	for (int i = 0; i < 15; i++) {
		double a = reuse_fault_ns(false), b = reuse_fault_ns(true);
		off = a < off ? a : off;
		on = b < on ? b : on;
	}
	printf("reuse write fault: %.0f CPU ns without the log, %.0f ns with it (minimum of "
	       "15 x %d)\n", off, on, NPAGES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cow_alloc_is_new_frame),
		cmocka_unit_test(test_refault_is_not_present),
		cmocka_unit_test(test_cost),
	};
	/* tracefs may need mounting: that is a journaled change. */
	char err[256];
	bool journal = geteuid() == 0 && !cb_journal_begin(err, sizeof err);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (journal)
		cb_journal_restore(false);
	return rc;
}
