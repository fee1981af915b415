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

#include "plot.h"

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

/* ---- data shared by the bar charts ---- */

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

static const char *const era_names[] = { "mapcount", "page_count", "exclusive" };

/* Median over repetitions of a per-repetition derived value. */
typedef double (*derive_fn)(const double *x);

struct series {
	const char *metrics[3]; /* inputs of the derive function, per repetition */
	derive_fn f;
	const char *ylabel;
	const char *title;
};

static double per_kfault(const double *x)
{
	double faults = x[1] + (isnan(x[2]) ? 0 : x[2]);
	if (isnan(x[0]) || isnan(faults))
		return NAN;
	if (faults == 0)
		return x[0] == 0 ? 0 : NAN;
	return 1000 * x[0] / faults;
}
static double mib(const double *x) { return x[0] / MIB; }
static double per_op(const double *x) { return x[1] > 0 ? x[0] / x[1] : NAN; }

static double derived_median(const struct an_table *t, int r, const char *wkey,
			     const char *phase, const struct series *s)
{
	static double in[3][AN_MAX_REPS];
	double out[AN_MAX_REPS];
	int n = AN_MAX_REPS, m = 0;
	for (int k = 0; k < 3; k++) {
		if (!s->metrics[k]) {
			for (int i = 0; i < AN_MAX_REPS; i++)
				in[k][i] = NAN;
			continue;
		}
		int got = an_samples(t->set, r, wkey, phase, s->metrics[k], in[k], AN_MAX_REPS);
		n = got < n ? got : n;
	}
	for (int i = 0; i < n; i++) {
		double x[3] = { in[0][i], in[1][i], in[2][i] };
		double v = s->f(x);
		if (!isnan(v))
			out[m++] = v;
	}
	return m ? an_median(out, m) : NAN;
}

/* Bars: one group per workload phase, one bar per kernel, coloured by era. */
struct bar {
	double x, y, lo, hi;
	int result;
};

struct layout {
	struct bar bars[4096];
	int nb;
	double gx[256];      /* centre of each non-empty group */
	const char *gwl[256], *gph[256];
	int ng;
};

struct groups {
	int n;
	const char *wkey[256], *workload[256], *phase[256];
};

static void collect_groups(const struct an_table *t, struct groups *g)
{
	g->n = 0;
	for (int i = 0; i < t->n && g->n < 256; i++) {
		const struct an_row *r = &t->rows[i];
		if (g->n && !strcmp(g->wkey[g->n - 1], r->wkey) &&
		    !strcmp(g->phase[g->n - 1], r->phase))
			continue;
		g->wkey[g->n] = r->wkey;
		g->workload[g->n] = r->workload;
		g->phase[g->n] = r->phase;
		g->n++;
	}
}

static bool time_ok(const struct an_table *t, const struct an_opts *o, int r)
{
	return !t->set->r[r].emulated || o->emulated_times;
}

/* with_ci: time per operation (mean and its interval, microseconds). */
static bool bar_value(const struct an_table *t, const struct groups *g, int i, int r,
		      const struct series *s, bool with_ci, const struct an_opts *o,
		      struct bar *b)
{
	b->lo = b->hi = NAN;
	b->result = r;
	if (!with_ci) {
		b->y = derived_median(t, r, g->wkey[i], g->phase[i], s);
		return !isnan(b->y);
	}
	const struct an_cell *c = an_find_cell(an_find_row(t, g->wkey[i], g->phase[i],
							   "ns_per_op"), r);
	if (!c || !time_ok(t, o, r))
		return false;
	b->y = c->st.center / 1e3;
	b->lo = c->st.lo / 1e3;
	b->hi = c->st.hi / 1e3;
	return !isnan(b->y);
}

