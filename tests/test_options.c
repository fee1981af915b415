/* The one option table type: parsing and validation. */
#include "testutil.h"

static const struct cb_opt opts[] = {
	{ .name = "size", .type = CB_OPT_SIZE, .def = "64M", .min = 4096, .max = 1ull << 44 },
	{ .name = "forks", .type = CB_OPT_U64, .def = "4", .min = 1, .max = 1000 },
	{ .name = "frac", .type = CB_OPT_DOUBLE, .def = "0.5", .fmin = 0, .fmax = 1 },
	{ .name = "thp", .type = CB_OPT_BOOL, .def = "off" },
	{ .name = "swap", .type = CB_OPT_ENUM, .def = "file", .choices = "file|zram" },
	CB_OPT_END
};

static int parse(const char *name, const char *text, union cb_val *v, char *err)
{
	return cb_opt_parse(cb_opt_find(opts, name), text, v, err, 256);
}

static void test_sizes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(cb_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(cb_parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(cb_parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(cb_parse_size("16g", &v), 0);
	assert_int_equal(v, 16ull << 30);
	assert_int_equal(cb_parse_size("-5", &v), -1);
	assert_int_equal(cb_parse_size("12X", &v), -1);
	assert_int_equal(cb_parse_size("", &v), -1);
	assert_int_equal(cb_parse_size("99999999999999T", &v), -1);
	assert_int_equal(cb_parse_size("1M2", &v), -1);
}

static void test_ranges_and_messages(void **state)
{
	(void)state;
	union cb_val v;
	char err[256];
	assert_int_equal(parse("size", "1K", &v, err), -1);
	assert_non_null(strstr(err, "'1K'"));
	assert_non_null(strstr(err, "size"));
	assert_int_equal(parse("forks", "0", &v, err), -1);
	assert_non_null(strstr(err, "'0'"));
	assert_int_equal(parse("forks", "abc", &v, err), -1);
	assert_non_null(strstr(err, "'abc'"));
	assert_int_equal(parse("forks", "7", &v, err), 0);
	assert_int_equal(v.u, 7);
	assert_int_equal(parse("frac", "1.5", &v, err), -1);
	assert_int_equal(parse("frac", "nan", &v, err), -1);
	assert_int_equal(parse("frac", "0.25", &v, err), 0);
	assert_true(v.d == 0.25);
	assert_int_equal(parse("thp", "maybe", &v, err), -1);
	assert_int_equal(parse("thp", "on", &v, err), 0);
	assert_true(v.b);
	assert_int_equal(parse("swap", "nfs", &v, err), -1);
	assert_non_null(strstr(err, "file|zram"));
	assert_int_equal(parse("swap", "zram", &v, err), 0);
	assert_null(cb_opt_find(opts, "nope"));
	assert_int_equal(cb_opt_count(opts), 5);
}

static void test_every_workload_default_parses(void **state)
{
	(void)state;
	struct cb_run_opts o = { .reps = 1 };
	char err[256];
	for (int i = 0; cb_workload_table[i]; i++) {
		const struct cb_workload *w = cb_workload_table[i];
		assert_non_null(w->name);
		assert_non_null(w->summary);
		assert_non_null(w->run);
		union cb_val *v = cb_workload_values(w, &o, err, sizeof err);
		if (!v)
			fail_msg("%s: default does not parse: %s", w->name, err);
		free(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ranges_and_messages),
		cmocka_unit_test(test_every_workload_default_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
