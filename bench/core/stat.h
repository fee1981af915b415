/* `cowbench stat`: the COW cost of any program's process tree.
 *
 * Method: every process of the tree is traced (ptrace, fork/vfork/clone/
 * exec/exit events). At a fork stop the parent's and the new child's
 * private pages that map the same frame are the pages that became COW-
 * shared; both get that list. At later points (the process's next fork, its
 * exit, a family change, an -I tick, the end) each list is settled against
 * the process's pagemap now: a new frame is a copy, the same frame that
 * became exclusive again (PG_anon_exclusive, kpageflags bit 34 from 5.19)
 * is a reuse, the rest stays shared. Private to bench/core (stat*.c). */
#ifndef COWBENCH_STAT_H
#define COWBENCH_STAT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cbcore.h"

/* PG_anon_exclusive as kpageflags shows it (KPF_MAPPEDTODISK, later
 * KPF_OWNER_2: the same bit) on kernels that have the flag. */
#define ST_KPF_ANON_EXCL 34

struct st_page {
	uintptr_t va;
	uint64_t pfn;
	uint32_t map; /* index into the process's st_map table */
};

/* Counts per mapping, kept by name across snapshots. */
struct st_map {
	char name[80];
	uint64_t shared, copied, reused;
};

/* A page that left a list as copied or reused, with the window in which
 * its COW write fault must lie (for the fault log's replay). */
enum st_hist_kind { ST_H_COPIED, ST_H_REUSED, ST_H_KEPT };

struct st_hist {
	uintptr_t va;
	uint64_t t_listed, t_settled;
	uint32_t map;
	uint8_t kind; /* enum st_hist_kind; KEPT: left the list unwritten-looking */
	bool used;    /* a fault already matched it */
	bool swapc;   /* COPIED: the old frame was still in the swap cache */
};

/* [from, to) in which a process was the last of its fork family alive. */
struct st_alone {
	uint64_t from, to; /* to 0: still */
};

struct st_counts {
	uint64_t forks, shared_at_fork, copied, reused, extra, leftover, gone;
	uint64_t extra_swapc; /* extra copies whose old frame stayed in the swap cache */
};

struct st_proc {
	pid_t pid; /* tgid */
	int idx;   /* order of appearance: names the phase ("p0 comm") */
	int parent_idx;
	int family;   /* processes that may share pages: forked without exec */
	char comm[32];
	bool alive, attached, alone, extra_known, lost_at_exec;
	uint64_t t_start, t_end;
	uint64_t minflt, majflt;
	uint64_t minflt0, majflt0; /* at attach: -p counts from there */
	struct st_page *pages; /* tracked pages still COW-shared */
	size_t npages;
	struct st_map *maps;
	size_t nmaps;
	struct st_counts c;
	uint64_t list_t; /* when the current list was made (a fork stop) */
	uint64_t list_from; /* when its pagemap read began */
	size_t ev_from;     /* st_state.ev before then: its later events are past here */
	uint64_t swapouts;  /* pages swapped out system-wide by then */
	struct st_hist *hist;
	size_t nhist, histcap;
	/* From the fault log: write faults on present pages (x86 error code
	 * PROT|WRITE) that hit a listed page in its window, and the others. */
	uint64_t fl_cow, fl_other_wp, fl_faults;
	struct st_alone *alone_at;
	size_t nalone;
};

struct st_state {
	struct st_proc *procs;
	size_t nprocs, cap;
	pid_t *tids; /* thread id -> process index, parallel arrays */
	int *tid_proc;
	size_t ntids, tidcap;
	int *family_alive;
	int nfamilies;
	bool have_excl_bit; /* reuses are visible (see ST_KPF_ANON_EXCL) */
	uint64_t zero_pfn;
	uint64_t t0;
	json_t *forks;     /* [{parent, child, shared_pages, t_ms}] */
	json_t *intervals; /* -I lines */
	struct st_counts last_interval;
	size_t page_size;
	struct cb_faultlog *fl;
	char fl_why[200]; /* why there is no fault log, or what it lost */
	bool fl_used;
	uint64_t fl_lost;
	/* The log drained so far (drained at every settle, replayed at the
	 * end). With allocations and kernel faults in it, a list made after
	 * fl_since can be settled from the pages its process faulted. */
	struct cb_fl_event *ev;
	size_t nev, evcap;
	bool fl_allocs;
	uint64_t fl_since;
	uint64_t settles_log, settles_read; /* exits, ticks, ends: by which way */
	pthread_t fl_closer; /* closes the log after the replay (st_log_join) */
	bool fl_closing;
};

/* What a process's log says: the pages it faulted (sorted, once each; also
 * just before its list was made), wp: a write fault on a present page since
 * the list, and the frames it allocated since the list. */
struct st_since {
	uintptr_t *va;
	bool *wp;
	uint64_t *pfn;
	size_t nva, npfn;
};

/* statpages.c */
void st_pages_init(struct st_state *s);
/* Anonymous pages written out to swap or zswap so far, system-wide. */
uint64_t st_swapouts(void);
/* Settles the process's list, then lists its pages that another process
 * maps too (at a fork stop: the child), or at attach the pages no longer
 * exclusive. Returns the new list's size. */
size_t st_snapshot(struct st_state *s, struct st_proc *p, bool attach);
/* Copy the parent's fresh list to the child (same frames, same addresses). */
void st_share_list(const struct st_proc *from, struct st_proc *to);
/* Classify the list against the process's pagemap now (copies_only: new
 * frames only, without reading page flags). */
void st_settle(struct st_state *s, struct st_proc *p, bool copies_only);
void st_proc_faults(struct st_proc *p);
void st_proc_comm(struct st_proc *p);

/* statlog.c: the fault log (bench/core/faultlog.c) of the whole tree */
void st_log_open(struct st_state *s, const pid_t *pids, int npids);
/* Drains the log and matches each write fault to the listed page it hit;
 * then closes the log in a thread that st_log_join waits for. */
void st_log_replay(struct st_state *s);
void st_log_join(struct st_state *s);
void st_hist_add(struct st_proc *p, const struct st_page *pg, uint64_t now, int kind);
/* Before a list is dropped (a new fork's list, a reaped process, the end):
 * on kernels that hide PG_anon_exclusive, its pages go to the history, so
 * that the log can tell which of them a write reused. */
void st_hist_keep(struct st_state *s, struct st_proc *p);
void st_alone_mark(struct st_proc *p, bool alone, uint64_t now);
/* Drains the log (it stays enabled) into st_state.ev. */
void st_log_pull(struct st_state *s);
/* p's events since its list was made; -1 when the log cannot tell (none,
 * no allocations in it, records lost, enabled after the list, or a page
 * swapped out since: a listed page may be gone without a fault). */
int st_log_since(struct st_state *s, const struct st_proc *p, struct st_since *out);
void st_since_free(struct st_since *x);

/* statdoc.c */
json_t *st_document(struct st_state *s, const struct cb_stat_opts *o, json_t *env,
		    json_t *counters, json_t *perf_why, bool complete, int status);
void st_print(struct st_state *s, json_t *workload, FILE *out);
void st_interval_line(struct st_state *s, FILE *out);

#endif
