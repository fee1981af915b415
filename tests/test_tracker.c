/* Attribution of one page between two snapshots, on pagemap entries laid
 * out as the kernel writes them (bit 63 present, 62 swapped, 0-54 PFN). */
#include <stdlib.h>
#include <sys/mman.h>

#include "faultlog.h"
#include "testutil.h"

static struct cb_page present(uint64_t pfn, uint64_t mapcount)
{
	return (struct cb_page){ .pm = PM_PRESENT | pfn, .mapcount = mapcount,
				 .kflags = 1ULL << KPF_ANON };
}

static void test_outcomes(void **state)
{
	(void)state;
	struct cb_page a = present(0x1234, 1), b = present(0x1234, 1), c = present(0x9999, 1);
	struct cb_page swapped = { .pm = PM_SWAPPED | (5ULL << 5) };
	struct cb_page none = { 0 };
	assert_int_equal(cb_track_outcome(&a, &b), CB_PAGE_REUSED);
	assert_int_equal(cb_track_outcome(&a, &c), CB_PAGE_COPIED);
	assert_int_equal(cb_track_outcome(&swapped, &c), CB_PAGE_SWAPPED_IN);
	assert_int_equal(cb_track_outcome(&a, &swapped), CB_PAGE_UNMAPPED);
	assert_int_equal(cb_track_outcome(&none, &none), CB_PAGE_ABSENT);
	assert_int_equal(cb_pagemap_pfn(PM_PRESENT | PM_EXCLUSIVE | 0x42), 0x42);
	assert_int_equal(cb_pagemap_pfn(PM_SWAPPED | 0x42), 0);
}

/* Four pages: reused, copied while shared (necessary), copied while the
 * only mapper (extra), swapped in. */
static void test_compare_totals(void **state)
{
	(void)state;
	struct cb_page before[4] = { present(10, 1), present(11, 2), present(12, 1),
				     { .pm = PM_SWAPPED } };
	struct cb_page after[4] = { present(10, 1), present(21, 1), present(22, 1),
				    present(23, 1) };
	struct cb_track_snap b = { .n = 4, .pages = before, .pfn_ok = true };
	struct cb_track_snap a = { .n = 4, .pages = after, .pfn_ok = true };
	struct cb_track_totals t;
	cb_track_compare(&b, &a, &t);
	assert_int_equal(t.pages, 4);
	assert_int_equal(t.reused, 1);
	assert_int_equal(t.copied, 2);
	assert_int_equal(t.necessary_copies, 1);
	assert_int_equal(t.extra_copies, 1);
	assert_int_equal(t.swapped_in, 1);
	assert_int_equal(t.present_before, 3);
	assert_int_equal(t.swapped_before, 1);
}

/* Our own pages, snapshotted twice: same PFNs; as non-root no PFNs and
 * the snapshot says why instead of pretending. */
static void test_live_snapshot(void **state)
{
	(void)state;
	size_t ps = cb_page_size(), n = 64;
	char *p = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	for (size_t i = 0; i < n; i++)
		cb_fresh_write(p + i * ps, i);
	struct cb_region r = { getpid(), (uintptr_t)p, n * ps };
	struct cb_track_snap s1, s2;
	assert_int_equal(cb_track_snapshot(&r, 1, &s1), 0);
	assert_int_equal(cb_track_snapshot(&r, 1, &s2), 0);
	assert_int_equal(s1.n, n);
	if (geteuid() == 0) {
		assert_true(s1.pfn_ok);
		struct cb_track_totals t;
		cb_track_compare(&s1, &s2, &t);
		assert_int_equal(t.reused, n);
		assert_int_equal(t.copied, 0);
		for (size_t i = 0; i < n; i++) {
			assert_true(s1.pages[i].kflags & (1ULL << KPF_ANON));
			assert_int_equal(s1.pages[i].mapcount, 1);
		}
	} else {
		assert_false(s1.pfn_ok);
		assert_non_null(strstr(s1.why, "root"));
	}
	cb_track_free(&s1);
	cb_track_free(&s2);
	munmap(p, n * ps);
}

