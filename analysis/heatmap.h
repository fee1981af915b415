/* The policy fingerprint heat map (plot 4). */
#ifndef COWBENCH_AN_HEATMAP_H
#define COWBENCH_AN_HEATMAP_H

#include "gnuplot.h"

int an_plot_heatmap(const struct an_view *v, const struct an_opts *o, struct an_plots *pl);

#endif
