/* Grouped bar charts: one group per question row, one bar per kernel in the
 * view's order (a gap between eras), stacked parts or era colours, error
 * bars, and a "0" over a measured zero. */
#include <math.h>
#include <string.h>

#include "chart.h"

bool an_time_ok(const struct an_table *t, const struct an_opts *o, int r)
{
	return !t->set->r[r].emulated || o->emulated_times;
}

/* Lays out one group: bars in view order, a gap between eras. */
/* A group is at least as wide as its label (about 0.3 bar widths per
 * character at the label's font): centre the bars in that width, so that
 * neighbouring labels do not overlap. */
static void widen(struct an_chart *c, int first, const char *top, const char *bottom)
{
	double need = 0.3 * (double)(strlen(top) > strlen(bottom) ? strlen(top) : strlen(bottom));
	double span = c->bars[c->nb - 1].x - c->bars[first].x + 1;
	if (span >= need)
		return;
	double pad = (need - span) / 2;
	for (int i = first; i < c->nb; i++)
		c->bars[i].x += pad;
	c->x += 2 * pad;
}

void an_chart_group(struct an_chart *c, const struct an_table *t, const struct an_view *v,
			const void *row, an_bar_fn fn, const char *top, const char *bottom)
{
	int first = c->nb;
	const char *era = NULL;
	for (int k = 0; k < v->nk && c->nb < AN_MAX_BARS; k++) {
		struct an_bar b = { .lo = NAN, .hi = NAN, .result = v->order[k] };
		if (!fn(t, row, b.result, &b))
			continue;
		const char *e = an_era_of(&t->set->r[b.result]);
		if (era && strcmp(era, e))
			c->x += 0.35;
		era = e;
		b.x = c->x;
		c->x += 1;
		c->bars[c->nb++] = b;
	}
	bool any = false;
	for (int i = first; i < c->nb; i++)
		any |= c->bars[i].y != 0;
	if (c->skip_zero && !any)
		c->nb = first;
	if (c->nb == first || c->ng >= 128)
		return;
	widen(c, first, top, bottom);
	c->groups[c->ng++] = (struct an_group){ top, bottom,
					     (c->bars[first].x + c->bars[c->nb - 1].x) / 2 };
	c->x += 1.2;
}

void an_chart_data(struct an_gp *g, const struct an_table *t, const struct an_chart *c, int id)
{
	an_say(g->pipe, "$bars%d << EOD\n", id);
	for (int i = 0; i < c->nb; i++) {
		const struct an_bar *b = &c->bars[i];
		double bottom = 0;
		for (int s = 0; s < c->nseg; s++) {
			double h = c->nseg > 1 ? b->seg[s] : b->y;
			unsigned long col = c->nseg > 1
				? an_gp_rgb(c->seg_colour[s])
				: an_gp_rgb(an_era_colour(an_era_of(&t->set->r[b->result])));
			an_say(g->pipe, "%.6g %.9g %.9g %lu\n", b->x, bottom, bottom + h, col);
			bottom += h;
		}
	}
	an_say(g->pipe, "EOD\n$err%d << EOD\n", id);
	for (int i = 0; i < c->nb; i++) {
		const struct an_bar *b = &c->bars[i];
		if (!isnan(b->lo) && b->hi > b->lo)
			an_say(g->pipe, "%.6g %.9g %.9g %.9g\n", b->x, b->y, b->lo, b->hi);
	}
	/* A measured 0 is a result: say it, or it looks like a missing bar. */
	an_say(g->pipe, "EOD\n$zero%d << EOD\n", id);
	for (int i = 0; i < c->nb; i++)
		if (c->bars[i].y == 0)
			an_say(g->pipe, "%.6g 0\n", c->bars[i].x);
	an_say(g->pipe, "EOD\n");
}

