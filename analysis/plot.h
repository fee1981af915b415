/* The plots of `cowbench compare` (PNG and SVG through gnuplot). */
#ifndef COWBENCH_AN_PLOT_H
#define COWBENCH_AN_PLOT_H

#include "analysis.h"
#include "gnuplot.h"
#include "model.h"

int an_plot_all(const struct an_table *t, const struct an_opts *o, struct an_plots *out);

#endif
