/* `cowbench stat`: the result document (one workload "stat:<comm>", one
 * phase per process and a "total"), the table and the -I lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "stat.h"

#define TOP_MAPPINGS 12

static const char method[] =
	"ptrace follows the process tree (fork, vfork, clone, exec and exit stops). At each "
	"fork stop the parent's and the child's pagemaps are read: private pages mapping the "
	"same frame in both are the pages the fork made COW-shared, and both processes list "
	"them. A list is settled at the process's next fork, at its exit stop (the mm still "
	"exists), when its fork family shrinks to one process, at each -I tick and at the "
	"end: a listed page on a new frame was copied; on the same frame with "
	"PG_anon_exclusive set again (kpageflags bit 34, kernels >= 5.19) a write reused it; "
	"otherwise it is still shared. Where the fault log also records page allocations and "
	"kernel-mode faults, a settle outside a fork stop reads only the pages the process "
	"faulted since its list was made (the others still map their listed frame), provided "
	"every frame it allocated since is mapped at one of them, no record was lost and no "
	"page was swapped out; else it reads the whole list (notes.settles counts both). At a "
	"fork stop a logged write fault on a listed page that kept its frame is a reuse (the "
	"fork has just cleared its PG_anon_exclusive). extra_copies are copies made while no other traced "
	"process of the fork family was alive (timed by their fault with the fault log; a "
	"lower bound: a copy while a sibling lives but no longer maps that frame is not "
	"counted). extra_by_cause: swapcache when the old frame was still in the swap cache at "
	"the settle, other for the rest (a per-CPU LRU batch, a pin, KSM or THP: a reference "
	"stat cannot name after the fact). -p attaches and lists the pages "
	"already not exclusive at attach. Where the x86 tracepoint exceptions:page_fault_user "
	"exists, a fault log of the whole tree (perf rings, inherited by children) is drained "
	"at every settle and replayed at the end; each write fault on a present page (error code PROT|WRITE) is matched by "
	"tgid, page address and time to a listed page that was copied or reused in that window "
	"(faultlog_cow_faults); listed pages decided without a user fault were broken by the "
	"kernel (kernel_cow_breaks); the rest are other write-protect faults.";

static const char cannot_see[] =
	"writes a process makes between its last settle point and an execve() (the old mm is "
	"gone at the exec stop); pages swapped out or unmapped before a settle point (counted "
	"as 'gone' in metrics); a process's sharing with processes it forked before -p "
	"attached (extra_copies then null) or with its own parent; kernel-mode COW breaks "
	"that are not write faults of the process itself (read() or recv() into a shared "
	"buffer, get_user_pages with FOLL_WRITE, process_vm_writev) are counted as copies or "
	"reuses, and told apart from user writes only by the fault log (kernel_cow_breaks); "
	"a -p process with more threads than the fault log has rings for gets no log; in a "
	"settle from the fault log, a page unmapped without a fault since its list (munmap, "
	"MADV_DONTNEED) is not counted as gone, and a COW break that neither faults nor "
	"allocates in the process itself (a reuse by get_user_pages with FOLL_WRITE, a write "
	"by another process through process_vm_writev or ptrace) is not seen; two copies of "
	"one page between settle "
	"points count once; PMD-mapped THPs are counted per 4 KiB page; writable private "
	"mappings larger than 1 TiB (a sanitizer's shadow, sparse reservations) are not "
	"scanned; reuses on kernels "
	"before 5.19 (no PG_anon_exclusive in kpageflags: reused is null there).";

static void set_u(json_t *p, const char *k, uint64_t v)
{
	json_object_set_new(p, k, json_integer((json_int_t)v));
}

static void unavailable(json_t *p, const char *key, const char *why)
{
	json_object_set_new(p, key, json_null());
	json_object_set_new(json_object_get(p, "unavailable"), key, json_string(why));
}

static void metric(json_t *p, const char *key, double v, const char *unit)
{
	json_object_set_new(json_object_get(p, "metrics"), key,
			    json_pack("{s:f, s:s}", "value", v, "unit", unit));
}

static json_t *phase_new(const char *name)
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

static const char no_excl[] = "this kernel's kpageflags show no PG_anon_exclusive (< 5.19): "
			      "a reuse keeps its frame and cannot be told from an unwritten "
			      "page without a fault log";

/* Keys every phase fills the same way from counts. */
static void fill_counts(struct st_state *s, json_t *p, const struct st_counts *c,
			uint64_t pages, bool extra_known, bool exact)
{
	size_t ps = s->page_size;
	set_u(p, "pages", pages);
	set_u(p, "copied", c->copied);
	set_u(p, "copy_bytes", c->copied * ps);
	set_u(p, "swapcache_leftover_pages", c->leftover);
	set_u(p, "swapcache_leftover_bytes", c->leftover * ps);
	if (s->have_excl_bit || s->fl_used) { /* without the bit: the log's matches */
		set_u(p, "reused", c->reused);
		set_u(p, "written", c->copied + c->reused);
		metric(p, "cow_faults", (double)(c->copied + c->reused), "faults");
	} else {
		unavailable(p, "reused", no_excl);
	}
	if (extra_known) {
		set_u(p, "extra_copies", c->extra);
		set_u(p, "necessary_copies", c->copied - c->extra);
		/* After the fact only the swap cache still holds the old frame:
		 * an LRU batch or a pin has let go, KSM and THP flags are gone
		 * with the freed frame. */
		json_object_set_new(p, "extra_by_cause",
				    json_pack("{s:I, s:I}", "swapcache", (json_int_t)c->extra_swapc,
					      "other", (json_int_t)(c->extra - c->extra_swapc)));
	} else {
		unavailable(p, "extra_copies", "processes forked before -p attached may share "
						 "its pages: whether a copy was avoidable is unknown");
	}
	unavailable(p, "swapped_in", "stat lists only pages present at a fork");
	json_object_set_new(p, "outcome_method", json_string("pfn"));
	json_object_set_new(p, "outcome_exact",
			    json_boolean(exact && (s->have_excl_bit || s->fl_used)));
	if (!exact)
		json_object_set_new(json_object_get(p, "unavailable"), "outcome_exact",
			json_string("pages left the lists unseen (swapped or unmapped before a "
				    "settle point, or an exec): see metrics.gone"));
	metric(p, "forks", (double)c->forks, "forks");
	metric(p, "shared_at_fork", (double)c->shared_at_fork, "pages");
	metric(p, "gone", (double)c->gone, "pages");
}

