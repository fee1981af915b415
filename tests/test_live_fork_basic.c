/* fork-basic on the running kernel, with the answers 6.18 must give. */
#include "testutil.h"

static const char *kv[] = { "size=64M" };
#define PAGES 16384

static void test_child_alive_copies_every_page(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *w = tu_run("fork-basic", 3, kv, 1);
	for (int rep = 0; rep < 3; rep++) {
		json_t *p = tu_phase(w, rep, "child-alive");
		assert_int_equal(tu_int(p, "pages"), PAGES);
		assert_int_equal(tu_int(p, "copied"), PAGES);
		assert_int_equal(tu_int(p, "necessary_copies"), PAGES);
		assert_int_equal(tu_int(p, "extra_copies"), 0);
		assert_int_equal(tu_int(p, "copy_bytes"), PAGES * 4096LL);
		/* every write faulted: at least one minor fault per page */
		assert_true(tu_int(p, "faults_minor") >= PAGES);
	}
	json_decref(w);
}

static void test_child_reaped_reuses(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *w = tu_run("fork-basic", 3, kv, 1);
	for (int rep = 0; rep < 3; rep++) {
		json_t *p = tu_phase(w, rep, "child-reaped");
		long long reused = tu_int(p, "reused"), copied = tu_int(p, "copied");
		assert_int_equal(reused + copied, PAGES);
		/* >= 99% reused; stray per-CPU batch references may copy a few */
		assert_true(reused * 100 >= PAGES * 99LL);
		assert_int_equal(copied, tu_int(p, "extra_copies"));
		/* pgreuse counts the same reuses (system-wide, so allow others) */
		json_t *x = json_object_get(p, "crosscheck");
		assert_non_null(x);
		long long pgreuse = json_integer_value(json_object_get(x, "pgreuse"));
		assert_true(pgreuse >= reused);
		assert_true(pgreuse <= reused + reused / 20 + 256);
	}
	json_decref(w);
}

static void test_distribution_reported(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *w = tu_run("fork-basic", 3, kv, 1);
	json_t *d = json_object_get(json_object_get(json_object_get(w, "summary"),
						    "child-reaped"), "extra_copies");
	assert_int_equal(json_integer_value(json_object_get(d, "n")), 3);
	assert_true(json_number_value(json_object_get(d, "min")) <=
		    json_number_value(json_object_get(d, "median")));
	assert_true(json_number_value(json_object_get(d, "median")) <=
		    json_number_value(json_object_get(d, "max")));
	assert_int_equal((long long)tu_median(w, "child-alive", "copied"), PAGES);
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_alive_copies_every_page),
		cmocka_unit_test(test_child_reaped_reuses),
		cmocka_unit_test(test_distribution_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
