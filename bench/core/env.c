/* The machine and kernel a result was measured on. */
#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <liburing.h>
#include <linux/userfaultfd.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "harness.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

const char *cb_era_by_version(const char *release)
{
	int major = 0, minor = 0;
	if (sscanf(release, "%d.%d", &major, &minor) != 2)
		return "unknown";
	int v = major * 1000 + minor;
	if (v <= 5008)
		return "mapcount";
	if (v <= 5018)
		return "page_count";
	return "exclusive";
}

static char *trimmed(const char *path)
{
	char *s = cb_read_file(path, NULL);
	if (s)
		s[strcspn(s, "\n")] = 0;
	return s;
}

static json_t *jstr_file(const char *path)
{
	char *s = trimmed(path);
	json_t *j = s ? json_string(s) : json_null();
	free(s);
	return j;
}

bool cb_have_swap(void)
{
	char *s = cb_read_file("/proc/swaps", NULL);
	json_t *a = cb_parse_swaps(s);
	bool any = json_array_size(a) > 0;
	json_decref(a);
	free(s);
	return any;
}

bool cb_have_ksm(void)
{
	return access("/sys/kernel/mm/ksm/run", F_OK) == 0;
}

bool cb_have_iouring(char *why, size_t len)
{
	struct io_uring r;
	int rc = io_uring_queue_init(2, &r, 0);
	if (rc < 0) {
		snprintf(why, len, "io_uring_setup: %s", strerror(-rc));
		return false;
	}
	io_uring_queue_exit(&r);
	return true;
}

bool cb_have_pageout(char *why, size_t len)
{
	size_t ps = cb_page_size();
	char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	p[0] = 1;
	int rc = madvise(p, ps, MADV_PAGEOUT);
	if (rc)
		snprintf(why, len, "madvise(MADV_PAGEOUT): %s", strerror(errno));
	munmap(p, ps);
	return rc == 0;
}

bool cb_have_uffd_wp(char *why, size_t len)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, len, "userfaultfd: %s", strerror(errno));
		return false;
	}
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	int rc = ioctl(fd, UFFDIO_API, &api);
	close(fd);
	if (rc) {
		snprintf(why, len, "userfaultfd has no write-protect feature: %s", strerror(errno));
		return false;
	}
	return true;
}

/* A freshly written page is soft-dirty only where CONFIG_MEM_SOFT_DIRTY is
 * set; elsewhere bit 55 stays 0 and clear_refs 4 does nothing. */
bool cb_have_softdirty(char *why, size_t len)
{
	size_t ps = cb_page_size();
	char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	p[0] = 1;
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, &e, 8, (off_t)((uintptr_t)p / ps) * 8) != 8)
			e = 0;
		close(fd);
	}
	munmap(p, ps);
	if (!(e & PM_SOFT_DIRTY)) {
		snprintf(why, len, "kernel has no soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY off): "
			 "clear_refs 4 is a no-op");
		return false;
	}
	return true;
}

static json_t *feature(bool ok, const char *why)
{
	json_t *o = json_pack("{s:b}", "available", ok);
	if (!ok && why && *why)
		json_object_set_new(o, "reason", json_string(why));
	return o;
}

static const char *cgroup_mode(void)
{
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		return "v2";
	if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0)
		return "v1";
	return "none";
}

static json_t *features(void)
{
	char why[200] = "";
	json_t *o = json_object();
	json_object_set_new(o, "swap_active", feature(cb_have_swap(), "no active swap device"));
	json_object_set_new(o, "ksm", feature(cb_have_ksm(), "no /sys/kernel/mm/ksm (CONFIG_KSM off)"));
	why[0] = 0;
	json_object_set_new(o, "io_uring", feature(cb_have_iouring(why, sizeof why), why));
	why[0] = 0;
	json_object_set_new(o, "madv_pageout", feature(cb_have_pageout(why, sizeof why), why));
	why[0] = 0;
	json_object_set_new(o, "uffd_wp", feature(cb_have_uffd_wp(why, sizeof why), why));
	why[0] = 0;
	json_object_set_new(o, "soft_dirty", feature(cb_have_softdirty(why, sizeof why), why));
	json_object_set_new(o, "pfn_tracking", feature(cb_is_root(), "pagemap PFNs need root"));
	json_object_set_new(o, "cgroup", json_string(cgroup_mode()));
	return o;
}

/* What the counters present on this kernel say about its era. */
json_t *cb_era_by_counters(json_t *vmstat, bool have_ksm)
{
	const char *era = "mapcount";
	json_t *ev = json_array();
	if (json_object_get(vmstat, "pgreuse")) {
		era = "page_count";
		json_array_append_new(ev, json_string("pgreuse present (>= 5.9)"));
	}
	if (json_object_get(vmstat, "cow_ksm")) {
		era = "exclusive";
		json_array_append_new(ev, json_string("cow_ksm present (>= 5.19)"));
	} else if (!have_ksm) {
		json_array_append_new(ev, json_string("no KSM: cow_ksm cannot tell >= 5.19"));
	}
	return json_pack("{s:s, s:o}", "era", era, "evidence", ev);
}

static json_t *kernel(json_t *vmstat)
{
	struct utsname u;
	uname(&u);
	json_t *k = json_pack("{s:s, s:s, s:s, s:s}", "release", u.release, "version", u.version,
			      "machine", u.machine, "era_by_version", cb_era_by_version(u.release));
	json_object_set_new(k, "cmdline", jstr_file("/proc/cmdline"));
	json_object_set_new(k, "era_by_counters", cb_era_by_counters(vmstat, cb_have_ksm()));
	return k;
}

