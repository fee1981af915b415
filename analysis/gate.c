/* The regression gate (see gate.h). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "text.h"

static bool metric_name(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.", s[i]))
			return false;
	return true;
}

int an_rule_parse(const char *text, struct an_rule *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	const char *gt = strchr(text, '>');
	size_t n = gt ? (size_t)(gt - text) : 0;
	if (!gt || !metric_name(text, n) || n >= sizeof r->metric) {
		snprintf(err, errlen, "--fail-on '%s': want METRIC>N or METRIC>+N%% "
			 "(e.g. extra_copies>0, ns_per_op>+10%%)", text);
		return -1;
	}
	memcpy(r->metric, text, n);
	const char *num = gt + 1;
	char *end;
	r->threshold = strtod(num, &end);
	r->relative = *end == '%';
	if (r->relative)
		end++;
	if (end == num || *end || !isfinite(r->threshold) || r->threshold < 0 ||
	    (!r->relative && *num == '+')) {
		snprintf(err, errlen, "--fail-on '%s': the threshold must be a number >= 0, "
			 "or +N%% for a relative increase", text);
		return -1;
	}
	return 0;
}

static bool regresses(const struct an_rule *r, double base, double x, double *by)
{
	*by = x - base;
	if (isnan(*by))
		return false;
	if (!r->relative)
		return *by > r->threshold;
	if (base == 0) {
		*by = x > 0 ? INFINITY : 0; /* any rise from 0 is unbounded */
		return x > 0;
	}
	*by = 100 * *by / fabs(base);
	return *by > r->threshold;
}

int an_rule_check(const struct an_table *t, const struct an_rule *r, FILE *out)
{
	int found = 0, bad = 0;
	for (int i = 0; i < t->n; i++) {
		const struct an_row *row = &t->rows[i];
		if (strcmp(row->metric, r->metric))
			continue;
		found++;
		const struct an_cell *b = &row->cells[row->base];
		if (b->result != t->baseline)
			continue; /* the baseline did not measure it: nothing to regress against */
		for (int c = 0; c < row->ncells; c++) {
			const struct an_cell *x = &row->cells[c];
			double by;
			if (c == row->base || !regresses(r, b->st.center, x->st.center, &by))
				continue;
			char line[1024];
			snprintf(line, sizeof line, "regression: %s %s %s: %s %g against the "
				 "baseline's %g (%+g%s > %g%s)", row->workload, row->phase,
				 row->metric, t->set->r[x->result].release, x->st.center,
				 b->st.center, by, r->relative ? "%" : "", r->threshold,
				 r->relative ? "%" : "");
			an_wrap(out, line, 0, 2, 100);
			bad++;
		}
	}
	return found ? bad : -1;
}
