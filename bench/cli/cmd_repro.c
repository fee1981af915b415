#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cb_opt repro_opts[] = {
	{ .name = "iterations", .type = CB_OPT_U64, .min = 1, .max = 10000000, .shortopt = 'n',
	  .help = "race attempts per scenario (default: each scenario's own)" },
	{ .name = "reps", .type = CB_OPT_U64, .def = "1", .min = 1, .max = 1000, .shortopt = 'r',
	  .help = "repetitions of each scenario" },
	{ .name = "out", .type = CB_OPT_STR,
	  .help = "result file, '-' for stdout (default ~/.local/share/cowbench/results/HOST_KERNEL_DATE.json)" },
	{ .name = "wide", .type = CB_OPT_BOOL, .flags = CB_OPTF_FLAG,
	  .help = "every column, with min-max over repetitions (wider than 100 columns)" },
	{ .name = "opt", .type = CB_OPT_STR, .shortopt = 'o', .flags = CB_OPTF_MULTI,
	  .help = "scenario option key=value (repeatable)" },
	{ .name = "timeout", .type = CB_OPT_U64, .def = "600", .min = 0, .max = 86400,
	  .help = "watchdog: abort (and restore) when one repetition takes longer (0: off)" },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

/* The seed scenarios are the repro suite, named "repro:NAME"; NAME alone
 * is enough, and no name runs them all. */
static int cmd_repro(struct cb_cmdline *cl)
{
	static char names[64][64];
	const char *list[64], *kv[66];
	int n = 0, nkv = 0;
	for (int i = 0; i < cl->npos && n < 64; i++, n++) {
		bool full = !strncmp(cl->pos[i], "repro:", 6);
		snprintf(names[n], sizeof names[n], "%s%s", full ? "" : "repro:", cl->pos[i]);
		list[n] = names[n];
	}
	for (int i = 0; !cl->npos && cb_workload_at(i) && n < 64; i++)
		if (cb_workload_at(i)->suite == CB_SUITE_REPRO)
			list[n++] = cb_workload_at(i)->name;
	char iters[48];
	int ii = opt_i(repro_opts, "iterations"), io = opt_i(repro_opts, "out");
	if (cl->given[ii]) {
		snprintf(iters, sizeof iters, "iterations=%llu", (unsigned long long)cl->vals[ii].u);
		kv[nkv++] = iters;
	}
	for (int i = 0; i < cl->nmulti[opt_i(repro_opts, "opt")] && nkv < 66; i++)
		kv[nkv++] = cl->multi[opt_i(repro_opts, "opt")][i];
	struct cb_run_opts o = { .reps = (int)cl->vals[opt_i(repro_opts, "reps")].u, .kv = kv,
				 .nkv = nkv,
				 .timeout = (unsigned)cl->vals[opt_i(repro_opts, "timeout")].u,
				 .wide = cl->vals[opt_i(repro_opts, "wide")].b };
	cli_fingerprint_hooks(&o);
	return cb_runner_run(list, n, &o, cl->given[io] ? cl->vals[io].s : NULL, "repro");
}

const struct cb_command cb_cmd_repro = {
	"repro", "run the seed threads' race scenarios (repro:*) many times each",
	"[NAME...] [--iterations N] [--reps N] [--out FILE] [-o key=value]...", repro_opts,
	cmd_repro, NULL
};
