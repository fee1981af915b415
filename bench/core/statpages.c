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
	(void)p[0]; /* a read fault maps the zero page */
	s->zero_pfn = own_pfn((const void *)p);
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

static int read_pm(int fd, uintptr_t va, size_t n, size_t ps, uint64_t *out)
{
	size_t done = 0;
	off_t off = (off_t)(va / ps) * 8;
	while (done < n * 8) {
		ssize_t r = pread(fd, (char *)out + done, n * 8 - done, off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
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

/* One mapping: pages present with a real frame in pid (and, after a fork,
 * the same frame in the child). */
static void scan_vma(struct st_state *s, struct st_proc *p, const struct vma *v, int fd,
		     int cfd, struct cand *c)
{
	size_t ps = s->page_size, n = (v->end - v->start) / ps;
	uint64_t *pm = malloc(n * 8), *cm = cfd >= 0 ? malloc(n * 8) : NULL;
	if (!pm || (cfd >= 0 && !cm) || read_pm(fd, v->start, n, ps, pm) ||
	    (cfd >= 0 && read_pm(cfd, v->start, n, ps, cm)))
		goto out;
	uint32_t mi = map_index(p, v->name);
	for (size_t i = 0; i < n; i++) {
		uint64_t pfn = pm[i] & PM_PFN_MASK;
		if (!(pm[i] & PM_PRESENT) || !pfn || pfn == s->zero_pfn)
			continue;
		if (cm && (!(cm[i] & PM_PRESENT) || (cm[i] & PM_PFN_MASK) != pfn))
			continue; /* not given to the child: DONTFORK, or copied for a pin */
		/* At attach every page's flags decide; after a fork only a
		 * private file mapping's (page cache is not COW-shared memory). */
		if (cand_add(c, v->start + i * ps, pfn, mi, cfd < 0 || v->file))
			break;
	}
out:
	free(pm);
	free(cm);
}

/* Keep the candidates that are anonymous and, at attach, no longer
 * exclusive (or mapped more than once where the kernel hides exclusivity). */
static size_t filter_cands(struct st_state *s, struct cand *c, bool attach)
{
	size_t k = 0;
	struct cb_page *kp = calloc(c->n ? c->n : 1, sizeof *kp);
	if (!kp)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		kp[i].pm = PM_PRESENT | c->pg[i].pfn;
	cb_track_kpage(kp, c->n, true);
	if (attach && !s->have_excl_bit)
		cb_track_kpage(kp, c->n, false);
	for (size_t i = 0; i < c->n; i++) {
		bool keep = true;
		if (c->check[i]) {
			keep = bit(kp[i].kflags, KPF_ANON);
			if (keep && attach)
				keep = s->have_excl_bit ? !bit(kp[i].kflags, ST_KPF_ANON_EXCL)
							: kp[i].mapcount >= 2;
		}
		if (keep)
			c->pg[k++] = c->pg[i];
	}
	free(kp);
	return k;
}

size_t st_snapshot(struct st_state *s, struct st_proc *p, pid_t child)
{
	size_t nv;
	struct vma *v = read_maps(p->pid, &nv);
	int fd = open_pagemap(p->pid), cfd = child ? open_pagemap(child) : -1;
	struct cand c = { 0 };
	for (size_t i = 0; v && fd >= 0 && (!child || cfd >= 0) && i < nv; i++)
		scan_vma(s, p, &v[i], fd, cfd, &c);
	if (fd >= 0)
		close(fd);
	if (cfd >= 0)
		close(cfd);
	free(v);
	free(p->pages);
	p->npages = filter_cands(s, &c, !child);
	p->pages = c.pg;
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
	for (size_t i = 0; i < to->npages; i++) {
		to->pages[i] = from->pages[i];
		to->pages[i].map = map_index(to, from->maps[from->pages[i].map].name);
		to->maps[to->pages[i].map].shared++;
	}
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

/* kpageflags of a list of frames, into flags[]. */
static void frame_flags(const uint64_t *pfn, size_t n, uint64_t *flags)
{
	struct cb_page *kp = calloc(n ? n : 1, sizeof *kp);
	if (!kp)
		return;
	for (size_t i = 0; i < n; i++)
		kp[i].pm = PM_PRESENT | pfn[i];
	cb_track_kpage(kp, n, true);
	for (size_t i = 0; i < n; i++)
		flags[i] = kp[i].kflags;
	free(kp);
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

void st_settle(struct st_state *s, struct st_proc *p)
{
	if (!p->npages)
		return;
	size_t n = p->npages;
	uint64_t *now = calloc(n, 8), *pfn = calloc(n, 8), *fl = calloc(n, 8);
	int *what = calloc(n, sizeof *what);
	if (!now || !pfn || !fl || !what || read_now(s, p, now)) {
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
		pfn[i] = p->pages[i].pfn;
	}
	if (s->have_excl_bit) /* same frame, exclusive again: the write reused it */
		frame_flags(pfn, n, fl);
	uint64_t copies = 0, left = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (what[i] == ST_KEEP && s->have_excl_bit && bit(fl[i], ST_KPF_ANON_EXCL))
			what[i] = ST_REUSED;
		if (what[i] == ST_COPIED)
			pfn[copies++] = p->pages[i].pfn;
		count(p, &p->pages[i], what[i]);
		if (what[i] == ST_KEEP)
			p->pages[k++] = p->pages[i];
	}
	p->npages = k;
	/* The old frame of a copy still in the swap cache: memory the copy
	 * left behind until reclaim finds it. */
	frame_flags(pfn, copies, fl);
	for (size_t i = 0; i < copies; i++)
		left += bit(fl[i], KPF_SWAPCACHE) && bit(fl[i], KPF_ANON);
	p->c.leftover += left;
	if (p->alone && p->extra_known)
		p->c.extra += copies;
out:
	free(now);
	free(pfn);
	free(fl);
	free(what);
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
