/* The phase protocol: snapshot → workload action → snapshot → deltas. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faultlog.h"
#include "harness.h"

void cb_ctx_init(struct cb_ctx *c, const struct cb_workload *w, union cb_val *vals, int rep,
		 struct cb_perf *perf)
{
	memset(c, 0, sizeof *c);
	c->w = w;
	c->vals = vals;
	c->rep = rep;
	c->perf = perf;
	c->phases = json_array();
	c->notes = json_object();
	c->placement = json_array();
	/* Before the workload forks anything: its children share the bits. */
	cb_written_init();
	cb_written_regions(NULL, 0);
}

static bool faultlog_all;

void cb_phase_faultlog_all(bool on)
{
	faultlog_all = on;
}

json_t *cb_ctx_finish(struct cb_ctx *c)
{
	if (c->in_phase)
		cb_phase_end(c);
	json_t *r = json_pack("{s:i, s:o, s:o, s:o}", "rep", c->rep, "phases", c->phases,
			      "notes", c->notes, "placement", c->placement);
	json_object_set_new(r, "skipped", c->skip ? json_string(c->skip) : json_null());
	json_object_set_new(r, "error", c->error ? json_string(c->error) : json_null());
	free(c->skip);
	free(c->error);
	free(c->ksm_pfns);
	cb_track_free(&c->before);
	return r;
}

void cb_track_clear(struct cb_ctx *c)
{
	c->nregions = 0;
	c->npinned = 0;
	cb_written_regions(NULL, 0);
}

int cb_track_pinned(struct cb_ctx *c, const void *addr, size_t len)
{
	if (c->npinned >= CB_MAX_REGIONS)
		return cb_fail(c, "cb_track_pinned: more than %d ranges", CB_MAX_REGIONS);
	c->pinned[c->npinned++] = (struct cb_region){ 0, (uintptr_t)addr, len };
	return 0;
}

int cb_track(struct cb_ctx *c, pid_t pid, const void *addr, size_t len)
{
	size_t ps = cb_page_size();
	if (c->nregions >= CB_MAX_REGIONS || ((uintptr_t)addr % ps) || (len % ps))
		return cb_fail(c, "cb_track: bad region %p+%zu", addr, len);
	c->regions[c->nregions++] = (struct cb_region){ pid, (uintptr_t)addr, len };
	cb_written_regions(c->regions, c->nregions);
	return 0;
}

size_t cb_track_forget_freed_pages(struct cb_ctx *c)
{
	return c->in_phase ? cb_track_forget_freed(&c->before, c->regions, c->nregions) : 0;
}

static json_t *phase_object(const char *name)
{
	json_t *p = json_pack("{s:s}", "name", name);
	for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++)
		json_object_set_new(p, k->name, json_null());
	static const char *const objs[] = { "extra_by_cause", "outcome_method", "outcome_exact",
					    "cause_limits" };
	for (size_t i = 0; i < sizeof objs / sizeof *objs; i++)
		json_object_set_new(p, objs[i], json_null());
	json_object_set_new(p, "counters", json_object());
	json_object_set_new(p, "metrics", json_object());
	json_object_set_new(p, "unavailable", json_object());
	json_object_set_new(p, "skipped", json_null());
	return p;
}

/* The fault log of one phase: one ring per tracked task per CPU, only
 * faults on the tracked ranges. Opened before the snapshot (opening takes
 * time), enabled after it. */
static void faultlog_open(struct cb_ctx *c)
{
	pid_t pids[CB_MAX_REGIONS];
	struct cb_fl_range r[CB_MAX_REGIONS];
	int np = 0;
	size_t pages = 0;
	for (int i = 0; i < c->nregions; i++) {
		r[i] = (struct cb_fl_range){ c->regions[i].pid, c->regions[i].addr,
					     c->regions[i].addr + c->regions[i].len };
		pages += c->regions[i].len / cb_page_size();
		int k = 0;
		while (k < np && pids[k] != c->regions[i].pid)
			k++;
		if (k == np)
			pids[np++] = c->regions[i].pid;
	}
	/* Up to 2 faults and 2 allocations per page (swap-in, write fault,
	 * copy) in the worst phases seen; rings are capped at 16 MiB each and
	 * a full one is reported as lost records, never silently. */
	c->fl = cb_faultlog_open(pids, np, r, c->nregions, CB_FL_WITH_ALLOCS, pages * 4,
				 c->fl_why, sizeof c->fl_why);
}

