/* Code the probe workloads share: mapping, the measured write, fork-exit,
 * pageout and the swap file a scenario needs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "probe.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

char *probe_map(struct cb_ctx *c, size_t pages, bool populate)
{
	size_t len = pages * cb_page_size();
	char *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) {
		cb_skip(c, "mmap: %s", strerror(errno));
		return NULL;
	}
	/* Base pages: a THP would make one COW decision for 512 pages. */
	madvise(b, len, MADV_NOHUGEPAGE);
	if (populate)
		probe_write(b, pages);
	return b;
}

void probe_write(char *b, size_t pages)
{
	static uint64_t tag;
	size_t ps = cb_page_size();
	tag++;
	for (size_t i = 0; i < pages; i++)
		cb_fresh_write(b + i * ps, tag);
}

void probe_begin(struct cb_ctx *c, const char *id, char *b, size_t pages)
{
	cb_track_clear(c);
	cb_track(c, getpid(), b, pages * cb_page_size());
	cb_phase_begin(c, id);
	cb_phase_ops(c, pages);
}

void probe_measured_write(struct cb_ctx *c, const char *id, char *b, size_t pages)
{
	probe_begin(c, id, b, pages);
	probe_write(b, pages);
	cb_phase_end(c);
}

int probe_fork_exit(struct cb_ctx *c)
{
	pid_t pid = cb_fork(c);
	if (pid == 0)
		_exit(0);
	if (pid < 0 || cb_reap(pid))
		return cb_skip(c, "fork failed");
	return 0;
}

int probe_page_out(char *b, size_t pages, char *why, size_t whylen)
{
	if (madvise(b, pages * cb_page_size(), MADV_PAGEOUT)) {
		snprintf(why, whylen, "madvise(MADV_PAGEOUT): %s", strerror(errno));
		return -1;
	}
	long n = cb_track_count_own(b, pages * cb_page_size(), PM_SWAPPED, PM_SWAPPED);
	if (n < 0) {
		snprintf(why, whylen, "pagemap cannot be read");
		return -1;
	}
	if ((size_t)n * 2 < pages) {
		snprintf(why, whylen, "MADV_PAGEOUT swapped out only %ld of %zu pages", n, pages);
		return -1;
	}
	return 0;
}

int probe_need_swap(struct cb_ctx *c)
{
	return cb_need_swap(c, PROBE_SWAP_BYTES, "file");
}

void probe_teardown(struct cb_ctx *c)
{
	cb_swap_release(c);
}
