/* The era classifier on hand-made probe outcomes of the three eras (the
 * outcomes eras.md and measured.md give for 5.7, 5.10 and 6.18), and the
 * outcomes read from probe workloads' results as a document holds them. */
#include "testutil.h"
#include "fingerprint.h"

#define NA -1

static void put(json_t *sc, const char *id, long pages, long copied, long reused, long lost)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:n}", "pages", (json_int_t)pages, "copied",
			      (json_int_t)copied, "reused", (json_int_t)reused, "skipped");
	json_object_set_new(o, "lost_sync", lost == NA ? json_null() : json_integer(lost));
	json_object_set_new(sc, id, o);
}

static void skipped(json_t *sc, const char *id)
{
	json_object_set_new(sc, id, json_pack("{s:n, s:n, s:n, s:n, s:s}", "pages", "copied",
					      "reused", "lost_sync", "skipped", "no soft-dirty"));
}

/* <= 5.7: mapcount decides; KSM reuse (5.1+), vmsplice leak, pin lost at fork. */
static json_t *mapcount_era(void)
{
	json_t *sc = json_object();
	put(sc, "S2", 256, 0, 256, NA);
	put(sc, "S3a", 256, 0, 256, NA);
	put(sc, "S3b", 256, 0, 256, NA);
	put(sc, "S4", 256, 0, 256, NA);
	put(sc, "S5a", 256, 0, 256, NA);
	skipped(sc, "S6b");
	put(sc, "S6c", 256, 0, 256, 256);
	put(sc, "S7a", 256, 256, 0, 256);
	put(sc, "S7b", 256, 0, 256, 0);
	put(sc, "S7c", 256, 0, 256, 0);
	put(sc, "S7d", 256, 0, 256, 0);
	put(sc, "S9c", 512, 0, 512, NA);
	return sc;
}

/* 5.10: page_count; disk-swap read-then-write copies, pin + uffd-wp lost. */
static json_t *page_count_era(void)
{
	json_t *sc = json_object();
	put(sc, "S2", 256, 1, 255, NA);
	put(sc, "S3a", 256, 256, 0, NA);
	put(sc, "S3b", 256, 0, 256, NA);
	put(sc, "S4", 256, 15, 241, NA);
	put(sc, "S5a", 256, 256, 0, NA);
	skipped(sc, "S6b");
	put(sc, "S6c", 256, 256, 0, 0);
	put(sc, "S7a", 256, 0, 256, 0);
	put(sc, "S7b", 256, 0, 256, 0);
	put(sc, "S7c", 256, 256, 0, 256);
	put(sc, "S7d", 256, 0, 256, 0);
	put(sc, "S9c", 512, 512, 0, NA);
	return sc;
}

/* 6.12: exclusive bit; a burst of stray-reference copies in S2. */
static json_t *exclusive_era(void)
{
	json_t *sc = json_object();
	put(sc, "S2", 256, 29, 227, NA);
	put(sc, "S3a", 256, 0, 256, NA);
	put(sc, "S3b", 256, 0, 256, NA);
	put(sc, "S4", 256, 0, 256, NA);
	put(sc, "S5a", 256, 256, 0, NA);
	skipped(sc, "S6b");
	put(sc, "S6c", 256, 256, 0, 0);
	put(sc, "S7a", 256, 0, 256, 0);
	skipped(sc, "S7b");
	put(sc, "S7c", 256, 0, 256, 0);
	put(sc, "S7d", 256, 0, 256, 0);
	put(sc, "S9c", 512, 512, 0, NA);
	return sc;
}

static void expect(json_t *sc, const char *era)
{
	json_t *ev = json_array();
	assert_string_equal(cb_fingerprint_classify(sc, ev), era);
	assert_true(json_array_size(ev) > 0);
	json_decref(ev);
	json_decref(sc);
}

static void test_mapcount(void **state) { (void)state; expect(mapcount_era(), "mapcount"); }
static void test_page_count(void **state) { (void)state; expect(page_count_era(), "page_count"); }
static void test_exclusive(void **state) { (void)state; expect(exclusive_era(), "exclusive"); }

/* Each page_count rule alone is enough: S3a skipped (no swap), S7c kept. */
static void test_page_count_without_swap(void **state)
{
	(void)state;
	json_t *sc = page_count_era();
	skipped(sc, "S3a");
	skipped(sc, "S7d");
	expect(sc, "page_count");
}

/* 5.18 reuses at swap-in but still loses the uffd-wp'd pin. */
static void test_5_18_is_page_count(void **state)
{
	(void)state;
	json_t *sc = page_count_era();
	put(sc, "S3a", 256, 0, 256, NA);
	put(sc, "S4", 256, 0, 256, NA);
	expect(sc, "page_count");
}

