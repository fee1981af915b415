/* `cowbench compare`: what the command line hands the analysis. The
 * analysis reads result documents (never re-measures), compares them across
 * kernels and writes a summary, a report, tables and plots. */
#ifndef COWBENCH_ANALYSIS_H
#define COWBENCH_ANALYSIS_H

#include <stdbool.h>

struct an_opts {
	const char *outdir;
	bool md, csv, json;
	bool emulated_times;
	bool plots;
	const char *gnuplot; /* command; default "gnuplot" */
	const char *const *fail_on; /* --fail-on rules, "METRIC>N" or "METRIC>+N%" */
	int nfail_on;
	bool capacity;       /* print the capacity table on the terminal too */
};

/* The whole subcommand; returns the exit status: 0, 1 when an output
 * failed or a --fail-on rule found a regression, 2 on bad input (a
 * document, the baseline or a malformed rule). */
int an_compare_main(const char **paths, int npaths, const char *baseline,
		    const struct an_opts *o);

#endif
