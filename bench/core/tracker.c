#include "tracker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static int pread_full(int fd, void *buf, size_t len, off_t off)
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
	int rc = pread_full(fd, out, n * 8, off);
	close(fd);
	return rc;
}

/* One pread per run of consecutive PFNs, not one per page. */
static void read_kpage(int fd, struct cb_page *pages, size_t n, int which)
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
		if (pread_full(fd, buf, run * 8, (off_t)(pfn * 8)))
			memset(buf, 0, run * 8);
		for (size_t k = 0; k < run; k++) {
			if (which)
				pages[i + k].kflags = buf[k];
			else
				pages[i + k].mapcount = buf[k];
		}
		i += run;
	}
}

/* kpagecount (flags false) or kpageflags (flags true) of pages whose pm
 * holds a PFN, for `cowbench stat`'s own page lists; -1 without the files. */
int cb_track_kpage(struct cb_page *pages, size_t n, bool flags)
{
	if (open_kpage_files())
		return -1;
	read_kpage(flags ? kpageflags_fd : kpagecount_fd, pages, n, flags);
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
	read_kpage(kpagecount_fd, s->pages, s->n, 0);
	read_kpage(kpageflags_fd, s->pages, s->n, 1);
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
static uint64_t count_leftovers(const struct cb_track_snap *b, const struct cb_track_snap *a)
{
	if (open_kpage_files())
		return 0;
	struct cb_page *old = calloc(b->n ? b->n : 1, sizeof *old);
	if (!old)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < b->n && i < a->n; i++)
		if (cb_track_outcome(&b->pages[i], &a->pages[i]) == CB_PAGE_COPIED)
			old[k++].pm = b->pages[i].pm;
	read_kpage(kpageflags_fd, old, k, 1);
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
		read_kpage(kpageflags_fd, old, k, 1);
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
	 * workloads/probes.c); compare PFNs where KSM must be proven. */
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
	t->swapcache_leftover = count_leftovers(b, a);
}
