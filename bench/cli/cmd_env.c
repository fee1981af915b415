#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cb_opt env_opts[] = {
	{ .name = "json", .type = CB_OPT_BOOL, .help = "print the JSON object stored in results",
	  .flags = CB_OPTF_FLAG },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

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

const struct cb_command cb_cmd_env = {
	"env", "show the machine, kernel, features and available counters", "[--json]",
	env_opts, cmd_env, NULL
};
