/* What the harness offers the command line (bench/cli): running workloads,
 * the machine's description, the journal of system changes. Workloads see
 * none of it (they have cowbench.h); the analysis sees none of it either. */
#ifndef COWBENCH_CORE_H
#define COWBENCH_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cowbench.h"

/* Instruments a run can leave off (cb_run_opts.bare), so that `cowbench
 * bench` can measure what each one costs the phases it brackets. */
enum cb_bare {
	CB_BARE_TRACKER = 1 << 0,  /* pagemap/kpagecount/kpageflags snapshots */
	CB_BARE_COUNTERS = 1 << 1, /* /proc/vmstat, meminfo, interrupts, KSM, rusage */
	CB_BARE_PERF = 1 << 2,     /* perf events on the process tree */
	CB_BARE_ALL = (1 << 3) - 1,
};

struct cb_run_opts {
	int reps;
	unsigned bare;        /* enum cb_bare bits: instruments left off (0: all on) */
	const char *size;     /* --size as typed; NULL: each workload's own default */
	const char **kv;      /* "key=value" from -o */
	int nkv;
	const char **events;  /* extra perf events named with --event */
	int nevents;
	bool force;
	bool faultlog;        /* fault log in every phase (run --faultlog) */
	unsigned timeout;     /* watchdog seconds per repetition; 0: none */
	bool wide;            /* every column, with min-max ranges */
	/* The policy fingerprint that goes into the document (and its one-line
	 * print), given the document's env; NULL: none. */
	json_t *(*fingerprint)(json_t *env);
	void (*print_fingerprint)(json_t *fp, FILE *out, bool brief);
};

/* The workloads that exist, handed down by the command line. */
void cb_registry_set(const struct cb_workload *const *workloads);
const struct cb_workload *cb_workload_at(int i);
const struct cb_workload *cb_workload_find(const char *name);

/* Runs workloads (all of the mission suite when nnames is 0), prints their
 * tables and writes one result document ("-": stdout, tables then go to
 * stderr). Returns the exit status: 0, 1 when a repetition failed or the
 * document could not be written, 4 when everything asked for was skipped. */
int cb_runner_run(const char **names, int nnames, const struct cb_run_opts *o,
		  const char *out_path, const char *mode);
/* Runs every workload of one suite (reps and timeout from o) inside the
 * caller's journal, printing no table and writing no document; returns
 * their result objects as a document's "workloads" array would hold them. */
json_t *cb_runner_suite(enum cb_suite suite, const struct cb_run_opts *o);
void cb_install_signals(void);

/* `cowbench bench`: the cost of cowbench's own instruments, printed. */
struct cb_bench_opts {
	int rounds;        /* interleaved rounds of every overhead variant */
	const char *size;  /* fork-basic's size in the overhead rounds */
	const char *sizes; /* comma-separated tracked sizes for the tracker figures */
	bool overhead, scan; /* which sections run */
	bool force;        /* scan sizes beyond 90% of MemAvailable */
};
int cb_bench_run(const struct cb_bench_opts *o);

/* `cowbench stat`: the COW cost of a command's or of running processes'
 * trees (bench/core/stat*.c). */
struct cb_stat_opts {
	const pid_t *pids;    /* -p: processes to attach to; npids 0: run argv */
	int npids;
	char *const *argv;    /* -- CMD ARGS */
	unsigned interval_ms; /* -I: interval lines; 0: none */
	double duration_s;    /* stop (and detach) after this; 0: at the end */
	const char *out;      /* result document; NULL: the default results directory */
};
/* Returns CMD's exit status (0 for -p), 2 on bad input after one line on
 * stderr, 130 when interrupted (the document is still written). */
int cb_stat_run(const struct cb_stat_opts *o);

json_t *cb_env_collect(void);
bool cb_is_root(void);
void cb_die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

int cb_journal_begin(char *err, size_t errlen);
int cb_journal_restore(bool verbose);
bool cb_journal_active(void);

#endif
