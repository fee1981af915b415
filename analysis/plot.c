/* Plots through a gnuplot pipe. Data goes inline as numeric `$name << EOD`
 * blocks (no text from a result document ever enters a data block), every
 * label from a document is a single-quoted literal (an_gp_quote), and no
 * script file is written. Each plot is one gnuplot process that renders the
 * same commands to PNG and SVG. */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fingerprint.h"
#include "plot.h"
#include "repro.h"
#include "summary.h"
#include "text.h"

#define MIB (1024.0 * 1024.0)

char *an_gp_quote(const char *s)
{
	size_t n = 3;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 2 : 1;
	char *q = malloc(n), *o = q;
	*o++ = '\'';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\'') {
			*o++ = '\'';
			*o++ = '\'';
		} else {
			/* A newline would end the command: drop every control byte. */
			*o++ = (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p;
		}
	}
	*o++ = '\'';
	*o = 0;
	return q;
}

/* One plot: the data blocks go straight to the pipe, the drawing commands
 * are collected in `body` and sent once per output format. */
struct gp {
	FILE *pipe;
	char *body;
	size_t bodylen;
	FILE *b;
	int nblocks;
};

static void say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

/* Writes `prefix 'quoted' suffix`. */
static void say_q(FILE *f, const char *prefix, const char *text, const char *suffix)
{
	char *q = an_gp_quote(text);
	fprintf(f, "%s%s%s", prefix, q, suffix);
	free(q);
}

static int gp_open(struct gp *g, const struct an_opts *o)
{
	memset(g, 0, sizeof *g);
	g->pipe = popen(o->gnuplot ? o->gnuplot : "gnuplot", "w");
	if (!g->pipe)
		return -1;
	g->b = open_memstream(&g->body, &g->bodylen);
	return 0;
}

static void terminal(FILE *f, const char *kind, int w, int h)
{
	if (!strcmp(kind, "png"))
		say(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) "
		       "{ set terminal pngcairo noenhanced size %d,%d font 'sans,10' } "
		       "else { set terminal png noenhanced size %d,%d }\n", w, h, w, h);
	else
		say(f, "set terminal svg noenhanced size %d,%d font 'sans,10' background "
		       "'#ffffff'\n", w, h);
}

/* Renders the body to DIR/NAME.png and .svg; returns 0 if gnuplot exited
 * cleanly and both files are non-empty. */
static int gp_close(struct gp *g, const struct an_opts *o, const char *name, int w, int h)
{
	fclose(g->b);
	static const char *const kinds[] = { "png", "svg" };
	char path[2][4096];
	for (int k = 0; k < 2; k++) {
		snprintf(path[k], sizeof path[k], "%s/%s.%s", o->outdir, name, kinds[k]);
		terminal(g->pipe, kinds[k], w, h);
		say_q(g->pipe, "set output ", path[k], "\n");
		fwrite(g->body, 1, g->bodylen, g->pipe);
		say(g->pipe, "unset multiplot\nset output\nreset\n");
	}
	free(g->body);
	int st = pclose(g->pipe);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	for (int k = 0; k < 2; k++) {
		struct stat sb;
		if (stat(path[k], &sb) || sb.st_size == 0)
			return -1;
	}
	return 0;
}

/* ---- shared pieces ---- */

#define MAX_W 1600 /* a slide's width: no plot is wider */
#define MAX_BARS 1024
#define MAX_SEGS 8

static int clamp_w(int w)
{
	return w < 800 ? 800 : w > MAX_W ? MAX_W : w;
}

static void note(struct an_plots *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct an_plots *pl, const char *fmt, ...)
{
	if (pl->nnotes >= 8)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pl->notes[pl->nnotes++], sizeof pl->notes[0], fmt, ap);
	va_end(ap);
}

static void add_plot(struct an_plots *pl, const char *name, const char *title)
{
	snprintf(pl->names[pl->n], sizeof pl->names[0], "%s", name);
	snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "%s", title);
}

static bool time_ok(const struct an_table *t, const struct an_opts *o, int r)
{
	return !t->set->r[r].emulated || o->emulated_times;
}

static const char *era_colour(const char *era)
{
	if (!strcmp(era, "mapcount"))
		return "#7570b3";
	if (!strcmp(era, "page_count"))
		return "#d95f02";
	if (!strcmp(era, "exclusive"))
		return "#1b9e77";
	return "#999999";
}

