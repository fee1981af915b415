/* The app workloads phase by phase (see apps.h). */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "cbschema.h"
#include "mdtable.h"
#include "text.h"

#define AN_APPS_MAX_LINES 96

/* One line of an instance's table: a phase's metric, scaled for reading. */
struct line {
	const char *phase;
	const struct an_row *row;
	char label[96];
	double scale;  /* the shown value is the metric divided by this */
	int decimals;  /* -1: a count (whole, else one decimal) */
};

static bool is_app(const struct an_set *s, const char *name)
{
	for (int r = 0; r < s->n; r++) {
		size_t i;
		json_t *wl;
		json_array_foreach(json_object_get(s->r[r].doc, "workloads"), i, wl) {
			const char *n = json_string_value(json_object_get(wl, "name"));
			const char *suite = json_string_value(json_object_get(wl, "suite"));
			if (n && suite && !strcmp(n, name) && !strcmp(suite, "app"))
				return true;
		}
	}
	return false;
}

static bool any_nonzero(const struct an_row *row)
{
	for (int c = 0; row && c < row->ncells; c++)
		if (row->cells[c].st.median != 0)
			return true;
	return false;
}

/* A key the table adds for every phase, as opposed to a workload's own. */
static bool standard_key(const char *m)
{
	return cb_metric_key_find(m) || !strcmp(m, AN_ALL_COPIES) ||
	       !strncmp(m, "extra_by_cause.", 15);
}

static int add(struct line *out, int n, const struct an_table *t, const struct an_row *any,
	       const char *metric, const char *label, double scale, int decimals, bool if_nonzero)
{
	const struct an_row *row = an_find_row(t, any->wkey, any->phase, metric);
	if (!row || n >= AN_APPS_MAX_LINES || (if_nonzero && !any_nonzero(row)))
		return n;
	out[n] = (struct line){ any->phase, row, "", scale, decimals };
	snprintf(out[n].label, sizeof out[n].label, "%s", label);
	return n + 1;
}

/* The lines of one phase, any being one of its rows. */
static int phase_lines(const struct an_table *t, const struct an_row *any, struct line *out,
		       int n)
{
	static const char *const causes[] = { "swapcache", "ksm", "lru_batch", "pinned", "thp",
					      "other" };
	n = add(out, n, t, any, "written", "written pages", 1, -1, false);
	n = add(out, n, t, any, AN_ALL_COPIES, "copies", 1, -1, false);
	n = add(out, n, t, any, "extra_copies", "extra copies", 1, -1, false);
	for (size_t c = 0; c < sizeof causes / sizeof *causes; c++) {
		char key[64], label[64];
		snprintf(key, sizeof key, "extra_by_cause.%s", causes[c]);
		snprintf(label, sizeof label, "  extra: %s", causes[c]);
		n = add(out, n, t, any, key, label, 1, -1, true);
	}
	n = add(out, n, t, any, "reused", "reused", 1, -1, false);
	n = add(out, n, t, any, "swapin_copied", "swap-in copied", 1, -1, true);
	n = add(out, n, t, any, "swapin_reused", "swap-in reused", 1, -1, true);
	n = add(out, n, t, any, "refaulted", "refaulted", 1, -1, true);
	n = add(out, n, t, any, "swapcache_leftover_pages", "swap-cache leftovers", 1, -1, true);
	n = add(out, n, t, any, "copy_bytes", "copy MiB", 1048576, 2, false);
	/* The workload's own metrics, in the order the table has them. */
	for (int i = 0; i < t->n; i++) {
		const struct an_row *r = &t->rows[i];
		if (strcmp(r->wkey, any->wkey) || strcmp(r->phase, any->phase) ||
		    standard_key(r->metric))
			continue;
		bool bytes = !strcmp(r->unit, "bytes");
		char label[96];
		snprintf(label, sizeof label, "%s [%s]", r->metric,
			 bytes ? "MiB" : *r->unit ? r->unit : "count");
		/* times in whole units (ms, ns), seconds with two decimals */
		int decimals = bytes || !strcmp(r->unit, "s") ? 2
			       : r->kind == AN_TIME ? 0 : r->kind == AN_RATE ? 1 : -1;
		n = add(out, n, t, any, r->metric, label, bytes ? 1048576 : 1, decimals, false);
	}
	return n;
}

/* Every phase of one instance, in the table's order. */
static int instance_lines(const struct an_table *t, const char *wkey, struct line *out)
{
	int n = 0;
	for (int i = 0; i < t->n; i++) {
		const struct an_row *r = &t->rows[i];
		if (strcmp(r->wkey, wkey))
			continue;
		bool seen = false;
		for (int j = 0; j < n && !seen; j++)
			seen = !strcmp(out[j].phase, r->phase);
		if (!seen)
			n = phase_lines(t, r, out, n);
	}
	return n;
}

