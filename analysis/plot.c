/* The plots of `cowbench compare`, each answering one question and at
 * most a slide wide: (1) extra copies per 1000 writes, (2) their memory
 * cost per GiB written, (3) seed-race losses, (4) the fingerprint heat map,
 * (5) times of native runs, (6) size sweeps. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "heatmap.h"
#include "plot.h"
#include "repro.h"
#include "summary.h"
#include "sweep.h"

/* ---- (a) extra copies per 1000 writes ---- */

/* Per repetition: 1000 * extra / writes. */
static bool per_kwrite(const struct an_table *t, const void *row, int r, struct an_bar *b)
{
	const struct an_srow *s = row;
	static double e[AN_MAX_REPS], d[AN_MAX_REPS];
	double v[AN_MAX_REPS];
	if (!s->extra || !s->denom_metric)
		return false;
	int n = an_samples(t->set, r, s->wkey, s->phase, s->extra->metric, e, AN_MAX_REPS);
	an_samples(t->set, r, s->wkey, s->phase, s->denom_metric, d, AN_MAX_REPS);
	int m = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(e[i]) && d[i] > 0)
			v[m++] = 1000 * e[i] / d[i];
	if (!m)
		return false;
	b->y = an_median(v, m);
	b->lo = b->hi = v[0];
	for (int i = 1; i < m; i++) {
		b->lo = fmin(b->lo, v[i]);
		b->hi = fmax(b->hi, v[i]);
	}
	return true;
}

static int plot_extra(const struct an_summary *S, const struct an_opts *o, struct an_plots *pl)
{
	static struct an_chart c;
	memset(&c, 0, sizeof c);
	c.nseg = 1;
	for (int i = 0; i < S->n; i++)
		if (an_row_differs(S->rows[i].extra))
			an_chart_group(&c, S->t, &S->v, &S->rows[i], per_kwrite, S->rows[i].workload,
				    S->rows[i].phase);
	if (!c.nb) {
		an_plots_note(pl, "extra copies: no phase where the kernels' extra copies differ");
		return 0;
	}
	struct an_gp g;
	if (an_gp_open(&g, o))
		return -1;
	an_chart_data(&g, S->t, &c, 0);
	/* Two lines: one would run off a chart of few groups. */
	an_say(g.b, "set title \"Extra COW copies per 1000 writes, where kernels differ\\n(copies "
		 "of pages the writer mapped alone; bars: median, whiskers: min-max)\"\n"
		 "set ylabel 'extra copies per 1000 writes'\n");
	an_chart_axes(g.b, S->t, &c);
	an_gp_footer(g.b);
	an_chart_plot(g.b, &c, &S->v, false, "min-max over repetitions", 0);
	if (an_gp_close(&g, o, "1-extra-copies", an_chart_width(&c), 640)) {
		an_plots_note(pl, "gnuplot failed on plot 1-extra-copies");
		return -1;
	}
	an_plots_add(pl, "1-extra-copies", "Where do the kernels copy pages they could reuse? Extra "
	     "copies per 1000 writes");
	return 0;
}

/* ---- (b) memory cost per GiB written ---- */

static const char *const causes[] = { "swapcache", "ksm", "lru_batch", "pinned", "thp",
				      "other" };
static const char *const cause_colours[] = { "#e41a1c", "#377eb8", "#4daf4a", "#984ea3",
					     "#ff7f00", "#999999" };
#define NCAUSES 6

/* The median of one metric divided by the phase's writes, in MiB per GiB
 * (pages per page, times 1024). */
static double per_gib(const struct an_table *t, const struct an_srow *s, const char *metric,
		      int r)
{
	const struct an_cell *m = an_find_cell(an_find_row(t, s->wkey, s->phase, metric), r);
	const struct an_cell *d = s->denom_metric
		? an_find_cell(an_find_row(t, s->wkey, s->phase, s->denom_metric), r) : NULL;
	if (!m || !d || d->st.median <= 0)
		return NAN;
	return 1024 * m->st.median / d->st.median;
}

