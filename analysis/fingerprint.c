/* The policy fingerprint from the probe suite's results: each probe:*
 * workload's phase named after its scenario id gives pages / copied /
 * reused as the harness's page tracker measured them and, where a reader
 * holds a reference, the metric lost_sync; the era follows from which
 * outcomes each era can produce. */
#include <stdio.h>
#include <string.h>

#include "fingerprint.h"

/* --- the scenario outcomes, from the probe workloads' phases --- */

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_int_t count(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static json_t *phase_named(json_t *rep, const char *name)
{
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(rep, "phases"), i, p)
		if (str(p, "name") && !strcmp(str(p, "name"), name))
			return p;
	return NULL;
}

/* Why the scenario has no outcome, or NULL when it has one: the workload,
 * its repetition or its phase skipped, or the page tracker failed. */
static const char *why_not(json_t *w, json_t *rep, json_t *ph, char *buf, size_t len)
{
	const char *s;
	if ((s = str(w, "skipped")))
		return s;
	if (!rep)
		return "the probe did not run";
	if ((s = str(rep, "skipped")) || (s = str(rep, "error")))
		return s;
	if (!ph) {
		snprintf(buf, len, "no phase %s recorded", str(w, "scenarios"));
		return buf;
	}
	if ((s = str(ph, "skipped")))
		return s;
	if (json_is_integer(json_object_get(ph, "copied")) &&
	    json_is_integer(json_object_get(ph, "reused")))
		return NULL;
	s = str(json_object_get(ph, "unavailable"), "copied");
	snprintf(buf, len, "page tracker: %s", s ? s : "snapshot failed");
	return buf;
}

/* The pages whose COW decision the phase saw: a page that came back from
 * swap as a fresh page (S3b, when reclaim freed its folio) is none. Pages
 * swapped in and then copied or reused count as such (swapin_* keys, where
 * the document has them). */
static void put_counts(json_t *o, json_t *ph)
{
	json_int_t pages = count(ph, "pages") - count(ph, "swapped_in");
	json_object_set_new(o, "pages", json_integer(pages));
	json_object_set_new(o, "copied", json_integer(count(ph, "copied") +
						      count(ph, "swapin_copied")));
	json_object_set_new(o, "reused", json_integer(count(ph, "reused") +
						      count(ph, "swapin_reused")));
	json_t *lost = json_object_get(json_object_get(json_object_get(ph, "metrics"),
						       "lost_sync"), "value");
	json_object_set_new(o, "lost_sync", json_is_number(lost) ?
				json_integer((json_int_t)json_number_value(lost)) : json_null());
}

static json_t *scenario_of(json_t *w, const char *id)
{
	json_t *rep = json_array_get(json_object_get(w, "reps"), 0);
	json_t *ph = rep ? phase_named(rep, id) : NULL;
	char buf[320];
	const char *why = why_not(w, rep, ph, buf, sizeof buf);
	const char *desc = str(w, "description");
	json_t *o = json_pack("{s:s, s:f}", "description", desc ? desc : id, "elapsed_ms",
			      (double)count(ph, "elapsed_ns") / 1e6);
	if (why)
		for (const char **k = (const char *[]){ "pages", "copied", "reused", "lost_sync",
							NULL }; *k; k++)
			json_object_set_new(o, *k, json_null());
	else
		put_counts(o, ph);
	json_object_set_new(o, "skipped", why ? json_string(why) : json_null());
	return o;
}

json_t *cb_fingerprint_scenarios(json_t *workloads)
{
	json_t *sc = json_object();
	size_t i;
	json_t *w;
	json_array_foreach(workloads, i, w) {
		const char *id = str(w, "scenarios");
		if (str(w, "suite") && !strcmp(str(w, "suite"), "probe") && id && *id)
			json_object_set_new(sc, id, scenario_of(w, id));
	}
	return sc;
}

/* --- classification: the era from the outcomes alone --- */

struct sc {
	bool ran;
	long pages, copied, reused, lost;
	bool has_lost; /* a reader checked coherency */
};

