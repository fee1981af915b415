/* Probes: one small scenario per eras.md id, each on a few hundred pages
 * and well under a second, whose outcomes form the kernel's COW policy
 * fingerprint. The page tracker (PFN before/after a write) says copied or
 * reused; a reader holding a reference (io_uring pin, pipe) says whether it
 * still sees what the process wrote (lost_sync). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pins/pin.h"
#include "probes.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PROBE_PAGES 256
#define KSM_DIR "/sys/kernel/mm/ksm/"

struct outcome {
	long pages, copied, reused;
	long lost_sync;  /* -1: nobody but the process reads these pages */
	char skip[256];  /* non-empty: the probe could not run here */
};

/* Shared by all probes of one collection. */
struct penv {
	struct cb_ctx *c;
	size_t ps;
	int swap;            /* 0 unknown, 1 ready, -1 missing (why in swap_why) */
	char swap_why[320];
	char swapfile[256];  /* ours, removed right after the probes */
	uint64_t tag;
};

static void skip(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct outcome *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->skip, sizeof o->skip, fmt, ap);
	va_end(ap);
}

static void write_pages(struct penv *e, char *b, size_t pages)
{
	e->tag++;
	for (size_t i = 0; i < pages; i++)
		cb_fresh_write(b + i * e->ps, e->tag);
}

static char *map_pages(struct penv *e, struct outcome *o, size_t pages, bool populate)
{
	char *b = mmap(NULL, pages * e->ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) {
		skip(o, "mmap: %s", strerror(errno));
		return NULL;
	}
	madvise(b, pages * e->ps, MADV_NOHUGEPAGE);
	if (populate)
		write_pages(e, b, pages);
	return b;
}

static int snap(struct outcome *o, const char *b, size_t len, struct cb_track_snap *s)
{
	struct cb_region r = { getpid(), (uintptr_t)b, len };
	if (cb_track_snapshot(&r, 1, s) || !s->pfn_ok) {
		skip(o, "page tracker: %s", s->why[0] ? s->why : "snapshot failed");
		cb_track_free(s);
		return -1;
	}
	return 0;
}

/* The probe's measured step: the process writes every page once. */
static int measured_write(struct penv *e, struct outcome *o, char *b, size_t pages,
			  struct cb_track_totals *out)
{
	struct cb_track_snap before, after;
	if (snap(o, b, pages * e->ps, &before))
		return -1;
	write_pages(e, b, pages);
	if (snap(o, b, pages * e->ps, &after)) {
		cb_track_free(&before);
		return -1;
	}
	struct cb_track_totals t;
	cb_track_compare(&before, &after, &t);
	cb_track_free(&before);
	cb_track_free(&after);
	o->pages = (long)pages;
	o->copied = (long)t.copied;
	o->reused = (long)t.reused;
	if (out)
		*out = t;
	return 0;
}

/* --- swap: a device that keeps swapped-in pages in the swap cache --- */

static bool swap_ready(struct penv *e, struct outcome *o)
{
	if (!e->swap) {
		const char *kind = cb_swap_kind();
		e->swap = 1;
		if (!strcmp(kind, "none") || !strcmp(kind, "zram")) {
			char err[256];
			if (!cb_journal_active()) {
				snprintf(e->swap_why, sizeof e->swap_why, "needs a swap file: %s "
					 "swap active and not root to create one", kind);
				e->swap = -1;
			} else if (cb_swapfile_create(16u << 20, e->swapfile, sizeof e->swapfile,
						      err, sizeof err)) {
				snprintf(e->swap_why, sizeof e->swap_why, "needs a swap file: %s",
					 err);
				e->swap = -1;
			}
		}
	}
	if (e->swap < 0)
		skip(o, "%s", e->swap_why);
	return e->swap > 0;
}

/* Our swap file goes at once, not at the end of the run: a later workload
 * asking for swap must not find a 16 MiB file and take it for its own.
 * The journal's entry for it then finds nothing left to undo. */
static void swap_done(struct penv *e)
{
	if (!e->swapfile[0])
		return;
	if (swapoff(e->swapfile) == 0)
		unlink(e->swapfile);
	e->swapfile[0] = 0;
}

static long count_swapped(struct penv *e, struct outcome *o, const char *b, size_t pages)
{
	struct cb_region r = { getpid(), (uintptr_t)b, pages * e->ps };
	struct cb_track_snap s;
	if (cb_track_snapshot(&r, 1, &s)) {
		skip(o, "pagemap: %s", s.why);
		cb_track_free(&s);
		return -1;
	}
	long n = 0;
	for (size_t i = 0; i < s.n; i++)
		n += (s.pages[i].pm & PM_SWAPPED) != 0;
	cb_track_free(&s);
	return n;
}

