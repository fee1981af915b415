/* Legend lines under a workload's table (issue 11): per phase, the written
 * pages broken down by outcome and the extra copies by cause; why an
 * outcome was not exact; perf events that exist but did not open here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tracker.h"

static double med(json_t *s, const char *key)
{
	json_t *d = json_object_get(s, key);
	return json_is_object(d) ? json_number_value(json_object_get(d, "median")) : NAN;
}

/* "S3a-write: written 1024 = reused 436 + swapin-reused 548 + refaulted 39;
 * extra 0" plus the causes of the extra copies, medians over reps. */
static void legend_line(const char *name, json_t *s, FILE *out)
{
	static const char *const parts[][2] = {
		{ "copied", "copied" }, { "reused", "reused" }, { "swapin_copied", "swapin-copied" },
		{ "swapin_reused", "swapin-reused" }, { "refaulted", "refaulted" } };
	double w = med(s, "written"), extra = med(s, "extra_copies");
	bool odd = med(s, "swapin_copied") > 0 || med(s, "swapin_reused") > 0 ||
		   med(s, "refaulted") > 0;
	if (isnan(w) || (!odd && !(extra > 0)))
		return;
	char *text = NULL;
	size_t len = 0;
	FILE *line = open_memstream(&text, &len);
	if (!line)
		return;
	FILE *final = out;
	out = line;
	fprintf(out, "%s: written %.0f =", name, w);
	const char *sep = "";
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		double v = med(s, parts[i][0]);
		if (v > 0 || (i < 2 && !isnan(v))) {
			fprintf(out, "%s %s %.0f", sep, parts[i][1], v);
			sep = " +";
		}
	}
	fprintf(out, "; extra %.0f", isnan(extra) ? 0 : extra);
	json_t *bc = json_object_get(s, "extra_by_cause");
	sep = " by cause:";
	for (int k = 0; extra > 0 && k < CB_CAUSE_N; k++) {
		double v = med(bc, cb_cause_names[k]);
		if (v > 0) {
			fprintf(out, "%s %s %.0f", sep, cb_cause_names[k], v);
			sep = ",";
		}
	}
	fclose(line);
	cb_print_wrapped(final, 4, text);
	free(text);
}

/* Why an outcome was not exact, once per phase (the first rep that says). */
static void inexact_lines(json_t *w, FILE *out)
{
	json_t *seen = json_object();
	size_t i, j;
	json_t *rep, *ph;
	json_array_foreach(json_object_get(w, "reps"), i, rep)
		json_array_foreach(json_object_get(rep, "phases"), j, ph) {
			const char *name = json_string_value(json_object_get(ph, "name"));
			json_t *why = json_object_get(json_object_get(ph, "unavailable"),
						      "outcome_exact");
			if (!json_is_false(json_object_get(ph, "outcome_exact")) || !name ||
			    json_object_get(seen, name))
				continue;
			json_object_set_new(seen, name, json_true());
			char text[1024];
			snprintf(text, sizeof text, "%s: outcome not exact (rep %zu): %s", name, i,
				 json_string_value(why));
			cb_print_wrapped(out, 4, text);
		}
	json_decref(seen);
}

/* Perf events named with -e (or standard ones) that exist but did not
 * open here: printed, not only buried in the document. */
static void perf_lines(json_t *w, FILE *out)
{
	json_t *rep = json_array_get(json_object_get(w, "reps"), 0);
	const char *key;
	json_t *why;
	json_object_foreach(json_object_get(rep, "perf_unavailable"), key, why) {
		char text[1024];
		snprintf(text, sizeof text, "%s unavailable: %s", key, json_string_value(why));
		cb_print_wrapped(out, 4, text);
	}
}

/* Under the table: one legend line per phase where writes met swap-ins or
 * refaults or copied pages their writer mapped alone, with the causes. */
void cb_result_print_causes(json_t *w, FILE *out)
{
	const char *name;
	json_t *s;
	json_object_foreach(json_object_get(w, "summary"), name, s)
		legend_line(name, s, out);
	inexact_lines(w, out);
	perf_lines(w, out);
}
