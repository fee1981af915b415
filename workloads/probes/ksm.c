/* Probe S5a: a KSM page whose twin went away, so the writer is its only
 * mapper. From 5.9 on do_wp_page copies any KSM page (6.12:
 * wp_can_reuse_anon_folio() returns false on folio_test_ksm() before any
 * count is looked at); 5.1-5.8 reused it through reuse_ksm_page(). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define KSM_DIR "/sys/kernel/mm/ksm/"

static const char *const knobs[] = { "pages_to_scan", "sleep_millisecs", "run" };
static const char *const fast[] = { "20000", "1", "1" };

/* Page i and page i+n get the same content, different from all other
 * pairs, so that KSM merges pairs (not everything into one page). */
static void fill_pairs(char *b, size_t n)
{
	size_t ps = cb_page_size();
	uint64_t salt = cb_now_ns() ^ ((uint64_t)getpid() << 32);
	for (size_t i = 0; i < n; i++) {
		uint64_t *w = (uint64_t *)(b + i * ps);
		for (size_t k = 0; k < ps / 8; k++)
			w[k] = salt + i * 0x100000001b3ull + k;
		memcpy(b + (n + i) * ps, w, ps);
	}
}

/* Pages of the first half whose twin (page i + n) maps the same frame: the
 * pairs KSM merged; the merged frame goes to pfn[i] (0: not merged). The
 * twins' PFNs are the proof, not KPF_KSM: from "proc: Rewrite
 * stable_page_flags()" (6.12) fs/proc/page.c sets KPF_KSM on every
 * anonymous page (seen on Debian's 6.12.117; 6.18 reports it right). */
static long count_merged(const char *b, size_t n, uint64_t *pfn)
{
	size_t ps = cb_page_size();
	long merged = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = cb_pfn_of(b + i * ps), hi = cb_pfn_of(b + (n + i) * ps);
		pfn[i] = lo && lo == hi ? lo : 0;
		merged += pfn[i] != 0;
	}
	return merged;
}

/* Pages of the first half still on the frame KSM merged them into. */
static long still_merged(const char *b, size_t n, const uint64_t *pfn)
{
	long k = 0;
	for (size_t i = 0; i < n; i++)
		k += pfn[i] && cb_pfn_of(b + i * cb_page_size()) == pfn[i];
	return k;
}

static int ksm_set(struct cb_ctx *c, const char *knob, const char *value)
{
	char path[128];
	snprintf(path, sizeof path, KSM_DIR "%s", knob);
	return cb_sys_write(c, path, value);
}

/* ksmd scans as fast as it can until 95% of the pairs merged, for at most
 * 10 s (a page must look the same in two scans: a few ms natively, longer
 * under TCG); the knobs go back right after, not at the end of the run.
 * Returns the pairs merged, or -1 after cb_skip/cb_fail. */
static long ksm_merge(struct cb_ctx *c, char *b, size_t n, uint64_t *pfn)
{
	uint64_t old[3];
	long merged = -1;
	for (int i = 0; i < 3; i++)
		if (cb_ksm_read(knobs[i], &old[i]))
			return cb_skip(c, "cannot read " KSM_DIR "%s", knobs[i]);
	if (madvise(b, 2 * n * cb_page_size(), MADV_MERGEABLE))
		return cb_skip(c, "MADV_MERGEABLE: %s", strerror(errno));
	int set = 0;
	while (set < 3 && !ksm_set(c, knobs[set], fast[set]))
		set++;
	uint64_t t0 = cb_now_ns();
	struct timespec ts = { 0, 2000000 };
	while (set == 3 && (merged < 0 || (size_t)merged * 20 < n * 19) &&
	       cb_now_ns() - t0 < 10000000000ull) {
		nanosleep(&ts, NULL);
		merged = count_merged(b, n, pfn);
	}
	for (int i = set - 1; i >= 0; i--) {
		char text[32];
		snprintf(text, sizeof text, "%" PRIu64, old[i]);
		ksm_set(c, knobs[i], text);
	}
	return merged;
}

/* Pairs merged, the twins unmapped, every page of the first half written;
 * only the pages still on their merged frame at the write count. */
static void ksm_single_mapper(struct cb_ctx *c, char *b, size_t n, uint64_t *pfn)
{
	size_t ps = cb_page_size();
	fill_pairs(b, n);
	long merged = ksm_merge(c, b, n, pfn);
	munmap(b + n * ps, n * ps);
	if (merged < 0)
		return;
	long ksm = still_merged(b, n, pfn);
	if (merged * 2 < (long)n)
		cb_phase_skip(c, "S5a", "KSM merged only %ld of %zu page pairs within 10 s",
			      merged, n);
	else if (ksm * 2 < (long)n)
		cb_phase_skip(c, "S5a", "only %ld of %zu pages were still KSM pages at the write",
			      ksm, n);
	else
		probe_measured_write(c, "S5a", b, n);
}

static int s5a_run(struct cb_ctx *c)
{
	size_t n = PROBE_PAGES;
	uint64_t *pfn = calloc(n, sizeof *pfn);
	char *b = pfn ? probe_map(c, 2 * n, false) : NULL;
	if (b) {
		ksm_single_mapper(c, b, n, pfn);
		munmap(b, n * cb_page_size());
	} else if (!pfn) {
		cb_skip(c, "out of memory");
	}
	free(pfn);
	return 0;
}

const struct cb_workload cb_wl_probe_s5a = {
	.name = "probe:s5a", .suite = CB_SUITE_PROBE, .scenarios = "S5a",
	.summary = "KSM page, single mapper, write",
	.needs = CB_NEED_ROOT | CB_NEED_KSM, .run = s5a_run,
};