void an_chart_axes(FILE *f, const struct an_table *t, const struct an_chart *c)
{
	an_say(f, "set xtics nomirror rotate by 90 right font ',8' (");
	for (int i = 0; i < c->nb; i++) {
		char name[32];
		an_short_name(&t->set->r[c->bars[i].result], name, sizeof name, 12);
		an_say_q(f, i ? ", " : "", name, "");
		an_say(f, " %.6g", c->bars[i].x);
	}
	an_say(f, ")\nset x2tics nomirror font ',8' (");
	for (int i = 0; i < c->ng; i++) {
		/* "workload params": the params on a line of their own, so that
		 * the labels of neighbouring groups do not run into each other. */
		const char *top = c->groups[i].top, *sp = strchr(top, ' ');
		char first[128];
		snprintf(first, sizeof first, "%.*s", sp ? (int)(sp - top) : (int)strlen(top), top);
		an_say_q(f, i ? ", " : "", first, ".\"\\n\".");
		if (sp)
			an_say_q(f, "", sp + 1, ".\"\\n\".");
		an_say_q(f, "", c->groups[i].bottom, "");
		an_say(f, " %.6g", c->groups[i].centre);
	}
	double lo = c->bars[0].x - 0.9, hi = c->bars[c->nb - 1].x + 0.9;
	for (int i = 0; i < c->ng; i++) { /* room for the outer groups' labels */
		size_t n = strlen(c->groups[i].top) > strlen(c->groups[i].bottom)
				   ? strlen(c->groups[i].top) : strlen(c->groups[i].bottom);
		lo = fmin(lo, c->groups[i].centre - 0.15 * (double)n);
		hi = fmax(hi, c->groups[i].centre + 0.15 * (double)n);
	}
	hi = fmax(hi, lo + 30); /* a few bars stay bar-wide, not slabs */
	an_say(f, ")\nset xrange [%.6g:%.6g]\nset x2range [%.6g:%.6g]\n", lo, hi, lo, hi);
	an_say(f, "set grid ytics\nset key outside right top vertical font ',9'\n"
	       "set tmargin 7\nset bmargin 8\nset rmargin 24\nset title offset 0,1\n");
}

static double chart_top(const struct an_chart *c)
{
	double top = 0;
	for (int i = 0; i < c->nb; i++)
		top = fmax(top, isnan(c->bars[i].hi) ? c->bars[i].y : c->bars[i].hi);
	return top;
}

/* One panel: the bars, the error bars, the legend. */
/* Whether any bar has a part s: the legend lists only those. */
static bool seg_used(const struct an_chart *c, int s)
{
	for (int i = 0; i < c->nb; i++)
		if (c->bars[i].seg[s] > 0)
			return true;
	return false;
}

void an_chart_plot(FILE *f, const struct an_chart *c, const struct an_view *v, bool logy,
		       const char *err_title, int id)
{
	double top = chart_top(c);
	if (logy)
		an_say(f, "set logscale y\nset yrange [*:*]\n");
	else
		an_say(f, top > 0 ? "set yrange [0:%.9g]\n" : "set yrange [0:1]\n", top * 1.08);
	an_say(f, "plot $bars%d using 1:(($2+$3)/2):(0.4):(($3-$2)/2):4 with boxxyerror "
	       "fs solid 0.8 lc rgb variable notitle", id);
	bool any_err = false, any_zero = false;
	for (int i = 0; i < c->nb; i++) {
		any_err |= !isnan(c->bars[i].lo) && c->bars[i].hi > c->bars[i].lo;
		any_zero |= c->bars[i].y == 0;
	}
	if (any_zero && !logy)
		an_say(f, ", $zero%d using 1:2:('0') with labels offset 0,0.6 font ',8' notitle", id);
	if (any_err) {
		an_say(f, ", $err%d using 1:3:(0):($4-$3) with vectors nohead lc rgb '#000000' "
		       "lw 1.5 title ", id);
		an_say_q(f, "", err_title, "");
	}
	an_say(f, ", ");
	if (c->nseg > 1) {
		int shown = 0;
		for (int s = 0; s < c->nseg; s++)
			if (seg_used(c, s))
				an_gp_key_box(f, c->seg_colour[s], c->seg_title[s], !shown++);
		if (!shown)
			an_say(f, "NaN notitle");
	} else {
		an_say(f, "NaN notitle");
		an_gp_era_keys(f, v);
	}
	an_say(f, "\n");
}

int an_chart_width(const struct an_chart *c)
{
	return an_gp_width(260 + (int)(c->x * 21));
}
