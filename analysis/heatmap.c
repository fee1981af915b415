/* The policy fingerprint as a heat map: probe scenario x kernel, four
 * discrete outcomes, columns grouped by era, every skip reason under it. */
#include <stdlib.h>
#include <string.h>

#include "fptable.h"
#include "heatmap.h"
#include "text.h"

static const char *const fp_names[] = { "reuse", "copy", "pin lost sync", "not run" };
static const char *const fp_colours[] = { "#1b9e77", "#fdae61", "#d7191c", "#cccccc" };

static void heat_cells(struct an_gp *g, const struct an_view *v, const int *ks, int nk,
		       const char **ids, int ns)
{
	an_say(g->pipe, "$heat << EOD\n");
	for (int k = 0; k < nk; k++)
		for (int i = 0; i < ns; i++) {
			char text[64];
			json_t *sc = an_fp_scenario(&v->s->r[ks[k]], ids[i]);
			int cls = an_fp_outcome(sc, text, sizeof text);
			an_say(g->pipe, "%d %d %lu\n", k, i, an_gp_rgb(fp_colours[cls]));
			an_say_q(g->b, "set label ", text, "");
			an_say(g->b, " at %d,%d center front font ',8'\n", k, i);
		}
	an_say(g->pipe, "EOD\n");
}

static void heat_axes(FILE *f, const struct an_view *v, const int *ks, int nk,
		      const char **ids, int ns)
{
	an_say(f, "set xtics nomirror font ',8' (");
	for (int k = 0; k < nk; k++) {
		char name[32];
		an_short_name(&v->s->r[ks[k]], name, sizeof name, 12);
		an_say_q(f, k ? ", " : "", name, "");
		an_say(f, " %d", k);
	}
	/* Era names over their column groups, a white line between groups. */
	an_say(f, ")\nset x2tics nomirror font ',10' (");
	int first = 0, ngroups = 0;
	double seps[AN_MAX_RESULTS];
	for (int k = 0; k < nk; k++) {
		const char *era = an_era_of(&v->s->r[ks[k]]);
		if (k + 1 < nk && !strcmp(era, an_era_of(&v->s->r[ks[k + 1]])))
			continue;
		an_say_q(f, ngroups ? ", " : "", era, "");
		an_say(f, " %.6g", (first + k) / 2.0);
		if (k + 1 < nk)
			seps[ngroups] = k + 0.5;
		ngroups++;
		first = k + 1;
	}
	an_say(f, ")\n");
	for (int i = 0; i + 1 < ngroups; i++)
		an_say(f, "set arrow from %.6g, graph 0 to %.6g, graph 1 nohead lw 4 "
		       "lc rgb '#ffffff' front\n", seps[i], seps[i]);
	an_say(f, "set ytics nomirror font ',9' (");
	for (int i = 0; i < ns; i++) {
		char lab[200];
		const char *why = an_fp_common_skip(v->s, ids[i]);
		snprintf(lab, sizeof lab, "%.24s  %.70s%s", ids[i], an_fp_description(v->s, ids[i]),
			 why ? " (not run anywhere)" : "");
		an_say_q(f, i ? ", " : "", lab, "");
		an_say(f, " %d", i);
	}
	an_say(f, ")\n");
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
			an_say_q(f, "set label ", line, "");
			an_say(f, " at screen 0.01, screen %.4f left font ',8'\n", 0.035 + 0.028 * n);
			free(line);
			n++;
		}
	return n;
}

int an_plot_heatmap(const struct an_view *v, const struct an_opts *o, struct an_plots *pl)
{
	const char *ids[128];
	int ns = an_fp_scenarios(v->s, ids, 128), ks[AN_MAX_RESULTS], nk = 0;
	for (int k = 0; k < v->nk; k++)
		if (v->s->r[v->order[k]].fingerprint)
			ks[nk++] = v->order[k];
	if (!nk || !ns) {
		an_plots_note(pl, "no result carries a policy fingerprint: heat map not drawn");
		return 0;
	}
	struct an_gp g;
	if (an_gp_open(&g, o))
		return -1;
	heat_cells(&g, v, ks, nk, ids, ns);
	FILE *f = g.b;
	/* on two lines: the title is centred over the map, which few kernels
	 * make narrow */
	an_say(f, "set title \"COW policy fingerprint: what each probe scenario did on each "
	       "kernel\\n(pages reused, copied or out of sync / pages probed)\" offset 0,1\n");
	an_say(f, "set ylabel 'probe scenario (docs/scenarios.md)'\n");
	an_say(f, "set xrange [-0.5:%d.5]\nset x2range [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n",
	    nk - 1, nk - 1, ns - 1);
	heat_axes(f, v, ks, nk, ids, ns);
	int nr = heat_reasons(f, v, ks, nk, ids, ns);
	an_gp_footer(f);
	an_say(f, "set tics scale 0\nset key outside right top vertical font ',9'\n"
	       "set bmargin %d\nset rmargin 16\nset tmargin 5\n", 5 + 2 * nr);
	an_say(f, "plot $heat using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 "
	       "lc rgb variable notitle");
	for (int i = 0; i < 4; i++) {
		an_say(f, ", ");
		an_gp_key_box(f, fp_colours[i], fp_names[i], true);
	}
	an_say(f, "\n");
	/* the scenario labels, the key and the title take about 700 px: few
	 * kernels still get columns wide enough for their cells' text */
	int w = an_gp_width(700 + 110 * nk), h = 300 + 34 * ns + 24 * nr;
	if (an_gp_close(&g, o, "4-fingerprint", w, h < 480 ? 480 : h)) {
		an_plots_note(pl, "gnuplot failed on plot 4-fingerprint");
		return -1;
	}
	an_plots_add(pl, "4-fingerprint", "Which era does each kernel behave like? Probe scenario x "
	     "kernel -> reuse / copy / pin lost sync");
	return 0;
}
