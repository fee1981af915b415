/* Plots through a gnuplot pipe: PNG and SVG files NAME.png/NAME.svg. */
#ifndef COWBENCH_AN_PLOT_H
#define COWBENCH_AN_PLOT_H

#include "analysis.h"
#include "model.h"

struct an_plots {
	char names[16][64];
	char titles[16][256];
	int n;
	char notes[8][256];
	int nnotes;
};
/* Quotes s as a gnuplot single-quoted string literal: '' for ', control
 * characters dropped to spaces. Returns a malloc'd string. */
char *an_gp_quote(const char *s);
int an_plot_all(const struct an_table *t, const struct an_opts *o, struct an_plots *out);

#endif
