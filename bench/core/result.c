/* Result documents: building, atomic writing, and the terminal table. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tracker.h"

json_t *cb_result_new(json_t *env)
{
	char when[32];
	time_t t = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return json_pack("{s:s, s:s, s:O, s:n, s:[], s:b}", "schema", "cowbench-result/1",
			 "created", when, "env", env, "fingerprint", "workloads", "complete", 0);
}

static void sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
			*s = '_';
}

char *cb_result_default_path(json_t *env)
{
	const char *host = json_string_value(json_object_get(env, "hostname"));
	const char *rel = json_string_value(json_object_get(json_object_get(env, "kernel"),
							    "release"));
	char when[32];
	time_t t = time(NULL);
	strftime(when, sizeof when, "%Y%m%d-%H%M%S", gmtime(&t));
	char *p = cb_strdup_printf("%s_%s_%s", host ? host : "host", rel ? rel : "kernel", when);
	sanitize(p);
	char *full = cb_strdup_printf("results/%s.json", p);
	free(p);
	return full;
}

/* temp file in the same directory + fsync + rename: never half a file. */
int cb_result_write(json_t *doc, const char *path, char *err, size_t errlen)
{
	char *tmp = cb_strdup_printf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	/* One string, written whole: json_dumpfd writes token by token (tens
	 * of thousands of write calls for a stat document of a fork tree). */
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	int rc = text ? 0 : -1;
	size_t len = text ? strlen(text) : 0, done = 0;
	if (text)
		text[len++] = '\n'; /* replaces the terminating NUL */
	while (!rc && done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		rc = n > 0 ? 0 : -1;
		done += n > 0 ? (size_t)n : 0;
	}
	free(text);
	if (!rc)
		rc = fsync(fd);
	close(fd);
	if (!rc)
		rc = rename(tmp, path);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median, min and max of one metric of one phase over repetitions. */
static json_t *distribution(json_t *reps, const char *phase, const char *key)
{
	double v[1024];
	int n = 0;
	size_t i, j;
	json_t *rep, *ph;
	json_array_foreach(reps, i, rep) {
		json_array_foreach(json_object_get(rep, "phases"), j, ph) {
			const char *name = json_string_value(json_object_get(ph, "name"));
			json_t *x = json_object_get(ph, key);
			if (n < 1024 && name && !strcmp(name, phase) && json_is_number(x))
				v[n++] = json_number_value(x);
		}
	}
	if (!n)
		return json_null();
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return json_pack("{s:f, s:f, s:f, s:i}", "median", med, "min", v[0], "max", v[n - 1],
			 "n", n);
}

/* Median of extra_by_cause.<cause> of one phase over repetitions. */
static json_t *cause_distribution(json_t *reps, const char *phase)
{
	json_t *out = json_object();
	for (int k = 0; k < CB_CAUSE_N; k++) {
		double v[1024];
		int n = 0;
		size_t i, j;
		json_t *rep, *ph;
		json_array_foreach(reps, i, rep)
			json_array_foreach(json_object_get(rep, "phases"), j, ph) {
				const char *name = json_string_value(json_object_get(ph, "name"));
				json_t *x = json_object_get(json_object_get(ph, "extra_by_cause"),
							    cb_cause_names[k]);
				if (n < 1024 && name && !strcmp(name, phase) && json_is_number(x))
					v[n++] = json_number_value(x);
			}
		if (!n)
			continue;
		qsort(v, (size_t)n, sizeof *v, cmp_double);
		double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		json_object_set_new(out, cb_cause_names[k], json_pack("{s:f, s:f, s:f, s:i}",
			"median", med, "min", v[0], "max", v[n - 1], "n", n));
	}
	return out;
}

json_t *cb_result_summary(json_t *reps)
{
	json_t *out = json_object();
	size_t i, j;
	json_t *rep, *ph;
	json_array_foreach(reps, i, rep) {
		json_array_foreach(json_object_get(rep, "phases"), j, ph) {
			const char *name = json_string_value(json_object_get(ph, "name"));
			if (!name || json_object_get(out, name))
				continue;
			json_t *s = json_object();
			for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++)
				if (k->flags & CB_KEYF_SUMMARY)
					json_object_set_new(s, k->name,
							    distribution(reps, name, k->name));
			json_object_set_new(s, "extra_by_cause", cause_distribution(reps, name));
			json_object_set_new(out, name, s);
		}
	}
	return out;
}

