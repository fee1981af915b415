/* fork-basic: the smallest end-to-end COW experiment. The parent dirties a
 * region, forks, and writes every page while the child still maps it
 * (necessary copies, S1), then again after a second child has exited and
 * been reaped (reuse expected, S2: extra copies here are the policy's). */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cowbench.h"

struct fork_basic {
	char *buf;
	size_t len;
	uint64_t tag;
};

static const struct cb_opt opts[] = {
	{ .name = "size", .type = CB_OPT_SIZE, .def = "64M", .min = 4096, .max = 1ull << 44,
	  .help = "bytes the parent dirties and writes again" },
	{ .name = "thp", .type = CB_OPT_BOOL, .def = "off",
	  .help = "back the region with transparent huge pages (MADV_HUGEPAGE)" },
	CB_OPT_END
};

static void write_all(struct fork_basic *f)
{
	size_t ps = cb_page_size();
	f->tag++;
	for (size_t off = 0; off < f->len; off += ps)
		cb_fresh_write(f->buf + off, f->tag);
}

static int setup(struct cb_ctx *c)
{
	struct fork_basic *f = cb_priv(c);
	size_t ps = cb_page_size();
	f->len = (cb_opt_u64(c, "size") + ps - 1) / ps * ps;
	f->buf = mmap(NULL, f->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->buf == MAP_FAILED) {
		f->buf = NULL;
		return cb_fail(c, "mmap %zu bytes failed", f->len);
	}
	madvise(f->buf, f->len, cb_opt_bool(c, "thp") ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	write_all(f);
	return cb_track(c, getpid(), f->buf, f->len);
}

/* A child that maps the region until the parent closes the pipe. */
static pid_t fork_holder(struct cb_ctx *c, int *release_fd)
{
	int p[2];
	if (pipe(p))
		return -1;
	pid_t pid = cb_fork(c);
	if (pid == 0) {
		char x;
		close(p[1]);
		while (read(p[0], &x, 1) < 0)
			;
		_exit(0);
	}
	close(p[0]);
	*release_fd = p[1];
	return pid;
}

static int run(struct cb_ctx *c)
{
	struct fork_basic *f = cb_priv(c);
	size_t pages = f->len / cb_page_size();
	int release;
	uint64_t t0 = cb_now_ns();
	pid_t child = fork_holder(c, &release);
	uint64_t fork_ns = cb_now_ns() - t0;
	if (child < 0)
		return cb_fail(c, "fork failed");

	cb_phase_begin(c, "child-alive");
	write_all(f);
	cb_phase_ops(c, pages);
	cb_phase_metric(c, "fork_ns", (double)fork_ns, "ns");
	cb_phase_end(c);

	close(release);
	cb_reap(child);
	/* A second fork write-protects the parent's fresh copies again; the
	 * child exits at once, so the parent is the only mapper. */
	child = cb_fork(c);
	if (child == 0)
		_exit(0);
	if (child < 0)
		return cb_fail(c, "fork failed");
	cb_reap(child);

	cb_phase_begin(c, "child-reaped");
	write_all(f);
	cb_phase_ops(c, pages);
	cb_phase_end(c);
	return 0;
}

static void teardown(struct cb_ctx *c)
{
	struct fork_basic *f = cb_priv(c);
	if (f && f->buf)
		munmap(f->buf, f->len);
}

const struct cb_workload cb_wl_fork_basic = {
	.name = "fork-basic",
	.summary = "parent writes its dirty region while a child maps it, then after the "
		   "child is reaped",
	.scenarios = "S1 S2",
	.opts = opts,
	.needs = 0,
	.priv_size = sizeof(struct fork_basic),
	.footprint = 2, /* the child keeps the originals of the pages the parent copies */
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