/* The fault log sees user-mode faults only: listed pages decided without
 * one were broken by the kernel on the process's behalf (read() into the
 * buffer, put_user of a tid, GUP with FOLL_WRITE). Write faults on present
 * pages outside the lists are the other write-protect faults (private file
 * pages, write-notify of shared mappings). */
static void fill_log(struct st_state *s, json_t *p, uint64_t cow, uint64_t other,
		     uint64_t faults, uint64_t decided)
{
	if (!s->fl_used) {
		json_object_set_new(json_object_get(p, "unavailable"), "faultlog",
				    json_string(s->fl_why[0] ? s->fl_why : "no fault log"));
		return;
	}
	json_object_set_new(p, "faultlog", json_pack("{s:I, s:i, s:I}", "faults",
		(json_int_t)faults, "allocs", 0, "lost", (json_int_t)s->fl_lost));
	metric(p, "faultlog_cow_faults", (double)cow, "faults");
	metric(p, "faultlog_other_wp_faults", (double)other, "faults");
	metric(p, "kernel_cow_breaks", decided > cow ? (double)(decided - cow) : 0, "pages");
	json_object_set_new(p, "outcome_method", json_string("faultlog"));
	if (s->fl_lost) {
		json_object_set_new(p, "outcome_exact", json_false());
		json_object_set_new(json_object_get(p, "unavailable"), "outcome_exact",
				    json_string(s->fl_why));
	}
}

static uint64_t map_pages(const struct st_proc *p)
{
	uint64_t n = 0;
	for (size_t i = 0; i < p->nmaps; i++)
		n += p->maps[i].shared;
	return n;
}

static int by_cost(const void *a, const void *b)
{
	const struct st_map *x = a, *y = b;
	uint64_t cx = x->copied + x->reused, cy = y->copied + y->reused;
	return (cx < cy) - (cx > cy);
}

