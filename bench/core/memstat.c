/* Numbers a workload needs *during* a run to steer itself or to report a
 * per-process figure the phase counters cannot give: KSM sysfs values (to
 * detect when merging has settled), other processes with merged memory
 * (KSM is system-wide), and a process's Private_Dirty (Redis's
 * "copy-on-write" memory of a fork child). */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int read_u64(const char *path, uint64_t *v)
{
	char *s = cb_read_file(path, NULL);
	if (!s)
		return -1;
	char *end;
	unsigned long long x = strtoull(s, &end, 10);
	int rc = end != s ? 0 : -1;
	free(s);
	if (!rc)
		*v = x;
	return rc;
}

int cb_ksm_read(const char *name, uint64_t *v)
{
	char path[256];
	snprintf(path, sizeof path, "/sys/kernel/mm/ksm/%s", name);
	return read_u64(path, v);
}

static bool is_pid(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static void comm_of(const char *pid, char *out, size_t len)
{
	char path[300];
	snprintf(path, sizeof path, "/proc/%s/comm", pid);
	char *s = cb_read_file(path, NULL);
	snprintf(out, len, "%s", s ? s : "?");
	out[strcspn(out, "\n")] = 0;
	free(s);
}

int cb_ksm_other_mergers(char *list, size_t len)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	int n = 0;
	size_t used = 0;
	list[0] = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_pid(e->d_name) || atoi(e->d_name) == (int)getpid())
			continue;
		char path[300];
		uint64_t pages;
		snprintf(path, sizeof path, "/proc/%s/ksm_merging_pages", e->d_name);
		if (read_u64(path, &pages) || !pages)
			continue;
		char comm[32];
		comm_of(e->d_name, comm, sizeof comm);
		if (used < len) {
			int w = snprintf(list + used, len - used, "%s%s(%s)=%llu", n ? " " : "",
					 e->d_name, comm, (unsigned long long)pages);
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	closedir(d);
	return n;
}

int cb_private_dirty(pid_t pid, uint64_t *bytes)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	char *s = cb_read_file(path, NULL);
	if (!s)
		return -1;
	char *line = strstr(s, "\nPrivate_Dirty:");
	unsigned long long kb;
	int rc = line && sscanf(line, "\nPrivate_Dirty: %llu kB", &kb) == 1 ? 0 : -1;
	free(s);
	if (!rc)
		*bytes = kb * 1024;
	return rc;
}

int cb_ksm_merging_pages(pid_t pid, uint64_t *pages)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ksm_merging_pages", (int)pid);
	return read_u64(path, pages);
}

uint64_t cb_swapcached_bytes(void)
{
	return cb_meminfo_bytes("SwapCached");
}

uint64_t cb_mem_available_bytes(void)
{
	return cb_meminfo_bytes("MemAvailable");
}