static void cell(FILE *out, json_t *d, int width)
{
	char buf[64];
	if (!json_is_object(d)) {
		snprintf(buf, sizeof buf, "n/a");
	} else {
		double med = json_number_value(json_object_get(d, "median"));
		double lo = json_number_value(json_object_get(d, "min"));
		double hi = json_number_value(json_object_get(d, "max"));
		if (lo == hi)
			snprintf(buf, sizeof buf, "%.0f", med);
		else
			snprintf(buf, sizeof buf, "%.0f [%.0f-%.0f]", med, lo, hi);
	}
	fprintf(out, " %*s", width, buf);
}

static void skipped_reps(json_t *w, FILE *out)
{
	size_t i;
	json_t *rep;
	json_array_foreach(json_object_get(w, "reps"), i, rep) {
		json_t *s = json_object_get(rep, "skipped"), *e = json_object_get(rep, "error");
		if (json_is_string(s))
			fprintf(out, "  rep %zu skipped: %s\n", i, json_string_value(s));
		if (json_is_string(e))
			fprintf(out, "  rep %zu failed: %s\n", i, json_string_value(e));
		size_t j;
		json_t *ph;
		json_array_foreach(json_object_get(rep, "phases"), j, ph) {
			json_t *ps = json_object_get(ph, "skipped");
			if (i == 0 && json_is_string(ps))
				fprintf(out, "  phase %s skipped: %s\n",
					json_string_value(json_object_get(ph, "name")),
					json_string_value(ps));
		}
	}
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

static const struct column {
	const char *key, *title;
	int width;
} columns[] = {
	{ "pages", "pages", 6 },
	{ "copied", "copied", 15 },
	{ "reused", "reused", 15 },
	{ "extra_copies", "extra", 13 },
	{ "swapcache_leftover_pages", "swapc-left", 10 },
	{ "tlb_shootdowns", "tlb-ipi", 13 },
	{ "tlb_flush_events", "tlb:flush", 15 },
	{ "faults_minor", "faults-min", 19 },
	{ "faults_major", "faults-maj", 13 },
	{ "ns_per_op", "ns/op", 13 },
};

void cb_result_print_table(json_t *w, FILE *out)
{
	json_t *sum = json_object_get(w, "summary");
	int pw = phase_width(sum);
	fprintf(out, "\n%s  (%d reps; median [min-max] over reps)\n",
		json_string_value(json_object_get(w, "name")),
		(int)json_array_size(json_object_get(w, "reps")));
	fprintf(out, "  %-*s", pw, "phase");
	for (size_t i = 0; i < sizeof columns / sizeof *columns; i++)
		fprintf(out, " %*s", columns[i].width, columns[i].title);
	fprintf(out, " %9s\n", "ms");
	const char *name;
	json_t *s;
	json_object_foreach(sum, name, s) {
		if (json_is_null(json_object_get(s, "elapsed_ns")))
			continue;
		fprintf(out, "  %-*s", pw, name);
		for (size_t i = 0; i < sizeof columns / sizeof *columns; i++)
			cell(out, json_object_get(s, columns[i].key), columns[i].width);
		json_t *el = json_object_get(s, "elapsed_ns");
		fprintf(out, " %9.2f\n", json_number_value(json_object_get(el, "median")) / 1e6);
	}
	skipped_reps(w, out);
	cb_result_print_legend(w, out);
}

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
	fprintf(out, "    %s: written %.0f =", name, w);
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
	fputc('\n', out);
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
			fprintf(out, "    %s: outcome not exact (rep %zu): %s\n", name, i,
				json_string_value(why));
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
	json_object_foreach(json_object_get(rep, "perf_unavailable"), key, why)
		fprintf(out, "    %s unavailable: %s\n", key, json_string_value(why));
}

/* Under the table: one legend line per phase where writes met swap-ins or
 * refaults or copied pages their writer mapped alone, with the causes. */
void cb_result_print_legend(json_t *w, FILE *out)
{
	const char *name;
	json_t *s;
	json_object_foreach(json_object_get(w, "summary"), name, s)
		legend_line(name, s, out);
	inexact_lines(w, out);
	perf_lines(w, out);
}
