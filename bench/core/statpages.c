/* `cowbench stat`: the page lists of traced processes, from /proc/PID/maps
 * and pagemap, and their settling into copies and reuses (see stat.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "stat.h"

struct vma {
	uintptr_t start, end;
	bool file; /* private file mapping: only its anonymous (COWed) pages count */
	char name[80];
};

static bool bit(uint64_t flags, int b)
{
	return flags & (1ULL << b);
}

static uint64_t own_pfn(const void *addr)
{
	return cb_pfn_of(addr);
}

/* The shared zero page and whether kpageflags shows PG_anon_exclusive are
 * facts of the kernel: learn them from one page of our own. */
void st_pages_init(struct st_state *s)
{
	s->page_size = cb_page_size();
	volatile char *p = mmap(NULL, s->page_size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	(void)p[0]; /* a read fault maps the zero page, where the kernel uses it */
	struct cb_page zp = { .pm = PM_PRESENT | own_pfn((const void *)p) };
	/* Not the zero page (this kernel gives a read fault a frame of its
	 * own): that frame is freed below and may turn up in a traced
	 * process, where it must not be taken for the zero page. */
	if (!cb_track_kpage(&zp, 1, true) && bit(zp.kflags, KPF_ZERO_PAGE))
		s->zero_pfn = zp.pm & PM_PFN_MASK;
	p[0] = 1;
	struct cb_page pg = { .pm = PM_PRESENT | own_pfn((const void *)p) };
	if (!cb_track_kpage(&pg, 1, true))
		s->have_excl_bit = bit(pg.kflags, ST_KPF_ANON_EXCL) && bit(pg.kflags, KPF_ANON);
	munmap((void *)p, s->page_size);
}

static void vma_name(struct vma *v, const char *path, unsigned long inode)
{
	v->file = inode != 0;
	if (path[0])
		snprintf(v->name, sizeof v->name, "%s", path);
	else
		snprintf(v->name, sizeof v->name, "anon@%lx", (unsigned long)v->start);
}

/* Writable private mappings: where a write to a shared page is a COW fault. */
#define ST_MAX_MAPPING (1ull << 40)

static struct vma *read_maps(pid_t pid, size_t *n)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	*n = 0;
	if (!f)
		return NULL;
	size_t cap = 64;
	struct vma *v = malloc(cap * sizeof *v);
	while (v && fgets(line, sizeof line, f)) {
		unsigned long a, b, off, inode;
		char perms[8], dev[16], name[400] = "";
		if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %399[^\n]", &a, &b, perms, &off, dev,
			   &inode, name) < 6)
			continue;
		if (perms[1] != 'w' || perms[3] != 'p' || !strncmp(name, "[v", 2))
			continue;
		/* A sanitizer's shadow or a sparse reservation: terabytes of
		 * pagemap to read for a few resident pages (cannot_see says so). */
		if (b - a > ST_MAX_MAPPING)
			continue;
		if (*n == cap) {
			struct vma *nv = realloc(v, (cap *= 2) * sizeof *v);
			if (!nv)
				break;
			v = nv;
		}
		v[*n] = (struct vma){ .start = a, .end = b };
		char *nm = name;
		while (*nm == ' ')
			nm++;
		vma_name(&v[*n], nm, inode);
		(*n)++;
	}
	fclose(f);
	return v;
}

