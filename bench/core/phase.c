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
	cb_track_free(&c->before);
	return r;
}

void cb_track_clear(struct cb_ctx *c)
{
	c->nregions = 0;
}

int cb_track(struct cb_ctx *c, pid_t pid, const void *addr, size_t len)
{
	size_t ps = cb_page_size();
	if (c->nregions >= CB_MAX_REGIONS || ((uintptr_t)addr % ps) || (len % ps))
		return cb_fail(c, "cb_track: bad region %p+%zu", addr, len);
	c->regions[c->nregions++] = (struct cb_region){ pid, (uintptr_t)addr, len };
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
	json_object_set_new(p, "counters", json_object());
	json_object_set_new(p, "metrics", json_object());
	json_object_set_new(p, "unavailable", json_object());
	json_object_set_new(p, "skipped", json_null());
	return p;
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

int cb_phase_begin(struct cb_ctx *c, const char *name)
{
	if (c->in_phase)
		cb_phase_end(c);
	c->phase = phase_object(name);
	c->in_phase = true;
	cb_track_free(&c->before);
	if (c->nregions && !(c->bare & CB_BARE_TRACKER) &&
	    cb_track_snapshot(c->regions, c->nregions, &c->before))
		c->before.pfn_ok = false;
	c->counters_before = counters_snapshot(c);
	c->cpu0 = cpu_now_ns();
	c->t0 = cb_now_ns();
	return 0;
}

static void set_u(json_t *p, const char *k, uint64_t v)
{
	json_object_set_new(p, k, json_integer((json_int_t)v));
}

static void unavailable(json_t *p, const char *key, const char *why)
{
	json_object_set_new(json_object_get(p, "unavailable"), key, json_string(why));
}

static void fill_tracker(struct cb_ctx *c, json_t *p)
{
	set_u(p, "pages", c->before.n);
	if (!c->nregions)
		return;
	struct cb_track_snap after = { .why = "tracker off (cowbench bench, bare run)" };
	int rc = (c->bare & CB_BARE_TRACKER) ? -1
					     : cb_track_snapshot(c->regions, c->nregions, &after);
	if (rc || !c->before.pfn_ok || !after.pfn_ok) {
		const char *why = c->before.why[0] ? c->before.why : after.why;
		for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++)
			if (k->flags & CB_KEYF_TRACKER)
				unavailable(p, k->name, why[0] ? why : "page tracker failed");
		json_object_set_new(p, "pfn_tracking", json_false());
		cb_track_free(&after);
		return;
	}
	struct cb_track_totals t;
	cb_track_compare(&c->before, &after, &t);
	size_t ps = cb_page_size();
	set_u(p, "copied", t.copied);
	set_u(p, "reused", t.reused);
	set_u(p, "extra_copies", t.extra_copies);
	set_u(p, "necessary_copies", t.necessary_copies);
	set_u(p, "swapped_in", t.swapped_in);
	set_u(p, "swapcache_leftover_pages", t.swapcache_leftover);
	set_u(p, "swapcache_leftover_bytes", t.swapcache_leftover * ps);
	set_u(p, "copy_bytes", t.copied * ps);
	json_object_set_new(p, "tracker", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
		"present_before", (json_int_t)t.present_before,
		"swapped_before", (json_int_t)t.swapped_before,
		"ksm_before", (json_int_t)t.ksm_before, "thp_before", (json_int_t)t.thp_before,
		"swapcache_after", (json_int_t)t.swapcache_after,
		"unmapped_after", (json_int_t)t.unmapped_after));
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

static void fill_counters(struct cb_ctx *c, json_t *p, json_t *d)
{
	fill_faults(p, d, "faults_minor", "perf.page-faults-min", "minflt");
	fill_faults(p, d, "faults_major", "perf.page-faults-maj", "majflt");
	json_t *tlb = json_object_get(d, "interrupts.tlb_shootdowns");
	if (tlb)
		json_object_set(p, "tlb_shootdowns", tlb);
	else
		unavailable(p, "tlb_shootdowns", "no 'TLB shootdowns' line in /proc/interrupts");
	json_t *tf = json_object_get(d, "perf.tlb:tlb_flush");
	if (tf)
		json_object_set(p, "tlb_flush_events", tf);
	else
		unavailable(p, "tlb_flush_events", cb_perf_why(c->perf, "tlb:tlb_flush"));
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
	json_t *after = counters_snapshot(c);
	json_t *p = c->phase;
	json_t *d = cb_counters_delta(c->counters_before, after);
	json_object_set_new(d, "harness.cpu_ns", json_integer((json_int_t)(cpu1 - c->cpu0)));
	json_decref(after);
	json_decref(c->counters_before);
	c->counters_before = NULL;
	set_u(p, "elapsed_ns", t1 - c->t0);
	fill_tracker(c, p);
	fill_counters(c, p, d);
	null_unavailable(p);
	json_t *ops = json_object_get(p, "ops");
	if (json_is_integer(ops) && json_integer_value(ops) > 0)
		json_object_set_new(p, "ns_per_op", json_real((double)(t1 - c->t0) /
							     (double)json_integer_value(ops)));
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
