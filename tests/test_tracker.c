/* Attribution of one page between two snapshots, on pagemap entries laid
 * out as the kernel writes them (bit 63 present, 62 swapped, 0-54 PFN). */
#include <stdlib.h>
#include <sys/mman.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_compare_totals),
		cmocka_unit_test(test_live_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
