/* Parsers against real /proc files captured from five kernels
 * (tests/fixtures/<release>/, see scripts/vm/capture-fixtures). */
#include <stdlib.h>

#include "testutil.h"

struct known {
	const char *release;
	uint64_t tlb_sum;       /* sum of the TLB shootdowns columns */
	size_t vmstat_keys;
	long long pgreuse;
	bool cow_ksm;
	long long memtotal_kb;
	const char *era;        /* what the counters present imply */
};

static const struct known kernels[] = {
	{ "5.10.0-46-amd64", 3, 154, 160, false, 987412, "page_count" },
	{ "6.1.0-56-amd64", 0, 173, 205, true, 981452, "exclusive" },
	{ "6.12.117+deb13-amd64", 1, 185, 159, true, 988268, "exclusive" },
	{ "6.18.44-fc-v595", 6119, 192, 994664, true, 24684096, "exclusive" },
	{ "7.2.13+deb14-amd64", 4, 198, 159, true, 984024, "exclusive" },
};

static char *fixture(const char *release, const char *file)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s/%s", FIXTURES, release, file);
	char *s = cb_read_file(path, NULL);
	if (!s)
		fail_msg("missing fixture %s", path);
	return s;
}

static void test_vmstat(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof kernels / sizeof *kernels; i++) {
		const struct known *k = &kernels[i];
		char *s = fixture(k->release, "vmstat");
		json_t *v = cb_parse_vmstat(s);
		assert_int_equal(json_object_size(v), k->vmstat_keys);
		assert_int_equal(json_integer_value(json_object_get(v, "pgreuse")), k->pgreuse);
		assert_int_equal(json_object_get(v, "cow_ksm") != NULL, k->cow_ksm);
		assert_non_null(json_object_get(v, "pgfault"));
		json_t *era = cb_era_by_counters(v, true);
		assert_string_equal(json_string_value(json_object_get(era, "era")), k->era);
		json_decref(era);
		json_decref(v);
		free(s);
	}
}

static void test_meminfo(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof kernels / sizeof *kernels; i++) {
		char *s = fixture(kernels[i].release, "meminfo");
		json_t *m = cb_parse_meminfo(s);
		assert_int_equal(json_integer_value(json_object_get(m, "MemTotal")),
				 kernels[i].memtotal_kb * 1024);
		assert_int_equal(json_integer_value(json_object_get(m, "SwapCached")), 0);
		/* HugePages_Total has no unit: it stays a count. */
		assert_true(json_integer_value(json_object_get(m, "HugePages_Total")) < 1000000);
		json_decref(m);
		free(s);
	}
}

static void test_interrupts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof kernels / sizeof *kernels; i++) {
		char *s = fixture(kernels[i].release, "interrupts");
		uint64_t sum = 0;
		assert_int_equal(cb_parse_tlb_interrupts(s, &sum), 0);
		assert_int_equal(sum, kernels[i].tlb_sum);
		free(s);
	}
	uint64_t sum = 99;
	assert_int_equal(cb_parse_tlb_interrupts("           CPU0\n  0:  5  IO-APIC timer\n", &sum), -1);
	assert_int_equal(sum, 99);
}

static void test_swaps(void **state)
{
	(void)state;
	char *s = fixture("5.10.0-46-amd64", "swaps");
	json_t *a = cb_parse_swaps(s);
	assert_int_equal(json_array_size(a), 1);
	json_t *d = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(d, "name")), "/dev/vdb");
	assert_string_equal(json_string_value(json_object_get(d, "type")), "partition");
	assert_int_equal(json_integer_value(json_object_get(d, "size_bytes")), 65532LL * 1024);
	json_decref(a);
	free(s);
	a = cb_parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
			   "/var/tmp/cowbench-swap.12\t\tfile\t\t524284\t\t1024\t\t-2\n"
			   "/dev/zram0                              partition\t65532\t\t0\t\t100\n");
	assert_int_equal(json_array_size(a), 2);
	json_t *f = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(f, "type")), "file");
	assert_int_equal(json_integer_value(json_object_get(f, "size_bytes")), 524284LL * 1024);
	assert_int_equal(json_integer_value(json_object_get(f, "priority")), -2);
	json_decref(a);
}

static void test_era_by_version(void **state)
{
	(void)state;
	assert_string_equal(cb_era_by_version("4.19.0-27-amd64"), "mapcount");
	assert_string_equal(cb_era_by_version("5.8.18"), "mapcount");
	assert_string_equal(cb_era_by_version("5.9.0"), "page_count");
	assert_string_equal(cb_era_by_version("5.10.0-46-amd64"), "page_count");
	assert_string_equal(cb_era_by_version("5.18.19"), "page_count");
	assert_string_equal(cb_era_by_version("5.19.0"), "exclusive");
	assert_string_equal(cb_era_by_version("6.18.44-fc-v595"), "exclusive");
	assert_string_equal(cb_era_by_version("garbage"), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmstat),       cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_interrupts),   cmocka_unit_test(test_swaps),
		cmocka_unit_test(test_era_by_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