/* The mappings that took the most COW faults: where the cost comes from. */
static json_t *mappings(const struct st_proc *p)
{
	json_t *o = json_object();
	struct st_map *m = malloc((p->nmaps ? p->nmaps : 1) * sizeof *m);
	if (!m)
		return o;
	if (p->nmaps) { /* memcpy and qsort take no NULL, even for 0 items */
		memcpy(m, p->maps, p->nmaps * sizeof *m);
		qsort(m, p->nmaps, sizeof *m, by_cost);
	}
	for (size_t i = 0; i < p->nmaps && i < TOP_MAPPINGS; i++)
		if (m[i].copied + m[i].reused)
			json_object_set_new(o, m[i].name, json_pack("{s:I, s:I, s:I}",
				"shared", (json_int_t)m[i].shared, "copied", (json_int_t)m[i].copied,
				"reused", (json_int_t)m[i].reused));
	free(m);
	return o;
}

static void phase_name(const struct st_proc *p, char *buf, size_t len)
{
	snprintf(buf, len, "p%d %s", p->idx, p->comm);
}

static json_t *proc_phase(struct st_state *s, const struct st_proc *p)
{
	char name[64];
	phase_name(p, name, sizeof name);
	json_t *ph = phase_new(name);
	fill_counts(s, ph, &p->c, map_pages(p), p->extra_known, !p->lost_at_exec && !p->c.gone);
	fill_log(s, ph, p->fl_cow, p->fl_other_wp, p->fl_faults, p->c.copied + p->c.reused);
	set_u(ph, "faults_minor", p->minflt);
	set_u(ph, "faults_major", p->majflt);
	uint64_t end = p->t_end ? p->t_end : cb_now_ns();
	set_u(ph, "elapsed_ns", end - p->t_start);
	unavailable(ph, "tlb_shootdowns", "a system-wide counter: see the total phase");
	unavailable(ph, "tlb_flush_events", "counted for the whole tree: see the total phase");
	char parent[64] = "";
	if (p->parent_idx >= 0)
		phase_name(&s->procs[p->parent_idx], parent, sizeof parent);
	json_object_set_new(ph, "process", json_pack("{s:i, s:s, s:s, s:b, s:b}",
		"pid", (int)p->pid, "comm", p->comm, "parent", parent, "attached", p->attached,
		"lost_at_exec", p->lost_at_exec));
	json_object_set_new(ph, "mappings", mappings(p));
	return ph;
}

static void sum_counts(struct st_state *s, struct st_counts *c, uint64_t *pages, bool *known,
		       bool *exact)
{
	memset(c, 0, sizeof *c);
	*pages = 0;
	*known = *exact = true;
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct st_proc *p = &s->procs[i];
		c->forks += p->c.forks;
		c->shared_at_fork += p->c.shared_at_fork;
		c->copied += p->c.copied;
		c->reused += p->c.reused;
		c->extra += p->c.extra;
		c->extra_swapc += p->c.extra_swapc;
		c->leftover += p->c.leftover;
		c->gone += p->c.gone;
		*pages += map_pages(p);
		*known &= p->extra_known;
		*exact &= !p->lost_at_exec && !p->c.gone;
	}
}

static void total_faults(struct st_state *s, json_t *ph, json_t *d, const char *perf,
			 const char *key, bool major)
{
	json_t *v = json_object_get(d, perf);
	if (json_is_integer(v)) {
		json_object_set(ph, key, v);
		return;
	}
	uint64_t n = 0;
	for (size_t i = 0; i < s->nprocs; i++)
		n += major ? s->procs[i].majflt : s->procs[i].minflt;
	set_u(ph, key, n);
}

