#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fingerprint.h"

static const struct cb_opt probe_opts[] = {
	{ .name = "json", .type = CB_OPT_BOOL, .help = "print the JSON object stored in results",
	  .flags = CB_OPTF_FLAG },
	{ .name = "help", .type = CB_OPT_BOOL, .help = "show this help", .shortopt = 'h',
	  .flags = CB_OPTF_FLAG },
	CB_OPT_END
};

/* One repetition per probe; a hung probe is stopped (and the journal
 * restored) long after the slowest (KSM under TCG, ~10 s) would finish. */
static const struct cb_run_opts probe_run = { .reps = 1, .timeout = 300 };

/* Runs the probe suite through the harness and classifies its results as
 * a document with this env would hold them. */
static json_t *cli_fingerprint(json_t *env)
{
	json_t *doc = json_pack("{s:O, s:o}", "env", env, "workloads",
				cb_runner_suite(CB_SUITE_PROBE, &probe_run));
	json_t *fp = cb_fingerprint_of(doc);
	json_decref(doc);
	return fp;
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
	json_t *env = cb_env_collect();
	json_t *fp = cli_fingerprint(env);
	json_decref(env);
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

void cli_fingerprint_hooks(struct cb_run_opts *o)
{
	o->fingerprint = cli_fingerprint;
	o->print_fingerprint = cb_fingerprint_print;
}

const struct cb_command cb_cmd_probe = {
	"probe", "run the policy-fingerprint probes (the probe:* workloads) and classify the "
	"kernel's COW era", "[--json]", probe_opts, cmd_probe, NULL
};
