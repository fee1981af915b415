/* repro:fork-odirect, repro:clear-refs-odirect, repro:swapout-odirect: the
 * seed threads' O_DIRECT races, repeated many times (S8, S6a, S6b; the 2022
 * swap-out case of the COW part-3 cover letter).
 *
 * Each iteration uses its own page: the first 512 bytes get an O_DIRECT read
 * (Linux AIO, so the read is in flight while this thread goes on) from a file
 * whose blocks hold known data, then an event write-protects the page (fork
 * with the child alive, clear_refs 4, MADV_PAGEOUT) and the process writes the
 * second half. The read is "lost" when, after it completed, the process's
 * first half does not hold the file's data (the DMA went to a page the
 * process no longer maps). The race only counts when the read was really in
 * flight: `in_flight` counts iterations whose completion was not yet posted
 * after the event and the write; reads queued ahead of the measured one (and
 * a throttled disk in guests) keep the window open. */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cowbench.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define READ_LEN 512u
#define FILE_BLOCKS 256u /* distinct measured blocks, one per 4 KiB of the file */

enum odio_event { OD_FORK, OD_CLEAR_REFS, OD_PAGEOUT };

struct odio {
	enum odio_event ev;
	int fd, refs_fd;
	char path[512];
	char *buf;   /* one page per iteration */
	char *ahead; /* destination of the reads queued ahead */
	size_t pages, ahead_n, ahead_size, ahead_span;
	aio_context_t ctx;
	uint64_t salt, tag;
	bool rmw; /* the write is page[last]++: a load, then a store */
};

struct odio_totals {
	uint64_t iterations, in_flight, lost, lost_in_flight, copies, unmapped, ns;
};

static const struct cb_opt opts[] = {
	{ .name = "iterations", .type = CB_OPT_U64, .def = "200", .min = 1, .max = 10000000,
	  .help = "race attempts (one page each)" },
	{ .name = "ahead", .type = CB_OPT_U64, .def = "4", .min = 0, .max = 64,
	  .help = "O_DIRECT reads queued ahead of the measured one (widen the window)" },
	{ .name = "ahead-size", .type = CB_OPT_SIZE, .def = "64K", .min = 4096, .max = 1u << 24,
	  .help = "bytes of each read queued ahead" },
	{ .name = "dir", .type = CB_OPT_DIR, .def = "auto",
	  .help = "directory of the O_DIRECT file (auto: /data when mounted, else /var/tmp)" },
	CB_OPT_END
};

/* The 2022 thread's application does page[4095]++ while the read is in
 * flight: the load faults the swapped-out page back read-only from the swap
 * cache, the store then faults again and (without the exclusive bit)
 * copies. A plain store takes a single write fault that reuses. */
static const struct cb_opt swapout_opts[] = {
	{ .name = "iterations", .type = CB_OPT_U64, .def = "200", .min = 1, .max = 10000000,
	  .help = "race attempts (one page each)" },
	{ .name = "ahead", .type = CB_OPT_U64, .def = "4", .min = 0, .max = 64,
	  .help = "O_DIRECT reads queued ahead of the measured one (widen the window)" },
	{ .name = "ahead-size", .type = CB_OPT_SIZE, .def = "64K", .min = 4096, .max = 1u << 24,
	  .help = "bytes of each read queued ahead" },
	{ .name = "dir", .type = CB_OPT_DIR, .def = "auto",
	  .help = "directory of the O_DIRECT file (auto: /data when mounted, else /var/tmp)" },
	{ .name = "access", .type = CB_OPT_ENUM, .def = "rmw", .choices = "rmw|store|both",
	  .help = "how the other half is written after the swap-out: rmw (page[last]++, a load "
		  "then a store, as in the thread), store (a plain store), both (one phase each)" },
	CB_OPT_END
};

static long sys_io_setup(unsigned nr, aio_context_t *ctx) { return syscall(SYS_io_setup, nr, ctx); }
static long sys_io_destroy(aio_context_t ctx) { return syscall(SYS_io_destroy, ctx); }
static long sys_io_submit(aio_context_t ctx, long n, struct iocb **v)
{
	return syscall(SYS_io_submit, ctx, n, v);
}
static long sys_io_getevents(aio_context_t ctx, long min, long max, struct io_event *ev,
			     struct timespec *ts)
{
	return syscall(SYS_io_getevents, ctx, min, max, ev, ts);
}

/* The file's data at a measured block: a function of the block and the run. */
static void block_data(const struct odio *o, unsigned block, void *out)
{
	uint64_t *w = out;
	for (size_t i = 0; i < READ_LEN / sizeof *w; i++)
		w[i] = o->salt ^ ((uint64_t)block << 32) ^ (i * 0x9E3779B97F4A7C15ull);
}

