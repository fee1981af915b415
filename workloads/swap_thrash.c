/* swap-thrash: a working set larger than the memory it is allowed, driven
 * into swap either by a memory cgroup limit or by rounds of MADV_PAGEOUT.
 * A worker child owns the working set and does what each phase names; the
 * harness tracks the worker's pages.
 *   S3a: swapped-out pages are read-faulted back ("S3a-read"), then written
 *        ("S3a-write"; the tracker snapshot sits between the two), so a
 *        copy is a PFN change and a write fault shows in the fault count
 *        (6.11+ maps an exclusive swap-in writable on the read fault).
 *   S3b: swapped-out pages are written directly. Where pageout leaves the
 *        page in the swap cache (file/partition swap, pageout pressure),
 *        the phase spans pageout and write so the PFN shows reuse of the
 *        swap-cache page; elsewhere (zram bypasses the swap cache, cgroup
 *        reclaim frees the page) only swap-ins can be counted.
 *   thrash: rounds of a random read/write mix over the whole working set. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cowbench.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

enum op { OP_FILL, OP_PAGEOUT, OP_READ, OP_WRITE, OP_MIX, OP_EXIT };

struct cmd {
	enum op op;
	size_t off, len;
	uint64_t tag;
	unsigned write_pct;
};

#define NSAMPLES 5

struct reply {
	int err;
	uint64_t ns, faults, touched;
	uint64_t paged_out; /* pages of the range in swap after OP_PAGEOUT */
	uint64_t swapcached[NSAMPLES]; /* at 0, 25, 50, 75, 100 % of the pages */
};

struct swap_thrash {
	char *buf;
	size_t len, window;
	pid_t worker;
	int to_worker, from_worker;
	bool cgroup, pageout_keeps_cache;
	uint64_t tag;
};

static const struct cb_opt opts[] = {
	{ .name = "size", .type = CB_OPT_SIZE, .def = "32M", .min = 1 << 20, .max = 1ull << 44,
	  .help = "working set of the worker" },
	{ .name = "limit", .type = CB_OPT_SIZE, .def = "16M", .min = 4 << 20, .max = 1ull << 44,
	  .help = "memory cgroup limit (pressure=cgroup); must be below size" },
	{ .name = "window", .type = CB_OPT_SIZE, .def = "4M", .min = 4096, .max = 1ull << 42,
	  .help = "bytes read-then-written (S3a) and written directly (S3b)" },
	{ .name = "pressure", .type = CB_OPT_ENUM, .def = "cgroup", .choices = "cgroup|pageout",
	  .help = "what pushes pages out: a cgroup limit, or MADV_PAGEOUT rounds (used "
		  "when no memory cgroup is available)" },
	{ .name = "swap", .type = CB_OPT_ENUM, .def = "file", .choices = "file|zram",
	  .help = "swap device to use or create (zram bypasses the swap cache)" },
	{ .name = "rounds", .type = CB_OPT_U64, .def = "1", .min = 0, .max = 1000,
	  .help = "rounds of the random read/write mix" },
	{ .name = "write_pct", .type = CB_OPT_U64, .def = "50", .min = 0, .max = 100,
	  .help = "percent of accesses in the mix that write" },
	CB_OPT_END
};

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Visits every page of the range once, in random order for the mix, and
 * samples SwapCached as the pass goes. */
