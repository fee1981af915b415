/* The pins' table: longterm-pin's cases (pin backend x event, rows) by
 * kernel (columns). A cell gives, as medians over repetitions, the pages
 * whose device view lost sync, the copies the pin itself made (S7e: taken
 * on pages still shared with a child), the copies and faults of the
 * process's write, and how many pages the pin left soft-dirty. Read-only
 * RDMA pins that write (FOLL_WRITE|FOLL_FORCE, through 6.1) and true
 * read-only pins (6.2 on) differ in the last three, not in coherency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdtable.h"
#include "stats.h"
#include "pins.h"
#include "text.h"

#define MAX_CASES 64
#define WORKLOAD "longterm-pin"
#define REGISTER "-register"

static bool named(json_t *o, const char *name)
{
	const char *n = json_string_value(json_object_get(o, "name"));
	return n && !strcmp(n, name);
}

static bool is_register(const char *phase)
{
	size_t n = strlen(phase), r = strlen(REGISTER);
	return n > r && !strcmp(phase + n - r, REGISTER);
}

static json_t *workload(const struct an_result *res)
{
	size_t i;
	json_t *wl;
	json_array_foreach(json_object_get(res->doc, "workloads"), i, wl)
		if (named(wl, WORKLOAD))
			return wl;
	return NULL;
}

static int collect_cases(const struct an_set *s, char rows[][64])
{
	int n = 0;
	for (int r = 0; r < s->n; r++) {
		json_t *rep = json_array_get(json_object_get(workload(&s->r[r]), "reps"), 0);
		size_t k;
		json_t *ph;
		json_array_foreach(json_object_get(rep, "phases"), k, ph) {
			const char *name = json_string_value(json_object_get(ph, "name"));
			bool seen = !name;
			for (int q = 0; q < n && !seen; q++)
				seen = !strcmp(rows[q], name);
			if (!seen && !is_register(name) && n < MAX_CASES)
				snprintf(rows[n++], 64, "%s", name);
		}
	}
	return n;
}

static json_t *phase_of(json_t *rep, const char *name)
{
	size_t k;
	json_t *ph;
	json_array_foreach(json_object_get(rep, "phases"), k, ph)
		if (named(ph, name))
			return ph;
	return NULL;
}

/* A top-level count ("copied") or a metric ("metrics.write_faults"). */
static bool value_of(json_t *ph, const char *key, double *v)
{
	json_t *x = json_object_get(ph, key);
	if (!x)
		x = json_object_get(json_object_get(json_object_get(ph, "metrics"), key), "value");
	if (!json_is_number(x))
		return false;
	*v = json_number_value(x);
	return true;
}

/* Median over repetitions of one value of one phase; false when no
 * repetition has it. */
static bool median_of(json_t *wl, const char *phase, const char *key, double *out)
{
	double v[AN_MAX_REPS];
	int n = 0;
	size_t j;
	json_t *rep;
	json_array_foreach(json_object_get(wl, "reps"), j, rep) {
		json_t *ph = phase_of(rep, phase);
		if (ph && n < AN_MAX_REPS && value_of(ph, key, &v[n]))
			n++;
	}
	if (!n)
		return false;
	*out = an_median(v, n);
	return true;
}

static const char *skip_reason(json_t *wl, const char *phase)
{
	json_t *why = json_object_get(wl, "skipped");
	if (json_is_string(why))
		return json_string_value(why);
	json_t *rep = json_array_get(json_object_get(wl, "reps"), 0);
	why = json_object_get(rep, "error");
	if (!json_is_string(why))
		why = json_object_get(phase_of(rep, phase), "skipped");
	return json_is_string(why) ? json_string_value(why) : NULL;
}

/* The median of one value as text, "-" when no repetition has it. */
static void median_text(char *out, size_t len, json_t *wl, const char *phase, const char *key)
{
	double v;
	if (median_of(wl, phase, key, &v))
		snprintf(out, len, "%.0f", v);
	else
		snprintf(out, len, "-");
}

static void cell_text(char *out, size_t len, const struct an_result *res, const char *row)
{
	json_t *wl = workload(res);
	const char *skip = wl ? skip_reason(wl, row) : NULL;
	double pages;
	if (skip) {
		an_cut_words(out, len, "skipped: ", skip, 60);
		return;
	}
	if (!wl || !median_of(wl, row, "pages", &pages)) {
		snprintf(out, len, "not run");
		return;
	}
	char reg[96], f[5][24];
	snprintf(reg, sizeof reg, "%s" REGISTER, row);
	median_text(f[0], sizeof f[0], wl, row, "lost_sync_pages");
	median_text(f[1], sizeof f[1], wl, reg, "copied");
	median_text(f[2], sizeof f[2], wl, row, "copied");
	median_text(f[3], sizeof f[3], wl, row, "write_faults");
	median_text(f[4], sizeof f[4], wl, reg, "soft_dirty_pages");
	snprintf(out, len, "%s / %s+%s / %s / %s", f[0], f[1], f[2], f[3], f[4]);
}

void an_write_pins_md(FILE *f, const struct an_view *v)
{
	const struct an_set *s = v->s;
	char (*rows)[64] = calloc(MAX_CASES, sizeof *rows);
	int n = rows ? collect_cases(s, rows) : 0;
	if (!n) {
		free(rows);
		return;
	}
	fputs("## Pins (longterm-pin)\n\nEach cell, medians over repetitions: lost pages / "
	      "copies at pin + copies at write / write faults / soft-dirty pages after the pin. "
	      "*lost*: pages whose device view differs from what the process wrote; *copies at "
	      "pin*: pages the pin itself moved the process to (S7e cases, the pin taken on "
	      "pages still shared with a child); *write faults*: the writer's own faults; "
	      "*soft-dirty*: pages the pin left soft-dirty after clear_refs (a pin that writes "
	      "dirties them; an unshare does not). \"-\": not measured in that case.\n\n"
	      "| case |", f);
	an_md_kernel_columns(f, v, 1);
	for (int i = 0; i < n; i++) {
		fprintf(f, "| %s |", rows[i]);
		for (int k = 0; k < v->nk; k++) {
			char cell[192];
			cell_text(cell, sizeof cell, &s->r[v->order[k]], rows[i]);
			an_md_cell(f, cell);
		}
		fputs("\n", f);
	}
	fputs("\n", f);
	free(rows);
}
