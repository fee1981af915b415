/* ksm-vms: N "guest" processes whose memory is mostly identical (an OS
 * image, zero-filled pages, a little private data), as on a host that runs
 * many similar VMs with KSM. Phases:
 *   settle        KSM on (fast scan settings) until merging has settled:
 *                 time to settle, memory saved
 *   storm-shared  every guest writes its own slice of the image at a rate:
 *                 each written KSM page still has other mappers (S5b)
 *   last-mapper   all guests but one dropped a slice of the image; the last
 *                 one writes it: KSM pages with a single mapper (S5a), reused
 *                 by the mapcount era 5.1-5.8, copied (extra copies) since 5.9
 * ksmd is stopped (run=0, merged pages stay) after settling, so that no
 * merge happens while writes are attributed. The guests are children that
 * tell the parent their buffer address; the tracker follows them by pid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cowbench.h"

#define IMAGE_TAG 0x1a6eull      /* same in every guest: the "OS image" */
#define PRIVATE_TAG 0x9e1f0000ull /* + guest number */
#define WRITE_TAG (1ull << 40)    /* + phase << 8 + guest: never seen before */

enum op { OP_WRITE, OP_DROP };

struct cmd {
	uint32_t op;
	uint32_t first, count; /* page range */
	uint32_t rate;         /* pages per second, 0: unthrottled */
	uint64_t tag;
};

struct guest {
	pid_t pid;
	int cmd_fd, ack_fd;
};

struct vms {
	char *buf;
	size_t len, pages, ps;
	size_t image, zero;    /* pages of each kind; the rest is private */
	int n;
	struct guest *g;
	uint64_t phase_tag;
};

static const struct cb_opt opts[] = {
	{ .name = "guests", .type = CB_OPT_U64, .def = "4", .min = 2, .max = 1024,
	  .help = "guest processes" },
	{ .name = "size", .type = CB_OPT_SIZE, .def = "16M", .min = 1 << 20, .max = 1ull << 40,
	  .help = "memory of each guest" },
	{ .name = "image_fraction", .type = CB_OPT_DOUBLE, .def = "0.5", .fmin = 0.01,
	  .fmax = 1, .help = "share of a guest's pages holding the common OS image" },
	{ .name = "zero_fraction", .type = CB_OPT_DOUBLE, .def = "0.25", .fmin = 0, .fmax = 0.99,
	  .help = "share of a guest's pages that are zero-filled (the rest is private)" },
	{ .name = "write_pages", .type = CB_OPT_U64, .def = "256", .min = 1, .max = 1ull << 30,
	  .help = "image pages each writing guest writes in a phase" },
	{ .name = "rate", .type = CB_OPT_U64, .def = "50000", .min = 0, .max = 1ull << 30,
	  .help = "pages per second each guest writes (0: as fast as it can)" },
	{ .name = "pages_to_scan", .type = CB_OPT_U64, .def = "16384", .min = 1,
	  .max = 1u << 30, .help = "KSM pages_to_scan while settling" },
	{ .name = "sleep_ms", .type = CB_OPT_U64, .def = "0", .min = 0, .max = 60000,
	  .help = "KSM sleep_millisecs while settling" },
	{ .name = "settle_timeout", .type = CB_OPT_U64, .def = "60", .min = 1, .max = 86400,
	  .help = "seconds to wait for merging to settle" },
	CB_OPT_END
};

/* --- the guest side ------------------------------------------------------ */

static void fill(struct vms *v, int gi)
{
	for (size_t i = 0; i < v->pages; i++) {
		char *p = v->buf + i * v->ps;
		if (i < v->image)
			cb_fresh_write(p, IMAGE_TAG); /* same address, same bytes */
		else if (i < v->image + v->zero)
			memset(p, 0, v->ps);
		else
			cb_fresh_write(p, PRIVATE_TAG + (uint64_t)gi);
	}
}

static void pace(uint64_t t0, size_t done, uint32_t rate)
{
	if (!rate)
		return;
	uint64_t due = t0 + (uint64_t)done * 1000000000ull / rate, now = cb_now_ns();
	if (now < due) {
		struct timespec ts = { (time_t)((due - now) / 1000000000ull),
				       (long)((due - now) % 1000000000ull) };
		nanosleep(&ts, NULL);
	}
}

