/* Probes S3a and S3b: pages swapped out to a swap file (which keeps a
 * swapped-in page in the swap cache), then written. */
#include <sys/mman.h>

#include "probe.h"

static int swap_setup(struct cb_ctx *c)
{
	return probe_need_swap(c);
}

/* S3a: swapped out, read back in, then written: copied only in 5.9-5.17,
 * where the swap cache's reference makes page_count > 1. */
static int s3a_run(struct cb_ctx *c)
{
	size_t ps = cb_page_size();
	char why[160];
	char *b = probe_map(c, PROBE_PAGES, true);
	if (!b)
		return -1;
	if (probe_page_out(b, PROBE_PAGES, why, sizeof why)) {
		cb_phase_skip(c, "S3a", "%s", why);
	} else {
		unsigned sum = 0;
		for (size_t i = 0; i < PROBE_PAGES; i++)
			sum += *(volatile unsigned char *)(b + i * ps);
		(void)sum;
		probe_measured_write(c, "S3a", b, PROBE_PAGES);
	}
	munmap(b, PROBE_PAGES * ps);
	return 0;
}

const struct cb_workload cb_wl_probe_s3a = {
	.name = "probe:s3a", .suite = CB_SUITE_PROBE, .scenarios = "S3a",
	.summary = "swapped out, read fault, then write",
	.needs = CB_NEED_ROOT | CB_NEED_PAGEOUT, .setup = swap_setup, .run = s3a_run,
	.teardown = probe_teardown,
};

/* S3b: swapped out, then written directly (the write fault swaps in). The
 * phase spans the pageout: a page still in the swap cache at the write
 * comes back on the PFN it had before, so its reuse shows; a page whose
 * folio reclaim already freed is a fresh swap-in (the tracker forgets it)
 * and says nothing. */
static int s3b_run(struct cb_ctx *c)
{
	char why[160];
	char *b = probe_map(c, PROBE_PAGES, true);
	if (!b)
		return -1;
	probe_begin(c, "S3b", b, PROBE_PAGES);
	if (probe_page_out(b, PROBE_PAGES, why, sizeof why)) {
		cb_phase_skip(c, "S3b", "%s", why);
	} else {
		size_t freed = cb_track_forget_freed_pages(c);
		probe_write(b, PROBE_PAGES);
		if ((PROBE_PAGES - freed) * 2 < PROBE_PAGES)
			cb_phase_skip(c, "S3b", "only %zu of %d pages stayed in the swap cache",
				      PROBE_PAGES - freed, PROBE_PAGES);
		else
			cb_phase_end(c);
	}
	munmap(b, PROBE_PAGES * cb_page_size());
	return 0;
}

const struct cb_workload cb_wl_probe_s3b = {
	.name = "probe:s3b", .suite = CB_SUITE_PROBE, .scenarios = "S3b",
	.summary = "swapped out, write fault directly",
	.needs = CB_NEED_ROOT | CB_NEED_PAGEOUT, .setup = swap_setup, .run = s3b_run,
	.teardown = probe_teardown,
};
