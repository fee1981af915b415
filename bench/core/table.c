/* The terminal view of a workload's result: one row per phase, medians over
 * repetitions, at most 100 columns unless --wide; the seed races get their
 * own table (iterations / in flight / lost). Reasons wrap at word breaks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"


struct column {
	const char *key;   /* summary key */
	const char *title; /* first header line */
	const char *unit;  /* second header line */
	int width;
	bool wide_only;
};

static const struct column columns[] = {
	{ "pages", "tracked", "pages", 7, true },
	{ "written", "written", "pages", 7, false },
	{ "copied", "copied", "pages", 7, false },
	{ "extra_copies", "extra", "pages", 6, false },
	{ "reused", "reused", "pages", 7, false },
	{ "swapcache_leftover_pages", "swapc", "left", 6, false },
	{ "faults_minor", "faults", "minor", 7, false },
	{ "faults_major", "faults", "major", 6, false },
	{ "tlb_flush_events", "tlb", "flushes", 7, false },
	{ "tlb_shootdowns", "tlb", "IPIs", 7, true },
	{ "ns_per_op", "time", "per op", 8, false },
	{ "elapsed_ns", "phase", "time", 8, true },
};
#define NCOLS (sizeof columns / sizeof *columns)

/* 1.66us, 52.0ms, 3.2s: the unit follows the value. */
static void time_text(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.3gus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.3gms", ns / 1e6);
	else
		snprintf(buf, len, "%.3gs", ns / 1e9);
}

static void value_text(char *buf, size_t len, const char *key, double v)
{
	if (!strcmp(key, "ns_per_op") || !strcmp(key, "elapsed_ns"))
		time_text(buf, len, v);
	else
		snprintf(buf, len, "%.0f", v);
}

/* The median; with --wide also the range; a '~' marks a range hidden. */
static void cell_text(char *buf, size_t len, const char *key, json_t *d, bool wide,
		      bool *varied)
{
	if (!json_is_object(d)) {
		snprintf(buf, len, "n/a");
		return;
	}
	double med = json_number_value(json_object_get(d, "median"));
	double lo = json_number_value(json_object_get(d, "min"));
	double hi = json_number_value(json_object_get(d, "max"));
	char m[24], a[24], b[24];
	value_text(m, sizeof m, key, med);
	bool counts = strcmp(key, "ns_per_op") && strcmp(key, "elapsed_ns");
	/* Page outcomes must agree exactly; fault and flush counts jitter by a
	 * few with other activity, which is not worth a mark. */
	bool exact = !strncmp(key, "copied", 6) || !strncmp(key, "extra", 5) ||
		     !strcmp(key, "written") ||
		     !strncmp(key, "reused", 6) || !strncmp(key, "swapcache", 9);
	if (lo == hi || !counts || (!wide && !exact && hi - lo <= 0.05 * fabs(med))) {
		snprintf(buf, len, "%s", m);
		return;
	}
	if (!wide) {
		snprintf(buf, len, "~%s", m);
		*varied = true;
		return;
	}
	value_text(a, sizeof a, key, lo);
	value_text(b, sizeof b, key, hi);
	snprintf(buf, len, "%s [%s-%s]", m, a, b);
}

static int col_width(const struct column *c, bool wide);

/* Room left for the phase name in 100 columns. */
static int phase_room(bool wide)
{
	int used = 2;
	for (size_t i = 0; i < NCOLS; i++)
		if (wide || !columns[i].wide_only)
			used += 1 + col_width(&columns[i], wide);
	return CB_TERM_COLS - used;
}

static int phase_width(json_t *sum)
{
	int width = 5;
	const char *name;
	json_t *s;
	json_object_foreach(sum, name, s)
		if ((int)strlen(name) > width)
			width = (int)strlen(name);
	return width;
}

static int col_width(const struct column *c, bool wide)
{
	return wide && strcmp(c->key, "ns_per_op") && strcmp(c->key, "elapsed_ns") &&
			       strcmp(c->key, "pages") && strcmp(c->key, "written")
		       ? 19
		       : c->width;
}

static void header(FILE *out, int pw, bool wide)
{
	for (int line = 0; line < 2; line++) {
		fprintf(out, "  %-*s", pw, line ? "" : "phase");
		for (size_t i = 0; i < NCOLS; i++)
			if (wide || !columns[i].wide_only)
				fprintf(out, " %*s", col_width(&columns[i], wide),
					line ? columns[i].unit : columns[i].title);
		fputc('\n', out);
	}
}