static void layout(const struct an_table *t, const struct groups *g, const struct series *s,
		   bool with_ci, const struct an_opts *o, struct layout *L)
{
	L->nb = L->ng = 0;
	double x = 0;
	for (int i = 0; i < g->n; i++) {
		int first = L->nb;
		for (int r = 0; r < t->set->n && L->nb < 4096; r++) {
			struct bar b = { .x = x };
			if (!bar_value(t, g, i, r, s, with_ci, o, &b))
				continue;
			L->bars[L->nb++] = b;
			x += 1;
		}
		if (L->nb == first)
			continue;
		L->gx[L->ng] = (L->bars[first].x + L->bars[L->nb - 1].x) / 2;
		L->gwl[L->ng] = g->workload[i];
		L->gph[L->ng] = g->phase[i];
		L->ng++;
		x += 0.8; /* gap between groups */
	}
}

static void emit_bars_block(struct gp *g, const struct an_table *t, const struct layout *L,
			    int id)
{
	say(g->pipe, "$bars%d << EOD\n", id);
	for (int i = 0; i < L->nb; i++) {
		const struct bar *b = &L->bars[i];
		const char *col = era_colour(an_era_of(&t->set->r[b->result]));
		say(g->pipe, "%.6g %.9g %.9g %.9g %lu\n", b->x, b->y, isnan(b->lo) ? b->y : b->lo,
		    isnan(b->hi) ? b->y : b->hi, strtoul(col + 1, NULL, 16));
	}
	say(g->pipe, "EOD\n");
}

static void era_key(FILE *f)
{
	static const char *const shown[] = { "mapcount era", "page_count era",
					     "exclusive-bit era" };
	for (int e = 0; e < 3; e++)
		say(f, ", NaN with boxes fs solid 0.8 lc rgb '%s' title '%s'",
		    era_colour(era_names[e]), shown[e]);
}

/* The x label of a bar panel: which kernel each bar number stands for,
 * three to a line (full labels under every bar overlap once there are more
 * than a few kernels). */
static void kernel_key(FILE *f, const struct an_table *t)
{
	say(f, "set xlabel ''");
	for (int r = 0; r < t->set->n; r++) {
		char item[300];
		snprintf(item, sizeof item, "K%d = %s%s", r + 1, t->set->r[r].label,
			 r + 1 < t->set->n ? "      " : "");
		say(f, "%s", r % 3 ? "." : (r ? ".\"\\n\"." : "."));
		say_q(f, "", item, "");
	}
	say(f, " font ',10'\n");
}

/* One panel: kernel numbers label the bars below (the key under the
 * panel names them), workload phases name the groups on top. */
static void bar_panel(struct gp *g, const struct an_table *t, const struct groups *gr,
		      const struct series *s, int id, bool with_ci, const struct an_opts *o)
{
	static struct layout L;
	layout(t, gr, s, with_ci, o, &L);
	FILE *f = g->b;
	/* The title sits above the two-line group names. */
	say_q(f, "set title ", s->title, " offset 0,2.2\nset tmargin 5.5\n");
	say_q(f, "set ylabel ", s->ylabel, "\n");
	if (!L.nb) {
		say(f, "unset xtics\nunset x2tics\nset key off\n"
		       "set label 1 'no data: unavailable in every result' at graph 0.5, 0.5 "
		       "center\nplot [0:1][0:1] -1 notitle\nunset label 1\n");
		return;
	}
	emit_bars_block(g, t, &L, id);
	kernel_key(f, t);
	say(f, "set xtics nomirror font ',8' (");
	for (int i = 0; i < L.nb; i++)
		say(f, "%s'K%d' %.6g", i ? ", " : "", L.bars[i].result + 1, L.bars[i].x);
	say(f, ")\nset x2tics nomirror font ',9' (");
	/* Two lines per group, "workload" and "phase", joined in gnuplot so the
	 * quoted labels stay single-line literals. */
	for (int i = 0; i < L.ng; i++) {
		say_q(f, i ? ", " : "", L.gwl[i], ".\"\\n\".");
		say_q(f, "", L.gph[i], "");
		say(f, " %.6g", L.gx[i]);
	}
	double lo = L.bars[0].x - 0.8, hi = L.bars[L.nb - 1].x + 0.8;
	say(f, ")\nset xrange [%.6g:%.6g]\nset x2range [%.6g:%.6g]\n", lo, hi, lo, hi);
	double top = 0;
	for (int i = 0; i < L.nb; i++)
		top = fmax(top, with_ci && !isnan(L.bars[i].hi) ? L.bars[i].hi : L.bars[i].y);
	/* All zero is a result too: give the axis a range instead of a warning. */
	say(f, top > 0 ? "set yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n"
		       : "set yrange [0:1]\n");
	/* Rotated kernel labels hang to the left of the first bar. */
	say(f, "set grid ytics\nset boxwidth 0.8\nset key outside right top\nset lmargin 12\n");
	say(f, "plot $bars%d using 1:2:5 with boxes fs solid 0.8 lc rgb variable notitle", id);
	/* The value over each bar tells a measured 0 from a missing bar. */
	say(f, ", $bars%d using 1:%d:(sprintf('%%.4g', $2)) with labels offset 0,0.7 "
	       "font ',8' notitle", id, with_ci ? 4 : 2);
	if (with_ci)
		say(f, ", $bars%d using 1:2:3:4 with yerrorbars lc rgb '#000000' pt 0 lw 1.5 "
		       "title '95%% CI of the mean'", id);
	era_key(f);
	say(f, "\n");
}

