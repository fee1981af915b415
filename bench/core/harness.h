/* Internal interfaces of the harness (not for workloads). */
#ifndef COWBENCH_HARNESS_H
#define COWBENCH_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cbcore.h"
#include "cowbench.h"
#include "tracker.h"

#define CB_MAX_REGIONS 64

struct cb_perf;
struct cb_faultlog;

struct cb_ctx {
	const struct cb_workload *w;
	union cb_val *vals;
	void *priv;
	int rep;
	unsigned bare; /* enum cb_bare: instruments left off for `cowbench bench` */
	struct cb_region regions[CB_MAX_REGIONS];
	int nregions;
	struct cb_track_snap before;
	struct cb_region pinned[CB_MAX_REGIONS]; /* cb_track_pinned */
	int npinned;
	struct cb_faultlog *fl; /* the current phase's fault log, or NULL */
	char fl_why[200];       /* why the phase has none, when it wanted one */
	bool fl_wanted;
	bool unmarked_writes; /* CB_PHASE_UNMARKED_WRITES */
	uint64_t *ksm_pfns; /* frames seen shared this repetition (sorted) */
	size_t nksm;
	json_t *counters_before;
	struct cb_perf *perf;
	uint64_t t0, cpu0;
	bool in_phase;
	json_t *phase;
	json_t *phases;
	json_t *notes;
	json_t *placement;
	char *skip;  /* reason, when the workload skipped */
	char *error; /* reason, when it failed */
};

/* util.c */
#define CB_TERM_COLS 100
/* Prints text from column indent on, wrapped at word breaks within
 * CB_TERM_COLS. */
void cb_print_wrapped(FILE *out, int indent, const char *text);
void cb_dir_of(const char *path, char *dir, size_t len);
uint64_t cb_now_ns(void);
char *cb_read_file(const char *path, size_t *len);
int cb_write_file(const char *path, const char *value);
char *cb_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *cb_vstrdup_printf(const char *fmt, va_list ap);

/* procfs.c: parsers of /proc text, exported for the fixture tests */
json_t *cb_parse_vmstat(const char *text);
json_t *cb_parse_meminfo(const char *text);   /* values in bytes where the file says kB */
int cb_parse_tlb_interrupts(const char *text, uint64_t *sum);
json_t *cb_parse_swaps(const char *text);
uint64_t cb_pagemap_pfn(uint64_t entry);

/* counters.c */
json_t *cb_counters_snapshot(struct cb_perf *perf);
uint64_t cb_meminfo_bytes(const char *key);
json_t *cb_counters_delta(json_t *before, json_t *after);

/* perf.c */
struct cb_perf *cb_perf_open(const char **extra, int nextra);
struct cb_perf *cb_perf_open_task(pid_t pid, const char **extra, int nextra);
void cb_perf_read(struct cb_perf *p, json_t *into);
json_t *cb_perf_unavailable(struct cb_perf *p);
const char *cb_perf_why(struct cb_perf *p, const char *name);
void cb_perf_close(struct cb_perf *p);
json_t *cb_perf_probe_all(void);
int cb_tracepoint_id(const char *sys, const char *name, char *why, size_t whylen);
int cb_perf_event_known(const char *name, char *why, size_t len);

/* env.c */
const char *cb_era_by_version(const char *release);
json_t *cb_era_by_counters(json_t *vmstat, bool have_ksm);
bool cb_have_swap(void);
bool cb_have_ksm(void);
bool cb_have_iouring(char *why, size_t len);

/* place.c */
int cb_place_init(void);
int cb_place_cpu(int slot, int *node);
json_t *cb_place_topology(void);

/* journal.c */
void cb_journal_set_dir(const char *dir);
const char *cb_journal_path(void);
int cb_journal_write(const char *path, const char *value);
int cb_journal_swapfile(const char *path);
int cb_journal_cgroup(const char *path);
int cb_journal_mount(const char *target);
int cb_journal_tmpfile(const char *path);
int cb_journal_tmpdir(const char *path);
/* tmpdir.c: a directory and what is in it (async-signal-safe). */
int cb_remove_tree(const char *path);
int cb_journal_zram(const char *dev, const char *hot_id);
void cb_journal_restore_signal(void);

/* sysctl.c: system settings through the journal */
int cb_swapfile_create(size_t bytes, char *path, size_t pathlen, char *err, size_t errlen);
const char *cb_swap_kind(void);
int cb_run_quiet(char *const argv[]);

/* swapdev.c: zram swap and swap-device facts */
int cb_zram_create(size_t bytes, char *dev, size_t len, char *err, size_t errlen);
const char *cb_zram_ours(void);
const char *cb_swap_kind_used(char *name, size_t len);
int cb_tracefs_ensure(void);

/* phase.c */
/* `run --faultlog`: log faults in every phase, not only those that
 * declare CB_PHASE_MAY_RECLAIM. */
void cb_phase_faultlog_all(bool on);
void cb_ctx_init(struct cb_ctx *c, const struct cb_workload *w, union cb_val *vals, int rep,
		 struct cb_perf *perf);
json_t *cb_ctx_finish(struct cb_ctx *c);
/* tlb_shootdowns and tlb_flush_events of a phase from a counter delta (a
 * run's phase, stat's total); flush_why: why tlb:tlb_flush was not counted. */
void cb_phase_fill_tlb(json_t *p, json_t *d, const char *flush_why);

/* runner.c */
json_t *cb_runner_one(const char *name, const char **kv, int nkv, int reps, char *err,
		      size_t errlen);
/* The same with every run option (cowbench bench: bare runs). */
json_t *cb_runner_opts(const char *name, const struct cb_run_opts *o, char *err, size_t errlen);
union cb_val *cb_workload_values(const struct cb_workload *w, const struct cb_run_opts *o,
				 char *err, size_t errlen);
json_t *cb_workload_params(const struct cb_workload *w, const union cb_val *vals);

/* cgroup.c: what an ASan build adds to a cgroup's limit for children that
 * touch up to `touched` bytes (0 when not sanitized); for the tests. */
uint64_t cb_cgroup_sanitizer_slack(uint64_t touched, bool sanitized);

/* result.c */
int cb_result_write(json_t *doc, const char *path, char *err, size_t errlen);
/* Async-signal-safe: removes the temp file of a document being written. */
void cb_result_unlink_pending(void);
/* Removes DIR-of-path's "*.json.tmp.PID" files whose writer is gone. */
void cb_result_sweep(const char *path);
char *cb_result_default_path(json_t *env);
char *cb_result_default_dir(void);
json_t *cb_result_new(json_t *env);

/* table.c */
void cb_result_print_table(json_t *workload, FILE *out, bool wide);
void cb_result_print_legend(FILE *out, json_t *workloads);
/* causes.c: legend lines per phase under the table (written breakdown,
 * extra copies by cause, inexact outcomes, perf events unavailable) */
void cb_result_print_causes(json_t *workload, FILE *out);
json_t *cb_result_summary(json_t *reps);

#endif
