/* Which tracked pages a phase wrote. cb_fresh_write() (every workload
 * writes through it, or reports its own writes with cb_written()) sets one
 * bit per tracked page in a MAP_SHARED bitmap, so the writes of forked
 * workers count too: a page never written in a phase is neither copied nor
 * reused. One mapping per harness process, made before any workload fork
 * and never moved, so every child sees the same bits and region table. */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

#define WMAP_BYTES (8u << 20) /* 64 Mi pages = 256 GiB tracked */

struct wmap {
	int nregions;
	size_t npages; /* bits in use */
	struct {
		pid_t pid;
		uintptr_t addr;
		size_t npages, bit0;
	} r[CB_MAX_REGIONS];
	unsigned char bits[];
};

static struct wmap *wm;
static pid_t my_pid; /* cached: getpid() per page write would be a syscall each */

static void after_fork(void)
{
	my_pid = getpid();
}

int cb_written_init(void)
{
	if (wm)
		return 0;
	void *p = mmap(NULL, WMAP_BYTES, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	wm = p;
	my_pid = getpid();
	pthread_atfork(NULL, NULL, after_fork);
	return 0;
}

void cb_written_regions(const struct cb_region *r, int nr)
{
	if (!wm)
		return;
	size_t ps = cb_page_size(), at = 0;
	size_t max = (WMAP_BYTES - sizeof *wm) * 8;
	wm->nregions = 0;
	for (int i = 0; i < nr && at + r[i].len / ps <= max; i++) {
		wm->r[i].pid = r[i].pid;
		wm->r[i].addr = r[i].addr;
		wm->r[i].npages = r[i].len / ps;
		wm->r[i].bit0 = at;
		at += r[i].len / ps;
		wm->nregions = i + 1;
	}
	wm->npages = at;
}

void cb_written_clear(void)
{
	if (wm)
		memset(wm->bits, 0, (wm->npages + 7) / 8);
}

/* Whether the bitmap covers all tracked pages (a huge region may not fit). */
bool cb_written_covers(size_t npages)
{
	return wm && wm->npages == npages;
}

bool cb_written_test(size_t page)
{
	return wm && page < wm->npages && (wm->bits[page / 8] & (1u << (page % 8)));
}

void cb_written(const void *addr)
{
	if (!wm)
		return;
	uintptr_t a = (uintptr_t)addr;
	size_t ps = cb_page_size();
	for (int i = 0; i < wm->nregions; i++) {
		if (wm->r[i].pid != my_pid || a < wm->r[i].addr ||
		    a >= wm->r[i].addr + wm->r[i].npages * ps)
			continue;
		size_t bit = wm->r[i].bit0 + (a - wm->r[i].addr) / ps;
		__atomic_fetch_or(&wm->bits[bit / 8], (unsigned char)(1u << (bit % 8)),
				  __ATOMIC_RELAXED);
		return;
	}
}

/* Every 8-byte word gets a value derived from the tag and its offset, so
 * the page differs from all earlier contents and from every other page. */
void cb_fresh_write(void *page, uint64_t tag)
{
	uint64_t *w = page;
	size_t n = cb_page_size() / sizeof *w;
	uint64_t x = tag * 0x9E3779B97F4A7C15ull + (uint64_t)(uintptr_t)page;
	for (size_t i = 0; i < n; i++)
		w[i] = x + i;
	cb_written(page);
}