static json_t *total_phase(struct st_state *s, json_t *d, json_t *perf_why)
{
	json_t *ph = phase_new("total");
	struct st_counts c;
	uint64_t pages;
	bool known, exact;
	sum_counts(s, &c, &pages, &known, &exact);
	fill_counts(s, ph, &c, pages, known, exact);
	uint64_t cow = 0, other = 0, faults = 0;
	for (size_t i = 0; i < s->nprocs; i++) {
		cow += s->procs[i].fl_cow;
		other += s->procs[i].fl_other_wp;
		faults += s->procs[i].fl_faults;
	}
	fill_log(s, ph, cow, other, faults, c.copied + c.reused);
	set_u(ph, "elapsed_ns", cb_now_ns() - s->t0);
	total_faults(s, ph, d, "perf.page-faults-min", "faults_minor", false);
	total_faults(s, ph, d, "perf.page-faults-maj", "faults_major", true);
	cb_phase_fill_tlb(ph, d,
			  json_string_value(json_object_get(perf_why, "perf.tlb:tlb_flush")));
	metric(ph, "processes", (double)s->nprocs, "processes");
	json_t *reuse = json_object_get(d, "pgreuse");
	if (reuse && s->have_excl_bit)
		json_object_set_new(ph, "crosscheck", json_pack("{s:I, s:O}", "tracker_reused",
			(json_int_t)c.reused, "pgreuse", reuse));
	json_object_set(ph, "counters", d);
	return ph;
}

static const struct {
	const char *key, *why;
} null_reasons[] = {
	{ "swapin_copied", "stat lists pages present at a fork stop and does not follow them "
			   "through swap: a page that leaves is counted in metrics.gone" },
	{ "swapin_reused", "stat lists pages present at a fork stop and does not follow them "
			   "through swap: a page that leaves is counted in metrics.gone" },
	{ "refaulted", "stat lists pages present at a fork stop and does not follow them "
		       "through reclaim: a page that leaves is counted in metrics.gone" },
	{ "extra_by_cause", "whether a copy was avoidable is unknown (see extra_copies)" },
	{ "ops", "the program's operations are unknown to stat" },
	{ "ns_per_op", "the program's operations are unknown to stat" },
	{ "written", no_excl },
	{ "necessary_copies", "whether a copy was avoidable is unknown (see extra_copies)" },
};

/* Every standard key left null says why (the schema requires it). */
static void explain_nulls(json_t *p)
{
	json_t *un = json_object_get(p, "unavailable");
	if (!json_object_get(p, "extra_by_cause"))
		json_object_set_new(p, "extra_by_cause", json_null());
	for (size_t i = 0; i < sizeof null_reasons / sizeof *null_reasons; i++)
		if (json_is_null(json_object_get(p, null_reasons[i].key)) &&
		    !json_object_get(un, null_reasons[i].key))
			json_object_set_new(un, null_reasons[i].key,
					    json_string(null_reasons[i].why));
	for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++)
		if (json_is_null(json_object_get(p, k->name)) && !json_object_get(un, k->name))
			json_object_set_new(un, k->name, json_string("not measured by stat"));
}

static char *command_text(const struct cb_stat_opts *o)
{
	size_t len = 16;
	for (int i = 0; !o->npids && o->argv[i]; i++)
		len += strlen(o->argv[i]) + 1;
	for (int i = 0; i < o->npids; i++)
		len += 12;
	char *t = calloc(1, len), *at = t;
	if (!t)
		return NULL;
	at += sprintf(at, o->npids ? "-p " : "--");
	for (int i = 0; i < o->npids; i++)
		at += sprintf(at, "%s%d", i ? "," : "", (int)o->pids[i]);
	for (int i = 0; !o->npids && o->argv[i]; i++)
		at += sprintf(at, " %s", o->argv[i]);
	return t;
}

