/* perf_event_open counters on the workload's process tree (inherit=1):
 * software fault events, the tlb:tlb_flush tracepoint, and events the user
 * names, encoded through libpfm4. Unavailable events carry their reason. */
#include <errno.h>
#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#define MAX_EVENTS 16

struct cb_event {
	char name[64];
	int fd;
	char why[160];
};

struct cb_perf {
	struct cb_event ev[MAX_EVENTS];
	int n;
};

static int perf_open(struct perf_event_attr *a, pid_t pid)
{
	a->size = sizeof *a;
	a->disabled = 0;
	a->inherit = 1;
	a->exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, a, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int cb_tracepoint_id(const char *sys, const char *name, char *why, size_t whylen)
{
	static const char *roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	for (size_t i = 0; i < 2; i++) {
		char path[256];
		snprintf(path, sizeof path, "%s/events/%s/%s/id", roots[i], sys, name);
		char *s = cb_read_file(path, NULL);
		if (s) {
			int id = atoi(s);
			free(s);
			return id;
		}
	}
	if (access("/sys/kernel/tracing/events", F_OK) && access("/sys/kernel/debug/tracing/events", F_OK))
		snprintf(why, whylen, "tracefs not mounted (as root, 'cowbench run' mounts it for "
			 "the run and unmounts it afterwards)");
	else
		snprintf(why, whylen, "no tracepoint %s:%s on this kernel", sys, name);
	return -1;
}

static bool pfm_ready(char *why, size_t len)
{
	static int rc = -1;
	if (rc < 0)
		rc = pfm_initialize();
	if (rc != PFM_SUCCESS) {
		snprintf(why, len, "libpfm4: %s", pfm_strerror(rc));
		return false;
	}
	return true;
}

static int encode(const char *name, struct perf_event_attr *a, char *why, size_t len)
{
	memset(a, 0, sizeof *a);
	if (!strcmp(name, "page-faults-min") || !strcmp(name, "minor-faults")) {
		a->type = PERF_TYPE_SOFTWARE;
		a->config = PERF_COUNT_SW_PAGE_FAULTS_MIN;
		return 0;
	}
	if (!strcmp(name, "page-faults-maj") || !strcmp(name, "major-faults")) {
		a->type = PERF_TYPE_SOFTWARE;
		a->config = PERF_COUNT_SW_PAGE_FAULTS_MAJ;
		return 0;
	}
	const char *colon = strchr(name, ':');
	if (colon && !strchr(colon + 1, ':')) {
		char sys[64];
		snprintf(sys, sizeof sys, "%.*s", (int)(colon - name), name);
		int id = cb_tracepoint_id(sys, colon + 1, why, len);
		if (id < 0)
			return -1;
		a->type = PERF_TYPE_TRACEPOINT;
		a->config = (uint64_t)id;
		/* Counting only (sample_period 0): with a period of 1 every hit
		 * went through the overflow path, for samples nobody reads,
		 * inside the phase being timed (tlb:tlb_flush fires on every
		 * COW copy and reclaim flush). */
		return 0;
	}
	if (!pfm_ready(why, len))
		return -1;
	pfm_perf_encode_arg_t arg = { 0 };
	arg.attr = a;
	arg.size = sizeof arg;
	int rc = pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
	if (rc != PFM_SUCCESS) {
		snprintf(why, len, "libpfm4 cannot encode '%s': %s", name, pfm_strerror(rc));
		return -1;
	}
	return 0;
}

/* Whether an event name means something here: 1 when libpfm4 or tracefs
 * knows it (it may still fail to open: no PMU, no permission), 0 when
 * neither does (bad input), -1 when it cannot be told (tracefs missing). */
int cb_perf_event_known(const char *name, char *why, size_t len)
{
	struct perf_event_attr a;
	if (!encode(name, &a, why, len))
		return 1;
	const char *colon = strchr(name, ':');
	if (colon && !strchr(colon + 1, ':')) {
		if (strstr(why, "tracefs not mounted"))
			return -1;
		/* "sys:name" unknown to tracefs: libpfm4 may still know it. */
		char pwhy[160];
		if (pfm_ready(pwhy, sizeof pwhy)) {
			pfm_perf_encode_arg_t arg = { 0 };
			arg.attr = &a;
			arg.size = sizeof arg;
			if (pfm_get_os_event_encoding(name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT,
						      &arg) == PFM_SUCCESS)
				return 1;
		}
		snprintf(why, len, "neither a tracepoint in tracefs nor an event libpfm4 knows");
		return 0;
	}
	if (strstr(why, "libpfm4 cannot encode"))
		snprintf(why, len, "libpfm4 does not know it and it is no sys:tracepoint name");
	return strstr(why, "libpfm4:") == why ? -1 : 0;
}

static void add_event(struct cb_perf *p, const char *name, pid_t pid)
{
	if (p->n >= MAX_EVENTS)
		return;
	struct cb_event *e = &p->ev[p->n++];
	snprintf(e->name, sizeof e->name, "%s", name);
	e->fd = -1;
	struct perf_event_attr a;
	if (encode(name, &a, e->why, sizeof e->why))
		return;
	e->fd = perf_open(&a, pid);
	if (e->fd < 0)
		snprintf(e->why, sizeof e->why, "perf_event_open(%s): %s", name, strerror(errno));
}

/* pid 0: the calling process; otherwise that task and the children it
 * forks from now on (`cowbench stat`). */
struct cb_perf *cb_perf_open_task(pid_t pid, const char **extra, int nextra)
{
	struct cb_perf *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	add_event(p, "page-faults-min", pid);
	add_event(p, "page-faults-maj", pid);
	add_event(p, "tlb:tlb_flush", pid);
	for (int i = 0; i < nextra; i++)
		add_event(p, extra[i], pid);
	return p;
}

struct cb_perf *cb_perf_open(const char **extra, int nextra)
{
	return cb_perf_open_task(0, extra, nextra);
}

void cb_perf_read(struct cb_perf *p, json_t *into)
{
	for (int i = 0; p && i < p->n; i++) {
		uint64_t v;
		if (p->ev[i].fd < 0 || read(p->ev[i].fd, &v, sizeof v) != sizeof v)
			continue;
		char key[80];
		snprintf(key, sizeof key, "perf.%s", p->ev[i].name);
		json_object_set_new(into, key, json_integer((json_int_t)v));
	}
}

json_t *cb_perf_unavailable(struct cb_perf *p)
{
	json_t *o = json_object();
	for (int i = 0; p && i < p->n; i++)
		if (p->ev[i].fd < 0) {
			char key[80];
			snprintf(key, sizeof key, "perf.%s", p->ev[i].name);
			json_object_set_new(o, key, json_string(p->ev[i].why));
		}
	return o;
}

const char *cb_perf_why(struct cb_perf *p, const char *name)
{
	for (int i = 0; p && i < p->n; i++)
		if (!strcmp(p->ev[i].name, name))
			return p->ev[i].fd < 0 ? p->ev[i].why : NULL;
	return "not measured";
}

void cb_perf_close(struct cb_perf *p)
{
	for (int i = 0; p && i < p->n; i++)
		if (p->ev[i].fd >= 0)
			close(p->ev[i].fd);
	free(p);
}

/* For `cowbench env`: which events open here, and why the others do not. */
json_t *cb_perf_probe_all(void)
{
	static const char *names[] = { "page-faults-min", "page-faults-maj", "tlb:tlb_flush",
				       "cycles", "instructions", "dTLB-load-misses" };
	const char *kind[] = { "software", "software", "tracepoint", "hardware", "hardware",
			       "hardware" };
	json_t *o = json_object();
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		struct cb_perf p = { .n = 0 };
		add_event(&p, names[i], 0);
		json_t *e = json_pack("{s:s, s:b}", "kind", kind[i], "available", p.ev[0].fd >= 0);
		if (p.ev[0].fd >= 0)
			close(p.ev[0].fd);
		else
			json_object_set_new(e, "reason", json_string(p.ev[0].why));
		json_object_set_new(o, names[i], e);
	}
	return o;
}
