#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probes.h"

static const struct cb_opt probe_opts[] = {
	{ .name = "json", .type = CB_OPT_BOOL, .help = "print the JSON object stored in results",
	  .flags = CB_OPTF_FLAG },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

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
	if (cl->vals[opt_i(probe_opts, "json")].b) {
		json_dumpf(fp, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		cb_fingerprint_print(fp, stdout, false);
	}
	json_decref(fp);
	return rc;
}

json_t *cli_fingerprint(void)
{
	return cb_fingerprint_collect();
}

void cli_fingerprint_hooks(struct cb_run_opts *o)
{
	o->fingerprint = cli_fingerprint;
	o->print_fingerprint = cb_fingerprint_print;
}

const struct cb_command cb_cmd_probe = {
	"probe", "run the policy-fingerprint probes and classify the kernel's COW era",
	"[--json]", probe_opts, cmd_probe, NULL
};