/* Swaps the pages out; fails (skip set) unless most of them went. */
static int page_out(struct penv *e, struct outcome *o, char *b, size_t pages)
{
	if (!swap_ready(e, o))
		return -1;
	if (madvise(b, pages * e->ps, MADV_PAGEOUT)) {
		skip(o, "madvise(MADV_PAGEOUT): %s", strerror(errno));
		return -1;
	}
	long n = count_swapped(e, o, b, pages);
	if (n >= 0 && (size_t)n * 2 < pages)
		skip(o, "MADV_PAGEOUT swapped out only %ld of %zu pages", n, pages);
	return n >= 0 && (size_t)n * 2 >= pages ? 0 : -1;
}

/* --- the probes --- */

/* Fork a child that exits at once and reap it: afterwards the parent's
 * pages are write-protected and the parent is again their only mapper. */
static int fork_exit_child(struct penv *e, struct outcome *o)
{
	pid_t pid = cb_fork(e->c);
	if (pid == 0)
		_exit(0);
	if (pid < 0 || cb_reap(pid)) {
		skip(o, "fork failed");
		return -1;
	}
	return 0;
}

/* S2: fork, the child exits, the parent writes. */
static void probe_s2(struct penv *e, struct outcome *o)
{
	char *b = map_pages(e, o, PROBE_PAGES, true);
	if (!b)
		return;
	if (!fork_exit_child(e, o))
		measured_write(e, o, b, PROBE_PAGES, NULL);
	munmap(b, PROBE_PAGES * e->ps);
}

/* S3a: swapped out, read back in, then written. */
static void probe_s3a(struct penv *e, struct outcome *o)
{
	char *b = map_pages(e, o, PROBE_PAGES, true);
	if (!b)
		return;
	if (!page_out(e, o, b, PROBE_PAGES)) {
		unsigned sum = 0;
		for (size_t i = 0; i < PROBE_PAGES; i++)
			sum += *(volatile unsigned char *)(b + i * e->ps);
		(void)sum;
		measured_write(e, o, b, PROBE_PAGES, NULL);
	}
	munmap(b, PROBE_PAGES * e->ps);
}

/* S3b: swapped out, then written directly (the write fault swaps in). The
 * swapped-out page stays in the swap cache until reclaim frees it, so a
 * reuse at swap-in maps the very PFN it had before the pageout; counted
 * are the pages mincore() shows still in the swap cache. */
static void probe_s3b(struct penv *e, struct outcome *o)
{
	size_t len = PROBE_PAGES * e->ps;
	char *b = map_pages(e, o, PROBE_PAGES, true);
	unsigned char vec[PROBE_PAGES];
	struct cb_track_snap pre, after;
	if (!b)
		return;
	if (snap(o, b, len, &pre)) {
		munmap(b, len);
		return;
	}
	if (!page_out(e, o, b, PROBE_PAGES) && !mincore(b, len, vec)) {
		write_pages(e, b, PROBE_PAGES);
		if (!snap(o, b, len, &after)) {
			for (size_t i = 0; i < PROBE_PAGES; i++) {
				if (!(vec[i] & 1) || !(after.pages[i].pm & PM_PRESENT))
					continue;
				o->pages++;
				if (cb_pagemap_pfn(pre.pages[i].pm) == cb_pagemap_pfn(after.pages[i].pm))
					o->reused++;
				else
					o->copied++;
			}
			cb_track_free(&after);
			if (o->pages * 2 < PROBE_PAGES)
				skip(o, "only %ld of %d pages stayed in the swap cache", o->pages,
				     PROBE_PAGES);
		}
	}
	cb_track_free(&pre);
	munmap(b, len);
}

static int uffd_open_wp(struct outcome *o)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api)) {
		skip(o, "userfaultfd write-protect: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Fills b with write-protected fresh pages (UFFDIO_COPY + WP), lifts the
 * protection and unregisters: the pages are mapped R/O, new, and the last
 * ones still sit in this CPU's LRU batch (an extra reference). */
static int uffd_copy_wp(struct penv *e, struct outcome *o, char *b, size_t len)
{
	int fd = uffd_open_wp(o);
	if (fd < 0)
		return -1;
	char *src = map_pages(e, o, len / e->ps, true);
	struct uffdio_register reg = { .range = { (uintptr_t)b, len },
				       .mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP };
	struct uffdio_copy cp = { .dst = (uintptr_t)b, .src = (uintptr_t)src, .len = len,
				  .mode = UFFDIO_COPY_MODE_WP };
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)b, len }, .mode = 0 };
	int rc = -1;
	if (!src)
		;
	else if (ioctl(fd, UFFDIO_REGISTER, &reg))
		skip(o, "UFFDIO_REGISTER: %s", strerror(errno));
	else if (ioctl(fd, UFFDIO_COPY, &cp) || cp.copy != (__s64)len)
		skip(o, "UFFDIO_COPY: %s", strerror(errno));
	else if (ioctl(fd, UFFDIO_WRITEPROTECT, &wp))
		skip(o, "UFFDIO_WRITEPROTECT: %s", strerror(errno));
	else
		rc = 0;
	ioctl(fd, UFFDIO_UNREGISTER, &reg.range);
	close(fd);
	if (src)
		munmap(src, len);
	return rc;
}

