/* ksm-vms on this 6.18 kernel: identical guest pages merge; every write to
 * a KSM page copies it, whether other guests still map it (S5b) or the
 * writer is its last mapper (S5a: an extra copy on every kernel >= 5.9;
 * only 5.1-5.8 reused it). The KSM knobs are back afterwards. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "outcomes.h"

#define GUESTS 3
#define WRITE_PAGES 128

static long knob(const char *name)
{
	char path[128];
	snprintf(path, sizeof path, "/sys/kernel/mm/ksm/%s", name);
	char *s = cb_read_file(path, NULL);
	if (!s)
		fail_msg("cannot read %s", path);
	long v = atol(s);
	free(s);
	return v;
}

static void check_written(json_t *p, long long pages)
{
	assert_int_equal(tu_int(p, "pages"), pages);
	json_t *t = json_object_get(p, "tracker");
	/* Every written page was a merged page before the write... */
	assert_int_equal(json_integer_value(json_object_get(t, "ksm_before")), pages);
	/* ...and every one was copied, which 5.19+ counts in cow_ksm. */
	assert_int_equal(tu_int(p, "copied"), pages);
	json_t *cow = json_object_get(json_object_get(p, "counters"), "cow_ksm");
	if (json_is_integer(cow))
		assert_true(json_integer_value(cow) >= pages);
}

static void check_rep(json_t *r, json_t *w, int rep)
{
	long long ps = (long long)cb_page_size();
	json_t *settle = tu_phase(w, rep, "settle");
	long long image = (long long)(8 << 20) / ps / 2;
	assert_true(tu_metric(settle, "guests_merging_pages") >= (double)(image * GUESTS));
	assert_true(tu_metric(settle, "full_scans") >= 2);
	assert_true(tu_metric(settle, "memory_saved_bytes") > 0);

	/* S5b: each guest wrote its own slice; the others still map it, so the
	 * copies are necessary and each is new memory. */
	json_t *storm = tu_phase(w, rep, "storm-shared");
	check_written(storm, GUESTS * WRITE_PAGES);
	assert_int_equal(tu_int(storm, "necessary_copies"), GUESTS * WRITE_PAGES);
	assert_true(fabs(tu_metric(storm, "regrown_bytes") - GUESTS * WRITE_PAGES * ps) <= 16 * ps);

	/* S5a: one mapper left; 6.18 copies anyway, and the KSM page is freed,
	 * so the copy grows no memory. */
	json_t *last = tu_phase(w, rep, "last-mapper");
	check_written(last, WRITE_PAGES);
	assert_int_equal(tu_int(last, "extra_copies"), WRITE_PAGES);
	tu_check_outcomes(last);
	/* every extra copy is a KSM page's, where kpageflags can tell */
	if (!json_object_get(json_object_get(last, "cause_limits"), "ksm"))
		assert_int_equal(tu_cause(last, "ksm"), WRITE_PAGES);
	assert_true(fabs(tu_metric(last, "regrown_bytes")) <= 16 * ps);
	(void)r;
}

/* Another agent switching KSM off mid-settle fails that rep with this
 * reason; such a rep tells nothing about the kernel. */
static bool disturbed(json_t *r)
{
	const char *e = json_string_value(json_object_get(r, "error"));
	return e && strstr(e, "someone else controls KSM");
}

static void merge_then_write(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	if (access("/sys/kernel/mm/ksm/run", F_OK))
		skip();
	long run = knob("run"), scan = knob("pages_to_scan"), sleep = knob("sleep_millisecs");
	const char *kv[] = { "guests=3", "size=8M", "write_pages=128" };
	json_t *w = tu_run("ksm-vms", 3, kv, 3);
	int good = 0;
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(w, "reps"), i, r) {
		if (disturbed(r))
			continue;
		if (!json_is_null(json_object_get(r, "error")))
			fail_msg("rep %zu: %s", i, json_string_value(json_object_get(r, "error")));
		check_rep(r, w, (int)i);
		good++;
	}
	assert_true(good >= 1);
	assert_int_equal(knob("run"), run);
	assert_int_equal(knob("pages_to_scan"), scan);
	assert_int_equal(knob("sleep_millisecs"), sleep);
	json_decref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merge_then_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