static unsigned long rgb(const char *hex)
{
	return strtoul(hex + 1, NULL, 16);
}

/* Where the words of every plot are defined. */
static void footer(FILE *f)
{
	say(f, "set label 99 'metrics: docs/metrics.md    scenarios: docs/scenarios.md' "
	       "at screen 0.005, screen 0.012 left font ',8' tc rgb '#555555'\n");
}

/* A legend entry without data: a filled box of one colour. */
static void key_box(FILE *f, const char *colour, const char *title, bool first)
{
	say(f, "%sNaN with boxes fs solid 0.8 lc rgb '%s' title ", first ? "" : ", ", colour);
	say_q(f, "", title, "");
}

static void era_keys(FILE *f, const struct an_view *v)
{
	const char *seen[8];
	int n = 0;
	for (int k = 0; k < v->nk; k++) {
		const char *era = an_era_of(&v->s->r[v->order[k]]);
		bool dup = false;
		for (int i = 0; i < n && !dup; i++)
			dup = !strcmp(seen[i], era);
		if (dup || n >= 8)
			continue;
		seen[n++] = era;
		char title[64];
		snprintf(title, sizeof title, "%s era", era);
		key_box(f, era_colour(era), title, false);
	}
}

/* ---- grouped bars: one group per question row, one bar per kernel ---- */

struct bar {
	double x;
	int result;
	double y, lo, hi;                /* lo/hi: error bar; NAN for none */
	double seg[MAX_SEGS];            /* stacked parts (sum = y) when nseg > 1 */
};

struct group {
	const char *top, *bottom; /* two-line group label */
	double centre;
};

struct chart {
	struct bar bars[MAX_BARS];
	int nb;
	struct group groups[128];
	int ng;
	double x;                 /* next bar position */
	int nseg;                 /* stacked parts per bar (1: coloured by era) */
	const char *seg_title[MAX_SEGS];
	const char *seg_colour[MAX_SEGS];
	bool skip_zero;           /* leave out groups where every bar is 0 */
};

/* Values of one kernel for one group; false: no bar. */
typedef bool (*bar_fn)(const struct an_table *t, const void *row, int result, struct bar *b);

