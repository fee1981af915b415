/* `cowbench stat`: the tracer. Follows a command's or running processes'
 * trees with ptrace and settles their page lists at the points where the
 * sharing changes (see stat.h). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faultlog.h"
#include "harness.h"
#include "stat.h"

#define OPTS                                                                           \
	(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |                 \
	 PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC)
#define MAX_PERF 64
#define KCMP_VM 1

static volatile sig_atomic_t got_int, got_tick;

struct tracer {
	struct st_state s;
	const struct cb_stat_opts *o;
	pid_t cmd;
	int cmd_status;
	struct cb_perf *perf[MAX_PERF];
	int nperf;
	pid_t pending[64]; /* new children stopped before their parent's fork event */
	int npending;
	uint64_t deadline;
};

static void on_int(int sig)
{
	(void)sig;
	got_int = 1;
}

static void on_tick(int sig)
{
	(void)sig;
	got_tick = 1;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t cap2 = *cap ? *cap * 2 : 16;
	while (cap2 < need)
		cap2 *= 2;
	void *q = realloc(p, cap2 * size);
	if (q)
		*cap = cap2;
	return q;
}

static int family_new(struct st_state *s)
{
	int *f = realloc(s->family_alive, (size_t)(s->nfamilies + 1) * sizeof *f);
	if (!f)
		return 0;
	s->family_alive = f;
	f[s->nfamilies] = 1;
	return s->nfamilies++;
}

static int proc_new(struct st_state *s, pid_t pid, int parent, int family)
{
	struct st_proc *p = grow(s->procs, &s->cap, s->nprocs + 1, sizeof *p);
	if (!p)
		return -1;
	s->procs = p;
	p = &s->procs[s->nprocs];
	memset(p, 0, sizeof *p);
	p->pid = pid;
	p->idx = (int)s->nprocs;
	p->parent_idx = parent;
	p->family = family;
	p->alive = true;
	p->extra_known = true;
	p->t_start = cb_now_ns();
	st_proc_comm(p);
	return (int)s->nprocs++;
}

static void tid_add(struct st_state *s, pid_t tid, int proc)
{
	size_t cap = s->tidcap;
	pid_t *t = grow(s->tids, &cap, s->ntids + 1, sizeof *t);
	if (t)
		s->tids = t;
	int *tp = grow(s->tid_proc, &s->tidcap, s->ntids + 1, sizeof *tp);
	if (!t || !tp)
		return;
	s->tid_proc = tp;
	s->tids[s->ntids] = tid;
	s->tid_proc[s->ntids++] = proc;
}

static int tid_find(struct st_state *s, pid_t tid)
{
	for (size_t i = 0; i < s->ntids; i++)
		if (s->tids[i] == tid)
			return s->tid_proc[i];
	return -1;
}

static void tid_del(struct st_state *s, pid_t tid)
{
	for (size_t i = 0; i < s->ntids; i++)
		if (s->tids[i] == tid) {
			s->tids[i] = s->tids[--s->ntids];
			s->tid_proc[i] = s->tid_proc[s->ntids];
			return;
		}
}

/* A process left its fork family (exit or exec). The last member left is
 * settled now: from here on it maps its shared pages alone, and every copy
 * it makes is one the kernel could have avoided. */
static void family_leave(struct st_state *s, int fam)
{
	if (--s->family_alive[fam] != 1)
		return;
	for (size_t i = 0; i < s->nprocs; i++) {
		struct st_proc *q = &s->procs[i];
		if (q->alive && q->family == fam) {
			/* Copies so far were necessary. With the fault log the
			 * replay times each copy against this moment instead. */
			if (!s->fl)
				st_settle(s, q, true);
			q->alone = true;
			st_alone_mark(q, true, cb_now_ns());
		}
	}
}

static void release_pending(struct tracer *t, pid_t child)
{
	for (int i = 0; i < t->npending; i++)
		if (t->pending[i] == child) {
			t->pending[i] = t->pending[--t->npending];
			ptrace(PTRACE_CONT, child, 0, 0);
		}
}

static void fork_record(struct st_state *s, int pi, int ci, size_t shared)
{
	json_array_append_new(s->forks, json_pack("{s:i, s:i, s:I, s:f}", "parent", pi,
		"child", ci, "shared_pages", (json_int_t)shared,
		"t_ms", (double)(cb_now_ns() - s->t0) / 1e6));
}