static int open_pagemap(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int cmp_va(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return (x > y) - (x < y);
}

static int read_pm(int fd, uintptr_t va, size_t n, size_t ps, uint64_t *out)
{
	return cb_pread_full(fd, out, n * 8, (off_t)(va / ps) * 8);
}

static uint32_t map_index(struct st_proc *p, const char *name)
{
	for (size_t i = 0; i < p->nmaps; i++)
		if (!strcmp(p->maps[i].name, name))
			return (uint32_t)i;
	struct st_map *m = realloc(p->maps, (p->nmaps + 1) * sizeof *m);
	if (!m)
		return 0;
	p->maps = m;
	memset(&m[p->nmaps], 0, sizeof *m);
	snprintf(m[p->nmaps].name, sizeof m->name, "%s", name);
	return (uint32_t)p->nmaps++;
}

static int kpageflags_fd(void)
{
	static int fd = -1;
	if (fd < 0)
		fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	return fd;
}

static const uint64_t *sort_key;

static int by_pfn(const void *a, const void *b)
{
	uint64_t x = sort_key[*(const size_t *)a], y = sort_key[*(const size_t *)b];
	return (x > y) - (x < y);
}

#define FLAG_WINDOW 256 /* PFNs read at once where enough listed frames fall */
#define FLAG_DENSE 8    /* ... at least this many: one pread beats one per frame */

/* kpageflags of a list of frames, into flags[]. The frames of a list are
 * scattered: sorted, a dense window of them costs one pread, not one each
 * (the per-frame preads were most of stat's overhead on fork-heavy trees). */
static void frame_flags(const uint64_t *pfn, size_t n, uint64_t *flags)
{
	int fd = kpageflags_fd();
	size_t *ix = malloc((n ? n : 1) * sizeof *ix);
	uint64_t buf[FLAG_WINDOW];
	if (fd < 0 || !ix) {
		free(ix);
		return;
	}
	for (size_t i = 0; i < n; i++)
		ix[i] = i;
	sort_key = pfn;
	qsort(ix, n, sizeof *ix, by_pfn);
	for (size_t i = 0; i < n;) {
		uint64_t first = pfn[ix[i]];
		size_t j = i;
		while (j < n && pfn[ix[j]] - first < FLAG_WINDOW)
			j++;
		size_t span = j - i >= FLAG_DENSE ? (size_t)(pfn[ix[j - 1]] - first) + 1 : 1;
		if (span == 1)
			j = i + 1;
		if (pread(fd, buf, span * 8, (off_t)(first * 8)) != (ssize_t)(span * 8))
			memset(buf, 0, sizeof buf);
		for (size_t k = i; k < j; k++)
			flags[ix[k]] = buf[pfn[ix[k]] - first];
		/* the same frame listed twice gets it too */
		while (j < n && pfn[ix[j]] == first)
			flags[ix[j++]] = buf[0];
		i = j;
	}
	free(ix);
}

struct cand {
	struct st_page *pg;
	struct cb_page *kp; /* pm of candidates whose flags decide */
	bool *check;
	size_t n, cap;
};

static int cand_add(struct cand *c, uintptr_t va, uint64_t pfn, uint32_t map, bool check)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct st_page *pg = realloc(c->pg, cap * sizeof *pg);
		if (pg)
			c->pg = pg;
		bool *ck = realloc(c->check, cap * sizeof *ck);
		if (ck)
			c->check = ck;
		if (!pg || !ck)
			return -1;
		c->cap = cap;
	}
	c->pg[c->n] = (struct st_page){ va, pfn, map };
	c->check[c->n++] = check;
	return 0;
}

/* A process's writable private mappings and their pagemap entries, read
 * once per fork stop for both the settle and the new list. */
struct pm_dump {
	struct vma *v;
	size_t nv;
	uint64_t **pm;
};

static void dump_free(struct pm_dump *d)
{
	for (size_t i = 0; d->pm && i < d->nv; i++)
		free(d->pm[i]);
	free(d->pm);
	free(d->v);
	memset(d, 0, sizeof *d);
}

static int dump_read(pid_t pid, size_t ps, struct pm_dump *d)
{
	memset(d, 0, sizeof *d);
	d->v = read_maps(pid, &d->nv);
	int fd = open_pagemap(pid);
	d->pm = calloc(d->nv ? d->nv : 1, sizeof *d->pm);
	int rc = d->v && d->pm && fd >= 0 ? 0 : -1;
	for (size_t i = 0; !rc && i < d->nv; i++) {
		size_t n = (d->v[i].end - d->v[i].start) / ps;
		d->pm[i] = malloc(n * 8);
		rc = d->pm[i] ? read_pm(fd, d->v[i].start, n, ps, d->pm[i]) : -1;
	}
	if (fd >= 0)
		close(fd);
	if (rc)
		dump_free(d);
	return rc;
}

