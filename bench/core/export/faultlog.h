/* The fault log: every user page fault (and optionally every order-0 page
 * allocation) of chosen tasks, sampled from the x86 tracepoint
 * exceptions:page_fault_user (and kmem:mm_page_alloc) through
 * perf_event_open ring buffers. The page tracker uses it to tell a COW
 * decision from a reclaim-and-refault; `cowbench stat` shows it raw.
 * See docs/method.md for what it can and cannot tell. */
#ifndef COWBENCH_FAULTLOG_H
#define COWBENCH_FAULTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cb_faultlog;

/* [start, end) of one task's address space whose faults are kept. */
struct cb_fl_range {
	pid_t pid;
	uint64_t start, end;
};

enum cb_fl_kind { CB_FL_FAULT = 1, CB_FL_ALLOC = 2 };

/* x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h). */
#define CB_PF_PROT 0x1  /* 1: present page (COW decision point); 0: not present */
#define CB_PF_WRITE 0x2
#define CB_PF_USER 0x4
#define CB_PF_INSTR 0x10

struct cb_fl_event {
	uint64_t time_ns;    /* CLOCK_MONOTONIC, comparable across CPUs */
	uint32_t pid, tid;   /* tgid and thread that took the event */
	uint16_t kind;       /* enum cb_fl_kind */
	uint16_t cpu;
	uint32_t error_code; /* FAULT: CB_PF_* bits */
	uint64_t addr;       /* FAULT: faulting user address */
	uint64_t ip;         /* FAULT: user instruction pointer */
	uint64_t pfn;        /* ALLOC: the frame handed out */
	uint32_t order;      /* ALLOC: always 0 (filtered) */
};

/* WITH_ALLOCS: also every order-0 page allocation (kind ALLOC).
 * WITH_KERNEL_FAULTS: also kernel-mode faults on user memory (copy_to_user,
 * put_user: kind FAULT without CB_PF_USER), which break COW too. */
enum { CB_FL_WITH_ALLOCS = 1, CB_FL_WITH_KERNEL_FAULTS = 2 };

/* false, with the reason, when the fault tracepoint cannot be used here
 * (not x86, no tracefs, not root). */
bool cb_faultlog_available(char *why, size_t len);

/* Opens, disabled, one sampling event per pid per online CPU (inherit:
 * children forked later log into the same rings), keeping only faults in
 * the ranges (nr == 0: all faults of those tasks). events_hint sizes the
 * rings. NULL with why on failure. */
struct cb_faultlog *cb_faultlog_open(const pid_t *pids, int npids, const struct cb_fl_range *r,
				     int nr, unsigned flags, size_t events_hint, char *why,
				     size_t whylen);
int cb_faultlog_enable(struct cb_faultlog *fl);
int cb_faultlog_disable(struct cb_faultlog *fl);
/* The events since open or the last drain, sorted by time (also while
 * enabled: a task that is stopped has all its events in the rings);
 * *ev stays owned by fl until the next drain or close. *lost counts
 * records the kernel dropped (a full ring): the log is then incomplete. */
size_t cb_faultlog_drain(struct cb_faultlog *fl, const struct cb_fl_event **ev, uint64_t *lost);
void cb_faultlog_close(struct cb_faultlog *fl);

#endif
