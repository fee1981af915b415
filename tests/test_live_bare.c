/* The bare switch of `cowbench bench`: a bare run takes no tracker
 * snapshot, no /proc counters and no perf events, and says so in the
 * phase; a full run of the same workload measures, and both time the
 * phase (elapsed, ns per op, the harness's CPU time). */
#include "testutil.h"

static json_t *run(unsigned bare)
{
	const char *kv[] = { "size=4M" };
	struct cb_run_opts o = { .reps = 1, .kv = kv, .nkv = 1, .bare = bare };
	char err[256] = "";
	json_t *w = cb_runner_opts("fork-basic", &o, err, sizeof err);
	if (!w)
		fail_msg("fork-basic: %s", err);
	return w;
}

static void test_bare_measures_nothing_but_time(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *w = run(CB_BARE_ALL);
	json_t *p = tu_phase(w, 0, "child-alive");
	assert_true(json_is_null(json_object_get(p, "copied")));
	const char *why = json_string_value(
		json_object_get(json_object_get(p, "unavailable"), "copied"));
	assert_non_null(why);
	assert_non_null(strstr(why, "bare"));
	json_t *counters = json_object_get(p, "counters");
	assert_null(json_object_get(counters, "pgreuse"));         /* no /proc/vmstat */
	assert_null(json_object_get(counters, "perf.page-faults-min")); /* no perf */
	assert_true(json_integer_value(json_object_get(counters, "harness.cpu_ns")) > 0);
	assert_true(tu_int(p, "elapsed_ns") > 0);
	assert_true(json_number_value(json_object_get(p, "ns_per_op")) > 0);
	json_decref(w);
}

static void test_full_measures(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *w = run(0);
	json_t *p = tu_phase(w, 0, "child-alive");
	assert_int_equal(tu_int(p, "copied"), 1024);
	json_t *counters = json_object_get(p, "counters");
	assert_non_null(json_object_get(counters, "pgreuse"));
	assert_true(json_integer_value(json_object_get(counters, "harness.cpu_ns")) > 0);
	json_decref(w);
}

/* Perf only: the tracker and the counters are off, perf counts. */
static void test_perf_only(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *w = run(CB_BARE_TRACKER | CB_BARE_COUNTERS);
	json_t *p = tu_phase(w, 0, "child-alive");
	assert_true(json_is_null(json_object_get(p, "copied")));
	assert_true(tu_int(p, "faults_minor") >= 1024);
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_measures_nothing_but_time),
		cmocka_unit_test(test_full_measures),
		cmocka_unit_test(test_perf_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
