/* cowbench: perf-style subcommands over one table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "harness.h"
#include "probes.h"

struct cmd {
	const char *name;
	const char *summary;
	const char *usage;
	const struct cb_opt *opts;
	int (*fn)(struct cb_cmdline *cl);
};

static const struct cb_opt no_opts[] = {
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

static const struct cb_opt env_opts[] = {
	{ .name = "json", .type = CB_OPT_BOOL, .help = "print the JSON object stored in results",
	  .flags = CB_OPTF_FLAG },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

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
	{ .name = "force", .type = CB_OPT_BOOL, .flags = CB_OPTF_FLAG,
	  .help = "allow sizes beyond the safe share of memory" },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

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
	  .help = "print the capacity table too (extra memory, swap I/O per GiB under "
		  "reclaim)" },
	{ .name = "emulated-times", .type = CB_OPT_BOOL, .flags = CB_OPTF_FLAG,
	  .help = "plot times of emulated (TCG guest) results too" },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

static const struct cb_opt repro_opts[] = {
	{ .name = "iterations", .type = CB_OPT_U64, .min = 1, .max = 10000000, .shortopt = 'n',
	  .help = "race attempts per scenario (default: each scenario's own)" },
	{ .name = "reps", .type = CB_OPT_U64, .def = "1", .min = 1, .max = 1000, .shortopt = 'r',
	  .help = "repetitions of each scenario" },
	{ .name = "out", .type = CB_OPT_STR, .help = "result file (default results/HOST_KERNEL_DATE.json)" },
	{ .name = "opt", .type = CB_OPT_STR, .shortopt = 'o', .flags = CB_OPTF_MULTI,
	  .help = "scenario option key=value (repeatable)" },
	{ .name = "timeout", .type = CB_OPT_U64, .def = "600", .min = 0, .max = 86400,
	  .help = "watchdog: abort (and restore) when one repetition takes longer (0: off)" },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

static int opt_i(const struct cb_opt *opts, const char *name)
{
	return (int)(cb_opt_find(opts, name) - opts);
}

static int cmd_list(struct cb_cmdline *cl)
{
	(void)cl;
	for (int i = 0; cb_workloads[i]; i++) {
		const struct cb_workload *w = cb_workloads[i];
		printf("%-26s %s", w->name, w->summary);
		if (w->scenarios && *w->scenarios)
			printf(" [%s]", w->scenarios);
		printf("\n");
	}
	return 0;
}

static void print_feature_lines(json_t *env)
{
	const char *k;
	json_t *v;
	printf("features:\n");
	json_object_foreach(json_object_get(env, "features"), k, v) {
		if (json_is_string(v)) {
			printf("  %-14s %s\n", k, json_string_value(v));
			continue;
		}
		json_t *why = json_object_get(v, "reason");
		printf("  %-14s %s%s%s\n", k,
		       json_is_true(json_object_get(v, "available")) ? "yes" : "no",
		       why ? ": " : "", why ? json_string_value(why) : "");
	}
}

static void print_counter_lines(json_t *env)
{
	json_t *c = json_object_get(env, "counters");
	const char *k;
	json_t *v;
	printf("vmstat counters (%lld keys):", (long long)json_integer_value(
						      json_object_get(c, "vmstat_keys")));
	json_object_foreach(json_object_get(c, "vmstat"), k, v)
		printf(" %s%s", json_is_true(v) ? "" : "-", k);
	printf("\n  (a leading '-' marks a counter this kernel does not have)\n");
	printf("/proc/interrupts TLB line: %s\n",
	       json_is_true(json_object_get(c, "interrupts_tlb")) ? "yes" : "no");
	printf("perf events:\n");
	json_object_foreach(json_object_get(c, "perf"), k, v) {
		json_t *why = json_object_get(v, "reason");
		printf("  %-18s %-10s %s%s%s\n", k, json_string_value(json_object_get(v, "kind")),
		       json_is_true(json_object_get(v, "available")) ? "yes" : "no",
		       why ? ": " : "", why ? json_string_value(why) : "");
	}
}

static void print_env(json_t *env)
{
	json_t *k = json_object_get(env, "kernel");
	json_t *cpu = json_object_get(env, "cpu"), *topo = json_object_get(cpu, "topology");
	json_t *set = json_object_get(env, "settings");
	printf("kernel:  %s  %s\n", json_string_value(json_object_get(k, "release")),
	       json_string_value(json_object_get(k, "version")));
	printf("cmdline: %s\n", json_string_value(json_object_get(k, "cmdline")));
	printf("era by version: %s; era by counters present: %s\n",
	       json_string_value(json_object_get(k, "era_by_version")),
	       json_string_value(json_object_get(json_object_get(k, "era_by_counters"), "era")));
	printf("cpu:     %s (%lld packages, %lld cores, %lld PUs, %lld NUMA nodes)\n",
	       json_string_value(json_object_get(cpu, "model")),
	       json_integer_value(json_object_get(topo, "packages")),
	       json_integer_value(json_object_get(topo, "cores")),
	       json_integer_value(json_object_get(topo, "pus")),
	       json_integer_value(json_object_get(topo, "numa_nodes")));
	json_t *mem = json_object_get(env, "memory");
	printf("memory:  %.1f GiB, page size %lld\n",
	       (double)json_integer_value(json_object_get(mem, "total_bytes")) / (1 << 30),
	       json_integer_value(json_object_get(mem, "page_size")));
	char *thp = json_dumps(json_object_get(set, "thp"), JSON_COMPACT);
	char *ksm = json_dumps(json_object_get(set, "ksm"), JSON_COMPACT);
	char *swaps = json_dumps(json_object_get(set, "swap_devices"), JSON_COMPACT);
	printf("thp:     %s\nksm:     %s\nswap:    %s\n", thp, ksm, swaps);
	free(thp);
	free(ksm);
	free(swaps);
	printf("root:    %s\nrevision: %s\n", json_is_true(json_object_get(env, "root")) ? "yes" : "no",
	       json_string_value(json_object_get(env, "cowbench_revision")));
	print_feature_lines(env);
	print_counter_lines(env);
}

static int cmd_env(struct cb_cmdline *cl)
{
	json_t *env = cb_env_collect();
	if (cl->vals[opt_i(env_opts, "json")].b)
		json_dumpf(env, stdout, JSON_INDENT(2));
	else
		print_env(env);
	printf("\n");
	json_decref(env);
	return 0;
}

static int cmd_run(struct cb_cmdline *cl)
{
	struct cb_run_opts o = { 0 };
	o.reps = (int)cl->vals[opt_i(run_opts, "reps")].u;
	o.size = cl->vals[opt_i(run_opts, "size")].u;
	o.kv = cl->multi[opt_i(run_opts, "opt")];
	o.nkv = cl->nmulti[opt_i(run_opts, "opt")];
	o.events = cl->multi[opt_i(run_opts, "event")];
	o.nevents = cl->nmulti[opt_i(run_opts, "event")];
	o.force = cl->vals[opt_i(run_opts, "force")].b;
	o.timeout = (unsigned)cl->vals[opt_i(run_opts, "timeout")].u;
	int io = opt_i(run_opts, "out");
	return cb_runner_run(cl->pos, cl->npos, &o, cl->given[io] ? cl->vals[io].s : NULL, "run");
}

/* The probes change swap and KSM through the journal, like a run. */
static int cmd_probe(struct cb_cmdline *cl)
{
	char err[256];
	cb_install_signals();
	if (cb_is_root() && cb_journal_begin(err, sizeof err)) {
		fprintf(stderr, "cowbench: %s\n", err);
		return 1;
	}
	json_t *fp = cb_fingerprint_collect();
	int rc = cb_journal_active() ? cb_journal_restore(false) : 0;
	if (cl->vals[opt_i(env_opts, "json")].b) {
		json_dumpf(fp, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		cb_fingerprint_print(fp, stdout, false);
	}
	json_decref(fp);
	return rc;
}

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

/* The seed scenarios are the workloads named "repro:NAME"; NAME alone is
 * enough, and no name runs them all. */
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
	for (int i = 0; !cl->npos && cb_workloads[i] && n < 64; i++)
		if (!strncmp(cb_workloads[i]->name, "repro:", 6))
			list[n++] = cb_workloads[i]->name;
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
				 .timeout = (unsigned)cl->vals[opt_i(repro_opts, "timeout")].u };
	return cb_runner_run(list, n, &o, cl->given[io] ? cl->vals[io].s : NULL, "repro");
}