/* The entry at va; 0 (not present) outside every listed mapping. */
static uint64_t dump_entry(const struct pm_dump *d, uintptr_t va, size_t ps)
{
	size_t lo = 0, hi = d->nv;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (va < d->v[mid].start)
			hi = mid;
		else if (va >= d->v[mid].end)
			lo = mid + 1;
		else
			return d->pm[mid][(va - d->v[mid].start) / ps];
	}
	return 0;
}

/* One mapping: pages present with a real frame that another process maps
 * too (pagemap's "exclusively mapped" bit clear; a DONTFORK page or one the
 * fork copied for a pin stays exclusive and is not COW-shared). */
static void scan_vma(struct st_state *s, struct st_proc *p, const struct vma *v,
		     const uint64_t *pm, bool attach, struct cand *c)
{
	size_t ps = s->page_size, n = (v->end - v->start) / ps;
	uint32_t mi = map_index(p, v->name);
	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = pm[i] & PM_PFN_MASK;
		if (!(pm[i] & PM_PRESENT) || !pfn || pfn == s->zero_pfn)
			continue;
		if (!attach && (pm[i] & PM_EXCLUSIVE))
			continue;
		/* At attach every page's flags decide; after a fork only a
		 * private file mapping's (page cache is not COW-shared memory). */
		if (cand_add(c, v->start + i * ps, pfn, mi, attach || v->file))
			break;
	}
}

/* Keep the candidates that are anonymous and, at attach, no longer
 * exclusive (or mapped more than once where the kernel hides exclusivity). */
static size_t filter_cands(struct st_state *s, struct cand *c, bool attach)
{
	size_t k = 0, nk = 0;
	uint64_t *pfn = malloc((c->n ? c->n : 1) * 8), *fl = calloc(c->n ? c->n : 1, 8);
	struct cb_page *kp = attach && !s->have_excl_bit ? calloc(c->n ? c->n : 1, sizeof *kp)
							  : NULL;
	if (!pfn || !fl) {
		free(pfn);
		free(fl);
		free(kp);
		return 0;
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->check[i])
			pfn[nk++] = c->pg[i].pfn;
	frame_flags(pfn, nk, fl);
	for (size_t i = 0; kp && i < nk; i++)
		kp[i].pm = PM_PRESENT | pfn[i];
	if (kp)
		cb_track_kpage(kp, nk, false); /* once, at attach */
	for (size_t i = 0, f = 0; i < c->n; i++) {
		bool keep = true;
		if (c->check[i]) {
			keep = bit(fl[f], KPF_ANON);
			if (keep && attach)
				keep = s->have_excl_bit ? !bit(fl[f], ST_KPF_ANON_EXCL)
							: kp[f].mapcount >= 2;
			f++;
		}
		if (keep)
			c->pg[k++] = c->pg[i];
	}
	free(pfn);
	free(fl);
	free(kp);
	return k;
}

static void settle_from(struct st_state *s, struct st_proc *p, bool copies_only,
		       const struct pm_dump *d);

/* A swap device or file in use (/proc/swaps has more than its header);
 * zswap writes only in front of one. */
static bool swap_on(void)
{
	char *v = cb_read_file("/proc/swaps", NULL);
	char *nl = v ? strchr(v, '\n') : NULL;
	bool on = nl && nl[1];
	free(v);
	return on;
}