static json_t *dir_values(const char *dir, const char *const *names)
{
	json_t *o = json_object();
	for (size_t i = 0; names[i]; i++) {
		char path[256];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		json_t *v = jstr_file(path);
		if (!json_is_null(v))
			json_object_set(o, names[i], v);
		json_decref(v);
	}
	return o;
}

static json_t *settings(void)
{
	static const char *const thp[] = { "enabled", "defrag", "shmem_enabled", NULL };
	static const char *const ksm[] = { "run", "pages_to_scan", "sleep_millisecs",
					   "merge_across_nodes", "use_zero_pages",
					   "max_page_sharing", NULL };
	static const char *const vm[] = { "swappiness", "overcommit_memory", "page-cluster",
					  NULL };
	json_t *o = json_object();
	json_object_set_new(o, "thp", dir_values("/sys/kernel/mm/transparent_hugepage", thp));
	json_object_set_new(o, "ksm", dir_values("/sys/kernel/mm/ksm", ksm));
	json_object_set_new(o, "vm", dir_values("/proc/sys/vm", vm));
	char *s = cb_read_file("/proc/swaps", NULL);
	json_object_set_new(o, "swap_devices", cb_parse_swaps(s));
	free(s);
	return o;
}

static json_t *cpu_model(void)
{
	char *s = cb_read_file("/proc/cpuinfo", NULL);
	char *m = s ? strstr(s, "model name") : NULL;
	json_t *j = json_null();
	if (m && (m = strchr(m, ':'))) {
		m += 2;
		m[strcspn(m, "\n")] = 0;
		j = json_string(m);
	}
	free(s);
	return j;
}

static json_t *numa(void)
{
	if (numa_available() < 0)
		return json_pack("{s:b, s:s}", "available", 0, "reason", "libnuma: no NUMA support");
	json_t *nodes = json_array();
	for (int n = 0; n <= numa_max_node(); n++) {
		long long freeb = 0, size = numa_node_size64(n, &freeb);
		if (size > 0)
			json_array_append_new(nodes, json_pack("{s:i, s:I, s:I}", "node", n,
							       "bytes", size, "free_bytes", freeb));
	}
	return json_pack("{s:b, s:o}", "available", 1, "nodes", nodes);
}

static json_t *memory(void)
{
	char *s = cb_read_file("/proc/meminfo", NULL);
	json_t *mi = cb_parse_meminfo(s ? s : "");
	free(s);
	json_t *o = json_pack("{s:O, s:I}", "total_bytes", json_object_get(mi, "MemTotal"),
			      "page_size", (json_int_t)cb_page_size());
	json_object_set(o, "hugepage_bytes", json_object_get(mi, "Hugepagesize"));
	json_decref(mi);
	return o;
}

static json_t *counters_available(json_t *vmstat)
{
	static const char *const keys[] = {
		"pgfault", "pgmajfault", "pgreuse", "cow_ksm", "ksm_swpin_copy", "pswpin",
		"pswpout", "nr_swapcached", "thp_fault_alloc", "thp_split_pmd",
		"nr_tlb_remote_flush", "nr_tlb_remote_flush_received", "nr_tlb_local_flush_all",
		"nr_tlb_local_flush_one", "nr_foll_pin_acquired", "nr_foll_pin_released",
		"swpin_zero", "pgscan_kswapd", "pgsteal_kswapd", NULL };
	json_t *vm = json_object();
	for (size_t i = 0; keys[i]; i++)
		json_object_set_new(vm, keys[i], json_boolean(json_object_get(vmstat, keys[i])));
	char *s = cb_read_file("/proc/interrupts", NULL);
	uint64_t sum;
	bool tlb = s && !cb_parse_tlb_interrupts(s, &sum);
	free(s);
	return json_pack("{s:o, s:I, s:b, s:o}", "vmstat", vm, "vmstat_keys",
			 (json_int_t)json_object_size(vmstat), "interrupts_tlb", tlb, "perf",
			 cb_perf_probe_all());
}

/* Set by scripts/vm/run in a QEMU guest: COWBENCH_ACCEL=tcg|kvm and
 * COWBENCH_EMULATED=1 under TCG, whose timings (and TLB, PMU behaviour) are
 * not a real CPU's. Unset on a host run: accel null, emulated false. */
static bool env_emulated(void)
{
	const char *e = getenv("COWBENCH_EMULATED"), *a = getenv("COWBENCH_ACCEL");
	if (e && *e)
		return strcmp(e, "0") && strcmp(e, "false") && strcmp(e, "no");
	return a && !strcmp(a, "tcg");
}

static json_t *env_accel(void)
{
	const char *a = getenv("COWBENCH_ACCEL");
	return a && *a ? json_string(a) : json_null();
}

json_t *cb_env_collect(void)
{
	char *s = cb_read_file("/proc/vmstat", NULL);
	json_t *vmstat = cb_parse_vmstat(s ? s : "");
	free(s);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	json_t *e = json_object();
	json_object_set_new(e, "hostname", json_string(host));
	json_object_set_new(e, "kernel", kernel(vmstat));
	json_object_set_new(e, "cpu", json_pack("{s:o, s:o}", "model", cpu_model(), "topology",
						  cb_place_topology()));
	json_object_set_new(e, "numa", numa());
	json_object_set_new(e, "memory", memory());
	json_object_set_new(e, "settings", settings());
	json_object_set_new(e, "features", features());
	json_object_set_new(e, "counters", counters_available(vmstat));
	json_object_set_new(e, "root", json_boolean(cb_is_root()));
	json_object_set_new(e, "emulated", json_boolean(env_emulated()));
	json_object_set_new(e, "accel", env_accel());
	json_object_set_new(e, "cowbench_revision", json_string(COWBENCH_GIT_REV));
	json_decref(vmstat);
	return e;
}
