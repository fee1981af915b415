/* Counter snapshots: /proc/vmstat, /proc/meminfo, x86 TLB shootdowns,
 * KSM sysfs, getrusage and perf events, flattened into one object. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "harness.h"

static void merge_prefixed(json_t *into, json_t *from, const char *prefix)
{
	const char *k;
	json_t *v;
	json_object_foreach(from, k, v) {
		char key[160];
		snprintf(key, sizeof key, "%s%s", prefix, k);
		json_object_set(into, key, v);
	}
	json_decref(from);
}

static void add_file(json_t *o, const char *path, json_t *(*parse)(const char *),
		     const char *prefix)
{
	char *s = cb_read_file(path, NULL);
	if (s)
		merge_prefixed(o, parse(s), prefix);
	free(s);
}

static void add_tlb(json_t *o)
{
	char *s = cb_read_file("/proc/interrupts", NULL);
	uint64_t sum;
	if (s && !cb_parse_tlb_interrupts(s, &sum))
		json_object_set_new(o, "interrupts.tlb_shootdowns", json_integer((json_int_t)sum));
	free(s);
}

static void add_ksm(json_t *o)
{
	DIR *d = opendir("/sys/kernel/mm/ksm");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], *s;
		snprintf(path, sizeof path, "/sys/kernel/mm/ksm/%s", e->d_name);
		s = cb_read_file(path, NULL);
		char *end;
		long long v = s ? strtoll(s, &end, 10) : 0;
		if (s && end != s && (*end == '\n' || !*end)) {
			char key[300];
			snprintf(key, sizeof key, "ksm.%s", e->d_name);
			json_object_set_new(o, key, json_integer(v));
		}
		free(s);
	}
	closedir(d);
}

static void add_rusage(json_t *o, int who, const char *name)
{
	struct rusage r;
	if (getrusage(who, &r))
		return;
	char key[64];
	snprintf(key, sizeof key, "rusage.%s.minflt", name);
	json_object_set_new(o, key, json_integer(r.ru_minflt));
	snprintf(key, sizeof key, "rusage.%s.majflt", name);
	json_object_set_new(o, key, json_integer(r.ru_majflt));
	snprintf(key, sizeof key, "rusage.%s.nvcsw", name);
	json_object_set_new(o, key, json_integer(r.ru_nvcsw));
	snprintf(key, sizeof key, "rusage.%s.nivcsw", name);
	json_object_set_new(o, key, json_integer(r.ru_nivcsw));
}

/* One /proc/meminfo value in bytes (0 when the kernel has no such key). */
uint64_t cb_meminfo_bytes(const char *key)
{
	char *s = cb_read_file("/proc/meminfo", NULL);
	json_t *m = cb_parse_meminfo(s ? s : "");
	free(s);
	uint64_t v = (uint64_t)json_integer_value(json_object_get(m, key));
	json_decref(m);
	return v;
}

json_t *cb_counters_snapshot(struct cb_perf *perf)
{
	json_t *o = json_object();
	cb_perf_read(perf, o);
	add_file(o, "/proc/vmstat", cb_parse_vmstat, "");
	add_file(o, "/proc/meminfo", cb_parse_meminfo, "meminfo.");
	add_tlb(o);
	add_ksm(o);
	add_rusage(o, RUSAGE_SELF, "self");
	add_rusage(o, RUSAGE_CHILDREN, "children");
	return o;
}

json_t *cb_counters_delta(json_t *before, json_t *after)
{
	json_t *d = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(after, k, v) {
		json_t *b = json_object_get(before, k);
		if (json_is_integer(b) && json_is_integer(v))
			json_object_set_new(d, k, json_integer(json_integer_value(v) -
								 json_integer_value(b)));
	}
	return d;
}

/* Waits until no page is under writeback (nr_writeback 0, system-wide),
 * so that a write fault right after swap-out does not race the swap I/O:
 * a page still under writeback has an extra reference and is copied.
 * Returns 0, or -1 when pages were still under writeback at the timeout. */
int cb_wait_writeback(unsigned timeout_ms, uint64_t *waited_ns)
{
	uint64_t t0 = cb_now_ns();
	for (;;) {
		char *s = cb_read_file("/proc/vmstat", NULL);
		json_t *v = cb_parse_vmstat(s ? s : "");
		free(s);
		json_int_t n = json_integer_value(json_object_get(v, "nr_writeback"));
		json_decref(v);
		uint64_t el = cb_now_ns() - t0;
		if (waited_ns)
			*waited_ns = el;
		if (n == 0)
			return 0;
		if (el >= (uint64_t)timeout_ms * 1000000ull)
			return -1;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}