/* CPU time of the harness process: what a phase the harness runs itself
 * (fork-basic's writes) costs, whatever else the machine runs meanwhile. */
static uint64_t cpu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A bare phase (cowbench bench) reads no /proc counters, only perf if on. */
static json_t *counters_snapshot(struct cb_ctx *c)
{
	if (!(c->bare & CB_BARE_COUNTERS))
		return cb_counters_snapshot(c->perf);
	json_t *o = json_object();
	cb_perf_read(c->perf, o);
	return o;
}

int cb_phase_begin_opts(struct cb_ctx *c, const char *name, unsigned flags)
{
	if (c->in_phase)
		cb_phase_end(c);
	c->phase = phase_object(name);
	c->in_phase = true;
	cb_track_free(&c->before);
	c->fl_why[0] = 0;
	c->unmarked_writes = flags & CB_PHASE_UNMARKED_WRITES;
	c->fl_wanted = c->nregions && (faultlog_all || (flags & (CB_PHASE_MAY_RECLAIM |
								 CB_PHASE_UNMARKED_WRITES)));
	if (c->fl_wanted && !(c->bare & CB_BARE_PERF))
		faultlog_open(c);
	cb_written_clear();
	if (c->nregions && !(c->bare & CB_BARE_TRACKER) &&
	    cb_track_snapshot(c->regions, c->nregions, &c->before))
		c->before.pfn_ok = false;
	c->counters_before = counters_snapshot(c);
	c->cpu0 = cpu_now_ns();
	if (c->fl && cb_faultlog_enable(c->fl)) {
		snprintf(c->fl_why, sizeof c->fl_why, "cannot enable the fault log");
		cb_faultlog_close(c->fl);
		c->fl = NULL;
	}
	c->t0 = cb_now_ns();
	return 0;
}

int cb_phase_begin(struct cb_ctx *c, const char *name)
{
	return cb_phase_begin_opts(c, name, 0);
}

static void set_u(json_t *p, const char *k, uint64_t v)
{
	json_object_set_new(p, k, json_integer((json_int_t)v));
}

static void unavailable(json_t *p, const char *key, const char *why)
{
	json_object_set_new(json_object_get(p, "unavailable"), key, json_string(why));
}

static void tracker_unavailable(json_t *p, const char *why)
{
	for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++)
		if (k->flags & CB_KEYF_TRACKER)
			unavailable(p, k->name, why);
	unavailable(p, "extra_by_cause", why);
	unavailable(p, "outcome_exact", why);
}

/* The log's events of the phase; NULL when there is no log. */
static const struct cb_fl_event *faultlog_take(struct cb_ctx *c, json_t *p, size_t *n,
						uint64_t *lost)
{
	*n = 0;
	*lost = 0;
	if (!c->fl)
		return NULL;
	const struct cb_fl_event *ev;
	*n = cb_faultlog_drain(c->fl, &ev, lost);
	uint64_t faults = 0;
	for (size_t i = 0; i < *n; i++)
		faults += ev[i].kind == CB_FL_FAULT;
	json_object_set_new(p, "faultlog", json_pack("{s:I, s:I, s:I}", "faults",
		(json_int_t)faults, "allocs", (json_int_t)(*n - faults), "lost", (json_int_t)*lost));
	return ev;
}

