/* `cowbench stat`: the fault log of the traced tree (bench/core/faultlog.c,
 * exceptions:page_fault_user), drained at the end and replayed against the
 * pages that left the lists: each write fault on a present page (x86 error
 * code PROT|WRITE) is matched by address and time to the listed page it hit.
 * That makes the count of COW write faults exact and independent of the
 * frame comparison, which it cross-checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faultlog.h"
#include "harness.h"
#include "stat.h"

/* Events the rings should hold without loss: a fork-heavy tree of a few
 * hundred thousand faults. */
#define LOG_EVENTS_HINT (256u << 10)

void st_log_open(struct st_state *s, const pid_t *pids, int npids)
{
	/* Allocations and kernel-mode faults let a settle read only the pages
	 * the process faulted; without them every settle reads the list. */
	s->fl = cb_faultlog_open(pids, npids, NULL, 0,
				 CB_FL_WITH_ALLOCS | CB_FL_WITH_KERNEL_FAULTS, LOG_EVENTS_HINT,
				 s->fl_why, sizeof s->fl_why);
	s->fl_allocs = s->fl != NULL;
	if (!s->fl)
		s->fl = cb_faultlog_open(pids, npids, NULL, 0, 0, LOG_EVENTS_HINT, s->fl_why,
					 sizeof s->fl_why);
	if (s->fl && cb_faultlog_enable(s->fl)) {
		snprintf(s->fl_why, sizeof s->fl_why, "cannot enable the fault log's perf events");
		cb_faultlog_close(s->fl);
		s->fl = NULL;
	}
	s->fl_allocs &= s->fl != NULL;
	s->fl_since = cb_now_ns();
}

void st_log_pull(struct st_state *s)
{
	if (!s->fl)
		return;
	const struct cb_fl_event *ev;
	uint64_t lost = 0;
	size_t n = cb_faultlog_drain(s->fl, &ev, &lost);
	s->fl_lost += lost;
	if (s->nev + n > s->evcap) {
		size_t cap = s->evcap ? s->evcap : 4096;
		while (cap < s->nev + n)
			cap *= 2;
		struct cb_fl_event *e = realloc(s->ev, cap * sizeof *e);
		if (!e) {
			s->fl_lost += n;
			return;
		}
		s->ev = e;
		s->evcap = cap;
	}
	if (n) /* memcpy takes no NULL, even for 0 items */
		memcpy(s->ev + s->nev, ev, n * sizeof *ev);
	s->nev += n;
}

void st_since_free(struct st_since *x)
{
	free(x->va);
	free(x->wp);
	free(x->pfn);
	memset(x, 0, sizeof *x);
}

static int by_addr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return (x > y) - (x < y);
}

/* Faulted pages sorted and once each; a page is wp when any of its faults
 * was a write to a present page. Write faults are kept with the low bit of
 * the page address set while sorting. */
static void since_unique(struct st_since *x)
{
	if (x->nva)
		qsort(x->va, x->nva, sizeof *x->va, by_addr);
	size_t k = 0;
	for (size_t i = 0; i < x->nva; i++) {
		uintptr_t page = x->va[i] & ~(uintptr_t)1;
		bool wp = x->va[i] & 1;
		if (k && x->va[k - 1] == page) {
			x->wp[k - 1] |= wp;
			continue;
		}
		x->va[k] = page;
		x->wp[k++] = wp;
	}
	x->nva = k;
}

