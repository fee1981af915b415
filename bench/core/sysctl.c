/* System settings a workload may need, always through the journal. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"


int cb_sys_write(struct cb_ctx *c, const char *path, const char *value)
{
	if (!cb_journal_active())
		return cb_skip(c, "cannot change %s: not root (no journal)", path);
	if (cb_journal_write(path, value))
		return cb_fail(c, "cannot write '%s' to %s: %s", value, path, strerror(errno));
	return 0;
}

/* Swap files need real blocks (no holes), so write zeros. */
static int fill_zeros(const char *path, size_t bytes)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	static char zero[1 << 20];
	size_t done = 0;
	while (done < bytes) {
		size_t n = bytes - done < sizeof zero ? bytes - done : sizeof zero;
		if (write(fd, zero, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		done += n;
	}
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int cb_swapfile_create(size_t bytes, char *path, size_t pathlen, char *err, size_t errlen)
{
	const char *d = getenv("COWBENCH_SWAP_DIR");
	snprintf(path, pathlen, "%s/cowbench-swap.%d", d && *d ? d : "/var/tmp", (int)getpid());
	if (cb_journal_swapfile(path)) {
		snprintf(err, errlen, "cannot journal swap file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fill_zeros(path, bytes)) {
		snprintf(err, errlen, "cannot create swap file %s: %s", path, strerror(errno));
		return -1;
	}
	char *argv[] = { "mkswap", path, NULL };
	if (cb_run_quiet(argv)) {
		snprintf(err, errlen, "mkswap %s failed", path);
		return -1;
	}
	/* High priority: pages go here even next to another active device. */
	if (swapon(path, SWAP_FLAG_PREFER | (32000 & SWAP_FLAG_PRIO_MASK))) {
		snprintf(err, errlen, "swapon %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* "file", "partition", "zram" or "none": what the active swap goes through. */
const char *cb_swap_kind(void)
{
	char *s = cb_read_file("/proc/swaps", NULL);
	json_t *a = cb_parse_swaps(s);
	free(s);
	const char *kind = "none";
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *type = json_string_value(json_object_get(v, "type"));
		if (name && strstr(name, "zram"))
			kind = "zram";
		else
			kind = type && !strcmp(type, "file") ? "file" : "partition";
	}
	json_decref(a);
	return kind;
}

/* Records which device receives the pages: on 5.10 a zram device (no swap
 * cache) and a disk swap give opposite S3a answers. */
static void note_kind(struct cb_ctx *c)
{
	char name[256] = "";
	const char *kind = cb_swap_kind_used(name, sizeof name);
	cb_note(c, "swap_kind", "%s", kind);
	cb_note(c, "swap_device", "%s", name);
}

static int create_zram(struct cb_ctx *c, size_t bytes)
{
	char dev[64], err[256];
	if (cb_zram_create(bytes, dev, sizeof dev, err, sizeof err))
		return cb_skip(c, "needs zram swap: %s", err);
	cb_note(c, "swap", "zram %s (%zu MiB, created for this run)", dev, bytes >> 20);
	note_kind(c);
	return 0;
}

/* The swap file cb_need_swap made last and the repetition it made it for:
 * cb_swap_release removes only what its caller asked to be made. */
static char made_file[256];
static const struct cb_ctx *made_for;

void cb_swap_release(struct cb_ctx *c)
{
	if (!made_file[0] || made_for != c)
		return;
	if (swapoff(made_file) == 0)
		unlink(made_file);
	made_file[0] = 0;
	made_for = NULL;
}

/* kind NULL or "any": any active swap; "file": an active swap that is not
 * zram, else a new swap file; "zram": a zram device of this run, else a
 * new one. Created devices are journaled and preferred by priority. */
int cb_need_swap(struct cb_ctx *c, size_t min_bytes, const char *kind)
{
	const char *have = cb_swap_kind();
	bool want_file = kind && !strcmp(kind, "file");
	bool want_zram = kind && !strcmp(kind, "zram");
	if (want_zram && cb_zram_ours()) {
		cb_note(c, "swap", "zram %s (created earlier in this run)", cb_zram_ours());
		note_kind(c);
		return 0;
	}
	if (!want_zram && strcmp(have, "none") && !(want_file && !strcmp(have, "zram"))) {
		cb_note(c, "swap", "%s (already active)", have);
		note_kind(c);
		return 0;
	}
	if (!cb_journal_active())
		return cb_skip(c, "needs %s swap: not root (no journal) to create it",
			       want_zram ? "zram" : "a");
	if (want_zram)
		return create_zram(c, min_bytes);
	char path[256], err[256];
	if (cb_swapfile_create(min_bytes, path, sizeof path, err, sizeof err))
		return cb_skip(c, "needs swap: %s", err);
	snprintf(made_file, sizeof made_file, "%s", path);
	made_for = c;
	cb_note(c, "swap", "file %s (%zu MiB, created for this run)", path, min_bytes >> 20);
	note_kind(c);
	return 0;
}

/* The tlb:tlb_flush tracepoint id lives in tracefs; mount it if needed. */
int cb_tracefs_ensure(void)
{
	if (access("/sys/kernel/tracing/events", F_OK) == 0 ||
	    access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return 0;
	if (!cb_journal_active() || access("/sys/kernel/tracing", F_OK))
		return -1;
	if (cb_journal_mount("/sys/kernel/tracing"))
		return -1;
	return mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
}