/* Pixels the bars need: a group is as wide as its bars or its name. */
static int bars_width(const struct an_table *t, const struct groups *gr)
{
	int w = 0;
	for (int i = 0; i < gr->n; i++) {
		const struct an_row *row = an_find_row(t, gr->wkey[i], gr->phase[i], "pages");
		if (!row)
			row = an_find_row(t, gr->wkey[i], gr->phase[i], "elapsed_ns");
		int nb = row ? row->ncells : 0;
		int text = (int)fmax(strlen(gr->workload[i]), strlen(gr->phase[i])) * 7;
		w += (nb * 30 > text ? nb * 30 : text) + 45;
	}
	return w;
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

static bool any_emulated(const struct an_set *s)
{
	for (int i = 0; i < s->n; i++)
		if (s->r[i].emulated)
			return true;
	return false;
}

/* A figure of one or two stacked bar panels. */
static int bar_figure(const struct an_table *t, const struct an_opts *o, struct an_plots *pl,
		      const char *name, const char *title, const struct series *s, int npanels,
		      bool with_ci)
{
	struct groups gr;
	collect_groups(t, &gr);
	struct gp g;
	if (gp_open(&g, o))
		return -1;
	if (npanels > 1)
		say(g.b, "set multiplot layout %d,1\n", npanels);
	if (with_ci && any_emulated(t->set) && !o->emulated_times)
		say(g.b, "set label 9 'emulated results omitted (their times are not comparable; "
			 "--emulated-times plots them)' at screen 0.01, screen 0.02 font ',8'\n");
	for (int p = 0; p < npanels; p++)
		bar_panel(&g, t, &gr, &s[p], p, with_ci, o);
	if (npanels > 1)
		say(g.b, "unset multiplot\n");
	int w = 420 + bars_width(t, &gr);
	int keylines = (t->set->n + 2) / 3;
	int rc = gp_close(&g, o, name, w < 1000 ? 1000 : w > 6000 ? 6000 : w,
			  (430 + 16 * keylines) * npanels + 170);
	if (rc) {
		note(pl, "gnuplot failed on plot %s", name);
		return -1;
	}
	snprintf(pl->names[pl->n], sizeof pl->names[0], "%s", name);
	snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "%s", title);
	return 0;
}

/* ---- policy fingerprint heat map ---- */

