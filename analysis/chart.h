/* Grouped bar charts: one group per question row (a workload phase, a seed
 * race), one bar per kernel in the view's order. */
#ifndef COWBENCH_AN_CHART_H
#define COWBENCH_AN_CHART_H

#include "gnuplot.h"
#include "model.h"

#define AN_MAX_BARS 1024
#define AN_MAX_SEGS 8

struct an_bar {
	double x;
	int result;
	double y, lo, hi;                /* lo/hi: error bar; NAN for none */
	double seg[AN_MAX_SEGS];         /* stacked parts (sum = y) when nseg > 1 */
};

struct an_group {
	const char *top, *bottom; /* two-line group label */
	double centre;
};

struct an_chart {
	struct an_bar bars[AN_MAX_BARS];
	int nb;
	struct an_group groups[128];
	int ng;
	double x;                 /* next bar position */
	int nseg;                 /* stacked parts per bar (1: coloured by era) */
	const char *seg_title[AN_MAX_SEGS];
	const char *seg_colour[AN_MAX_SEGS];
	bool skip_zero;           /* leave out groups where every bar is 0 */
};

/* Values of one kernel for one group; false: no bar. */
typedef bool (*an_bar_fn)(const struct an_table *t, const void *row, int result, struct an_bar *b);

/* Whether a kernel's times may be drawn: native, or --emulated-times. */
bool an_time_ok(const struct an_table *t, const struct an_opts *o, int r);
/* Lays out one group: bars in view order, a gap between eras; a group
 * without a bar (or, with skip_zero, with only zeros) is left out. */
void an_chart_group(struct an_chart *c, const struct an_table *t, const struct an_view *v,
		    const void *row, an_bar_fn fn, const char *top, const char *bottom);
/* The data blocks $barsID, $errID, $zeroID. */
void an_chart_data(struct an_gp *g, const struct an_table *t, const struct an_chart *c, int id);
/* Kernel names under the bars, group names over them. */
void an_chart_axes(FILE *f, const struct an_table *t, const struct an_chart *c);
void an_chart_plot(FILE *f, const struct an_chart *c, const struct an_view *v, bool logy,
		   const char *err_title, int id);
int an_chart_width(const struct an_chart *c);

#endif