static bool has_causes(const struct an_table *t, const struct an_srow *s)
{
	for (int i = 0; i < NCAUSES; i++) {
		char key[64];
		snprintf(key, sizeof key, "extra_by_cause.%s", causes[i]);
		if (an_find_row(t, s->wkey, s->phase, key))
			return true;
	}
	return false;
}

static bool extra_mem(const struct an_table *t, const void *row, int r, struct an_bar *b)
{
	const struct an_srow *s = row;
	if (!s->extra)
		return false;
	b->y = per_gib(t, s, s->extra->metric, r);
	for (int i = 0; i < NCAUSES; i++) {
		char key[64];
		snprintf(key, sizeof key, "extra_by_cause.%s", causes[i]);
		double v = per_gib(t, s, key, r);
		b->seg[i] = isnan(v) ? 0 : v;
	}
	return !isnan(b->y);
}

static bool leftover_mem(const struct an_table *t, const void *row, int r, struct an_bar *b)
{
	const struct an_srow *s = row;
	if (!s->leftovers)
		return false;
	b->y = per_gib(t, s, s->leftovers->metric, r);
	return !isnan(b->y);
}

static bool any_positive(const struct an_chart *c)
{
	for (int i = 0; i < c->nb; i++)
		if (c->bars[i].y > 0)
			return true;
	return false;
}

static void memory_panel(struct an_gp *g, const struct an_summary *S, struct an_chart *c, int id,
			 const char *title, const char *ylabel)
{
	/* Each panel has its own data blocks: rename them per panel. */
	an_chart_data(g, S->t, c, id);
	an_say_q(g->b, "set title ", title, "\n");
	an_say_q(g->b, "set ylabel ", ylabel, "\n");
	an_chart_axes(g->b, S->t, c);
	an_chart_plot(g->b, c, &S->v, false, "", id);
}

static int plot_memory(const struct an_summary *S, const struct an_opts *o, struct an_plots *pl)
{
	static struct an_chart ex, left;
	memset(&ex, 0, sizeof ex);
	memset(&left, 0, sizeof left);
	bool causes_known = false;
	for (int i = 0; i < S->n; i++)
		causes_known |= has_causes(S->t, &S->rows[i]);
	ex.nseg = causes_known ? NCAUSES : 1;
	for (int i = 0; i < NCAUSES; i++) {
		ex.seg_title[i] = causes[i];
		ex.seg_colour[i] = cause_colours[i];
	}
	left.nseg = 1;
	left.skip_zero = ex.skip_zero = true;
	for (int i = 0; i < S->n; i++) {
		const struct an_srow *r = &S->rows[i];
		an_chart_group(&ex, S->t, &S->v, r, extra_mem, r->workload, r->phase);
		an_chart_group(&left, S->t, &S->v, r, leftover_mem, r->workload, r->phase);
	}
	bool has_ex = any_positive(&ex), has_left = any_positive(&left);
	if (!has_ex && !has_left) {
		an_plots_note(pl, "memory: no extra copies or swap-cache leftovers in any differing phase");
		return 0;
	}
	struct an_gp g;
	if (an_gp_open(&g, o))
		return -1;
	if (has_ex && has_left)
		an_say(g.b, "set multiplot layout 2,1\n");
	an_gp_footer(g.b);
	if (has_ex)
		memory_panel(&g, S, &ex, 0, causes_known
			? "Memory held twice by extra copies, per GiB written, by cause"
			: "Memory held twice by extra copies, per GiB written (no cause breakdown "
			  "in these documents)", "MiB per GiB written");
	if (has_left)
		memory_panel(&g, S, &left, 1, "Swap-cache leftovers: old pages of copies still in "
			     "the swap cache, per GiB written", "MiB per GiB written");
	if (has_ex && has_left)
		an_say(g.b, "unset multiplot\n");
	int w = an_chart_width(has_ex ? &ex : &left);
	if (an_gp_close(&g, o, "2-memory", w, has_ex && has_left ? 1200 : 640)) {
		an_plots_note(pl, "gnuplot failed on plot 2-memory");
		return -1;
	}
	an_plots_add(pl, "2-memory", "What do the extra copies cost? Memory and swap-cache leftovers "
	     "per GiB written");
	return 0;
}

/* ---- (c) seed races ---- */