/* Without a probe that rules the mapcount era out, reuse alone proves nothing. */
static void test_reuse_alone_is_unknown(void **state)
{
	(void)state;
	json_t *sc = exclusive_era();
	skipped(sc, "S5a");
	skipped(sc, "S6c");
	skipped(sc, "S7a");
	assert_string_equal(cb_fingerprint_classify(sc, NULL), "unknown");
	json_decref(sc);
}

/* mapcount (KSM reuse, pin lost at fork) against page_count (vmsplice pipe
 * in sync, pin lost after uffd-wp): two outcomes each way. */
static void test_conflict_is_ambiguous(void **state)
{
	(void)state;
	json_t *sc = exclusive_era();
	put(sc, "S5a", 256, 0, 256, NA);
	put(sc, "S7a", 256, 256, 0, 256);
	put(sc, "S7c", 256, 256, 0, 256);
	assert_string_equal(cb_fingerprint_classify(sc, NULL), "ambiguous");
	json_decref(sc);
}

/* One odd outcome does not flip the era against several others: a 6.12 run
 * whose KSM probe was fooled (S5a "reused") stays exclusive, and the
 * evidence still says which outcome the exclusive era cannot produce. */
static void test_one_odd_scenario_is_outvoted(void **state)
{
	(void)state;
	json_t *sc = exclusive_era(), *ev = json_array();
	put(sc, "S5a", 256, 0, 256, NA);
	assert_string_equal(cb_fingerprint_classify(sc, ev), "exclusive");
	size_t i, against = 0;
	json_t *r;
	json_array_foreach(ev, i, r) {
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(r, "against"), k, v)
			if (!strcmp(json_string_value(v), "exclusive")) {
				assert_string_equal(json_string_value(json_object_get(r, "scenario")),
						    "S5a");
				against++;
			}
	}
	assert_int_equal(against, 1);
	json_decref(ev);
	json_decref(sc);
}

/* Outcomes only the older era produces, with nothing against them, flip it. */
static void test_uncontested_outcomes_flip(void **state)
{
	(void)state;
	json_t *sc = exclusive_era();
	put(sc, "S3a", 256, 256, 0, NA);
	put(sc, "S7c", 256, 256, 0, 256);
	assert_string_equal(cb_fingerprint_classify(sc, NULL), "page_count");
	json_decref(sc);
}

static void test_all_skipped_is_unknown(void **state)
{
	(void)state;
	json_t *sc = json_object();
	const char *ids[] = { "S2", "S3a", "S3b", "S4", "S5a", "S6b", "S6c", "S7a", "S7b",
			      "S7c", "S7d", "S9c" };
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
		skipped(sc, ids[i]);
	assert_string_equal(cb_fingerprint_classify(sc, NULL), "unknown");
	json_decref(sc);
}

/* A probe workload's result object with one repetition and the phase
 * (named after the scenario) given, as the harness writes it. */
static json_t *probe_result(const char *id, json_t *phase)
{
	json_t *rep = json_pack("{s:i, s:[o], s:n, s:n}", "rep", 0, "phases", phase, "skipped",
				"error");
	return json_pack("{s:s, s:s, s:s, s:s, s:n, s:[o]}", "name", "probe:x", "suite",
			 "probe", "description", "a probe", "scenarios", id, "skipped", "reps",
			 rep);
}

static json_t *phase(const char *id, long pages, long copied, long reused)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:{}, s:{}, s:n}", "name", id, "pages",
			 (json_int_t)pages, "copied", (json_int_t)copied, "reused",
			 (json_int_t)reused, "swapped_in", (json_int_t)0, "elapsed_ns",
			 (json_int_t)2000000, "metrics", "unavailable", "skipped");
}

/* Counts come from the phase named after the scenario; lost_sync from its
 * metric; a fresh swap-in is no COW decision and leaves pages. */
static void test_scenarios_from_phases(void **state)
{
	(void)state;
	json_t *s3b = phase("S3b", 256, 0, 200), *s7c = phase("S7c", 256, 0, 256);
	json_object_set_new(s3b, "swapped_in", json_integer(56));
	json_object_set_new(json_object_get(s7c, "metrics"), "lost_sync",
			    json_pack("{s:f, s:s}", "value", 0.0, "unit", "pages"));
	json_t *ws = json_pack("[o, o, {s:s, s:s}]", probe_result("S3b", s3b),
			       probe_result("S7c", s7c), "name", "fork-basic", "suite", "mission");
	json_t *sc = cb_fingerprint_scenarios(ws);
	assert_int_equal(json_object_size(sc), 2);
	json_t *o = json_object_get(sc, "S3b");
	assert_int_equal(json_integer_value(json_object_get(o, "pages")), 200);
	assert_int_equal(json_integer_value(json_object_get(o, "reused")), 200);
	assert_true(json_is_null(json_object_get(o, "lost_sync")));
	assert_true(json_is_null(json_object_get(o, "skipped")));
	assert_string_equal(json_string_value(json_object_get(o, "description")), "a probe");
	o = json_object_get(sc, "S7c");
	assert_int_equal(json_integer_value(json_object_get(o, "lost_sync")), 0);
	assert_true(json_real_value(json_object_get(o, "elapsed_ms")) == 2.0);
	json_decref(sc);
	json_decref(ws);
}

