/* `cowbench stat`: perf-stat-like COW counts for any program's process tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct cb_opt stat_opts[] = {
	{ .name = "pid", .type = CB_OPT_STR, .shortopt = 'p',
	  .help = "attach to running processes PID[,PID...] (and follow their new children)" },
	{ .name = "interval", .type = CB_OPT_U64, .def = "0", .min = 0, .max = 3600000,
	  .shortopt = 'I', .help = "print interval lines every MS milliseconds (0: none)" },
	{ .name = "duration", .type = CB_OPT_DOUBLE, .def = "0", .fmin = 0, .fmax = 1e6,
	  .help = "stop after S seconds and detach (0: when the traced processes end)" },
	{ .name = "out", .type = CB_OPT_STR,
	  .help = "result file, '-' for stdout (default ~/.local/share/cowbench/results/HOST_KERNEL_DATE.json)" },
	CB_HELP_OPT,
	CB_OPT_END
};

/* Comma-separated pids, each of a process that exists. */
static int parse_pids(const char *text, pid_t *pids, int max)
{
	int n = 0;
	char *copy = strdup(text), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end, path[64];
		long v = strtol(t, &end, 10);
		if (*end || v <= 0 || v > 4194304 || n == max)
			cb_die_usage("stat: invalid pid '%s'", t);
		snprintf(path, sizeof path, "/proc/%ld", v);
		if (access(path, F_OK))
			cb_die_usage("stat: no process %ld", v);
		pids[n++] = (pid_t)v;
	}
	free(copy);
	if (!n)
		cb_die_usage("stat: -p needs a pid");
	return n;
}

/* The command must exist before anything is traced: a missing one is bad
 * input (status 2), not the command's failure. */
static void check_command(const char *cmd)
{
	if (cb_on_path(cmd))
		return;
	if (!strchr(cmd, '/'))
		cb_die_usage("stat: command not found: %s", cmd);
	cb_die_usage("stat: cannot run '%s': %s", cmd,
		     access(cmd, F_OK) ? "no such file" : "not executable");
}

static int cmd_stat(struct cb_cmdline *cl)
{
	static pid_t pids[64];
	struct cb_stat_opts o = { 0 };
	int ip = opt_i(stat_opts, "pid");
	if (!cb_is_root())
		cb_die_usage("stat: needs root (ptrace of the tree and page frame numbers in pagemap)");
	if (cl->given[ip] && cl->npos)
		cb_die_usage("stat: give either -p PID or -- CMD, not both");
	if (!cl->given[ip] && !cl->npos)
		cb_die_usage("stat: nothing to measure: give -p PID or -- CMD [ARGS]");
	if (cl->given[ip])
		o.npids = parse_pids(cl->vals[ip].s, pids, 64);
	else
		check_command(cl->pos[0]);
	o.pids = pids;
	o.argv = (char *const *)cl->pos;
	o.interval_ms = (unsigned)cl->vals[opt_i(stat_opts, "interval")].u;
	o.duration_s = cl->vals[opt_i(stat_opts, "duration")].d;
	int io = opt_i(stat_opts, "out");
	o.out = cl->given[io] ? cl->vals[io].s : NULL;
	return cb_stat_run(&o);
}

static void stat_help(void)
{
	printf("\nThe exit status is CMD's. Needs root. Counts are exact for the pages a fork\n"
	       "made COW-shared (see docs/stat.md); the document's notes say what stat cannot\n"
	       "see. SIGINT writes the document so far with \"complete\": false.\n");
}

const struct cb_command cb_cmd_stat = {
	"stat", "COW copies, reuses and faults of any program's process tree (like perf stat)",
	"[-p PID[,PID...]] [-I MS] [--duration S] [--out FILE] [-- CMD [ARGS]]", stat_opts,
	cmd_stat, stat_help
};
