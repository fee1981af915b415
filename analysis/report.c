/* Outputs of `cowbench compare`: report.md (table, plots, environments,
 * verdicts), table.csv and table.json. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdtable.h"
#include "report.h"
#include "tables.h"

#define MIB (1024.0 * 1024.0)

static const char *kind_name(enum an_kind k)
{
	return k == AN_RATE ? "harmonic mean" : k == AN_TIME ? "mean" : "median";
}

static void num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (isinf(v))
		snprintf(buf, len, "%sinf", v < 0 ? "-" : "");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 100)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.4g", v);
}

static void change_text(char *buf, size_t len, const struct an_row *row, const struct an_cell *c)
{
	const struct an_cell *b = &row->cells[row->base];
	if (c == b)
		snprintf(buf, len, "baseline");
	else if (isnan(c->change))
		snprintf(buf, len, "%+g (baseline 0)", c->st.center - b->st.center);
	else
		snprintf(buf, len, "%+.1f%%", 100 * c->change);
}

static void p_text(char *buf, size_t len, double p)
{
	if (isnan(p))
		snprintf(buf, len, "-");
	else if (p == 0)
		snprintf(buf, len, "0 (exact)");
	else if (p < 0.001)
		snprintf(buf, len, "%.1e", p);
	else
		snprintf(buf, len, "%.3f", p);
}

static bool all_zero(const struct an_row *row)
{
	for (int c = 0; c < row->ncells; c++)
		if (row->cells[c].st.min != 0 || row->cells[c].st.max != 0)
			return false;
	return true;
}

static void md_table(FILE *f, const struct an_table *t, const char *wkey)
{
	fprintf(f, "| phase | metric | kernel | n | median | 95%% CI | aggregate | change | "
		   "p (Welch) | |\n|---|---|---|---:|---:|---|---:|---:|---:|---|\n");
	for (int i = 0; i < t->n; i++) {
		const struct an_row *row = &t->rows[i];
		if (strcmp(row->wkey, wkey) || all_zero(row))
			continue;
		for (int c = 0; c < row->ncells; c++) {
			const struct an_cell *x = &row->cells[c];
			char med[32], lo[32], hi[32], cen[32], ch[64], p[32];
			num(med, sizeof med, x->st.median);
			num(lo, sizeof lo, x->st.lo);
			num(hi, sizeof hi, x->st.hi);
			num(cen, sizeof cen, x->st.center);
			change_text(ch, sizeof ch, row, x);
			p_text(p, sizeof p, x->p);
			fputs("| ", f);
			an_md_text(f, row->phase);
			fputs(" | ", f);
			an_md_text(f, row->metric);
			fprintf(f, " (%s) | ", row->unit);
			an_md_text(f, t->set->r[x->result].label);
			fprintf(f, " | %d | %s | %s .. %s | %s %s | %s | %s | %s |\n", x->n, med, lo,
				hi, kind_name(row->kind), cen, ch, p, an_sig_mark(x->p));
		}
	}
}

static const char *jstr(json_t *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *j = o;
	for (char *tok = strtok(buf, "."); tok && j; tok = strtok(NULL, "."))
		j = json_object_get(j, tok);
	return json_is_string(j) ? json_string_value(j) : NULL;
}

static void md_env(FILE *f, const struct an_result *r)
{
	json_t *env = json_object_get(r->doc, "env");
	fputs("### ", f);
	an_md_text(f, r->label);
	fputs("\n\n- file: `", f);
	for (const char *p = r->path; *p; p++)
		fputc(*p == '`' || (unsigned char)*p < 0x20 ? '?' : *p, f);
	fputs("`\n- kernel: ", f);
	an_md_text(f, r->release);
	const char *by_counters = jstr(env, "kernel.era_by_counters.era");
	fprintf(f, "; era by version: %s; by counters: %s; by behaviour: %s%s\n", r->era_version,
		by_counters ? by_counters : "n/a",
		r->era_behaviour ? r->era_behaviour : "no fingerprint in this result",
		r->era_mismatch ? " (**disagrees with the version**)" : "");
	json_t *topo = json_object_get(json_object_get(env, "cpu"), "topology");
	fputs("- machine: ", f);
	an_md_text(f, r->host ? r->host : "?");
	fputs(", ", f);
	an_md_text(f, r->cpu ? r->cpu : "cpu unknown");
	fprintf(f, " (%lld cores, %lld NUMA nodes), %.1f GiB%s\n",
		json_integer_value(json_object_get(topo, "cores")),
		json_integer_value(json_object_get(topo, "numa_nodes")),
		(double)r->mem_bytes / (1 << 30), r->emulated ? ", **emulated (TCG guest)**" : "");
	json_t *swaps = json_object_get(json_object_get(env, "settings"), "swap_devices");
	const char *thp = jstr(env, "settings.thp.enabled");
	const char *ksm = jstr(env, "settings.ksm.run");
	fprintf(f, "- swap devices: %zu; THP: ", json_array_size(swaps));
	an_md_text(f, thp ? thp : "n/a");
	fprintf(f, "; KSM run: %s\n", ksm ? ksm : "n/a");
	const char *rev = jstr(env, "cowbench_revision");
	const char *created = json_string_value(json_object_get(r->doc, "created"));
	fprintf(f, "- measured %s with cowbench %s\n\n", created ? created : "?", rev ? rev : "?");
}

/* ---- verdicts ---- */

