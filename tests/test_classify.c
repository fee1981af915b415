/* The era classifier on hand-made probe outcomes of the three eras (the
 * outcomes eras.md and measured.md give for 5.7, 5.10 and 6.18). */
#include "testutil.h"
#include "probes.h"

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