static void do_cmd(struct vms *v, const struct cmd *m)
{
	char *p = v->buf + (size_t)m->first * v->ps;
	if (m->op == OP_DROP) {
		madvise(p, (size_t)m->count * v->ps, MADV_DONTNEED);
		return;
	}
	uint64_t t0 = cb_now_ns();
	for (uint32_t k = 0; k < m->count; k++) {
		if (k % 8 == 0)
			pace(t0, k, m->rate);
		cb_fresh_write(p + (size_t)k * v->ps, m->tag);
	}
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = read(fd, (char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* Reports its buffer address once filled (0: MADV_MERGEABLE refused), then
 * serves commands until the parent closes the command pipe. */
static void guest_main(struct vms *v, int gi, int cmd_fd, int ack_fd)
{
	uintptr_t addr = (uintptr_t)v->buf;
	if (madvise(v->buf, v->len, MADV_MERGEABLE))
		addr = 0;
	else
		fill(v, gi);
	if (write(ack_fd, &addr, sizeof addr) != sizeof addr || !addr)
		_exit(1);
	struct cmd m;
	while (!read_full(cmd_fd, &m, sizeof m)) {
		do_cmd(v, &m);
		char ok = 1;
		if (write(ack_fd, &ok, 1) != 1)
			_exit(1);
	}
	_exit(0);
}

/* --- the host side ------------------------------------------------------- */

static int start_guest(struct cb_ctx *c, struct vms *v, int gi)
{
	int cmd[2], ack[2];
	if (pipe(cmd))
		return cb_fail(c, "pipe: %s", strerror(errno));
	if (pipe(ack)) {
		close(cmd[0]);
		close(cmd[1]);
		return cb_fail(c, "pipe: %s", strerror(errno));
	}
	pid_t pid = cb_fork(c);
	if (pid == 0) {
		/* An older guest's command pipe held open here would never EOF. */
		for (int k = 0; k < gi; k++)
			close(v->g[k].cmd_fd), close(v->g[k].ack_fd);
		close(cmd[1]);
		close(ack[0]);
		guest_main(v, gi, cmd[0], ack[1]);
	}
	close(cmd[0]);
	close(ack[1]);
	if (pid < 0) {
		close(cmd[1]);
		close(ack[0]);
		return cb_fail(c, "fork: %s", strerror(errno));
	}
	v->g[gi] = (struct guest){ pid, cmd[1], ack[0] };
	return 0;
}

/* The address each guest reports must be ours: they were forked after mmap. */
static int await_guests(struct cb_ctx *c, struct vms *v)
{
	for (int i = 0; i < v->n; i++) {
		uintptr_t addr = 0;
		if (read_full(v->g[i].ack_fd, &addr, sizeof addr) || !addr)
			return cb_fail(c, "guest %d failed to start (MADV_MERGEABLE refused?)", i);
		if (addr != (uintptr_t)v->buf)
			return cb_fail(c, "guest %d reports buffer %#lx, expected %p", i,
				       (unsigned long)addr, (void *)v->buf);
	}
	return 0;
}

static int send_cmd(struct vms *v, int gi, struct cmd m)
{
	return write(v->g[gi].cmd_fd, &m, sizeof m) == sizeof m ? 0 : -1;
}

static int await_ack(struct vms *v, int gi)
{
	char ok;
	return read_full(v->g[gi].ack_fd, &ok, 1);
}

static int setup(struct cb_ctx *c)
{
	struct vms *v = cb_priv(c);
	v->ps = cb_page_size();
	v->len = cb_opt_u64(c, "size") / v->ps * v->ps;
	v->pages = v->len / v->ps;
	v->image = (size_t)(cb_opt_double(c, "image_fraction") * (double)v->pages);
	v->zero = (size_t)(cb_opt_double(c, "zero_fraction") * (double)v->pages);
	v->n = (int)cb_opt_u64(c, "guests");
	if (v->image + v->zero > v->pages)
		return cb_fail(c, "image_fraction + zero_fraction exceed 1");
	/* storm: one slice per guest; last-mapper: one more slice. */
	if ((uint64_t)(v->n + 1) * cb_opt_u64(c, "write_pages") > v->image)
		return cb_fail(c, "(guests + 1) * write_pages = %llu exceeds the %zu image pages",
			       (unsigned long long)((uint64_t)(v->n + 1) *
						    cb_opt_u64(c, "write_pages")), v->image);
	v->g = calloc((size_t)v->n, sizeof *v->g);
	for (int i = 0; i < v->n; i++)
		v->g[i].pid = -1;
	v->buf = mmap(NULL, v->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->buf == MAP_FAILED) {
		v->buf = NULL;
		return cb_fail(c, "mmap %zu bytes failed", v->len);
	}
	/* KSM splits huge pages before merging; keep 4K pages from the start. */
	madvise(v->buf, v->len, MADV_NOHUGEPAGE);
	cb_ksm_note_others(c);
	for (int i = 0; i < v->n; i++)
		if (start_guest(c, v, i))
			return -1;
	return await_guests(c, v);
}

static int settle_phase(struct cb_ctx *c, struct vms *v)
{
	uint32_t count = (uint32_t)cb_opt_u64(c, "write_pages");
	size_t last = (size_t)v->n * count * v->ps;
	/* The last-mapper slice of every guest is tracked so that the snapshot
	 * after merging sees the guests share its frames: that is the KSM
	 * evidence where kpageflags marks every anon page KSM (6.12). Nothing
	 * is written here, so merges count neither as copies nor as reuses. */
	cb_track_clear(c);
	for (int i = 0; i < v->n; i++)
		if (cb_track(c, v->g[i].pid, v->buf + last, (size_t)count * v->ps))
			return -1;
	pid_t pids[v->n];
	for (int i = 0; i < v->n; i++)
		pids[i] = v->g[i].pid;
	struct cb_ksm_scan scan = { cb_opt_u64(c, "pages_to_scan"), cb_opt_u64(c, "sleep_ms"),
				    (unsigned)cb_opt_u64(c, "settle_timeout") };
	cb_phase_begin(c, "settle");
	if (cb_ksm_settle(c, pids, v->n, &scan))
		return -1;
	cb_phase_metric(c, "mergeable_pages", (double)((v->image + v->zero) * (size_t)v->n),
			"pages");
	cb_phase_end(c);
	return 0;
}

static uint64_t private_dirty_sum(const struct vms *v)
{
	uint64_t sum = 0, b;
	for (int i = 0; i < v->n; i++)
		if (!cb_private_dirty(v->g[i].pid, &b))
			sum += b;
	return sum;
}

/* Guests [0, writers) write slice first + k*count of the image at once. */
static int write_phase(struct cb_ctx *c, struct vms *v, const char *name, int writers,
		       uint32_t first)
{
	uint32_t count = (uint32_t)cb_opt_u64(c, "write_pages");
	cb_track_clear(c);
	for (int i = 0; i < writers; i++)
		if (cb_track(c, v->g[i].pid, v->buf + (size_t)(first + (uint32_t)i * count) * v->ps,
			     (size_t)count * v->ps))
			return -1;
	v->phase_tag += 256;
	uint64_t dirty0 = private_dirty_sum(v);
	cb_phase_begin(c, name);
	for (int i = 0; i < writers; i++) {
		struct cmd m = { OP_WRITE, first + (uint32_t)i * count, count,
				 (uint32_t)cb_opt_u64(c, "rate"), WRITE_TAG + v->phase_tag + (uint64_t)i };
		if (send_cmd(v, i, m))
			return cb_fail(c, "guest %d is gone", i);
	}
	for (int i = 0; i < writers; i++)
		if (await_ack(v, i))
			return cb_fail(c, "guest %d did not finish its writes", i);
	cb_phase_ops(c, (uint64_t)writers * count);
	/* Memory re-grown: a copy of a page others still map is new memory; a
	 * copy of a single mapper's KSM page frees that page again. Private_Dirty
	 * moves by exactly that (shared KSM pages count as Shared_Dirty). */
	int64_t grown = (int64_t)private_dirty_sum(v) - (int64_t)dirty0;
	cb_phase_metric(c, "regrown_bytes", (double)grown, "bytes");
	cb_phase_end(c);
	return 0;
}

/* All guests but guest 0 drop the slice: its KSM pages keep one mapper. */
static int drop_others(struct cb_ctx *c, struct vms *v, uint32_t first, uint32_t count)
{
	for (int i = 1; i < v->n; i++)
		if (send_cmd(v, i, (struct cmd){ OP_DROP, first, count, 0, 0 }) || await_ack(v, i))
			return cb_fail(c, "guest %d did not drop its pages", i);
	return 0;
}

static int run(struct cb_ctx *c)
{
	struct vms *v = cb_priv(c);
	uint32_t count = (uint32_t)cb_opt_u64(c, "write_pages");
	if (settle_phase(c, v))
		return -1;
	if (write_phase(c, v, "storm-shared", v->n, 0))
		return -1;
	uint32_t last = (uint32_t)v->n * count;
	if (drop_others(c, v, last, count))
		return -1;
	return write_phase(c, v, "last-mapper", 1, last);
}

static void teardown(struct cb_ctx *c)
{
	struct vms *v = cb_priv(c);
	if (!v)
		return;
	for (int i = 0; v->g && i < v->n; i++) {
		if (v->g[i].pid <= 0)
			continue;
		close(v->g[i].cmd_fd); /* EOF: the guest exits */
		close(v->g[i].ack_fd);
		cb_reap(v->g[i].pid);
	}
	if (v->buf)
		munmap(v->buf, v->len);
	free(v->g);
}

const struct cb_workload cb_wl_ksm_vms = {
	.name = "ksm-vms",
	.summary = "similar guests merged by KSM, then writing: COW breaks of KSM pages with "
		   "several mappers and with a single one",
	.scenarios = "S5a S5b",
	.opts = opts,
	.needs = CB_NEED_ROOT | CB_NEED_KSM,
	.priv_size = sizeof(struct vms),
	.footprint = 1, /* each guest holds size before KSM merges it; writes copy only write_pages */
	.footprint_per = "guests",
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
