/* Size sweeps: cost against working-set size, one line per kernel and
 * phase, for a workload run at several sizes (-o size=). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "sweep.h"

#define MIB (1024.0 * 1024.0)

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
				char name[32];
				an_short_name(r, name, sizeof name, 12);
				snprintf(lines[l].title, sizeof lines[l].title, "%s (%s), %s", name,
					 an_era_of(r), row->phase);
				nl++;
			}
			struct line *L = &lines[l];
			if (L->n >= 64)
				continue;
			const struct an_cell *tc = an_find_cell(
				an_find_row(t, row->wkey, row->phase, "ns_per_op"),
				row->cells[c].result);
			L->x[L->n] = (double)size_param(row->params) / MIB;
			L->y[0][L->n] = tc && an_time_ok(t, o, row->cells[c].result)
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

/* Two runs of one kernel at one size are no sweep (x would be one point). */
static int distinct_sizes(const struct line *L)
{
	int n = L->n > 0;
	for (int i = 1; i < L->n; i++)
		n += L->x[i] != L->x[i - 1];
	return n;
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
	an_say_q(f, "set title ", title, "\n");
	an_say_q(f, "set ylabel ", ylabel, "\n");
	an_say(f, "set xlabel 'working-set size (MiB, log scale)' offset 0,0.4\nset logscale x 2\n"
	       "set yrange [0:*]\nset grid\nset key outside right top vertical font ',8'\n"
	       "set rmargin 40\nset bmargin 4\nplot ");
	for (int l = 0; l < nl; l++) {
		an_say(f, "%s$line%d using 1:%d with linespoints lw 2 pt %d dt %d lc %d title ",
		    l ? ", " : "", l, panel + 2, 5 + lines[l].phase, 1 + lines[l].phase,
		    1 + lines[l].kernel);
		an_say_q(f, "", lines[l].title, "");
	}
	an_say(f, "\n");
}

int an_plot_sweeps(const struct an_table *t, const struct an_opts *o, struct an_plots *pl)
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
			int sizes = distinct_sizes(&lines[l]);
			longest = sizes > longest ? sizes : longest;
		}
		if (longest < 2)
			continue;
		bool has_time = panel_has_data(lines, nl, 0), has_mem = panel_has_data(lines, nl, 1);
		if (!has_time && !has_mem) {
			an_plots_note(pl, "sweep of %.80s not drawn: no point has a value", name);
			continue;
		}
		if (!has_time)
			an_plots_note(pl, "sweep of %.80s: time panel left out (no time to plot: emulated "
				 "results, see above)", name);
		struct an_gp g;
		if (an_gp_open(&g, o))
			return -1;
		for (int l = 0; l < nl; l++) {
			an_say(g.pipe, "$line%d << EOD\n", l);
			for (int p = 0; p < lines[l].n; p++)
				an_say(g.pipe, "%.9g %.9g %.9g\n", lines[l].x[p], lines[l].y[0][p],
				    lines[l].y[1][p]);
			an_say(g.pipe, "EOD\n");
		}
		char title[512];
		int npanels = has_time + has_mem;
		if (npanels > 1)
			an_say(g.b, "set multiplot layout 2,1\n");
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
			an_say(g.b, "unset multiplot\n");
		char pname[64];
		snprintf(pname, sizeof pname, "6-sweep-%d", ndone);
		an_gp_footer(g.b);
		if (an_gp_close(&g, o, pname, 1100, 500 * npanels + 30 * nl)) {
			an_plots_note(pl, "gnuplot failed on plot %s", pname);
			rc = -1;
			continue;
		}
		char ptitle[256];
		snprintf(ptitle, sizeof ptitle, "How does the cost grow with the working set? "
			 "Sweep of %.80s, one line per kernel and phase", name);
		an_plots_add(pl, pname, ptitle);
	}
	return rc;
}
