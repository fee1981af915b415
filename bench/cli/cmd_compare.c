#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "analysis.h"

static const struct cb_opt compare_opts[] = {
	{ .name = "baseline", .type = CB_OPT_STR,
	  .help = "result the others are compared against (default: the first)" },
	{ .name = "out", .type = CB_OPT_STR, .def = "compare-report",
	  .help = "directory for report.md, table.csv/json and the plots" },
	{ .name = "format", .type = CB_OPT_STR, .def = "md,csv,json",
	  .help = "comma-separated outputs: md,csv,json (plots always)" },
	{ .name = "fail-on", .type = CB_OPT_STR, .flags = CB_OPTF_MULTI,
	  .help = "exit 1 when a kernel regresses against the baseline: METRIC>N "
		  "(absolute) or METRIC>+N% (relative), e.g. extra_copies>0; repeatable" },
	{ .name = "capacity", .type = CB_OPT_BOOL, .flags = CB_OPTF_FLAG,
	  .help = "print only the capacity view: extra memory and stale swap cache per GiB "
		  "under reclaim, per kernel (writes no files)" },
	{ .name = "emulated-times", .type = CB_OPT_BOOL, .flags = CB_OPTF_FLAG,
	  .help = "plot times of emulated (TCG guest) results too" },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

static int cmd_compare(struct cb_cmdline *cl)
{
	struct an_opts o = { .plots = true };
	int ib = opt_i(compare_opts, "baseline");
	o.outdir = cl->vals[opt_i(compare_opts, "out")].s;
	o.emulated_times = cl->vals[opt_i(compare_opts, "emulated-times")].b;
	o.capacity = cl->vals[opt_i(compare_opts, "capacity")].b;
	o.fail_on = cl->multi[opt_i(compare_opts, "fail-on")];
	o.nfail_on = cl->nmulti[opt_i(compare_opts, "fail-on")];
	char fmts[256];
	snprintf(fmts, sizeof fmts, "%s", cl->vals[opt_i(compare_opts, "format")].s);
	for (char *save, *f = strtok_r(fmts, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (!strcmp(f, "md"))
			o.md = true;
		else if (!strcmp(f, "csv"))
			o.csv = true;
		else if (!strcmp(f, "json"))
			o.json = true;
		else
			cb_die_usage("compare: unknown format '%s' (md, csv, json)", f);
	}
	return an_compare_main(cl->pos, cl->npos, cl->given[ib] ? cl->vals[ib].s : NULL, &o);
}

const struct cb_command cb_cmd_compare = {
	"compare", "compare result documents across kernels: table, plots, report",
	"RESULT... [--baseline RESULT] [--out DIR] [--format md,csv,json] [--emulated-times] "
	"[--capacity] [--fail-on METRIC>N|METRIC>+N%]...",
	compare_opts, cmd_compare, NULL
};