static const char *pick_dir(const char *opt)
{
	if (strcmp(opt, "auto"))
		return opt;
	struct stat d, root;
	/* /data is the guests' ext4 disk; a plain directory there is no disk. */
	if (!stat("/data", &d) && !stat("/", &root) && d.st_dev != root.st_dev)
		return "/data";
	return "/var/tmp";
}

static int write_file(struct cb_ctx *c, struct odio *o)
{
	size_t ps = cb_page_size(), len = FILE_BLOCKS * ps + o->ahead_span;
	char *blk = calloc(1, ps);
	int wfd = open(o->path, O_WRONLY | O_CLOEXEC);
	int rc = blk && wfd >= 0 ? 0 : -1;
	for (unsigned b = 0; !rc && b < FILE_BLOCKS; b++) {
		block_data(o, b, blk);
		rc = pwrite(wfd, blk, ps, (off_t)b * (off_t)ps) == (ssize_t)ps ? 0 : -1;
	}
	if (blk)
		memset(blk, 0, ps);
	for (size_t off = FILE_BLOCKS * ps; !rc && off < len; off += ps)
		rc = pwrite(wfd, blk, ps, (off_t)off) == (ssize_t)ps ? 0 : -1;
	if (!rc)
		rc = fsync(wfd);
	free(blk);
	if (wfd >= 0)
		close(wfd);
	return rc ? cb_fail(c, "writing %s: %s", o->path, strerror(errno)) : 0;
}

