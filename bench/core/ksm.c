/* KSM steered by a workload: journaled knob writes, merging until settled,
 * and the figures of a settled merge. Shared by ksm-vms (guest processes)
 * and app:qemu-ksm (real QEMU guests). */
#include <stdio.h>
#include <time.h>

#include "harness.h"

#define KSM "/sys/kernel/mm/ksm/"

int cb_ksm_set(struct cb_ctx *c, const char *knob, uint64_t value)
{
	char path[128], text[32];
	snprintf(path, sizeof path, KSM "%s", knob);
	snprintf(text, sizeof text, "%llu", (unsigned long long)value);
	return cb_sys_write(c, path, text);
}

uint64_t cb_ksm_merging_sum(const pid_t *pids, int n)
{
	uint64_t sum = 0, p;
	for (int i = 0; i < n; i++)
		if (!cb_ksm_merging_pages(pids[i], &p))
			sum += p;
	return sum;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Settled: full_scans advanced at least twice, and the processes' merged
 * pages did not change over the last full scan (and are not still 0 unless
 * four scans found nothing: a first, partial pass only takes checksums). */
static int wait_settled(struct cb_ctx *c, const pid_t *pids, int n, unsigned timeout_s,
			uint64_t *scans)
{
	uint64_t fs0, fs, last_fs, run;
	if (cb_ksm_read("full_scans", &fs0))
		return cb_fail(c, "cannot read " KSM "full_scans");
	last_fs = fs0;
	int64_t last = -1;
	uint64_t deadline = cb_now_ns() + (uint64_t)timeout_s * 1000000000ull;
	while (cb_now_ns() < deadline) {
		sleep_ms(2);
		if (cb_ksm_read("full_scans", &fs) || cb_ksm_read("run", &run))
			return cb_fail(c, "cannot read " KSM);
		if (run != 1)
			return cb_fail(c, "KSM run changed to %llu while settling (someone else "
				       "controls KSM)", (unsigned long long)run);
		if (fs == last_fs)
			continue;
		int64_t merged = (int64_t)cb_ksm_merging_sum(pids, n);
		*scans = fs - fs0;
		if (fs - fs0 >= 2 && merged == last && (merged > 0 || fs - fs0 >= 4))
			return 0;
		last = merged;
		last_fs = fs;
	}
	return cb_fail(c, "KSM did not settle within %u s", timeout_s);
}

int cb_ksm_settle(struct cb_ctx *c, const pid_t *pids, int n, const struct cb_ksm_scan *scan)
{
	if (cb_ksm_set(c, "pages_to_scan", scan->pages_to_scan) ||
	    cb_ksm_set(c, "sleep_millisecs", scan->sleep_ms))
		return -1;
	uint64_t t0 = cb_now_ns(), scans = 0;
	if (cb_ksm_set(c, "run", 1) || wait_settled(c, pids, n, scan->timeout_s, &scans))
		return -1;
	uint64_t ns = cb_now_ns() - t0;
	/* Stop ksmd, keep what it merged: no merge may disguise a write. */
	if (cb_ksm_set(c, "run", 0))
		return -1;
	uint64_t shared = 0, sharing = 0, zero = 0;
	cb_ksm_read("pages_shared", &shared);
	cb_ksm_read("pages_sharing", &sharing);
	cb_ksm_read("ksm_zero_pages", &zero);
	cb_phase_metric(c, "settle_ms", (double)ns / 1e6, "ms");
	cb_phase_metric(c, "full_scans", (double)scans, "scans");
	cb_phase_metric(c, "pages_shared", (double)shared, "pages");
	cb_phase_metric(c, "pages_sharing", (double)sharing, "pages");
	cb_phase_metric(c, "memory_saved_bytes", (double)((sharing + zero) * cb_page_size()),
			"bytes");
	cb_phase_metric(c, "guests_merging_pages", (double)cb_ksm_merging_sum(pids, n), "pages");
	return 0;
}

void cb_ksm_note_others(struct cb_ctx *c)
{
	char list[512];
	int n = cb_ksm_other_mergers(list, sizeof list);
	if (n > 0)
		cb_note(c, "ksm_other_mergers",
			"%d other process(es) have merged KSM pages; KSM is system-wide and "
			"their merging counts in the global KSM numbers: %s", n, list);
	uint64_t run = 0;
	if (!cb_ksm_read("run", &run) && run)
		cb_note(c, "ksm_run_before", "KSM was already running (run=%llu) before this rep",
			(unsigned long long)run);
}
