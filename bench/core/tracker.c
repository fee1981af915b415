#include "tracker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "faultlog.h"

static int kpagecount_fd = -1, kpageflags_fd = -1;

static int open_kpage_files(void)
{
	if (kpagecount_fd < 0)
		kpagecount_fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	if (kpageflags_fd < 0)
		kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	return kpagecount_fd >= 0 && kpageflags_fd >= 0 ? 0 : -1;
}

void cb_track_close(void)
{
	if (kpagecount_fd >= 0)
		close(kpagecount_fd);
	if (kpageflags_fd >= 0)
		close(kpageflags_fd);
	kpagecount_fd = kpageflags_fd = -1;
}

/* pread until len bytes are in, through EINTR and short reads. */
int cb_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int read_pagemap(const struct cb_region *r, uint64_t *out)
{
	char path[64];
	long ps = sysconf(_SC_PAGESIZE);
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)r->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = r->len / (size_t)ps;
	off_t off = (off_t)(r->addr / (uintptr_t)ps) * 8;
	int rc = cb_pread_full(fd, out, n * 8, off);
	close(fd);
	return rc;
}

static void store_kpage(struct cb_page *p, int which, uint64_t v)
{
	if (which)
		p->kflags = v;
	else
		p->mapcount = v;
}

/* One pread per run of consecutive PFNs: the fallback when there is no
 * memory to sort. */
static void read_kpage_runs(int fd, struct cb_page *pages, size_t n, int which)
{
	uint64_t buf[512];
	size_t i = 0;
	while (i < n) {
		uint64_t pfn = pages[i].pm & PM_PFN_MASK;
		if (!(pages[i].pm & PM_PRESENT) || !pfn) {
			i++;
			continue;
		}
		size_t run = 1;
		while (i + run < n && run < 512 && (pages[i + run].pm & PM_PRESENT) &&
		       (pages[i + run].pm & PM_PFN_MASK) == pfn + run)
			run++;
		if (cb_pread_full(fd, buf, run * 8, (off_t)(pfn * 8)))
			memset(buf, 0, run * 8);
		for (size_t k = 0; k < run; k++)
			store_kpage(&pages[i + k], which, buf[k]);
		i += run;
	}
}

struct pfn_at {
	uint64_t pfn;
	size_t i;
};

static int cmp_pfn(const void *a, const void *b)
{
	uint64_t x = ((const struct pfn_at *)a)->pfn, y = ((const struct pfn_at *)b)->pfn;
	return (x > y) - (x < y);
}

/* The present pages in PFN order. Neighbouring virtual pages rarely have
 * consecutive PFNs (runs of ~2 on this 6.18 VM), so reading in virtual
 * order cost one pread per page or two; in PFN order a few preads cover
 * thousands of pages. */
static struct pfn_at *sorted_pfns(const struct cb_page *pages, size_t n, size_t *k)
{
	struct pfn_at *s = malloc((n ? n : 1) * sizeof *s);
	*k = 0;
	for (size_t i = 0; s && i < n; i++) {
		uint64_t pfn = pages[i].pm & PM_PFN_MASK;
		if ((pages[i].pm & PM_PRESENT) && pfn)
			s[(*k)++] = (struct pfn_at){ pfn, i };
	}
	if (s)
		qsort(s, *k, sizeof *s, cmp_pfn);
	return s;
}

/* Entries per pread (32 KiB), and the widest hole read through rather
 * than paying one more pread: on this VM a pread costs about what reading
 * 30 entries does (kpageflags decodes each page), measured with gaps of
 * 8..256 (cowbench bench --only tracker). */
#define KPAGE_WINDOW 4096
#define KPAGE_GAP 32

