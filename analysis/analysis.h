/* `cowbench compare`: reads result documents (never re-measures), computes
 * statistics across kernels, and writes a table, gnuplot plots and a report. */
#ifndef COWBENCH_ANALYSIS_H
#define COWBENCH_ANALYSIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define AN_SCHEMA "cowbench-result/1"
#define AN_MAX_RESULTS 64
#define AN_MAX_REPS 1024

/* One loaded result document and what the analysis needs from its env. */
struct an_result {
	char *path;
	json_t *doc;
	const char *release;
	const char *era_version;   /* what `uname -r` predicts */
	const char *era_behaviour; /* from the fingerprint; NULL without one */
	bool era_mismatch;         /* fingerprint disagrees with the version */
	bool emulated;
	const char *host, *cpu;
	long long mem_bytes;
	json_t *fingerprint;       /* borrowed; NULL when null/absent */
	char label[256];           /* "release (era)" */
};

struct an_set {
	struct an_result r[AN_MAX_RESULTS];
	int n;
};

/* load.c. Both return 0, or -1 with a one-line message naming the file and
 * the position (line:column) or field of the first problem. */
int an_load_path(struct an_set *s, const char *path, char *err, size_t errlen);
int an_validate(json_t *doc, char *err, size_t errlen);
int an_load_buffer(struct an_set *s, const char *name, const char *buf, size_t len,
		   char *err, size_t errlen);
void an_set_free(struct an_set *s);
const char *an_era_of(const struct an_result *r); /* behaviour, else version */

/* stats.c */
enum an_kind {
	AN_COUNT, /* pages, faults, bytes: median, reported exactly */
	AN_TIME,  /* arithmetic mean */
	AN_RATE,  /* harmonic mean */
};
struct an_stats {
	int n;
	double median, center; /* center: the kind's aggregate */
	double lo, hi;         /* 95% confidence interval of the center */
	double min, max, sd;
};
double an_median(const double *v, int n);
double an_mean(const double *v, int n);
double an_hmean(const double *v, int n);
double an_sd(const double *v, int n);
double an_t_cdf(double t, double df);
double an_t_quantile(double p, double df);
void an_stats(const double *v, int n, enum an_kind kind, struct an_stats *out);
/* Two-sided Welch t-test p-value; NAN when either sample has < 2 values. */
double an_welch_p(const double *a, int na, const double *b, int nb);

/* compare.c: one row per workload x phase x metric, one cell per result. */
struct an_cell {
	int result;
	int n;
	double *v;
	struct an_stats st;
	double change; /* relative change of center vs the baseline cell; NAN if undefined */
	double p;      /* Welch p against the baseline cell; NAN if untested */
};

struct an_row {
	char *wkey;      /* identity: name and canonical params */
	char *workload;  /* label: name plus the params that tell instances apart */
	char *wl_name;
	json_t *params;  /* borrowed */
	char *phase, *metric, *unit;
	enum an_kind kind;
	int base;        /* index into cells of the baseline cell */
	int ncells;
	struct an_cell cells[AN_MAX_RESULTS];
};

struct an_table {
	struct an_set *set;
	int baseline;
	struct an_row *rows;
	int n, cap;
};

struct an_opts {
	const char *outdir;
	bool md, csv, json;
	bool emulated_times;
	bool plots;
	const char *gnuplot; /* command; default "gnuplot" */
};

void an_table_build(struct an_table *t, struct an_set *s, int baseline);
void an_table_free(struct an_table *t);
/* Per-repetition values of one metric, aligned by repetition (NAN where a
 * rep or phase was skipped or the value unavailable); returns the count. */
int an_samples(const struct an_set *s, int result, const char *wkey, const char *phase,
	       const char *metric, double *out, int max);
const struct an_row *an_find_row(const struct an_table *t, const char *wkey,
				 const char *phase, const char *metric);
const struct an_cell *an_find_cell(const struct an_row *row, int result);
const char *an_sig_mark(double p);
bool an_different_machines(const struct an_set *s, char *why, size_t len);
/* The whole subcommand; returns the exit status (2: bad input). */
int an_compare_main(const char **paths, int npaths, const char *baseline,
		    const struct an_opts *o);

/* plot.c. Writes PNG and SVG files NAME.png/NAME.svg into o->outdir. */
struct an_plots {
	char names[16][64];
	char titles[16][256];
	int n;
	char notes[8][256];
	int nnotes;
};
/* Quotes s as a gnuplot single-quoted string literal: '' for ', control
 * characters dropped to spaces. Returns a malloc'd string. */
char *an_gp_quote(const char *s);
int an_plot_all(const struct an_table *t, const struct an_opts *o, struct an_plots *out);

/* report.c */
int an_write_md(const struct an_table *t, const struct an_opts *o, const struct an_plots *pl,
		const char *path);
int an_write_csv(const struct an_table *t, const char *path);
int an_write_json(const struct an_table *t, const char *path);
/* repro.c: the seed scenarios' "scenario x kernel -> lost / coherent /
 * copies" table (repro:* workloads), nothing when there are none. */
void an_write_repro_md(FILE *f, const struct an_set *s);
/* The kernel columns of a "row x kernel" table: labels, then the rule. */
void an_md_kernel_columns(FILE *f, const struct an_set *s);
/* One cell, '|' and newlines blanked so the row stays one row. */
void an_md_cell(FILE *f, char *cell);
/* pins.c: longterm-pin's "case x kernel -> lost / copies / faults /
 * soft-dirty" table, nothing when no result has the workload. */
void an_write_pins_md(FILE *f, const struct an_set *s);
/* Plain-language verdict lines for one workload; returns a malloc'd text. */
char *an_verdict(const struct an_table *t, const char *workload);

#endif
