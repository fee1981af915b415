/* The comparison table: per workload x phase x metric x kernel, statistics
 * over repetitions and the change against the baseline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbschema.h"
#include "model.h"

struct metric_def {
	const char *key, *unit;
	enum an_kind kind;
};

/* The standard keys come from bench/schema's table. These are the keys of
 * issue 11 (docs/metrics.md): compared here until the table lists them (a
 * key it lists is not added twice); extra_by_cause's members as dotted keys. */
/* The parts of extra_by_cause, compared like the standard keys. */
static const char *const cause_keys[] = {
	"extra_by_cause.swapcache", "extra_by_cause.ksm", "extra_by_cause.lru_batch",
	"extra_by_cause.pinned", "extra_by_cause.thp", "extra_by_cause.other",
};
#define NCAUSES (sizeof cause_keys / sizeof *cause_keys)

static enum an_kind kind_of(enum cb_metric_kind k)
{
	return k == CB_KIND_RATE ? AN_RATE : k == CB_KIND_TIME ? AN_TIME : AN_COUNT;
}

/* A workload-specific metric's kind comes from its unit. */
static enum an_kind kind_of_unit(const char *unit)
{
	if (!unit)
		return AN_COUNT;
	size_t n = strlen(unit);
	if ((n > 2 && !strcmp(unit + n - 2, "/s")) || !strncmp(unit, "ops/", 4))
		return AN_RATE;
	static const char *const times[] = { "ns", "us", "ms", "s", "ns/op", "us/op", "ns/page",
					     "cycles" };
	for (size_t i = 0; i < sizeof times / sizeof *times; i++)
		if (!strcmp(unit, times[i]))
			return AN_TIME;
	return AN_COUNT;
}