/* Lays out one group: bars in view order, a gap between eras. */
static void chart_group(struct chart *c, const struct an_table *t, const struct an_view *v,
			const void *row, bar_fn fn, const char *top, const char *bottom)
{
	int first = c->nb;
	const char *era = NULL;
	for (int k = 0; k < v->nk && c->nb < MAX_BARS; k++) {
		struct bar b = { .lo = NAN, .hi = NAN, .result = v->order[k] };
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
	c->groups[c->ng++] = (struct group){ top, bottom,
					     (c->bars[first].x + c->bars[c->nb - 1].x) / 2 };
	c->x += 1.2;
}

static void chart_data(struct gp *g, const struct an_table *t, const struct chart *c, int id)
{
	say(g->pipe, "$bars%d << EOD\n", id);
	for (int i = 0; i < c->nb; i++) {
		const struct bar *b = &c->bars[i];
		double bottom = 0;
		for (int s = 0; s < c->nseg; s++) {
			double h = c->nseg > 1 ? b->seg[s] : b->y;
			unsigned long col = c->nseg > 1
				? rgb(c->seg_colour[s])
				: rgb(era_colour(an_era_of(&t->set->r[b->result])));
			say(g->pipe, "%.6g %.9g %.9g %lu\n", b->x, bottom, bottom + h, col);
			bottom += h;
		}
	}
	say(g->pipe, "EOD\n$err%d << EOD\n", id);
	for (int i = 0; i < c->nb; i++) {
		const struct bar *b = &c->bars[i];
		if (!isnan(b->lo) && b->hi > b->lo)
			say(g->pipe, "%.6g %.9g %.9g %.9g\n", b->x, b->y, b->lo, b->hi);
	}
	/* A measured 0 is a result: say it, or it looks like a missing bar. */
	say(g->pipe, "EOD\n$zero%d << EOD\n", id);
	for (int i = 0; i < c->nb; i++)
		if (c->bars[i].y == 0)
			say(g->pipe, "%.6g 0\n", c->bars[i].x);
	say(g->pipe, "EOD\n");
}

static void chart_axes(FILE *f, const struct an_table *t, const struct chart *c)
{
	say(f, "set xtics nomirror rotate by 90 right font ',8' (");
	for (int i = 0; i < c->nb; i++) {
		char name[32];
		an_short_name(&t->set->r[c->bars[i].result], name, sizeof name, 12);
		say_q(f, i ? ", " : "", name, "");
		say(f, " %.6g", c->bars[i].x);
	}
	say(f, ")\nset x2tics nomirror font ',8' (");
	for (int i = 0; i < c->ng; i++) {
		say_q(f, i ? ", " : "", c->groups[i].top, ".\"\\n\".");
		say_q(f, "", c->groups[i].bottom, "");
		say(f, " %.6g", c->groups[i].centre);
	}
	double lo = c->bars[0].x - 0.9, hi = c->bars[c->nb - 1].x + 0.9;
	hi = fmax(hi, lo + 24); /* a few bars stay bar-wide, not slabs */
	say(f, ")\nset xrange [%.6g:%.6g]\nset x2range [%.6g:%.6g]\n", lo, hi, lo, hi);
	say(f, "set grid ytics\nset key outside right top vertical font ',9'\n"
	       "set tmargin 6\nset bmargin 8\nset rmargin 24\nset title offset 0,1\n");
}

static double chart_top(const struct chart *c)
{
	double top = 0;
	for (int i = 0; i < c->nb; i++)
		top = fmax(top, isnan(c->bars[i].hi) ? c->bars[i].y : c->bars[i].hi);
	return top;
}

/* One panel: the bars, the error bars, the legend. */
static void chart_plot(FILE *f, const struct chart *c, const struct an_view *v, bool logy,
		       const char *err_title, int id)
{
	double top = chart_top(c);
	if (logy)
		say(f, "set logscale y\nset yrange [*:*]\n");
	else
		say(f, top > 0 ? "set yrange [0:%.9g]\n" : "set yrange [0:1]\n", top * 1.08);
	say(f, "plot $bars%d using 1:(($2+$3)/2):(0.4):(($3-$2)/2):4 with boxxyerror "
	       "fs solid 0.8 lc rgb variable notitle", id);
	bool any_err = false, any_zero = false;
	for (int i = 0; i < c->nb; i++) {
		any_err |= !isnan(c->bars[i].lo) && c->bars[i].hi > c->bars[i].lo;
		any_zero |= c->bars[i].y == 0;
	}
	if (any_zero && !logy)
		say(f, ", $zero%d using 1:2:('0') with labels offset 0,0.6 font ',8' notitle", id);
	if (any_err) {
		say(f, ", $err%d using 1:3:(0):($4-$3) with vectors nohead lc rgb '#000000' "
		       "lw 1.5 title ", id);
		say_q(f, "", err_title, "");
	}
	say(f, ", ");
	if (c->nseg > 1)
		for (int s = 0; s < c->nseg; s++)
			key_box(f, c->seg_colour[s], c->seg_title[s], s == 0);
	else {
		say(f, "NaN notitle");
		era_keys(f, v);
	}
	say(f, "\n");
}

static int chart_width(const struct chart *c)
{
	return clamp_w(260 + (int)(c->x * 21));
}

/* ---- (a) extra copies per 1000 writes ---- */

/* Per repetition: 1000 * extra / writes. */
static bool per_kwrite(const struct an_table *t, const void *row, int r, struct bar *b)
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
	static struct chart c;
	memset(&c, 0, sizeof c);
	c.nseg = 1;
	for (int i = 0; i < S->n; i++)
		if (an_row_differs(S->rows[i].extra))
			chart_group(&c, S->t, &S->v, &S->rows[i], per_kwrite, S->rows[i].workload,
				    S->rows[i].phase);
	if (!c.nb) {
		note(pl, "extra copies: no phase where the kernels' extra copies differ");
		return 0;
	}
	struct gp g;
	if (gp_open(&g, o))
		return -1;
	chart_data(&g, S->t, &c, 0);
	say(g.b, "set title 'Extra COW copies per 1000 writes, where kernels differ (copies of "
		 "pages the writer mapped alone; bars: median, whiskers: min-max over "
		 "repetitions)'\nset ylabel 'extra copies per 1000 writes'\n");
	chart_axes(g.b, S->t, &c);
	footer(g.b);
	chart_plot(g.b, &c, &S->v, false, "min-max over repetitions", 0);
	if (gp_close(&g, o, "1-extra-copies", chart_width(&c), 640)) {
		note(pl, "gnuplot failed on plot 1-extra-copies");
		return -1;
	}
	add_plot(pl, "1-extra-copies", "Where do the kernels copy pages they could reuse? Extra "
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

static bool extra_mem(const struct an_table *t, const void *row, int r, struct bar *b)
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

static bool leftover_mem(const struct an_table *t, const void *row, int r, struct bar *b)
{
	b->y = per_gib(t, row, "swapcache_leftover_pages", r);
	return !isnan(b->y);
}

static bool any_positive(const struct chart *c)
{
	for (int i = 0; i < c->nb; i++)
		if (c->bars[i].y > 0)
			return true;
	return false;
}

static void memory_panel(struct gp *g, const struct an_summary *S, struct chart *c, int id,
			 const char *title, const char *ylabel)
{
	/* Each panel has its own data blocks: rename them per panel. */
	chart_data(g, S->t, c, id);
	say_q(g->b, "set title ", title, "\n");
	say_q(g->b, "set ylabel ", ylabel, "\n");
	chart_axes(g->b, S->t, c);
	chart_plot(g->b, c, &S->v, false, "", id);
}

static int plot_memory(const struct an_summary *S, const struct an_opts *o, struct an_plots *pl)
{
	static struct chart ex, left;
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
		chart_group(&ex, S->t, &S->v, r, extra_mem, r->workload, r->phase);
		chart_group(&left, S->t, &S->v, r, leftover_mem, r->workload, r->phase);
	}
	bool has_ex = any_positive(&ex), has_left = any_positive(&left);
	if (!has_ex && !has_left) {
		note(pl, "memory: no extra copies or swap-cache leftovers in any differing phase");
		return 0;
	}
	struct gp g;
	if (gp_open(&g, o))
		return -1;
	if (has_ex && has_left)
		say(g.b, "set multiplot layout 2,1\n");
	footer(g.b);
	if (has_ex)
		memory_panel(&g, S, &ex, 0, causes_known
			? "Memory held twice by extra copies, per GiB written, by cause"
			: "Memory held twice by extra copies, per GiB written (no cause breakdown "
			  "in these documents)", "MiB per GiB written");
	if (has_left)
		memory_panel(&g, S, &left, 1, "Swap-cache leftovers: old pages of copies still in "
			     "the swap cache, per GiB written", "MiB per GiB written");
	if (has_ex && has_left)
		say(g.b, "unset multiplot\n");
	int w = chart_width(has_ex ? &ex : &left);
	if (gp_close(&g, o, "2-memory", w, has_ex && has_left ? 1200 : 640)) {
		note(pl, "gnuplot failed on plot 2-memory");
		return -1;
	}
	add_plot(pl, "2-memory", "What do the extra copies cost? Memory and swap-cache leftovers "
	     "per GiB written");
	return 0;
}

/* ---- (c) seed races ---- */

struct race {
	const char *name;
	char top[96], bottom[96];
};

static bool race_lost(const struct an_table *t, const void *row, int r, struct bar *b)
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
	static struct chart c;
	memset(&c, 0, sizeof c);
	c.nseg = 1;
	int n = an_repro_rows(S->t->set, rows);
	for (int i = 0; i < n; i++) {
		races[i].name = rows[i].name;
		const char *sep = strstr(rows[i].name, " / ");
		snprintf(races[i].top, sizeof races[i].top, "%.*s",
			 sep ? (int)(sep - rows[i].name) : 95, rows[i].name);
		snprintf(races[i].bottom, sizeof races[i].bottom, "%s", sep ? sep + 3 : "");
		chart_group(&c, S->t, &S->v, &races[i], race_lost, races[i].top, races[i].bottom);
	}
	if (!c.nb) {
		note(pl, "seed races: no repro:* result with a race in flight (cowbench repro)");
		return 0;
	}
	struct gp g;
	if (gp_open(&g, o))
		return -1;
	chart_data(&g, S->t, &c, 0);
	say(g.b, "set title 'Seed races: share of the in-flight iterations whose data was lost "
		 "(repro:*, docs/scenarios.md)'\nset ylabel 'lost, %% of in-flight iterations'\n");
	chart_axes(g.b, S->t, &c);
	footer(g.b);
	say(g.b, "set yrange [0:105]\n");
	chart_plot(g.b, &c, &S->v, false, "", 0);
	if (gp_close(&g, o, "3-seed-races", chart_width(&c), 640)) {
		note(pl, "gnuplot failed on plot 3-seed-races");
		return -1;
	}
	add_plot(pl, "3-seed-races", "Which kernels lose data in the seed races? Lost share of "
	     "in-flight iterations");
	return 0;
}