static long jint(json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

static struct sc get(json_t *scenarios, const char *id)
{
	json_t *o = json_object_get(scenarios, id);
	struct sc s = { 0 };
	if (!json_is_object(o) || json_is_string(json_object_get(o, "skipped")) ||
	    jint(o, "pages") <= 0)
		return s;
	s.ran = true;
	s.pages = jint(o, "pages");
	s.copied = jint(o, "copied");
	s.reused = jint(o, "reused");
	s.has_lost = json_is_integer(json_object_get(o, "lost_sync"));
	s.lost = jint(o, "lost_sync");
	return s;
}

/* Thresholds leave room for stray per-CPU references (measured bursts of
 * up to 29 of 256 copies on a reusing kernel) and demand a clear majority
 * where an era copies everything. */
static bool copied_most(struct sc s) { return s.ran && s.copied * 2 >= s.pages; }
static bool reused_most(struct sc s) { return s.ran && s.reused * 4 >= s.pages * 3; }
static bool lost(struct sc s) { return s.ran && s.has_lost && s.lost * 4 >= s.pages; }
static bool in_sync(struct sc s) { return s.ran && s.has_lost && s.lost == 0; }

/* The three eras the probes can tell apart, in the order of their scores. */
enum { ERA_M, ERA_P, ERA_E, NERA };
static const char *const era_names[NERA] = { "mapcount", "page_count", "exclusive" };
#define M (1u << ERA_M)
#define P (1u << ERA_P)
#define E (1u << ERA_E)

static json_t *era_list(unsigned set)
{
	json_t *a = json_array();
	for (int i = 0; i < NERA; i++)
		if (set & (1u << i))
			json_array_append_new(a, json_string(era_names[i]));
	return a;
}

/* One observed outcome: the eras it fits (for) and the eras that cannot
 * produce it (against); an era in neither set may show it either way. */
static void vote(json_t *ev, bool fired, unsigned pro, unsigned con, const char *id,
		 const char *text)
{
	if (!fired || !json_is_array(ev))
		return;
	char rule[200];
	snprintf(rule, sizeof rule, "%s: %s", id, text);
	json_t *f = era_list(pro);
	json_t *era = json_string(json_array_size(f) == 1 ?
				  json_string_value(json_array_get(f, 0)) : "several");
	json_array_append_new(ev, json_pack("{s:s, s:s, s:o, s:o, s:o}", "scenario", id,
					    "rule", rule, "era", era, "for", f,
					    "against", era_list(con)));
}

static bool lists(json_t *a, const char *era)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		if (!strcmp(json_string_value(v), era))
			return true;
	return false;
}

/* d[a][b]: outcomes that fit era a and that era b cannot produce. */
static void duels(json_t *ev, int d[NERA][NERA])
{
	size_t i;
	json_t *r;
	memset(d, 0, sizeof(int) * NERA * NERA);
	json_array_foreach(ev, i, r)
		for (int a = 0; a < NERA; a++)
			for (int b = 0; b < NERA; b++)
				d[a][b] += lists(json_object_get(r, "for"), era_names[a]) &&
					   lists(json_object_get(r, "against"), era_names[b]);
}

/* Expected outcomes per era (docs/scenarios.md; "page_count" spans 5.9-5.18):
 *   S3a disk-swap read fault then write: copied 5.9-5.17 only (the swap-cache
 *       reference counts); reuse fits mapcount, exclusive and 5.18.
 *   S4  fresh R/O pages with an LRU-batch reference: copied (>= 4) 5.9-5.17;
 *       reuse fits mapcount, exclusive and 5.18 (local batch drained).
 *   S5a single-mapper KSM page: reused 5.1-5.8 (reuse_ksm_page), copied from
 *       5.9 on (PageKsm / folio_test_ksm -> copy).
 *   S6c child's vmsplice pipe sees the parent's later writes: <= 5.7 only.
 *   S7a io_uring pin lost after fork + parent write: before 5.9 only (fork
 *       copies pinned pages for the child from 5.9).
 *   S7b / S7d pin + clear_refs / pageout lost: 5.9-5.10.8 only; in sync
 *       fits every era.
 *   S7c pin + uffd-wp on/off lost: 5.9-5.18 only; in sync rules them out.
 * Every decisive outcome is evidence for the eras it fits against the eras
 * that cannot produce it. An era wins when, against each other era, more
 * outcomes speak for it than against it: one odd scenario (a stray
 * reference, a probe fooled by the kernel) cannot flip the era against
 * several others, and the odd one stays in the evidence and is printed as a
 * conflict. Two eras with as much evidence each way: "ambiguous"; no telling
 * outcome between them: "unknown". Only S7c tells 5.18 from the exclusive
 * era. S2 and S3b reuse in every era and do not count; S9c reused (MM_ID
 * large-folio reuse, >= 6.15) is noted without counting. */
