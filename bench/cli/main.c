/* cowbench: perf-style subcommands over one table (cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "workloads.h"

const struct cb_opt cb_no_opts[] = { CB_HELP_OPT, CB_OPT_END };

#define CB_COMMAND_ENTRY(n) &cb_cmd_##n,
static const struct cb_command *const commands[] = { CB_COMMANDS(CB_COMMAND_ENTRY) NULL };

static void usage(FILE *f)
{
	fprintf(f, "usage: cowbench COMMAND [ARGS]\n\ncommands:\n");
	for (int i = 0; commands[i]; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\n'cowbench COMMAND --help' shows a command's options; --version, "
		   "--man and --bash-completion print what they say.\n");
}

static void cmd_help(const struct cb_command *c)
{
	printf("usage: cowbench %s %s\n\n%s\n\noptions:\n", c->name, c->usage, c->summary);
	cb_cmdline_help(c->opts);
	if (c->more_help)
		c->more_help();
}

static int run_command(const struct cb_command *c, int argc, char **argv)
{
	struct cb_cmdline cl;
	cb_cmdline_parse(c->name, c->opts, argc, argv, &cl);
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

int main(int argc, char **argv)
{
	cb_registry_set(cb_workload_table);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("cowbench %s (git %s)\n", COWBENCH_VERSION, COWBENCH_GIT_REV);
		return 0;
	}
	if (!strcmp(argv[1], "--man")) {
		cli_man_page(stdout, commands);
		return 0;
	}
	if (!strcmp(argv[1], "--bash-completion")) {
		cli_bash_completion(stdout, commands);
		return 0;
	}
	for (int i = 0; commands[i]; i++)
		if (!strcmp(commands[i]->name, argv[1]))
			return run_command(commands[i], argc - 2, argv + 2);
	cb_die_usage("unknown command '%s' (see 'cowbench --help')", argv[1]);
}
