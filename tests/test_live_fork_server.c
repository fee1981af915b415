/* fork-server on this 6.18 kernel: every page the parent writes while a
 * child maps the heap is copied (S1); after the children exited the writes
 * reuse their pages, but for a few stray per-CPU references (S2). */
#include "outcomes.h"

/* Stray references (a page still in another CPU's LRU batch) make a few
 * copies on any kernel; more than 1% means the policy copied. */
static long long stray_allowance(long long written)
{
	return written / 100 > 8 ? written / 100 : 8;
}

static void check_rep(json_t *w, int rep)
{
	json_t *alive = tu_phase(w, rep, "child-alive");
	long long written = (long long)tu_metric(alive, "pages_written");
	assert_true(written > 0);
	assert_int_equal(tu_int(alive, "copied"), written);
	assert_int_equal(tu_int(alive, "necessary_copies"), written);
	assert_int_equal(tu_int(alive, "copy_bytes"), written * (long long)cb_page_size());
	/* only written pages count: the heap's other pages are neither */
	assert_int_equal(tu_int(alive, "written"), written);
	assert_int_equal(tu_int(alive, "reused"), 0);
	assert_true(tu_check_outcomes(alive));

	json_t *exited = tu_phase(w, rep, "child-exited");
	assert_int_equal((long long)tu_metric(exited, "pages_written"), written);
	long long copied = tu_int(exited, "copied");
	assert_true(copied <= stray_allowance(written));
	assert_int_equal(tu_int(exited, "written"), written);
	assert_true(tu_check_outcomes(exited));
	assert_int_equal(tu_int(exited, "reused") + copied, written);
	/* pgreuse is system-wide: others can only add to it. */
	json_t *reuse = json_object_get(json_object_get(exited, "counters"), "pgreuse");
	assert_true(json_is_integer(reuse));
	assert_true(json_integer_value(reuse) >= tu_int(exited, "reused"));

	json_t *fork = tu_phase(w, rep, "fork");
	assert_true(tu_metric(fork, "fork_ns_per_gib") > 0);
	assert_int_equal(tu_int(fork, "ops"), 1);
}

static void worker_child(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "size=16M", "forks=2", "threads=2", "write_fraction=0.25" };
	json_t *w = tu_run("fork-server", 2, kv, 4);
	for (int rep = 0; rep < 2; rep++) {
		check_rep(w, rep);
		json_t *r = json_array_get(json_object_get(w, "reps"), (size_t)rep);
		assert_true(json_is_null(json_object_get(r, "error")));
		/* Both writer threads recorded where they run, on distinct CPUs when
		 * there are several. */
		json_t *pl = json_object_get(r, "placement");
		assert_int_equal(json_array_size(pl), 2);
		long a = (long)json_integer_value(json_object_get(json_array_get(pl, 0), "cpu"));
		long b = (long)json_integer_value(json_object_get(json_array_get(pl, 1), "cpu"));
		if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
			assert_true(a != b);
		/* The old page of every copy is now the child's alone: Redis's
		 * Private_Dirty of the child covers at least the copies. */
		json_t *alive = tu_phase(w, rep, "child-alive");
		assert_true(tu_metric(alive, "child_private_dirty_bytes") >=
			    (double)tu_int(alive, "copy_bytes"));
	}
	json_decref(w);
}

/* Two snapshot children at once: the parent's copies are the same, but the
 * old pages are shared by both children, so a child's Private_Dirty no
 * longer shows the COW memory. */
static void two_snapshot_children(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	const char *kv[] = { "size=16M", "child=snapshot", "workers=2", "threads=2" };
	json_t *w = tu_run("fork-server", 2, kv, 4);
	for (int rep = 0; rep < 2; rep++) {
		check_rep(w, rep);
		json_t *alive = tu_phase(w, rep, "child-alive");
		assert_true(tu_metric(alive, "child_private_dirty_bytes") <
			    (double)tu_int(alive, "copy_bytes") / 2);
	}
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(worker_child),
		cmocka_unit_test(two_snapshot_children),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
