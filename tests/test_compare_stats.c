/* Statistics and loading of `cowbench compare` against known values.
 * Expected numbers were computed independently with SciPy 1.10.1
 * (numpy.median, scipy.stats.t.ppf/cdf, scipy.stats.ttest_ind(equal_var=False),
 * scipy.stats.hmean) and are constants here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "summary.h"
#include "testutil.h"

#define CMP FIXTURES "/compare"

static void near(double got, double want, double rel)
{
	if (!(fabs(got - want) <= rel * fabs(want) + 1e-300))
		fail_msg("got %.17g, want %.17g", got, want);
}

static const double A[] = { 3.1, 2.9, 3.4, 3.0, 3.6 };
static const double B[] = { 4.2, 3.9, 4.8, 4.4, 4.0, 4.6 };

static void test_median_mean_sd(void **state)
{
	(void)state;
	near(an_median(A, 5), 3.1, 1e-15);
	near(an_median(B, 6), 4.3, 1e-15); /* even n: mean of the middle two */
	near(an_mean(A, 5), 3.2, 1e-15);
	near(an_sd(A, 5), 0.29154759474226505, 1e-12);
	assert_true(isnan(an_sd(A, 1)));
	assert_true(isnan(an_median(A, 0)));
}

static void test_t_distribution(void **state)
{
	(void)state;
	near(an_t_quantile(0.975, 4), 2.7764451051977987, 1e-10);
	near(an_t_quantile(0.975, 2.5), 3.5746548420118773, 1e-10);
	near(an_t_quantile(0.995, 30), 2.7499956535670305, 1e-10);
	near(an_t_cdf(1.5, 3), 0.88470806737758856, 1e-10);
	near(an_t_cdf(-2.2, 7.3), 0.031084582700011767, 1e-9);
}

static void test_ci(void **state)
{
	(void)state;
	struct an_stats s;
	an_stats(A, 5, AN_TIME, &s);
	near(s.center, 3.2, 1e-15);
	near(s.lo, 2.8379958478456278, 1e-10);
	near(s.hi, 3.5620041521543726, 1e-10);
	an_stats(A, 5, AN_COUNT, &s); /* counts: the median, exactly */
	near(s.center, 3.1, 1e-15);
	near(s.min, 2.9, 0);
	near(s.max, 3.6, 0);
	/* Rates: harmonic mean; the reciprocal interval's upper end passes 0. */
	static const double R[] = { 100, 200, 400 };
	an_stats(R, 3, AN_RATE, &s);
	near(s.center, 171.42857142857144, 1e-14);
	near(s.lo, 65.275042288325679, 1e-9);
	assert_true(isinf(s.hi));
}

static void test_welch(void **state)
{
	(void)state;
	near(an_welch_p(A, 5, B, 6), 0.00026541373167446547, 1e-8);
	static const double s1[] = { 1, 2, 3 }, s2[] = { 4, 5, 6, 7 };
	near(an_welch_p(s1, 3, s2, 4), 0.010076943347988853, 1e-8);
	static const double n1[] = { 10, 11, 12, 13 }, n2[] = { 10.5, 11.5, 12.5, 13.5, 11 };
	near(an_welch_p(n1, 4, n2, 5), 0.73278445606032294, 1e-8);
	static const double c0[] = { 0, 0, 0 }, c1[] = { 256, 256, 256 }, r[] = { 1, 0, 2 };
	near(an_welch_p(r, 3, c0, 3), 0.22540333075851657, 1e-8);
	/* Both constant: exact difference (0) or none (1); too few values: untested. */
	assert_true(an_welch_p(c1, 3, c0, 3) == 0);
	assert_true(an_welch_p(c0, 3, c0, 3) == 1);
	assert_true(isnan(an_welch_p(c0, 1, c1, 3)));
	assert_string_equal(an_sig_mark(0.004), "**");
	assert_string_equal(an_sig_mark(0.03), "*");
	assert_string_equal(an_sig_mark(0.2), "");
}