struct race {
	const char *name;
	char top[96], bottom[96];
};

static bool race_lost(const struct an_table *t, const void *row, int r, struct an_bar *b)
{
	const struct race *x = row;
	struct an_tally tl;
	an_repro_tally(&t->set->r[r], x->name, &tl);
	if (!tl.any || tl.in_flight <= 0)
		return false;
	b->y = 100 * tl.lost_in_flight / tl.in_flight;
	return true;
}

static int plot_races(const struct an_summary *S, const struct an_opts *o, struct an_plots *pl)
{
	static struct an_repro_row rows[AN_REPRO_MAX];
	static struct race races[AN_REPRO_MAX];
	static struct an_chart c;
	memset(&c, 0, sizeof c);
	c.nseg = 1;
	int n = an_repro_rows(S->t->set, rows);
	for (int i = 0; i < n; i++) {
		races[i].name = rows[i].name;
		const char *sep = strstr(rows[i].name, " / ");
		snprintf(races[i].top, sizeof races[i].top, "%.*s",
			 sep ? (int)(sep - rows[i].name) : 95, rows[i].name);
		snprintf(races[i].bottom, sizeof races[i].bottom, "%s", sep ? sep + 3 : "");
		an_chart_group(&c, S->t, &S->v, &races[i], race_lost, races[i].top, races[i].bottom);
	}
	if (!c.nb) {
		an_plots_note(pl, "seed races: no repro:* result with a race in flight (cowbench repro)");
		return 0;
	}
	struct an_gp g;
	if (an_gp_open(&g, o))
		return -1;
	an_chart_data(&g, S->t, &c, 0);
	an_say(g.b, "set title 'Seed races: share of the in-flight iterations whose data was lost "
		 "(repro:*, docs/scenarios.md)'\nset ylabel 'lost, %% of in-flight iterations'\n");
	an_chart_axes(g.b, S->t, &c);
	an_gp_footer(g.b);
	an_say(g.b, "set yrange [0:105]\n");
	an_chart_plot(g.b, &c, &S->v, false, "", 0);
	if (an_gp_close(&g, o, "3-seed-races", an_chart_width(&c), 640)) {
		an_plots_note(pl, "gnuplot failed on plot 3-seed-races");
		return -1;
	}
	an_plots_add(pl, "3-seed-races", "Which kernels lose data in the seed races? Lost share of "
	     "in-flight iterations");
	return 0;
}

/* ---- (e) times of native runs ---- */

struct timed {
	const struct an_row *row;
	const struct an_opts *o;
};

static bool time_bar(const struct an_table *t, const void *p, int r, struct an_bar *b)
{
	const struct timed *x = p;
	const struct an_cell *c = an_find_cell(x->row, r);
	if (!c || !an_time_ok(t, x->o, r) || isnan(c->st.center))
		return false;
	b->y = c->st.center / 1e3;
	b->lo = isnan(c->st.lo) ? b->y : fmax(c->st.lo / 1e3, b->y * 1e-3);
	b->hi = isnan(c->st.hi) ? b->y : c->st.hi / 1e3;
	return true;
}

/* Phases whose time per operation differs (Welch p < 0.05) between the
 * timed kernels; all else is noise on a slide. */
static bool time_differs(const struct an_table *t, const struct an_row *row,
			 const struct an_opts *o)
{
	const struct an_cell *a = NULL;
	for (int c = 0; c < row->ncells; c++) {
		const struct an_cell *x = &row->cells[c];
		if (!an_time_ok(t, o, x->result))
			continue;
		if (!a) {
			a = x;
			continue;
		}
		double p = an_welch_p(x->v, x->n, a->v, a->n);
		if (!isnan(p) && p < 0.05)
			return true;
	}
	return false;
}

/* The spread of a time row's centres over the timed kernels (max/min). */
static double spread(const struct an_table *t, const struct an_row *row,
		     const struct an_opts *o)
{
	double lo = INFINITY, hi = 0;
	int n = 0;
	for (int c = 0; c < row->ncells; c++)
		if (an_time_ok(t, o, row->cells[c].result) && row->cells[c].st.center > 0) {
			lo = fmin(lo, row->cells[c].st.center);
			hi = fmax(hi, row->cells[c].st.center);
			n++;
		}
	return n > 1 ? hi / lo : 0;
}

