#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cb_opt run_opts[] = {
	{ .name = "reps", .type = CB_OPT_U64, .def = "5", .min = 1, .max = 1000, .shortopt = 'r',
	  .help = "repetitions of each workload" },
	{ .name = "size", .type = CB_OPT_SIZE, .min = 4096, .max = 1ull << 44, .shortopt = 's',
	  .help = "memory size for workloads that have a size option (e.g. 64M, 1G)" },
	{ .name = "out", .type = CB_OPT_STR, .help = "result file (default results/HOST_KERNEL_DATE.json)" },
	{ .name = "opt", .type = CB_OPT_STR, .shortopt = 'o', .flags = CB_OPTF_MULTI,
	  .help = "workload option key=value or workload.key=value (repeatable)" },
	{ .name = "event", .type = CB_OPT_STR, .shortopt = 'e', .flags = CB_OPTF_MULTI,
	  .help = "extra perf event (libpfm4 name or sys:tracepoint; repeatable)" },
	{ .name = "timeout", .type = CB_OPT_U64, .def = "600", .min = 0, .max = 86400,
	  .help = "watchdog: abort (and restore) when one repetition takes longer (0: off)" },
	{ .name = "faultlog", .type = CB_OPT_BOOL, .flags = CB_OPTF_FLAG,
	  .help = "log every fault on tracked pages in every phase (x86 fault tracepoint; "
		  "costs time per fault): exact copy/reuse/refault outcomes everywhere, not only "
		  "in phases that may reclaim" },
	{ .name = "force", .type = CB_OPT_BOOL, .flags = CB_OPTF_FLAG,
	  .help = "allow sizes beyond the safe share of memory" },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

static int cmd_run(struct cb_cmdline *cl)
{
	struct cb_run_opts o = { 0 };
	o.reps = (int)cl->vals[opt_i(run_opts, "reps")].u;
	o.size = cl->text[opt_i(run_opts, "size")];
	o.kv = cl->multi[opt_i(run_opts, "opt")];
	o.nkv = cl->nmulti[opt_i(run_opts, "opt")];
	o.events = cl->multi[opt_i(run_opts, "event")];
	o.nevents = cl->nmulti[opt_i(run_opts, "event")];
	o.force = cl->vals[opt_i(run_opts, "force")].b;
	o.faultlog = cl->vals[opt_i(run_opts, "faultlog")].b;
	o.timeout = (unsigned)cl->vals[opt_i(run_opts, "timeout")].u;
	cli_fingerprint_hooks(&o);
	int io = opt_i(run_opts, "out");
	return cb_runner_run(cl->pos, cl->npos, &o, cl->given[io] ? cl->vals[io].s : NULL, "run");
}

static void workload_help(void)
{
	printf("\nworkloads and their options (-o key=value, or -o workload.key=value):\n");
	for (int i = 0; cb_workload_at(i); i++) {
		const struct cb_workload *w = cb_workload_at(i);
		printf("\n%s: %s\n", w->name, w->summary);
		cb_opt_help(w->opts, "-o ");
	}
}

const struct cb_command cb_cmd_run = {
	"run", "run workloads and write one result document",
	"[WORKLOAD...] [--reps N] [--size SIZE] [--out FILE] [-o key=value]...", run_opts,
	cmd_run, workload_help
};
