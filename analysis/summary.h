/* The summary: one row per workload phase where the kernels' copy/reuse
 * decisions differ, one column per kernel (baseline first, grouped by era),
 * cells "copies (extra)"; and the verdict sentences, written from the same
 * cells so that they cannot say otherwise. */
#ifndef COWBENCH_AN_SUMMARY_H
#define COWBENCH_AN_SUMMARY_H

#include <stdio.h>

#include "model.h"

#define AN_SUMMARY_MAX 64

struct an_srow {
	const char *wkey, *workload, *phase;
	const struct an_row *copies; /* pages copied on write */
	const struct an_row *extra;  /* of them, copies the writer did not need; may be NULL */
	const struct an_row *leftovers; /* old pages of copies left in the swap cache; may be NULL */
	const char *stand_in;        /* workload metric standing in for both; NULL if none */
	const char *denom_metric;    /* "written", "pages" or "ops"; NULL if none */
	double denom;                /* its median if the same on every kernel, else NAN */
};

struct an_summary {
	const struct an_table *t;
	struct an_view v; /* the columns */
	struct an_srow rows[AN_SUMMARY_MAX];
	int n;
	const char *same[64]; /* workloads whose copies agree in every phase */
	int nsame;
};

void an_summary_build(struct an_summary *S, const struct an_table *t);
/* "copies (extra)" plus the significance mark; "-" when not measured. */
void an_summary_cell(const struct an_srow *r, int result, char *buf, size_t len);
/* One sentence per row: "NAMES copy N; NAMES copy M (of D written pages)." */
char *an_summary_verdict(const struct an_summary *S, const struct an_srow *r);
/* A kernel as the verdicts name it: "6.1.0 (exclusive)". */
void an_summary_kernel(const struct an_summary *S, int result, char *buf, size_t len);
void an_summary_md(FILE *f, const struct an_summary *S);
void an_summary_text(FILE *f, const struct an_summary *S, int width);

#endif