static void read_sorted(int fd, struct cb_page *pages, const struct pfn_at *s, size_t k,
			int which, uint64_t *buf)
{
	size_t j = 0;
	while (j < k) {
		uint64_t lo = s[j].pfn;
		size_t e = j + 1;
		while (e < k && s[e].pfn - lo < KPAGE_WINDOW && s[e].pfn - s[e - 1].pfn <= KPAGE_GAP)
			e++;
		size_t cnt = (size_t)(s[e - 1].pfn - lo + 1);
		if (cb_pread_full(fd, buf, cnt * 8, (off_t)(lo * 8)))
			memset(buf, 0, cnt * 8);
		for (; j < e; j++)
			store_kpage(&pages[s[j].i], which, buf[s[j].pfn - lo]);
	}
}

/* which: 0 kpagecount, 1 kpageflags, 2 both (one sort for the two). */
static void read_kpage(struct cb_page *pages, size_t n, int which)
{
	size_t k;
	struct pfn_at *s = sorted_pfns(pages, n, &k);
	uint64_t *buf = malloc(KPAGE_WINDOW * sizeof *buf);
	for (int w = 0; w < 2; w++) {
		if (which != 2 && which != w)
			continue;
		int fd = w ? kpageflags_fd : kpagecount_fd;
		if (s && buf)
			read_sorted(fd, pages, s, k, w, buf);
		else
			read_kpage_runs(fd, pages, n, w);
	}
	free(buf);
	free(s);
}

/* kpagecount (flags false) or kpageflags (flags true) of pages whose pm
 * holds a PFN, for `cowbench stat`'s own page lists; -1 without the files. */
int cb_track_kpage(struct cb_page *pages, size_t n, bool flags)
{
	if (open_kpage_files())
		return -1;
	read_kpage(pages, n, flags ? 1 : 0);
	return 0;
}

static size_t region_pages(const struct cb_region *r, int nr)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t n = 0;
	for (int i = 0; i < nr; i++)
		n += r[i].len / (size_t)ps;
	return n;
}

static bool any_pfn(const struct cb_track_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		if ((s->pages[i].pm & PM_PRESENT) && (s->pages[i].pm & PM_PFN_MASK))
			return true;
	return false;
}

static bool any_present(const struct cb_track_snap *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->pages[i].pm & PM_PRESENT)
			return true;
	return false;
}

int cb_track_snapshot(const struct cb_region *r, int nr, struct cb_track_snap *s)
{
	memset(s, 0, sizeof *s);
	s->n = region_pages(r, nr);
	s->pages = calloc(s->n ? s->n : 1, sizeof *s->pages);
	uint64_t *pm = calloc(s->n ? s->n : 1, sizeof *pm);
	if (!s->pages || !pm) {
		free(pm);
		snprintf(s->why, sizeof s->why, "out of memory for %zu pages", s->n);
		return -1;
	}
	size_t at = 0;
	for (int i = 0; i < nr; i++) {
		size_t n = r[i].len / (size_t)sysconf(_SC_PAGESIZE);
		if (read_pagemap(&r[i], pm + at)) {
			snprintf(s->why, sizeof s->why, "cannot read /proc/%d/pagemap: %s",
				 (int)r[i].pid, strerror(errno));
			free(pm);
			return -1;
		}
		at += n;
	}
	for (size_t i = 0; i < s->n; i++)
		s->pages[i].pm = pm[i];
	free(pm);
	s->pfn_ok = any_pfn(s);
	if (!s->pfn_ok && any_present(s)) {
		snprintf(s->why, sizeof s->why,
			 "pagemap hides PFNs without CAP_SYS_ADMIN (run as root)");
		return 0;
	}
	if (open_kpage_files()) {
		s->pfn_ok = false;
		snprintf(s->why, sizeof s->why, "cannot open /proc/kpagecount or kpageflags: %s",
			 strerror(errno));
		return 0;
	}
	s->pfn_ok = true;
	read_kpage(s->pages, s->n, 2);
	return 0;
}