/* Seven pages of one region at a made-up address, six written:
 *  p0 same frame (reused); p1 write fault allocating its new frame, old
 *  one in the swap cache (copied, extra: swapcache); p2 reclaimed and
 *  written back by a not-present fault onto a new frame (refaulted);
 *  p3 swapped before, read swap-in, then a write fault that allocated its
 *  final frame (swapin_copied, extra: swapcache); p4 swapped before, read
 *  swap-in mapped writable (swapin_reused); p5 copied while off the LRU
 *  (extra: lru_batch, or pinned when declared); p6 copied but never
 *  written (not counted). */
#define BASE 0x7f0000000000ull
#define LRU (1ULL << KPF_LRU)
#define ANON (1ULL << KPF_ANON)

static struct cb_fl_event fault(uint64_t t, int page, uint32_t ec)
{
	return (struct cb_fl_event){ .time_ns = t, .pid = (uint32_t)getpid(), .tid = 7,
				     .kind = CB_FL_FAULT, .error_code = ec | CB_PF_USER,
				     .addr = BASE + (uint64_t)page * cb_page_size() + 8 };
}

static struct cb_fl_event alloc(uint64_t t, uint64_t pfn)
{
	return (struct cb_fl_event){ .time_ns = t, .pid = (uint32_t)getpid(), .tid = 7,
				     .kind = CB_FL_ALLOC, .pfn = pfn };
}

static void classify_fixture_ksm(const struct cb_region *pinned, int npinned, bool log,
				 const uint64_t *ksm, size_t nksm, struct cb_track_totals *t);

static void classify_fixture(const struct cb_region *pinned, int npinned, bool log,
			     struct cb_track_totals *t)
{
	classify_fixture_ksm(pinned, npinned, log, NULL, 0, t);
}

static void classify_fixture_ksm(const struct cb_region *pinned, int npinned, bool log,
				 const uint64_t *ksm, size_t nksm, struct cb_track_totals *t)
{
	struct cb_page b[7] = {
		{ PM_PRESENT | 10, 1, ANON | LRU },
		{ PM_PRESENT | 11, 1, ANON | LRU | (1ULL << KPF_SWAPCACHE) },
		{ PM_PRESENT | 12, 1, ANON | LRU },
		{ PM_SWAPPED | (3ULL << 5), 0, 0 },
		{ PM_SWAPPED | (4ULL << 5), 0, 0 },
		{ PM_PRESENT | 15, 1, ANON },
		{ PM_PRESENT | 16, 1, ANON | LRU },
	};
	struct cb_page a[7] = {
		{ PM_PRESENT | 10, 1, ANON }, { PM_PRESENT | 21, 1, ANON },
		{ PM_PRESENT | 22, 1, ANON }, { PM_PRESENT | 23, 1, ANON },
		{ PM_PRESENT | 24, 1, ANON }, { PM_PRESENT | 25, 1, ANON },
		{ PM_PRESENT | 26, 1, ANON },
	};
	struct cb_fl_event ev[] = {
		fault(1, 1, CB_PF_PROT | CB_PF_WRITE), alloc(2, 21),
		fault(3, 2, CB_PF_WRITE), alloc(4, 22),
		fault(5, 3, 0), alloc(6, 33), fault(7, 3, CB_PF_PROT | CB_PF_WRITE), alloc(8, 23),
		fault(9, 4, 0), alloc(10, 24),
		fault(11, 5, CB_PF_PROT | CB_PF_WRITE), alloc(12, 25),
		fault(13, 6, CB_PF_PROT | CB_PF_WRITE), alloc(14, 26),
	};
	size_t ps = cb_page_size();
	struct cb_region r = { getpid(), BASE, 7 * ps };
	struct cb_track_snap sb = { .n = 7, .pages = b, .pfn_ok = true };
	struct cb_track_snap sa = { .n = 7, .pages = a, .pfn_ok = true };
	assert_int_equal(cb_written_init(), 0);
	cb_written_regions(&r, 1);
	cb_written_clear();
	for (int i = 0; i < 6; i++)
		cb_written((void *)(uintptr_t)(BASE + (uint64_t)i * ps + 100));
	struct cb_classify_in in = { .r = &r, .nr = 1, .pinned = pinned, .npinned = npinned,
				     .ev = log ? ev : NULL, .nev = sizeof ev / sizeof *ev,
				     .ksm_flag_ok = !ksm, .ksm_pfns = ksm, .nksm = nksm };
	cb_track_classify(&sb, &sa, &in, t);
}

