/* reclaim-pressure: a fork/COW workload next to a memory hog inside one
 * capped memory cgroup. The worker dirties its region, forks a child that
 * exits at once (its pages are no longer exclusive: every write takes the
 * refcount path of do_wp_page), then writes every page while reclaim scans
 * the cgroup. Reclaim isolates and unmaps pages with transient references,
 * and a write that meets one copies a page nobody else maps.
 *   baseline-write       the same writes before the hog runs (S2 reuse)
 *   write-under-reclaim  the writes while the hog keeps the cgroup at its limit
 *   capacity             per-GiB costs of the policy for capacity planners
 * The harness tracks the worker's region and logs its faults in the phase
 * under reclaim (CB_PHASE_MAY_RECLAIM): copies, extra copies and their
 * causes, swap-ins and reclaim's refaults are the standard keys, exact,
 * and the capacity figures derive from them.
 * Policy costs: a copy of a page the writer maps alone holds a page twice
 * (extra memory); if reclaim had already put the original in the swap
 * cache, writing it out is swap I/O for data nobody maps (extra swap I/O). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cowbench.h"

enum op { OP_FILL, OP_READ, OP_FORK_EXIT, OP_WRITE, OP_EXIT };

struct reply {
	int err;
	uint64_t pages;
	uint64_t p50_ns, p99_ns, max_ns, total_ns;
};

struct reclaim {
	char *buf, *hog;
	size_t len, hog_len;
	pid_t worker, hogger;
	int to_worker, from_worker, hog_ready;
	uint64_t tag;
};

static const struct cb_opt opts[] = {
	{ .name = "size", .type = CB_OPT_SIZE, .def = "8M", .min = 1 << 16, .max = 1ull << 44,
	  .help = "region the fork/COW worker writes" },
	{ .name = "hog", .type = CB_OPT_SIZE, .def = "24M", .min = 1 << 20, .max = 1ull << 44,
	  .help = "memory the hog keeps touching next to it" },
	{ .name = "limit", .type = CB_OPT_SIZE, .def = "16M", .min = 4 << 20, .max = 1ull << 44,
	  .help = "memory cgroup limit for worker and hog together" },
	{ .name = "swap", .type = CB_OPT_ENUM, .def = "file", .choices = "file|zram",
	  .help = "swap device to use or create" },
	CB_OPT_END
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Times each page write alone. */
static void write_pages(char *buf, size_t len, uint64_t tag, struct reply *r)
{
	size_t ps = cb_page_size(), n = len / ps;
	uint64_t *lat = malloc(n * sizeof *lat);
	if (!lat) {
		r->err = ENOMEM;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = cb_now_ns();
		cb_fresh_write(buf + i * ps, tag);
		lat[i] = cb_now_ns() - t0;
		r->total_ns += lat[i];
	}
	qsort(lat, n, sizeof *lat, cmp_u64);
	r->pages = n;
	r->p50_ns = lat[n / 2];
	r->p99_ns = lat[n * 99 / 100];
	r->max_ns = lat[n - 1];
	free(lat);
}

static void fork_exit(struct reply *r)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0 || cb_reap(pid) != 0)
		r->err = pid < 0 ? errno : ECHILD;
}

static void serve(char *buf, size_t len, int in, int out)
{
	uint64_t m[2]; /* op, tag */
	while (read(in, m, sizeof m) == sizeof m && m[0] != OP_EXIT) {
		struct reply r = { 0 };
		if (m[0] == OP_FILL) {
			for (size_t off = 0; off < len; off += cb_page_size())
				cb_fresh_write(buf + off, m[1]);
		} else if (m[0] == OP_READ) {
			volatile char sink = 0;
			for (size_t off = 0; off < len; off += cb_page_size())
				sink += buf[off];
		} else if (m[0] == OP_FORK_EXIT) {
			fork_exit(&r);
		} else {
			write_pages(buf, len, m[1], &r);
		}
		if (write(out, &r, sizeof r) != sizeof r)
			break;
	}
	_exit(0);
}

/* The hog writes its pages round after round until it is killed; it says
 * so after the first round, when the cgroup is at its limit. */
static void hog_loop(char *hog, size_t len, int ready)
{
	for (uint64_t tag = 1;; tag++) {
		for (size_t off = 0; off < len; off += cb_page_size())
			cb_fresh_write(hog + off, tag);
		if (tag == 1 && (write(ready, "r", 1) != 1 || close(ready)))
			_exit(1);
	}
}