uint64_t st_swapouts(void)
{
	if (!swap_on()) /* /proc/vmstat costs ~50 us a read: most of a small settle */
		return 0;
	char *v = cb_read_file("/proc/vmstat", NULL);
	uint64_t n = 0;
	for (char *l = v; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long long x;
		if (sscanf(l, "pswpout %llu", &x) == 1 || sscanf(l, "zswpout %llu", &x) == 1)
			n += x;
	}
	free(v);
	return n;
}

size_t st_snapshot(struct st_state *s, struct st_proc *p, bool attach)
{
	struct pm_dump d;
	uint64_t from = cb_now_ns();
	uint64_t swapouts = s->fl_allocs ? st_swapouts() : 0;
	size_t ev_from = s->nev;
	if (dump_read(p->pid, s->page_size, &d)) {
		st_settle(s, p, false);
		p->npages = 0;
		return 0;
	}
	settle_from(s, p, false, &d);
	st_hist_keep(s, p);
	struct cand c = { 0 };
	for (size_t i = 0; i < d.nv; i++)
		scan_vma(s, p, &d.v[i], d.pm[i], attach, &c);
	dump_free(&d);
	free(p->pages);
	p->npages = filter_cands(s, &c, attach);
	p->pages = c.pg;
	p->list_t = cb_now_ns();
	p->list_from = from;
	p->ev_from = ev_from;
	p->swapouts = swapouts;
	free(c.check);
	for (size_t i = 0; i < p->npages; i++)
		p->maps[p->pages[i].map].shared++;
	return p->npages;
}

void st_share_list(const struct st_proc *from, struct st_proc *to)
{
	free(to->pages);
	to->pages = malloc((from->npages ? from->npages : 1) * sizeof *to->pages);
	to->npages = to->pages ? from->npages : 0;
	to->list_t = from->list_t;
	to->list_from = from->list_from;
	to->ev_from = from->ev_from;
	to->swapouts = from->swapouts;
	/* Mapping indexes translated once per mapping, not looked up by name
	 * per page (that was a strcmp per page and mapping at every fork). */
	uint32_t *tr = malloc((from->nmaps ? from->nmaps : 1) * sizeof *tr);
	for (size_t m = 0; tr && m < from->nmaps; m++)
		tr[m] = map_index(to, from->maps[m].name);
	for (size_t i = 0; tr && i < to->npages; i++) {
		to->pages[i] = from->pages[i];
		to->pages[i].map = tr[from->pages[i].map];
		to->maps[to->pages[i].map].shared++;
	}
	if (!tr)
		to->npages = 0;
	free(tr);
}

/* Current pagemap entries of the listed pages: one read per cluster. */
static int read_now(struct st_state *s, struct st_proc *p, uint64_t *now)
{
	int fd = open_pagemap(p->pid);
	if (fd < 0)
		return -1;
	size_t ps = s->page_size, win = 1024, i = 0;
	uint64_t *buf = malloc(win * 8);
	int rc = buf ? 0 : -1;
	while (!rc && i < p->npages) {
		size_t j = i;
		uintptr_t first = p->pages[i].va;
		while (j < p->npages && p->pages[j].va >= first &&
		       (p->pages[j].va - first) / ps < win)
			j++;
		size_t span = (p->pages[j - 1].va - first) / ps + 1;
		rc = read_pm(fd, first, span, ps, buf);
		for (size_t k = i; !rc && k < j; k++)
			now[k] = buf[(p->pages[k].va - first) / ps];
		i = j;
	}
	free(buf);
	close(fd);
	return rc;
}

enum { ST_KEEP, ST_COPIED, ST_REUSED, ST_GONE };

static void count(struct st_proc *p, const struct st_page *pg, int what)
{
	struct st_map *m = &p->maps[pg->map];
	if (what == ST_COPIED) {
		p->c.copied++;
		m->copied++;
	} else if (what == ST_REUSED) {
		p->c.reused++;
		m->reused++;
	} else if (what == ST_GONE) {
		p->c.gone++;
	}
}

void st_settle(struct st_state *s, struct st_proc *p, bool copies_only)
{
	settle_from(s, p, copies_only, NULL);
}