static json_t *rep_object(struct st_state *s, json_t *d, json_t *perf_why, int status)
{
	json_t *phases = json_array();
	for (size_t i = 0; i < s->nprocs; i++)
		json_array_append_new(phases, proc_phase(s, &s->procs[i]));
	json_array_append_new(phases, total_phase(s, d, perf_why));
	size_t i;
	json_t *ph;
	json_array_foreach(phases, i, ph)
		explain_nulls(ph);
	char st[16], settles[160];
	snprintf(st, sizeof st, "%d", status);
	snprintf(settles, sizeof settles,
		 "%llu from the fault log (the faulted pages read), %llu from the whole list "
		 "(settles outside fork stops)", (unsigned long long)s->settles_log,
		 (unsigned long long)s->settles_read);
	json_t *notes = json_pack("{s:s, s:s, s:s, s:s, s:s}", "method", method, "cannot_see",
				  cannot_see, "exit_status", st, "reuse_visible",
				  s->have_excl_bit ? "yes (PG_anon_exclusive in kpageflags)"
				  : s->fl_used ? "yes (fault log: a COW write fault on a page that "
						 "kept its frame)" : no_excl, "settles", settles);
	return json_pack("{s:i, s:o, s:o, s:[], s:n, s:n, s:O, s:O}", "rep", 0, "phases", phases,
			 "notes", notes, "placement", "skipped", "error", "forks", s->forks,
			 "intervals", s->intervals);
}

json_t *st_document(struct st_state *s, const struct cb_stat_opts *o, json_t *env,
		    json_t *counters, json_t *perf_why, bool complete, int status)
{
	json_t *doc = cb_result_new(env);
	json_object_set_new(doc, "mode", json_string("stat"));
	json_object_set_new(doc, "pfn_tracking", json_true());
	json_object_set_new(doc, "complete", json_boolean(complete));
	char name[64];
	snprintf(name, sizeof name, "stat:%s", s->nprocs ? s->procs[0].comm : "none");
	char *cmd = command_text(o);
	json_t *params = json_pack("{s:s, s:i, s:f}", "command", cmd ? cmd : "",
				   "interval_ms", (int)o->interval_ms, "duration_s", o->duration_s);
	json_t *reps = json_array();
	json_array_append_new(reps, rep_object(s, counters, perf_why, status));
	json_t *w = json_pack("{s:s, s:s, s:s, s:s, s:o, s:n, s:o}", "name", name, "suite", "stat",
			      "description", cmd ? cmd : "", "scenarios", "", "params", params,
			      "skipped", "reps", reps);
	json_object_set_new(w, "summary", cb_result_summary(reps));
	json_array_append_new(json_object_get(doc, "workloads"), w);
	free(cmd);
	json_decref(counters);
	json_decref(perf_why);
	return doc;
}

static void cell(FILE *out, json_t *ph, const char *key, int width)
{
	json_t *v = json_object_get(ph, key);
	if (json_is_integer(v))
		fprintf(out, " %*lld", width, (long long)json_integer_value(v));
	else
		fprintf(out, " %*s", width, "n/a");
}

static double metric_value(json_t *ph, const char *key)
{
	return json_number_value(json_object_get(json_object_get(json_object_get(ph, "metrics"),
								 key), "value"));
}

/* One row per process and the total; 97 columns. */
static void print_row(FILE *out, json_t *ph)
{
	fprintf(out, "  %-20.20s", json_string_value(json_object_get(ph, "name")));
	cell(out, ph, "pages", 8);
	cell(out, ph, "copied", 8);
	cell(out, ph, "reused", 8);
	cell(out, ph, "extra_copies", 6);
	cell(out, ph, "swapcache_leftover_pages", 6);
	cell(out, ph, "faults_minor", 10);
	cell(out, ph, "faults_major", 6);
	fprintf(out, " %5.0f", metric_value(ph, "forks"));
	fprintf(out, " %9.2f\n",
		(double)json_integer_value(json_object_get(ph, "copy_bytes")) / (1 << 20));
}

#define TABLE_PROCS 20

static uint64_t cow_of(json_t *ph)
{
	return (uint64_t)(json_integer_value(json_object_get(ph, "copied")) +
			  json_integer_value(json_object_get(ph, "reused")));
}

static json_t *rank_of;

/* More COW faults first; equal ones in order of appearance. */
static int by_faults(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t cx = cow_of(json_array_get(rank_of, x)), cy = cow_of(json_array_get(rank_of, y));
	if (cx != cy)
		return cx < cy ? 1 : -1;
	return (x > y) - (x < y);
}

/* A big tree shows its TABLE_PROCS processes with the most COW faults, in
 * order of appearance; the document has them all. */