static int fp_class(json_t *sc, char *text, size_t len)
{
	json_t *sk = json_object_get(sc, "skipped");
	if (json_is_string(sk) || json_is_true(sk) || !sc) {
		snprintf(text, len, "not run");
		return 3;
	}
	double pages = json_number_value(json_object_get(sc, "pages"));
	double cop = json_number_value(json_object_get(sc, "copied"));
	double lost = json_number_value(json_object_get(sc, "lost_sync"));
	if (lost > 0) {
		snprintf(text, len, "pin lost %.0f/%.0f", lost, pages);
		return 2;
	}
	snprintf(text, len, "%s %.0f/%.0f", cop * 2 > pages ? "copy" : "reuse",
		 cop * 2 > pages ? cop : pages - cop, pages);
	return cop * 2 > pages ? 1 : 0;
}

static int heatmap(const struct an_table *t, const struct an_opts *o, struct an_plots *pl)
{
	const struct an_set *s = t->set;
	const char *scen[128];
	int ns = 0, ks[AN_MAX_RESULTS], nk = 0;
	for (int r = 0; r < s->n; r++) {
		json_t *sc = json_object_get(s->r[r].fingerprint, "scenarios");
		if (!json_object_size(sc))
			continue;
		ks[nk++] = r;
		const char *k;
		json_t *v;
		json_object_foreach(sc, k, v) {
			bool seen = false;
			for (int i = 0; i < ns && !seen; i++)
				seen = !strcmp(scen[i], k);
			if (!seen && ns < 128)
				scen[ns++] = k;
		}
	}
	if (!nk) {
		note(pl, "no result carries a policy fingerprint: heat map not drawn");
		return 0;
	}
	struct gp g;
	if (gp_open(&g, o))
		return -1;
	say(g.pipe, "$heat << EOD\n");
	FILE *f = g.b;
	for (int k = 0; k < nk; k++)
		for (int i = 0; i < ns; i++) {
			char text[64];
			json_t *sc = json_object_get(json_object_get(s->r[ks[k]].fingerprint,
								     "scenarios"), scen[i]);
			int cls = fp_class(sc, text, sizeof text);
			say(g.pipe, "%d %d %d\n", k, i, cls);
			say(f, "set label '%s' at %d,%d center front font ',9'\n", text, k, i);
		}
	say(g.pipe, "EOD\n");
	say(f, "set title 'COW policy fingerprint: what each probe scenario did on each "
	       "kernel (cells: outcome, pages or pins affected / total)'\n");
	say(f, "set xlabel 'kernel' offset 0,-0.6\nset ylabel 'probe scenario (docs/eras.md)'\n");
	say(f, "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n", nk - 1, ns - 1);
	say(f, "set xtics nomirror font ',8' (");
	/* Release on one line, era and emulation under it: whole labels of
	 * neighbouring columns overlap. */
	for (int k = 0; k < nk; k++) {
		const struct an_result *r = &s->r[ks[k]];
		const char *rest = r->label + strlen(r->release);
		say_q(f, k ? ", " : "", r->release, ".\"\\n\".");
		say_q(f, "", *rest == ' ' ? rest + 1 : rest, "");
		say(f, " %d", k);
	}
	say(f, ")\nset ytics nomirror (");
	for (int i = 0; i < ns; i++) {
		say_q(f, i ? ", " : "", scen[i], "");
		say(f, " %d", i);
	}
	say(f, ")\nset cbrange [-0.5:3.5]\nset palette maxcolors 4\n"
	       "set palette defined (0 '#1b9e77', 1 '#fdae61', 2 '#d7191c', 3 '#cccccc')\n"
	       "set cbtics ('reuse' 0, 'copy' 1, 'pin lost' 2, 'not run' 3)\n"
	       "set key off\nset tics scale 0\n"
	       "plot $heat using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 "
	       "fc palette notitle\n");
	int w = 300 + 230 * nk, h = 250 + 34 * ns;
	if (gp_close(&g, o, "6-fingerprint", w < 800 ? 800 : w, h < 480 ? 480 : h)) {
		note(pl, "gnuplot failed on plot 6-fingerprint");
		return -1;
	}
	snprintf(pl->names[pl->n], sizeof pl->names[0], "6-fingerprint");
	snprintf(pl->titles[pl->n++], sizeof pl->titles[0],
		 "Policy fingerprint: probe scenario x kernel -> reuse / copy / pin lost");
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
	const char *done[256];
	int ndone = 0;
	for (int i = 0; i < t->n && pl->n < 16; i++) {
		const char *name = t->rows[i].wl_name;
		bool seen = false;
		for (int d = 0; d < ndone && !seen; d++)
			seen = !strcmp(done[d], name);
		if (seen || ndone >= 256)
			continue;
		done[ndone++] = name;
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
		snprintf(pname, sizeof pname, "7-sweep-%d", ndone);
		if (gp_close(&g, o, pname, 1100, 500 * npanels + 30 * nl)) {
			note(pl, "gnuplot failed on plot %s", pname);
			rc = -1;
			continue;
		}
		snprintf(pl->names[pl->n], sizeof pl->names[0], "%s", pname);
		snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "Sweep of %.80s: cost against "
			 "working-set size, one line per kernel and phase", name);
	}
	return rc;
}

