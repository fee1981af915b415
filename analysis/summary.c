/* The summary table and its verdicts (see summary.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mdtable.h"
#include "summary.h"
#include "text.h"

/* Old reclaim-pressure documents leave `copied` null under reclaim and
 * count the copies of present pages themselves; the child has exited, so
 * the writer maps every page alone and each such copy is an extra one.
 * Those copies whose original was in the swap cache are its leftovers. */
static const struct {
	const char *copies, *leftovers;
} stand_ins[] = { { "present_pages_copied", "present_pages_copied_original_in_swapcache" } };

static void pick_denominator(const struct an_table *t, struct an_srow *r)
{
	static const char *const names[] = { "written", "pages", "ops" };
	r->denom_metric = NULL;
	r->denom = NAN;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const struct an_row *d = an_find_row(t, r->wkey, r->phase, names[i]);
		bool positive = d != NULL;
		for (int c = 0; d && c < d->ncells; c++)
			positive &= d->cells[c].st.median > 0;
		if (!positive)
			continue;
		r->denom_metric = names[i];
		r->denom = an_row_differs(d) ? NAN : d->cells[0].st.median;
		return;
	}
}

/* The copy rows of one workload phase; false when it has none. */
static bool copy_rows(const struct an_table *t, const struct an_row *any, struct an_srow *r)
{
	memset(r, 0, sizeof *r);
	r->wkey = any->wkey;
	r->workload = any->workload;
	r->phase = any->phase;
	r->copies = an_find_row(t, r->wkey, r->phase, AN_ALL_COPIES);
	r->extra = an_find_row(t, r->wkey, r->phase, "extra_copies");
	r->leftovers = an_find_row(t, r->wkey, r->phase, "swapcache_leftover_pages");
	for (size_t i = 0; !r->copies && i < sizeof stand_ins / sizeof *stand_ins; i++) {
		r->copies = an_find_row(t, r->wkey, r->phase, stand_ins[i].copies);
		r->stand_in = r->copies ? stand_ins[i].copies : NULL;
		r->extra = r->copies;
		if (r->copies)
			r->leftovers = an_find_row(t, r->wkey, r->phase, stand_ins[i].leftovers);
	}
	if (r->copies && r->copies->ncells < 2)
		return false; /* nothing to compare */
	pick_denominator(t, r);
	return r->copies != NULL;
}

static void note_same(struct an_summary *S, const char *workload)
{
	for (int i = 0; i < S->nsame; i++)
		if (!strcmp(S->same[i], workload))
			return;
	if (S->nsame < 64)
		S->same[S->nsame++] = workload;
}

static void drop_same(struct an_summary *S, const char *workload)
{
	for (int i = 0; i < S->nsame; i++)
		if (!strcmp(S->same[i], workload))
			S->same[i] = S->same[--S->nsame];
}

void an_summary_build(struct an_summary *S, const struct an_table *t)
{
	memset(S, 0, sizeof *S);
	S->t = t;
	an_view_init(&S->v, t->set, t->baseline);
	for (int i = 0; i < t->n; i++) {
		const struct an_row *row = &t->rows[i];
		if (i && !strcmp(row->wkey, t->rows[i - 1].wkey) &&
		    !strcmp(row->phase, t->rows[i - 1].phase))
			continue;
		struct an_srow r;
		if (!copy_rows(t, row, &r))
			continue;
		if (!an_row_differs(r.copies) && !an_row_differs(r.extra)) {
			note_same(S, r.workload);
			continue;
		}
		if (S->n < AN_SUMMARY_MAX)
			S->rows[S->n++] = r;
	}
	for (int i = 0; i < S->n; i++)
		drop_same(S, S->rows[i].workload);
}

