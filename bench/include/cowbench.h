/* The workload-facing API of cowbench.
 *
 * A workload is one file in workloads/ that exports one `struct cb_workload`.
 * It declares what to track (cb_track) and brackets each phase with
 * cb_phase_begin/cb_phase_end; the harness takes every measurement around it.
 * A workload never reads /proc or writes JSON itself. */
#ifndef COWBENCH_H
#define COWBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"

struct cb_ctx;

/* pagemap entry bits, for cb_track_count_own and cb_pagemap_of (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PFN_MASK ((1ULL << 55) - 1)
#define PM_SOFT_DIRTY (1ULL << 55)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_SWAPPED (1ULL << 62)
#define PM_PRESENT (1ULL << 63)

/* kpageflags bits, for cb_kpageflags_of */
#define KPF_LRU 5
#define KPF_ANON 12
#define KPF_SWAPCACHE 13
#define KPF_KSM 21
#define KPF_THP 22
#define KPF_ZERO_PAGE 24

/* Features a workload may require; the harness checks them before setup
 * and records a skip with the reason when one is missing. */
enum cb_need {
	CB_NEED_ROOT = 1 << 0,      /* PFNs in pagemap, sysfs knobs */
	CB_NEED_SWAP = 1 << 1,      /* an active swap device, or one we may create */
	CB_NEED_KSM = 1 << 2,       /* /sys/kernel/mm/ksm */
	CB_NEED_IOURING = 1 << 3,   /* io_uring_setup works */
	CB_NEED_PAGEOUT = 1 << 4,   /* madvise(MADV_PAGEOUT) */
	CB_NEED_UFFD_WP = 1 << 5,   /* userfaultfd write-protect */
	CB_NEED_SOFTDIRTY = 1 << 6, /* clear_refs 4 does something */
};

/* Which command runs a workload by default. */
enum cb_suite {
	CB_SUITE_MISSION, /* a bare `cowbench run` */
	CB_SUITE_REPRO,   /* `cowbench repro`: the seed threads' races */
	CB_SUITE_PROBE,   /* `cowbench probe`: the policy fingerprint */
	CB_SUITE_APP,     /* real programs (app:*): by name only, they start servers */
};

struct cb_workload {
	const char *name;
	enum cb_suite suite;
	const char *summary;   /* one line, shown by `list` */
	const char *scenarios; /* eras.md scenario ids, e.g. "S1 S2" */
	const struct cb_opt *opts; /* terminated by CB_OPT_END */
	unsigned needs;        /* enum cb_need bits */
	/* Bytes of private state the harness allocates zeroed before setup
	 * and frees after teardown (cb_priv); 0: none. */
	size_t priv_size;
	/* What one operation of a phase is (time per op = elapsed / ops);
	 * NULL: "page written". A phase may name its own with cb_phase_op. */
	const char *op;
	/* Peak memory per byte of the `size` option, copies included (fork-basic:
	 * 2, the child keeps the originals while the parent writes copies);
	 * times the value of the option footprint_per names, when set (ksm-vms:
	 * per guest). `run` refuses a size whose footprint does not fit in
	 * MemAvailable unless --force. 0: 1. */
	double footprint;
	const char *footprint_per;
	/* All three return 0 on success, or -1 after cb_skip()/cb_fail(). */
	int (*setup)(struct cb_ctx *c);
	int (*run)(struct cb_ctx *c);
	void (*teardown)(struct cb_ctx *c);
};

/* Options of the workload, parsed and validated from its table. */
uint64_t cb_opt_u64(const struct cb_ctx *c, const char *name);
double cb_opt_double(const struct cb_ctx *c, const char *name);
bool cb_opt_bool(const struct cb_ctx *c, const char *name);
const char *cb_opt_str(const struct cb_ctx *c, const char *name);

/* Workload-private state (.priv_size bytes, zeroed) from setup to teardown
 * of one repetition. */
void *cb_priv(const struct cb_ctx *c);
int cb_rep(const struct cb_ctx *c);
size_t cb_page_size(void);
uint64_t cb_now_ns(void);
/* Minor + major faults of the calling process so far (getrusage). */
uint64_t cb_own_faults(void);

/* Tracking: the page tracker snapshots these ranges around every phase. */
void cb_track_clear(struct cb_ctx *c);
int cb_track(struct cb_ctx *c, pid_t pid, const void *addr, size_t len);
/* Mid-phase, after a pageout: pages whose folio already left the swap
 * cache count as swap-ins at phase end, not as copies. Returns how many. */
size_t cb_track_forget_freed_pages(struct cb_ctx *c);
/* Pages of this process's [addr, addr+len) whose pagemap entry has
 * (entry & mask) == want (e.g. PM_SWAPPED, PM_SOFT_DIRTY); -1 when pagemap
 * cannot be read. */