/* A skip anywhere (workload, repetition, phase) or a failed page tracker
 * leaves null counts and the reason. */
static void test_skips_from_results(void **state)
{
	(void)state;
	json_t *skipped_phase = phase("S7b", 0, 0, 0);
	json_object_set_new(skipped_phase, "skipped", json_string("no soft-dirty"));
	json_t *no_pfn = phase("S2", 256, 0, 0);
	json_object_set_new(no_pfn, "copied", json_null());
	json_object_set_new(json_object_get(no_pfn, "unavailable"), "copied",
			    json_string("not root"));
	json_t *no_ksm = probe_result("S5a", phase("S5a", 1, 1, 0));
	json_object_set_new(no_ksm, "skipped", json_string("no KSM"));
	json_object_set_new(no_ksm, "reps", json_array());
	json_t *failed = probe_result("S4", phase("S4", 1, 1, 0));
	json_object_set_new(json_array_get(json_object_get(failed, "reps"), 0), "error",
			    json_string("UFFDIO_COPY failed"));
	json_t *ws = json_pack("[o, o, o, o]", probe_result("S7b", skipped_phase),
			       probe_result("S2", no_pfn), no_ksm, failed);
	json_t *sc = cb_fingerprint_scenarios(ws);
	const char *want[][2] = { { "S7b", "no soft-dirty" }, { "S2", "page tracker: not root" },
				  { "S5a", "no KSM" }, { "S4", "UFFDIO_COPY failed" } };
	for (size_t i = 0; i < 4; i++) {
		json_t *o = json_object_get(sc, want[i][0]);
		assert_string_equal(json_string_value(json_object_get(o, "skipped")), want[i][1]);
		assert_true(json_is_null(json_object_get(o, "copied")));
		assert_true(json_is_null(json_object_get(o, "pages")));
	}
	json_decref(sc);
	json_decref(ws);
}

/* The document's kernel gives the version's era; behaviour against it. */
static void test_fingerprint_of_document(void **state)
{
	(void)state;
	json_t *ws = json_array();
	json_t *sc = page_count_era();
	const char *id;
	json_t *o;
	json_object_foreach(sc, id, o) {
		json_t *p = phase(id, json_integer_value(json_object_get(o, "pages")),
				  json_integer_value(json_object_get(o, "copied")),
				  json_integer_value(json_object_get(o, "reused")));
		json_t *lost = json_object_get(o, "lost_sync");
		if (json_is_integer(lost))
			json_object_set_new(json_object_get(p, "metrics"), "lost_sync",
					    json_pack("{s:f, s:s}", "value",
						      (double)json_integer_value(lost), "unit",
						      "pages"));
		if (json_is_string(json_object_get(o, "skipped")))
			json_object_set(p, "skipped", json_object_get(o, "skipped"));
		json_array_append_new(ws, probe_result(id, p));
	}
	json_t *doc = json_pack("{s:{s:{s:s, s:s}}, s:o}", "env", "kernel", "release",
				"6.1.0-56-amd64", "era_by_version", "exclusive", "workloads", ws);
	json_t *fp = cb_fingerprint_of(doc);
	assert_string_equal(json_string_value(json_object_get(fp, "era_by_behaviour")),
			    "page_count");
	assert_string_equal(json_string_value(json_object_get(fp, "era_by_version")),
			    "exclusive");
	assert_string_equal(json_string_value(json_object_get(fp, "release")), "6.1.0-56-amd64");
	assert_true(json_is_true(json_object_get(fp, "mismatch")));
	assert_int_equal(json_object_size(json_object_get(fp, "scenarios")), 12);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fp, "scores"),
							    "page_count>exclusive")), 3);
	json_decref(fp);
	json_decref(doc);
	json_decref(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapcount),
		cmocka_unit_test(test_page_count),
		cmocka_unit_test(test_one_odd_scenario_is_outvoted),
		cmocka_unit_test(test_uncontested_outcomes_flip),
		cmocka_unit_test(test_exclusive),
		cmocka_unit_test(test_page_count_without_swap),
		cmocka_unit_test(test_5_18_is_page_count),
		cmocka_unit_test(test_reuse_alone_is_unknown),
		cmocka_unit_test(test_conflict_is_ambiguous),
		cmocka_unit_test(test_all_skipped_is_unknown),
		cmocka_unit_test(test_scenarios_from_phases),
		cmocka_unit_test(test_skips_from_results),
		cmocka_unit_test(test_fingerprint_of_document),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