/* ---- (d) policy fingerprint heat map ---- */

static const char *const fp_names[] = { "reuse", "copy", "pin lost sync", "not run" };
static const char *const fp_colours[] = { "#1b9e77", "#fdae61", "#d7191c", "#cccccc" };

static void heat_cells(struct gp *g, const struct an_view *v, const int *ks, int nk,
		       const char **ids, int ns)
{
	say(g->pipe, "$heat << EOD\n");
	for (int k = 0; k < nk; k++)
		for (int i = 0; i < ns; i++) {
			char text[64];
			json_t *sc = an_fp_scenario(&v->s->r[ks[k]], ids[i]);
			int cls = an_fp_outcome(sc, text, sizeof text);
			say(g->pipe, "%d %d %lu\n", k, i, rgb(fp_colours[cls]));
			say_q(g->b, "set label ", text, "");
			say(g->b, " at %d,%d center front font ',8'\n", k, i);
		}
	say(g->pipe, "EOD\n");
}

static void heat_axes(FILE *f, const struct an_view *v, const int *ks, int nk,
		      const char **ids, int ns)
{
	say(f, "set xtics nomirror font ',8' (");
	for (int k = 0; k < nk; k++) {
		char name[32];
		an_short_name(&v->s->r[ks[k]], name, sizeof name, 12);
		say_q(f, k ? ", " : "", name, "");
		say(f, " %d", k);
	}
	/* Era names over their column groups, a white line between groups. */
	say(f, ")\nset x2tics nomirror font ',10' (");
	int first = 0, ngroups = 0;
	double seps[AN_MAX_RESULTS];
	for (int k = 0; k < nk; k++) {
		const char *era = an_era_of(&v->s->r[ks[k]]);
		if (k + 1 < nk && !strcmp(era, an_era_of(&v->s->r[ks[k + 1]])))
			continue;
		say_q(f, ngroups ? ", " : "", era, "");
		say(f, " %.6g", (first + k) / 2.0);
		if (k + 1 < nk)
			seps[ngroups] = k + 0.5;
		ngroups++;
		first = k + 1;
	}
	say(f, ")\n");
	for (int i = 0; i + 1 < ngroups; i++)
		say(f, "set arrow from %.6g, graph 0 to %.6g, graph 1 nohead lw 4 "
		       "lc rgb '#ffffff' front\n", seps[i], seps[i]);
	say(f, "set ytics nomirror font ',9' (");
	for (int i = 0; i < ns; i++) {
		char lab[200];
		const char *why = an_fp_common_skip(v->s, ids[i]);
		snprintf(lab, sizeof lab, "%.24s  %.70s%s", ids[i], an_fp_description(v->s, ids[i]),
			 why ? " (not run anywhere)" : "");
		say_q(f, i ? ", " : "", lab, "");
		say(f, " %d", i);
	}
	say(f, ")\n");
}

