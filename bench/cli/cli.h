/* The command line: one cmd_<name>.c per subcommand, each exporting one
 * `struct cb_command`; main.c holds the table. Commands are thin: they turn
 * options into calls of the harness (cbcore.h) or the analysis. */
#ifndef COWBENCH_CLI_H
#define COWBENCH_CLI_H

#include <stdio.h>

#include "cbcore.h"
#include "options.h"

struct cb_command {
	const char *name;
	const char *summary;
	const char *usage;
	const struct cb_opt *opts;
	int (*fn)(struct cb_cmdline *cl);
	void (*more_help)(void); /* printed after the options; may be NULL */
};

/* Row of a named option in a command's table. */
static inline int opt_i(const struct cb_opt *opts, const char *name)
{
	return (int)(cb_opt_find(opts, name) - opts);
}

#define CB_HELP_OPT                                                                   \
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h', \
	  .flags = CB_OPTF_FLAG }

extern const struct cb_opt cb_no_opts[];
/* The probe suite's fingerprint hooks, for run and repro documents. */
void cli_fingerprint_hooks(struct cb_run_opts *o);

/* manpage.c: both generated from the command and workload tables. */
void cli_man_page(FILE *f, const struct cb_command *const *commands);
void cli_bash_completion(FILE *f, const struct cb_command *const *commands);

#define CB_COMMANDS(X) X(list) X(env) X(run) X(probe) X(compare) X(repro) X(restore) X(stat) X(bench)
#define CB_DECLARE_COMMAND(n) extern const struct cb_command cb_cmd_##n;
CB_COMMANDS(CB_DECLARE_COMMAND)

#endif
