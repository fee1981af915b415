/* Scaling rules: the cgroup slack of sanitizer builds grows with what the
 * children touch, and every sized workload declares its footprint. */
#include "testutil.h"

static void test_sanitizer_slack_grows_with_size(void **state)
{
	(void)state;
	assert_int_equal(cb_cgroup_sanitizer_slack(1ull << 30, false), 0);
	/* The worker measured ~11 MiB above its 16 MiB limit at the defaults. */
	assert_true(cb_cgroup_sanitizer_slack(32ull << 20, true) >= (11ull << 20));
	/* One shadow byte per eight touched: a fixed slack cannot hold 1 GiB. */
	assert_true(cb_cgroup_sanitizer_slack(1ull << 30, true) >= (128ull << 20));
	assert_true(cb_cgroup_sanitizer_slack(2ull << 30, true) >
		    cb_cgroup_sanitizer_slack(1ull << 30, true));
}

/* A workload with a size option must say how much memory a size costs:
 * the size check refuses by it. */
static void test_sized_workloads_declare_footprint(void **state)
{
	(void)state;
	for (int i = 0; cb_workload_table[i]; i++) {
		const struct cb_workload *w = cb_workload_table[i];
		if (!cb_opt_find(w->opts, "size"))
			continue;
		if (w->footprint < 1)
			fail_msg("%s has a size option but no .footprint >= 1", w->name);
		if (w->footprint_per && !cb_opt_find(w->opts, w->footprint_per))
			fail_msg("%s: footprint_per names no option '%s'", w->name,
				 w->footprint_per);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitizer_slack_grows_with_size),
		cmocka_unit_test(test_sized_workloads_declare_footprint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
