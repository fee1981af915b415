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

/* Why a page the writer mapped alone was copied, from its state before
 * the phase (kpageflags, kpagecount) and the pins the workload declared. */
enum cb_cause { CB_CAUSE_SWAPCACHE, CB_CAUSE_KSM, CB_CAUSE_LRU_BATCH, CB_CAUSE_PINNED,
		CB_CAUSE_THP, CB_CAUSE_OTHER, CB_CAUSE_N };
extern const char *const cb_cause_names[CB_CAUSE_N];

struct cb_track_totals {
	uint64_t pages;
	uint64_t present_before, swapped_before, ksm_before, thp_before;
	uint64_t copied, reused, extra_copies, necessary_copies;
	uint64_t swapped_in;       /* not present before, present after */
	uint64_t swapcache_leftover;
	uint64_t swapcache_after;  /* mapped pages still in the swap cache */
	uint64_t unmapped_after;
	/* Among the pages written in the phase (cb_track_classify): */
	uint64_t written, swapin_copied, swapin_reused, refaulted;
	uint64_t swapin_unknown; /* swapped in, copy or reuse not told (no fault log) */
	uint64_t unresolved;     /* no outcome could be decided (see why_unresolved) */
	char why_unresolved[160];
	uint64_t by_cause[CB_CAUSE_N];
	/* Fault-log cross-check of the PFN tracker: copies whose write fault
	 * allocated exactly the new frame, and copies it does not explain. */
	uint64_t log_confirmed, log_disagree;
};

struct cb_fl_event;

/* What cb_track_classify needs besides the two snapshots. */
struct cb_classify_in {
	const struct cb_region *r; /* the tracked regions, in snapshot order */
	int nr;
	const struct cb_region *pinned; /* ranges the workload pins itself */
	int npinned;
	bool all_written;               /* no written bitmap: count every page */
	bool log_written;               /* a page with a logged write fault is written */
	const struct cb_fl_event *ev;   /* the fault log, or NULL (PFNs only) */
	size_t nev;
	bool ksm_flag_ok;               /* KPF_KSM means KSM on this kernel */
	const uint64_t *ksm_pfns;       /* sorted frames seen shared earlier (ksm_flag_ok false) */
	size_t nksm;
};

/* pread until len bytes are in (pagemap, kpagecount, kpageflags); -1 on
 * an error or end of file. */
int cb_pread_full(int fd, void *buf, size_t len, off_t off);
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
/* Outcome of every written page: copied / reused / swapin_copied /
 * swapin_reused / refaulted, and the cause of each extra copy. */
void cb_track_classify(const struct cb_track_snap *before, const struct cb_track_snap *after,
		       const struct cb_classify_in *in, struct cb_track_totals *t);
/* Whether kpageflags' KPF_KSM is trustworthy here: false on kernels that
 * set it on every anonymous page (Debian 6.12). */
bool cb_track_ksm_flag_ok(void);
/* Adds to the sorted set *pfns the frames that two tracked pages share in
 * a snapshot (the zero page excepted): KSM's evidence where the flag lies. */
void cb_track_twins(const struct cb_track_snap *s, uint64_t **pfns, size_t *n);

/* written.c: the per-phase bitmap of written tracked pages */
int cb_written_init(void);
void cb_written_regions(const struct cb_region *r, int nr);
void cb_written_clear(void);
bool cb_written_covers(size_t npages);
bool cb_written_test(size_t page);

#endif