/* Index of the listed page at va, or -1 (the list is sorted by address). */
static long listed(const struct st_proc *p, uintptr_t va)
{
	size_t lo = 0, hi = p->npages;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->pages[mid].va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->npages && p->pages[lo].va == va ? (long)lo : -1;
}

/* Whether the log has a write fault on a present page at va. */
static bool wrote(const struct st_since *x, uintptr_t va)
{
	uintptr_t *at = x->nva ? bsearch(&va, x->va, x->nva, sizeof va, cmp_va) : NULL;
	return at && x->wp[at - x->va];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Every frame the process allocated is mapped at a page it faulted. If one
 * is not, something the log did not show (GUP with FOLL_WRITE, a page
 * table) allocated it, and it may be a copy of any listed page. */
static bool allocs_seen(const struct st_since *x, const uint64_t *at)
{
	uint64_t *frames = malloc((x->nva ? x->nva : 1) * 8);
	size_t nf = 0;
	bool ok = frames != NULL;
	for (size_t i = 0; ok && i < x->nva; i++)
		if (at[i] & PM_PRESENT)
			frames[nf++] = at[i] & PM_PFN_MASK;
	if (ok && nf)
		qsort(frames, nf, sizeof *frames, cmp_u64);
	for (size_t i = 0; ok && i < x->npfn; i++)
		ok = nf && bsearch(&x->pfn[i], frames, nf, sizeof *frames, cmp_u64);
	free(frames);
	return ok;
}

/* The listed pages' entries from the log: a page the process did not fault
 * still maps its listed frame, shared, so only the faulted pages are read
 * (reading the whole list at every exit was most of stat's cost on
 * fork-heavy trees). -1 when the log cannot vouch for the rest. */
static int read_logged(struct st_state *s, struct st_proc *p, const struct st_since *x,
		       uint64_t *now)
{
	int fd = open_pagemap(p->pid);
	uint64_t *at = malloc((x->nva ? x->nva : 1) * 8);
	int rc = fd >= 0 && at ? 0 : -1;
	for (size_t i = 0; !rc && i < x->nva; i++)
		rc = read_pm(fd, x->va[i], 1, s->page_size, &at[i]);
	if (fd >= 0)
		close(fd);
	if (!rc && !allocs_seen(x, at))
		rc = -1;
	for (size_t i = 0; !rc && i < p->npages; i++)
		now[i] = PM_PRESENT | p->pages[i].pfn;
	for (size_t i = 0; !rc && i < x->nva; i++) {
		long k = listed(p, x->va[i]);
		if (k >= 0)
			now[k] = at[i];
	}
	free(at);
	return rc;
}

/* The listed pages' pagemap entries now: from the dump of this stop, from
 * the log, or read. */
static int fill_now(struct st_state *s, struct st_proc *p, const struct pm_dump *d,
		    const struct st_since *x, bool logged, uint64_t *now)
{
	for (size_t i = 0; d && i < p->npages; i++)
		now[i] = dump_entry(d, p->pages[i].va, s->page_size);
	if (d)
		return 0;
	if (logged && !read_logged(s, p, x, now)) {
		s->settles_log++;
		return 0;
	}
	s->settles_read++;
	return read_now(s, p, now);
}

/* copies_only: classify new frames only (pagemap alone, cheap); the same
 * frames wait for the next full settle to be told reused or shared. d: the
 * pagemap already read at this stop, else it is read here. */
static void settle_from(struct st_state *s, struct st_proc *p, bool copies_only,
			const struct pm_dump *d)
{
	if (!p->npages)
		return;
	size_t n = p->npages;
	uint64_t *now = calloc(n, 8), *pfn = calloc(n, 8), *fl = calloc(n, 8);
	int *what = calloc(n, sizeof *what);
	size_t *hist = calloc(n, sizeof *hist); /* a copy's history entry */
	size_t nflag = 0;
	uint64_t t = cb_now_ns(); /* the end of the window of what settles now */
	struct st_since x;
	bool logged = !st_log_since(s, p, &x);
	if (!now || !pfn || !fl || !what || !hist || fill_now(s, p, d, &x, logged, now)) {
		/* The mm is gone (exec, or exit already released it). */
		p->lost_at_exec |= !p->alive;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t e = now[i];
		if (!(e & PM_PRESENT))
			what[i] = ST_GONE; /* swapped or unmapped: cannot tell */
		else if ((e & PM_PFN_MASK) != p->pages[i].pfn)
			what[i] = ST_COPIED;
		/* Same frame still mapped elsewhere (pagemap's "exclusively
		 * mapped" bit clear): not reused, no flags needed. */
		else if (!copies_only && s->have_excl_bit && (e & PM_EXCLUSIVE))
			pfn[nflag++] = p->pages[i].pfn;
	}
	/* Same frame, exclusive again: the write reused it. */
	frame_flags(pfn, nflag, fl);
	uint64_t copies = 0, left = 0;
	size_t k = 0, f = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t e = now[i];
		bool flagged = !copies_only && s->have_excl_bit && what[i] == ST_KEEP &&
			       (e & PM_EXCLUSIVE);
		if (flagged && bit(fl[f++], ST_KPF_ANON_EXCL))
			what[i] = ST_REUSED;
		/* At a fork stop the fork has just cleared the flag of a page
		 * the process reused since its last fork: the log's write
		 * fault on the same frame says so instead. */
		if (d && logged && s->have_excl_bit && what[i] == ST_KEEP &&
		    wrote(&x, p->pages[i].va))
			what[i] = ST_REUSED;
		size_t had = p->nhist;
		if (what[i] == ST_COPIED || what[i] == ST_REUSED)
			st_hist_add(p, &p->pages[i], t,
				    what[i] == ST_COPIED ? ST_H_COPIED : ST_H_REUSED);
		if (what[i] == ST_COPIED) {
			hist[copies] = p->nhist > had ? had : SIZE_MAX;
			pfn[copies++] = p->pages[i].pfn;
		}
		count(p, &p->pages[i], what[i]);
		if (what[i] == ST_KEEP)
			p->pages[k++] = p->pages[i];
	}
	p->npages = k;
	/* The old frame of a copy still in the swap cache: memory the copy
	 * left behind until reclaim finds it (none without swap in use). */
	size_t old = swap_on() ? copies : 0;
	frame_flags(pfn, old, fl);
	for (size_t i = 0; i < old; i++) {
		bool swapc = bit(fl[i], KPF_SWAPCACHE) && bit(fl[i], KPF_ANON);
		left += swapc;
		if (hist[i] != SIZE_MAX) /* else its entry could not be stored */
			p->hist[hist[i]].swapc = swapc;
	}
	p->c.leftover += left;
	if (p->alone && p->extra_known && !s->fl) {
		p->c.extra += copies; /* with a log the replay times each copy instead */
		p->c.extra_swapc += left;
	}
out:
	st_since_free(&x);
	free(now);
	free(pfn);
	free(fl);
	free(what);
	free(hist);
}

void st_proc_faults(struct st_proc *p)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)p->pid);
	char *t = cb_read_file(path, NULL);
	char *r = t ? strrchr(t, ')') : NULL;
	unsigned long long v[10] = { 0 };
	if (r && sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %llu %llu %llu", &v[0], &v[1],
			&v[2]) == 3) {
		p->minflt = v[0] - p->minflt0;
		p->majflt = v[2] - p->majflt0;
	}
	free(t);
}

void st_proc_comm(struct st_proc *p)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)p->pid);
	char *t = cb_read_file(path, NULL);
	if (t) {
		t[strcspn(t, "\n")] = 0;
		snprintf(p->comm, sizeof p->comm, "%s", t);
	}
	free(t);
}
