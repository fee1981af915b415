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

struct cb_run_opts {
	int reps;
	const char *size;     /* --size as typed; NULL: each workload's own default */
	const char **kv;      /* "key=value" from -o */
	int nkv;
	const char **events;  /* extra perf events named with --event */
	int nevents;
	bool force;
	bool faultlog;        /* fault log in every phase (run --faultlog) */
	unsigned timeout;     /* watchdog seconds per repetition; 0: none */
	/* The policy fingerprint that goes into the document (and its one-line
	 * print); NULL: none. */
	json_t *(*fingerprint)(void);
	void (*print_fingerprint)(json_t *fp, FILE *out, bool brief);
};

/* The workloads that exist, handed down by the command line. */
void cb_registry_set(const struct cb_workload *const *workloads);
const struct cb_workload *cb_workload_at(int i);
const struct cb_workload *cb_workload_find(const char *name);

/* Runs workloads (all of the mission suite when nnames is 0), prints their
 * tables and writes one result document. Returns the exit status. */
int cb_runner_run(const char **names, int nnames, const struct cb_run_opts *o,
		  const char *out_path, const char *mode);
void cb_install_signals(void);

/* `cowbench stat`: the COW cost of a command's or of running processes'
 * trees (bench/core/stat*.c). */
struct cb_stat_opts {
	const pid_t *pids;    /* -p: processes to attach to; npids 0: run argv */
	int npids;
	char *const *argv;    /* -- CMD ARGS */
	unsigned interval_ms; /* -I: interval lines; 0: none */
	double duration_s;    /* stop (and detach) after this; 0: at the end */
	const char *out;      /* result document; NULL: results/HOST_KERNEL_DATE.json */
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
