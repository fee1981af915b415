/* reclaim-pressure on this 6.18 kernel: after fork + child exit the writer
 * reuses its pages (~0 copies), also while a hog keeps the shared cgroup
 * at its limit and reclaim runs; latency and per-GiB metrics are reported;
 * the swap file and the cgroup are gone afterwards. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "outcomes.h"

static double metric(json_t *phase, const char *key, const char *unit)
{
	double v = tu_metric(phase, key);
	json_t *m = json_object_get(json_object_get(phase, "metrics"), key);
	assert_string_equal(json_string_value(json_object_get(m, "unit")), unit);
	return v;
}

static void test_reclaim_pressure(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *w = tu_run("reclaim-pressure", 3, NULL, 0);
	for (int rep = 0; rep < 3; rep++) {
		json_t *r = json_array_get(json_object_get(w, "reps"), (size_t)rep);
		assert_true(json_is_null(json_object_get(r, "error")));
		assert_true(json_is_null(json_object_get(r, "skipped")));
		json_t *b = tu_phase(w, rep, "baseline-write");
		long long pages = tu_int(b, "pages");
		assert_true(tu_int(b, "copied") <= pages / 50); /* S2: reuse */
		tu_check_outcomes(b);
		json_t *p = tu_phase(w, rep, "write-under-reclaim");
		/* the standard keys carry the finding, decided with the fault log */
		assert_string_equal(json_string_value(json_object_get(p, "outcome_method")),
				    "faultlog");
		tu_check_outcomes(p);
		assert_int_equal(tu_int(p, "written"), pages);
		assert_true(tu_int(p, "copied") + tu_int(p, "swapin_copied") <= pages / 20);
		/* reclaim really ran in the cgroup while the worker wrote (v2
		 * only: v1's memory.stat has no such counter) */
		json_t *wr = json_object_get(json_object_get(p, "metrics"),
					     "workingset_refault_anon");
		if (wr)
			assert_true(metric(p, "workingset_refault_anon", "pages") > 0);
		double p50 = metric(p, "write_p50", "ns"), p99 = metric(p, "write_p99", "ns");
		assert_true(p50 > 0 && p50 <= p99 && p99 <= metric(p, "write_max", "ns"));
		json_t *cap = tu_phase(w, rep, "capacity");
		assert_true(metric(cap, "extra_memory", "MiB/GiB") <= 1024.0 / 20);
		assert_true(metric(cap, "extra_swap_io", "MiB/GiB") >= 0);
		assert_true(metric(cap, "swap_io_total", "MiB/GiB") > 0);
	}
	json_decref(w);
	char *s = cb_read_file("/proc/swaps", NULL);
	assert_null(strstr(s, "cowbench"));
	free(s);
	char cg[64];
	snprintf(cg, sizeof cg, "/sys/fs/cgroup/memory/cowbench-%d", (int)getpid());
	assert_int_not_equal(access(cg, F_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reclaim_pressure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