static char *wkey_of(json_t *wl)
{
	const char *name = json_string_value(json_object_get(wl, "name"));
	char *p = json_dumps(json_object_get(wl, "params"),
			     JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	size_t len = strlen(name) + (p ? strlen(p) : 4) + 2;
	char *k = malloc(len);
	snprintf(k, len, "%s\n%s", name, p ? p : "null");
	free(p);
	return k;
}

static bool rep_usable(json_t *rep)
{
	return !json_is_string(json_object_get(rep, "skipped")) &&
	       !json_is_string(json_object_get(rep, "error"));
}

/* "copies": every copy of a written page, also those made right after a
 * swap-in (swapin_copied, absent in older documents). */
static double all_copies(json_t *ph)
{
	json_t *c = json_object_get(ph, "copied"), *s = json_object_get(ph, "swapin_copied");
	if (!json_is_number(c))
		return NAN;
	return json_number_value(c) + (json_is_number(s) ? json_number_value(s) : 0);
}

static double phase_value(json_t *ph, const char *metric)
{
	if (json_is_string(json_object_get(ph, "skipped")))
		return NAN;
	if (!strcmp(metric, AN_ALL_COPIES))
		return all_copies(ph);
	const char *dot = strchr(metric, '.');
	json_t *v;
	if (dot) {
		char outer[64];
		snprintf(outer, sizeof outer, "%.*s", (int)(dot - metric), metric);
		v = json_object_get(json_object_get(ph, outer), dot + 1);
	} else {
		v = json_object_get(ph, metric);
	}
	if (!v)
		v = json_object_get(json_object_get(json_object_get(ph, "metrics"), metric),
				    "value");
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Whether a document's workload entry is the instance (name + params) wkey. */
static bool is_instance(json_t *wl, const char *wkey)
{
	char *k = wkey_of(wl);
	bool same = !strcmp(k, wkey);
	free(k);
	return same;
}

int an_samples(const struct an_set *s, int result, const char *wkey, const char *phase,
	       const char *metric, double *out, int max)
{
	int n = 0;
	size_t i, r, j;
	json_t *wl, *rep, *ph;
	json_array_foreach(json_object_get(s->r[result].doc, "workloads"), i, wl) {
		if (!is_instance(wl, wkey))
			continue;
		json_array_foreach(json_object_get(wl, "reps"), r, rep) {
			if (n >= max)
				return n;
			double v = NAN;
			json_array_foreach(json_object_get(rep, "phases"), j, ph) {
				const char *name = json_string_value(json_object_get(ph, "name"));
				if (rep_usable(rep) && !strcmp(name, phase))
					v = phase_value(ph, metric);
			}
			out[n++] = v;
		}
	}
	return n;
}

/* Distinct workload instances across all results, in order of appearance. */
struct ident {
	char *key, *name, *label;
	json_t *params;
};

static int collect_idents(const struct an_set *s, struct ident *ids, int max)
{
	int n = 0;
	for (int r = 0; r < s->n; r++) {
		size_t i;
		json_t *wl;
		json_array_foreach(json_object_get(s->r[r].doc, "workloads"), i, wl) {
			char *k = wkey_of(wl);
			bool seen = false;
			for (int j = 0; j < n && !seen; j++)
				seen = !strcmp(ids[j].key, k);
			if (seen || n >= max) {
				free(k);
				continue;
			}
			ids[n].key = k;
			ids[n].name = strdup(json_string_value(json_object_get(wl, "name")));
			ids[n].params = json_object_get(wl, "params");
			n++;
		}
	}
	return n;
}

/* Byte counts read as sizes ("size=4M hog=12M"): keys named so, or whole
 * MiBs; other numbers as they are. One size notation: bench/schema's. */
static void param_text(char *buf, size_t len, const char *k, json_t *v)
{
	long long b = json_integer_value(v);
	if (json_is_integer(v) && b > 0 && (strstr(k, "size") || b % (1 << 20) == 0)) {
		char size[32];
		cb_size_text((uint64_t)b, size, sizeof size);
		snprintf(buf, len, "%s=%s", k, size);
		return;
	}
	char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(buf, len, "%s=%s", k, t ? t : "?");
	free(t);
}

/* Label an instance by its name plus only the params in which it differs
 * from another instance of the same workload. */
static void label_idents(struct ident *ids, int n)
{
	for (int i = 0; i < n; i++) {
		char lab[512];
		snprintf(lab, sizeof lab, "%s", ids[i].name);
		const char *k;
		json_t *v;
		json_object_foreach(ids[i].params, k, v) {
			bool differs = false;
			for (int j = 0; j < n; j++)
				if (j != i && !strcmp(ids[j].name, ids[i].name) &&
				    !json_equal(json_object_get(ids[j].params, k), v))
					differs = true;
			if (!differs)
				continue;
			char p[128];
			param_text(p, sizeof p, k, v);
			strncat(lab, " ", sizeof lab - strlen(lab) - 1);
			strncat(lab, p, sizeof lab - strlen(lab) - 1);
		}
		ids[i].label = strdup(lab);
	}
}

/* Calls fn for every phase of one instance, over all results and reps. */
static void each_phase(const struct an_set *s, const char *wkey,
		       void (*fn)(json_t *ph, void *arg), void *arg)
{
	for (int r = 0; r < s->n; r++) {
		size_t i, j, p;
		json_t *wl, *rep, *ph;
		json_array_foreach(json_object_get(s->r[r].doc, "workloads"), i, wl) {
			if (!is_instance(wl, wkey))
				continue;
			json_array_foreach(json_object_get(wl, "reps"), j, rep)
				json_array_foreach(json_object_get(rep, "phases"), p, ph)
					fn(ph, arg);
		}
	}
}

struct names {
	const char **out;
	int n, max;
};

static void add_phase_name(json_t *ph, void *arg)
{
	struct names *x = arg;
	const char *name = json_string_value(json_object_get(ph, "name"));
	for (int q = 0; q < x->n; q++)
		if (!strcmp(x->out[q], name))
			return;
	if (x->n < x->max)
		x->out[x->n++] = name;
}

/* Phase names of one instance in order of appearance, over all results. */
static int collect_phases(const struct an_set *s, const char *wkey, const char **out, int max)
{
	struct names x = { out, 0, max };
	each_phase(s, wkey, add_phase_name, &x);
	return x.n;
}

struct metrics {
	const char *phase;
	struct metric_def *out;
	int n, max;
};

static void add_phase_metrics(json_t *ph, void *arg)
{
	struct metrics *x = arg;
	if (strcmp(json_string_value(json_object_get(ph, "name")), x->phase))
		return;
	const char *mk;
	json_t *m;
	json_object_foreach(json_object_get(ph, "metrics"), mk, m) {
		bool seen = false;
		for (int q = 0; q < x->n && !seen; q++)
			seen = !strcmp(x->out[q].key, mk);
		if (seen || x->n >= x->max)
			continue;
		const char *u = json_string_value(json_object_get(m, "unit"));
		x->out[x->n++] = (struct metric_def){ mk, u ? u : "", kind_of_unit(u) };
	}
}

/* Workload-specific metric keys (and units) of one instance's phase. */
static int collect_extra_metrics(const struct an_set *s, const char *wkey, const char *phase,
				 struct metric_def *out, int max)
{
	struct metrics x = { phase, out, 0, max };
	each_phase(s, wkey, add_phase_metrics, &x);
	return x.n;
}

static struct an_row *new_row(struct an_table *t)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->rows = realloc(t->rows, (size_t)t->cap * sizeof *t->rows);
	}
	struct an_row *row = &t->rows[t->n];
	memset(row, 0, sizeof *row);
	return row;
}

/* Counts are not normal (often constant, bounded at 0): an exact rank
 * test. Times: Welch, and only between native runs, since an emulated
 * guest's times say nothing about its kernel. */