/* Phases skipped for the same reason share one line. */
static void skipped_phases(json_t *rep, FILE *out)
{
	json_t *by_reason = json_object();
	size_t j;
	json_t *ph;
	json_array_foreach(json_object_get(rep, "phases"), j, ph) {
		const char *why = json_string_value(json_object_get(ph, "skipped"));
		if (!why)
			continue;
		json_t *names = json_object_get(by_reason, why);
		if (!names)
			json_object_set_new(by_reason, why, names = json_array());
		json_array_append(names, json_object_get(ph, "name"));
	}
	const char *why;
	json_t *names;
	json_object_foreach(by_reason, why, names) {
		char line[2048];
		int n = snprintf(line, sizeof line, "skipped");
		json_array_foreach(names, j, ph)
			if (n > 0 && (size_t)n < sizeof line)
				n += snprintf(line + n, sizeof line - (size_t)n, "%s%s", j ? ", " : " ",
					      json_string_value(ph));
		if (n > 0 && (size_t)n < sizeof line)
			snprintf(line + n, sizeof line - (size_t)n, ": %s", why);
		cb_print_wrapped(out, 2, line);
	}
	json_decref(by_reason);
}

static void skipped_lines(json_t *w, FILE *out)
{
	size_t i;
	json_t *rep;
	json_array_foreach(json_object_get(w, "reps"), i, rep) {
		char line[1024];
		json_t *s = json_object_get(rep, "skipped"), *e = json_object_get(rep, "error");
		if (json_is_string(s) && !json_is_string(json_object_get(w, "skipped"))) {
			snprintf(line, sizeof line, "rep %zu skipped: %s", i, json_string_value(s));
			cb_print_wrapped(out, 2, line);
		}
		if (json_is_string(e)) {
			snprintf(line, sizeof line, "rep %zu FAILED: %s", i, json_string_value(e));
			cb_print_wrapped(out, 2, line);
		}
		if (!i)
			skipped_phases(rep, out);
	}
}

static const char *op_of(json_t *w)
{
	json_t *op = json_object_get(w, "op");
	return json_is_string(op) ? json_string_value(op) : "page written";
}

static void title(json_t *w, FILE *out, const char *what)
{
	const char *skip = json_string_value(json_object_get(w, "skipped"));
	if (skip)
		fprintf(out, "\n%s  (skipped)\n", json_string_value(json_object_get(w, "name")));
	else
		fprintf(out, "\n%s  (%d reps; %s)\n", json_string_value(json_object_get(w, "name")),
			(int)json_array_size(json_object_get(w, "reps")), what);
	if (skip) {
		char line[1024];
		snprintf(line, sizeof line, "skipped: %s", skip);
		cb_print_wrapped(out, 2, line);
	}
}

static void phase_table(json_t *w, FILE *out, bool wide)
{
	json_t *sum = json_object_get(w, "summary");
	int pw = phase_width(sum);
	/* A name too long for the row gets a line of its own. */
	if (!wide && pw > phase_room(wide))
		pw = phase_room(wide);
	bool varied = false;
	header(out, pw, wide);
	const char *name;
	json_t *s;
	json_object_foreach(sum, name, s) {
		if (json_is_null(json_object_get(s, "elapsed_ns")))
			continue;
		if ((int)strlen(name) > pw)
			fprintf(out, "  %s\n  %-*s", name, pw, "");
		else
			fprintf(out, "  %-*s", pw, name);
		for (size_t i = 0; i < NCOLS; i++) {
			if (columns[i].wide_only && !wide)
				continue;
			char buf[96];
			cell_text(buf, sizeof buf, columns[i].key, json_object_get(s, columns[i].key),
				  wide, &varied);
			fprintf(out, " %*s", col_width(&columns[i], wide), buf);
		}
		fputc('\n', out);
	}
	char legend[512];
	int n = snprintf(legend, sizeof legend, "op = %s", op_of(w));
	size_t i;
	json_t *ph;
	json_array_foreach(json_object_get(json_array_get(json_object_get(w, "reps"), 0), "phases"),
			   i, ph) {
		const char *op = json_string_value(json_object_get(ph, "op"));
		if (op && n > 0 && (size_t)n < sizeof legend)
			n += snprintf(legend + n, sizeof legend - (size_t)n, " (%s: %s)",
				      json_string_value(json_object_get(ph, "name")), op);
	}
	if (varied && n > 0 && (size_t)n < sizeof legend)
		snprintf(legend + n, sizeof legend - (size_t)n,
			 "; ~ = median of reps that differ (--wide shows min-max)");
	cb_print_wrapped(out, 2, legend);
}

/* Median over repetitions of one workload metric of one phase; NAN if none. */
static double metric_median(json_t *w, const char *phase, const char *key)
{
	double v[1024];
	int n = 0;
	size_t i, j;
	json_t *rep, *ph;
	json_array_foreach(json_object_get(w, "reps"), i, rep)
		json_array_foreach(json_object_get(rep, "phases"), j, ph) {
			json_t *m = json_object_get(json_object_get(ph, "metrics"), key);
			if (n < 1024 && !strcmp(json_string_value(json_object_get(ph, "name")), phase) &&
			    json_is_number(json_object_get(m, "value")))
				v[n++] = json_number_value(json_object_get(m, "value"));
		}
	for (int a = 1; a < n; a++)
		for (int b = a; b > 0 && v[b - 1] > v[b]; b--) {
			double t = v[b];
			v[b] = v[b - 1];
			v[b - 1] = t;
		}
	return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : NAN;
}