const char *cb_fingerprint_classify(json_t *sc, json_t *ev_in)
{
	json_t *ev = json_is_array(ev_in) ? json_incref(ev_in) : json_array();
	struct sc s3a = get(sc, "S3a"), s4 = get(sc, "S4"), s5a = get(sc, "S5a");
	struct sc s6c = get(sc, "S6c"), s7a = get(sc, "S7a"), s7b = get(sc, "S7b");
	struct sc s7c = get(sc, "S7c"), s7d = get(sc, "S7d"), s9c = get(sc, "S9c");
	vote(ev, copied_most(s3a), P, M | E, "S3a", "swap-in read then write copied");
	vote(ev, reused_most(s3a), M | E, 0, "S3a", "swap-in read then write reused");
	vote(ev, s4.ran && s4.copied >= 4, P, M | E, "S4",
	     "R/O fresh pages with an LRU-batch reference copied");
	vote(ev, s4.ran && s4.copied < 4, M | E, 0, "S4",
	     "R/O fresh pages with an LRU-batch reference reused");
	vote(ev, reused_most(s5a), M, P | E, "S5a", "single-mapper KSM page reused");
	vote(ev, copied_most(s5a), P | E, M, "S5a", "single-mapper KSM page copied");
	vote(ev, lost(s6c), M, P | E, "S6c", "child's vmsplice pipe sees the parent's later "
	     "writes");
	vote(ev, in_sync(s6c), P | E, M, "S6c", "child's vmsplice pipe keeps its data");
	vote(ev, lost(s7a), M, P | E, "S7a", "pin lost sync after fork");
	vote(ev, in_sync(s7a), P | E, M, "S7a", "pin in sync after fork");
	vote(ev, lost(s7b), P, M | E, "S7b", "pin + clear_refs, write: lost sync");
	vote(ev, lost(s7d), P, M | E, "S7d", "pin + pageout, write: lost sync");
	vote(ev, lost(s7c), P, M | E, "S7c", "pin + uffd-wp on/off, write: lost sync");
	vote(ev, in_sync(s7c), M | E, P, "S7c", "pin + uffd-wp on/off, write: in sync");
	vote(ev, reused_most(s9c), 0, 0, "S9c", "PTE-mapped large folio reused after fork "
	     "(MM_ID reuse, >= 6.15; noted, no vote)");
	int d[NERA][NERA];
	duels(ev, d);
	json_decref(ev);
	bool contested = false;
	for (int a = 0; a < NERA; a++) {
		bool wins = true;
		for (int b = 0; b < NERA; b++)
			if (b != a && d[a][b] <= d[b][a]) {
				wins = false;
				contested |= d[a][b] > 0 && d[a][b] == d[b][a];
			}
		if (wins)
			return era_names[a];
	}
	return contested ? "ambiguous" : "unknown";
}
#undef M
#undef P
#undef E

/* --- the fingerprint of a document --- */

static bool is_era(const char *s)
{
	return !strcmp(s, "mapcount") || !strcmp(s, "page_count") || !strcmp(s, "exclusive");
}

static json_t *scores(int d[NERA][NERA])
{
	json_t *sj = json_object();
	for (int a = 0; a < NERA; a++)
		for (int b = 0; b < NERA; b++)
			if (a != b) {
				char k[48];
				snprintf(k, sizeof k, "%s>%s", era_names[a], era_names[b]);
				json_object_set_new(sj, k, json_integer(d[a][b]));
			}
	return sj;
}

json_t *cb_fingerprint_of(json_t *doc)
{
	json_t *k = json_object_get(json_object_get(doc, "env"), "kernel");
	const char *ver = str(k, "era_by_version"), *rel = str(k, "release");
	json_t *sc = cb_fingerprint_scenarios(json_object_get(doc, "workloads"));
	json_t *ev = json_array(), *conflicts = json_array();
	const char *beh = cb_fingerprint_classify(sc, ev);
	int d[NERA][NERA];
	duels(ev, d);
	size_t i;
	json_t *r;
	json_array_foreach(ev, i, r)
		if (is_era(beh) && lists(json_object_get(r, "against"), beh))
			json_array_append(conflicts, json_object_get(r, "scenario"));
	ver = ver ? ver : "unknown";
	return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o}", "era_by_behaviour", beh,
			 "era_by_version", ver, "release", rel ? rel : "unknown", "mismatch",
			 is_era(beh) && strcmp(beh, ver), "scores", scores(d), "conflicts",
			 conflicts, "evidence", ev, "scenarios", sc);
}