long cb_track_count_own(const void *addr, size_t len, uint64_t mask, uint64_t want)
{
	struct cb_region reg = { getpid(), (uintptr_t)addr, len };
	struct cb_track_snap snap;
	if (cb_track_snapshot(&reg, 1, &snap))
		return -1;
	long n = 0;
	for (size_t i = 0; i < snap.n; i++)
		n += (snap.pages[i].pm & mask) == want;
	cb_track_free(&snap);
	return n;
}

void cb_track_free(struct cb_track_snap *s)
{
	free(s->pages);
	s->pages = NULL;
	s->n = 0;
}

enum cb_page_outcome cb_track_outcome(const struct cb_page *b, const struct cb_page *a)
{
	bool bp = b->pm & PM_PRESENT, ap = a->pm & PM_PRESENT;
	if (!ap)
		return bp ? CB_PAGE_UNMAPPED : CB_PAGE_ABSENT;
	if (!bp)
		return CB_PAGE_SWAPPED_IN;
	return (b->pm & PM_PFN_MASK) == (a->pm & PM_PFN_MASK) ? CB_PAGE_REUSED : CB_PAGE_COPIED;
}

static bool flag(uint64_t flags, int bit)
{
	return flags & (1ULL << bit);
}

/* The old page of a copy that is still an anonymous swap-cache page is
 * memory the copy left behind until reclaim finds it. */
static uint64_t count_leftovers(const struct cb_track_snap *b, const struct cb_track_snap *a,
			       const bool *copied)
{
	if (open_kpage_files())
		return 0;
	struct cb_page *old = calloc(b->n ? b->n : 1, sizeof *old);
	if (!old)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < b->n && i < a->n; i++)
		if (copied ? copied[i]
			   : cb_track_outcome(&b->pages[i], &a->pages[i]) == CB_PAGE_COPIED)
			old[k++].pm = b->pages[i].pm;
	read_kpage(old, k, 1);
	uint64_t n = 0;
	for (size_t i = 0; i < k; i++)
		if (flag(old[i].kflags, KPF_SWAPCACHE) && flag(old[i].kflags, KPF_ANON))
			n++;
	free(old);
	return n;
}

/* A page that went to swap during a phase and whose folio was then freed
 * from the swap cache comes back as a fresh swap-in: its new PFN says
 * nothing about reuse. Rewrite its before entry as the swap entry it has
 * now, so that cb_track_compare() counts it as swapped in, not copied. */
size_t cb_track_forget_freed(struct cb_track_snap *b, const struct cb_region *r, int nr)
{
	struct cb_track_snap now;
	if (!b->pfn_ok || open_kpage_files() || cb_track_snapshot(r, nr, &now))
		return 0;
	struct cb_page *old = calloc(b->n ? b->n : 1, sizeof *old);
	size_t *at = calloc(b->n ? b->n : 1, sizeof *at), k = 0, freed = 0;
	for (size_t i = 0; old && at && i < b->n && i < now.n; i++) {
		uint64_t pm = now.pages[i].pm;
		if ((b->pages[i].pm & PM_PRESENT) && !(pm & PM_PRESENT) && (pm & PM_SWAPPED)) {
			old[k].pm = b->pages[i].pm;
			at[k++] = i;
		}
	}
	if (old && at)
		read_kpage(old, k, 1);
	for (size_t j = 0; old && at && j < k; j++) {
		if (flag(old[j].kflags, KPF_SWAPCACHE) && flag(old[j].kflags, KPF_ANON))
			continue;
		b->pages[at[j]] = now.pages[at[j]];
		freed++;
	}
	free(old);
	free(at);
	cb_track_free(&now);
	return freed;
}

static void count_before(const struct cb_page *p, struct cb_track_totals *t)
{
	if (p->pm & PM_PRESENT)
		t->present_before++;
	if (p->pm & PM_SWAPPED)
		t->swapped_before++;
	/* Overcounts on kernels whose kpageflags set KPF_KSM on every anonymous
	 * page (Debian's 6.12.117 does, 6.18 does not: see count_merged() in
	 * workloads/probes/ksm.c); compare PFNs where KSM must be proven. */
	if (flag(p->kflags, KPF_KSM))
		t->ksm_before++;
	if (flag(p->kflags, KPF_THP))
		t->thp_before++;
}

