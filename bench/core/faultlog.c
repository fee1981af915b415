/* The fault log (export/faultlog.h): perf_event_open sampling of the x86
 * tracepoint exceptions:page_fault_user, one ring per traced task per CPU,
 * plus kmem:mm_page_alloc and exceptions:page_fault_kernel on the same
 * rings when asked. A sample's raw record is the
 * tracepoint's binary entry; field offsets come from its tracefs format
 * file, so a kernel that moves a field still decodes. */
#include "faultlog.h"

#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define FL_MAX_RINGS 256
#define FL_MAX_TASKS 64
#define FL_RECORD_GUESS 64 /* bytes of one fault sample in the ring */

struct fl_field {
	int off, size;
};

struct fl_tp {
	int id;
	struct fl_field f[3]; /* fault: address ip error_code; alloc: pfn order - */
};

struct fl_ring {
	int fd, alloc_fd, kfault_fd;
	void *map;
	size_t len; /* whole mapping: one header page + data */
};

struct cb_faultlog {
	struct fl_ring ring[FL_MAX_RINGS];
	int nring;
	struct fl_tp fault, alloc, kfault;
	struct cb_fl_range *r;
	int nr;
	struct cb_fl_event *ev;
	size_t nev, cap;
	uint64_t lost;
};

static const char *tracefs_root(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK))
		return "/sys/kernel/tracing";
	if (!access("/sys/kernel/debug/tracing/events", F_OK))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

/* "field:unsigned long address;\toffset:8;\tsize:8;" -> {8, 8} */
static int format_field(const char *fmt, const char *name, struct fl_field *f)
{
	char key[64];
	snprintf(key, sizeof key, " %s;", name);
	const char *at = strstr(fmt, key);
	if (!at)
		return -1;
	const char *off = strstr(at, "offset:"), *size = strstr(at, "size:");
	if (!off || !size)
		return -1;
	f->off = atoi(off + 7);
	f->size = atoi(size + 5);
	return f->size == 4 || f->size == 8 ? 0 : -1;
}

static int load_tp(const char *sys, const char *name, const char *const fields[3],
		   struct fl_tp *tp, char *why, size_t len)
{
	tp->id = cb_tracepoint_id(sys, name, why, len);
	if (tp->id < 0)
		return -1;
	char path[256];
	snprintf(path, sizeof path, "%s/events/%s/%s/format", tracefs_root(), sys, name);
	char *fmt = cb_read_file(path, NULL);
	int rc = fmt ? 0 : -1;
	for (int i = 0; !rc && i < 3; i++)
		if (fields[i] && format_field(fmt, fields[i], &tp->f[i]))
			rc = -1;
	if (rc)
		snprintf(why, len, "%s:%s has no readable fields %s/%s in %s", sys, name, fields[0],
			 fields[1], path);
	free(fmt);
	return rc;
}

static const char *const fault_fields[3] = { "address", "ip", "error_code" };
static const char *const alloc_fields[3] = { "pfn", "order", NULL };

bool cb_faultlog_available(char *why, size_t len)
{
	struct fl_tp tp;
	if (geteuid() != 0) {
		snprintf(why, len, "not root: the fault tracepoint's samples need CAP_PERFMON");
		return false;
	}
	if (!tracefs_root() && cb_tracefs_ensure()) {
		snprintf(why, len, "tracefs not mounted");
		return false;
	}
	if (load_tp("exceptions", "page_fault_user", fault_fields, &tp, why, len)) {
#if !defined(__x86_64__) && !defined(__i386__)
		snprintf(why, len, "exceptions:page_fault_user exists on x86 only");
#endif
		return false;
	}
	return true;
}

