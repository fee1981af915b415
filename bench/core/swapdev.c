/* Swap devices on request: a zram device (hot-added where the kernel
 * allows it), journaled so that restore does swapoff + reset + hot_remove,
 * and the kind of swap device that actually receives pages. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#include "harness.h"

/* Above any swap a distribution sets up, so pages go to our device. */
#define CB_SWAP_PRIO 32000

static char zram_dev[64]; /* the device this process created, if any */

static long long read_ll(const char *path)
{
	char *s = cb_read_file(path, NULL);
	long long v = s ? strtoll(s, NULL, 10) : -1;
	free(s);
	return v;
}

/* A new device from zram-control, or zram0 when it is present but unused
 * (disksize 0). Journals it before anything is written to it. */
static int zram_pick(char *dev, size_t len, char *err, size_t errlen)
{
	long long id = read_ll("/sys/class/zram-control/hot_add");
	char hot[24] = "";
	if (id >= 0) {
		snprintf(hot, sizeof hot, "%lld", id);
	} else if (read_ll("/sys/block/zram0/disksize") == 0) {
		id = 0;
	} else {
		snprintf(err, errlen, "no zram device: no /sys/class/zram-control/hot_add and "
			 "zram0 absent or in use (CONFIG_ZRAM off or module not loaded?)");
		return -1;
	}
	snprintf(dev, len, "/dev/zram%lld", id);
	if (cb_journal_zram(dev, hot)) {
		if (hot[0])
			cb_write_file("/sys/class/zram-control/hot_remove", hot);
		snprintf(err, errlen, "cannot journal %s: %s", dev, strerror(errno));
		return -1;
	}
	return 0;
}

int cb_zram_create(size_t bytes, char *dev, size_t len, char *err, size_t errlen)
{
	if (zram_pick(dev, len, err, errlen))
		return -1;
	char p[128], v[32];
	snprintf(p, sizeof p, "/sys/block/%s/disksize", strrchr(dev, '/') + 1);
	snprintf(v, sizeof v, "%zu", bytes);
	if (cb_write_file(p, v)) {
		snprintf(err, errlen, "write %s to %s: %s", v, p, strerror(errno));
		return -1;
	}
	char *argv[] = { "mkswap", dev, NULL };
	if (cb_run_quiet(argv)) {
		snprintf(err, errlen, "mkswap %s failed", dev);
		return -1;
	}
	int flags = SWAP_FLAG_PREFER | (CB_SWAP_PRIO & SWAP_FLAG_PRIO_MASK);
	if (swapon(dev, flags)) {
		snprintf(err, errlen, "swapon %s: %s", dev, strerror(errno));
		return -1;
	}
	snprintf(zram_dev, sizeof zram_dev, "%s", dev);
	return 0;
}

static bool swap_active(const char *name)
{
	char *s = cb_read_file("/proc/swaps", NULL);
	json_t *a = cb_parse_swaps(s);
	free(s);
	bool found = false;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		found |= n && !strcmp(n, name);
	}
	json_decref(a);
	return found;
}

const char *cb_zram_ours(void)
{
	return zram_dev[0] && swap_active(zram_dev) ? zram_dev : NULL;
}

static const char *kind_of(json_t *dev)
{
	const char *name = json_string_value(json_object_get(dev, "name"));
	const char *type = json_string_value(json_object_get(dev, "type"));
	if (name && strstr(name, "zram"))
		return "zram";
	return type && !strcmp(type, "file") ? "file" : "partition";
}

/* The kernel fills the highest-priority device first: that one decides
 * whether swap-ins go through the swap cache. */
const char *cb_swap_kind_used(char *name, size_t len)
{
	char *s = cb_read_file("/proc/swaps", NULL);
	json_t *a = cb_parse_swaps(s);
	free(s);
	const char *kind = "none";
	long long best = LLONG_MIN;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		long long prio = json_integer_value(json_object_get(v, "priority"));
		if (prio <= best)
			continue;
		best = prio;
		kind = kind_of(v);
		if (name)
			snprintf(name, len, "%s", json_string_value(json_object_get(v, "name")));
	}
	json_decref(a);
	return kind;
}