static void set_counts(json_t *p, const struct cb_track_totals *t)
{
	size_t ps = cb_page_size();
	set_u(p, "written", t->written);
	set_u(p, "copied", t->copied);
	set_u(p, "reused", t->reused);
	set_u(p, "extra_copies", t->extra_copies);
	set_u(p, "necessary_copies", t->necessary_copies);
	set_u(p, "swapped_in", t->swapped_in);
	set_u(p, "swapcache_leftover_pages", t->swapcache_leftover);
	set_u(p, "swapcache_leftover_bytes", t->swapcache_leftover * ps);
	set_u(p, "copy_bytes", (t->copied + t->swapin_copied) * ps);
	json_t *bc = json_object();
	for (int k = 0; k < CB_CAUSE_N; k++)
		json_object_set_new(bc, cb_cause_names[k], json_integer((json_int_t)t->by_cause[k]));
	json_object_set_new(p, "extra_by_cause", bc);
	json_object_set_new(p, "tracker", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		"present_before", (json_int_t)t->present_before,
		"swapped_before", (json_int_t)t->swapped_before,
		"ksm_before", (json_int_t)t->ksm_before, "thp_before", (json_int_t)t->thp_before,
		"swapcache_after", (json_int_t)t->swapcache_after,
		"unmapped_after", (json_int_t)t->unmapped_after));
}