static int tp_open(const struct fl_tp *tp, pid_t pid, int cpu, int group_fd)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.type = PERF_TYPE_TRACEPOINT;
	a.config = (uint64_t)tp->id;
	a.sample_period = 1;
	a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW;
	a.disabled = 1;
	a.inherit = 1;
	/* One clock for all CPUs: events of a task that migrated still sort. */
	a.use_clockid = 1;
	a.clockid = CLOCK_MONOTONIC;
	a.wakeup_events = 1u << 30; /* drained after the phase, nobody polls */
	(void)group_fd;
	return (int)syscall(SYS_perf_event_open, &a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* One kernel filter for one task's ranges, so that faults elsewhere never
 * cost a ring record. Too long a filter (> 1 page) stays off: user space
 * filters again anyway. */
static void set_range_filter(int fd, pid_t pid, const struct cb_fl_range *r, int nr)
{
	char buf[4096];
	size_t at = 0;
	for (int i = 0; i < nr; i++) {
		if (r[i].pid && r[i].pid != pid)
			continue;
		int n = snprintf(buf + at, sizeof buf - at, "%s(address >= 0x%llx && address < 0x%llx)",
				 at ? " || " : "", (unsigned long long)r[i].start,
				 (unsigned long long)r[i].end);
		if (n < 0 || (size_t)n >= sizeof buf - at)
			return;
		at += (size_t)n;
	}
	if (at)
		ioctl(fd, PERF_EVENT_IOC_SET_FILTER, buf);
}

static size_t ring_bytes(size_t events_hint)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), want = events_hint * FL_RECORD_GUESS;
	size_t b = 16 * ps;
	while (b < want && b < (16u << 20))
		b <<= 1;
	return b;
}

/* A second tracepoint writing into an open ring. */
static int extra_event(const struct fl_tp *tp, const char *name, int ring_fd, pid_t pid, int cpu,
		       char *why, size_t len)
{
	int fd = tp_open(tp, pid, cpu, -1);
	if (fd >= 0 && !ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, ring_fd))
		return fd;
	snprintf(why, len, "%s on pid %d cpu %d: %s", name, (int)pid, cpu, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int open_ring(struct cb_faultlog *fl, pid_t pid, pid_t tgid, int cpu, unsigned flags,
		     size_t bytes, char *why, size_t len)
{
	struct fl_ring *rg = &fl->ring[fl->nring];
	rg->alloc_fd = -1;
	rg->kfault_fd = -1;
	rg->fd = tp_open(&fl->fault, pid, cpu, -1);
	if (rg->fd < 0) {
		snprintf(why, len, "perf_event_open(exceptions:page_fault_user, pid %d, cpu %d): %s",
			 (int)pid, cpu, strerror(errno));
		return -1;
	}
	set_range_filter(rg->fd, tgid, fl->r, fl->nr);
	rg->len = bytes + (size_t)sysconf(_SC_PAGESIZE);
	rg->map = mmap(NULL, rg->len, PROT_READ | PROT_WRITE, MAP_SHARED, rg->fd, 0);
	if (rg->map == MAP_FAILED) {
		snprintf(why, len, "mmap of a %zu KiB perf ring: %s", bytes >> 10, strerror(errno));
		close(rg->fd);
		return -1;
	}
	fl->nring++;
	if (flags & CB_FL_WITH_ALLOCS) {
		rg->alloc_fd = extra_event(&fl->alloc, "kmem:mm_page_alloc", rg->fd, pid, cpu, why,
					   len);
		if (rg->alloc_fd < 0)
			return -1;
		ioctl(rg->alloc_fd, PERF_EVENT_IOC_SET_FILTER, "order == 0");
	}
	if (flags & CB_FL_WITH_KERNEL_FAULTS) {
		rg->kfault_fd = extra_event(&fl->kfault, "exceptions:page_fault_kernel", rg->fd,
					    pid, cpu, why, len);
		if (rg->kfault_fd < 0)
			return -1;
	}
	return 0;
}

/* A task event follows one thread (and what it creates later, with
 * inherit): threads that already exist need their own. */
static int task_ids(pid_t pid, pid_t *out, int max)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *e;
	while (d && n < max && (e = readdir(d)))
		if (e->d_name[0] != '.')
			out[n++] = (pid_t)atoi(e->d_name);
	if (d)
		closedir(d);
	if (!n)
		out[n++] = pid;
	return n;
}