static void print_rows(FILE *out, json_t *phases)
{
	size_t n = json_array_size(phases) - 1;
	size_t *ix = calloc(n ? n : 1, sizeof *ix);
	bool *show = calloc(n ? n : 1, sizeof *show);
	for (size_t i = 0; ix && i < n; i++)
		ix[i] = i;
	rank_of = phases;
	if (ix)
		qsort(ix, n, sizeof *ix, by_faults);
	for (size_t i = 0; ix && show && i < n && i < TABLE_PROCS; i++)
		show[ix[i]] = true;
	for (size_t i = 0; show && i < n; i++)
		if (show[i])
			print_row(out, json_array_get(phases, i));
	if (n > TABLE_PROCS)
		fprintf(out, "  (%zu more processes with fewer COW faults: in the document)\n",
			n - TABLE_PROCS);
	print_row(out, json_array_get(phases, n));
	free(ix);
	free(show);
}

void st_print(struct st_state *s, json_t *w, FILE *out)
{
	json_t *rep = json_array_get(json_object_get(w, "reps"), 0);
	json_t *phases = json_object_get(rep, "phases");
	json_t *total = json_array_get(phases, json_array_size(phases) - 1);
	fprintf(out, "\n%s  (%s; exit status %s; %.2f s)\n",
		json_string_value(json_object_get(w, "name")),
		json_string_value(json_object_get(w, "description")),
		json_string_value(json_object_get(json_object_get(rep, "notes"), "exit_status")),
		(double)json_integer_value(json_object_get(total, "elapsed_ns")) / 1e9);
	fprintf(out, "  %-20s %8s %8s %8s %6s %6s %10s %6s %5s %9s\n", "process", "shared",
		"copied", "reused", "extra", "swapc", "faults-min", "maj", "forks", "copy-MiB");
	print_rows(out, phases);
	fprintf(out, "  tlb:tlb_flush ");
	cell(out, total, "tlb_flush_events", 1);
	fprintf(out, "   TLB shootdown IPIs (system-wide)");
	cell(out, total, "tlb_shootdowns", 1);
	fprintf(out, "\n");
	if (!s->have_excl_bit && !s->fl_used)
		fprintf(out, "  reused: n/a: %s\n", no_excl);
	json_t *causes = json_object_get(total, "extra_by_cause");
	if (json_integer_value(json_object_get(total, "extra_copies")) > 0 && causes)
		fprintf(out, "  extra copies by cause: swap cache %lld, other %lld (an LRU batch, "
			"a pin, KSM, THP)\n",
			(long long)json_integer_value(json_object_get(causes, "swapcache")),
			(long long)json_integer_value(json_object_get(causes, "other")));
}

void st_interval_line(struct st_state *s, FILE *out)
{
	struct st_counts c;
	uint64_t pages;
	bool known, exact;
	sum_counts(s, &c, &pages, &known, &exact);
	struct st_counts *l = &s->last_interval;
	double t = (double)(cb_now_ns() - s->t0) / 1e9;
	if (!json_array_size(s->intervals))
		fprintf(out, "#%13s %8s %8s %6s %9s %6s %6s\n", "time", "copied", "reused", "extra",
			"copy-MiB", "forks", "procs");
	size_t alive = 0;
	for (size_t i = 0; i < s->nprocs; i++)
		alive += s->procs[i].alive;
	fprintf(out, "%14.3f %8llu %8llu %6llu %9.2f %6llu %6zu\n", t,
		(unsigned long long)(c.copied - l->copied), (unsigned long long)(c.reused - l->reused),
		(unsigned long long)(c.extra - l->extra),
		(double)((c.copied - l->copied) * s->page_size) / (1 << 20),
		(unsigned long long)(c.forks - l->forks), alive);
	json_array_append_new(s->intervals, json_pack("{s:f, s:I, s:I, s:I, s:I, s:I, s:I}",
		"t_s", t, "copied", (json_int_t)(c.copied - l->copied),
		"reused", (json_int_t)(c.reused - l->reused), "extra_copies",
		(json_int_t)(c.extra - l->extra), "forks", (json_int_t)(c.forks - l->forks),
		"copy_bytes_total", (json_int_t)(c.copied * s->page_size),
		"processes_alive", (json_int_t)alive));
	*l = c;
}