/* --- printing --- */

static void print_count(FILE *out, json_t *v)
{
	if (json_is_integer(v))
		fprintf(out, " %7lld", (long long)json_integer_value(v));
	else
		fprintf(out, " %7s", "-");
}

/* A skip reason under its row, wrapped at word breaks within 100 columns. */
static void print_reason(FILE *out, const char *why)
{
	const int indent = 7, width = 100 - indent;
	while (*why) {
		int n = (int)strlen(why);
		if (n > width) {
			n = width;
			while (n > 0 && why[n] != ' ')
				n--;
			if (!n)
				n = width;
		}
		fprintf(out, "%*s%.*s\n", indent, "", n, why);
		why += n;
		while (*why == ' ')
			why++;
	}
}

static void print_scenarios(json_t *sc, FILE *out)
{
	fprintf(out, "  %-4s %-58s %7s %7s %7s %7s\n", "id", "scenario", "pages", "copied",
		"reused", "lost");
	const char *id;
	json_t *o;
	json_object_foreach(sc, id, o) {
		fprintf(out, "  %-4s %-58s", id,
			json_string_value(json_object_get(o, "description")));
		json_t *why = json_object_get(o, "skipped");
		if (json_is_string(why)) {
			fprintf(out, " skipped\n");
			print_reason(out, json_string_value(why));
			continue;
		}
		print_count(out, json_object_get(o, "pages"));
		print_count(out, json_object_get(o, "copied"));
		print_count(out, json_object_get(o, "reused"));
		print_count(out, json_object_get(o, "lost_sync"));
		fprintf(out, "\n");
	}
}

static void print_eras(FILE *out, const char *sign, json_t *a)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
		fprintf(out, "%s%s", sign, json_string_value(v));
}

void cb_fingerprint_print(json_t *fp, FILE *out, bool brief)
{
	const char *beh = json_string_value(json_object_get(fp, "era_by_behaviour"));
	const char *ver = json_string_value(json_object_get(fp, "era_by_version"));
	const char *rel = json_string_value(json_object_get(fp, "release"));
	if (!brief) {
		fprintf(out, "policy fingerprint (lost = pages a pin/pipe reader sees differently "
			"from the process):\n");
		print_scenarios(json_object_get(fp, "scenarios"), out);
		size_t i;
		json_t *r;
		fprintf(out, "evidence (fits / cannot happen in):\n");
		json_array_foreach(json_object_get(fp, "evidence"), i, r) {
			fprintf(out, "  %-60s", json_string_value(json_object_get(r, "rule")));
			print_eras(out, " +", json_object_get(r, "for"));
			print_eras(out, " -", json_object_get(r, "against"));
			fprintf(out, "\n");
		}
		const char *k;
		json_t *v;
		fprintf(out, "outcomes that fit era a and that era b cannot produce (a>b):\n ");
		int col = 1;
		json_object_foreach(json_object_get(fp, "scores"), k, v) {
			if (col > 80) {
				fprintf(out, "\n ");
				col = 1;
			}
			col += fprintf(out, " %s %lld", k, json_integer_value(v));
		}
		fprintf(out, "\n");
	}
	json_t *cf = json_object_get(fp, "conflicts");
	if (json_array_size(cf)) {
		fprintf(out, "outcomes this era cannot produce (outvoted, check them):");
		size_t i;
		json_t *v;
		json_array_foreach(cf, i, v)
			fprintf(out, " %s", json_string_value(v));
		fprintf(out, "\n");
	}
	fprintf(out, "era by behaviour: %s    era by version (%s): %s\n", beh, rel, ver);
	if (json_is_true(json_object_get(fp, "mismatch")))
		fprintf(out, "\n*** MISMATCH: this kernel behaves like the %s era, but its version "
			"predicts %s ***\n\n", beh, ver);
}
