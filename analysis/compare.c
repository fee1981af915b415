/* The `compare` subcommand: load, build the table, write every output. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis.h"
#include "apps.h"
#include "capacity.h"
#include "gate.h"
#include "load.h"
#include "model.h"
#include "plot.h"
#include "report.h"
#include "summary.h"
#include "text.h"

#define AN_TERM_WIDTH 100
#define AN_MAX_RULES 16

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

/* The baseline is one of the inputs (same file) or an extra document. */
static int pick_baseline(struct an_set *s, const char *baseline, char *err, size_t errlen)
{
	if (!baseline)
		return 0;
	char want[PATH_MAX], have[PATH_MAX];
	if (!realpath(baseline, want)) {
		snprintf(err, errlen, "%s: %s", baseline, strerror(errno));
		return -1;
	}
	for (int i = 0; i < s->n; i++)
		if (realpath(s->r[i].path, have) && !strcmp(have, want))
			return i;
	if (an_load_path(s, baseline, err, errlen))
		return -1;
	return s->n - 1;
}

/* What the terminal shows: the summary at 100 columns, the app workloads'
 * phases, and the files. */
static void print_summary(const struct an_table *t, const struct an_opts *o)
{
	static struct an_summary S;
	an_summary_build(&S, t);
	if (o->capacity)
		an_write_capacity_text(stdout, &S.v, AN_TERM_WIDTH);
	else {
		an_summary_text(stdout, &S, AN_TERM_WIDTH);
		an_apps_text(stdout, t, &S.v, AN_TERM_WIDTH);
	}
}

static void warn(const char *why)
{
	char msg[1200];
	snprintf(msg, sizeof msg, "cowbench compare: warning: %s", why);
	an_wrap(stderr, msg, 0, 2, AN_TERM_WIDTH);
}

static void warn_incomplete(const struct an_set *s)
{
	for (int i = 0; i < s->n; i++) {
		if (!s->r[i].incomplete)
			continue;
		char msg[PATH_MAX + 200];
		snprintf(msg, sizeof msg, "cowbench compare: warning: %s is incomplete "
			 "(\"complete\": false, an interrupted run): what it lacks is not measured",
			 s->r[i].path);
		an_wrap(stderr, msg, 0, 2, AN_TERM_WIDTH);
	}
}

static int write_outputs(const struct an_table *t, const struct an_opts *o)
{
	struct an_plots pl = { 0 };
	int rc = 0;
	if (o->plots)
		rc |= an_plot_all(t, o, &pl) ? 1 : 0;
	char path[PATH_MAX];
	if (o->md) {
		snprintf(path, sizeof path, "%s/report.md", o->outdir);
		rc |= an_write_md(t, o, &pl, path) ? 1 : 0;
		printf("report: %s\n", path);
	}
	if (o->csv) {
		snprintf(path, sizeof path, "%s/table.csv", o->outdir);
		rc |= an_write_csv(t, path) ? 1 : 0;
		printf("table:  %s\n", path);
	}
	if (o->json) {
		snprintf(path, sizeof path, "%s/table.json", o->outdir);
		rc |= an_write_json(t, path) ? 1 : 0;
		printf("table:  %s\n", path);
	}
	for (int i = 0; i < pl.n; i++)
		printf("plot:   %s/%s.png (.svg)\n", o->outdir, pl.names[i]);
	for (int i = 0; i < pl.nnotes; i++)
	{
		printf("note:   ");
		an_wrap(stdout, pl.notes[i], 8, 8, AN_TERM_WIDTH);
	}
	return rc;
}

/* Loads every input and picks the baseline; -1 after saying why. */
static int load_all(struct an_set *set, const char **paths, int npaths, const char *baseline)
{
	char err[1024];
	if (!npaths) {
		fprintf(stderr, "cowbench compare: no result documents given\n");
		return -1;
	}
	for (int i = 0; i < npaths; i++)
		if (an_load_path(set, paths[i], err, sizeof err)) {
			fprintf(stderr, "cowbench compare: %s\n", err);
			return -1;
		}
	int base = pick_baseline(set, baseline, err, sizeof err);
	if (base < 0)
		fprintf(stderr, "cowbench compare: %s\n", err);
	return base;
}

static int parse_rules(const struct an_opts *o, struct an_rule *rules)
{
	char err[512];
	for (int i = 0; i < o->nfail_on; i++)
		if (an_rule_parse(o->fail_on[i], &rules[i], err, sizeof err)) {
			fprintf(stderr, "cowbench compare: %s\n", err);
			return -1;
		}
	return 0;
}

/* 0: no regression, 1: a regression, 2: a rule names no measured metric. */
static int gate(const struct an_table *t, const struct an_rule *rules, int n)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		int bad = an_rule_check(t, &rules[i], stdout);
		if (bad < 0) {
			fprintf(stderr, "cowbench compare: --fail-on: no result has the metric "
				"'%s' (docs/metrics.md lists them)\n", rules[i].metric);
			return 2;
		}
		rc |= bad > 0;
	}
	if (n)
		printf("fail-on: %s\n", rc ? "a kernel regressed against the baseline (exit 1)"
					    : "no regression against the baseline");
	return rc;
}

int an_compare_main(const char **paths, int npaths, const char *baseline,
		    const struct an_opts *o)
{
	static struct an_set set;
	struct an_rule rules[AN_MAX_RULES];
	if (o->nfail_on > AN_MAX_RULES) {
		fprintf(stderr, "cowbench compare: at most %d --fail-on rules\n", AN_MAX_RULES);
		return 2;
	}
	if (parse_rules(o, rules))
		return 2;
	int base = load_all(&set, paths, npaths, baseline);
	if (base < 0) {
		an_set_free(&set);
		return 2;
	}
	char why[1024];
	warn_incomplete(&set);
	if (an_different_machines(&set, why, sizeof why))
		warn(why);
	/* --capacity is a view for the planner: the table, no files. */
	if (!o->capacity && mkdir_p(o->outdir)) {
		fprintf(stderr, "cowbench compare: cannot create %s: %s\n", o->outdir,
			strerror(errno));
		an_set_free(&set);
		return 1;
	}
	struct an_table t;
	an_table_build(&t, &set, base);
	char line[PATH_MAX + 300];
	snprintf(line, sizeof line, "baseline: %s (%s)", set.r[base].label, set.r[base].path);
	an_wrap(stdout, line, 0, 2, AN_TERM_WIDTH);
	print_summary(&t, o);
	int rc = o->capacity ? 0 : write_outputs(&t, o);
	int g = gate(&t, rules, o->nfail_on);
	an_table_free(&t);
	an_set_free(&set);
	return g == 2 ? 2 : rc | g;
}