/* The scenarios and the kernels one skip reason stands for. */
static void reason_scope(FILE *m, const struct an_view *v, const int *ks, int nk,
			 const char **ids, int ns, const char *why)
{
	int said = 0;
	for (int i = 0; i < ns; i++)
		for (int k = 0; k < nk; k++) {
			const char *w = json_string_value(json_object_get(
				an_fp_scenario(&v->s->r[ks[k]], ids[i]), "skipped"));
			if (w && !strcmp(w, why)) {
				fprintf(m, "%s%s", said++ ? ", " : "", ids[i]);
				break;
			}
		}
	fputs(" on", m);
	said = 0;
	for (int k = 0; k < nk; k++)
		for (int i = 0; i < ns; i++) {
			const char *w = json_string_value(json_object_get(
				an_fp_scenario(&v->s->r[ks[k]], ids[i]), "skipped"));
			if (w && !strcmp(w, why)) {
				char name[32];
				an_short_name(&v->s->r[ks[k]], name, sizeof name, 12);
				fprintf(m, "%s %s", said++ ? "," : "", name);
				break;
			}
		}
}

/* Every skip reason once, under the map, with what it covers. */
static int heat_reasons(FILE *f, const struct an_view *v, const int *ks, int nk,
			const char **ids, int ns)
{
	const char *seen[16];
	int n = 0;
	for (int i = 0; i < ns; i++)
		for (int k = 0; k < nk && n < 16; k++) {
			const char *why = json_string_value(json_object_get(
				an_fp_scenario(&v->s->r[ks[k]], ids[i]), "skipped"));
			bool dup = !why;
			for (int j = 0; j < n && !dup; j++)
				dup = !strcmp(seen[j], why);
			if (dup)
				continue;
			seen[n] = why;
			char cut[160], *line = NULL;
			size_t len = 0;
			an_cut_words(cut, sizeof cut, "", why, 110);
			FILE *m = open_memstream(&line, &len);
			fprintf(m, "not run: %s (", cut);
			reason_scope(m, v, ks, nk, ids, ns, why);
			fputs(")", m);
			fclose(m);
			say_q(f, "set label ", line, "");
			say(f, " at screen 0.01, screen %.4f left font ',8'\n", 0.035 + 0.028 * n);
			free(line);
			n++;
		}
	return n;
}

