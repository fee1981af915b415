/* The seed scenarios (repro:*) on the running kernel (6.18, exclusive-bit
 * era with FOLL_PIN O_DIRECT): nothing is lost, the vmsplice child never
 * sees the parent's later write, and what cannot run here says why. */
#include "testutil.h"

static const char *phase_skip(json_t *p)
{
	return json_string_value(json_object_get(p, "skipped"));
}

static void test_vmsplice_child_no_leak(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "iterations=50" };
	json_t *w = tu_run("repro:vmsplice-child", 1, kv, 1);
	json_t *p = tu_phase(w, 0, "base");
	assert_int_equal((long long)tu_metric(p, "iterations"), 50);
	assert_int_equal((long long)tu_metric(p, "in_flight"), 50);
	/* the pipe's reference makes the parent's write copy: the child's
	 * pipe keeps the old data every time */
	assert_int_equal((long long)tu_metric(p, "lost"), 0);
	assert_int_equal((long long)tu_metric(p, "copies"), 50);
	json_t *t = tu_phase(w, 0, "thp");
	if (!phase_skip(t)) {
		/* a PMD THP under a pipe reference is not reused since 5.18 */
		assert_int_equal((long long)tu_metric(t, "lost"), 0);
		assert_true(tu_metric(t, "copies") >= 45);
	}
	json_decref(w);
}

static void test_uffd_wp_pin_coherent(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "iterations=50" };
	json_t *w = tu_run("repro:uffd-wp-pin", 1, kv, 1);
	json_t *io = tu_phase(w, 0, "iouring");
	assert_int_equal((long long)tu_metric(io, "iterations"), 50);
	/* the pinned page stays AnonExclusive: the write after the cycle
	 * reuses it and the pin sees the data */
	assert_int_equal((long long)tu_metric(io, "lost"), 0);
	assert_int_equal((long long)tu_metric(io, "copies"), 0);
	assert_int_equal((long long)tu_metric(tu_phase(w, 0, "vmsplice"), "lost"), 0);
	/* no rdma_rxe on this kernel: skipped with the reason, never zeros */
	json_t *r = tu_phase(w, 0, "rdma");
	assert_non_null(phase_skip(r));
	assert_non_null(strstr(phase_skip(r), "RDMA"));
	assert_null(json_object_get(json_object_get(r, "metrics"), "lost"));
	json_decref(w);
}

static void test_fork_odirect_in_flight_not_lost(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	/* 32 x 1 MiB reads queued ahead keep the measured read in flight
	 * across fork also when the harness is slow (ASan: 0 of 100 with 8) */
	const char *kv[] = { "iterations=100", "ahead=32", "ahead-size=1M" };
	json_t *w = tu_run("repro:fork-odirect", 1, kv, 3);
	const char *wskip = json_string_value(json_object_get(w, "skipped"));
	json_t *rep = json_array_get(json_object_get(w, "reps"), 0);
	const char *rskip = json_string_value(json_object_get(rep, "skipped"));
	if (wskip || rskip)
		fail_msg("skipped: %s", wskip ? wskip : rskip);
	json_t *p = tu_phase(w, 0, "fork-write");
	assert_int_equal((long long)tu_metric(p, "iterations"), 100);
	/* reads queued ahead keep some measured reads in flight across fork */
	assert_true(tu_metric(p, "in_flight") > 0);
	assert_true(tu_metric(p, "in_flight") <= 100);
	/* O_DIRECT pins with FOLL_PIN since 6.3: fork copies for the child */
	assert_int_equal((long long)tu_metric(p, "lost"), 0);
	assert_int_equal((long long)tu_metric(p, "lost_in_flight"), 0);
	json_decref(w);
}

/* The 2022 race as the thread does it (page[last]++: a load, then a
 * store) and as a plain store, one phase each; an exclusive kernel loses
 * neither, and the phase's fault log decides every written page. (5.10
 * loses 186 of 186 in-flight reads with rmw and 0 with a store: see
 * docs/method.md.) */
static void test_swapout_odirect_access(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "iterations=50", "access=both" };
	json_t *w = tu_run("repro:swapout-odirect", 1, kv, 2);
	json_t *rep = json_array_get(json_object_get(w, "reps"), 0);
	if (json_is_string(json_object_get(w, "skipped")) ||
	    json_is_string(json_object_get(rep, "skipped"))) {
		json_decref(w);
		return;
	}
	assert_true(json_is_null(json_object_get(rep, "error")));
	const char *phases[] = { "pageout-rmw", "pageout-write" };
	for (int i = 0; i < 2; i++) {
		json_t *p = tu_phase(w, 0, phases[i]);
		assert_int_equal((long long)tu_metric(p, "iterations"), 50);
		assert_int_equal((long long)tu_metric(p, "lost_in_flight"), 0);
		assert_int_equal(tu_int(p, "written"), 50);
		assert_true(json_is_string(json_object_get(p, "outcome_method")));
	}
	json_decref(w);
}

/* No soft-dirty here: the 2021 scenario is skipped, not "safe". */
static void test_clear_refs_odirect_skipped(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "iterations=10" };
	json_t *w = tu_run("repro:clear-refs-odirect", 1, kv, 1);
	const char *why = json_string_value(json_object_get(w, "skipped"));
	assert_non_null(why);
	assert_non_null(strstr(why, "soft-dirty"));
	assert_int_equal(json_array_size(json_object_get(w, "reps")), 0);
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmsplice_child_no_leak),
		cmocka_unit_test(test_uffd_wp_pin_coherent),
		cmocka_unit_test(test_fork_odirect_in_flight_not_lost),
		cmocka_unit_test(test_clear_refs_odirect_skipped),
		cmocka_unit_test(test_swapout_odirect_access),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
