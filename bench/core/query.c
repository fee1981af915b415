/* Reading back what the harness recorded for an ended phase, for
 * workloads that derive a summary (e.g. per-GiB costs) from it. */
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tracker.h"

double cb_phase_value(const struct cb_ctx *c, const char *phase, const char *key)
{
	size_t i;
	json_t *p;
	json_array_foreach(c->phases, i, p) {
		if (strcmp(json_string_value(json_object_get(p, "name")), phase))
			continue;
		json_t *v = !strncmp(key, "counters.", 9)
				    ? json_object_get(json_object_get(p, "counters"), key + 9)
				    : json_object_get(p, key);
		return json_is_number(v) ? json_number_value(v) : NAN;
	}
	return NAN;
}

/* The PFN the calling process maps at addr, 0 when nothing is present
 * (swapped out, never touched) or PFNs are hidden (not root). */
uint64_t cb_pfn_of(const void *addr)
{
	/* pagemap binds the mm at open: a forked child must open its own. */
	static int fd = -1;
	static pid_t owner;
	if (fd >= 0 && owner != getpid()) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		owner = getpid();
	}
	uint64_t e = 0;
	off_t off = (off_t)((uintptr_t)addr / cb_page_size()) * 8;
	if (fd < 0 || pread(fd, &e, sizeof e, off) != (ssize_t)sizeof e)
		return 0;
	return cb_pagemap_pfn(e);
}

static uint64_t kpageflags(uint64_t pfn)
{
	static int fd = -1;
	if (fd < 0)
		fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	uint64_t f = 0;
	if (!pfn || fd < 0 || pread(fd, &f, sizeof f, (off_t)(pfn * 8)) != (ssize_t)sizeof f)
		return 0;
	return f;
}

bool cb_pfn_in_swapcache(uint64_t pfn)
{
	uint64_t f = kpageflags(pfn);
	return (f & (1ull << KPF_SWAPCACHE)) && (f & (1ull << KPF_ANON));
}

uint64_t cb_kpageflags_of(const void *addr)
{
	return kpageflags(cb_pfn_of(addr));
}
