/* longterm-pin on the running kernel (6.18): an io_uring registered buffer
 * stays coherent across fork without a single copy; a vmsplice'd pipe
 * keeps the old data once the parent's write copies after fork; pins
 * taken after fork (S7e). */
#include "testutil.h"

#define PAGES 256

static void test_iouring_fork_coherent(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "size=1M", "pin=iouring", "event=fork" };
	json_t *w = tu_run("longterm-pin", 3, kv, 3);
	for (int rep = 0; rep < 3; rep++) {
		json_t *p = tu_phase(w, rep, "iouring-fork");
		assert_int_equal(tu_int(p, "pages"), PAGES);
		/* fork copied the pinned pages for the child: the parent's PTEs
		 * stay writable, its writes never fault, nothing is copied */
		assert_int_equal(tu_int(p, "copied"), 0);
		assert_int_equal(tu_int(p, "reused"), PAGES);
		assert_int_equal((long long)tu_metric(p, "lost_sync_pages"), 0);
		assert_true(tu_metric(p, "lost_sync_fraction") == 0.0);
	}
	json_decref(w);
}

static void test_vmsplice_fork_keeps_old_data(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "size=1M", "pin=vmsplice", "event=fork" };
	json_t *w = tu_run("longterm-pin", 3, kv, 3);
	for (int rep = 0; rep < 3; rep++) {
		json_t *p = tu_phase(w, rep, "vmsplice-fork");
		/* the pipe's reference makes every write after fork copy (the
		 * child is gone, the parent is the only mapper: extra copies) */
		assert_int_equal(tu_int(p, "copied"), PAGES);
		assert_int_equal(tu_int(p, "extra_copies"), PAGES);
		/* and the pipe still holds the old pages */
		assert_int_equal((long long)tu_metric(p, "lost_sync_pages"), PAGES);
		assert_true(tu_metric(p, "lost_sync_fraction") == 1.0);
	}
	json_decref(w);
}

/* Control: without an event both readers see every write. */
static void test_no_event_in_sync(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "size=1M", "event=none" };
	json_t *w = tu_run("longterm-pin", 1, kv, 2);
	assert_int_equal((long long)tu_metric(tu_phase(w, 0, "iouring-none"), "lost_sync_pages"), 0);
	assert_int_equal((long long)tu_metric(tu_phase(w, 0, "vmsplice-none"), "lost_sync_pages"), 0);
	assert_int_equal(tu_int(tu_phase(w, 0, "vmsplice-none"), "copied"), 0);
	json_decref(w);
}

/* This kernel has no soft-dirty: the clear_refs cases say so, never zeros. */
static void test_clear_refs_skipped_with_reason(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "pin=iouring", "event=clear-refs" };
	json_t *w = tu_run("longterm-pin", 1, kv, 2);
	json_t *p = tu_phase(w, 0, "iouring-clear-refs");
	const char *why = json_string_value(json_object_get(p, "skipped"));
	assert_non_null(why);
	assert_non_null(strstr(why, "soft-dirty"));
	assert_true(json_is_null(json_object_get(p, "copied")));
	json_decref(w);
}

/* The pinned pages are not reclaimed: pageout leaves them mapped. */
static void test_iouring_pageout_keeps_pages(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "size=1M", "pin=iouring", "event=pageout" };
	json_t *w = tu_run("longterm-pin", 1, kv, 3);
	json_t *p = tu_phase(w, 0, "iouring-pageout");
	if (json_is_string(json_object_get(p, "skipped")))
		skip();
	assert_int_equal(tu_int(p, "reused"), PAGES);
	assert_int_equal(tu_int(p, "swapped_in"), 0);
	assert_int_equal((long long)tu_metric(p, "lost_sync_pages"), 0);
	json_decref(w);
}

/* S7e: a read/write pin taken on pages still COW-shared with a live child
 * breaks COW at registration (the copies are the pin's, the child still
 * maps the old pages); the parent's write afterwards neither faults nor
 * copies and the device sees it. */
static void test_iouring_pin_after_fork(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "size=1M", "pin=iouring", "event=fork-pin" };
	json_t *w = tu_run("longterm-pin", 2, kv, 3);
	for (int rep = 0; rep < 2; rep++) {
		json_t *r = tu_phase(w, rep, "iouring-fork-pin-register");
		assert_int_equal(tu_int(r, "copied"), PAGES);
		assert_int_equal(tu_int(r, "necessary_copies"), PAGES);
		/* a writing pin dirties every PTE it breaks COW on */
		const char *why = json_string_value(json_object_get(
			json_object_get(r, "unavailable"), "soft_dirty_pages"));
		if (why)
			assert_non_null(strstr(why, "soft-dirty"));
		else
			assert_int_equal((long long)tu_metric(r, "soft_dirty_pages"), PAGES);
		json_t *p = tu_phase(w, rep, "iouring-fork-pin");
		assert_int_equal(tu_int(p, "copied"), 0);
		assert_true(tu_metric(p, "write_faults") <= PAGES / 50);
		assert_int_equal((long long)tu_metric(p, "lost_sync_pages"), 0);
	}
	json_decref(w);
}

/* S7e with a plain reference (vmsplice, FOLL_GET, no unshare): nothing is
 * copied at registration, the parent's write on the shared page copies
 * (necessary: the child maps it) and the pipe keeps the old data; once
 * the child wrote its own copy and exited, the parent is the only mapper
 * and still copies because of the pipe's references (extra copies). */
static void test_vmsplice_pin_after_fork(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "size=1M", "pin=vmsplice", "event=all" };
	json_t *w = tu_run("longterm-pin", 1, kv, 3);
	assert_int_equal(tu_int(tu_phase(w, 0, "vmsplice-fork-pin-register"), "copied"), 0);
	json_t *p = tu_phase(w, 0, "vmsplice-fork-pin");
	assert_int_equal(tu_int(p, "necessary_copies"), PAGES);
	assert_int_equal((long long)tu_metric(p, "lost_sync_pages"), PAGES);
	p = tu_phase(w, 0, "vmsplice-fork-pin-child");
	assert_int_equal(tu_int(p, "extra_copies"), PAGES);
	assert_int_equal((long long)tu_metric(p, "lost_sync_pages"), PAGES);
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iouring_fork_coherent),
		cmocka_unit_test(test_vmsplice_fork_keeps_old_data),
		cmocka_unit_test(test_no_event_in_sync),
		cmocka_unit_test(test_clear_refs_skipped_with_reason),
		cmocka_unit_test(test_iouring_pageout_keeps_pages),
		cmocka_unit_test(test_iouring_pin_after_fork),
		cmocka_unit_test(test_vmsplice_pin_after_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