/* The workload itself holds a pin (GUP, io_uring, O_DIRECT in flight) on
 * [addr, addr+len) of its tracked pages: an extra copy of such a page is
 * attributed to the pin. Cleared with cb_track_clear. */
int cb_track_pinned(struct cb_ctx *c, const void *addr, size_t len);
long cb_track_count_own(const void *addr, size_t len, uint64_t mask, uint64_t want);

/* Phases. Between begin and end the workload does exactly the action the
 * phase names; the harness snapshots counters and pages around it. */
int cb_phase_begin(struct cb_ctx *c, const char *name);
/* Phase flags for cb_phase_begin_opts. */
enum cb_phase_flag {
	/* Reclaim may take tracked pages away during the phase: the harness
	 * logs every fault on them (the x86 fault tracepoint) so that a page
	 * reclaimed and faulted back is not mistaken for a copy. */
	CB_PHASE_MAY_RECLAIM = 1 << 0,
	/* The tracked pages are another process's (a server the workload
	 * drives): its writes cannot be marked with cb_written, so the fault
	 * log tells which pages were written (a page with a logged write
	 * fault); without a log every tracked page counts as written. */
	CB_PHASE_UNMARKED_WRITES = 1 << 1,
};
int cb_phase_begin_opts(struct cb_ctx *c, const char *name, unsigned flags);
int cb_phase_end(struct cb_ctx *c);
/* Operations done in the current phase (time per op = elapsed / ops). */
void cb_phase_ops(struct cb_ctx *c, uint64_t ops);
/* What one op is in the current phase, when not the workload's .op. */
void cb_phase_op(struct cb_ctx *c, const char *what);
/* A workload-specific metric of the current phase, with its unit. */
void cb_phase_metric(struct cb_ctx *c, const char *key, double value, const char *unit);
/* A phase that could not run: recorded with its reason, never as zeros.
 * Naming the phase being measured drops it and what it measured. */