static void touch(char *buf, const struct cmd *m, struct reply *r)
{
	size_t ps = cb_page_size(), n = m->len / ps, next = 0;
	size_t *order = NULL;
	uint64_t seed = m->tag * 2654435761u + 1;
	if (m->op == OP_MIX && (order = malloc(n * sizeof *order))) {
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		for (size_t i = n; i > 1; i--) {
			size_t j = next_rand(&seed) % i, t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
	}
	volatile char sink = 0;
	for (size_t i = 0; i < n; i++) {
		if (next < NSAMPLES && i >= n * next / (NSAMPLES - 1))
			r->swapcached[next++] = cb_swapcached_bytes();
		char *p = buf + m->off + (order ? order[i] : i) * ps;
		bool write = m->op == OP_WRITE || m->op == OP_FILL ||
			     (m->op == OP_MIX && next_rand(&seed) % 100 < m->write_pct);
		if (write)
			cb_fresh_write(p, m->tag);
		else
			sink += *p;
	}
	while (next < NSAMPLES)
		r->swapcached[next++] = cb_swapcached_bytes();
	free(order);
	r->touched = n;
}

/* MADV_PAGEOUT skips pages it cannot isolate (e.g. still in another CPU's
 * LRU batch); those stay mapped and take no fault when written, so the
 * write phase is judged against the pages that really left. */
static uint64_t count_paged_out(char *buf, const struct cmd *m)
{
	long n = cb_track_count_own(buf + m->off, m->len, PM_SWAPPED | PM_PRESENT, PM_SWAPPED);
	return n < 0 ? 0 : (uint64_t)n;
}

static void serve(char *buf, int in, int out)
{
	struct cmd m;
	while (read(in, &m, sizeof m) == sizeof m && m.op != OP_EXIT) {
		struct reply r = { 0 };
		uint64_t f0 = cb_own_faults(), t0 = cb_now_ns();
		if (m.op == OP_PAGEOUT) {
			r.err = madvise(buf + m.off, m.len, MADV_PAGEOUT) ? errno : 0;
			r.paged_out = count_paged_out(buf, &m);
		} else
			touch(buf, &m, &r);
		r.ns = cb_now_ns() - t0;
		r.faults = cb_own_faults() - f0;
		if (write(out, &r, sizeof r) != sizeof r)
			break;
	}
	_exit(0);
}

static int ask(struct cb_ctx *c, struct swap_thrash *s, struct cmd m, struct reply *r)
{
	m.tag = ++s->tag;
	if (write(s->to_worker, &m, sizeof m) != sizeof m ||
	    read(s->from_worker, r, sizeof *r) != sizeof *r)
		return cb_fail_child(c, "worker", s->worker);
	if (r->err)
		return cb_fail(c, "worker: madvise(MADV_PAGEOUT): %s", strerror(r->err));
	return 0;
}

static void metrics(struct cb_ctx *c, const struct reply *r, bool samples)
{
	size_t bytes = r->touched * cb_page_size();
	if (r->touched) {
		cb_phase_ops(c, r->touched);
		cb_phase_metric(c, "throughput", r->ns ? bytes / 1048576.0 / (r->ns / 1e9) : 0,
				"MiB/s");
	}
	cb_phase_metric(c, "worker_faults", (double)r->faults, "faults");
	static const char *const keys[NSAMPLES] = {
		"swapcached_kib_0pct", "swapcached_kib_25pct", "swapcached_kib_50pct",
		"swapcached_kib_75pct", "swapcached_kib_100pct" };
	for (int i = 0; samples && i < NSAMPLES; i++)
		cb_phase_metric(c, keys[i], r->swapcached[i] / 1024.0, "KiB");
}

/* One phase around one worker command. */
static int phase(struct cb_ctx *c, struct swap_thrash *s, const char *name, struct cmd m)
{
	struct reply r;
	/* Under a cgroup limit reclaim takes tracked pages away in any phase:
	 * the fault log tells their refaults from copies. */
	cb_phase_begin_opts(c, name, s->cgroup ? CB_PHASE_MAY_RECLAIM : 0);
	int rc = ask(c, s, m, &r);
	if (!rc)
		metrics(c, &r, m.op != OP_PAGEOUT);
	cb_phase_end(c);
	return rc;
}

/* The tracker follows only the pages a phase is about. */
static int track(struct cb_ctx *c, struct swap_thrash *s, size_t off, size_t len)
{
	cb_track_clear(c);
	return len ? cb_track(c, s->worker, s->buf + off, len) : 0;
}

static void serve_worker(void *arg, int in, int out)
{
	struct swap_thrash *s = arg;
	serve(s->buf, in, out);
}

static int start_worker(struct cb_ctx *c, struct swap_thrash *s)
{
	s->worker = cb_fork_server(c, serve_worker, s, &s->to_worker, &s->from_worker);
	if (s->worker < 0)
		return -1;
	/* The harness never touched the region: all its pages are the worker's. */
	if (s->cgroup && cb_cgroup_enter(c, s->worker))
		return -1;
	return track(c, s, 0, s->len);
}

static int choose_pressure(struct cb_ctx *c, struct swap_thrash *s)
{
	s->cgroup = !strcmp(cb_opt_str(c, "pressure"), "cgroup");
	if (s->cgroup && !cb_cgroup_mode()) {
		cb_note(c, "pressure", "pageout (no memory cgroup controller)");
		s->cgroup = false;
	} else {
		cb_note(c, "pressure", "%s", s->cgroup ? "cgroup" : "pageout");
	}
	if (!s->cgroup)
		return 0;
	if (cb_opt_u64(c, "limit") >= s->len)
		return cb_fail(c, "limit must be below size to push pages out");
	return cb_cgroup_create(c, cb_opt_u64(c, "limit"));
}

static int setup(struct cb_ctx *c)
{
	struct swap_thrash *s = cb_priv(c);
	size_t ps = cb_page_size();
	s->worker = -1;
	s->to_worker = s->from_worker = -1;
	s->len = cb_opt_u64(c, "size") / ps * ps;
	s->window = cb_opt_u64(c, "window") / ps * ps;
	if (!s->window || 2 * s->window > s->len)
		return cb_fail(c, "window must be at least a page and at most half of size");
	const char *kind = cb_opt_str(c, "swap");
	/* Room for the whole working set plus what reclaim keeps in flight. */
	if (cb_need_swap(c, s->len + (16 << 20), kind))
		return -1;
	s->pageout_keeps_cache = strcmp(kind, "zram") != 0;
	if (choose_pressure(c, s))
		return -1;
	s->buf = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->buf == MAP_FAILED) {
		s->buf = NULL;
		return cb_fail(c, "mmap %zu bytes failed", s->len);
	}
	madvise(s->buf, s->len, MADV_NOHUGEPAGE);
	return start_worker(c, s);
}

