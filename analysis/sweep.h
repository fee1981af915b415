/* Size sweeps: cost against working-set size (plot 6). */
#ifndef COWBENCH_AN_SWEEP_H
#define COWBENCH_AN_SWEEP_H

#include "gnuplot.h"
#include "model.h"

int an_plot_sweeps(const struct an_table *t, const struct an_opts *o, struct an_plots *pl);

#endif