struct buf {
	char *s;
	size_t len;
	FILE *f;
};

static double cell_median(const struct an_table *t, const char *wkey, const char *phase,
			  const char *metric, int result)
{
	const struct an_cell *c = an_find_cell(an_find_row(t, wkey, phase, metric), result);
	return c ? c->st.median : NAN;
}

static const char *era_words(const struct an_result *r)
{
	return an_era_of(r);
}

/* One sentence for one kernel and phase whose copies differ from the
 * baseline's, e.g. "page_count-era kernel 5.10 copies 256 of 256 pages in
 * phase 'write' that 6.1 reuses: +1.0 MiB per MiB written". */
static bool copy_sentence(FILE *f, const struct an_table *t, const struct an_row *row, int c)
{
	const struct an_cell *x = &row->cells[c], *b = &row->cells[row->base];
	if (c == row->base || x->st.median == b->st.median)
		return false;
	bool real = !isnan(x->p) && x->p < 0.05;
	const struct an_result *k = &t->set->r[x->result], *base = &t->set->r[b->result];
	double pages = cell_median(t, row->wkey, row->phase, "pages", x->result);
	double diff = x->st.median - b->st.median;
	fprintf(f, "- %s-era kernel %s ", era_words(k), k->release);
	if (diff > 0 && b->st.median == 0)
		fprintf(f, "copies %.0f of %.0f pages in phase '%s' that %s (%s era) reuses",
			x->st.median, pages, row->phase, base->release, era_words(base));
	else if (diff > 0)
		fprintf(f, "copies %.0f of %.0f pages in phase '%s' where %s (%s era) copies %.0f",
			x->st.median, pages, row->phase, base->release, era_words(base),
			b->st.median);
	else
		fprintf(f, "copies %.0f of %.0f pages in phase '%s' where %s (%s era) copies %.0f "
			   "(reuses %.0f more)", x->st.median, pages, row->phase, base->release,
			era_words(base), b->st.median, -diff);
	double ps = json_number_value(json_object_get(json_object_get(json_object_get(k->doc,
		"env"), "memory"), "page_size"));
	if (pages > 0)
		fprintf(f, ": %+.2f MiB of copies per MiB written (%+.1f MiB)", diff / pages,
			diff * (ps > 0 ? ps : 4096) / MIB);
	fprintf(f, "%s.\n", real ? "" : " (not significant over the repetitions)");
	return true;
}

static void time_sentence(FILE *f, const struct an_table *t, const char *wkey)
{
	for (int i = 0; i < t->n; i++) {
		const struct an_row *row = &t->rows[i];
		if (strcmp(row->wkey, wkey) || strcmp(row->metric, "ns_per_op"))
			continue;
		for (int c = 0; c < row->ncells; c++) {
			const struct an_cell *x = &row->cells[c];
			const struct an_result *k = &t->set->r[x->result];
			if (c == row->base || isnan(x->p) || x->p >= 0.05 || isnan(x->change))
				continue;
			if (k->emulated || t->set->r[row->cells[row->base].result].emulated)
				continue;
			fprintf(f, "- %s: time per operation in phase '%s' %+.1f%% against the "
				   "baseline (%.0f vs %.0f ns, Welch p=%.2g).\n", k->release, row->phase,
				100 * x->change, x->st.center, row->cells[row->base].st.center, x->p);
		}
	}
}