static void number(char *buf, size_t len, double v, int decimals)
{
	if (decimals >= 0)
		snprintf(buf, len, "%.*f", decimals, v);
	else if (v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

/* "center [min-max]" (the range when repetitions differ) and the mark. */
static void cell_text(const struct line *l, int result, char *buf, size_t len)
{
	const struct an_cell *c = an_find_cell(l->row, result);
	if (!c) {
		snprintf(buf, len, "-");
		return;
	}
	char v[32], lo[32], hi[32];
	number(v, sizeof v, c->st.center / l->scale, l->decimals);
	number(lo, sizeof lo, c->st.min / l->scale, l->decimals);
	number(hi, sizeof hi, c->st.max / l->scale, l->decimals);
	if (strcmp(lo, hi))
		snprintf(buf, len, "%s [%s-%s]%s", v, lo, hi, an_sig_mark(c->p));
	else
		snprintf(buf, len, "%s%s", v, an_sig_mark(c->p));
}

/* App instances that at least two documents have, in the table's order. */
static int app_instances(const struct an_table *t, const char **wkeys, const char **labels,
			 int max)
{
	int n = 0;
	for (int i = 0; i < t->n && n < max; i++) {
		const struct an_row *r = &t->rows[i];
		bool seen = false;
		for (int j = 0; j < n && !seen; j++)
			seen = !strcmp(wkeys[j], r->wkey);
		if (seen || r->ncells < 2 || !is_app(t->set, r->wl_name))
			continue;
		wkeys[n] = r->wkey;
		labels[n++] = r->workload;
	}
	return n;
}

static const char legend[] =
	"Every phase, medians over repetitions (times: means) with [min-max] when they differ; "
	"** p<0.01, * p<0.05: exact Mann-Whitney U against the baseline (times only between "
	"native runs: an emulated guest's times are TCG's, not its kernel's). Written, copies, "
	"extra copies and reuses count the application's tracked pages; a line with a [unit] "
	"is one of the workload's own metrics (docs/metrics.md).";

static void text_block(FILE *f, const struct an_view *v, const struct line *L, int n, int from,
		       int to, int phasew, int labelw, int cw)
{
	const struct an_set *s = v->s;
	fprintf(f, "  %-*s", phasew + 2 + labelw, "");
	for (int k = from; k < to; k++)
		fprintf(f, "%*s", cw, an_era_of(&s->r[v->order[k]]));
	fprintf(f, "\n  %-*s%-*s", phasew + 2, "phase", labelw, "metric");
	for (int k = from; k < to; k++) {
		char name[32];
		an_short_name(&s->r[v->order[k]], name, sizeof name, 12);
		fprintf(f, "%*s", cw, name);
	}
	fprintf(f, "\n");
	for (int i = 0; i < n; i++) {
		bool first = i == 0 || strcmp(L[i].phase, L[i - 1].phase);
		fprintf(f, "  %-*s%-*s", phasew + 2, first ? L[i].phase : "", labelw, L[i].label);
		for (int k = from; k < to; k++) {
			char cell[128];
			cell_text(&L[i], v->order[k], cell, sizeof cell);
			fprintf(f, "%*s", cw, cell);
		}
		fprintf(f, "\n");
	}
}

void an_apps_text(FILE *f, const struct an_table *t, const struct an_view *v, int width)
{
	const char *wkeys[32], *labels[32];
	int ni = app_instances(t, wkeys, labels, 32);
	static struct line L[AN_APPS_MAX_LINES];
	for (int a = 0; a < ni; a++) {
		int n = instance_lines(t, wkeys[a], L);
		int phasew = 5, labelw = 6, cw = 0;
		for (int i = 0; i < n; i++) {
			phasew = (int)strlen(L[i].phase) > phasew ? (int)strlen(L[i].phase) : phasew;
			labelw = (int)strlen(L[i].label) > labelw ? (int)strlen(L[i].label) : labelw;
			for (int k = 0; k < v->nk; k++) {
				char cell[128];
				cell_text(&L[i], v->order[k], cell, sizeof cell);
				cw = (int)strlen(cell) > cw ? (int)strlen(cell) : cw;
			}
		}
		for (int k = 0; k < v->nk; k++) {
			char name[32];
			const struct an_result *r = &v->s->r[v->order[k]];
			an_short_name(r, name, sizeof name, 12);
			cw = (int)strlen(name) > cw ? (int)strlen(name) : cw;
			cw = (int)strlen(an_era_of(r)) > cw ? (int)strlen(an_era_of(r)) : cw;
		}
		cw += 2;
		int per = (width - 2 - phasew - 2 - labelw) / cw;
		per = per < 1 ? 1 : per;
		fprintf(f, "\n%s\n", labels[a]);
		an_wrap(f, legend, 0, 0, width);
		for (int from = 0; from < v->nk; from += per) {
			int to = from + per < v->nk ? from + per : v->nk;
			text_block(f, v, L, n, from, to, phasew, labelw, cw);
		}
	}
}

void an_apps_md(FILE *f, const struct an_table *t, const struct an_view *v)
{
	const char *wkeys[32], *labels[32];
	int ni = app_instances(t, wkeys, labels, 32);
	if (!ni)
		return;
	static struct line L[AN_APPS_MAX_LINES];
	fputs("## Applications, phase by phase\n\n", f);
	fputs(legend, f);
	fputs("\n\n", f);
	for (int a = 0; a < ni; a++) {
		int n = instance_lines(t, wkeys[a], L);
		fputs("**", f);
		an_md_text(f, labels[a]);
		fputs("**\n\n| phase | metric |", f);
		an_md_kernel_columns(f, v, 2);
		for (int i = 0; i < n; i++) {
			bool first = i == 0 || strcmp(L[i].phase, L[i - 1].phase);
			fputs("| ", f);
			if (first)
				an_md_text(f, L[i].phase);
			fputs(" | ", f);
			an_md_text(f, L[i].label);
			fputs(" |", f);
			for (int k = 0; k < v->nk; k++) {
				char cell[128];
				cell_text(&L[i], v->order[k], cell, sizeof cell);
				an_md_cell(f, cell);
			}
			fputs("\n", f);
		}
		fputs("\n", f);
	}
}