static struct cmd cmd(enum op op, size_t off, size_t len)
{
	return (struct cmd){ .op = op, .off = off, .len = len };
}

/* Under a cgroup limit the fill already pushed the oldest pages (the
 * windows at the start) out; with pageout, rounds of MADV_PAGEOUT do. */
static int s3(struct cb_ctx *c, struct swap_thrash *s)
{
	size_t w = s->window;
	struct reply r;
	if (!s->cgroup && phase(c, s, "pageout", cmd(OP_PAGEOUT, 0, s->len)))
		return -1;
	if (track(c, s, 0, w) || phase(c, s, "S3a-read", cmd(OP_READ, 0, w)) ||
	    phase(c, s, "S3a-write", cmd(OP_WRITE, 0, w)))
		return -1;
	if (track(c, s, w, w))
		return -1;
	if (!s->cgroup && s->pageout_keeps_cache) {
		/* Bring the window back first so the phase starts from known PFNs. */
		if (ask(c, s, cmd(OP_READ, w, w), &r))
			return -1;
		cb_phase_begin_opts(c, "S3b-pageout-write", CB_PHASE_MAY_RECLAIM);
		/* The write must meet pages at rest in the swap cache: a page
		 * still under swap writeback holds an extra reference and is
		 * copied on every kernel (S3b is about the reuse decision). */
		uint64_t waited = 0;
		int rc = ask(c, s, cmd(OP_PAGEOUT, w, w), &r);
		if (!rc)
			cb_phase_metric(c, "paged_out", (double)r.paged_out, "pages");
		if (!rc && cb_wait_writeback(5000, &waited))
			cb_note(c, "writeback", "pages still under writeback after 5 s");
		/* Reclaim may already have freed some folios (writeback done
		 * before it looked): those come back as swap-ins, not copies. */
		if (!rc)
			cb_phase_metric(c, "left_swapcache",
					(double)cb_track_forget_freed_pages(c), "pages");
		if (!rc)
			rc = ask(c, s, cmd(OP_WRITE, w, w), &r);
		cb_phase_metric(c, "writeback_wait_ns", (double)waited, "ns");
		if (!rc)
			metrics(c, &r, true);
		cb_phase_end(c);
		return rc;
	}
	if (!s->cgroup && ask(c, s, cmd(OP_PAGEOUT, w, w), &r))
		return -1;
	/* The pages were swapped before the phase: their outcomes are the
	 * swapin_* keys (exact with the fault log, else unavailable with the
	 * reason), never a PFN change. */
	cb_phase_begin_opts(c, "S3b-write", CB_PHASE_MAY_RECLAIM);
	int rc = ask(c, s, cmd(OP_WRITE, w, w), &r);
	if (!rc)
		metrics(c, &r, true);
	cb_phase_end(c);
	return rc;
}

static int run(struct cb_ctx *c)
{
	struct swap_thrash *s = cb_priv(c);
	if (phase(c, s, "fill", cmd(OP_FILL, 0, s->len)) || s3(c, s))
		return -1;
	uint64_t rounds = cb_opt_u64(c, "rounds");
	unsigned pct = (unsigned)cb_opt_u64(c, "write_pct");
	struct reply r;
	/* Pages evicted and faulted back get new PFNs: not copies, so the
	 * mix reports throughput, faults and swap traffic only. */
	track(c, s, 0, 0);
	cb_phase_begin(c, "thrash");
	uint64_t ns = 0, faults = 0, touched = 0;
	for (uint64_t i = 0; i < rounds; i++) {
		struct cmd m = cmd(OP_MIX, 0, s->len);
		m.write_pct = pct;
		if ((!s->cgroup && ask(c, s, cmd(OP_PAGEOUT, 0, s->len), &r)) || ask(c, s, m, &r))
			return -1;
		ns += r.ns;
		faults += r.faults;
		touched += r.touched;
	}
	r.ns = ns;
	r.faults = faults;
	r.touched = touched;
	if (rounds)
		metrics(c, &r, true);
	cb_phase_end(c);
	return 0;
}

static void teardown(struct cb_ctx *c)
{
	struct swap_thrash *s = cb_priv(c);
	if (!s)
		return;
	if (s->worker > 0) {
		struct cmd m = cmd(OP_EXIT, 0, 0);
		if (write(s->to_worker, &m, sizeof m) != sizeof m)
			kill(s->worker, SIGKILL);
		cb_reap(s->worker);
	}
	if (s->to_worker >= 0)
		close(s->to_worker);
	if (s->from_worker >= 0)
		close(s->from_worker);
	if (s->buf)
		munmap(s->buf, s->len);
}

const struct cb_workload cb_wl_swap_thrash = {
	.name = "swap-thrash",
	.summary = "working set above its memory limit: swap-in then write (S3a) vs direct "
		   "write swap-in (S3b), faults, swap cache, throughput",
	.scenarios = "S3a S3b",
	.opts = opts,
	.needs = CB_NEED_ROOT | CB_NEED_SWAP | CB_NEED_PAGEOUT,
	.priv_size = sizeof(struct swap_thrash),
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
