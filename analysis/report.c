/* Outputs of `cowbench compare`: report.md (warnings, the summary and its
 * verdicts, the per-workload tables, plots, details), and the long form in
 * table.csv and table.json. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "mdtable.h"
#include "report.h"
#include "summary.h"
#include "tables.h"

#define MIB (1024.0 * 1024.0)

static const char *kind_name(enum an_kind k)
{
	return k == AN_RATE ? "harmonic mean" : k == AN_TIME ? "mean" : "median";
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

/* One line per document: what a reader needs to trust or question it. */
static void md_env(FILE *f, const struct an_result *r)
{
	json_t *env = json_object_get(r->doc, "env");
	fputs("- **", f);
	an_md_text(f, r->label);
	fputs("**: ", f);
	an_md_text(f, r->path);
	const char *by_counters = jstr(env, "kernel.era_by_counters.era");
	fprintf(f, "; era by version %s, by counters %s, by behaviour %s", r->era_version,
		by_counters ? by_counters : "n/a", r->era_behaviour ? r->era_behaviour : "n/a");
	fputs("; ", f);
	an_md_text(f, r->cpu ? r->cpu : "cpu unknown");
	fprintf(f, ", %.1f GiB%s", (double)r->mem_bytes / (1 << 30),
		r->emulated ? ", emulated (TCG)" : "");
	json_t *swaps = json_object_get(json_object_get(env, "settings"), "swap_devices");
	const char *thp = jstr(env, "settings.thp.enabled");
	fprintf(f, "; %zu swap devices; THP ", json_array_size(swaps));
	an_md_text(f, thp ? thp : "n/a");
	const char *rev = jstr(env, "cowbench_revision");
	const char *created = json_string_value(json_object_get(r->doc, "created"));
	fprintf(f, "; measured %s with cowbench %s%s\n", created ? created : "?", rev ? rev : "?",
		r->incomplete ? "; **incomplete run**" : "");
}

/* Warnings a reader must see before any number. */
static void md_warnings(FILE *f, const struct an_set *s, const struct an_opts *o)
{
	char why[1024];
	if (an_different_machines(s, why, sizeof why)) {
		fputs("**Different machines:** ", f);
		an_md_text(f, why);
		fputs(".\n\n", f);
	}
	for (int i = 0; i < s->n; i++)
		if (s->r[i].incomplete) {
			fputs("**Incomplete:** ", f);
			an_md_text(f, s->r[i].path);
			fputs(" says \"complete\": false (an interrupted run): what it lacks is not "
			      "measured.\n\n", f);
		}
	int emulated = 0;
	for (int i = 0; i < s->n; i++)
		emulated += s->r[i].emulated;
	if (emulated)
		fprintf(f, "**Emulated:** %d of %d documents come from emulated (TCG) guests: "
			   "their times are %s, and no time of theirs is tested.\n\n", emulated, s->n,
			o->emulated_times ? "plotted (--emulated-times) but not comparable with "
					    "native times" : "not plotted");
}

static void md_plots(FILE *f, const struct an_plots *pl)
{
	fputs("## Plots\n\nEach answers one question; metrics: docs/metrics.md, scenarios: "
	      "docs/scenarios.md.\n\n", f);
	for (int i = 0; i < pl->n; i++)
		fprintf(f, "**%s** ([SVG](%s.svg))\n\n![%s](%s.png)\n\n", pl->titles[i],
			pl->names[i], pl->names[i], pl->names[i]);
	for (int i = 0; i < pl->nnotes; i++)
		fprintf(f, "- note: %s\n", pl->notes[i]);
	fputs(pl->nnotes ? "\n" : "", f);
}

static void md_details(FILE *f, const struct an_set *s)
{
	fputs("## Details\n\nThe long form, every workload x phase x metric x kernel with its "
	      "statistics, is in table.csv and table.json. Counts: median over repetitions "
	      "with a distribution-free interval of the median (order statistics; the range up "
	      "to 8 repetitions), tested with the exact Mann-Whitney U. Times: mean with a "
	      "Student-t 95% interval, Welch's t-test, native runs only. Rates: harmonic mean."
	      "\n\n", f);
	for (int i = 0; i < s->n; i++)
		md_env(f, &s->r[i]);
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
	fputs("# cowbench compare\n\nBaseline: ", f);
	an_md_text(f, s->r[t->baseline].label);
	fprintf(f, ". %d result documents.\n\n", s->n);
	md_warnings(f, s, o);
	struct an_summary S;
	an_summary_build(&S, t);
	an_summary_md(f, &S);
	an_apps_md(f, t, &S.v);
	for (int i = 0; i < an_nsections; i++)
		an_sections[i].write_md(f, &S.v);
	md_plots(f, pl);
	md_details(f, s);
	return fclose(f) ? -1 : 0;
}

static const char *test_name(const struct an_row *row)
{
	return row->kind == AN_COUNT ? "exact Mann-Whitney U" : "Welch t (native runs only)";
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
	      "center,ci95_lo,ci95_hi,min,max,sd,change,p,test,significant\n", f);
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
			csv_str(f, test_name(row));
			fprintf(f, ",%d\n", !isnan(x->p) && x->p < 0.05);
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
			"p", jnum(x->p), "significant", !isnan(x->p) && x->p < 0.05,
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
		json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
			"workload", row->workload, "phase", row->phase, "metric", row->metric,
			"unit", row->unit, "aggregate", kind_name(row->kind), "test", test_name(row),
			"cells", json_cells(row)));
	}
	json_t *doc = json_pack("{s:s, s:i, s:s, s:s, s:o, s:o}", "schema", "cowbench-compare/1",
				"baseline", t->baseline, "test", "per row: two-sided exact Mann-Whitney U "
				"for counts, Welch t-test for times of native runs",
				"ci", "counts: order-statistic interval of the median; times: 95% "
				"Student-t interval of the mean; rates: of the harmonic mean",
				"kernels", kernels, "rows", rows);
	int rc = json_dump_file(doc, path, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
	if (rc)
		fprintf(stderr, "cowbench compare: cannot write %s\n", path);
	json_decref(doc);
	return rc;
}