/* A fork stop: the parent's pages that the child now maps too are shared. */
static void on_fork(struct tracer *t, pid_t tid, pid_t child, bool shares_vm)
{
	struct st_state *s = &t->s;
	int pi = tid_find(s, tid);
	if (pi < 0 || tid_find(s, child) >= 0)
		return;
	struct st_proc *p = &s->procs[pi];
	if (shares_vm) { /* vfork: no COW until it execs */
		int ci = proc_new(s, child, pi, family_new(s));
		if (ci >= 0)
			tid_add(s, child, ci);
		release_pending(t, child);
		return;
	}
	size_t n = st_snapshot(s, p, false);
	p->c.forks++;
	p->c.shared_at_fork += n;
	s->family_alive[p->family]++;
	p->alone = false;
	st_alone_mark(p, false, cb_now_ns());
	int ci = proc_new(s, child, pi, p->family);
	if (ci < 0)
		return;
	p = &s->procs[pi]; /* proc_new may move the table */
	s->procs[ci].extra_known = p->extra_known;
	st_share_list(p, &s->procs[ci]);
	fork_record(s, pi, ci, n);
	tid_add(s, child, ci);
	release_pending(t, child);
}

static pid_t tgid_of(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	char *st = cb_read_file(path, NULL), *l = st ? strstr(st, "\nTgid:") : NULL;
	pid_t g = l ? (pid_t)atoi(l + 6) : -1;
	free(st);
	return g;
}

static void on_clone(struct tracer *t, pid_t tid, pid_t child)
{
	int pi = tid_find(&t->s, tid);
	if (pi >= 0 && tgid_of(child) == t->s.procs[pi].pid) {
		tid_add(&t->s, child, pi); /* a thread: same process */
		release_pending(t, child);
		return;
	}
	bool same_vm = pi >= 0 &&
		       syscall(SYS_kcmp, t->s.procs[pi].pid, child, KCMP_VM, 0, 0) == 0;
	on_fork(t, tid, child, same_vm);
}

/* After exec the old mm is gone: what its list would have shown is lost. */
static void on_exec(struct tracer *t, pid_t tid)
{
	struct st_state *s = &t->s;
	int pi = tid_find(s, tid);
	if (pi < 0)
		return;
	struct st_proc *p = &s->procs[pi];
	p->lost_at_exec |= p->npages > 0;
	p->npages = 0;
	int old = p->family;
	p->family = family_new(s);
	p = &s->procs[pi];
	p->alone = true;
	st_alone_mark(p, true, cb_now_ns());
	p->extra_known = true;
	st_proc_comm(p);
	family_leave(s, old);
}

/* The process is gone, its mm released: only now do its pages stop being
 * shared, so only now may the rest of its family count avoidable copies. */
static void proc_end(struct st_state *s, struct st_proc *p)
{
	if (!p->alive)
		return;
	p->alive = false;
	if (!p->t_end)
		p->t_end = cb_now_ns();
	/* Its list can never settle again: free it (a fork-heavy tree would
	 * otherwise keep one heap-sized list per dead child). */
	st_hist_keep(s, p);
	free(p->pages);
	p->pages = NULL;
	p->npages = 0;
	family_leave(s, p->family);
}

/* PTRACE_EVENT_EXIT: the mm is still there; settle before it goes. */
static void on_exit_event(struct tracer *t, pid_t tid)
{
	int pi = tid_find(&t->s, tid);
	if (pi < 0 || t->s.procs[pi].pid != tid)
		return;
	struct st_proc *p = &t->s.procs[pi];
	st_settle(&t->s, p, false);
	st_proc_faults(p);
	st_proc_comm(p);
	p->t_end = cb_now_ns();
}

static bool stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void on_event_stop(struct tracer *t, pid_t tid, int sig)
{
	if (tid_find(&t->s, tid) < 0) {
		/* A new child's first stop came before its parent's fork
		 * event: hold it until its pages are listed. */
		if (t->npending < 64) {
			t->pending[t->npending++] = tid;
			return;
		}
	}
	if (stop_signal(sig) && tid != t->cmd)
		ptrace(PTRACE_LISTEN, tid, 0, 0);
	else
		ptrace(PTRACE_CONT, tid, 0, 0);
}

static void on_stop(struct tracer *t, pid_t tid, int status)
{
	int sig = WSTOPSIG(status), ev = status >> 16;
	unsigned long msg = 0;
	if (ev && ev != PTRACE_EVENT_STOP)
		ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
	switch (ev) {
	case 0:
		ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig); /* deliver it */
		return;
	case PTRACE_EVENT_STOP: on_event_stop(t, tid, sig); return;
	case PTRACE_EVENT_FORK: on_fork(t, tid, (pid_t)msg, false); break;
	case PTRACE_EVENT_VFORK: on_fork(t, tid, (pid_t)msg, true); break;
	case PTRACE_EVENT_CLONE: on_clone(t, tid, (pid_t)msg); break;
	case PTRACE_EVENT_EXEC: on_exec(t, tid); break;
	case PTRACE_EVENT_EXIT: on_exit_event(t, tid); break;
	}
	ptrace(PTRACE_CONT, tid, 0, 0);
}

