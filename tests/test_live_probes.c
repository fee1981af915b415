/* The probe suite (the probe:* workloads) on the running kernel (6.18),
 * run through the harness like `cowbench probe`: it must classify it as the
 * exclusive era, with the outcomes measured.md lists for 6.18. */
#include "testutil.h"
#include "fingerprint.h"

static json_t *fp, *workloads;

static int collect(void **state)
{
	(void)state;
	if (geteuid())
		return 0;
	char err[256];
	if (cb_journal_begin(err, sizeof err))
		fail_msg("%s", err);
	struct cb_run_opts o = { .reps = 1 };
	uint64_t t0 = cb_now_ns();
	workloads = cb_runner_suite(CB_SUITE_PROBE, &o);
	json_t *doc = json_pack("{s:o, s:O}", "env", cb_env_collect(), "workloads", workloads);
	fp = cb_fingerprint_of(doc);
	json_decref(doc);
	json_object_set_new(fp, "test_elapsed_ns", json_integer((json_int_t)(cb_now_ns() - t0)));
	return cb_journal_restore(false);
}

static int drop(void **state)
{
	(void)state;
	json_decref(fp);
	json_decref(workloads);
	return 0;
}

static json_t *scenario(const char *id)
{
	json_t *o = json_object_get(json_object_get(fp, "scenarios"), id);
	assert_non_null(o);
	json_t *why = json_object_get(o, "skipped");
	if (json_is_string(why))
		fail_msg("%s skipped: %s", id, json_string_value(why));
	return o;
}

static void test_classified_exclusive(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	assert_string_equal(json_string_value(json_object_get(fp, "era_by_behaviour")),
			    "exclusive");
	assert_string_equal(json_string_value(json_object_get(fp, "era_by_version")),
			    "exclusive");
	assert_true(json_is_false(json_object_get(fp, "mismatch")));
}

static void test_ksm_single_mapper_copied(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *o = scenario("S5a");
	assert_int_equal(tu_int(o, "pages"), 256);
	assert_int_equal(tu_int(o, "copied"), 256);
}

static void test_swap_read_then_write_reused(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *o = scenario("S3a");
	assert_int_equal(tu_int(o, "pages"), 256);
	/* approximately: a stray reference may copy a few */
	assert_true(tu_int(o, "reused") >= 240);
	assert_true(tu_int(o, "copied") <= 16);
}

/* The pins stay coherent; the child's vmsplice does not leak (6.18). */
static void test_pins_in_sync(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	assert_int_equal(tu_int(scenario("S7a"), "lost_sync"), 0);
	assert_int_equal(tu_int(scenario("S7a"), "copied"), 0);
	assert_int_equal(tu_int(scenario("S7c"), "lost_sync"), 0);
	assert_int_equal(tu_int(scenario("S6c"), "lost_sync"), 0);
	assert_int_equal(tu_int(scenario("S6c"), "copied"), 256);
}

/* No soft-dirty here: S6b and S7b are skipped with the reason. */
static void test_softdirty_scenarios_skipped(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	json_t *sc = json_object_get(fp, "scenarios");
	for (const char **id = (const char *[]){ "S6b", "S7b", NULL }; *id; id++) {
		json_t *o = json_object_get(sc, *id);
		const char *why = json_string_value(json_object_get(o, "skipped"));
		assert_non_null(why);
		assert_non_null(strstr(why, "soft-dirty"));
		assert_true(json_is_null(json_object_get(o, "copied")));
	}
}

/* Each probe is a workload of the probe suite whose one measured phase is
 * named after its scenario and tracked by the harness. */
static void test_probes_are_workloads(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	assert_int_equal(json_array_size(workloads), 12);
	json_t *s3a = NULL;
	size_t i;
	json_t *w;
	json_array_foreach(workloads, i, w) {
		assert_string_equal(json_string_value(json_object_get(w, "suite")), "probe");
		if (!strcmp(json_string_value(json_object_get(w, "name")), "probe:s3a"))
			s3a = w;
	}
	assert_non_null(s3a);
	json_t *p = tu_phase(s3a, 0, "S3a");
	assert_int_equal(tu_int(p, "pages"), 256);
	assert_true(json_is_true(json_object_get(p, "pfn_tracking")));
}

/* The whole set is fast enough to run before every result document. */
static void test_fast(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	assert_true(json_integer_value(json_object_get(fp, "test_elapsed_ns")) < 5000000000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classified_exclusive),
		cmocka_unit_test(test_ksm_single_mapper_copied),
		cmocka_unit_test(test_swap_read_then_write_reused),
		cmocka_unit_test(test_pins_in_sync),
		cmocka_unit_test(test_softdirty_scenarios_skipped),
		cmocka_unit_test(test_probes_are_workloads),
		cmocka_unit_test(test_fast),
	};
	return cmocka_run_group_tests(tests, collect, drop);
}