static int plot_heatmap(const struct an_summary *S, const struct an_opts *o,
			struct an_plots *pl)
{
	const struct an_view *v = &S->v;
	const char *ids[128];
	int ns = an_fp_scenarios(v->s, ids, 128), ks[AN_MAX_RESULTS], nk = 0;
	for (int k = 0; k < v->nk; k++)
		if (v->s->r[v->order[k]].fingerprint)
			ks[nk++] = v->order[k];
	if (!nk || !ns) {
		note(pl, "no result carries a policy fingerprint: heat map not drawn");
		return 0;
	}
	struct gp g;
	if (gp_open(&g, o))
		return -1;
	heat_cells(&g, v, ks, nk, ids, ns);
	FILE *f = g.b;
	say(f, "set title 'COW policy fingerprint: what each probe scenario did on each kernel "
	       "(pages reused, copied or out of sync / pages probed)' offset 0,1\n");
	say(f, "set ylabel 'probe scenario (docs/scenarios.md)'\n");
	say(f, "set xrange [-0.5:%d.5]\nset x2range [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n",
	    nk - 1, nk - 1, ns - 1);
	heat_axes(f, v, ks, nk, ids, ns);
	int nr = heat_reasons(f, v, ks, nk, ids, ns);
	footer(f);
	say(f, "set tics scale 0\nset key outside right top vertical font ',9'\n"
	       "set bmargin %d\nset rmargin 16\nset tmargin 5\n", 5 + 2 * nr);
	say(f, "plot $heat using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 "
	       "lc rgb variable notitle");
	for (int i = 0; i < 4; i++) {
		say(f, ", ");
		key_box(f, fp_colours[i], fp_names[i], true);
	}
	say(f, "\n");
	int w = clamp_w(560 + 125 * nk), h = 300 + 34 * ns + 24 * nr;
	if (gp_close(&g, o, "4-fingerprint", w, h < 480 ? 480 : h)) {
		note(pl, "gnuplot failed on plot 4-fingerprint");
		return -1;
	}
	add_plot(pl, "4-fingerprint", "Which era does each kernel behave like? Probe scenario x "
	     "kernel -> reuse / copy / pin lost sync");
	return 0;
}

/* ---- (e) times of native runs ---- */

struct timed {
	const struct an_row *row;
	const struct an_opts *o;
};

