/* The capacity table (see capacity.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capacity.h"
#include "mdtable.h"
#include "stats.h"
#include "text.h"

#define WORKLOAD "reclaim-pressure"
#define MIN_SWEEP 3

static const char method[] =
	"reclaim-pressure writes every page of its working set once while a memory hog keeps "
	"their cgroup at its limit, after a child that shared the pages has exited, so the "
	"writer maps every page alone. Extra memory: pages copied all the same, times the page "
	"size, per GiB of working set written (the denominator is the working set, -o size=). "
	"Stale swap cache: originals of those copies still in the swap cache after the write, "
	"memory and swap slots holding data nobody maps (no swap I/O is attributed to the "
	"policy: the phase's swap traffic belongs to the whole cgroup, the hog's included). Slope: least-squares fit of extra MiB against working-set GiB over a sweep of "
	"at least 3 sizes (one run per size); below 3 sizes there is no slope.";

/* Median, min and max over repetitions of one capacity metric. */
static bool rep_stats(json_t *wl, const char *key, double *med, double *lo, double *hi)
{
	double v[AN_MAX_REPS];
	int n = 0;
	size_t i, j;
	json_t *rep, *ph;
	json_array_foreach(json_object_get(wl, "reps"), i, rep)
		json_array_foreach(json_object_get(rep, "phases"), j, ph) {
		const char *name = json_string_value(json_object_get(ph, "name"));
		json_t *x = json_object_get(json_object_get(json_object_get(ph, "metrics"), key),
					    "value");
		if (name && !strcmp(name, "capacity") && json_is_number(x) && n < AN_MAX_REPS)
			v[n++] = json_number_value(x);
	}
	if (!n)
		return false;
	*med = an_median(v, n);
	*lo = *hi = v[0];
	for (int k = 1; k < n; k++) {
		*lo = fmin(*lo, v[k]);
		*hi = fmax(*hi, v[k]);
	}
	return true;
}

static void add_point(struct an_cap_row *row, json_t *wl)
{
	json_t *size = json_object_get(json_object_get(wl, "params"), "size");
	struct an_cap_point p = { .gib = json_number_value(size) / (1 << 30) };
	double lo, hi;
	if (p.gib <= 0 || row->n >= AN_CAP_SIZES ||
	    !rep_stats(wl, "extra_memory", &p.extra, &p.lo, &p.hi))
		return;
	/* extra_swap_io: the name in documents before 0.2 */
	if (!rep_stats(wl, "stale_swapcache", &p.swapio, &lo, &hi) &&
	    !rep_stats(wl, "extra_swap_io", &p.swapio, &lo, &hi))
		p.swapio = NAN;
	int at = row->n++;
	while (at > 0 && row->pts[at - 1].gib > p.gib) {
		row->pts[at] = row->pts[at - 1];
		at--;
	}
	row->pts[at] = p;
}

/* Least squares of extra MiB (per-GiB cost times size) against size. */
static double slope(const struct an_cap_row *row)
{
	if (row->n < MIN_SWEEP)
		return NAN;
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < row->n; i++) {
		double x = row->pts[i].gib, y = row->pts[i].extra * x;
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
	}
	double d = row->n * sxx - sx * sx;
	return d > 0 ? (row->n * sxy - sx * sy) / d : NAN;
}

int an_capacity(const struct an_view *v, struct an_cap_row *rows)
{
	int n = 0;
	for (int k = 0; k < v->nk; k++) {
		struct an_cap_row *row = &rows[n];
		memset(row, 0, sizeof *row);
		row->result = v->order[k];
		size_t i;
		json_t *wl;
		json_array_foreach(json_object_get(v->s->r[row->result].doc, "workloads"), i, wl) {
			const char *name = json_string_value(json_object_get(wl, "name"));
			if (name && !strcmp(name, WORKLOAD))
				add_point(row, wl);
		}
		row->slope = slope(row);
		n += row->n > 0;
	}
	return n;
}

static void size_text(char *buf, size_t len, double gib)
{
	if (gib >= 1)
		snprintf(buf, len, "%gG", gib);
	else
		snprintf(buf, len, "%gM", gib * 1024);
}

/* The largest size's costs and the sweep's slope, as cell texts. */
static void row_texts(const struct an_cap_row *row, char t[4][96])
{
	const struct an_cap_point *p = &row->pts[row->n - 1];
	size_t used = 0;
	t[0][0] = 0;
	for (int i = 0; i < row->n; i++) {
		char s[32];
		size_text(s, sizeof s, row->pts[i].gib);
		used += (size_t)snprintf(t[0] + used, 96 - used, "%s%s", i ? "," : "", s);
		if (used >= 96)
			break;
	}
	snprintf(t[1], 96, "%.0f [%.0f-%.0f]", p->extra, p->lo, p->hi);
	if (isnan(p->swapio))
		snprintf(t[2], 96, "-");
	else
		snprintf(t[2], 96, "%.0f", p->swapio);
	if (isnan(row->slope))
		snprintf(t[3], 96, "needs %d sizes (has %d)", MIN_SWEEP, row->n);
	else
		snprintf(t[3], 96, "%.0f MiB/GiB", row->slope);
}

static void kernel_name(const struct an_view *v, int result, char *buf, size_t len)
{
	const struct an_result *r = &v->s->r[result];
	char name[32];
	an_short_name(r, name, sizeof name, 12);
	snprintf(buf, len, "%s (%s)", name, an_era_of(r));
}

void an_write_capacity_md(FILE *f, const struct an_view *v)
{
	struct an_cap_row rows[AN_MAX_RESULTS];
	int n = an_capacity(v, rows);
	if (!n)
		return;
	fputs("## Capacity: what the policy costs per GiB under reclaim\n\n", f);
	an_md_text(f, method);
	fputs(" Costs at the largest size; [min-max] over repetitions (docs/metrics.md)."
	      "\n\n| kernel | sizes | extra memory, MiB per GiB written | stale swap cache, "
	      "MiB per GiB | slope over sizes |\n|---|---|---:|---:|---|\n", f);
	for (int i = 0; i < n; i++) {
		char name[64], t[4][96];
		kernel_name(v, rows[i].result, name, sizeof name);
		row_texts(&rows[i], t);
		fprintf(f, "| %s | %s | %s | %s | %s |\n", name, t[0], t[1], t[2], t[3]);
	}
	fputs("\n", f);
}

void an_write_capacity_text(FILE *f, const struct an_view *v, int width)
{
	struct an_cap_row rows[AN_MAX_RESULTS];
	int n = an_capacity(v, rows);
	if (!n) {
		an_wrap(f, "Capacity: no result has reclaim-pressure, the workload that measures "
			   "it.", 0, 2, width);
		return;
	}
	fprintf(f, "\nCapacity: extra memory and stale swap cache per GiB written under reclaim\n");
	fprintf(f, "%-24s %-12s %-22s %-12s %s\n", "kernel", "sizes", "extra MiB/GiB [range]",
		"stale MiB/GiB", "slope");
	for (int i = 0; i < n; i++) {
		char name[64], t[4][96];
		kernel_name(v, rows[i].result, name, sizeof name);
		row_texts(&rows[i], t);
		fprintf(f, "%-24s %-12s %-22s %-12s %s\n", name, t[0], t[1], t[2], t[3]);
	}
	an_wrap(f, method, 0, 0, width);
}