static void race_cell(FILE *out, double v, int width)
{
	if (isnan(v))
		fprintf(out, " %*s", width, "-");
	else
		fprintf(out, " %*.0f", width, v);
}

static void race_table(json_t *w, FILE *out)
{
	json_t *sum = json_object_get(w, "summary");
	int pw = phase_width(sum);
	fprintf(out, "  %-*s %10s %10s %10s %10s  %s\n", pw, "race", "iterations", "in flight",
		"lost", "copies", "verdict");
	const char *name;
	json_t *s;
	json_object_foreach(sum, name, s) {
		double it = metric_median(w, name, "iterations");
		double fl = metric_median(w, name, "in_flight");
		double lost = metric_median(w, name, "lost");
		fprintf(out, "  %-*s", pw, name);
		race_cell(out, it, 10);
		race_cell(out, fl, 10);
		race_cell(out, lost, 10);
		race_cell(out, metric_median(w, name, "copies"), 10);
		fprintf(out, "  %s\n", isnan(lost) ? "not run"
				       : lost > 0  ? "DATA LOST"
				       : fl > 0    ? "coherent"
						   : "never in flight: no verdict");
	}
}

/* A figure with its unit, unless the key names it (settle_ms, *_pages). */
static void figure_text(char *buf, size_t len, const char *key, double v, const char *unit)
{
	if (unit && !strcmp(unit, "bytes") && fabs(v) >= 1048576) {
		snprintf(buf, len, "%.1f MiB", v / 1048576);
		return;
	}
	if (unit && !strcmp(unit, "bytes")) {
		snprintf(buf, len, v ? "%.1f KiB" : "0", v / 1024);
		return;
	}
	if (!unit || strstr(key, unit))
		unit = "";
	snprintf(buf, len, fabs(v) >= 100 || v == floor(v) ? "%.0f%s%s" : "%.3g%s%s", v,
		 *unit ? " " : "", unit);
}

/* An app's own figures (Redis's COW sizes, KSM's merge): medians, a line
 * per phase, in the document's order. */
static void figure_lines(json_t *w, FILE *out)
{
	size_t i;
	json_t *ph;
	json_array_foreach(json_object_get(json_array_get(json_object_get(w, "reps"), 0), "phases"),
			   i, ph) {
		const char *phase = json_string_value(json_object_get(ph, "name")), *key;
		char line[2048], cell[64];
		int n = snprintf(line, sizeof line, "%s:", phase);
		json_t *m;
		json_object_foreach(json_object_get(ph, "metrics"), key, m) {
			figure_text(cell, sizeof cell, key, metric_median(w, phase, key),
				    json_string_value(json_object_get(m, "unit")));
			if (n > 0 && (size_t)n < sizeof line)
				n += snprintf(line + n, sizeof line - (size_t)n, "%s %s %s",
					      n > (int)strlen(phase) + 1 ? "," : "", key, cell);
		}
		if (n > (int)strlen(phase) + 1)
			cb_print_wrapped(out, 4, line);
	}
}

static bool is_app(json_t *w)
{
	const char *suite = json_string_value(json_object_get(w, "suite"));
	return suite && !strcmp(suite, "app");
}

static bool is_race(json_t *w)
{
	const char *suite = json_string_value(json_object_get(w, "suite"));
	return suite && !strcmp(suite, "repro");
}

void cb_result_print_table(json_t *w, FILE *out, bool wide)
{
	bool race = is_race(w);
	title(w, out, race ? "seed-thread race" : "median over reps");
	if (!json_string_value(json_object_get(w, "skipped"))) {
		if (race)
			race_table(w, out);
		else
			phase_table(w, out, wide);
		cb_result_print_causes(w, out);
		if (is_app(w))
			figure_lines(w, out);
	}
	skipped_lines(w, out);
}

/* Once per run: what the columns of the tables printed above mean. */
void cb_result_print_legend(FILE *out, json_t *workloads)
{
	bool races = false, phases = false;
	size_t i;
	json_t *w;
	json_array_foreach(workloads, i, w) {
		races |= is_race(w);
		phases |= !is_race(w);
	}
	if (races)
		cb_print_wrapped(out, 0, "races: iterations tried; in flight = iterations whose "
					 "device read was still in flight at the event; lost = "
					 "iterations where the process no longer sees what the device "
					 "wrote; copies = COW copies at the event or write; medians over "
					 "reps. docs/scenarios.md describes each race.");
	if (!phases)
		return;
	cb_print_wrapped(out, 0, "columns: written = tracked pages written in the phase; copied / "
				 "reused = written pages whose frame changed / stayed (swap-ins "
				 "and refaults are counted apart, see the line under a table); "
				 "extra = copies of pages the writer mapped alone; swapc left = old "
				 "pages of copies still in the swap cache; faults of the workload's "
				 "processes; tlb flushes = tlb:tlb_flush events; time per op (wall); "
				 "--wide adds pages tracked, TLB IPIs and phase time. "
				 "docs/metrics.md defines every metric.");
}
