/* The seed scenarios' table: repro:* workload x phase (rows) by kernel
 * (columns), each cell "lost / coherent / copies" summed over repetitions,
 * with the iterations and the in-flight count that make a 0 a real 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdtable.h"
#include "repro.h"
#include "text.h"


static double metric(json_t *ph, const char *key)
{
	json_t *v = json_object_get(json_object_get(json_object_get(ph, "metrics"), key), "value");
	return json_is_number(v) ? json_number_value(v) : 0;
}

static void scen_name(char *out, size_t len, json_t *wl, json_t *ph)
{
	snprintf(out, len, "%s / %s", json_string_value(json_object_get(wl, "name")),
		 json_string_value(json_object_get(ph, "name")));
}

/* The workload's suite says it; documents from before the suite field
 * only have the name's prefix. */
static bool is_repro(json_t *wl)
{
	const char *suite = json_string_value(json_object_get(wl, "suite"));
	if (suite)
		return !strcmp(suite, "repro");
	const char *n = json_string_value(json_object_get(wl, "name"));
	return n && !strncmp(n, "repro:", 6);
}

static void add_row(struct an_repro_row *rows, int *n, const char *name, size_t cmp)
{
	for (int q = 0; q < *n; q++)
		if (!strncmp(rows[q].name, name, cmp))
			return;
	if (*n < AN_REPRO_MAX)
		snprintf(rows[(*n)++].name, sizeof rows[0].name, "%s", name);
}

/* Rows in order of first appearance; a workload no kernel ran (skipped as a
 * whole everywhere) is one row with the phase "-". */
int an_repro_rows(const struct an_set *s, struct an_repro_row *rows)
{
	int n = 0;
	char name[160];
	for (int pass = 0; pass < 2; pass++)
		for (int r = 0; r < s->n; r++) {
			size_t i, j, k;
			json_t *wl, *rep, *ph;
			json_array_foreach(json_object_get(s->r[r].doc, "workloads"), i, wl) {
				if (!is_repro(wl))
					continue;
				if (pass) {
					snprintf(name, sizeof name, "%s / -",
						 json_string_value(json_object_get(wl, "name")));
					add_row(rows, &n, name, strlen(name) - 1);
					continue;
				}
				json_array_foreach(json_object_get(wl, "reps"), j, rep)
					json_array_foreach(json_object_get(rep, "phases"), k, ph) {
					scen_name(name, sizeof name, wl, ph);
					add_row(rows, &n, name, sizeof name);
				}
			}
		}
	return n;
}

void an_repro_tally(const struct an_result *res, const char *row, struct an_tally *t)
{
	memset(t, 0, sizeof *t);
	size_t i, j, k;
	json_t *wl, *rep, *ph;
	json_array_foreach(json_object_get(res->doc, "workloads"), i, wl) {
		if (!is_repro(wl))
			continue;
		const char *wname = json_string_value(json_object_get(wl, "name"));
		size_t wn = strlen(wname);
		if (strncmp(row, wname, wn) || strncmp(row + wn, " / ", 3))
			continue;
		json_t *wskip = json_object_get(wl, "skipped");
		if (json_is_string(wskip))
			t->skip = json_string_value(wskip);
		json_array_foreach(json_object_get(wl, "reps"), j, rep) {
			json_t *rs = json_object_get(rep, "skipped"), *re = json_object_get(rep, "error");
			if (json_is_string(rs) || json_is_string(re))
				t->skip = json_string_value(json_is_string(re) ? re : rs);
			json_array_foreach(json_object_get(rep, "phases"), k, ph) {
				char name[160];
				scen_name(name, sizeof name, wl, ph);
				if (strcmp(name, row))
					continue;
				json_t *ps = json_object_get(ph, "skipped");
				if (json_is_string(ps)) {
					t->skip = json_string_value(ps);
					continue;
				}
				t->any = true;
				t->iterations += metric(ph, "iterations");
				t->in_flight += metric(ph, "in_flight");
				t->lost += metric(ph, "lost");
				/* O_DIRECT races also count losses outside the window. */
				json_t *m = json_object_get(ph, "metrics");
				t->lost_in_flight += metric(ph, json_object_get(m, "lost_in_flight")
									? "lost_in_flight" : "lost");
				t->copies += metric(ph, "copies");
			}
		}
	}
}

static void cell_text(char *out, size_t len, const struct an_tally *t)
{
	if (t->any)
		snprintf(out, len, "%.0f / %.0f / %.0f (%.0f in flight of %.0f)", t->lost,
			 t->in_flight - t->lost_in_flight, t->copies, t->in_flight, t->iterations);
	else if (t->skip)
		an_cut_words(out, len, "skipped: ", t->skip, 70);
	else
		snprintf(out, len, "not run");
}

void an_write_repro_md(FILE *f, const struct an_view *v)
{
	const struct an_set *s = v->s;
	struct an_repro_row *rows = calloc(AN_REPRO_MAX, sizeof *rows);
	int n = rows ? an_repro_rows(s, rows) : 0;
	if (!n) {
		free(rows);
		return;
	}
	fputs("## Seed scenarios (repro:*)\n\nEach cell: lost / coherent / copies (in flight "
	      "of iterations), summed over repetitions. *lost*: iterations whose data went "
	      "missing (the O_DIRECT read, the pin's or the pipe's view); *coherent*: "
	      "iterations in flight that kept sync (in flight − lost while in flight); *copies*: iterations "
	      "whose write moved the process to a new page. A race counts only when the read "
	      "was in flight.\n\n| scenario |", f);
	an_md_kernel_columns(f, v, 1);
	for (int i = 0; i < n; i++) {
		fprintf(f, "| %s |", rows[i].name);
		for (int k = 0; k < v->nk; k++) {
			struct an_tally t;
			char cell[160];
			an_repro_tally(&s->r[v->order[k]], rows[i].name, &t);
			cell_text(cell, sizeof cell, &t);
			an_md_cell(f, cell);
		}
		fputs("\n", f);
	}
	fputs("\n", f);
	free(rows);
}