static int cmd_restore(struct cb_cmdline *cl)
{
	(void)cl;
	if (!cb_is_root())
		fprintf(stderr, "cowbench: restore usually needs root\n");
	return cb_journal_restore(true);
}

static const struct cmd commands[] = {
	{ "list", "list workloads and probes", "", no_opts, cmd_list },
	{ "env", "show the machine, kernel, features and available counters", "[--json]",
	  env_opts, cmd_env },
	{ "run", "run workloads and write one result document",
	  "[WORKLOAD...] [--reps N] [--size SIZE] [--out FILE] [-o key=value]...", run_opts,
	  cmd_run },
	{ "probe", "run the policy-fingerprint probes and classify the kernel's COW era",
	  "[--json]", env_opts, cmd_probe },
	{ "compare", "compare result documents across kernels: table, plots, report",
	  "RESULT... [--baseline RESULT] [--out DIR] [--format md,csv,json] [--emulated-times] "
	  "[--capacity] [--fail-on METRIC>N|METRIC>+N%]...",
	  compare_opts, cmd_compare },
	{ "repro", "run the seed threads' race scenarios (repro:*) many times each",
	  "[NAME...] [--iterations N] [--reps N] [--out FILE] [-o key=value]...", repro_opts,
	  cmd_repro },
	{ "restore", "undo every system change a crashed run left behind", "", no_opts,
	  cmd_restore },
	{ NULL, NULL, NULL, NULL, NULL }
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cowbench COMMAND [ARGS]\n\ncommands:\n");
	for (const struct cmd *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'cowbench COMMAND --help' shows a command's options.\n");
}

static void workload_help(void)
{
	printf("\nworkloads and their options (-o key=value, or -o workload.key=value):\n");
	for (int i = 0; cb_workloads[i]; i++) {
		const struct cb_workload *w = cb_workloads[i];
		printf("\n%s: %s\n", w->name, w->summary);
		cb_opt_help(w->opts, "-o ");
	}
}

static void cmd_help(const struct cmd *c)
{
	printf("usage: cowbench %s %s\n\n%s\n\noptions:\n", c->name, c->usage, c->summary);
	cb_cmdline_help(c->opts);
	if (c->fn == cmd_run)
		workload_help();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (const struct cmd *c = commands; c->name; c++) {
		if (strcmp(c->name, argv[1]))
			continue;
		struct cb_cmdline cl;
		cb_cmdline_parse(c->name, c->opts, argc - 2, argv + 2, &cl);
		int rc;
		if (cl.given[opt_i(c->opts, "help")]) {
			cmd_help(c);
			rc = 0;
		} else {
			rc = c->fn(&cl);
		}
		cb_cmdline_free(&cl);
		return rc;
	}
	cb_die_usage("unknown command '%s' (see 'cowbench --help')", argv[1]);
}