static bool time_bar(const struct an_table *t, const void *p, int r, struct bar *b)
{
	const struct timed *x = p;
	const struct an_cell *c = an_find_cell(x->row, r);
	if (!c || !time_ok(t, x->o, r) || isnan(c->st.center))
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
		if (!time_ok(t, o, x->result))
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
		if (time_ok(t, o, row->cells[c].result) && row->cells[c].st.center > 0) {
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
		native += time_ok(t, o, r);
	if (native < 2) {
		note(pl, "times not plotted: %d native kernel%s (emulated TCG times say nothing "
			 "about the kernel; --emulated-times plots them anyway)", native,
		     native == 1 ? "" : "s");
		return 0;
	}
	static struct chart c;
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
			chart_group(&c, t, &S->v, &rows[i], time_bar, rows[i].row->workload,
				    rows[i].row->phase);
			shown++;
		}
	if (!c.nb) {
		note(pl, "times not plotted: no phase's time per operation differs between the "
			 "native kernels (Welch p < 0.05)");
		return 0;
	}
	if (shown < n)
		note(pl, "time plot: the %d of %d differing phases with the largest spread between "
			 "kernels (all are in table.csv)", shown, n);
	double lo = INFINITY, hi = 0;
	for (int i = 0; i < c.nb; i++) {
		lo = fmin(lo, c.bars[i].y);
		hi = fmax(hi, c.bars[i].y);
	}
	bool logy = lo > 0 && hi / lo > 100;
	struct gp g;
	if (gp_open(&g, o))
		return -1;
	chart_data(&g, t, &c, 0);
	say(g.b, "set title 'Time per operation where native kernels differ: mean and 95%% "
		 "confidence interval over repetitions%s'\n", logy ? " (log scale)" : "");
	say(g.b, "set ylabel 'time per operation (us)'\n");
	chart_axes(g.b, t, &c);
	footer(g.b);
	chart_plot(g.b, &c, &S->v, logy, "95% confidence interval", 0);
	if (gp_close(&g, o, "5-time", chart_width(&c), 640)) {
		note(pl, "gnuplot failed on plot 5-time");
		return -1;
	}
	add_plot(pl, "5-time", "Does the policy cost time? Time per operation, native runs only");
	return 0;
}

/* ---- sweeps: cost against working-set size ---- */

struct line {
	char title[400];
	int kernel, phase;
	int n;
	double x[64], y[2][64];
};

