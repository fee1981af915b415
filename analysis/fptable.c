/* The policy fingerprint table (see fptable.h). */
#include <string.h>

#include "fptable.h"
#include "mdtable.h"
#include "text.h"

#define MAX_SCEN 128

int an_fp_scenarios(const struct an_set *s, const char **ids, int max)
{
	int n = 0;
	for (int r = 0; r < s->n; r++) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(s->r[r].fingerprint, "scenarios"), k, v) {
			bool seen = false;
			for (int i = 0; i < n && !seen; i++)
				seen = !strcmp(ids[i], k);
			if (!seen && n < max)
				ids[n++] = k;
		}
	}
	return n;
}

json_t *an_fp_scenario(const struct an_result *r, const char *id)
{
	return json_object_get(json_object_get(r->fingerprint, "scenarios"), id);
}

enum an_fp_class an_fp_outcome(json_t *sc, char *text, size_t len)
{
	json_t *sk = json_object_get(sc, "skipped");
	if (!sc || json_is_string(sk) || json_is_true(sk)) {
		snprintf(text, len, "not run");
		return AN_FP_NOT_RUN;
	}
	double pages = json_number_value(json_object_get(sc, "pages"));
	double cop = json_number_value(json_object_get(sc, "copied"));
	double lost = json_number_value(json_object_get(sc, "lost_sync"));
	if (lost > 0) {
		snprintf(text, len, "pin lost %.0f/%.0f", lost, pages);
		return AN_FP_LOST;
	}
	bool copy = cop * 2 > pages;
	snprintf(text, len, "%s %.0f/%.0f", copy ? "copy" : "reuse", copy ? cop : pages - cop,
		 pages);
	return copy ? AN_FP_COPY : AN_FP_REUSE;
}

const char *an_fp_description(const struct an_set *s, const char *id)
{
	for (int r = 0; r < s->n; r++) {
		const char *d = json_string_value(json_object_get(an_fp_scenario(&s->r[r], id),
								  "description"));
		if (d)
			return d;
	}
	return "";
}

const char *an_fp_common_skip(const struct an_set *s, const char *id)
{
	const char *why = NULL;
	for (int r = 0; r < s->n; r++) {
		if (!s->r[r].fingerprint)
			continue;
		json_t *sc = an_fp_scenario(&s->r[r], id);
		const char *w = json_string_value(json_object_get(sc, "skipped"));
		if (!w || (why && strcmp(w, why)))
			return NULL;
		why = w;
	}
	return why;
}

static void fp_row(FILE *f, const struct an_view *v, const char *id)
{
	const struct an_set *s = v->s;
	fprintf(f, "| %s | ", id);
	an_md_text(f, an_fp_description(s, id));
	const char *why = an_fp_common_skip(s, id);
	if (why) {
		char cut[200];
		an_cut_words(cut, sizeof cut, "; not run: ", why, 90);
		an_md_text(f, cut);
	}
	fputs(" |", f);
	for (int k = 0; k < v->nk; k++) {
		const struct an_result *r = &s->r[v->order[k]];
		char text[64];
		if (!r->fingerprint)
			snprintf(text, sizeof text, "no fingerprint");
		else
			an_fp_outcome(an_fp_scenario(r, id), text, sizeof text);
		an_md_cell(f, text);
	}
	fputs("\n", f);
}

/* "Not run" cells name no reason: list each reason once, with the
 * scenario/kernel pairs it stands for. */
static void skip_reasons(FILE *f, const struct an_view *v, const char **ids, int n)
{
	const char *done[64];
	int ndone = 0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < v->nk; k++) {
			const struct an_result *r = &v->s->r[v->order[k]];
			const char *why = json_string_value(json_object_get(
				an_fp_scenario(r, ids[i]), "skipped"));
			bool seen = !why;
			for (int d = 0; d < ndone && !seen; d++)
				seen = !strcmp(done[d], why);
			if (seen || ndone >= 64)
				continue;
			done[ndone++] = why;
			fputs("- not run: ", f);
			an_md_text(f, why);
			fputs(" (", f);
			int said = 0;
			for (int j = 0; j < n; j++)
				for (int q = 0; q < v->nk; q++) {
					const struct an_result *x = &v->s->r[v->order[q]];
					const char *w = json_string_value(json_object_get(
						an_fp_scenario(x, ids[j]), "skipped"));
					if (!w || strcmp(w, why))
						continue;
					char name[32];
					an_short_name(x, name, sizeof name, 12);
					fprintf(f, "%s%s on %s", said++ ? ", " : "", ids[j], name);
				}
			fputs(")\n", f);
		}
}

void an_write_fingerprint_md(FILE *f, const struct an_view *v)
{
	const char *ids[MAX_SCEN];
	int n = an_fp_scenarios(v->s, ids, MAX_SCEN);
	if (!n)
		return;
	fputs("## Policy fingerprint\n\nWhat each probe scenario (docs/scenarios.md) did on "
	      "each kernel: the majority outcome of its pages (reuse, copy) or the pages a pin "
	      "lost sync on, of the pages probed. The era by behaviour is voted from these "
	      "outcomes.\n\n| id | scenario |", f);
	an_md_kernel_columns(f, v, 2);
	for (int i = 0; i < n; i++)
		fp_row(f, v, ids[i]);
	fputs("\n", f);
	skip_reasons(f, v, ids, n);
	fputs("\n", f);
}