/* A slide holds about this many bars: the phases with the largest spread. */
#define TIME_BARS 60

static int plot_times(const struct an_summary *S, const struct an_opts *o, struct an_plots *pl)
{
	const struct an_table *t = S->t;
	int native = 0;
	for (int r = 0; r < t->set->n; r++)
		native += an_time_ok(t, o, r);
	if (native < 2) {
		an_plots_note(pl, "times not plotted: %d native kernel%s (emulated TCG times say nothing "
			 "about the kernel; --emulated-times plots them anyway)", native,
		     native == 1 ? "" : "s");
		return 0;
	}
	static struct an_chart c;
	static struct timed rows[128];
	static double spreads[128];
	memset(&c, 0, sizeof c);
	c.nseg = 1;
	int n = 0;
	for (int i = 0; i < t->n && n < 128; i++)
		if (!strcmp(t->rows[i].metric, "ns_per_op") && time_differs(t, &t->rows[i], o)) {
			spreads[n] = spread(t, &t->rows[i], o);
			rows[n++] = (struct timed){ &t->rows[i], o };
		}
	/* Keep the widest spreads that fit, drawn in table order. */
	double cut = INFINITY;
	for (int bars = 0;;) {
		double next = 0;
		for (int i = 0; i < n; i++)
			if (spreads[i] < cut)
				next = fmax(next, spreads[i]);
		int more = 0;
		for (int i = 0; i < n; i++)
			if (spreads[i] == next)
				more += native;
		if (next <= 0 || bars + more > TIME_BARS)
			break;
		bars += more;
		cut = next;
	}
	int shown = 0;
	for (int i = 0; i < n; i++)
		if (spreads[i] >= cut && spreads[i] > 0) {
			an_chart_group(&c, t, &S->v, &rows[i], time_bar, rows[i].row->workload,
				    rows[i].row->phase);
			shown++;
		}
	if (!c.nb) {
		an_plots_note(pl, "times not plotted: no phase's time per operation differs between the "
			 "native kernels (Welch p < 0.05)");
		return 0;
	}
	if (shown < n)
		an_plots_note(pl, "time plot: the %d of %d differing phases with the largest spread between "
			 "kernels (all are in table.csv)", shown, n);
	double lo = INFINITY, hi = 0;
	for (int i = 0; i < c.nb; i++) {
		lo = fmin(lo, c.bars[i].y);
		hi = fmax(hi, c.bars[i].y);
	}
	bool logy = lo > 0 && hi / lo > 100;
	struct an_gp g;
	if (an_gp_open(&g, o))
		return -1;
	an_chart_data(&g, t, &c, 0);
	an_say(g.b, "set title \"Time per operation where native kernels differ\\nmean and 95%% "
		 "confidence interval over repetitions%s\"\n", logy ? " (log scale)" : "");
	an_say(g.b, "set ylabel 'time per operation (us)'\n");
	an_chart_axes(g.b, t, &c);
	an_gp_footer(g.b);
	an_chart_plot(g.b, &c, &S->v, logy, "95% confidence interval", 0);
	if (an_gp_close(&g, o, "5-time", an_chart_width(&c), 640)) {
		an_plots_note(pl, "gnuplot failed on plot 5-time");
		return -1;
	}
	an_plots_add(pl, "5-time", "Does the policy cost time? Time per operation, native runs only");
	return 0;
}

int an_plot_all(const struct an_table *t, const struct an_opts *o, struct an_plots *pl)
{
	/* A gnuplot that dies must not kill us with SIGPIPE. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	static struct an_summary S;
	an_summary_build(&S, t);
	int rc = 0;
	rc |= plot_extra(&S, o, pl);
	rc |= plot_memory(&S, o, pl);
	rc |= plot_races(&S, o, pl);
	rc |= an_plot_heatmap(&S.v, o, pl);
	rc |= plot_times(&S, o, pl);
	rc |= an_plot_sweeps(t, o, pl);
	signal(SIGPIPE, old);
	return rc ? -1 : 0;
}
