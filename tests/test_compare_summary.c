/* The summary of `cowbench compare` on the committed kernel matrix
 * (results/, real data): verdicts say what their cells say, counts never
 * get a negative bound, and the rank test behaves on counts. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capacity.h"
#include "model.h"
#include "summary.h"

#define RESULTS FIXTURES "/../../results"
#define CMP FIXTURES "/compare"

static struct an_set set;
static struct an_table table;

static int load(const char *path)
{
	char err[512];
	an_set_free(&set);
	if (an_load_path(&set, path, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	an_table_build(&table, &set, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	an_table_free(&table);
	an_set_free(&set);
	return 0;
}

static int setup_results(void **state)
{
	(void)state;
	return load(RESULTS);
}

static int setup_fixtures(void **state)
{
	(void)state;
	return load(CMP);
}

/* Whether the names part of a clause (before " cop") holds the kernel:
 * its short name, followed by its era before any other era closes. */
static bool names_kernel(const char *clause, const char *name, const char *era)
{
	const char *verb = strstr(clause, " cop");
	size_t nl = strlen(name);
	for (const char *p = clause; (p = strstr(p, name)) && p < verb; p += nl) {
		bool starts = p == clause || p[-1] == ' ';
		bool ends = p[nl] == ' ' || p[nl] == ',';
		const char *open = strchr(p, '(');
		if (starts && ends && open && open < verb &&
		    !strncmp(open + 1, era, strlen(era)) && open[1 + strlen(era)] == ')')
			return true;
	}
	return false;
}

/* The clause of verdict v that states the value n ("copy n" or "copies n"). */
static bool clause_with(const char *v, double n, char *out, size_t len)
{
	char want1[64], want2[64];
	snprintf(want1, sizeof want1, " copy %.0f", n);
	snprintf(want2, sizeof want2, " copies %.0f", n);
	const char *start = strstr(v, ": ");
	for (start = start ? start + 2 : v; *start;) {
		const char *end = strstr(start, "; ");
		size_t len_c = end ? (size_t)(end - start) : strlen(start);
		snprintf(out, len, "%.*s", (int)len_c, start);
		const char *verb = strstr(out, " cop");
		if (verb && (!strncmp(verb, want1, strlen(want1)) ||
			     !strncmp(verb, want2, strlen(want2)))) {
			char after = verb[!strncmp(verb, want1, strlen(want1)) ? strlen(want1)
									: strlen(want2)];
			if (after == 0 || after == ' ' || after == '.')
				return true;
		}
		if (!end)
			break;
		start = end + 2;
	}
	return false;
}

/* Each kernel is named in the one clause that states its copies median. */
static void check_verdicts(const struct an_summary *S)
{
	for (int i = 0; i < S->n; i++) {
		const struct an_srow *r = &S->rows[i];
		char *v = an_summary_verdict(S, r);
		for (int k = 0; k < S->v.nk; k++) {
			const struct an_result *res = &S->t->set->r[S->v.order[k]];
			const struct an_cell *c = an_find_cell(r->copies, S->v.order[k]);
			char name[32], clause[1024];
			an_short_name(res, name, sizeof name, 12);
			if (!c)
				continue;
			if (!clause_with(v, c->st.median, clause, sizeof clause))
				fail_msg("'%s' states no %.0f, %s's copies", v, c->st.median, name);
			if (!names_kernel(clause, name, an_era_of(res)))
				fail_msg("'%s': %s (%s) copies %.0f, but the clause '%s' does not name "
					 "it", v, name, an_era_of(res), c->st.median, clause);
		}
		free(v);
	}
}

static int setup_newkeys(void **state)
{
	(void)state;
	return load(CMP "/newkeys");
}

/* Documents with the issue-11 keys: `written` is the denominator, the
 * causes are rows, and a sweep of three sizes gives a slope. */
static void test_newkeys(void **state)
{
	(void)state;
	static struct an_summary S;
	an_summary_build(&S, &table);
	assert_int_equal(S.n, 3); /* write-under-reclaim at 4M, 8M, 16M */
	for (int i = 0; i < S.n; i++) {
		assert_string_equal(S.rows[i].denom_metric, "written");
		assert_null(S.rows[i].stand_in);
		assert_non_null(an_find_row(&table, S.rows[i].wkey, S.rows[i].phase,
					    "extra_by_cause.swapcache"));
	}
	check_verdicts(&S);
	struct an_cap_row rows[AN_MAX_RESULTS];
	int n = an_capacity(&S.v, rows);
	assert_int_equal(n, 2);
	/* page_count: half of every page copied (and 1 more in odd repetitions),
	 * 512 MiB per GiB; exclusive: none. */
	for (int i = 0; i < n; i++) {
		bool pc = !strcmp(an_era_of(&set.r[rows[i].result]), "page_count");
		assert_int_equal(rows[i].n, 3);
		if (!(fabs(rows[i].slope - (pc ? 512 : 0)) < 1))
			fail_msg("slope %g, want %d", rows[i].slope, pc ? 512 : 0);
	}
}