void cb_phase_skip(struct cb_ctx *c, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A metric of the current phase that could not be measured. */
void cb_phase_unavailable(struct cb_ctx *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A fact about the repetition worth keeping (device type, placement...). */
void cb_note(struct cb_ctx *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Skip the whole workload with a reason, or fail it with an error. */
int cb_skip(struct cb_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cb_fail(struct cb_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fork() whose child dies with the harness and leaves the run's signal
 * handling behind; returns like fork(). */
pid_t cb_fork(struct cb_ctx *c);
/* A child that serves requests over two pipes: it runs serve(arg, in, out),
 * which must end with _exit(); the parent writes requests to *to and reads
 * replies from *from. Returns the child's pid, or -1 after cb_fail(). */
pid_t cb_fork_server(struct cb_ctx *c, void (*serve)(void *arg, int in, int out), void *arg,
		     int *to, int *from);
/* Wait for a child; returns its exit status or -1. */
int cb_reap(pid_t pid);

/* Pin the calling thread to the n-th placement slot (distinct cores, then
 * distinct NUMA nodes where there are several); records the placement. */
int cb_place_thread(struct cb_ctx *c, const char *who, int slot);

/* Fill a page with a value no earlier write produced, so that neither a
 * read-modify-write fault nor KSM re-merging can disguise the write. */
void cb_fresh_write(void *page, uint64_t tag);
/* Records that a tracked page took part in a COW decision the workload
 * caused other than through cb_fresh_write: its own read-modify-write, or
 * a pin that breaks COW (FOLL_WRITE) or unshares (a read-only long-term
 * pin). Only such "written" pages count as copied or reused. */
void cb_written(const void *addr);

/* A fresh empty directory for a repetition's files, in a temporary
 * directory of the run that normal exit, a signal or `cowbench restore`
 * removes with all it holds. -1 after cb_fail(). */
int cb_tmpdir(struct cb_ctx *c, const char *name, char *out, size_t len);
/* Removes such a directory and what is in it, once it is not needed. */
void cb_tmpdir_remove(const char *dir);

/* Wait for swap/file writeback to finish (nr_writeback == 0); -1 on timeout. */
int cb_wait_writeback(unsigned timeout_ms, uint64_t *waited_ns);

/* System changes, journaled so that `cowbench restore` can undo them. */
int cb_sys_write(struct cb_ctx *c, const char *path, const char *value);
/* kind: NULL/"any" (any active swap, else a file), "file" (not zram) or
 * "zram" (a zram device of this run). Notes "swap_kind": the device type
 * that receives the pages (file, partition, zram). */
int cb_need_swap(struct cb_ctx *c, size_t min_bytes, const char *kind);
/* Like cb_need_swap, but without swap only `why` is set: the caller skips
 * the one phase that needs it. 0 when swap of that kind is active. */
int cb_want_swap(struct cb_ctx *c, size_t min_bytes, const char *kind, char *why,
		 size_t whylen);
/* Removes at once the swap file cb_need_swap/cb_want_swap created for this
 * repetition (the journal then finds nothing left to undo), so that a later
 * workload asking for swap does not take a small device for its own. */
void cb_swap_release(struct cb_ctx *c);

/* A memory cgroup of this run (v2 memory.max or v1 memory.limit_in_bytes),
 * journaled; restore kills what is left in it and removes it. The limit is
 * capped to half of MemAvailable. Only children go in, never the harness. */
int cb_cgroup_create(struct cb_ctx *c, uint64_t limit_bytes);
int cb_cgroup_enter(struct cb_ctx *c, pid_t pid);
/* "v1", "v2" or NULL when there is no usable memory controller. */
const char *cb_cgroup_mode(void);
/* The cgroup's directory after cb_cgroup_create, else NULL. */
const char *cb_cgroup_path(void);
/* One line of the cgroup's memory.stat ("pgscan", "swap", ...); -1 when
 * absent (v1 has no pgscan/pgsteal). */
int cb_cgroup_stat(const char *key, uint64_t *value);
/* The OOM kills so far in this run's cgroup (v2 memory.events, v1
 * memory.oom_control); -1 when unknown. */
int cb_cgroup_oom_kills(uint64_t *kills);
/* Fails the repetition with how a child the harness talks to died (exit
 * status or signal, and the cgroup's OOM kills). The child stays waitable. */
int cb_fail_child(struct cb_ctx *c, const char *who, pid_t pid);

/* Samples a workload may take during a phase (e.g. for metrics over time). */
uint64_t cb_swapcached_bytes(void);
uint64_t cb_mem_available_bytes(void);

/* A number the harness recorded for an ended phase of this repetition:
 * a standard key ("copied", "extra_copies", ...), or "counters.<name>";
 * NAN when absent. */
double cb_phase_value(const struct cb_ctx *c, const char *phase, const char *key);
/* The PFN this process maps at addr right now; 0 when not present. For
 * per-write attribution the phase tracker cannot give (it compares only
 * the phase's ends). */
uint64_t cb_pfn_of(const void *addr);
/* Whether an (old) page is an anonymous swap-cache page right now. */
bool cb_pfn_in_swapcache(uint64_t pfn);
/* /proc/kpageflags of the page this process maps at addr (KPF_* bits);
 * 0 when nothing is present or PFNs are hidden. */
uint64_t cb_kpageflags_of(const void *addr);

/* Whether a program runs: a path to an executable file, or a name found
 * so on PATH (execvp's search). */
bool cb_on_path(const char *prog);

/* Kernel features a workload may test for a single phase (whole-workload
 * needs go in .needs); false with the reason in why. */
bool cb_have_pageout(char *why, size_t len);
bool cb_have_uffd_wp(char *why, size_t len);
bool cb_have_softdirty(char *why, size_t len);

/* Figures a workload needs while it runs (bench/memstat.c); all return -1
 * when the file is missing. */
/* One value of /sys/kernel/mm/ksm/<name> (to steer: has merging settled?). */
int cb_ksm_read(const char *name, uint64_t *v);
/* Other processes with merged KSM pages (ksm_merging_pages > 0): their
 * count, and "pid(comm)=pages ..." in list. KSM is system-wide. */
int cb_ksm_other_mergers(char *list, size_t len);
/* Pages of one process currently mapped to KSM pages. */
int cb_ksm_merging_pages(pid_t pid, uint64_t *pages);
/* KSM steered by a workload (bench/core/ksm.c). A knob of
 * /sys/kernel/mm/ksm, journaled. */
int cb_ksm_set(struct cb_ctx *c, const char *knob, uint64_t value);
/* ksm_merging_pages summed over processes (those that are gone count 0). */
uint64_t cb_ksm_merging_sum(const pid_t *pids, int n);
struct cb_ksm_scan {
	uint64_t pages_to_scan, sleep_ms;
	unsigned timeout_s;
};
/* Inside a phase: ksmd on with these scan settings until the processes'
 * merged pages stop changing, then off again (merged pages stay, so no
 * merge disguises a later write). Records settle_ms, full_scans,
 * pages_shared, pages_sharing, memory_saved_bytes and guests_merging_pages
 * as phase metrics. -1 after cb_fail(). */
int cb_ksm_settle(struct cb_ctx *c, const pid_t *pids, int n, const struct cb_ksm_scan *scan);
/* Notes other processes' merged pages and a KSM already running. */
void cb_ksm_note_others(struct cb_ctx *c);
/* Private_Dirty of a process in bytes (smaps_rollup): what Redis reports
 * as a fork child's copy-on-write memory. */
int cb_private_dirty(pid_t pid, uint64_t *bytes);

#endif