void cb_track_compare(const struct cb_track_snap *b, const struct cb_track_snap *a,
		      struct cb_track_totals *t)
{
	memset(t, 0, sizeof *t);
	t->pages = b->n;
	for (size_t i = 0; i < b->n && i < a->n; i++) {
		const struct cb_page *pb = &b->pages[i], *pa = &a->pages[i];
		count_before(pb, t);
		if ((pa->pm & PM_PRESENT) && flag(pa->kflags, KPF_SWAPCACHE))
			t->swapcache_after++;
		switch (cb_track_outcome(pb, pa)) {
		case CB_PAGE_COPIED:
			t->copied++;
			/* mapcount 1 before the write: nobody else mapped it. */
			if (pb->mapcount <= 1)
				t->extra_copies++;
			else
				t->necessary_copies++;
			break;
		case CB_PAGE_REUSED: t->reused++; break;
		case CB_PAGE_SWAPPED_IN: t->swapped_in++; break;
		case CB_PAGE_UNMAPPED: t->unmapped_after++; break;
		case CB_PAGE_ABSENT: break;
		}
	}
	t->swapcache_leftover = count_leftovers(b, a, NULL);
}

const char *const cb_cause_names[CB_CAUSE_N] = { "swapcache", "ksm", "lru_batch", "pinned",
						 "thp", "other" };

/* ---- the fault log, folded per page ---------------------------------- */

/* What the log says about one tracked page during the phase. */
struct pg_log {
	uint32_t np;          /* not-present faults (swap-in, refault, first touch) */
	uint32_t wp;          /* protection write faults since the last np fault */
	uint64_t wp_alloc;    /* frame allocated in the last such fault, 0: none */
	bool np_write;        /* the last np fault was a write */
	uint32_t np_allocs;   /* frames allocated in the last np fault */
	uint64_t np_last_alloc; /* the last of them */
};

static size_t page_index(const struct cb_region *r, int nr, uint32_t pid, uint64_t addr)
{
	size_t ps = cb_page_size(), base = 0;
	for (int i = 0; i < nr; i++) {
		if ((uint32_t)r[i].pid == pid && addr >= r[i].addr && addr < r[i].addr + r[i].len)
			return base + (addr - r[i].addr) / ps;
		base += r[i].len / ps;
	}
	return SIZE_MAX;
}

#define MAX_TIDS 256

/* The fault each thread is in: an allocation belongs to the last fault of
 * its thread (the copy is allocated inside the write fault, after the
 * tracepoint fired at its entry). */
struct tid_at {
	uint32_t tid;
	size_t page;
	bool wp;
};

static struct tid_at *tid_slot(struct tid_at *t, int *n, uint32_t tid)
{
	for (int i = 0; i < *n; i++)
		if (t[i].tid == tid)
			return &t[i];
	if (*n >= MAX_TIDS)
		return NULL;
	t[*n] = (struct tid_at){ tid, SIZE_MAX, false };
	return &t[(*n)++];
}

static void fold_fault(struct pg_log *pg, struct tid_at *at, const struct cb_fl_event *e)
{
	at->wp = (e->error_code & (CB_PF_PROT | CB_PF_WRITE)) == (CB_PF_PROT | CB_PF_WRITE);
	if (at->page == SIZE_MAX)
		return;
	struct pg_log *p = &pg[at->page];
	if (!(e->error_code & CB_PF_PROT)) {
		p->np++;
		p->wp = 0;
		p->wp_alloc = 0;
		p->np_write = e->error_code & CB_PF_WRITE;
		p->np_allocs = 0;
		p->np_last_alloc = 0;
	} else if (at->wp) {
		p->wp++;
		p->wp_alloc = 0;
	}
}