static int ask(struct cb_ctx *c, struct reclaim *s, enum op op, struct reply *r)
{
	uint64_t m[2] = { op, ++s->tag };
	if (write(s->to_worker, m, sizeof m) != sizeof m ||
	    read(s->from_worker, r, sizeof *r) != sizeof *r)
		return cb_fail_child(c, "worker", s->worker);
	if (r->err)
		return cb_fail(c, "worker: %s", strerror(r->err));
	return 0;
}

static void serve_worker(void *arg, int in, int out)
{
	struct reclaim *s = arg;
	serve(s->buf, s->len, in, out);
}

static int start_worker(struct cb_ctx *c, struct reclaim *s)
{
	s->worker = cb_fork_server(c, serve_worker, s, &s->to_worker, &s->from_worker);
	if (s->worker < 0)
		return -1;
	if (cb_cgroup_enter(c, s->worker))
		return -1;
	return cb_track(c, s->worker, s->buf, s->len);
}

/* The hog enters the cgroup before it touches a page. */
static int start_hog(struct cb_ctx *c, struct reclaim *s)
{
	int go[2], ready[2];
	if (pipe(go) || pipe(ready))
		return cb_fail(c, "pipe: %s", strerror(errno));
	s->hogger = cb_fork(c);
	if (s->hogger < 0)
		return cb_fail(c, "fork: %s", strerror(errno));
	if (s->hogger == 0) {
		char x;
		close(go[1]);
		close(ready[0]);
		if (read(go[0], &x, 1) != 1)
			_exit(1);
		hog_loop(s->hog, s->hog_len, ready[1]);
	}
	close(go[0]);
	close(ready[1]);
	int rc = cb_cgroup_enter(c, s->hogger);
	if (write(go[1], "g", 1) != 1)
		rc = cb_fail_child(c, "hog", s->hogger);
	close(go[1]);
	s->hog_ready = ready[0];
	return rc;
}

static char *map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static int setup(struct cb_ctx *c)
{
	struct reclaim *s = cb_priv(c);
	size_t ps = cb_page_size();
	s->worker = s->hogger = -1;
	s->to_worker = s->from_worker = s->hog_ready = -1;
	s->len = cb_opt_u64(c, "size") / ps * ps;
	s->hog_len = cb_opt_u64(c, "hog") / ps * ps;
	uint64_t limit = cb_opt_u64(c, "limit");
	if (s->len >= limit || s->len + s->hog_len <= limit)
		return cb_fail(c, "need size < limit < size + hog: the worker fits alone, "
			       "not next to the hog");
	if (cb_need_swap(c, s->len + s->hog_len + (16 << 20), cb_opt_str(c, "swap")) ||
	    cb_cgroup_create(c, limit))
		return -1;
	if (!(s->buf = map(s->len)) || !(s->hog = map(s->hog_len)))
		return cb_fail(c, "mmap failed");
	return start_worker(c, s);
}

static void latency_metrics(struct cb_ctx *c, const struct reply *r)
{
	cb_phase_ops(c, r->pages);
	cb_phase_metric(c, "write_p50", (double)r->p50_ns, "ns");
	cb_phase_metric(c, "write_p99", (double)r->p99_ns, "ns");
	cb_phase_metric(c, "write_max", (double)r->max_ns, "ns");
	cb_phase_metric(c, "swapcached", cb_swapcached_bytes() / 1024.0, "KiB");
}

/* Memory-cgroup reclaim is not in /proc/vmstat's pgscan/pgsteal: take it
 * from the cgroup (v2 memory.stat; v1 has no such counters). */
static void cgroup_metrics(struct cb_ctx *c, const uint64_t *before)
{
	static const char *const keys[] = { "pgscan", "pgsteal", "workingset_refault_anon" };
	for (size_t i = 0; i < 3; i++) {
		uint64_t v;
		if (before[i] != UINT64_MAX && !cb_cgroup_stat(keys[i], &v))
			cb_phase_metric(c, keys[i], (double)(v - before[i]), "pages");
		else
			cb_phase_unavailable(c, keys[i], "not in %s memory.stat (cgroup %s)",
					     cb_cgroup_path(), cb_cgroup_mode());
	}
}

/* The worker's pages are swapped back in (read) and shared with a child
 * that exits at once, so the measured writes meet present pages that are
 * not exclusive while reclaim scans them. */