static int open_file(struct cb_ctx *c, struct odio *o)
{
	const char *dir = pick_dir(cb_opt_str(c, "dir"));
	snprintf(o->path, sizeof o->path, "%s/cowbench-odirect-XXXXXX", dir);
	int tmp = mkstemp(o->path);
	if (tmp < 0) {
		o->path[0] = 0;
		return cb_skip(c, "no O_DIRECT file: cannot create a file in %s: %s", dir,
			       strerror(errno));
	}
	close(tmp);
	if (write_file(c, o))
		return -1;
	o->fd = open(o->path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (o->fd < 0)
		return cb_skip(c, "the filesystem of %s does not support O_DIRECT (%s); give "
			       "-o dir= on ext4/xfs on a disk", dir, strerror(errno));
	cb_note(c, "odirect_file", "%s", o->path);
	return 0;
}

static void *map_pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int setup_common(struct cb_ctx *c, enum odio_event ev)
{
	struct odio *o = cb_priv(c);
	size_t ps = cb_page_size();
	o->ev = ev;
	o->fd = o->refs_fd = -1;
	o->pages = cb_opt_u64(c, "iterations");
	o->ahead_n = cb_opt_u64(c, "ahead");
	o->ahead_size = (cb_opt_u64(c, "ahead-size") + ps - 1) / ps * ps;
	/* Queued-ahead reads rotate over 8 windows: no read hits a block the
	 * one before it just brought into a device cache. */
	o->ahead_span = o->ahead_n * o->ahead_size * 8;
	o->salt = cb_now_ns() * 0x9E3779B97F4A7C15ull;
	if (ev == OD_CLEAR_REFS) {
		o->refs_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
		if (o->refs_fd < 0)
			return cb_skip(c, "/proc/self/clear_refs: %s", strerror(errno));
	}
	/* A disk swap keeps the page in the swap cache while the read holds it. */
	if (ev == OD_PAGEOUT && cb_need_swap(c, 64u << 20, "any"))
		return -1;
	if (open_file(c, o))
		return -1;
	if (sys_io_setup((unsigned)o->ahead_n + 1, &o->ctx))
		return cb_skip(c, "io_setup (Linux AIO): %s", strerror(errno));
	o->buf = map_pages(o->pages * ps);
	o->ahead = o->ahead_n ? map_pages(o->ahead_n * o->ahead_size) : NULL;
	if (!o->buf || (o->ahead_n && !o->ahead))
		return cb_fail(c, "mmap failed");
	madvise(o->buf, o->pages * ps, MADV_NOHUGEPAGE);
	if (o->ahead)
		madvise(o->ahead, o->ahead_n * o->ahead_size, MADV_DONTFORK);
	for (size_t i = 0; i < o->pages; i++)
		cb_fresh_write(o->buf + i * ps, ++o->tag);
	if (o->ahead)
		memset(o->ahead, 1, o->ahead_n * o->ahead_size);
	return cb_track(c, getpid(), o->buf, o->pages * ps);
}

static int setup_fork(struct cb_ctx *c) { return setup_common(c, OD_FORK); }
static int setup_clear_refs(struct cb_ctx *c) { return setup_common(c, OD_CLEAR_REFS); }
static int setup_pageout(struct cb_ctx *c) { return setup_common(c, OD_PAGEOUT); }

/* Fresh values in [p, p+len): never identical bytes, never a read first. */
static void fresh_fill(void *p, size_t len, uint64_t tag)
{
	uint64_t *w = p, x = tag * 0xD6E8FEB86659FD93ull + (uintptr_t)p;
	for (size_t i = 0; i < len / sizeof *w; i++)
		w[i] = x + i;
}

static void prep_read(struct iocb *cb, int fd, void *dst, size_t len, off_t off, uint64_t data)
{
	memset(cb, 0, sizeof *cb);
	cb->aio_lio_opcode = IOCB_CMD_PREAD;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = (uintptr_t)dst;
	cb->aio_nbytes = len;
	cb->aio_offset = off;
	cb->aio_data = data;
}

/* Collects completions; *measured is set when the measured read (data 1)
 * completes, with its result. Returns the number collected, -1 on error. */
static long collect(struct odio *o, long min, long max, bool *measured, long *res)
{
	struct io_event ev[65];
	struct timespec zero = { 0, 0 };
	long n = sys_io_getevents(o->ctx, min, max, ev, min ? NULL : &zero);
	for (long i = 0; i < n; i++)
		if (ev[i].data == 1) {
			*measured = true;
			*res = (long)ev[i].res;
		}
	return n;
}

/* The event; for fork, *child is a child that maps the page until released. */
static int event(struct cb_ctx *c, struct odio *o, char *page, pid_t *child, int *release)
{
	switch (o->ev) {
	case OD_FORK: {
		int p[2];
		if (pipe(p))
			return -1;
		*child = cb_fork(c);
		if (*child == 0) {
			char x;
			close(p[1]);
			while (read(p[0], &x, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		close(p[0]);
		*release = p[1];
		return *child < 0 ? -1 : 0;
	}
	case OD_CLEAR_REFS:
		return pwrite(o->refs_fd, "4", 1, 0) == 1 ? 0 : -1;
	case OD_PAGEOUT:
		return madvise(page, cb_page_size(), MADV_PAGEOUT);
	}
	return -1;
}

static int submit(struct odio *o, char *page, size_t i)
{
	struct iocb cbs[65], *v[65];
	size_t n = 0, ps = cb_page_size();
	off_t base = (off_t)(FILE_BLOCKS * ps + (i % 8) * o->ahead_n * o->ahead_size);
	for (; n < o->ahead_n; n++) {
		prep_read(&cbs[n], o->fd, o->ahead + n * o->ahead_size, o->ahead_size,
			  base + (off_t)(n * o->ahead_size), 0);
		v[n] = &cbs[n];
	}
	prep_read(&cbs[n], o->fd, page, READ_LEN, (off_t)((i % FILE_BLOCKS) * ps), 1);
	v[n] = &cbs[n];
	n++;
	return sys_io_submit(o->ctx, (long)n, v) == (long)n ? 0 : -1;
}

/* One race attempt on page i. */
static int attempt(struct cb_ctx *c, struct odio *o, size_t i, struct odio_totals *t,
		   char *why, size_t whylen)
{
	size_t ps = cb_page_size();
	char *page = o->buf + i * ps, want[READ_LEN];
	fresh_fill(page, ps / 2, ++o->tag); /* differs from the file's data */
	uint64_t pfn0 = cb_pfn_of(page);
	if (submit(o, page, i))
		return snprintf(why, whylen, "io_submit: %s", strerror(errno)), -1;
	pid_t child = -1;
	int release = -1;
	if (event(c, o, page, &child, &release))
		snprintf(why, whylen, "event: %s", strerror(errno));
	t->unmapped += cb_pfn_of(page) == 0; /* pageout took the page out of the PTE */
	if (o->rmw) {
		volatile uint8_t *last = (uint8_t *)page + ps - 1;
		uint8_t v = *last; /* read fault: swap-in, mapped read-only */
		*last = (uint8_t)(v + 1); /* write fault on the swapped-in page */
		cb_written(page);
	} else {
		fresh_fill(page + ps / 2, ps / 2, ++o->tag);
		cb_written(page);
	}
	uint64_t pfn1 = cb_pfn_of(page);
	bool done = false;
	long res = 0, left = (long)o->ahead_n + 1;
	long got = collect(o, 0, left, &done, &res);
	bool in_flight = !done;
	if (release >= 0)
		close(release);
	if (child > 0)
		cb_reap(child);
	if (why[0] || got < 0)
		return why[0] ? -1 : (snprintf(why, whylen, "io_getevents: %s", strerror(errno)), -1);
	for (left -= got; left > 0; left -= got)
		if ((got = collect(o, left, left, &done, &res)) <= 0)
			return snprintf(why, whylen, "io_getevents: %s", strerror(errno)), -1;
	if (res != READ_LEN)
		return snprintf(why, whylen, "O_DIRECT read returned %ld", res), -1;
	block_data(o, (unsigned)(i % FILE_BLOCKS), want);
	bool lost = memcmp(page, want, READ_LEN) != 0;
	t->iterations++;
	t->in_flight += in_flight;
	t->lost += lost;
	t->lost_in_flight += lost && in_flight;
	t->copies += pfn0 && pfn1 && pfn0 != pfn1;
	return 0;
}

static const char *const phase_names[] = { "fork-write", "clear-refs-write", "pageout-write" };

static int race_phase(struct cb_ctx *c, struct odio *o, const char *name)
{
	struct odio_totals t = { 0 };
	char why[256] = "";
	/* MADV_PAGEOUT inside the phase: the fault log tells a swap-in's
	 * copy from a refault. */
	cb_phase_begin_opts(c, name, o->ev == OD_PAGEOUT ? CB_PHASE_MAY_RECLAIM : 0);
	uint64_t t0 = cb_now_ns();
	for (size_t i = 0; i < o->pages; i++)
		if (attempt(c, o, i, &t, why, sizeof why))
			break;
	t.ns = cb_now_ns() - t0;
	cb_phase_ops(c, t.iterations);
	cb_phase_metric(c, "iterations", (double)t.iterations, "iterations");
	cb_phase_metric(c, "in_flight", (double)t.in_flight, "iterations");
	cb_phase_metric(c, "lost", (double)t.lost, "iterations");
	cb_phase_metric(c, "lost_in_flight", (double)t.lost_in_flight, "iterations");
	cb_phase_metric(c, "copies", (double)t.copies, "pages");
	if (o->ev == OD_PAGEOUT)
		cb_phase_metric(c, "paged_out", (double)t.unmapped, "iterations");
	cb_phase_end(c);
	return why[0] ? cb_fail(c, "iteration %llu: %s", (unsigned long long)t.iterations, why) : 0;
}

static int run(struct cb_ctx *c)
{
	struct odio *o = cb_priv(c);
	cb_note(c, "read", "%u B O_DIRECT (Linux AIO) into the first half of a page, %zu reads "
		"of %zu B queued ahead", READ_LEN, o->ahead_n, o->ahead_size);
	if (o->ev != OD_PAGEOUT)
		return race_phase(c, o, phase_names[o->ev]);
	const char *access = cb_opt_str(c, "access");
	int rc = 0;
	if (strcmp(access, "store")) {
		o->rmw = true;
		cb_note(c, "access", "%s", access);
		rc = race_phase(c, o, "pageout-rmw");
	}
	o->rmw = false;
	if (!rc && strcmp(access, "rmw"))
		rc = race_phase(c, o, "pageout-write");
	return rc;
}

static void teardown(struct cb_ctx *c)
{
	struct odio *o = cb_priv(c);
	if (!o)
		return;
	size_t ps = cb_page_size();
	if (o->ctx)
		sys_io_destroy(o->ctx);
	if (o->fd >= 0)
		close(o->fd);
	if (o->refs_fd >= 0)
		close(o->refs_fd);
	if (o->path[0])
		unlink(o->path);
	if (o->buf)
		munmap(o->buf, o->pages * ps);
	if (o->ahead)
		munmap(o->ahead, o->ahead_n * o->ahead_size);
}

const struct cb_workload cb_wl_repro_fork_odirect = {
	.name = "repro:fork-odirect",
	.suite = CB_SUITE_REPRO,
	.summary = "2009 race: O_DIRECT read into half a page in flight, fork, write the "
		   "other half; is the read lost?",
	.scenarios = "S8 S6a",
	.opts = opts,
	.needs = 0,
	.priv_size = sizeof(struct odio),
	.setup = setup_fork,
	.run = run,
	.teardown = teardown,
};

const struct cb_workload cb_wl_repro_clear_refs_odirect = {
	.name = "repro:clear-refs-odirect",
	.suite = CB_SUITE_REPRO,
	.summary = "2021 race: O_DIRECT read in flight, clear_refs 4 write-protects the page, "
		   "the other half is written",
	.scenarios = "S6b",
	.opts = opts,
	.needs = CB_NEED_SOFTDIRTY,
	.priv_size = sizeof(struct odio),
	.setup = setup_clear_refs,
	.run = run,
	.teardown = teardown,
};

const struct cb_workload cb_wl_repro_swapout_odirect = {
	.name = "repro:swapout-odirect",
	.suite = CB_SUITE_REPRO,
	.summary = "2022 race: O_DIRECT read in flight, MADV_PAGEOUT swaps the page out, the "
		   "process does page[last]++ (or a plain store: -o access=store|both)",
	.scenarios = "S7d",
	.opts = swapout_opts,
	.needs = CB_NEED_ROOT | CB_NEED_PAGEOUT,
	.priv_size = sizeof(struct odio),
	.setup = setup_pageout,
	.run = run,
	.teardown = teardown,
};