static void fold_log(const struct cb_classify_in *in, struct pg_log *pg)
{
	struct tid_at tids[MAX_TIDS];
	int ntid = 0;
	for (size_t i = 0; i < in->nev; i++) {
		const struct cb_fl_event *e = &in->ev[i];
		struct tid_at *at = tid_slot(tids, &ntid, e->tid);
		if (!at)
			continue;
		if (e->kind == CB_FL_FAULT) {
			at->page = page_index(in->r, in->nr, e->pid, e->addr);
			fold_fault(pg, at, e);
			continue;
		}
		if (at->page == SIZE_MAX)
			continue;
		struct pg_log *p = &pg[at->page];
		if (at->wp && !p->wp_alloc)
			p->wp_alloc = e->pfn;
		else if (!at->wp && p->np) {
			p->np_allocs++;
			p->np_last_alloc = e->pfn;
		}
	}
}

/* ---- outcome and cause of one written page ---------------------------- */

enum wr_outcome { WR_REUSED, WR_COPIED, WR_SWAPIN_COPIED, WR_SWAPIN_REUSED, WR_REFAULTED,
		  WR_SWAPIN_UNKNOWN, WR_UNRESOLVED };

static uint64_t pfn(const struct cb_page *p)
{
	return (p->pm & PM_PRESENT) ? p->pm & PM_PFN_MASK : 0;
}

/* Without the log: the PFN comparison alone. */
static enum wr_outcome outcome_pfn(const struct cb_page *b, const struct cb_page *a)
{
	switch (cb_track_outcome(b, a)) {
	case CB_PAGE_REUSED: return WR_REUSED;
	case CB_PAGE_COPIED: return WR_COPIED;
	case CB_PAGE_SWAPPED_IN: return WR_SWAPIN_UNKNOWN;
	default: return WR_UNRESOLVED;
	}
}

/* A page swapped in during the phase: the COW decision is the protection
 * write fault after the swap-in (a copy allocates the page's final frame
 * in it); no such fault after a read swap-in means the kernel mapped the
 * page writable (6.11+ exclusive swap-in): reused. A write swap-in decides
 * inside one fault: a copy is allocated after the swap-in's own frames, so
 * a final frame that is not the fault's last allocation was reused; one
 * that is the last may be either (readahead order, or a swap-cache hit
 * copied): undecided, never guessed. */
static enum wr_outcome outcome_swapin(const struct pg_log *p, const struct cb_page *a)
{
	if (p->wp)
		return p->wp_alloc && p->wp_alloc == pfn(a) ? WR_SWAPIN_COPIED : WR_SWAPIN_REUSED;
	if (!p->np_write || !p->np_allocs)
		return WR_SWAPIN_REUSED;
	if (p->np_last_alloc != pfn(a))
		return WR_SWAPIN_REUSED;
	return WR_UNRESOLVED;
}

/* A page present before that reclaim took away and a fault brought back:
 * on its old frame (still in the swap cache) it was swapped in and reused;
 * on a new frame while the old one is still in the swap cache it was
 * copied; on a new frame whose old folio is gone it was reclaimed and
 * refaulted, and no COW decision was made. */
static enum wr_outcome outcome_refault(const struct pg_log *p, const struct cb_page *b,
				       const struct cb_page *a)
{
	if (pfn(a) && pfn(a) == pfn(b))
		return WR_SWAPIN_REUSED;
	if (p->wp && p->wp_alloc && p->wp_alloc == pfn(a))
		return WR_SWAPIN_COPIED;
	if (pfn(a) && cb_pfn_in_swapcache(pfn(b)))
		return WR_SWAPIN_COPIED;
	return WR_REFAULTED;
}

