/* Statistics over repetitions: pure functions of arrays of doubles. */
#ifndef COWBENCH_AN_STATS_H
#define COWBENCH_AN_STATS_H

#define AN_MAX_REPS 1024

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

/* Two-sided exact Mann-Whitney U (Wilcoxon rank-sum) p-value from the
 * permutation distribution of the midrank sum, so ties are exact too. NAN
 * (no test) below 2 values a side or above AN_MWU_MAX_PERM permutations:
 * the report then marks nothing rather than use an approximation. */
#define AN_MWU_MAX_PERM 2e6
double an_mwu_p(const double *a, int na, const double *b, int nb);

#endif
