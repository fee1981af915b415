/* Statistics over repetitions: medians, means, Student-t confidence
 * intervals and Welch's t-test for times; order-statistic intervals of the
 * median and the exact Mann-Whitney U test for counts. Pure functions, no
 * allocation, no limits beyond AN_MAX_REPS. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double an_median(const double *v, int n)
{
	if (n <= 0 || n > AN_MAX_REPS)
		return NAN;
	double s[AN_MAX_REPS];
	memcpy(s, v, (size_t)n * sizeof *v);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double an_mean(const double *v, int n)
{
	if (n <= 0)
		return NAN;
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += v[i];
	return sum / n;
}

/* A zero or negative rate makes the harmonic mean meaningless. */
double an_hmean(const double *v, int n)
{
	if (n <= 0)
		return NAN;
	double sum = 0;
	for (int i = 0; i < n; i++) {
		if (v[i] <= 0)
			return NAN;
		sum += 1 / v[i];
	}
	return n / sum;
}

/* Sample standard deviation (n - 1). */
double an_sd(const double *v, int n)
{
	if (n < 2)
		return NAN;
	double m = an_mean(v, n), ss = 0;
	for (int i = 0; i < n; i++)
		ss += (v[i] - m) * (v[i] - m);
	return sqrt(ss / (n - 1));
}

/* Continued fraction of the incomplete beta function (modified Lentz). */
static double betacf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double qab = a + b, qap = a + 1, qam = a - 1;
	double c = 1, d = 1 - qab * x / qap;
	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	double h = d;
	for (int m = 1; m <= 300; m++) {
		int m2 = 2 * m;
		double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		h *= d * c;
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		d = 1 + aa * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1 + aa / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		double del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-15)
			break;
	}
	return h;
}

/* Regularized incomplete beta I_x(a, b). */
static double betai(double a, double b, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	double bt = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return bt * betacf(a, b, x) / a;
	return 1 - bt * betacf(b, a, 1 - x) / b;
}

double an_t_cdf(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return t > 0 ? 1 : 0;
	double tail = 0.5 * betai(df / 2, 0.5, df / (df + t * t));
	return t > 0 ? 1 - tail : tail;
}