char *an_verdict(const struct an_table *t, const char *wkey)
{
	struct buf b = { 0 };
	b.f = open_memstream(&b.s, &b.len);
	int said = 0;
	for (int i = 0; i < t->n; i++) {
		const struct an_row *row = &t->rows[i];
		if (strcmp(row->wkey, wkey) || strcmp(row->metric, "copied"))
			continue;
		for (int c = 0; c < row->ncells; c++)
			said += copy_sentence(b.f, t, row, c);
	}
	if (!said) {
		bool one = true;
		int who = t->baseline;
		for (int i = 0; i < t->n; i++) {
			const struct an_row *row = &t->rows[i];
			if (strcmp(row->wkey, wkey))
				continue;
			one &= row->ncells < 2;
			who = row->cells[row->base].result;
		}
		fprintf(b.f, one ? "- only %s measured this workload:"
				 : "- every kernel makes the same copy/reuse decisions as %s:",
			t->set->r[who].label);
		for (int i = 0; i < t->n; i++) {
			const struct an_row *row = &t->rows[i];
			if (strcmp(row->wkey, wkey) || strcmp(row->metric, "copied"))
				continue;
			const struct an_cell *x = &row->cells[row->base];
			fprintf(b.f, " '%s' copies %.0f of %.0f pages;", row->phase, x->st.median,
				cell_median(t, wkey, row->phase, "pages", x->result));
		}
		fprintf(b.f, "\n");
	}
	time_sentence(b.f, t, wkey);
	fclose(b.f);
	return b.s;
}

int an_write_md(const struct an_table *t, const struct an_opts *o, const struct an_plots *pl,
		const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cowbench compare: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	const struct an_set *s = t->set;
	fprintf(f, "# cowbench compare\n\nBaseline: ");
	an_md_text(f, s->r[t->baseline].label);
	fprintf(f, ". %d result documents.\n\n", s->n);
	char why[1024];
	if (an_different_machines(s, why, sizeof why)) {
		fputs("**Different machines:** ", f);
		an_md_text(f, why);
		fputs(".\n\n", f);
	}
	for (int i = 0; i < s->n; i++)
		if (s->r[i].emulated)
			fprintf(f, "**Emulated result:** `%s` comes from an emulated guest; its times "
				   "are %s.\n\n", s->r[i].path, o->emulated_times
				   ? "plotted because --emulated-times was given: they are not "
				     "comparable with native times"
				   : "not plotted (pass --emulated-times to plot them)");
	for (int i = 0; i < an_nsections; i++)
		an_sections[i].write_md(f, s);
	fputs("## Verdicts\n\n", f);
	for (int i = 0; i < t->n; i++) {
		if (i && !strcmp(t->rows[i].wkey, t->rows[i - 1].wkey))
			continue;
		char *v = an_verdict(t, t->rows[i].wkey);
		fputs("**", f);
		an_md_text(f, t->rows[i].workload);
		fprintf(f, "**\n\n%s\n", v);
		free(v);
	}
	fputs("## Plots\n\n", f);
	for (int i = 0; i < pl->n; i++)
		fprintf(f, "### %s\n\n![%s](%s.png)\n\n([SVG](%s.svg))\n\n", pl->titles[i],
			pl->titles[i], pl->names[i], pl->names[i]);
	for (int i = 0; i < pl->nnotes; i++)
		fprintf(f, "- %s\n", pl->notes[i]);
	fputs("\n## Table\n\nMedian over repetitions; 95% CI: Student-t interval of the mean "
	      "(for rates: of the harmonic mean, via the mean of reciprocals); aggregate: "
	      "median for counts (exact), arithmetic mean for times, harmonic mean for rates; "
	      "change: of the aggregate against the baseline kernel; p: two-sided Welch's "
	      "t-test on the repetitions against the baseline (* p < 0.05, ** p < 0.01; "
	      "\"0 (exact)\": both kernels gave the same value in every repetition). Rows that "
	      "are 0 on every kernel are left out here (see table.csv).\n\n", f);
	for (int i = 0; i < t->n; i++) {
		if (i && !strcmp(t->rows[i].wkey, t->rows[i - 1].wkey))
			continue;
		fputs("### ", f);
		an_md_text(f, t->rows[i].workload);
		fputs("\n\n", f);
		md_table(f, t, t->rows[i].wkey);
		fputs("\n", f);
	}
	fputs("## Environments\n\n", f);
	for (int i = 0; i < s->n; i++)
		md_env(f, &s->r[i]);
	return fclose(f) ? -1 : 0;
}