static void test_classify_faultlog(void **state)
{
	(void)state;
	struct cb_track_totals t;
	classify_fixture(NULL, 0, true, &t);
	assert_int_equal(t.written, 6);
	assert_int_equal(t.reused, 1);
	assert_int_equal(t.copied, 2);
	assert_int_equal(t.refaulted, 1);
	assert_int_equal(t.swapin_copied, 1);
	assert_int_equal(t.swapin_reused, 1);
	assert_int_equal(t.unresolved, 0);
	assert_int_equal(t.extra_copies, 3);
	assert_int_equal(t.by_cause[CB_CAUSE_SWAPCACHE], 2);
	assert_int_equal(t.by_cause[CB_CAUSE_LRU_BATCH], 1);
	assert_int_equal(t.log_confirmed, 2);
	assert_int_equal(t.log_disagree, 0);
	/* a pin the workload declared on p5 names the cause */
	struct cb_region pin = { 0, BASE + 5 * cb_page_size(), cb_page_size() };
	classify_fixture(&pin, 1, true, &t);
	assert_int_equal(t.by_cause[CB_CAUSE_PINNED], 1);
	assert_int_equal(t.by_cause[CB_CAUSE_LRU_BATCH], 0);
}

/* Where kpageflags marks every anon page KSM, a frame seen shared earlier
 * in the repetition is KSM's; the flag itself is ignored. */
static void test_classify_ksm_twins(void **state)
{
	(void)state;
	struct cb_track_totals t;
	uint64_t seen[] = { 3, 15, 99 };
	classify_fixture_ksm(NULL, 0, true, seen, 3, &t);
	assert_int_equal(t.by_cause[CB_CAUSE_KSM], 1); /* p5 was on frame 15 */
	assert_int_equal(t.by_cause[CB_CAUSE_LRU_BATCH], 0);
	/* twins found in a snapshot, the zero page excepted */
	struct cb_page pg[4] = { { PM_PRESENT | 40, 2, ANON }, { PM_PRESENT | 40, 2, ANON },
				 { PM_PRESENT | 41, 1, ANON },
				 { PM_PRESENT | 7, 1, 1ULL << KPF_ZERO_PAGE } };
	struct cb_page z = pg[3];
	struct cb_track_snap s = { .n = 4, .pages = pg, .pfn_ok = true };
	uint64_t *set = NULL;
	size_t n = 0;
	cb_track_twins(&s, &set, &n);
	pg[2] = z;
	cb_track_twins(&s, &set, &n);
	assert_int_equal(n, 1);
	assert_int_equal(set[0], 40);
	free(set);
}

/* The PFNs alone: the refault looks like a copy, and the swap-ins cannot
 * be decided. */
static void test_classify_pfn_only(void **state)
{
	(void)state;
	struct cb_track_totals t;
	classify_fixture(NULL, 0, false, &t);
	assert_int_equal(t.written, 6);
	assert_int_equal(t.copied, 3);
	assert_int_equal(t.reused, 1);
	assert_int_equal(t.swapin_unknown, 2);
	assert_int_equal(t.refaulted, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_compare_totals),
		cmocka_unit_test(test_live_snapshot),
		cmocka_unit_test(test_classify_faultlog),
		cmocka_unit_test(test_classify_pfn_only),
		cmocka_unit_test(test_classify_ksm_twins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
