/* The gnuplot pipe. Data goes inline as numeric `$name << EOD` blocks (no
 * text from a result document ever enters a data block), every label from a
 * document is a single-quoted literal (an_gp_quote), and no script file is
 * written. Each plot is one gnuplot process that renders the same commands
 * to PNG and SVG. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "gnuplot.h"

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


void an_say(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

/* Writes `prefix 'quoted' suffix`. */
void an_say_q(FILE *f, const char *prefix, const char *text, const char *suffix)
{
	char *q = an_gp_quote(text);
	fprintf(f, "%s%s%s", prefix, q, suffix);
	free(q);
}

int an_gp_open(struct an_gp *g, const struct an_opts *o)
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
		an_say(f, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) "
		       "{ set terminal pngcairo noenhanced size %d,%d font 'sans,10' } "
		       "else { set terminal png noenhanced size %d,%d }\n", w, h, w, h);
	else
		an_say(f, "set terminal svg noenhanced size %d,%d font 'sans,10' background "
		       "'#ffffff'\n", w, h);
}

/* Renders the body to DIR/NAME.png and .svg; returns 0 if gnuplot exited
 * cleanly and both files are non-empty. */
int an_gp_close(struct an_gp *g, const struct an_opts *o, const char *name, int w, int h)
{
	w = w > AN_GP_MAX_W ? AN_GP_MAX_W : w; /* a slide, whatever the caller asked */
	fclose(g->b);
	static const char *const kinds[] = { "png", "svg" };
	char path[2][4096];
	for (int k = 0; k < 2; k++) {
		snprintf(path[k], sizeof path[k], "%s/%s.%s", o->outdir, name, kinds[k]);
		terminal(g->pipe, kinds[k], w, h);
		an_say_q(g->pipe, "set output ", path[k], "\n");
		fwrite(g->body, 1, g->bodylen, g->pipe);
		an_say(g->pipe, "unset multiplot\nset output\nreset\n");
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




int an_gp_width(int w)
{
	return w < 800 ? 800 : w > AN_GP_MAX_W ? AN_GP_MAX_W : w;
}

void an_plots_note(struct an_plots *pl, const char *fmt, ...)
{
	if (pl->nnotes >= 8)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pl->notes[pl->nnotes++], sizeof pl->notes[0], fmt, ap);
	va_end(ap);
}

void an_plots_add(struct an_plots *pl, const char *name, const char *title)
{
	snprintf(pl->names[pl->n], sizeof pl->names[0], "%s", name);
	snprintf(pl->titles[pl->n++], sizeof pl->titles[0], "%s", title);
}


const char *an_era_colour(const char *era)
{
	if (!strcmp(era, "mapcount"))
		return "#7570b3";
	if (!strcmp(era, "page_count"))
		return "#d95f02";
	if (!strcmp(era, "exclusive"))
		return "#1b9e77";
	return "#999999";
}

unsigned long an_gp_rgb(const char *hex)
{
	return strtoul(hex + 1, NULL, 16);
}

/* Where the words of every plot are defined. */
void an_gp_footer(FILE *f)
{
	an_say(f, "set label 99 'metrics: docs/metrics.md    scenarios: docs/scenarios.md' "
	       "at screen 0.005, screen 0.012 left font ',8' tc rgb '#555555'\n");
}

/* A legend entry without data: a filled box of one colour. */
void an_gp_key_box(FILE *f, const char *colour, const char *title, bool first)
{
	an_say(f, "%sNaN with boxes fs solid 0.8 lc rgb '%s' title ", first ? "" : ", ", colour);
	an_say_q(f, "", title, "");
}

void an_gp_era_keys(FILE *f, const struct an_view *v)
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
		an_gp_key_box(f, an_era_colour(era), title, false);
	}
}