static double test_p(const struct an_table *t, const struct an_row *row,
		     const struct an_cell *x, const struct an_cell *b)
{
	if (row->kind == AN_COUNT)
		return an_mwu_p(x->v, x->n, b->v, b->n);
	if (t->set->r[x->result].emulated || t->set->r[b->result].emulated)
		return NAN;
	return an_welch_p(x->v, x->n, b->v, b->n);
}

static void finish_row(struct an_table *t, struct an_row *row)
{
	row->base = 0;
	for (int c = 0; c < row->ncells; c++)
		if (row->cells[c].result == t->baseline)
			row->base = c;
	const struct an_cell *b = &row->cells[row->base];
	for (int c = 0; c < row->ncells; c++) {
		struct an_cell *x = &row->cells[c];
		double bc = b->st.center, xc = x->st.center;
		if (c == row->base)
			x->change = 0;
		else if (bc == 0)
			x->change = xc == 0 ? 0 : NAN;
		else
			x->change = (xc - bc) / fabs(bc);
		x->p = c == row->base ? NAN : test_p(t, row, x, b);
	}
}

static void add_row(struct an_table *t, const struct ident *id, const char *phase,
		    const struct metric_def *m)
{
	struct an_row *row = new_row(t);
	static double buf[AN_MAX_REPS];
	for (int r = 0; r < t->set->n; r++) {
		int n = an_samples(t->set, r, id->key, phase, m->key, buf, AN_MAX_REPS);
		struct an_cell *c = &row->cells[row->ncells];
		c->v = malloc(sizeof(double) * (size_t)(n ? n : 1));
		c->n = 0;
		for (int i = 0; i < n; i++)
			if (!isnan(buf[i]))
				c->v[c->n++] = buf[i];
		if (!c->n) {
			free(c->v);
			continue;
		}
		c->result = r;
		an_stats(c->v, c->n, m->kind, &c->st);
		row->ncells++;
	}
	if (!row->ncells)
		return;
	row->wkey = strdup(id->key);
	row->workload = strdup(id->label);
	row->wl_name = strdup(id->name);
	row->params = id->params;
	row->phase = strdup(phase);
	row->metric = strdup(m->key);
	row->unit = strdup(m->unit);
	row->kind = m->kind;
	finish_row(t, row);
	t->n++;
}

void an_table_build(struct an_table *t, struct an_set *s, int baseline)
{
	memset(t, 0, sizeof *t);
	t->set = s;
	t->baseline = baseline;
	struct ident ids[256];
	int nid = collect_idents(s, ids, 256);
	label_idents(ids, nid);
	for (int i = 0; i < nid; i++) {
		const char *phases[128];
		int np = collect_phases(s, ids[i].key, phases, 128);
		for (int p = 0; p < np; p++) {
			for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++) {
				struct metric_def m = { k->name, k->unit, kind_of(k->kind) };
				add_row(t, &ids[i], phases[p], &m);
			}
			struct metric_def all = { AN_ALL_COPIES, "pages", AN_COUNT };
			add_row(t, &ids[i], phases[p], &all);
			for (size_t c = 0; c < NCAUSES; c++) {
				struct metric_def m = { cause_keys[c], "pages", AN_COUNT };
				add_row(t, &ids[i], phases[p], &m);
			}
			struct metric_def extra[128];
			int ne = collect_extra_metrics(s, ids[i].key, phases[p], extra, 128);
			for (int m = 0; m < ne; m++)
				add_row(t, &ids[i], phases[p], &extra[m]);
		}
	}
	for (int i = 0; i < nid; i++) {
		free(ids[i].key);
		free(ids[i].name);
		free(ids[i].label);
	}
}

void an_table_free(struct an_table *t)
{
	for (int i = 0; i < t->n; i++) {
		struct an_row *r = &t->rows[i];
		for (int c = 0; c < r->ncells; c++)
			free(r->cells[c].v);
		free(r->wkey);
		free(r->workload);
		free(r->wl_name);
		free(r->phase);
		free(r->metric);
		free(r->unit);
	}
	free(t->rows);
	memset(t, 0, sizeof *t);
}

const struct an_row *an_find_row(const struct an_table *t, const char *wkey, const char *phase,
				 const char *metric)
{
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->rows[i].wkey, wkey) && !strcmp(t->rows[i].phase, phase) &&
		    !strcmp(t->rows[i].metric, metric))
			return &t->rows[i];
	return NULL;
}

const struct an_cell *an_find_cell(const struct an_row *row, int result)
{
	for (int c = 0; row && c < row->ncells; c++)
		if (row->cells[c].result == result)
			return &row->cells[c];
	return NULL;
}

bool an_row_differs(const struct an_row *row)
{
	for (int c = 1; row && c < row->ncells; c++)
		if (row->cells[c].st.median != row->cells[0].st.median)
			return true;
	return false;
}

const char *an_sig_mark(double p)
{
	if (isnan(p))
		return "";
	return p < 0.01 ? "**" : p < 0.05 ? "*" : "";
}

