/* The journal undoes a memory cgroup (killing what is left in it) and a
 * zram swap device: create, restore, gone. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

static struct cb_ctx ctx;

static int begin(void **state)
{
	(void)state;
	if (geteuid())
		return 0;
	char err[256];
	if (cb_journal_begin(err, sizeof err))
		fail_msg("%s", err);
	cb_ctx_init(&ctx, cb_workload_find("fork-basic"), NULL, 0, NULL);
	return 0;
}

static int end(void **state)
{
	(void)state;
	json_decref(cb_ctx_finish(&ctx));
	cb_journal_restore(false);
	return 0;
}

static void test_cgroup_restore(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	if (!cb_cgroup_mode())
		skip();
	assert_int_equal(cb_cgroup_create(&ctx, 16 << 20), 0);
	const char *p = cb_cgroup_path();
	assert_non_null(p);
	char dir[256];
	snprintf(dir, sizeof dir, "%s", p);
	assert_int_equal(access(dir, F_OK), 0);
	assert_int_equal(cb_cgroup_enter(&ctx, getpid()), -1); /* never the harness */
	pid_t child = cb_fork(&ctx);
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(cb_cgroup_enter(&ctx, child), 0);
	assert_int_equal(cb_journal_restore(false), 0);
	assert_int_not_equal(access(dir, F_OK), 0);
	assert_int_equal(cb_reap(child), 128 + SIGKILL); /* restore killed it */
	char err[256];
	assert_int_equal(cb_journal_begin(err, sizeof err), 0);
}

static void test_zram_restore(void **state)
{
	(void)state;
	TU_NEED_ROOT();
	if (access("/sys/class/zram-control/hot_add", F_OK))
		skip();
	assert_int_equal(cb_need_swap(&ctx, 16 << 20, "zram"), 0);
	const char *dev = cb_zram_ours();
	assert_non_null(dev);
	char name[64], blk[128];
	snprintf(name, sizeof name, "%s", dev);
	snprintf(blk, sizeof blk, "/sys/block/%s", strrchr(name, '/') + 1);
	char *s = cb_read_file("/proc/swaps", NULL);
	assert_non_null(strstr(s, name));
	free(s);
	assert_string_equal(json_string_value(json_object_get(ctx.notes, "swap_kind")), "zram");
	assert_int_equal(cb_journal_restore(false), 0);
	s = cb_read_file("/proc/swaps", NULL);
	assert_null(strstr(s, name));
	free(s);
	assert_int_not_equal(access(blk, F_OK), 0); /* hot-added device removed */
	char err[256];
	assert_int_equal(cb_journal_begin(err, sizeof err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_restore),
		cmocka_unit_test(test_zram_restore),
	};
	return cmocka_run_group_tests(tests, begin, end);
}
