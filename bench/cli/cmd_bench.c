/* `cowbench bench`: figures of cowbench's own cost (bench/core/selfbench.c). */
#include <stdio.h>

#include "cli.h"

static const struct cb_opt bench_opts[] = {
	{ .name = "rounds", .type = CB_OPT_U64, .def = "7", .min = 1, .max = 101, .shortopt = 'r',
	  .help = "interleaved rounds of each overhead variant (ratios: median over rounds)" },
	{ .name = "size", .type = CB_OPT_SIZE, .def = "64M", .min = 1 << 20, .max = 1ull << 40,
	  .shortopt = 's', .help = "fork-basic size in the overhead rounds (its default in run)" },
	{ .name = "sizes", .type = CB_OPT_STR, .def = "256M,1G,4G,8G",
	  .help = "tracked sizes for the tracker throughput and cost figures (comma list)" },
	{ .name = "only", .type = CB_OPT_ENUM, .def = "all", .choices = "all|overhead|tracker",
	  .help = "run one section only" },
	{ .name = "force", .type = CB_OPT_BOOL, .flags = CB_OPTF_FLAG,
	  .help = "scan sizes beyond 90% of MemAvailable" },
	CB_HELP_OPT,
	CB_OPT_END
};

static int cmd_bench(struct cb_cmdline *cl)
{
	const char *only = cl->vals[opt_i(bench_opts, "only")].s;
	struct cb_bench_opts o = {
		.rounds = (int)cl->vals[opt_i(bench_opts, "rounds")].u,
		.sizes = cl->vals[opt_i(bench_opts, "sizes")].s,
		.overhead = only[0] != 't',
		.scan = only[0] != 'o',
		.force = cl->vals[opt_i(bench_opts, "force")].b,
	};
	/* fork-basic takes the size as typed, like run --size. */
	int is = opt_i(bench_opts, "size");
	o.size = cl->given[is] ? cl->text[is] : bench_opts[is].def;
	return cb_bench_run(&o);
}

static void bench_help(void)
{
	printf("\nPrints, never judges: the same phases bare (no tracker, counters or perf)\n"
	       "and with every instrument in interleaved rounds (plus plain C loops and a\n"
	       "perf-only run for fork-basic), the tracker's GiB/s, and one phase's\n"
	       "instrument wall time and peak memory per tracked size.\n");
}

const struct cb_command cb_cmd_bench = {
	"bench", "measure cowbench's own cost: instrument overhead, tracker GiB/s, scale",
	"[--rounds N] [--size SIZE] [--sizes LIST] [--only overhead|tracker]", bench_opts,
	cmd_bench, bench_help
};