static void test_verdicts_match_cells(void **state)
{
	(void)state;
	static struct an_summary S;
	an_summary_build(&S, &table);
	assert_true(S.n > 0);
	check_verdicts(&S);
}

/* The reclaim verdict names every kernel that copies under reclaim, with
 * its copies (the old report said "every kernel makes the same copy/reuse
 * decisions" while 5.10 copied 1722 pages the others reused). */
static void test_reclaim_verdict(void **state)
{
	(void)state;
	static struct an_summary S;
	an_summary_build(&S, &table);
	const struct an_srow *r = NULL;
	for (int i = 0; i < S.n; i++)
		if (!strcmp(S.rows[i].workload, "reclaim-pressure") &&
		    !strcmp(S.rows[i].phase, "write-under-reclaim"))
			r = &S.rows[i];
	if (!r)
		skip(); /* every kernel agrees in these results */
	char *v = an_summary_verdict(&S, r);
	int copying = 0;
	for (int k = 0; k < S.v.nk; k++) {
		const struct an_cell *c = an_find_cell(r->copies, S.v.order[k]);
		if (!c || c->st.median == 0)
			continue;
		char name[32], clause[1024];
		const struct an_result *res = &S.t->set->r[S.v.order[k]];
		an_short_name(res, name, sizeof name, 12);
		if (!clause_with(v, c->st.median, clause, sizeof clause) ||
		    !names_kernel(clause, name, an_era_of(res)))
			fail_msg("'%s' does not name %s, which copies %.0f", v, name, c->st.median);
		copying++;
	}
	assert_true(copying > 0);
	assert_null(strstr(v, "same"));
	free(v);
}

/* No interval of a count reaches below 0 when its values do not. */
static void test_no_negative_count_bound(void **state)
{
	(void)state;
	int counts = 0;
	for (int i = 0; i < table.n; i++) {
		const struct an_row *row = &table.rows[i];
		if (row->kind != AN_COUNT)
			continue;
		for (int c = 0; c < row->ncells; c++) {
			const struct an_stats *st = &row->cells[c].st;
			counts++;
			if (st->min >= 0 && !isnan(st->lo) && st->lo < 0)
				fail_msg("%s %s %s: interval %g .. %g below 0", row->workload,
					 row->phase, row->metric, st->lo, st->hi);
			if (!isnan(st->lo) && (st->lo < st->min || st->hi > st->max))
				fail_msg("%s %s %s: interval outside the values", row->workload,
					 row->phase, row->metric);
		}
	}
	assert_true(counts > 100);
	/* The old t-interval of {0, 0, 0, 0, 27000} went negative. */
	static const double v[] = { 0, 0, 0, 0, 27000 };
	struct an_stats st;
	an_stats(v, 5, AN_COUNT, &st);
	assert_true(st.lo == 0 && st.hi == 27000);
}

/* Emulated times are never tested; counts are, by ranks. */
static void test_marks(void **state)
{
	(void)state;
	for (int i = 0; i < table.n; i++) {
		const struct an_row *row = &table.rows[i];
		for (int c = 0; c < row->ncells; c++) {
			const struct an_cell *x = &row->cells[c];
			bool emulated = set.r[x->result].emulated ||
					set.r[row->cells[row->base].result].emulated;
			if (row->kind != AN_COUNT && emulated && !isnan(x->p))
				fail_msg("%s %s %s: an emulated time is tested", row->workload,
					 row->phase, row->metric);
		}
	}
	static const double a[] = { 256, 256, 256, 256, 256 }, b[] = { 0, 0, 0, 0, 0 };
	assert_true(fabs(an_mwu_p(a, 5, b, 5) - 2.0 / 252) < 1e-12);
	assert_true(an_mwu_p(b, 5, b, 5) == 1);
	assert_true(isnan(an_mwu_p(a, 1, b, 5)));
	/* Ties across samples: 1, 2 / 2, 3 -> every split's midrank sum. */
	static const double c1[] = { 1, 2 }, c2[] = { 2, 3 };
	assert_true(fabs(an_mwu_p(c1, 2, c2, 2) - 4.0 / 6) < 1e-12);
}

int main(void)
{
	const struct CMUnitTest results[] = {
		cmocka_unit_test(test_verdicts_match_cells),
		cmocka_unit_test(test_reclaim_verdict),
		cmocka_unit_test(test_no_negative_count_bound),
		cmocka_unit_test(test_marks),
	};
	const struct CMUnitTest fixtures[] = {
		cmocka_unit_test(test_verdicts_match_cells),
	};
	const struct CMUnitTest newkeys[] = {
		cmocka_unit_test(test_newkeys),
	};
	int rc = cmocka_run_group_tests_name("committed results", results, setup_results,
					     teardown);
	rc |= cmocka_run_group_tests_name("fixtures", fixtures, setup_fixtures, teardown);
	return rc | cmocka_run_group_tests_name("issue-11 keys", newkeys, setup_newkeys, teardown);
}
