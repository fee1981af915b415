/* Probes S2 and S9c: a child that exits at once, then the parent writes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "probe.h"

/* S2: fork, the child exits, the parent writes: every era reuses. */
static int s2_run(struct cb_ctx *c)
{
	char *b = probe_map(c, PROBE_PAGES, true);
	if (!b)
		return -1;
	if (!probe_fork_exit(c))
		probe_measured_write(c, "S2", b, PROBE_PAGES);
	munmap(b, PROBE_PAGES * cb_page_size());
	return 0;
}

const struct cb_workload cb_wl_probe_s2 = {
	.name = "probe:s2", .suite = CB_SUITE_PROBE, .scenarios = "S2",
	.summary = "fork, child exits, parent writes",
	.needs = CB_NEED_ROOT, .run = s2_run,
};

static long count_thp(const char *b, size_t pages)
{
	long n = 0;
	for (size_t i = 0; i < pages; i++)
		n += (cb_kpageflags_of(b + i * cb_page_size()) >> KPF_THP) & 1;
	return n;
}

/* The first line of THP's "enabled" knob, for the skip reason. */
static void thp_enabled(char *out, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	if (!f || !fgets(out, (int)len, f))
		snprintf(out, len, "absent");
	out[strcspn(out, "\n")] = 0;
	if (f)
		fclose(f);
}

/* A THP in b, then mapped by PTEs: mprotect of one page splits the PMD,
 * the folio stays large. */
static int pte_mapped_thp(struct cb_ctx *c, char *b, size_t huge)
{
	size_t ps = cb_page_size(), pages = huge / ps;
	if (madvise(b, huge, MADV_HUGEPAGE))
		return cb_skip(c, "MADV_HUGEPAGE: %s", strerror(errno));
	probe_write(b, pages);
	long thp = count_thp(b, pages);
	if (thp * 2 < (long)pages) {
		char en[41];
		thp_enabled(en, sizeof en);
		return cb_skip(c, "no THP for the region (%ld of %zu pages; enabled: %s)", thp,
			       pages, en);
	}
	if (mprotect(b, ps, PROT_READ) || mprotect(b, ps, PROT_READ | PROT_WRITE))
		return cb_skip(c, "mprotect: %s", strerror(errno));
	return 0;
}

/* S9c: a PTE-mapped THP, fork, the child exits, the parent writes each
 * page: reused from 6.15 (MM_ID large-folio reuse), copied before. */
static int s9c_run(struct cb_ctx *c)
{
	size_t huge = 2u << 20, pages = huge / cb_page_size();
	char *raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (raw == MAP_FAILED)
		return cb_skip(c, "mmap: %s", strerror(errno));
	char *b = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	if (!pte_mapped_thp(c, b, huge) && !probe_fork_exit(c))
		probe_measured_write(c, "S9c", b, pages);
	munmap(raw, 2 * huge);
	return 0;
}

const struct cb_workload cb_wl_probe_s9c = {
	.name = "probe:s9c", .suite = CB_SUITE_PROBE, .scenarios = "S9c",
	.summary = "PTE-mapped THP, fork, child exits, parent writes",
	.needs = CB_NEED_ROOT, .run = s9c_run,
};