static void on_gone(struct tracer *t, pid_t tid, int status)
{
	int pi = tid_find(&t->s, tid);
	tid_del(&t->s, tid);
	if (tid == t->cmd)
		t->cmd_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (pi >= 0 && t->s.procs[pi].pid == tid)
		proc_end(&t->s, &t->s.procs[pi]); /* no exit stop seen: nothing to settle */
}

static void settle_all(struct st_state *s)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].alive)
			st_settle(s, &s->procs[i], false);
}

static void tick(struct tracer *t, bool *stop)
{
	got_tick = 0;
	if (t->o->interval_ms) {
		settle_all(&t->s);
		st_interval_line(&t->s, stderr);
	}
	if (t->deadline && cb_now_ns() >= t->deadline)
		*stop = true;
}

/* Returns true when the trace ended by itself, false when cut short. */
static bool trace_loop(struct tracer *t, bool *interrupted)
{
	bool stop = false;
	while (!stop && t->s.ntids) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL);
		if (tid < 0) {
			if (errno == ECHILD)
				break;
			if (got_tick)
				tick(t, &stop);
			if (got_int)
				*interrupted = stop = true;
			continue;
		}
		if (WIFSTOPPED(status))
			on_stop(t, tid, status);
		else
			on_gone(t, tid, status);
	}
	return !stop;
}

/* Stop following: every task stopped once, then let go. */
static void detach_all(struct tracer *t)
{
	for (size_t i = 0; i < t->s.ntids; i++) {
		pid_t tid = t->s.tids[i];
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
			continue;
		int status, sig = 0;
		while (waitpid(tid, &status, __WALL) == tid && WIFSTOPPED(status)) {
			if ((status >> 16) == 0)
				sig = WSTOPSIG(status); /* a signal on its way: pass it on */
			if ((status >> 16) == PTRACE_EVENT_STOP || !(status >> 16))
				break;
			ptrace(PTRACE_CONT, tid, 0, 0);
		}
		ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig);
	}
}

static void signals(const struct cb_stat_opts *o)
{
	struct sigaction sa = { .sa_handler = on_int };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_tick;
	sigaction(SIGALRM, &sa, NULL);
	unsigned ms = o->interval_ms ? o->interval_ms : o->duration_s > 0 ? 100 : 0;
	struct itimerval it = { { ms / 1000, (ms % 1000) * 1000 }, { ms / 1000, (ms % 1000) * 1000 } };
	if (ms)
		setitimer(ITIMER_REAL, &it, NULL);
}

static bool has_children(pid_t pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;
	while (d && !found && (e = readdir(d))) {
		char path[300];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		char *st = e->d_name[0] >= '1' && e->d_name[0] <= '9' ? cb_read_file(path, NULL) : NULL;
		char *r = st ? strrchr(st, ')') : NULL;
		int ppid;
		found = r && sscanf(r + 2, "%*c %d", &ppid) == 1 && ppid == pid;
		free(st);
	}
	if (d)
		closedir(d);
	return found;
}

static int attach_one(struct tracer *t, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int pi = proc_new(&t->s, pid, -1, family_new(&t->s));
	struct st_proc *p = &t->s.procs[pi];
	p->attached = true;
	/* Children it forked before we came may still share its pages. */
	p->extra_known = !has_children(pid);
	st_proc_faults(p);
	p->minflt0 = p->minflt;
	p->majflt0 = p->majflt;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' &&
		    !ptrace(PTRACE_SEIZE, atoi(e->d_name), 0, (void *)(long)OPTS))
			tid_add(&t->s, atoi(e->d_name), pi);
	closedir(d);
	st_snapshot(&t->s, p, true);
	if (t->nperf < MAX_PERF)
		t->perf[t->nperf++] = cb_perf_open_task(pid, NULL, 0);
	fprintf(stderr, "cowbench stat: attached to %d (%s), %zu pages already shared\n",
		(int)pid, p->comm, p->npages);
	return 0;
}

/* The command stops itself before exec so that it is traced from its first
 * instruction; its exec is the first event. */
static int start_cmd(struct tracer *t)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		raise(SIGSTOP);
		execvp(t->o->argv[0], t->o->argv);
		fprintf(stderr, "cowbench stat: %s: %s\n", t->o->argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status) ||
	    ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)(OPTS | PTRACE_O_EXITKILL)))
		return -1;
	t->cmd = pid;
	int pi = proc_new(&t->s, pid, -1, family_new(&t->s));
	tid_add(&t->s, pid, pi);
	t->perf[t->nperf++] = cb_perf_open_task(pid, NULL, 0);
	st_log_open(&t->s, &pid, 1); /* before exec: its children inherit it */
	kill(pid, SIGCONT);
	return 0;
}