static void count_text(char *buf, size_t len, double v)
{
	if (v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

void an_summary_cell(const struct an_srow *r, int result, char *buf, size_t len)
{
	const struct an_cell *c = an_find_cell(r->copies, result);
	if (!c) {
		snprintf(buf, len, "-");
		return;
	}
	char copies[32], extra[32] = "-";
	count_text(copies, sizeof copies, c->st.median);
	const struct an_cell *e = an_find_cell(r->extra, result);
	if (e)
		count_text(extra, sizeof extra, e->st.median);
	snprintf(buf, len, "%s (%s)%s", copies, extra, an_sig_mark(c->p));
}

void an_summary_kernel(const struct an_summary *S, int result, char *buf, size_t len)
{
	const struct an_result *k = &S->t->set->r[result];
	char name[32];
	an_short_name(k, name, sizeof name, 12);
	snprintf(buf, len, "%s (%s)", name, an_era_of(k));
}

/* Kernels (in column order) whose copies median is v, as "A and B
 * (page_count), C (exclusive)": the era once per run of one era. */
static int names_with(const struct an_summary *S, const struct an_srow *r, double v, FILE *f)
{
	int k[AN_MAX_RESULTS], n = 0;
	for (int i = 0; i < S->v.nk; i++) {
		const struct an_cell *c = an_find_cell(r->copies, S->v.order[i]);
		if (c && c->st.median == v)
			k[n++] = S->v.order[i];
	}
	const struct an_set *s = S->t->set;
	for (int i = 0; i < n; i++) {
		char name[32];
		an_short_name(&s->r[k[i]], name, sizeof name, 12);
		const char *era = an_era_of(&s->r[k[i]]);
		bool last_of_era = i + 1 == n || strcmp(era, an_era_of(&s->r[k[i + 1]]));
		bool same_era = i > 0 && !strcmp(era, an_era_of(&s->r[k[i - 1]]));
		bool and = i == n - 1 || (same_era && last_of_era);
		fprintf(f, "%s%s", i == 0 ? "" : and ? " and " : ", ", name);
		if (last_of_era)
			fprintf(f, " (%s)", era);
	}
	return n;
}

char *an_summary_verdict(const struct an_summary *S, const struct an_srow *r)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	double seen[AN_MAX_RESULTS];
	int nseen = 0;
	fprintf(f, "%s %s: ", r->workload, r->phase);
	for (int i = 0; i < S->v.nk; i++) {
		const struct an_cell *c = an_find_cell(r->copies, S->v.order[i]);
		bool dup = !c;
		for (int j = 0; j < nseen && !dup; j++)
			dup = seen[j] == c->st.median;
		if (dup)
			continue;
		seen[nseen] = c->st.median;
		fputs(nseen++ ? "; " : "", f);
		char v[32];
		count_text(v, sizeof v, c->st.median);
		int n = names_with(S, r, c->st.median, f);
		fprintf(f, " %s %s", n > 1 ? "copy" : "copies", v);
	}
	if (!isnan(r->denom))
		fprintf(f, " of %.0f %s", r->denom,
			!strcmp(r->denom_metric, "written") ? "written pages"
			: !strcmp(r->denom_metric, "pages") ? "pages" : "writes");
	fputs(".", f);
	fclose(f);
	return s;
}

static void md_header(FILE *f, const struct an_summary *S)
{
	const struct an_set *s = S->t->set;
	fputs("| workload phase | of |", f);
	for (int i = 0; i < S->v.nk; i++) {
		char name[32];
		an_short_name(&s->r[S->v.order[i]], name, sizeof name, 12);
		fprintf(f, " %s%s |", name, i ? "" : " (baseline)");
	}
	fputs("\n|---|---:|", f);
	for (int i = 0; i < S->v.nk; i++)
		fputs("---:|", f);
	fputs("\n| *era* | |", f);
	for (int i = 0; i < S->v.nk; i++)
		fprintf(f, " *%s* |", an_era_of(&s->r[S->v.order[i]]));
	fputs("\n", f);
}

static void denom_text(char *buf, size_t len, const struct an_srow *r)
{
	if (isnan(r->denom))
		snprintf(buf, len, "%s", r->denom_metric ? "varies" : "-");
	else
		snprintf(buf, len, "%.0f", r->denom);
}

void an_summary_md(FILE *f, const struct an_summary *S)
{
	fputs("## Summary: where the kernels differ\n\n", f);
	if (!S->n) {
		fputs("Every kernel makes the same copy/reuse decisions in every phase.\n\n", f);
		return;
	}
	fputs("Cells: **copies (extra)**, medians over repetitions of the pages copied on "
	      "write and of the copies the writer did not need (it mapped the page alone); "
	      "*of*: pages written (docs/metrics.md). Scenarios: docs/scenarios.md. Marks: "
	      "exact Mann-Whitney U against the baseline's repetitions, ** p < 0.01, "
	      "* p < 0.05; no mark: no difference or too few repetitions.\n\n", f);
	md_header(f, S);
	bool stand_in = false;
	for (int i = 0; i < S->n; i++) {
		const struct an_srow *r = &S->rows[i];
		char d[32];
		denom_text(d, sizeof d, r);
		fputs("| ", f);
		an_md_text(f, r->workload);
		fputs(" ", f);
		an_md_text(f, r->phase);
		fprintf(f, "%s | %s |", r->stand_in ? " †" : "", d);
		stand_in |= r->stand_in != NULL;
		for (int k = 0; k < S->v.nk; k++) {
			char cell[64];
			an_summary_cell(r, S->v.order[k], cell, sizeof cell);
			fprintf(f, " %s |", cell);
		}
		fputs("\n", f);
	}
	if (stand_in)
		fputs("\n† `copied` is null in these documents: the workload's own "
		      "`present_pages_copied` stands in, and as the child has exited every such "
		      "copy is extra.\n", f);
	fputs("\n", f);
	for (int i = 0; i < S->n; i++) {
		char *v = an_summary_verdict(S, &S->rows[i]);
		fputs("- ", f);
		an_md_text(f, v);
		fputs("\n", f);
		free(v);
	}
	if (S->nsame) {
		fputs("- The same on every kernel that ran them:", f);
		for (int i = 0; i < S->nsame; i++) {
			fputs(i ? ", " : " ", f);
			an_md_text(f, S->same[i]);
		}
		fputs(".\n", f);
	}
	fputs("\n", f);
}

/* ---- terminal ---- */

/* Lines of table and verdicts that make one screen with the rest. */
#define AN_SUMMARY_SCREEN 44

static int cell_width(const struct an_summary *S)
{
	int w = 9;
	for (int i = 0; i < S->n; i++)
		for (int k = 0; k < S->v.nk; k++) {
			char cell[64];
			an_summary_cell(&S->rows[i], S->v.order[k], cell, sizeof cell);
			w = (int)strlen(cell) + 1 > w ? (int)strlen(cell) + 1 : w;
		}
	/* Wide enough for the era names and the kernel names too (the
	 * header cuts them to the column): with short cells and few kernels
	 * "page_count" was shown as "page_cou". */
	for (int k = 0; k < S->v.nk; k++) {
		const struct an_result *r = &S->t->set->r[S->v.order[k]];
		char name[32];
		an_short_name(r, name, sizeof name, 12);
		int era = (int)strlen(an_era_of(r)) + 1, nw = (int)strlen(name) + 2;
		w = era > w ? era : w;
		w = nw > w ? nw : w;
	}
	return w;
}

/* Era names over the first column of each era group, then kernel names. */
static void text_header(FILE *f, const struct an_summary *S, int from, int to, int cw)
{
	const struct an_set *s = S->t->set;
	fprintf(f, "  ");
	for (int k = from; k < to; k++) {
		const char *era = an_era_of(&s->r[S->v.order[k]]);
		bool starts = k == from || strcmp(era, an_era_of(&s->r[S->v.order[k - 1]]));
		/* Pad only up to the next era name: no trailing blanks. */
		bool more = false;
		for (int j = k + 1; j < to && !more; j++)
			more = strcmp(an_era_of(&s->r[S->v.order[j]]),
				      an_era_of(&s->r[S->v.order[j - 1]])) != 0;
		fprintf(f, "%-*.*s", more ? cw : 0, cw - 1, starts ? era : "");
	}
	fprintf(f, "\n  ");
	for (int k = from; k < to; k++) {
		char name[32];
		an_short_name(&s->r[S->v.order[k]], name, sizeof name, (size_t)cw - 2);
		fprintf(f, "%-*s", k + 1 < to ? cw : 0, name);
	}
	fprintf(f, "\n");
}

static void text_rows(FILE *f, const struct an_summary *S, int from, int to, int cw)
{
	for (int i = 0; i < S->n; i++) {
		const struct an_srow *r = &S->rows[i];
		char d[32];
		denom_text(d, sizeof d, r);
		fprintf(f, "%s %s%s (of %s)\n  ", r->workload, r->phase, r->stand_in ? " +" : "", d);
		for (int k = from; k < to; k++) {
			char cell[64];
			an_summary_cell(r, S->v.order[k], cell, sizeof cell);
			fprintf(f, "%-*s", k + 1 < to ? cw : 0, cell);
		}
		fprintf(f, "\n");
	}
}

static void text_legend(FILE *f, const struct an_summary *S, int width)
{
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);
	fprintf(m, "Kernels:");
	for (int k = 0; k < S->v.nk; k++) {
		const struct an_result *r = &S->t->set->r[S->v.order[k]];
		char name[32];
		an_short_name(r, name, sizeof name, 12);
		fprintf(m, " %s = %s%s%s", name, r->label, k ? "" : " (baseline)",
			k + 1 < S->v.nk ? ";" : ".");
	}
	fclose(m);
	an_wrap(f, s, 0, 2, width);
	free(s);
}