/* Bisection is plenty: called a few hundred times per report. */
double an_t_quantile(double p, double df)
{
	if (!(p > 0 && p < 1) || !(df > 0))
		return NAN;
	if (p < 0.5)
		return -an_t_quantile(1 - p, df);
	double lo = 0, hi = 1;
	while (an_t_cdf(hi, df) < p && hi < 1e12)
		hi *= 2;
	for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
		double mid = (lo + hi) / 2;
		if (an_t_cdf(mid, df) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* 95% Student-t interval of the mean of v. */
static void mean_ci(const double *v, int n, double *lo, double *hi)
{
	double m = an_mean(v, n);
	if (n < 2) {
		*lo = *hi = NAN;
		return;
	}
	double half = an_t_quantile(0.975, n - 1) * an_sd(v, n) / sqrt(n);
	*lo = m - half;
	*hi = m + half;
}

/* Distribution-free interval of the median: order statistics x(k) and
 * x(n+1-k), k the largest with P(Binom(n, 1/2) < k) <= 2.5%. It holds only
 * observed values, so a count's bound is never negative; up to n = 8 it is
 * the range (below n = 6 its coverage, 1 - 2^(1-n), is under 95%). */
static void median_ci(const double *v, int n, double *lo, double *hi)
{
	if (n < 2 || n > AN_MAX_REPS) {
		*lo = *hi = NAN;
		return;
	}
	double s[AN_MAX_REPS];
	memcpy(s, v, (size_t)n * sizeof *v);
	qsort(s, (size_t)n, sizeof *s, cmp_double);
	double tail = 0, term = pow(0.5, n); /* P(X = j), j from 0 */
	int k = 1;
	for (int j = 0; j < n / 2; j++) {
		tail += term; /* P(X <= j) */
		if (tail > 0.025)
			break;
		k = j + 1;
		term = term * (n - j) / (j + 1);
	}
	*lo = s[k - 1];
	*hi = s[n - k];
}

void an_stats(const double *v, int n, enum an_kind kind, struct an_stats *o)
{
	memset(o, 0, sizeof *o);
	o->n = n;
	o->median = an_median(v, n);
	o->sd = an_sd(v, n);
	o->min = o->max = n ? v[0] : NAN;
	for (int i = 1; i < n; i++) {
		o->min = fmin(o->min, v[i]);
		o->max = fmax(o->max, v[i]);
	}
	if (kind == AN_RATE) {
		/* The harmonic mean is the reciprocal of the mean of reciprocals:
		 * its interval is the reciprocal of theirs. */
		o->center = an_hmean(v, n);
		if (isnan(o->center) || n < 2 || n > AN_MAX_REPS) {
			o->lo = o->hi = NAN;
			return;
		}
		double r[AN_MAX_REPS], rlo, rhi;
		for (int i = 0; i < n; i++)
			r[i] = 1 / v[i];
		mean_ci(r, n, &rlo, &rhi);
		o->lo = rhi > 0 ? 1 / rhi : NAN;
		o->hi = rlo > 0 ? 1 / rlo : INFINITY;
		return;
	}
	o->center = kind == AN_TIME ? an_mean(v, n) : o->median;
	if (kind == AN_TIME)
		mean_ci(v, n, &o->lo, &o->hi);
	else
		median_ci(v, n, &o->lo, &o->hi);
}

double an_welch_p(const double *a, int na, const double *b, int nb)
{
	if (na < 2 || nb < 2)
		return NAN;
	double ma = an_mean(a, na), mb = an_mean(b, nb);
	double va = an_sd(a, na), vb = an_sd(b, nb);
	va = va * va / na;
	vb = vb * vb / nb;
	if (va + vb == 0)
		return ma == mb ? 1 : 0; /* both constant: the difference is exact */
	double t = (ma - mb) / sqrt(va + vb);
	double df = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
	return 2 * an_t_cdf(-fabs(t), df);
}

/* Midranks of the pooled samples (ties share their mean rank). */
static void midranks(const double *x, int n, double *rank)
{
	for (int i = 0; i < n; i++) {
		int below = 0, same = 0;
		for (int j = 0; j < n; j++) {
			below += x[j] < x[i];
			same += x[j] == x[i];
		}
		rank[i] = below + (same + 1) / 2.0;
	}
}

struct perm {
	const double *rank;
	int n, k;
	double obs, mid; /* |W - E[W]| observed, E[W] */
	long long hits, total;
};

/* Every way to pick k of the n pooled ranks as "sample a". */
static void enumerate(struct perm *p, int from, int left, double sum)
{
	if (!left) {
		p->total++;
		p->hits += fabs(sum - p->mid) >= p->obs - 1e-9;
		return;
	}
	for (int i = from; i <= p->n - left; i++)
		enumerate(p, i + 1, left - 1, sum + p->rank[i]);
}

static double choose(int n, int k)
{
	double c = 1;
	for (int i = 1; i <= k; i++)
		c = c * (n - k + i) / i;
	return c;
}

double an_mwu_p(const double *a, int na, const double *b, int nb)
{
	int n = na + nb;
	if (na < 2 || nb < 2 || n > 64 || choose(n, na) > AN_MWU_MAX_PERM)
		return NAN;
	double x[64], rank[64], w = 0;
	memcpy(x, a, (size_t)na * sizeof *a);
	memcpy(x + na, b, (size_t)nb * sizeof *b);
	midranks(x, n, rank);
	for (int i = 0; i < na; i++)
		w += rank[i];
	struct perm p = { rank, n, na, 0, na * (n + 1) / 2.0, 0, 0 };
	p.obs = fabs(w - p.mid);
	enumerate(&p, 0, na, 0);
	return (double)p.hits / (double)p.total;
}