static json_t *perf_sum(struct tracer *t)
{
	json_t *sum = json_object();
	for (int i = 0; i < t->nperf; i++) {
		json_t *o = json_object();
		cb_perf_read(t->perf[i], o);
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v) {
			json_int_t b = json_integer_value(json_object_get(sum, k));
			json_object_set_new(sum, k, json_integer(b + json_integer_value(v)));
		}
		json_decref(o);
	}
	return sum;
}

static json_t *total_counters(struct tracer *t, json_t *before)
{
	json_t *after = cb_counters_snapshot(NULL);
	json_t *d = cb_counters_delta(before, after);
	json_decref(after);
	json_t *perf = perf_sum(t);
	json_object_update(d, perf);
	json_decref(perf);
	return d;
}

static void free_tracer(struct tracer *t)
{
	for (size_t i = 0; i < t->s.nprocs; i++) {
		free(t->s.procs[i].pages);
		free(t->s.procs[i].maps);
		free(t->s.procs[i].hist);
		free(t->s.procs[i].alone_at);
	}
	free(t->s.procs);
	free(t->s.tids);
	free(t->s.tid_proc);
	free(t->s.family_alive);
	free(t->s.ev);
	if (t->s.fl)
		cb_faultlog_close(t->s.fl);
	st_log_join(&t->s);
	json_decref(t->s.forks);
	json_decref(t->s.intervals);
	for (int i = 0; i < t->nperf; i++)
		cb_perf_close(t->perf[i]);
}

static int finish(struct tracer *t, json_t *before, bool complete, bool interrupted)
{
	settle_all(&t->s);
	st_log_replay(&t->s);
	for (size_t i = 0; i < t->s.nprocs; i++)
		if (t->s.procs[i].alive)
			st_proc_faults(&t->s.procs[i]);
	json_t *env = cb_env_collect();
	json_t *counters = total_counters(t, before);
	int status = t->o->npids ? 0 : t->cmd_status;
	json_t *why = t->nperf ? cb_perf_unavailable(t->perf[0]) : json_object();
	json_t *doc = st_document(&t->s, t->o, env, counters, why, complete, status);
	json_t *w = json_array_get(json_object_get(doc, "workloads"), 0);
	char *path = t->o->out ? strdup(t->o->out) : cb_result_default_path(env);
	/* With the document on stdout, the table goes to stderr. */
	FILE *tty = strcmp(path, "-") ? stdout : stderr;
	st_print(&t->s, w, tty);
	char err[300];
	int rc = interrupted ? 130 : status;
	if (cb_result_write(doc, path, err, sizeof err)) {
		fprintf(stderr, "cowbench: %s\n", err);
		rc = rc ? rc : 1;
	} else if (tty == stdout) {
		printf("\nresult: %s\n", path);
	}
	free(path);
	json_decref(doc);
	json_decref(env);
	json_decref(before);
	return rc;
}

/* tracefs for the fault log and tlb:tlb_flush, mounted through the journal
 * as `run` does, so that the end of stat (or `restore`) unmounts it. */
static bool begin_journal(void)
{
	char err[256];
	if (cb_journal_active() || cb_journal_begin(err, sizeof err))
		return false;
	cb_tracefs_ensure();
	return true;
}

static void stat_die(bool journal, const char *what, pid_t pid)
{
	int e = errno;
	if (journal)
		cb_journal_restore(false);
	if (pid)
		cb_die_usage("stat: cannot attach to process %d: %s", (int)pid, strerror(e));
	cb_die_usage("stat: cannot start %s: %s", what, strerror(e));
}

int cb_stat_run(const struct cb_stat_opts *o)
{
	bool journal = begin_journal();
	struct tracer t = { .o = o };
	st_pages_init(&t.s);
	t.s.forks = json_array();
	t.s.intervals = json_array();
	json_t *before = cb_counters_snapshot(NULL);
	t.s.t0 = cb_now_ns();
	if (o->duration_s > 0)
		t.deadline = t.s.t0 + (uint64_t)(o->duration_s * 1e9);
	signals(o);
	for (int i = 0; i < o->npids; i++)
		if (attach_one(&t, o->pids[i]))
			stat_die(journal, NULL, o->pids[i]);
	if (o->npids)
		st_log_open(&t.s, o->pids, o->npids);
	if (!o->npids && start_cmd(&t))
		stat_die(journal, o->argv[0], 0);
	bool interrupted = false;
	bool ended = trace_loop(&t, &interrupted);
	if (!ended)
		settle_all(&t.s);
	if (!ended)
		detach_all(&t);
	if (interrupted && t.cmd > 0 && !kill(t.cmd, SIGTERM)) /* as perf stat does */
		waitpid(t.cmd, NULL, 0);
	int rc = finish(&t, before, !interrupted, interrupted);
	free_tracer(&t);
	if (journal)
		cb_journal_restore(false);
	return rc;
}
