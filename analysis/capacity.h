/* Capacity planning: per kernel, the memory and swap I/O the COW policy
 * costs per GiB of working set written under reclaim (reclaim-pressure). */
#ifndef COWBENCH_AN_CAPACITY_H
#define COWBENCH_AN_CAPACITY_H

#include <stdio.h>

#include "load.h"

#define AN_CAP_SIZES 16

struct an_cap_point {
	double gib;                    /* working-set size */
	double extra, lo, hi;          /* extra memory, MiB per GiB: median, min, max */
	double swapio;                 /* extra swap I/O, MiB per GiB: median */
};

struct an_cap_row {
	int result;
	int n;
	struct an_cap_point pts[AN_CAP_SIZES]; /* by size */
	double slope;                  /* MiB of extra memory per GiB; NAN below 3 sizes */
};

/* One row per kernel (view order) that ran reclaim-pressure; returns the count. */
int an_capacity(const struct an_view *v, struct an_cap_row *rows);
void an_write_capacity_md(FILE *f, const struct an_view *v);
void an_write_capacity_text(FILE *f, const struct an_view *v, int width);

#endif