static void test_table_from_fixtures(void **state)
{
	(void)state;
	static struct an_set s;
	char err[512];
	assert_int_equal(an_load_path(&s, CMP "/synthetic-6.1.json", err, sizeof err), 0);
	assert_int_equal(an_load_path(&s, CMP "/synthetic-5.10.json", err, sizeof err), 0);
	assert_string_equal(s.r[0].label, "6.1.192-synthetic (exclusive)");
	assert_string_equal(s.r[1].label, "5.10.262-synthetic (page_count)");
	struct an_table t;
	an_table_build(&t, &s, 0);
	const struct an_row *row = NULL;
	for (int i = 0; i < t.n && !row; i++)
		if (!strcmp(t.rows[i].workload, "swap-cycle") && !strcmp(t.rows[i].phase, "write") &&
		    !strcmp(t.rows[i].metric, "copied"))
			row = &t.rows[i];
	assert_non_null(row);
	assert_int_equal(row->ncells, 2);
	const struct an_cell *base = an_find_cell(row, 0), *old = an_find_cell(row, 1);
	assert_true(base->st.median == 0 && old->st.median == 256);
	/* 256 in every rep against 0 in every rep: the exact rank test's
	 * smallest two-sided p for 3 against 3, 2 / C(6, 3); too few
	 * repetitions for a mark. */
	near(old->p, 2.0 / 20, 1e-12);
	assert_string_equal(an_sig_mark(old->p), "");
	assert_true(isnan(old->change));    /* relative change against 0 is undefined */
	struct an_summary S;
	an_summary_build(&S, &t);
	const struct an_srow *sr = NULL;
	for (int i = 0; i < S.n; i++)
		if (!strcmp(S.rows[i].wkey, row->wkey) && !strcmp(S.rows[i].phase, "write"))
			sr = &S.rows[i];
	assert_non_null(sr);
	char *v = an_summary_verdict(&S, sr);
	assert_string_equal(v, "swap-cycle write: 6.1.192 (exclusive) copies 0; 5.10.262 "
			       "(page_count) copies 256 of 256 pages.");
	free(v);
	an_table_free(&t);
	an_set_free(&s);
}

/* A fingerprint that disagrees with the version's era shows in the label. */
static void test_era_mismatch_label(void **state)
{
	(void)state;
	json_t *d = json_load_file(CMP "/synthetic-5.10.json", 0, NULL);
	assert_non_null(d);
	json_object_set_new(json_object_get(d, "fingerprint"), "era_by_behaviour",
			    json_string("exclusive"));
	char path[] = "/tmp/cb-test-mismatch-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(json_dump_file(d, path, 0), 0);
	static struct an_set s;
	char err[512];
	assert_int_equal(an_load_path(&s, path, err, sizeof err), 0);
	assert_string_equal(s.r[0].label, "5.10.262-synthetic (exclusive; version says page_count)");
	assert_true(s.r[0].era_mismatch);
	an_set_free(&s);
	unlink(path);
	json_decref(d);
}

static void expect_reject(const char *file, const char *want)
{
	static struct an_set s;
	char err[512] = "";
	assert_int_equal(an_load_path(&s, file, err, sizeof err), -1);
	if (!strstr(err, want) || !strstr(err, file) || strchr(err, '\n'))
		fail_msg("message '%s' lacks '%s' or the file name", err, want);
	assert_int_equal(s.n, 0);
}

static void test_rejects(void **state)
{
	(void)state;
	/* The first half of a document: jansson reports where it ran out. */
	expect_reject(CMP "/bad/truncated.json", ": invalid JSON: ");
	expect_reject(CMP "/bad/truncated.json", "truncated.json:242:3: invalid JSON: string or '}' expected near end of file");
	expect_reject(CMP "/bad/wrong-type.json",
		      "field workloads[1].reps[2].phases[1].copied: expected number or null, "
		      "got string");
	expect_reject(CMP "/bad/wrong-schema.json",
		      "schema 'cowbench-result/2' is not supported (this cowbench reads "
		      "cowbench-result/1)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median_mean_sd),
		cmocka_unit_test(test_t_distribution),
		cmocka_unit_test(test_ci),
		cmocka_unit_test(test_welch),
		cmocka_unit_test(test_table_from_fixtures),
		cmocka_unit_test(test_era_mismatch_label),
		cmocka_unit_test(test_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
