/* The comparison table: one row per workload x phase x metric, one cell per
 * result document, each cell the statistics over repetitions and the test
 * against the baseline's cell. Built from a loaded set; every output
 * (summary, plots, report) reads it. */
#ifndef COWBENCH_AN_MODEL_H
#define COWBENCH_AN_MODEL_H

#include "load.h"
#include "stats.h"

/* A derived row: copied + swapin_copied, every copy of a written page. */
#define AN_ALL_COPIES "copies"

struct an_cell {
	int result;
	int n;
	double *v;
	struct an_stats st;
	double change; /* relative change of center vs the baseline cell; NAN if undefined */
	double p;      /* p against the baseline cell; NAN if untested */
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
/* Whether the medians of a row's cells differ (false for NULL). */
bool an_row_differs(const struct an_row *row);

#endif
