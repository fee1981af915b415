/* The seed scenarios' table (repro:* workloads). */
#ifndef COWBENCH_AN_REPRO_H
#define COWBENCH_AN_REPRO_H

#include <stdio.h>

#include "load.h"

#define AN_REPRO_MAX 64

struct an_repro_row {
	char name[160]; /* "repro:fork-odirect / fork-write" */
};

/* One scenario on one kernel, summed over repetitions. */
struct an_tally {
	double iterations, in_flight, lost, lost_in_flight, copies;
	bool any;         /* some repetition ran it */
	const char *skip; /* the reason, when one was skipped */
};

/* The scenarios (workload / phase) over all results; returns the count
 * (rows holds AN_REPRO_MAX). */
int an_repro_rows(const struct an_set *s, struct an_repro_row *rows);
void an_repro_tally(const struct an_result *res, const char *row, struct an_tally *t);
/* "scenario x kernel -> lost / coherent / copies"; nothing without repro:*. */
void an_write_repro_md(FILE *f, const struct an_view *v);

#endif