int st_log_since(struct st_state *s, const struct st_proc *p, struct st_since *out)
{
	memset(out, 0, sizeof *out);
	if (!s->fl || !s->fl_allocs || s->fl_lost || p->list_from < s->fl_since ||
	    st_swapouts() != p->swapouts)
		return -1;
	st_log_pull(s);
	if (s->fl_lost)
		return -1;
	size_t n = s->nev - p->ev_from;
	out->va = malloc((n ? n : 1) * sizeof *out->va);
	out->wp = malloc((n ? n : 1) * sizeof *out->wp);
	out->pfn = malloc((n ? n : 1) * sizeof *out->pfn);
	if (!out->va || !out->wp || !out->pfn) {
		st_since_free(out);
		return -1;
	}
	uintptr_t mask = ~(uintptr_t)(s->page_size - 1);
	unsigned need = CB_PF_PROT | CB_PF_WRITE;
	for (size_t i = p->ev_from; i < s->nev; i++) {
		const struct cb_fl_event *e = &s->ev[i];
		/* A fault from before the list is read too (reading a page
		 * is never wrong): a new child's kernel fault may start before
		 * the list and allocate after it. Only later writes are wp. */
		bool since = e->time_ns >= p->list_from;
		if (e->pid != (uint32_t)p->pid || (e->kind == CB_FL_ALLOC && !since))
			continue;
		if (e->kind == CB_FL_FAULT && (int64_t)e->addr < 0)
			continue; /* a kernel address: no page of the list */
		if (e->kind == CB_FL_ALLOC)
			out->pfn[out->npfn++] = e->pfn;
		else
			out->va[out->nva++] = ((uintptr_t)e->addr & mask) |
					      (since && (e->error_code & need) == need);
	}
	since_unique(out);
	return 0;
}

void st_hist_add(struct st_proc *p, const struct st_page *pg, uint64_t now, int kind)
{
	if (p->nhist == p->histcap) {
		size_t cap = p->histcap ? p->histcap * 2 : 256;
		struct st_hist *h = realloc(p->hist, cap * sizeof *h);
		if (!h)
			return;
		p->hist = h;
		p->histcap = cap;
	}
	p->hist[p->nhist++] = (struct st_hist){ pg->va, p->list_t, now, pg->map, (uint8_t)kind,
						false, false };
}

void st_hist_keep(struct st_state *s, struct st_proc *p)
{
	if (s->have_excl_bit || !s->fl)
		return;
	uint64_t now = cb_now_ns();
	for (size_t i = 0; i < p->npages; i++)
		st_hist_add(p, &p->pages[i], now, ST_H_KEPT);
}

void st_alone_mark(struct st_proc *p, bool alone, uint64_t now)
{
	if (!alone) {
		if (p->nalone && !p->alone_at[p->nalone - 1].to)
			p->alone_at[p->nalone - 1].to = now;
		return;
	}
	struct st_alone *a = realloc(p->alone_at, (p->nalone + 1) * sizeof *a);
	if (!a)
		return;
	p->alone_at = a;
	a[p->nalone++] = (struct st_alone){ now, 0 };
}

static bool alone_at(const struct st_proc *p, uint64_t t)
{
	for (size_t i = 0; i < p->nalone; i++)
		if (p->alone_at[i].from <= t && (!p->alone_at[i].to || t < p->alone_at[i].to))
			return true;
	return false;
}

static int by_time(const void *a, const void *b)
{
	const struct cb_fl_event *x = a, *y = b;
	return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

static int by_va(const void *a, const void *b)
{
	const struct st_hist *x = a, *y = b;
	if (x->va == y->va)
		return (x->t_listed > y->t_listed) - (x->t_listed < y->t_listed);
	return (x->va > y->va) - (x->va < y->va);
}

static const struct st_proc *order_procs;

/* By pid, and the later process of a reused pid first. */
static int by_pid(const void *a, const void *b)
{
	const struct st_proc *x = &order_procs[*(const size_t *)a],
			     *y = &order_procs[*(const size_t *)b];
	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	return (x->idx < y->idx) - (x->idx > y->idx);
}

/* Process indexes ordered for proc_at: a search per event, not a scan of
 * every process (a 500-fork tree spent most of its replay there). */
static size_t *pid_index(struct st_state *s)
{
	size_t *ix = malloc((s->nprocs ? s->nprocs : 1) * sizeof *ix);
	for (size_t i = 0; ix && i < s->nprocs; i++)
		ix[i] = i;
	order_procs = s->procs;
	if (ix && s->nprocs)
		qsort(ix, s->nprocs, sizeof *ix, by_pid);
	return ix;
}

/* The process that had this tgid at that time (pids are reused). */
static struct st_proc *proc_at(struct st_state *s, const size_t *ix, uint32_t pid, uint64_t t)
{
	size_t lo = 0, hi = ix ? s->nprocs : 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((uint32_t)s->procs[ix[mid]].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < s->nprocs && ix && (uint32_t)s->procs[ix[i]].pid == pid; i++) {
		struct st_proc *p = &s->procs[ix[i]];
		if (p->t_start <= t && (!p->t_end || t <= p->t_end))
			return p;
	}
	return NULL;
}

/* The page of p's history that took its COW fault at t, or NULL. */
static struct st_hist *hit(const struct st_proc *p, uintptr_t page, uint64_t t)
{
	size_t lo = 0, hi = p->nhist;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->hist[mid].va < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < p->nhist && p->hist[i].va == page; i++)
		if (p->hist[i].t_listed <= t && t <= p->hist[i].t_settled)
			return &p->hist[i];
	return NULL;
}