static enum wr_outcome outcome_log(const struct pg_log *p, const struct cb_page *b,
				   const struct cb_page *a, struct cb_track_totals *t)
{
	bool bp = b->pm & PM_PRESENT;
	if (bp && p->np)
		return outcome_refault(p, b, a);
	if (bp && (a->pm & PM_PRESENT)) {
		if (pfn(a) == pfn(b))
			return WR_REUSED;
		if (p->wp && p->wp_alloc == pfn(a))
			t->log_confirmed++;
		else
			t->log_disagree++;
		return WR_COPIED;
	}
	if (!bp && (b->pm & PM_SWAPPED) && p->np)
		return outcome_swapin(p, a);
	/* Written, then reclaimed before the phase ended: the write fault
	 * says what happened (an allocation in it is the copy). */
	if (bp && !p->np)
		return p->wp && p->wp_alloc ? WR_COPIED : WR_REUSED;
	return WR_UNRESOLVED;
}

static bool in_pinned(const struct cb_classify_in *in, pid_t pid, uintptr_t addr)
{
	for (int i = 0; i < in->npinned; i++)
		if ((!in->pinned[i].pid || in->pinned[i].pid == pid) && addr >= in->pinned[i].addr &&
		    addr < in->pinned[i].addr + in->pinned[i].len)
			return true;
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Another tracked page on the same frame before the phase, or the frame
 * was seen shared earlier in the repetition: a KSM page (the only KSM
 * evidence where kpageflags marks every anon page KSM). */
static bool has_twin(const struct cb_classify_in *in, const struct cb_track_snap *b, size_t i)
{
	uint64_t f = pfn(&b->pages[i]);
	if (!f || flag(b->pages[i].kflags, KPF_ZERO_PAGE))
		return false;
	if (in->nksm && bsearch(&f, in->ksm_pfns, in->nksm, sizeof f, cmp_u64))
		return true;
	for (size_t k = 0; k < b->n; k++)
		if (k != i && pfn(&b->pages[k]) == f)
			return true;
	return false;
}

void cb_track_twins(const struct cb_track_snap *s, uint64_t **pfns, size_t *n)
{
	uint64_t *all = malloc((s->n ? s->n : 1) * sizeof *all);
	size_t k = 0;
	for (size_t i = 0; all && i < s->n; i++)
		if (pfn(&s->pages[i]) && !flag(s->pages[i].kflags, KPF_ZERO_PAGE))
			all[k++] = pfn(&s->pages[i]);
	if (all)
		qsort(all, k, sizeof *all, cmp_u64);
	for (size_t i = 1; i < k; i++) {
		if (all[i] != all[i - 1] || (i > 1 && all[i - 2] == all[i]))
			continue;
		if (*n && bsearch(&all[i], *pfns, *n, sizeof all[i], cmp_u64))
			continue;
		uint64_t *grown = realloc(*pfns, (*n + 1) * sizeof *grown);
		if (!grown)
			break;
		*pfns = grown;
		(*pfns)[(*n)++] = all[i];
		qsort(*pfns, *n, sizeof **pfns, cmp_u64);
	}
	free(all);
}

static enum cb_cause cause_of(const struct cb_classify_in *in, const struct cb_track_snap *b,
			      size_t i, pid_t pid, uintptr_t addr, enum wr_outcome o)
{
	uint64_t f = b->pages[i].kflags;
	if (in_pinned(in, pid, addr))
		return CB_CAUSE_PINNED;
	if (o == WR_SWAPIN_COPIED)
		return CB_CAUSE_SWAPCACHE; /* swapped in during the phase */
	if (in->ksm_flag_ok ? flag(f, KPF_KSM) : has_twin(in, b, i))
		return CB_CAUSE_KSM;
	if (flag(f, KPF_SWAPCACHE))
		return CB_CAUSE_SWAPCACHE;
	if (flag(f, KPF_THP))
		return CB_CAUSE_THP;
	if (flag(f, KPF_ANON) && !flag(f, KPF_LRU))
		return CB_CAUSE_LRU_BATCH; /* a per-CPU batch still holds a reference */
	return CB_CAUSE_OTHER;
}

static void count_outcome(struct cb_track_totals *t, enum wr_outcome o)
{
	switch (o) {
	case WR_REUSED: t->reused++; break;
	case WR_COPIED: t->copied++; break;
	case WR_SWAPIN_COPIED: t->swapin_copied++; break;
	case WR_SWAPIN_REUSED: t->swapin_reused++; break;
	case WR_REFAULTED: t->refaulted++; break;
	case WR_SWAPIN_UNKNOWN: t->swapin_unknown++; break;
	case WR_UNRESOLVED: t->unresolved++; break;
	}
}

static void region_of(const struct cb_classify_in *in, size_t i, pid_t *pid, uintptr_t *addr)
{
	size_t ps = cb_page_size(), base = 0;
	for (int k = 0; k < in->nr; k++) {
		size_t n = in->r[k].len / ps;
		if (i < base + n) {
			*pid = in->r[k].pid;
			*addr = in->r[k].addr + (i - base) * ps;
			return;
		}
		base += n;
	}
	*pid = 0;
	*addr = 0;
}

static enum wr_outcome classify_page(const struct cb_classify_in *in,
				     const struct cb_track_snap *b, const struct cb_track_snap *a,
				     const struct pg_log *pg, size_t i, struct cb_track_totals *t)
{
	const struct cb_page *pb = &b->pages[i], *pa = &a->pages[i];
	enum wr_outcome o = pg ? outcome_log(&pg[i], pb, pa, t) : outcome_pfn(pb, pa);
	t->written++;
	count_outcome(t, o);
	if (o == WR_UNRESOLVED && !t->why_unresolved[0])
		snprintf(t->why_unresolved, sizeof t->why_unresolved, "%s",
			 pg ? "a write fault swapped the page in and its final frame is the "
			      "fault's last allocation: swap readahead or a copy, not told apart"
			    : "page not present after its write (reclaimed or unmapped)");
	if (o != WR_COPIED && o != WR_SWAPIN_COPIED)
		return o;
	if (o == WR_COPIED && pb->mapcount > 1) {
		t->necessary_copies++;
		return o;
	}
	t->extra_copies++;
	pid_t pid;
	uintptr_t addr;
	region_of(in, i, &pid, &addr);
	t->by_cause[cause_of(in, b, i, pid, addr, o)]++;
	return o;
}

void cb_track_classify(const struct cb_track_snap *b, const struct cb_track_snap *a,
		       const struct cb_classify_in *in, struct cb_track_totals *t)
{
	cb_track_compare(b, a, t);
	t->copied = t->reused = t->extra_copies = t->necessary_copies = 0;
	struct pg_log *pg = NULL;
	bool *copied = calloc(b->n ? b->n : 1, sizeof *copied);
	if (!copied || ((in->ev || in->log_written) &&
			!(pg = calloc(b->n ? b->n : 1, sizeof *pg)))) {
		free(copied);
		return;
	}
	if (pg)
		fold_log(in, pg);
	/* A page neither present nor swapped before is a first touch: a
	 * fresh zeroed page, no COW decision, not counted as written. */
	for (size_t i = 0; i < b->n && i < a->n; i++)
		if ((in->all_written || cb_written_test(i) ||
		     (in->log_written && pg && (pg[i].wp || pg[i].np_write))) &&
		    (b->pages[i].pm & (PM_PRESENT | PM_SWAPPED)))
			copied[i] = classify_page(in, b, a, pg, i, t) == WR_COPIED;
	free(pg);
	/* Only the old frames of real copies: a refaulted page's old frame in
	 * the swap cache is reclaim's doing, not a copy's. */
	t->swapcache_leftover = count_leftovers(b, a, copied);
	free(copied);
}

/* KPF_KSM on a private anonymous page that KSM never saw says the flag
 * means nothing on this kernel. */
bool cb_track_ksm_flag_ok(void)
{
	static int ok = -1;
	if (ok >= 0)
		return ok;
	size_t ps = cb_page_size();
	char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return true;
	cb_fresh_write(p, 0x6b736dULL);
	ok = !(cb_kpageflags_of(p) & (1ULL << KPF_KSM));
	munmap(p, ps);
	return ok;
}