int an_plot_all(const struct an_table *t, const struct an_opts *o, struct an_plots *pl)
{
	/* A gnuplot that dies must not kill us with SIGPIPE. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int rc = 0;
	static const struct series extra[] = { { { "extra_copies", "faults_minor", "faults_major" },
		per_kfault, "extra copies per 1000 write faults",
		"Extra COW copies (the writer was the only mapper) per 1000 write faults" } };
	static const struct series mem[] = {
		{ { "swapcache_leftover_bytes" }, mib, "swap-cache leftovers (MiB)",
		  "Swap-cache leftovers: old pages still in the swap cache after a copy (median)" },
		{ { "copy_bytes" }, mib, "memory of COW copies (MiB)",
		  "Memory allocated by COW copies (median)" } };
	static const struct series tlb[] = {
		{ { "tlb_shootdowns", "ops" }, per_op, "TLB shootdown IPIs per operation",
		  "TLB shootdowns (/proc/interrupts TLB) per operation (median)" },
		{ { "tlb_flush_events", "ops" }, per_op, "tlb:tlb_flush events per operation",
		  "tlb:tlb_flush tracepoint events per operation (median)" } };
	static const struct series faults[] = {
		{ { "faults_minor", "ops" }, per_op, "minor faults per operation",
		  "Minor page faults per operation (median)" },
		{ { "faults_major", "ops" }, per_op, "major faults per operation",
		  "Major page faults per operation (median)" } };
	static const struct series time[] = {
		{ { "ns_per_op" }, NULL, "time per operation (us)",
		  "Time per operation: mean over repetitions with 95% confidence interval" } };
	rc |= bar_figure(t, o, pl, "1-extra-copies", "Extra COW copies per 1000 write faults",
			 extra, 1, false);
	rc |= bar_figure(t, o, pl, "2-memory", "Swap-cache leftovers and memory cost of copies",
			 mem, 2, false);
	rc |= bar_figure(t, o, pl, "3-tlb", "TLB shootdowns and tlb:tlb_flush events per operation",
			 tlb, 2, false);
	rc |= bar_figure(t, o, pl, "4-faults", "Minor and major faults per operation", faults, 2,
			 false);
	rc |= bar_figure(t, o, pl, "5-time", "Time per operation with 95% confidence intervals",
			 time, 1, true);
	if (any_emulated(t->set) && !o->emulated_times)
		note(pl, "times of emulated results (env.emulated) are not plotted: TCG guest "
			 "times say nothing about the kernel; pass --emulated-times to plot them");
	rc |= heatmap(t, o, pl);
	rc |= sweeps(t, o, pl);
	signal(SIGPIPE, old);
	return rc ? -1 : 0;
}