static void *close_log(void *fl)
{
	cb_faultlog_close(fl);
	return NULL;
}

/* Closing the log waits, for each tracepoint whose last perf event goes,
 * until the kernel's unregistration settles (an RCU grace period, ~25 ms a
 * tracepoint here): a thread does it while the document is made. */
static void close_behind(struct st_state *s)
{
	if (pthread_create(&s->fl_closer, NULL, close_log, s->fl))
		cb_faultlog_close(s->fl);
	else
		s->fl_closing = true;
	s->fl = NULL;
}

void st_log_replay(struct st_state *s)
{
	if (!s->fl)
		return;
	cb_faultlog_disable(s->fl);
	st_log_pull(s);
	for (size_t i = 0; i < s->nprocs; i++)
		st_hist_keep(s, &s->procs[i]); /* the lists still open at the end */
	const struct cb_fl_event *ev = s->ev;
	size_t n = s->nev;
	if (n) /* pulled in batches: each in time order, not all together */
		qsort(s->ev, n, sizeof *s->ev, by_time);
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].nhist) /* qsort takes no NULL, even for 0 items */
			qsort(s->procs[i].hist, s->procs[i].nhist, sizeof *s->procs[i].hist,
			      by_va);
	uintptr_t mask = ~(uintptr_t)(s->page_size - 1);
	size_t *ix = pid_index(s);
	for (size_t i = 0; i < n; i++) {
		const struct cb_fl_event *e = &ev[i];
		unsigned need = CB_PF_PROT | CB_PF_WRITE;
		/* Kernel-mode faults serve the settles only: the counts
		 * below are of user faults (kernel_cow_breaks is the rest). */
		bool user = e->kind == CB_FL_FAULT && (e->error_code & CB_PF_USER);
		struct st_proc *p = user ? proc_at(s, ix, e->pid, e->time_ns) : NULL;
		if (!p)
			continue;
		p->fl_faults++;
		if ((e->error_code & need) != need)
			continue;
		struct st_hist *h = hit(p, (uintptr_t)e->addr & mask, e->time_ns);
		if (!h || h->used) {
			p->fl_other_wp += !h;
			continue;
		}
		h->used = true;
		p->fl_cow++;
		/* Kept the same frame and took a COW write fault: reused (the
		 * kernel hides the exclusive bit that would have said so). */
		if (h->kind == ST_H_KEPT) {
			p->c.reused++;
			p->maps[h->map].reused++;
		}
		/* A copy made while the writer was the last of its family: the
		 * kernel could have reused the page. */
		if (h->kind == ST_H_COPIED && p->extra_known && alone_at(p, e->time_ns)) {
			p->c.extra++;
			p->c.extra_swapc += h->swapc;
		}
	}
	free(ix);
	s->fl_used = true;
	if (s->fl_lost)
		snprintf(s->fl_why, sizeof s->fl_why,
			 "the fault log's rings overflowed: %llu records lost",
			 (unsigned long long)s->fl_lost);
	close_behind(s);
}

void st_log_join(struct st_state *s)
{
	if (s->fl_closing)
		pthread_join(s->fl_closer, NULL);
	s->fl_closing = false;
}