struct cb_faultlog *cb_faultlog_open(const pid_t *pids, int npids, const struct cb_fl_range *r,
				     int nr, unsigned flags, size_t events_hint, char *why,
				     size_t whylen)
{
	if (!cb_faultlog_available(why, whylen))
		return NULL;
	struct cb_faultlog *fl = calloc(1, sizeof *fl);
	if (fl)
		fl->r = calloc((size_t)nr + 1, sizeof *fl->r);
	if (!fl || !fl->r) {
		snprintf(why, whylen, "out of memory");
		free(fl);
		return NULL;
	}
	fl->alloc.id = fl->kfault.id = -1; /* no record has these types */
	if (nr) /* memcpy and qsort take no NULL, even for 0 items (UBSan) */
		memcpy(fl->r, r, (size_t)nr * sizeof *r);
	fl->nr = nr;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (load_tp("exceptions", "page_fault_user", fault_fields, &fl->fault, why, whylen) ||
	    ((flags & CB_FL_WITH_ALLOCS) &&
	     load_tp("kmem", "mm_page_alloc", alloc_fields, &fl->alloc, why, whylen)) ||
	    ((flags & CB_FL_WITH_KERNEL_FAULTS) &&
	     load_tp("exceptions", "page_fault_kernel", fault_fields, &fl->kfault, why, whylen)))
		goto fail;
	size_t bytes = ring_bytes(events_hint);
	for (int p = 0; p < npids; p++) {
		pid_t tids[FL_MAX_TASKS];
		int nt = task_ids(pids[p], tids, FL_MAX_TASKS);
		for (int k = 0; k < nt; k++)
			for (int cpu = 0; cpu < ncpu; cpu++) {
				if (fl->nring >= FL_MAX_RINGS) {
					snprintf(why, whylen, "more than %d thread x CPU rings",
						 FL_MAX_RINGS);
					goto fail;
				}
				if (open_ring(fl, tids[k], pids[p], cpu, flags, bytes, why,
					      whylen))
					goto fail;
			}
	}
	return fl;
fail:
	cb_faultlog_close(fl);
	return NULL;
}

static int ioctl_all(struct cb_faultlog *fl, unsigned long req)
{
	int rc = 0;
	for (int i = 0; fl && i < fl->nring; i++) {
		rc |= ioctl(fl->ring[i].fd, req, 0);
		if (fl->ring[i].alloc_fd >= 0)
			rc |= ioctl(fl->ring[i].alloc_fd, req, 0);
		if (fl->ring[i].kfault_fd >= 0)
			rc |= ioctl(fl->ring[i].kfault_fd, req, 0);
	}
	return rc ? -1 : 0;
}

int cb_faultlog_enable(struct cb_faultlog *fl)
{
	return ioctl_all(fl, PERF_EVENT_IOC_ENABLE);
}

int cb_faultlog_disable(struct cb_faultlog *fl)
{
	return ioctl_all(fl, PERF_EVENT_IOC_DISABLE);
}

static uint64_t raw_field(const unsigned char *raw, uint32_t rawlen, struct fl_field f)
{
	if ((uint32_t)(f.off + f.size) > rawlen)
		return 0;
	if (f.size == 4) {
		uint32_t v;
		memcpy(&v, raw + f.off, 4);
		return v;
	}
	uint64_t v;
	memcpy(&v, raw + f.off, 8);
	return v;
}

static bool in_ranges(const struct cb_faultlog *fl, uint32_t pid, uint64_t addr)
{
	if (!fl->nr)
		return true;
	for (int i = 0; i < fl->nr; i++)
		if ((!fl->r[i].pid || (uint32_t)fl->r[i].pid == pid) && addr >= fl->r[i].start &&
		    addr < fl->r[i].end)
			return true;
	return false;
}

static void push(struct cb_faultlog *fl, const struct cb_fl_event *e)
{
	if (fl->nev == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 4096;
		struct cb_fl_event *n = realloc(fl->ev, cap * sizeof *n);
		if (!n) {
			fl->lost++;
			return;
		}
		fl->ev = n;
		fl->cap = cap;
	}
	fl->ev[fl->nev++] = *e;
}