/* S4: write to a fresh page mapped R/O that still has an LRU-batch ref. */
static void probe_s4(struct penv *e, struct outcome *o)
{
	char *b = map_pages(e, o, PROBE_PAGES, false);
	if (!b)
		return;
	if (!uffd_copy_wp(e, o, b, PROBE_PAGES * e->ps))
		measured_write(e, o, b, PROBE_PAGES, NULL);
	munmap(b, PROBE_PAGES * e->ps);
}

/* --- S5a: KSM --- */

static int ksm_set(struct penv *e, struct outcome *o, const char *knob, const char *value)
{
	char path[128];
	snprintf(path, sizeof path, KSM_DIR "%s", knob);
	if (cb_journal_write(path, value)) {
		skip(o, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	(void)e;
	return 0;
}

/* Page i and page i+n get the same content, different from all other
 * pairs, so that KSM merges pairs (not everything into one page). */
static void fill_pairs(struct penv *e, char *b, size_t n)
{
	uint64_t salt = cb_now_ns() ^ ((uint64_t)getpid() << 32);
	for (size_t i = 0; i < n; i++) {
		uint64_t *w = (uint64_t *)(b + i * e->ps);
		for (size_t k = 0; k < e->ps / 8; k++)
			w[k] = salt + i * 0x100000001b3ull + k;
		memcpy(b + (n + i) * e->ps, w, e->ps);
	}
}

/* Pages of the first half whose twin (page i + n) maps the same frame:
 * the pairs KSM merged. The twins' PFNs are the proof, not KPF_KSM: from
 * "proc: Rewrite stable_page_flags()" (Matthew Wilcox, 2024, in 6.12)
 * fs/proc/page.c sets KPF_KSM when `mapping & PAGE_MAPPING_KSM` is non-zero,
 * and PAGE_MAPPING_KSM is PAGE_MAPPING_ANON | PAGE_MAPPING_MOVABLE, so every
 * anonymous page reads as KSM there (seen on Debian's 6.12.117: bit 21 on
 * unmerged, AnonExclusive pages with pages_shared 0; 6.18 reports it right).
 * With pfn non-NULL, the merged frame of page i goes to pfn[i] (0: not
 * merged). */
static long count_merged(const char *b, size_t n, size_t ps, uint64_t *pfn)
{
	struct cb_region r = { getpid(), (uintptr_t)b, 2 * n * ps };
	struct cb_track_snap s;
	long merged = 0;
	if (!cb_track_snapshot(&r, 1, &s) && s.pfn_ok && s.n == 2 * n)
		for (size_t i = 0; i < n; i++) {
			uint64_t lo = s.pages[i].pm, hi = s.pages[n + i].pm;
			bool same = (lo & PM_PRESENT) && (hi & PM_PRESENT) &&
				    (lo & PM_PFN_MASK) == (hi & PM_PFN_MASK);
			merged += same;
			if (pfn)
				pfn[i] = same ? lo & PM_PFN_MASK : 0;
		}
	cb_track_free(&s);
	return merged;
}

/* Pages of the first half still on the frame KSM merged them into. */
static long still_merged(const char *b, size_t n, size_t ps, const uint64_t *pfn)
{
	struct cb_region r = { getpid(), (uintptr_t)b, n * ps };
	struct cb_track_snap s;
	long k = 0;
	if (!cb_track_snapshot(&r, 1, &s) && s.pfn_ok && s.n == n)
		for (size_t i = 0; i < n; i++)
			k += pfn[i] && (s.pages[i].pm & PM_PRESENT) &&
			     (s.pages[i].pm & PM_PFN_MASK) == pfn[i];
	cb_track_free(&s);
	return k;
}

/* ksmd scans everything as fast as it can for at most 10 s (a page must
 * look the same in two scans before KSM merges it: a few ms natively,
 * longer under TCG); the previous knob values go back right after, not at
 * the end of the run. */
static long ksm_merge(struct penv *e, struct outcome *o, char *b, size_t n, uint64_t *pfn)
{
	static const char *const knobs[] = { "pages_to_scan", "sleep_millisecs", "run" };
	static const char *const fast[] = { "20000", "1", "1" };
	char *old[3] = { 0 };
	long merged = -1;
	for (int i = 0; i < 3; i++) {
		char path[128];
		snprintf(path, sizeof path, KSM_DIR "%s", knobs[i]);
		old[i] = cb_read_file(path, NULL);
	}
	if (madvise(b, 2 * n * e->ps, MADV_MERGEABLE)) {
		skip(o, "MADV_MERGEABLE: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < 3; i++)
		if (!old[i] || ksm_set(e, o, knobs[i], fast[i]))
			goto out;
	uint64_t t0 = cb_now_ns();
	struct timespec ts = { 0, 2000000 };
	do {
		nanosleep(&ts, NULL);
		merged = count_merged(b, n, e->ps, pfn);
	} while ((size_t)merged * 20 < n * 19 && cb_now_ns() - t0 < 10000000000ull);
out:
	for (int i = 2; i >= 0; i--) {
		if (old[i]) {
			old[i][strcspn(old[i], "\n")] = 0;
			ksm_set(e, o, knobs[i], old[i]);
		}
		free(old[i]);
	}
	return merged;
}

/* S5a: a KSM page whose twin went away: the writer is its only mapper.
 * Page i and page i + n of one mapping are merged pairs; the second half is
 * unmapped, so each KSM page keeps one mapping. From 5.9 on do_wp_page
 * copies any KSM page (6.12: wp_can_reuse_anon_folio() returns false on
 * folio_test_ksm() before any count is looked at); 5.1-5.8 reused it
 * through reuse_ksm_page().
 * Only the pages that still sit on their merged frame at the write count
 * as KSM pages. */
static void probe_s5a(struct penv *e, struct outcome *o)
{
	if (!cb_have_ksm()) {
		skip(o, "no KSM (/sys/kernel/mm/ksm missing)");
		return;
	}
	if (!cb_journal_active()) {
		skip(o, "KSM needs root to start ksmd (no journal)");
		return;
	}
	size_t n = PROBE_PAGES;
	uint64_t *pfn = calloc(n, sizeof *pfn);
	char *b = pfn ? map_pages(e, o, 2 * n, false) : NULL;
	if (!b) {
		if (!pfn)
			skip(o, "out of memory");
		free(pfn);
		return;
	}
	fill_pairs(e, b, n);
	long merged = ksm_merge(e, o, b, n, pfn);
	munmap(b + n * e->ps, n * e->ps);
	long ksm = o->skip[0] ? 0 : still_merged(b, n, e->ps, pfn);
	if (!o->skip[0] && merged * 2 < (long)n)
		skip(o, "KSM merged only %ld of %zu page pairs within 10 s", merged, n);
	else if (!o->skip[0] && ksm * 2 < (long)n)
		skip(o, "only %ld of %zu pages were still KSM pages at the write", ksm, n);
	else if (!o->skip[0])
		measured_write(e, o, b, n, NULL);
	munmap(b, n * e->ps);
	free(pfn);
}

/* S6b needs an O_DIRECT read held in flight while soft-dirty tracking
 * write-protects the buffer. */
static void probe_s6b(struct penv *e, struct outcome *o)
{
	char why[200] = "";
	(void)e;
	if (!cb_have_softdirty(why, sizeof why)) {
		skip(o, "%s", why);
		return;
	}
	skip(o, "needs an O_DIRECT read held in flight (a throttled disk), which the "
		"probe set does not set up");
}

/* Pages of b that equal the device's view in dev (the reader sees the
 * process's current data). */
static long same_pages(struct penv *e, const char *dev, const char *b, size_t pages)
{
	long n = 0;
	for (size_t i = 0; i < pages; i++)
		n += !memcmp(dev + i * e->ps, b + i * e->ps, e->ps);
	return n;
}

static int child_vmsplice(int fd, char *b, size_t len)
{
	for (size_t done = 0; done < len;) {
		struct iovec iov = { b + done, len - done };
		ssize_t n = vmsplice(fd, &iov, 1, 0);
		if (n <= 0)
			return 1;
		done += (size_t)n;
	}
	munmap(b, len);
	return 0;
}

/* S6c (CVE-2020-29374): the child vmsplices the shared pages into a pipe
 * and unmaps them; the parent writes. lost_sync counts pipe pages that show
 * the parent's later data: the child's reference leaked into the parent. */
static void probe_s6c(struct penv *e, struct outcome *o)
{
	size_t len = PROBE_PAGES * e->ps;
	int pp[2];
	char *b = map_pages(e, o, PROBE_PAGES, true), *dev = NULL;
	if (!b)
		return;
	if (pipe2(pp, O_CLOEXEC)) {
		skip(o, "pipe: %s", strerror(errno));
		munmap(b, len);
		return;
	}
	/* One slot per page; non-blocking so a small pipe fails, not hangs. */
	if (fcntl(pp[1], F_SETPIPE_SZ, (int)len) < 0 || fcntl(pp[1], F_SETFL, O_NONBLOCK)) {
		skip(o, "pipe of %zu bytes: %s", len, strerror(errno));
		goto out;
	}
	pid_t pid = cb_fork(e->c);
	if (pid == 0)
		_exit(child_vmsplice(pp[1], b, len));
	if (pid < 0 || cb_reap(pid)) {
		skip(o, "child vmsplice failed");
		goto out;
	}
	if (measured_write(e, o, b, PROBE_PAGES, NULL) || !(dev = malloc(len)))
		goto out;
	for (size_t done = 0; done < len;) {
		ssize_t n = read(pp[0], dev + done, len - done);
		if (n <= 0) {
			skip(o, "pipe read: %s", n ? strerror(errno) : "short");
			goto out;
		}
		done += (size_t)n;
	}
	o->lost_sync = same_pages(e, dev, b, PROBE_PAGES);
out:
	free(dev);
	close(pp[0]);
	close(pp[1]);
	munmap(b, len);
}

/* A child that maps everything until the parent closes the pipe. */
static pid_t fork_holder(struct penv *e, int *release)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t pid = cb_fork(e->c);
	if (pid == 0) {
		char x;
		close(p[1]);
		while (read(p[0], &x, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	*release = p[1];
	return pid;
}

/* S7a-d: an io_uring registered buffer (long-term R/W pin), an event,
 * the process writes, the "device" reads the pinned pages. */
static void probe_pin(struct penv *e, struct outcome *o, enum cb_pin_event ev, bool hold)
{
	size_t len = PROBE_PAGES * e->ps;
	char why[256] = "";
	if (ev == CB_EV_PAGEOUT && !swap_ready(e, o))
		return;
	if (!cb_pin_event_ready(e->c, ev, len, why, sizeof why)) {
		skip(o, "%s", why);
		return;
	}
	char *b = map_pages(e, o, PROBE_PAGES, true);
	struct cb_pin pin;
	if (!b)
		return;
	if (cb_pin_open(&pin, &cb_pin_iouring, b, len, why, sizeof why)) {
		skip(o, "%s", why);
		munmap(b, len);
		return;
	}
	int release = -1;
	pid_t holder = hold ? fork_holder(e, &release) : 0;
	if (holder < 0 || cb_pin_event_run(e->c, ev, b, len, why, sizeof why))
		skip(o, "%s", holder < 0 ? "fork failed" : why);
	else if (!measured_write(e, o, b, PROBE_PAGES, NULL) &&
		 (o->lost_sync = cb_pin_lost_sync(&pin, why, sizeof why)) < 0)
		skip(o, "device read: %s", why);
	if (holder > 0) {
		close(release);
		cb_reap(holder);
	}
	cb_pin_close(&pin);
	munmap(b, len);
}

/* S7a: pin, fork, the parent writes while the child still maps the pages. */
static void probe_s7a(struct penv *e, struct outcome *o) { probe_pin(e, o, CB_EV_NONE, true); }
/* S7b: pin, clear_refs 4, write. */
static void probe_s7b(struct penv *e, struct outcome *o) { probe_pin(e, o, CB_EV_CLEAR_REFS, false); }
/* S7c: pin, UFFDIO_WRITEPROTECT on and off, write. */
static void probe_s7c(struct penv *e, struct outcome *o) { probe_pin(e, o, CB_EV_UFFD_WP, false); }
/* S7d: pin, MADV_PAGEOUT (reclaim attempt), write. */
static void probe_s7d(struct penv *e, struct outcome *o) { probe_pin(e, o, CB_EV_PAGEOUT, false); }

static long count_thp(const char *b, size_t len)
{
	struct cb_region r = { getpid(), (uintptr_t)b, len };
	struct cb_track_snap s;
	long n = 0;
	if (!cb_track_snapshot(&r, 1, &s))
		for (size_t i = 0; i < s.n; i++)
			n += (s.pages[i].kflags >> KPF_THP) & 1;
	cb_track_free(&s);
	return n;
}

/* S9c: a THP mapped by PTEs (mprotect of one page splits the PMD, the
 * folio stays large), fork, the child exits, the parent writes each page. */
static void probe_s9c(struct penv *e, struct outcome *o)
{
	size_t huge = 2u << 20, pages = huge / e->ps;
	char *raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (raw == MAP_FAILED) {
		skip(o, "mmap: %s", strerror(errno));
		return;
	}
	char *b = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	if (madvise(b, huge, MADV_HUGEPAGE))
		skip(o, "MADV_HUGEPAGE: %s", strerror(errno));
	write_pages(e, b, pages);
	long thp = o->skip[0] ? 0 : count_thp(b, huge);
	if (!o->skip[0] && thp * 2 < (long)pages) {
		char *en = cb_read_file("/sys/kernel/mm/transparent_hugepage/enabled", NULL);
		skip(o, "no THP for the region (%ld of %zu pages; enabled: %.40s)", thp, pages,
		     en ? en : "absent");
		free(en);
	}
	if (!o->skip[0] && (mprotect(b, e->ps, PROT_READ) ||
			    mprotect(b, e->ps, PROT_READ | PROT_WRITE)))
		skip(o, "mprotect: %s", strerror(errno));
	if (!o->skip[0]) {
		if (!fork_exit_child(e, o))
			measured_write(e, o, b, pages, NULL);
	}
	munmap(raw, 2 * huge);
}

struct cb_probe {
	const char *id;
	const char *desc;
	void (*fn)(struct penv *e, struct outcome *o);
};

static const struct cb_probe probes[] = {
	{ "S2", "fork, child exits, parent writes", probe_s2 },
	{ "S3a", "swapped out, read fault, then write", probe_s3a },
	{ "S3b", "swapped out, write fault directly", probe_s3b },
	{ "S4", "write to a fresh R/O page with an LRU-batch ref (uffd copy+wp)", probe_s4 },
	{ "S5a", "KSM page, single mapper, write", probe_s5a },
	{ "S6b", "O_DIRECT read in flight + clear_refs + write", probe_s6b },
	{ "S6c", "child vmsplices shared pages, unmaps; parent writes", probe_s6c },
	{ "S7a", "io_uring pin, fork (child alive), parent writes", probe_s7a },
	{ "S7b", "io_uring pin, clear_refs 4, write", probe_s7b },
	{ "S7c", "io_uring pin, uffd-wp on/off, write", probe_s7c },
	{ "S7d", "io_uring pin, MADV_PAGEOUT, write", probe_s7d },
	{ "S9c", "PTE-mapped THP, fork, child exits, parent writes", probe_s9c },
	{ NULL, NULL, NULL }
};

/* --- classification: the era from the outcomes alone --- */

struct sc {
	bool ran;
	long pages, copied, reused, lost;
	bool has_lost; /* a reader checked coherency */
};

static long jint(json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

static struct sc get(json_t *scenarios, const char *id)
{
	json_t *o = json_object_get(scenarios, id);
	struct sc s = { 0 };
	if (!json_is_object(o) || json_is_string(json_object_get(o, "skipped")) ||
	    jint(o, "pages") <= 0)
		return s;
	s.ran = true;
	s.pages = jint(o, "pages");
	s.copied = jint(o, "copied");
	s.reused = jint(o, "reused");
	s.has_lost = json_is_integer(json_object_get(o, "lost_sync"));
	s.lost = jint(o, "lost_sync");
	return s;
}

/* Thresholds leave room for stray per-CPU references (measured bursts of
 * up to 29 of 256 copies on a reusing kernel) and demand a clear majority
 * where an era copies everything. */
static bool copied_most(struct sc s) { return s.ran && s.copied * 2 >= s.pages; }
static bool reused_most(struct sc s) { return s.ran && s.reused * 4 >= s.pages * 3; }
static bool lost(struct sc s) { return s.ran && s.has_lost && s.lost * 4 >= s.pages; }
static bool in_sync(struct sc s) { return s.ran && s.has_lost && s.lost == 0; }

/* The three eras the probes can tell apart, in the order of their scores. */
enum { ERA_M, ERA_P, ERA_E, NERA };
static const char *const era_names[NERA] = { "mapcount", "page_count", "exclusive" };
#define M (1u << ERA_M)
#define P (1u << ERA_P)
#define E (1u << ERA_E)

static json_t *era_list(unsigned set)
{
	json_t *a = json_array();
	for (int i = 0; i < NERA; i++)
		if (set & (1u << i))
			json_array_append_new(a, json_string(era_names[i]));
	return a;
}

/* One observed outcome: the eras it fits (for) and the eras that cannot
 * produce it (against); an era in neither set may show it either way. */
static void vote(json_t *ev, bool fired, unsigned pro, unsigned con, const char *id,
		 const char *text)
{
	if (!fired || !json_is_array(ev))
		return;
	char rule[200];
	snprintf(rule, sizeof rule, "%s: %s", id, text);
	json_t *f = era_list(pro);
	json_t *era = json_string(json_array_size(f) == 1 ?
				  json_string_value(json_array_get(f, 0)) : "several");
	json_array_append_new(ev, json_pack("{s:s, s:s, s:o, s:o, s:o}", "scenario", id,
					    "rule", rule, "era", era, "for", f,
					    "against", era_list(con)));
}

static bool lists(json_t *a, const char *era)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (!strcmp(json_string_value(v), era))
			return true;
	return false;
}

/* d[a][b]: outcomes that fit era a and that era b cannot produce. */
static void duels(json_t *ev, int d[NERA][NERA])
{
	size_t i;
	json_t *r;
	memset(d, 0, sizeof(int) * NERA * NERA);
	json_array_foreach(ev, i, r)
		for (int a = 0; a < NERA; a++)
			for (int b = 0; b < NERA; b++)
				d[a][b] += lists(json_object_get(r, "for"), era_names[a]) &&
					   lists(json_object_get(r, "against"), era_names[b]);
}

/* Expected outcomes per era (docs/eras.md; "page_count" spans 5.9-5.18):
 *   S3a disk-swap read fault then write: copied 5.9-5.17 only (the swap-cache
 *       reference counts); reuse fits mapcount, exclusive and 5.18.
 *   S4  fresh R/O pages with an LRU-batch reference: copied (>= 4) 5.9-5.17;
 *       reuse fits mapcount, exclusive and 5.18 (local batch drained).
 *   S5a single-mapper KSM page: reused 5.1-5.8 (reuse_ksm_page), copied from
 *       5.9 on (PageKsm / folio_test_ksm -> copy).
 *   S6c child's vmsplice pipe sees the parent's later writes: <= 5.7 only.
 *   S7a io_uring pin lost after fork + parent write: before 5.9 only (fork
 *       copies pinned pages for the child from 5.9).
 *   S7b / S7d pin + clear_refs / pageout lost: 5.9-5.10.8 only; in sync
 *       fits every era.
 *   S7c pin + uffd-wp on/off lost: 5.9-5.18 only; in sync rules them out.
 * Every decisive outcome is evidence for the eras it fits against the eras
 * that cannot produce it. An era wins when, against each other era, more
 * outcomes speak for it than against it: one odd scenario (a stray
 * reference, a probe fooled by the kernel) cannot flip the era against
 * several others, and the odd one stays in the evidence and is printed as a
 * conflict. Two eras with as much evidence each way: "ambiguous"; no telling
 * outcome between them: "unknown". Only S7c tells 5.18 from the exclusive
 * era. S2 and S3b reuse in every era and do not count; S9c reused (MM_ID
 * large-folio reuse, >= 6.15) is noted without counting. */
const char *cb_fingerprint_classify(json_t *sc, json_t *ev_in)
{
	json_t *ev = json_is_array(ev_in) ? json_incref(ev_in) : json_array();
	struct sc s3a = get(sc, "S3a"), s4 = get(sc, "S4"), s5a = get(sc, "S5a");
	struct sc s6c = get(sc, "S6c"), s7a = get(sc, "S7a"), s7b = get(sc, "S7b");
	struct sc s7c = get(sc, "S7c"), s7d = get(sc, "S7d"), s9c = get(sc, "S9c");
	vote(ev, copied_most(s3a), P, M | E, "S3a", "swap-in read then write copied");
	vote(ev, reused_most(s3a), M | E, 0, "S3a", "swap-in read then write reused");
	vote(ev, s4.ran && s4.copied >= 4, P, M | E, "S4",
	     "R/O fresh pages with an LRU-batch reference copied");
	vote(ev, s4.ran && s4.copied < 4, M | E, 0, "S4",
	     "R/O fresh pages with an LRU-batch reference reused");
	vote(ev, reused_most(s5a), M, P | E, "S5a", "single-mapper KSM page reused");
	vote(ev, copied_most(s5a), P | E, M, "S5a", "single-mapper KSM page copied");
	vote(ev, lost(s6c), M, P | E, "S6c", "child's vmsplice pipe sees the parent's later "
	     "writes");
	vote(ev, in_sync(s6c), P | E, M, "S6c", "child's vmsplice pipe keeps its data");
	vote(ev, lost(s7a), M, P | E, "S7a", "pin lost sync after fork");
	vote(ev, in_sync(s7a), P | E, M, "S7a", "pin in sync after fork");
	vote(ev, lost(s7b), P, M | E, "S7b", "pin + clear_refs, write: lost sync");
	vote(ev, lost(s7d), P, M | E, "S7d", "pin + pageout, write: lost sync");
	vote(ev, lost(s7c), P, M | E, "S7c", "pin + uffd-wp on/off, write: lost sync");
	vote(ev, in_sync(s7c), M | E, P, "S7c", "pin + uffd-wp on/off, write: in sync");
	vote(ev, reused_most(s9c), 0, 0, "S9c", "PTE-mapped large folio reused after fork "
	     "(MM_ID reuse, >= 6.15; noted, no vote)");
	int d[NERA][NERA];
	duels(ev, d);
	json_decref(ev);
	bool contested = false;
	for (int a = 0; a < NERA; a++) {
		bool wins = true;
		for (int b = 0; b < NERA; b++)
			if (b != a && d[a][b] <= d[b][a]) {
				wins = false;
				contested |= d[a][b] > 0 && d[a][b] == d[b][a];
			}
		if (wins)
			return era_names[a];
	}
	return contested ? "ambiguous" : "unknown";
}
#undef M
#undef P
#undef E

/* --- running and printing --- */

static json_t *outcome_json(const struct outcome *o, const char *desc, uint64_t ns)
{
	bool ran = !o->skip[0];
	json_t *j = json_pack("{s:s, s:f}", "description", desc, "elapsed_ms", (double)ns / 1e6);
	json_object_set_new(j, "pages", ran ? json_integer(o->pages) : json_null());
	json_object_set_new(j, "copied", ran ? json_integer(o->copied) : json_null());
	json_object_set_new(j, "reused", ran ? json_integer(o->reused) : json_null());
	json_object_set_new(j, "lost_sync", ran && o->lost_sync >= 0 ?
				json_integer(o->lost_sync) : json_null());
	json_object_set_new(j, "skipped", ran ? json_null() : json_string(o->skip));
	return j;
}

static bool is_era(const char *s)
{
	return !strcmp(s, "mapcount") || !strcmp(s, "page_count") || !strcmp(s, "exclusive");
}

json_t *cb_fingerprint_collect(void)
{
	static const struct cb_workload probe_wl = { .name = "probe",
						     .summary = "policy fingerprint" };
	struct cb_ctx c;
	cb_ctx_init(&c, &probe_wl, NULL, 0, NULL);
	struct penv e = { .c = &c, .ps = cb_page_size() };
	json_t *sc = json_object();
	for (const struct cb_probe *p = probes; p->id; p++) {
		struct outcome o = { .lost_sync = -1 };
		uint64_t t0 = cb_now_ns();
		if (!cb_is_root())
			skip(&o, "needs root: pagemap shows no PFNs");
		else
			p->fn(&e, &o);
		json_object_set_new(sc, p->id, outcome_json(&o, p->desc, cb_now_ns() - t0));
	}
	swap_done(&e);
	json_decref(cb_ctx_finish(&c));
	struct utsname u;
	uname(&u);
	json_t *ev = json_array();
	const char *beh = cb_fingerprint_classify(sc, ev);
	const char *ver = cb_era_by_version(u.release);
	int d[NERA][NERA];
	duels(ev, d);
	json_t *sj = json_object(), *conflicts = json_array();
	for (int a = 0; a < NERA; a++)
		for (int b = 0; b < NERA; b++)
			if (a != b) {
				char k[48];
				snprintf(k, sizeof k, "%s>%s", era_names[a], era_names[b]);
				json_object_set_new(sj, k, json_integer(d[a][b]));
			}
	size_t i;
	json_t *r;
	json_array_foreach(ev, i, r)
		if (is_era(beh) && lists(json_object_get(r, "against"), beh))
			json_array_append(conflicts, json_object_get(r, "scenario"));
	return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o}", "era_by_behaviour", beh,
			 "era_by_version", ver, "release", u.release, "mismatch",
			 is_era(beh) && strcmp(beh, ver), "scores", sj, "conflicts", conflicts,
			 "evidence", ev, "scenarios", sc);
}

static void print_count(FILE *out, json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, " %7lld", (long long)json_integer_value(v));
	else
		fprintf(out, " %7s", "-");
}

static void print_scenarios(json_t *sc, FILE *out)
{
	fprintf(out, "  %-4s %-62s %7s %7s %7s %7s\n", "id", "scenario", "pages", "copied",
		"reused", "lost");
	const char *id;
	json_t *o;
	json_object_foreach(sc, id, o) {
		fprintf(out, "  %-4s %-62s", id,
			json_string_value(json_object_get(o, "description")));
		json_t *why = json_object_get(o, "skipped");
		if (json_is_string(why)) {
			fprintf(out, " skipped: %s\n", json_string_value(why));
			continue;
		}
		print_count(out, json_object_get(o, "pages"));
		print_count(out, json_object_get(o, "copied"));
		print_count(out, json_object_get(o, "reused"));
		print_count(out, json_object_get(o, "lost_sync"));
		fprintf(out, "\n");
	}
}

static void print_eras(FILE *out, const char *sign, json_t *a)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		fprintf(out, "%s%s", sign, json_string_value(v));
}

void cb_fingerprint_print(json_t *fp, FILE *out, bool brief)
{
	const char *beh = json_string_value(json_object_get(fp, "era_by_behaviour"));
	const char *ver = json_string_value(json_object_get(fp, "era_by_version"));
	const char *rel = json_string_value(json_object_get(fp, "release"));
	if (!brief) {
		fprintf(out, "policy fingerprint (lost = pages a pin/pipe reader sees differently "
			"from the process):\n");
		print_scenarios(json_object_get(fp, "scenarios"), out);
		size_t i;
		json_t *r;
		fprintf(out, "evidence (fits / cannot happen in):\n");
		json_array_foreach(json_object_get(fp, "evidence"), i, r) {
			fprintf(out, "  %-60s", json_string_value(json_object_get(r, "rule")));
			print_eras(out, " +", json_object_get(r, "for"));
			print_eras(out, " -", json_object_get(r, "against"));
			fprintf(out, "\n");
		}
		const char *k;
		json_t *v;
		fprintf(out, "outcomes for one era that the other cannot produce:");
		json_object_foreach(json_object_get(fp, "scores"), k, v)
			fprintf(out, " %s %lld", k, json_integer_value(v));
		fprintf(out, "\n");
	}
	json_t *cf = json_object_get(fp, "conflicts");
	if (json_array_size(cf)) {
		fprintf(out, "outcomes this era cannot produce (outvoted, check them):");
		size_t i;
		json_t *v;
		json_array_foreach(cf, i, v)
			fprintf(out, " %s", json_string_value(v));
		fprintf(out, "\n");
	}
	fprintf(out, "era by behaviour: %s    era by version (%s): %s\n", beh, rel, ver);
	if (json_is_true(json_object_get(fp, "mismatch")))
		fprintf(out, "\n*** MISMATCH: this kernel behaves like the %s era, but its version "
			"predicts %s ***\n\n", beh, ver);
}