static long long size_param(json_t *params)
{
	json_t *v = json_object_get(params, "size");
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* Lines for one workload name: one per kernel label and phase. */
static int sweep_lines(const struct an_table *t, const struct an_opts *o, const char *name,
		       struct line *lines, int max)
{
	int nl = 0;
	const char *kern[AN_MAX_RESULTS], *phases[32];
	int nkern = 0, nph = 0;
	for (int i = 0; i < t->n; i++) {
		const struct an_row *row = &t->rows[i];
		if (strcmp(row->wl_name, name) || strcmp(row->metric, "copy_bytes") ||
		    size_param(row->params) <= 0)
			continue;
		int p = 0;
		while (p < nph && strcmp(phases[p], row->phase))
			p++;
		if (p == nph && nph < 32)
			phases[nph++] = row->phase;
		for (int c = 0; c < row->ncells; c++) {
			const struct an_result *r = &t->set->r[row->cells[c].result];
			int k = 0;
			while (k < nkern && strcmp(kern[k], r->label))
				k++;
			if (k == nkern)
				kern[nkern++] = r->label;
			int l = 0;
			while (l < nl && (lines[l].kernel != k || lines[l].phase != p))
				l++;
			if (l == nl) {
				if (nl >= max)
					continue;
				memset(&lines[l], 0, sizeof lines[l]);
				lines[l].kernel = k;
				lines[l].phase = p;
				snprintf(lines[l].title, sizeof lines[l].title, "%s, %s", r->label,
					 row->phase);
				nl++;
			}
			struct line *L = &lines[l];
			if (L->n >= 64)
				continue;
			const struct an_cell *tc = an_find_cell(
				an_find_row(t, row->wkey, row->phase, "ns_per_op"),
				row->cells[c].result);
			L->x[L->n] = (double)size_param(row->params) / MIB;
			L->y[0][L->n] = tc && time_ok(t, o, row->cells[c].result)
						? tc->st.center / 1e3 : NAN;
			L->y[1][L->n] = row->cells[c].st.median / MIB;
			L->n++;
		}
	}
	return nl;
}

static int cmp_pt(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

static void sort_line(struct line *L)
{
	double pts[64][3];
	for (int i = 0; i < L->n; i++) {
		pts[i][0] = L->x[i];
		pts[i][1] = L->y[0][i];
		pts[i][2] = L->y[1][i];
	}
	qsort(pts, (size_t)L->n, sizeof pts[0], cmp_pt);
	for (int i = 0; i < L->n; i++) {
		L->x[i] = pts[i][0];
		L->y[0][i] = pts[i][1];
		L->y[1][i] = pts[i][2];
	}
}

/* Whether any point of the panel has a value (times of emulated results
 * are NaN): gnuplot fails on a plot without one. */
static bool panel_has_data(const struct line *lines, int nl, int panel)
{
	for (int l = 0; l < nl; l++)
		for (int p = 0; p < lines[l].n; p++)
			if (!isnan(lines[l].y[panel][p]))
				return true;
	return false;
}

static void sweep_panel(FILE *f, struct line *lines, int nl, int panel, const char *ylabel,
			const char *title)
{
	say_q(f, "set title ", title, "\n");
	say_q(f, "set ylabel ", ylabel, "\n");
	say(f, "set xlabel 'working-set size (MiB, log scale)' offset 0,0.4\nset logscale x 2\n"
	       "set yrange [0:*]\nset grid\nset key below font ',9' spacing 1.3\nset bmargin 6\nplot ");
	for (int l = 0; l < nl; l++) {
		say(f, "%s$line%d using 1:%d with linespoints lw 2 pt %d dt %d lc %d title ",
		    l ? ", " : "", l, panel + 2, 5 + lines[l].phase, 1 + lines[l].phase,
		    1 + lines[l].kernel);
		say_q(f, "", lines[l].title, "");
	}
	say(f, "\n");
}

static int sweeps(const struct an_table *t, const struct an_opts *o, struct an_plots *pl)
{
	int rc = 0;
	const char *names[256];
	int ndone = 0;
	for (int i = 0; i < t->n && pl->n < 16; i++) {
		const char *name = t->rows[i].wl_name;
		bool seen = false;
		for (int d = 0; d < ndone && !seen; d++)
			seen = !strcmp(names[d], name);
		if (seen || ndone >= 256)
			continue;
		names[ndone++] = name;
		static struct line lines[64];
		int nl = sweep_lines(t, o, name, lines, 64), longest = 0;
		for (int l = 0; l < nl; l++) {
			sort_line(&lines[l]);
			longest = lines[l].n > longest ? lines[l].n : longest;
		}
		if (longest < 2)
			continue;
		bool has_time = panel_has_data(lines, nl, 0), has_mem = panel_has_data(lines, nl, 1);
		if (!has_time && !has_mem) {
			note(pl, "sweep of %.80s not drawn: no point has a value", name);
			continue;
		}
		if (!has_time)
			note(pl, "sweep of %.80s: time panel left out (no time to plot: emulated "
				 "results, see above)", name);
		struct gp g;
		if (gp_open(&g, o))
			return -1;
		for (int l = 0; l < nl; l++) {
			say(g.pipe, "$line%d << EOD\n", l);
			for (int p = 0; p < lines[l].n; p++)
				say(g.pipe, "%.9g %.9g %.9g\n", lines[l].x[p], lines[l].y[0][p],
				    lines[l].y[1][p]);
			say(g.pipe, "EOD\n");
		}
		char title[512];
		int npanels = has_time + has_mem;
		if (npanels > 1)
			say(g.b, "set multiplot layout 2,1\n");
		if (has_time) {
			snprintf(title, sizeof title, "%s sweep: time per operation (mean)", name);
			sweep_panel(g.b, lines, nl, 0, "time per operation (us)", title);
		}
		if (has_mem) {
			snprintf(title, sizeof title, "%s sweep: memory of COW copies (median)",
				 name);
			sweep_panel(g.b, lines, nl, 1, "memory of COW copies (MiB)", title);
		}
		if (npanels > 1)
			say(g.b, "unset multiplot\n");
		char pname[64];
		snprintf(pname, sizeof pname, "6-sweep-%d", ndone);
		footer(g.b);
		if (gp_close(&g, o, pname, 1100, 500 * npanels + 30 * nl)) {
			note(pl, "gnuplot failed on plot %s", pname);
			rc = -1;
			continue;
		}
		char ptitle[256];
		snprintf(ptitle, sizeof ptitle, "How does the cost grow with the working set? "
			 "Sweep of %.80s, one line per kernel and phase", name);
		add_plot(pl, pname, ptitle);
	}
	return rc;
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
	rc |= plot_heatmap(&S, o, pl);
	rc |= plot_times(&S, o, pl);
	rc |= sweeps(t, o, pl);
	signal(SIGPIPE, old);
	return rc ? -1 : 0;
}
