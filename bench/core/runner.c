/* `cowbench run`: validates everything first, then runs each workload's
 * repetitions and writes one result document. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static void on_signal(int sig)
{
	cb_result_unlink_pending();
	cb_journal_restore_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const char *watched = "";

/* The watchdog: a workload that hangs must not hold the machine's settings
 * hostage. Its children die with us (PR_SET_PDEATHSIG). */
static void on_alarm(int sig)
{
	(void)sig;
	const char *m1 = "\ncowbench: watchdog: workload ", *m2 = " exceeded --timeout; aborting\n";
	if (write(2, m1, strlen(m1)) < 0 || write(2, watched, strlen(watched)) < 0 ||
	    write(2, m2, strlen(m2)) < 0)
		_exit(124);
	cb_result_unlink_pending();
	cb_journal_restore_signal();
	_exit(124);
}

/* A signal undoes the journal's changes, then kills as usual. */
void cb_install_signals(void)
{
	signal(SIGALRM, on_alarm);
	/* A worker that died (an OOM kill in its memory cgroup, say) must
	 * fail its repetition with a reason, not kill the harness by SIGPIPE
	 * before the journal is restored. */
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Finds the option a "-o key=value" names for this workload: "key" or
 * "workload.key". Returns NULL when the key is not this workload's. */
static const struct cb_opt *kv_option(const struct cb_workload *w, const char *kv,
				      const char **value)
{
	const char *eq = strchr(kv, '=');
	if (!eq)
		return NULL;
	char key[128];
	snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
	*value = eq + 1;
	const char *dot = strchr(key, '.');
	if (dot) {
		size_t n = (size_t)(dot - key);
		if (strlen(w->name) != n || strncmp(w->name, key, n))
			return NULL;
		return cb_opt_find(w->opts, dot + 1);
	}
	return cb_opt_find(w->opts, key);
}

union cb_val *cb_workload_values(const struct cb_workload *w, const struct cb_run_opts *o,
				 char *err, size_t errlen)
{
	int n = cb_opt_count(w->opts);
	union cb_val *v = calloc((size_t)n + 1, sizeof *v);
	for (int i = 0; i < n; i++)
		if (w->opts[i].def && cb_opt_parse(&w->opts[i], w->opts[i].def, &v[i], err, errlen))
			goto bad;
	const struct cb_opt *size = cb_opt_find(w->opts, "size");
	if (o->size && size && cb_opt_parse(size, o->size, &v[size - w->opts], err, errlen))
		goto bad;
	for (int i = 0; i < o->nkv; i++) {
		const char *value;
		const struct cb_opt *opt = kv_option(w, o->kv[i], &value);
		if (opt && cb_opt_parse(opt, value, &v[opt - w->opts], err, errlen))
			goto bad;
	}
	return v;
bad:
	free(v);
	return NULL;
}

json_t *cb_workload_params(const struct cb_workload *w, const union cb_val *v)
{
	json_t *p = json_object();
	for (int i = 0; w->opts && w->opts[i].name; i++) {
		const struct cb_opt *o = &w->opts[i];
		json_t *j;
		switch (o->type) {
		case CB_OPT_U64: case CB_OPT_SIZE: j = json_integer((json_int_t)v[i].u); break;
		case CB_OPT_DOUBLE: j = json_real(v[i].d); break;
		case CB_OPT_BOOL: j = json_boolean(v[i].b); break;
		default: j = v[i].s ? json_string(v[i].s) : json_null(); break;
		}
		json_object_set_new(p, o->name, j);
	}
	return p;
}

/* Every -o key must belong to at least one selected workload, and so
 * must --size. */
static void check_keys(const struct cb_workload **ws, int nw, const struct cb_run_opts *o)
{
	bool sized = false;
	for (int k = 0; k < nw; k++)
		sized |= cb_opt_find(ws[k]->opts, "size") != NULL;
	if (o->size && !sized)
		cb_die_usage("--size %s: none of the selected workloads has a size option",
			     o->size);
	for (int i = 0; i < o->nkv; i++) {
		if (!strchr(o->kv[i], '='))
			cb_die_usage("invalid option '-o %s': expected key=value", o->kv[i]);
		bool used = false;
		for (int k = 0; k < nw; k++) {
			const char *value;
			used |= kv_option(ws[k], o->kv[i], &value) != NULL;
		}
		if (!used)
			cb_die_usage("unknown option key '%.*s' for the selected workloads",
				     (int)strcspn(o->kv[i], "="), o->kv[i]);
	}
}

static const char *missing_need(unsigned needs, char *why, size_t len)
{
	if ((needs & CB_NEED_ROOT) && !cb_is_root())
		return "needs root (pagemap PFNs, sysfs knobs)";
	if ((needs & CB_NEED_KSM) && !cb_have_ksm())
		return "no KSM on this kernel (/sys/kernel/mm/ksm missing)";
	if ((needs & CB_NEED_IOURING) && !cb_have_iouring(why, len))
		return why;
	if ((needs & CB_NEED_PAGEOUT) && !cb_have_pageout(why, len))
		return why;
	if ((needs & CB_NEED_UFFD_WP) && !cb_have_uffd_wp(why, len))
		return why;
	if ((needs & CB_NEED_SOFTDIRTY) && !cb_have_softdirty(why, len))
		return why;
	return NULL;
}

static json_t *run_rep(const struct cb_workload *w, union cb_val *vals, int rep,
		       const struct cb_run_opts *o)
{
	struct cb_perf *perf = (o->bare & CB_BARE_PERF) ? NULL
							: cb_perf_open(o->events, o->nevents);
	struct cb_ctx c;
	cb_ctx_init(&c, w, vals, rep, perf);
	c.bare = o->bare;
	/* The workload's state is the harness's to allocate, zero and free. */
	c.priv = w->priv_size ? calloc(1, w->priv_size) : NULL;
	if (w->priv_size && !c.priv)
		cb_fail(&c, "cannot allocate %zu bytes of workload state", w->priv_size);
	else if (!w->setup || !w->setup(&c))
		if (w->run)
			w->run(&c);
	if (c.in_phase)
		cb_phase_end(&c);
	if (w->teardown && (c.priv || !w->priv_size))
		w->teardown(&c);
	free(c.priv);
	json_t *r = cb_ctx_finish(&c);
	json_object_set_new(r, "perf_unavailable", cb_perf_unavailable(perf));
	cb_perf_close(perf);
	return r;
}

static const char *const suite_names[] = { "mission", "repro", "probe", "app" };

static json_t *run_workload(const struct cb_workload *w, const struct cb_run_opts *o)
{
	char err[256], why[256] = "";
	union cb_val *vals = cb_workload_values(w, o, err, sizeof err);
	json_t *wj = json_pack("{s:s, s:s, s:s, s:o, s:[]}", "name", w->name, "description",
			       w->summary, "scenarios", w->scenarios ? w->scenarios : "",
			       "params", cb_workload_params(w, vals), "reps");
	json_object_set_new(wj, "suite", json_string(suite_names[w->suite]));
	json_object_set_new(wj, "op", json_string(w->op ? w->op : "page written"));
	const char *miss = missing_need(w->needs, why, sizeof why);
	json_object_set_new(wj, "skipped", miss ? json_string(miss) : json_null());
	for (int rep = 0; !miss && rep < o->reps; rep++) {
		if (isatty(2))
			fprintf(stderr, "\r%s: rep %d/%d ", w->name, rep + 1, o->reps);
		watched = w->name;
		alarm(o->timeout);
		json_array_append_new(json_object_get(wj, "reps"), run_rep(w, vals, rep, o));
		alarm(0);
	}
	if (isatty(2))
		fprintf(stderr, "\r%*s\r", 40, "");
	json_object_set_new(wj, "summary", cb_result_summary(json_object_get(wj, "reps")));
	free(vals);
	return wj;
}

json_t *cb_runner_suite(enum cb_suite suite, const struct cb_run_opts *o)
{
	json_t *all = json_array();
	for (int i = 0; cb_workload_at(i); i++)
		if (cb_workload_at(i)->suite == suite)
			json_array_append_new(all, run_workload(cb_workload_at(i), o));
	return all;
}

/* One workload in-process, for tests: the workload's result object, or
 * NULL with err set when its options are bad. */
json_t *cb_runner_one(const char *name, const char **kv, int nkv, int reps, char *err,
		      size_t errlen)
{
	struct cb_run_opts o = { .reps = reps, .kv = kv, .nkv = nkv };
	return cb_runner_opts(name, &o, err, errlen);
}

json_t *cb_runner_opts(const char *name, const struct cb_run_opts *o, char *err, size_t errlen)
{
	const struct cb_workload *w = cb_workload_find(name);
	if (!w) {
		snprintf(err, errlen, "unknown workload '%s'", name);
		return NULL;
	}
	union cb_val *v = cb_workload_values(w, o, err, errlen);
	if (!v)
		return NULL;
	free(v);
	bool journal = cb_is_root() && !cb_journal_active();
	if (journal && cb_journal_begin(err, errlen))
		return NULL;
	if (cb_is_root())
		cb_tracefs_ensure();
	json_t *wj = run_workload(w, o);
	if (journal)
		cb_journal_restore(false);
	return wj;
}

/* Peak bytes one tracked page costs the harness: two snapshots of 24 bytes,
 * the raw pagemap buffer and the PFN-sorted index with qsort's buffer
 * (bench/core/tracker.c; `cowbench bench` measures about 80). */
#define CB_TRACKER_BYTES_PER_PAGE 96

/* What a workload needs at its peak: size times its footprint (copies
 * included), times the option footprint_per names, plus the tracker. */
static double footprint_bytes(const struct cb_workload *w, const union cb_val *v,
			      double *per)
{
	const struct cb_opt *size = cb_opt_find(w->opts, "size");
	*per = w->footprint > 0 ? w->footprint : 1;
	const struct cb_opt *mul = w->footprint_per ? cb_opt_find(w->opts, w->footprint_per)
						    : NULL;
	double n = mul ? (double)v[mul - w->opts].u : 1;
	double tracked = (double)v[size - w->opts].u * n;
	*per *= n;
	return (double)v[size - w->opts].u * *per +
	       tracked / (double)cb_page_size() * CB_TRACKER_BYTES_PER_PAGE;
}

/* A footprint beyond what the machine has free could OOM the host (or
 * swap the measurement away): refuse it with one line unless --force.
 * The other size options (a hog, a cgroup limit) keep the old rule: at
 * most half of MemAvailable each. */
static void check_sizes(const struct cb_workload *w, const union cb_val *v, bool force)
{
	uint64_t avail = cb_mem_available_bytes();
	char text[32];
	if (force || !avail)
		return;
	for (int i = 0; w->opts && w->opts[i].name; i++) {
		if (w->opts[i].type != CB_OPT_SIZE)
			continue;
		cb_size_text(v[i].u, text, sizeof text);
		if (!strcmp(w->opts[i].name, "size")) {
			double per, bytes = footprint_bytes(w, v, &per);
			if (bytes <= (double)avail * 0.9)
				continue;
			cb_die_usage("%s: size=%s needs about %.1f GiB (%.3g x size, copies "
				     "included, plus the tracker), which exceeds the safe share of "
				     "memory (%.1f GiB, 90%% of MemAvailable); use --force to run it "
				     "anyway", w->name, text, bytes / (1 << 30), per,
				     (double)avail * 0.9 / (1 << 30));
		}
		if (v[i].u > avail / 2)
			cb_die_usage("%s: %s=%s exceeds the safe share of memory (%llu MiB, half of "
				     "MemAvailable); use --force to run it anyway", w->name,
				     w->opts[i].name, text, (unsigned long long)(avail >> 21));
	}
}

/* A misspelt event is bad input (exit 2, nothing written); an event that
 * exists but cannot be opened here is recorded unavailable with its reason.
 * After tracefs is mounted (tracepoint names are checked there), so the
 * journal is undone before exiting. */
static void check_events(const struct cb_run_opts *o)
{
	for (int i = 0; i < o->nevents; i++) {
		char why[200] = "";
		if (cb_perf_event_known(o->events[i], why, sizeof why))
			continue;
		if (cb_journal_active())
			cb_journal_restore(false);
		cb_die_usage("unknown perf event '%s': %s", o->events[i], why);
	}
}

static void check_out_dir(const char *path)
{
	char dir[1024];
	cb_dir_of(path, dir, sizeof dir);
	if (access(dir, W_OK))
		cb_die_usage("cannot write results to '%s': %s", dir, strerror(errno));
}

/* One workload with the options of one point of a sweep. */
struct instance {
	const struct cb_workload *w;
	struct cb_run_opts o;
	const char **kv; /* o.kv with the swept entry replaced */
	char *point;     /* "key=value" of this point; NULL without a sweep */
};

#define MAX_INSTANCES 256

static bool sweepable(const struct cb_opt *opt)
{
	return opt && (opt->type == CB_OPT_U64 || opt->type == CB_OPT_SIZE ||
		       opt->type == CB_OPT_DOUBLE);
}

/* "-o size=4M,8M,12M" runs the workload once per value: the index of the
 * first such entry for w, or -1. */
static int sweep_entry(const struct cb_workload *w, const struct cb_run_opts *o)
{
	for (int i = 0; i < o->nkv; i++) {
		const char *value;
		if (sweepable(kv_option(w, o->kv[i], &value)) && strchr(value, ','))
			return i;
	}
	return -1;
}

static int add_instance(struct instance *in, int n, const struct cb_workload *w,
			const struct cb_run_opts *o, int entry, const char *value, size_t vlen)
{
	if (n >= MAX_INSTANCES)
		cb_die_usage("too many workload instances (more than %d)", MAX_INSTANCES);
	in[n] = (struct instance){ .w = w, .o = *o };
	if (entry < 0)
		return n + 1;
	const char *eq = strchr(o->kv[entry], '=');
	in[n].point = cb_strdup_printf("%.*s=%.*s", (int)(eq - o->kv[entry]), o->kv[entry],
				       (int)vlen, value);
	in[n].kv = malloc(sizeof(char *) * (size_t)o->nkv);
	memcpy(in[n].kv, o->kv, sizeof(char *) * (size_t)o->nkv);
	in[n].kv[entry] = in[n].point;
	in[n].o.kv = in[n].kv;
	return n + 1;
}

static int expand(const struct cb_workload *w, const struct cb_run_opts *o, struct instance *in,
		  int n)
{
	int e = sweep_entry(w, o);
	if (e < 0)
		return add_instance(in, n, w, o, -1, NULL, 0);
	const char *v = strchr(o->kv[e], '=') + 1;
	for (;;) {
		size_t len = strcspn(v, ",");
		if (!len)
			cb_die_usage("invalid sweep '-o %s': an empty value", o->kv[e]);
		n = add_instance(in, n, w, o, e, v, len);
		if (!v[len])
			return n;
		v += len + 1;
	}
}

static void free_instances(struct instance *in, int n)
{
	for (int i = 0; i < n; i++) {
		free(in[i].kv);
		free(in[i].point);
	}
}

static int select_workloads(const char **names, int nnames, const struct cb_workload **ws)
{
	int nw = 0;
	for (int i = 0; i < nnames && nw < 64; i++) {
		ws[nw] = cb_workload_find(names[i]);
		if (!ws[nw++])
			cb_die_usage("unknown workload '%s' (see 'cowbench list')", names[i]);
	}
	/* A bare `run` is the mission suite; the seed-thread races are
	 * `cowbench repro` (or named explicitly). */
	for (int i = 0; !nnames && cb_workload_at(i) && nw < 64; i++)
		if (cb_workload_at(i)->suite == CB_SUITE_MISSION)
			ws[nw++] = cb_workload_at(i);
	return nw;
}

static void check_instances(const struct instance *in, int n)
{
	char err[256];
	for (int k = 0; k < n; k++) {
		union cb_val *v = cb_workload_values(in[k].w, &in[k].o, err, sizeof err);
		if (!v)
			cb_die_usage("%s: %s", in[k].w->name, err);
		check_sizes(in[k].w, v, in[k].o.force);
		free(v);
	}
}

static json_t *new_document(json_t *env, const struct cb_run_opts *o, const char *mode,
			    FILE *tty)
{
	json_t *doc = cb_result_new(env);
	/* Every result says how the kernel behaved, not only what it is. */
	if (o->fingerprint) {
		json_t *fp = o->fingerprint(env);
		if (o->print_fingerprint)
			o->print_fingerprint(fp, tty, true);
		json_object_set_new(doc, "fingerprint", fp);
	}
	json_object_set_new(doc, "mode", json_string(mode));
	json_object_set_new(doc, "pfn_tracking", json_boolean(cb_is_root()));
	if (!cb_is_root())
		json_object_set_new(doc, "pfn_tracking_reason",
				    json_string("not root: pagemap shows no PFNs, copies and "
						"reuses cannot be attributed"));
	return doc;
}

/* kselftest's convention: 4 when nothing that was asked for could run. */
#define CB_EXIT_SKIP 4

/* 1 when a repetition failed, 4 when every workload or phase was skipped. */
static int run_status(json_t *doc)
{
	bool failed = false, ran = false;
	size_t i, j, k;
	json_t *w, *rep, *ph;
	json_array_foreach(json_object_get(doc, "workloads"), i, w)
		json_array_foreach(json_object_get(w, "reps"), j, rep) {
			failed |= json_is_string(json_object_get(rep, "error"));
			if (json_is_string(json_object_get(rep, "skipped")))
				continue;
			json_array_foreach(json_object_get(rep, "phases"), k, ph)
				ran |= !json_is_string(json_object_get(ph, "skipped"));
		}
	return failed ? 1 : ran ? 0 : CB_EXIT_SKIP;
}

static int write_document(json_t *doc, const char *path, FILE *tty)
{
	char err[256];
	if (cb_result_write(doc, path, err, sizeof err)) {
		fprintf(stderr, "cowbench: %s\n", err);
		return 1;
	}
	if (strcmp(path, "-"))
		fprintf(tty, "\nresult: %s\n", path);
	return 0;
}

int cb_runner_run(const char **names, int nnames, const struct cb_run_opts *o,
		  const char *out_path, const char *mode)
{
	const struct cb_workload *ws[64];
	static struct instance in[MAX_INSTANCES];
	int nw = select_workloads(names, nnames, ws), n = 0;
	check_keys(ws, nw, o);
	for (int k = 0; k < nw; k++)
		n = expand(ws[k], o, in, n);
	check_instances(in, n);
	json_t *env = cb_env_collect();
	char *path = out_path ? strdup(out_path) : cb_result_default_path(env);
	bool to_stdout = !strcmp(path, "-");
	if (!to_stdout) {
		check_out_dir(path);
		cb_result_sweep(path);
	}
	/* With the document on stdout, the tables go to stderr. */
	FILE *tty = to_stdout ? stderr : stdout;
	char err[256];
	/* Handlers first: a signal right after the journal exists must
	 * still remove it (restore of zero entries). */
	cb_install_signals();
	if (cb_is_root() && cb_journal_begin(err, sizeof err)) {
		fprintf(stderr, "cowbench: %s\n", err);
		return 1;
	}
	if (cb_is_root())
		cb_tracefs_ensure();
	check_events(o);
	cb_phase_faultlog_all(o->faultlog);
	json_t *doc = new_document(env, o, mode, tty);
	for (int k = 0; k < n; k++) {
		json_t *wj = run_workload(in[k].w, &in[k].o);
		if (in[k].point)
			fprintf(tty, "\n[sweep point %s]", in[k].point);
		cb_result_print_table(wj, tty, o->wide);
		json_array_append_new(json_object_get(doc, "workloads"), wj);
		/* What finished so far survives an interrupted run. */
		if (k + 1 < n && !to_stdout && cb_result_write(doc, path, err, sizeof err))
			fprintf(stderr, "cowbench: %s\n", err);
	}
	free_instances(in, n);
	fputc('\n', tty);
	cb_result_print_legend(tty, json_object_get(doc, "workloads"));
	json_object_set_new(doc, "complete", json_true());
	int rc = write_document(doc, path, tty);
	if (cb_journal_active())
		rc |= cb_journal_restore(false);
	if (!rc)
		rc = run_status(doc);
	json_decref(doc);
	json_decref(env);
	free(path);
	return rc;
}
