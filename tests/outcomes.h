/* Checks every live test applies to a phase's outcome keys (issue 11). */
#ifndef COWBENCH_TEST_OUTCOMES_H
#define COWBENCH_TEST_OUTCOMES_H

#include "testutil.h"
#include "tracker.h"

/* written = copied + reused + swapin_copied + swapin_reused + refaulted
 * when the outcome is exact; extra_by_cause adds up to extra_copies; a
 * false outcome_exact carries its reason. Returns outcome_exact. */
static inline bool tu_check_outcomes(json_t *p)
{
	json_t *why = json_object_get(json_object_get(p, "unavailable"), "outcome_exact");
	bool exact = json_is_true(json_object_get(p, "outcome_exact"));
	if (!exact)
		assert_true(json_is_string(why));
	long long w = tu_int(p, "written");
	long long sum = tu_int(p, "copied") + tu_int(p, "reused");
	if (exact) {
		sum += tu_int(p, "swapin_copied") + tu_int(p, "swapin_reused") +
		       tu_int(p, "refaulted");
		if (sum != w)
			fail_msg("%s: outcomes add up to %lld, written %lld",
				 json_string_value(json_object_get(p, "name")), sum, w);
	} else {
		assert_true(sum <= w);
	}
	json_t *bc = json_object_get(p, "extra_by_cause");
	long long causes = 0;
	for (int k = 0; k < CB_CAUSE_N; k++) {
		json_t *v = json_object_get(bc, cb_cause_names[k]);
		assert_true(json_is_integer(v));
		causes += json_integer_value(v);
	}
	assert_int_equal(causes, tu_int(p, "extra_copies"));
	return exact;
}

static inline long long tu_cause(json_t *p, const char *cause)
{
	return json_integer_value(json_object_get(json_object_get(p, "extra_by_cause"), cause));
}

#endif