/* "- kernel A copies N; ...": one per row, then the workloads that agree. */
static void verdict_lines(FILE *f, const struct an_summary *S, int width)
{
	for (int i = 0; i < S->n; i++) {
		char *v = an_summary_verdict(S, &S->rows[i]);
		fputs("- ", f);
		an_wrap(f, v, 2, 2, width);
		free(v);
	}
	if (S->nsame) {
		char *s = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&s, &len);
		fprintf(m, "The same on every kernel that ran them:");
		for (int i = 0; i < S->nsame; i++)
			fprintf(m, "%s%s", i ? ", " : " ", S->same[i]);
		fputc('.', m);
		fclose(m);
		fputs("- ", f);
		an_wrap(f, s, 2, 2, width);
		free(s);
	}
}

void an_summary_text(FILE *f, const struct an_summary *S, int width)
{
	if (!S->n) {
		an_wrap(f, "Every kernel makes the same copy/reuse decisions in every phase.", 0, 0,
			width);
		return;
	}
	an_wrap(f, "Where kernels differ: copies (extra) in pages, medians over repetitions "
		   "(docs/metrics.md); ** p<0.01, * p<0.05: exact Mann-Whitney U against the "
		   "baseline, the first column.", 0, 0, width);
	/* The last column needs no blank after it. */
	int cw = cell_width(S), per = (width - 1) / cw;
	per = per < 1 ? 1 : per;
	for (int from = 0; from < S->v.nk; from += per) {
		int to = from + per < S->v.nk ? from + per : S->v.nk;
		fprintf(f, "\n");
		text_header(f, S, from, to, cw);
		text_rows(f, S, from, to, cw);
	}
	for (int i = 0; i < S->n; i++)
		if (S->rows[i].stand_in) {
			an_wrap(f, "+ copied is null in these documents: the workload's own "
				   "present_pages_copied stands in (every such copy is extra).", 0,
				2, width);
			break;
		}
	text_legend(f, S, width);
	fprintf(f, "\n");
	char *v = NULL;
	size_t vlen = 0;
	FILE *m = open_memstream(&v, &vlen);
	if (!m)
		return;
	verdict_lines(m, S, width);
	fclose(m);
	/* One screen: the verdicts only when they fit beside the table; the
	 * report always has them. */
	int lines = 0;
	for (const char *c = v; *c; c++)
		lines += *c == '\n';
	if (2 * S->n + lines <= AN_SUMMARY_SCREEN)
		fputs(v, f);
	else
		an_wrap(f, "- One verdict per row, written from the same cells: report.md, "
			   "\"Summary\".", 0, 2, width);
	free(v);
}
