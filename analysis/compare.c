/* The `compare` subcommand: load, build the table, write every output. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis.h"
#include "load.h"
#include "model.h"
#include "plot.h"
#include "report.h"
#include "tables.h"

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

static void print_verdicts(const struct an_table *t)
{
	for (int i = 0; i < t->n; i++) {
		if (i && !strcmp(t->rows[i].wkey, t->rows[i - 1].wkey))
			continue;
		char *v = an_verdict(t, t->rows[i].wkey);
		printf("%s:\n%s", t->rows[i].workload, v);
		free(v);
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
		printf("note:   %s\n", pl.notes[i]);
	return rc;
}

int an_compare_main(const char **paths, int npaths, const char *baseline,
		    const struct an_opts *o)
{
	static struct an_set set;
	char err[1024];
	if (!npaths) {
		fprintf(stderr, "cowbench compare: no result documents given\n");
		return 2;
	}
	for (int i = 0; i < npaths; i++) {
		if (an_load_path(&set, paths[i], err, sizeof err)) {
			fprintf(stderr, "cowbench compare: %s\n", err);
			an_set_free(&set);
			return 2;
		}
	}
	int base = pick_baseline(&set, baseline, err, sizeof err);
	if (base < 0) {
		fprintf(stderr, "cowbench compare: %s\n", err);
		an_set_free(&set);
		return 2;
	}
	char why[1024];
	if (an_different_machines(&set, why, sizeof why))
		fprintf(stderr, "cowbench compare: warning: %s\n", why);
	if (mkdir_p(o->outdir)) {
		fprintf(stderr, "cowbench compare: cannot create %s: %s\n", o->outdir,
			strerror(errno));
		an_set_free(&set);
		return 1;
	}
	struct an_table t;
	an_table_build(&t, &set, base);
	printf("baseline: %s (%s)\n", set.r[base].label, set.r[base].path);
	for (int i = 0; i < an_nsections; i++)
		an_sections[i].write_md(stdout, &set);
	print_verdicts(&t);
	int rc = write_outputs(&t, o);
	an_table_free(&t);
	an_set_free(&set);
	return rc;
}