static void why_append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void why_append(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strlen(buf);
	if (at && at + 2 < len)
		at += (size_t)snprintf(buf + at, len - at, "; ");
	va_list ap;
	va_start(ap, fmt);
	if (at < len)
		vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

/* Swap-ins and refaults the PFN tracker alone cannot decide. */
static void pfn_limits(json_t *p, const struct cb_track_totals *t, uint64_t swapout,
		       char *why, size_t len)
{
	if (t->swapin_unknown) {
		char w[200];
		snprintf(w, sizeof w, "%llu written pages were swapped in: without the fault log "
			 "(run --faultlog) a copy after a swap-in has no earlier frame to compare",
			 (unsigned long long)t->swapin_unknown);
		unavailable(p, "swapin_copied", w);
		unavailable(p, "swapin_reused", w);
		why_append(why, len, "%s", w);
	} else {
		set_u(p, "swapin_copied", 0);
		set_u(p, "swapin_reused", 0);
	}
	if (swapout) {
		char w[240];
		snprintf(w, sizeof w, "reclaim swapped out %llu pages (system-wide) during the phase: "
			 "a page reclaimed and faulted back looks like a copy without the fault log",
			 (unsigned long long)swapout);
		unavailable(p, "refaulted", w);
		why_append(why, len, "%s", w);
	} else {
		set_u(p, "refaulted", 0);
	}
}

static void set_outcome(struct cb_ctx *c, json_t *p, const struct cb_track_totals *t,
			uint64_t lost, json_t *d)
{
	char why[600] = "";
	bool log = c->fl != NULL;
	json_object_set_new(p, "outcome_method", json_string(log ? "faultlog" : "pfn"));
	if (log) {
		set_u(p, "swapin_copied", t->swapin_copied);
		set_u(p, "swapin_reused", t->swapin_reused);
		set_u(p, "refaulted", t->refaulted);
	} else {
		json_t *so = json_object_get(d, "pswpout");
		pfn_limits(p, t, json_is_integer(so) ? (uint64_t)json_integer_value(so) : 0, why,
			   sizeof why);
	}
	if (c->fl_wanted && !log)
		why_append(why, sizeof why, "fault log unavailable: %s", c->fl_why);
	if (lost)
		why_append(why, sizeof why, "the fault log lost %llu records (ring full)",
			   (unsigned long long)lost);
	if (t->unresolved)
		why_append(why, sizeof why, "%llu written pages without a decidable outcome: %s",
			   (unsigned long long)t->unresolved, t->why_unresolved);
	json_object_set_new(p, "outcome_exact", json_boolean(!why[0]));
	if (why[0])
		unavailable(p, "outcome_exact", why);
	json_t *lim = json_object();
	if (!cb_track_ksm_flag_ok())
		json_object_set_new(lim, "ksm", json_string(
			"kpageflags marks every anonymous page KSM on this kernel: a page counts "
			"as KSM only when two tracked pages shared its frame in some snapshot of "
			"the repetition; a KSM page never seen shared counts as other"));
	json_object_set_new(p, "cause_limits", lim);
	if (log)
		json_object_set_new(p, "faultlog_crosscheck", json_pack("{s:I, s:I}",
			"copies_confirmed", (json_int_t)t->log_confirmed,
			"copies_unexplained", (json_int_t)t->log_disagree));
}

static void fill_tracker(struct cb_ctx *c, json_t *p, json_t *d)
{
	set_u(p, "pages", c->before.n);
	size_t nev;
	uint64_t lost;
	bool logged = c->fl != NULL; /* a log with no event is still a log */
	const struct cb_fl_event *ev = faultlog_take(c, p, &nev, &lost);
	if (!c->nregions) {
		tracker_unavailable(p, "no pages tracked in this phase");
		return;
	}
	struct cb_track_snap after = { .why = "tracker off (cowbench bench, bare run)" };
	int rc = (c->bare & CB_BARE_TRACKER) ? -1
					     : cb_track_snapshot(c->regions, c->nregions, &after);
	if (rc || !c->before.pfn_ok || !after.pfn_ok) {
		const char *why = c->before.why[0] ? c->before.why : after.why;
		tracker_unavailable(p, why[0] ? why : "page tracker failed");
		json_object_set_new(p, "pfn_tracking", json_false());
		cb_track_free(&after);
		return;
	}
	struct cb_classify_in in = {
		.r = c->regions, .nr = c->nregions, .pinned = c->pinned, .npinned = c->npinned,
		.all_written = !cb_written_covers(c->before.n) || (c->unmarked_writes && !logged),
		.log_written = c->unmarked_writes && logged, .ev = ev, .nev = nev,
		.ksm_flag_ok = cb_track_ksm_flag_ok(),
	};
	/* Where KPF_KSM lies, a frame two tracked pages shared in any snapshot
	 * of this repetition is KSM's: remember them for later phases. */
	if (!in.ksm_flag_ok) {
		cb_track_twins(&c->before, &c->ksm_pfns, &c->nksm);
		cb_track_twins(&after, &c->ksm_pfns, &c->nksm);
		in.ksm_pfns = c->ksm_pfns;
		in.nksm = c->nksm;
	}
	struct cb_track_totals t;
	cb_track_classify(&c->before, &after, &in, &t);
	set_counts(p, &t);
	set_outcome(c, p, &t, lost, d);
	if (c->unmarked_writes && !logged) { /* every page counted: reuses unknown */
		const char *why = "another process's writes without the fault log: which "
				  "pages it wrote is unknown (copies stay exact)";
		unavailable(p, "reused", why);
		unavailable(p, "written", why);
	}
	json_object_set_new(p, "pfn_tracking", json_true());
	cb_track_free(&after);
}

/* A key the workload declared unavailable stays null, whatever the harness
 * measured for it. */
static void null_unavailable(json_t *p)
{
	const char *key;
	json_t *why;
	json_object_foreach(json_object_get(p, "unavailable"), key, why) {
		json_t *v = json_object_get(p, key);
		if (json_is_number(v))
			json_object_set_new(p, key, json_null());
	}
}

/* Prefer the per-process-tree perf count; fall back to getrusage. */
static void fill_faults(json_t *p, json_t *d, const char *key, const char *perf,
			const char *ru)
{
	json_t *v = json_object_get(d, perf);
	if (json_is_integer(v)) {
		json_object_set(p, key, v);
		return;
	}
	char self[64], kids[64];
	snprintf(self, sizeof self, "rusage.self.%s", ru);
	snprintf(kids, sizeof kids, "rusage.children.%s", ru);
	json_t *s = json_object_get(d, self), *k = json_object_get(d, kids);
	if (json_is_integer(s) && json_is_integer(k))
		json_object_set_new(p, key, json_integer(json_integer_value(s) +
							 json_integer_value(k)));
	else
		unavailable(p, key, "no perf fault event and no getrusage");
}

void cb_phase_fill_tlb(json_t *p, json_t *d, const char *flush_why)
{
	json_t *tlb = json_object_get(d, "interrupts.tlb_shootdowns");
	if (tlb)
		json_object_set(p, "tlb_shootdowns", tlb);
	else
		unavailable(p, "tlb_shootdowns", "no 'TLB shootdowns' line in /proc/interrupts");
	json_t *tf = json_object_get(d, "perf.tlb:tlb_flush");
	if (tf)
		json_object_set(p, "tlb_flush_events", tf);
	else
		unavailable(p, "tlb_flush_events", flush_why ? flush_why : "not measured");
}

static void fill_counters(struct cb_ctx *c, json_t *p, json_t *d)
{
	fill_faults(p, d, "faults_minor", "perf.page-faults-min", "minflt");
	fill_faults(p, d, "faults_major", "perf.page-faults-maj", "majflt");
	cb_phase_fill_tlb(p, d, cb_perf_why(c->perf, "tlb:tlb_flush"));
	json_t *reuse = json_object_get(d, "pgreuse");
	json_t *tr = json_object_get(p, "reused");
	if (reuse && json_is_integer(tr))
		json_object_set_new(p, "crosscheck", json_pack("{s:O, s:O}", "tracker_reused", tr,
							       "pgreuse", reuse));
	json_object_set_new(p, "counters", d);
}

int cb_phase_end(struct cb_ctx *c)
{
	if (!c->in_phase)
		return -1;
	uint64_t t1 = cb_now_ns(), cpu1 = cpu_now_ns();
	/* The log stops with the clock: draining it is not the phase's work. */
	if (c->fl)
		cb_faultlog_disable(c->fl);
	json_t *after = counters_snapshot(c);
	json_t *p = c->phase;
	json_t *d = cb_counters_delta(c->counters_before, after);
	json_object_set_new(d, "harness.cpu_ns", json_integer((json_int_t)(cpu1 - c->cpu0)));
	json_decref(after);
	json_decref(c->counters_before);
	c->counters_before = NULL;
	set_u(p, "elapsed_ns", t1 - c->t0);
	fill_tracker(c, p, d);
	cb_faultlog_close(c->fl);
	c->fl = NULL;
	fill_counters(c, p, d);
	null_unavailable(p);
	json_t *ops = json_object_get(p, "ops");
	if (json_is_null(ops))
		ops = NULL;
	if (json_is_integer(ops) && json_integer_value(ops) > 0)
		json_object_set_new(p, "ns_per_op", json_real((double)(t1 - c->t0) /
							     (double)json_integer_value(ops)));
	else
		unavailable(p, "ns_per_op", "the workload counts no operations in this phase");
	if (!ops)
		unavailable(p, "ops", "the workload counts no operations in this phase");
	json_array_append_new(c->phases, p);
	c->phase = NULL;
	c->in_phase = false;
	return 0;
}

void cb_phase_ops(struct cb_ctx *c, uint64_t ops)
{
	if (c->phase)
		set_u(c->phase, "ops", ops);
}

void cb_phase_op(struct cb_ctx *c, const char *what)
{
	if (c->phase)
		json_object_set_new(c->phase, "op", json_string(what));
}

void cb_phase_metric(struct cb_ctx *c, const char *key, double value, const char *unit)
{
	if (c->phase)
		json_object_set_new(json_object_get(c->phase, "metrics"), key,
				    json_pack("{s:f, s:s}", "value", value, "unit", unit));
}

void cb_phase_skip(struct cb_ctx *c, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *why = cb_vstrdup_printf(fmt, ap);
	va_end(ap);
	/* Skipping the phase being measured drops what it measured so far. */
	if (c->in_phase && !strcmp(json_string_value(json_object_get(c->phase, "name")), name)) {
		cb_faultlog_close(c->fl);
		c->fl = NULL;
		json_decref(c->phase);
		json_decref(c->counters_before);
		c->phase = c->counters_before = NULL;
		c->in_phase = false;
	}
	json_t *p = phase_object(name);
	json_object_set_new(p, "skipped", json_string(why ? why : "skipped"));
	json_array_append_new(c->phases, p);
	free(why);
}

void cb_phase_unavailable(struct cb_ctx *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *why = cb_vstrdup_printf(fmt, ap);
	va_end(ap);
	if (c->phase && why)
		unavailable(c->phase, key, why);
	free(why);
}