static int write_phase(struct cb_ctx *c, struct reclaim *s, const char *name,
		       struct reply *r)
{
	/* The hog pauses while the pages come back, so the writes start on
	 * present pages and reclaim resumes under them. */
	if (s->hogger > 0)
		kill(s->hogger, SIGSTOP);
	if (ask(c, s, OP_READ, r) || ask(c, s, OP_FORK_EXIT, r))
		return -1;
	uint64_t before[3];
	static const char *const keys[] = { "pgscan", "pgsteal", "workingset_refault_anon" };
	for (size_t i = 0; i < 3; i++)
		if (cb_cgroup_stat(keys[i], &before[i]))
			before[i] = UINT64_MAX;
	/* With the hog running, reclaim takes the worker's pages away and
	 * faults bring them back: only the fault log tells those from copies. */
	cb_phase_begin_opts(c, name, s->hogger > 0 ? CB_PHASE_MAY_RECLAIM : 0);
	if (s->hogger > 0)
		kill(s->hogger, SIGCONT);
	int rc = ask(c, s, OP_WRITE, r);
	if (!rc) {
		latency_metrics(c, r);
		cgroup_metrics(c, before);
	}
	cb_phase_end(c);
	return rc;
}

/* A standard key of write-under-reclaim as a per-GiB cost, or a reason. */
static void per_gib(struct cb_ctx *c, struct reclaim *s, const char *metric, double pages,
		    const char *from)
{
	double gib = (double)s->len / (1 << 30), mib = 1 << 20, ps = (double)cb_page_size();
	if (isnan(pages))
		cb_phase_unavailable(c, metric, "write-under-reclaim has no %s (see its "
				     "unavailable)", from);
	else
		cb_phase_metric(c, metric, pages * ps / mib / gib, "MiB/GiB");
}

/* Costs per GiB the worker writes, from the standard keys of the phase
 * under reclaim: memory held twice by copies a sole mapper did not need,
 * swap writes of originals a copy left in the swap cache (data nobody maps
 * any more), and all swap traffic (in + out, worker and hog). */
static void capacity(struct cb_ctx *c, struct reclaim *s)
{
	const char *ph = "write-under-reclaim";
	double extra = cb_phase_value(c, ph, "extra_copies");
	double left = cb_phase_value(c, ph, "swapcache_leftover_pages");
	double swapio = cb_phase_value(c, ph, "counters.pswpin") +
			cb_phase_value(c, ph, "counters.pswpout");
	cb_track_clear(c); /* a summary, not a phase of writes */
	cb_phase_begin(c, "capacity");
	per_gib(c, s, "extra_memory", extra, "extra_copies");
	per_gib(c, s, "extra_swap_io", left, "swapcache_leftover_pages");
	per_gib(c, s, "swap_io_total", swapio, "pswpin/pswpout counters");
	cb_phase_end(c);
}

static int run(struct cb_ctx *c)
{
	struct reclaim *s = cb_priv(c);
	struct reply r;
	if (ask(c, s, OP_FILL, &r) || write_phase(c, s, "baseline-write", &r))
		return -1;
	char x;
	if (start_hog(c, s))
		return -1;
	if (read(s->hog_ready, &x, 1) != 1)
		return cb_fail_child(c, "hog", s->hogger);
	if (write_phase(c, s, "write-under-reclaim", &r))
		return -1;
	capacity(c, s);
	return 0;
}

static void teardown(struct cb_ctx *c)
{
	struct reclaim *s = cb_priv(c);
	if (!s)
		return;
	if (s->hogger > 0) {
		kill(s->hogger, SIGKILL);
		cb_reap(s->hogger);
	}
	if (s->worker > 0) {
		uint64_t m[2] = { OP_EXIT, 0 };
		if (write(s->to_worker, m, sizeof m) != sizeof m)
			kill(s->worker, SIGKILL);
		cb_reap(s->worker);
	}
	int fds[] = { s->to_worker, s->from_worker, s->hog_ready };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (s->buf)
		munmap(s->buf, s->len);
	if (s->hog)
		munmap(s->hog, s->hog_len);
}

const struct cb_workload cb_wl_reclaim_pressure = {
	.name = "reclaim-pressure",
	.summary = "fork/COW writes next to a memory hog in one capped cgroup: copies from "
		   "reclaim's transient references, latency, per-GiB costs",
	.scenarios = "S2 S4",
	.opts = opts,
	.needs = CB_NEED_ROOT | CB_NEED_SWAP,
	.priv_size = sizeof(struct reclaim),
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
