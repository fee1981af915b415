/* The gnuplot pipe and the pieces every plot shares. */
#ifndef COWBENCH_AN_GNUPLOT_H
#define COWBENCH_AN_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis.h"
#include "load.h"

#define AN_GP_MAX_W 1600 /* a slide's width: no plot is wider */

/* The plots written, and notes on the ones that were not. */
struct an_plots {
	char names[16][64];
	char titles[16][256];
	int n;
	char notes[8][256];
	int nnotes;
};
void an_plots_add(struct an_plots *pl, const char *name, const char *title);
void an_plots_note(struct an_plots *pl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One plot: the data blocks go straight to the pipe, the drawing commands
 * are collected in `b` and sent once per output format. */
struct an_gp {
	FILE *pipe;
	char *body;
	size_t bodylen;
	FILE *b;
};
int an_gp_open(struct an_gp *g, const struct an_opts *o);
/* Renders the body to OUTDIR/NAME.png and .svg at w x h pixels (w at most
 * AN_GP_MAX_W); 0 if gnuplot exited cleanly and both files are non-empty. */
int an_gp_close(struct an_gp *g, const struct an_opts *o, const char *name, int w, int h);
void an_say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes `prefix 'quoted' suffix`. */
void an_say_q(FILE *f, const char *prefix, const char *text, const char *suffix);
/* Quotes s as a gnuplot single-quoted string literal: '' for ', control
 * characters dropped to spaces. Returns a malloc'd string. */
char *an_gp_quote(const char *s);

/* A width between 800 px and AN_GP_MAX_W. */
int an_gp_width(int w);
const char *an_era_colour(const char *era);
unsigned long an_gp_rgb(const char *hex);
/* Where the words of every plot are defined. */
void an_gp_footer(FILE *f);
/* A legend entry without data: a filled box of one colour. */
void an_gp_key_box(FILE *f, const char *colour, const char *title, bool first);
/* One legend box per era among the view's kernels. */
void an_gp_era_keys(FILE *f, const struct an_view *v);

#endif