/* CSV field: quoted, and a leading = + - @ neutralised so a spreadsheet
 * does not evaluate a label as a formula. */
static void csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	if (strchr("=+-@", *s) && *s)
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
	}
	fputc('"', f);
}

static void csv_num(FILE *f, double v)
{
	if (!isnan(v) && !isinf(v))
		fprintf(f, "%.10g", v);
}

int an_write_csv(const struct an_table *t, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "cowbench compare: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("workload,phase,metric,unit,aggregate,kernel,release,era,file,baseline,n,median,"
	      "center,ci95_lo,ci95_hi,min,max,sd,change,p_welch,significant\n", f);
	for (int i = 0; i < t->n; i++) {
		const struct an_row *row = &t->rows[i];
		for (int c = 0; c < row->ncells; c++) {
			const struct an_cell *x = &row->cells[c];
			const struct an_result *r = &t->set->r[x->result];
			const char *strs[] = { row->workload, row->phase, row->metric, row->unit,
					       kind_name(row->kind), r->label, r->release,
					       an_era_of(r), r->path };
			for (size_t k = 0; k < sizeof strs / sizeof *strs; k++) {
				csv_str(f, strs[k]);
				fputc(',', f);
			}
			fprintf(f, "%d,%d,", c == row->base, x->n);
			double nums[] = { x->st.median, x->st.center, x->st.lo, x->st.hi, x->st.min,
					  x->st.max, x->st.sd, x->change, x->p };
			for (size_t k = 0; k < sizeof nums / sizeof *nums; k++) {
				csv_num(f, nums[k]);
				fputc(',', f);
			}
			fprintf(f, "%d\n", !isnan(x->p) && x->p < 0.05);
		}
	}
	return fclose(f) ? -1 : 0;
}

static json_t *jnum(double v)
{
	return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *json_cells(const struct an_row *row)
{
	json_t *a = json_array();
	for (int c = 0; c < row->ncells; c++) {
		const struct an_cell *x = &row->cells[c];
		json_t *vals = json_array();
		for (int i = 0; i < x->n; i++)
			json_array_append_new(vals, json_real(x->v[i]));
		json_array_append_new(a, json_pack("{s:i, s:b, s:i, s:o, s:o, s:[o,o], s:o, s:o, "
						   "s:o, s:o, s:o, s:b, s:o}",
			"kernel", x->result, "baseline", c == row->base, "n", x->n,
			"median", jnum(x->st.median), "center", jnum(x->st.center),
			"ci95", jnum(x->st.lo), jnum(x->st.hi), "min", jnum(x->st.min),
			"max", jnum(x->st.max), "sd", jnum(x->st.sd), "change", jnum(x->change),
			"p_welch", jnum(x->p), "significant", !isnan(x->p) && x->p < 0.05,
			"values", vals));
	}
	return a;
}

int an_write_json(const struct an_table *t, const char *path)
{
	json_t *kernels = json_array(), *rows = json_array();
	for (int i = 0; i < t->set->n; i++) {
		const struct an_result *r = &t->set->r[i];
		json_array_append_new(kernels, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b, s:b}",
			"file", r->path, "label", r->label, "release", r->release,
			"era_by_version", r->era_version, "era_by_behaviour", r->era_behaviour,
			"era_mismatch", r->era_mismatch, "emulated", r->emulated));
	}
	for (int i = 0; i < t->n; i++) {
		const struct an_row *row = &t->rows[i];
		json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}",
			"workload", row->workload, "phase", row->phase, "metric", row->metric,
			"unit", row->unit, "aggregate", kind_name(row->kind),
			"cells", json_cells(row)));
	}
	json_t *doc = json_pack("{s:s, s:i, s:s, s:s, s:o, s:o}", "schema", "cowbench-compare/1",
				"baseline", t->baseline, "test", "two-sided Welch t-test",
				"ci", "95% Student-t interval of the mean (rates: harmonic mean)",
				"kernels", kernels, "rows", rows);
	int rc = json_dump_file(doc, path, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
	if (rc)
		fprintf(stderr, "cowbench compare: cannot write %s\n", path);
	json_decref(doc);
	return rc;
}
