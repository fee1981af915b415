/* Page tracker: per-page PFN / mapcount / kpageflags snapshots of tracked
 * ranges, and the copy/reuse attribution between two snapshots. */
#ifndef COWBENCH_TRACKER_H
#define COWBENCH_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cowbench.h" /* PM_*, KPF_* */

struct cb_region {
	pid_t pid;
	uintptr_t addr;
	size_t len;
};

struct cb_page {
	uint64_t pm;       /* raw pagemap entry */
	uint64_t mapcount; /* /proc/kpagecount */
	uint64_t kflags;   /* /proc/kpageflags */
};

struct cb_track_snap {
	size_t n;
	struct cb_page *pages;
	bool pfn_ok;        /* PFNs visible (root); otherwise why says why */
	char why[160];
};

struct cb_track_totals {
	uint64_t pages;
	uint64_t present_before, swapped_before, ksm_before, thp_before;
	uint64_t copied, reused, extra_copies, necessary_copies;
	uint64_t swapped_in;       /* not present before, present after */
	uint64_t swapcache_leftover;
	uint64_t swapcache_after;  /* mapped pages still in the swap cache */
	uint64_t unmapped_after;
};

int cb_track_snapshot(const struct cb_region *r, int nr, struct cb_track_snap *s);
void cb_track_free(struct cb_track_snap *s);
/* Attribute copy / reuse from before to after; reads kpageflags of the old
 * PFNs of copied pages to find swap-cache leftovers. */
void cb_track_compare(const struct cb_track_snap *before, const struct cb_track_snap *after,
		      struct cb_track_totals *t);
/* Between a pageout and a write: pages whose folio has already left the
 * swap cache will be counted as swap-ins, not copies. Returns how many. */
size_t cb_track_forget_freed(struct cb_track_snap *before, const struct cb_region *r, int nr);
/* Pure attribution of one page, exported for the unit tests. */
enum cb_page_outcome { CB_PAGE_ABSENT, CB_PAGE_REUSED, CB_PAGE_COPIED, CB_PAGE_SWAPPED_IN,
		       CB_PAGE_UNMAPPED };
enum cb_page_outcome cb_track_outcome(const struct cb_page *b, const struct cb_page *a);
void cb_track_close(void);
/* kpagecount (flags false) or kpageflags (flags true) into pages[].mapcount
 * or .kflags, from each pm's PFN; -1 when the files cannot be opened. */
int cb_track_kpage(struct cb_page *pages, size_t n, bool flags);

#endif