/* A PERF_RECORD_SAMPLE body: pid tid | time | cpu res | size raw[size]. */
static void decode_sample(struct cb_faultlog *fl, const unsigned char *b, size_t len)
{
	if (len < 28)
		return;
	struct cb_fl_event e;
	memset(&e, 0, sizeof e);
	uint32_t rawlen;
	memcpy(&e.pid, b, 4);
	memcpy(&e.tid, b + 4, 4);
	memcpy(&e.time_ns, b + 8, 8);
	uint32_t cpu;
	memcpy(&cpu, b + 16, 4);
	e.cpu = (uint16_t)cpu;
	memcpy(&rawlen, b + 24, 4);
	const unsigned char *raw = b + 28;
	if (28 + (size_t)rawlen > len || rawlen < 2)
		return;
	uint16_t type;
	memcpy(&type, raw, 2);
	const struct fl_tp *ftp = type == fl->fault.id ? &fl->fault
				  : type == fl->kfault.id ? &fl->kfault : NULL;
	if (ftp) { /* a kernel-mode fault's error code lacks CB_PF_USER */
		e.kind = CB_FL_FAULT;
		e.addr = raw_field(raw, rawlen, ftp->f[0]);
		e.ip = raw_field(raw, rawlen, ftp->f[1]);
		e.error_code = (uint32_t)raw_field(raw, rawlen, ftp->f[2]);
		if (!in_ranges(fl, e.pid, e.addr))
			return;
	} else if (type == fl->alloc.id) {
		e.kind = CB_FL_ALLOC;
		e.pfn = raw_field(raw, rawlen, fl->alloc.f[0]);
		e.order = (uint32_t)raw_field(raw, rawlen, fl->alloc.f[1]);
	} else {
		return;
	}
	push(fl, &e);
}

/* n bytes of the ring from position at, which may wrap past its end (a
 * byte at a time was most of a drain's cost once stat drained at every
 * settle). */
static void ring_copy(const unsigned char *data, size_t size, uint64_t at, void *dst, size_t n)
{
	size_t off = (size_t)(at % size), first = n < size - off ? n : size - off;
	memcpy(dst, data + off, first);
	memcpy((unsigned char *)dst + first, data, n - first);
}

static void drain_ring(struct cb_faultlog *fl, struct fl_ring *rg)
{
	struct perf_event_mmap_page *mp = rg->map;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), size = rg->len - ps;
	unsigned char *data = (unsigned char *)rg->map + ps, rec[65536];
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE), tail = mp->data_tail;
	while (tail < head) {
		struct perf_event_header h;
		ring_copy(data, size, tail, &h, sizeof h);
		if (h.size < sizeof h)
			break;
		ring_copy(data, size, tail, rec, h.size);
		if (h.type == PERF_RECORD_SAMPLE)
			decode_sample(fl, rec + sizeof h, h.size - sizeof h);
		else if (h.type == PERF_RECORD_LOST && h.size >= sizeof h + 16) {
			uint64_t lost;
			memcpy(&lost, rec + sizeof h + 8, 8);
			fl->lost += lost;
		}
		tail += h.size;
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
}

static int by_time(const void *a, const void *b)
{
	const struct cb_fl_event *x = a, *y = b;
	return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

size_t cb_faultlog_drain(struct cb_faultlog *fl, const struct cb_fl_event **ev, uint64_t *lost)
{
	fl->nev = 0;
	fl->lost = 0;
	for (int i = 0; i < fl->nring; i++)
		drain_ring(fl, &fl->ring[i]);
	/* Stable enough: one CPU's records are already in time order. */
	if (fl->nev)
		qsort(fl->ev, fl->nev, sizeof *fl->ev, by_time);
	*ev = fl->ev;
	*lost = fl->lost;
	return fl->nev;
}

void cb_faultlog_close(struct cb_faultlog *fl)
{
	if (!fl)
		return;
	for (int i = 0; i < fl->nring; i++) {
		if (fl->ring[i].alloc_fd >= 0)
			close(fl->ring[i].alloc_fd);
		if (fl->ring[i].kfault_fd >= 0)
			close(fl->ring[i].kfault_fd);
		munmap(fl->ring[i].map, fl->ring[i].len);
		close(fl->ring[i].fd);
	}
	free(fl->r);
	free(fl->ev);
	free(fl);
}
