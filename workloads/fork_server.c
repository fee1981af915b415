/* fork-server: a pre-forking server (or Redis with BGSAVE). The parent
 * holds a dirty heap and serves requests that each update a few scattered
 * pages; every `requests` requests it forks a worker (or a snapshot child
 * that reads the whole heap, like BGSAVE) and keeps serving:
 *   fork          the fork itself: latency per GiB, TLB shootdowns per fork
 *   child-alive   requests while the children map the heap: necessary
 *                 copies (S1); copy_bytes is the COW memory
 *   child-exited  requests after the children exited: reuse expected (S2),
 *                 extra copies are pages that carried a stray reference
 * The server is multi-threaded: a COW fault or a fork must flush the TLB of
 * the other CPUs only while the mm is live there, so writer threads run on
 * distinct cores, and during a fork they spin instead of sleeping. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cowbench.h"

#define HUGE_ALIGN (2ul << 20)

enum job { JOB_WRITE, JOB_SPIN, JOB_EXIT };

struct server {
	struct cb_ctx *c;
	char *map, *heap;
	size_t maplen, len, pages, stride, ps;
	int nthreads;
	pthread_t *tids;
	int started; /* threads created */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cv;
	int gate;    /* 0: wait, 1: all threads exist, 2: creation failed, exit */
	pthread_barrier_t start, done;
	bool barriers;
	enum job job;
	size_t wr_pos, wr_count; /* slice of the page permutation to write */
	uint64_t requests, tag;
	atomic_int spinning, stop;
	cpu_set_t orig;          /* main thread's affinity before placement */
	pid_t *kids;
	int *release;            /* write end of each child's release pipe */
	int nkids;
	size_t cursor;           /* next position in the page permutation */
};

struct writer {
	struct server *s;
	int slot;
};

static const struct cb_opt opts[] = {
	{ .name = "size", .type = CB_OPT_SIZE, .def = "256M", .min = 1 << 20, .max = 1ull << 44,
	  .help = "heap the server holds dirty" },
	{ .name = "write_fraction", .type = CB_OPT_DOUBLE, .def = "0.25", .fmin = 0.0001,
	  .fmax = 0.5, .help = "fraction of the heap's pages the requests of one phase update" },
	{ .name = "requests", .type = CB_OPT_U64, .def = "64", .min = 1, .max = 1 << 24,
	  .help = "requests served between forks (and after the children exited)" },
	{ .name = "forks", .type = CB_OPT_U64, .def = "1", .min = 1, .max = 10000,
	  .help = "fork cycles per repetition" },
	{ .name = "workers", .type = CB_OPT_U64, .def = "1", .min = 1, .max = 64,
	  .help = "children forked per cycle and alive at the same time" },
	{ .name = "child", .type = CB_OPT_ENUM, .def = "worker", .choices = "worker|snapshot",
	  .help = "worker: child only maps the heap; snapshot: child reads it all (BGSAVE)" },
	{ .name = "threads", .type = CB_OPT_U64, .def = "2", .min = 1, .max = 256,
	  .help = "server threads writing (placed on distinct cores; the main one forks)" },
	{ .name = "thp", .type = CB_OPT_BOOL, .def = "off",
	  .help = "back the heap with transparent huge pages (MADV_HUGEPAGE)" },
	CB_OPT_END
};

/* Page index of permutation position i: a stride coprime with the page
 * count visits every page once per round, scattered like hash updates. */
static size_t page_at(const struct server *s, size_t i)
{
	return (size_t)(((uint64_t)(i % s->pages) * s->stride) % s->pages);
}

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static size_t pick_stride(size_t pages)
{
	size_t st = pages * 5 / 8 + 1;
	while (gcd(st, pages) != 1)
		st++;
	return st % pages ? st : 1;
}

/* Requests t, t+T, t+2T... of the current slice, each a run of pages. */
static void serve(struct server *s, int t)
{
	for (uint64_t r = (uint64_t)t; r < s->requests; r += (uint64_t)s->nthreads) {
		size_t lo = (size_t)(s->wr_count * r / s->requests);
		size_t hi = (size_t)(s->wr_count * (r + 1) / s->requests);
		for (size_t k = lo; k < hi; k++)
			cb_fresh_write(s->heap + page_at(s, s->wr_pos + k) * s->ps, s->tag);
	}
}

static void spin(struct server *s)
{
	atomic_fetch_add(&s->spinning, 1);
	while (!atomic_load(&s->stop))
		__asm__ __volatile__("pause");
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct server *s = w->s;
	char who[32];
	snprintf(who, sizeof who, "server-thread-%d", w->slot);
	cb_place_thread(s->c, who, w->slot);
	/* The barriers count every thread: none may enter them before all exist. */
	pthread_mutex_lock(&s->gate_lock);
	while (!s->gate)
		pthread_cond_wait(&s->gate_cv, &s->gate_lock);
	int gate = s->gate;
	pthread_mutex_unlock(&s->gate_lock);
	while (gate == 1) {
		pthread_barrier_wait(&s->start);
		if (s->job == JOB_EXIT)
			break;
		if (s->job == JOB_WRITE)
			serve(s, w->slot);
		else
			spin(s);
		pthread_barrier_wait(&s->done);
	}
	free(w);
	return NULL;
}

/* The main thread is writer 0; the others follow s->job. */
static void write_slice(struct server *s, size_t pos, size_t count)
{
	s->wr_pos = pos;
	s->wr_count = count;
	s->tag++;
	s->job = JOB_WRITE;
	pthread_barrier_wait(&s->start);
	serve(s, 0);
	pthread_barrier_wait(&s->done);
}

static void spin_begin(struct server *s)
{
	atomic_store(&s->spinning, 0);
	atomic_store(&s->stop, 0);
	s->job = JOB_SPIN;
	pthread_barrier_wait(&s->start);
	while (atomic_load(&s->spinning) < s->nthreads - 1)
		sched_yield();
}

static void spin_end(struct server *s)
{
	atomic_store(&s->stop, 1);
	pthread_barrier_wait(&s->done);
}

static void open_gate(struct server *s, int state)
{
	pthread_mutex_lock(&s->gate_lock);
	s->gate = state;
	pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->gate_lock);
}

static int start_threads(struct cb_ctx *c, struct server *s)
{
	pthread_mutex_init(&s->gate_lock, NULL);
	pthread_cond_init(&s->gate_cv, NULL);
	if (pthread_barrier_init(&s->start, NULL, (unsigned)s->nthreads) ||
	    pthread_barrier_init(&s->done, NULL, (unsigned)s->nthreads))
		return cb_fail(c, "pthread_barrier_init failed");
	s->barriers = true;
	if (sched_getaffinity(0, sizeof s->orig, &s->orig))
		return cb_fail(c, "sched_getaffinity: %s", strerror(errno));
	if (cb_place_thread(c, "server-thread-0", 0) < 0)
		return cb_fail(c, "cannot place the main server thread");
	s->tids = calloc((size_t)s->nthreads, sizeof *s->tids);
	for (int i = 1; i < s->nthreads; i++) {
		struct writer *w = malloc(sizeof *w);
		*w = (struct writer){ s, i };
		if (pthread_create(&s->tids[i], NULL, writer_main, w)) {
			free(w);
			open_gate(s, 2);
			return cb_fail(c, "pthread_create failed");
		}
		s->started++;
	}
	open_gate(s, 1);
	return 0;
}

static int map_heap(struct cb_ctx *c, struct server *s)
{
	s->maplen = s->len + HUGE_ALIGN;
	s->map = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return cb_fail(c, "mmap %zu bytes failed", s->len);
	}
	/* 2 MiB alignment so that thp=on can really use PMD mappings. */
	s->heap = (char *)(((uintptr_t)s->map + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1));
	madvise(s->heap, s->len, cb_opt_bool(c, "thp") ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return 0;
}

static int setup(struct cb_ctx *c)
{
	struct server *s = cb_priv(c);
	s->c = c;
	s->ps = cb_page_size();
	s->len = cb_opt_u64(c, "size") / s->ps * s->ps;
	s->pages = s->len / s->ps;
	s->stride = pick_stride(s->pages);
	s->nthreads = (int)cb_opt_u64(c, "threads");
	s->requests = cb_opt_u64(c, "requests");
	int max = (int)cb_opt_u64(c, "workers");
	s->kids = calloc((size_t)max, sizeof *s->kids);
	s->release = calloc((size_t)max, sizeof *s->release);
	if (map_heap(c, s) || start_threads(c, s))
		return -1;
	write_slice(s, 0, s->pages); /* the dirty heap: every page once */
	return cb_track(c, getpid(), s->heap, s->len);
}

/* BGSAVE: serialise the heap (here: fold it into a checksum). */
static uint64_t read_heap(const struct server *s)
{
	uint64_t sum = 0;
	for (size_t off = 0; off < s->len; off += 64)
		sum += *(volatile const uint64_t *)(s->heap + off);
	return sum;
}

/* The child maps the heap until its release pipe closes. */
static void child_main(struct server *s, int rd, int wr, bool snapshot)
{
	sched_setaffinity(0, sizeof s->orig, &s->orig);
	close(wr);
	for (int i = 0; i < s->nkids; i++)
		close(s->release[i]); /* or an older child would never see EOF */
	volatile uint64_t sum = snapshot ? read_heap(s) : 0;
	(void)sum;
	char x;
	while (read(rd, &x, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static int fork_child(struct cb_ctx *c, struct server *s, uint64_t *ns)
{
	int p[2];
	if (pipe(p))
		return cb_fail(c, "pipe: %s", strerror(errno));
	bool snapshot = !strcmp(cb_opt_str(c, "child"), "snapshot");
	uint64_t t0 = cb_now_ns();
	pid_t pid = cb_fork(c);
	*ns = cb_now_ns() - t0;
	if (pid == 0)
		child_main(s, p[0], p[1], snapshot);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return cb_fail(c, "fork: %s", strerror(errno));
	}
	s->kids[s->nkids] = pid;
	s->release[s->nkids++] = p[1];
	return 0;
}

static void retire_children(struct server *s)
{
	for (int i = 0; i < s->nkids; i++)
		close(s->release[i]);
	for (int i = 0; i < s->nkids; i++)
		cb_reap(s->kids[i]);
	s->nkids = 0;
}

/* One fork phase, while the other server threads spin on their cores. The
 * heap is not tracked here: a fork copies no page, and two page-tracker
 * snapshots of the whole heap would cost more than the fork itself. */
static int fork_phase(struct cb_ctx *c, struct server *s)
{
	uint64_t ns = 0;
	cb_track_clear(c);
	spin_begin(s);
	cb_phase_begin(c, "fork");
	int rc = fork_child(c, s, &ns);
	cb_phase_ops(c, 1);
	cb_phase_op(c, "fork");
	if (!rc) {
		cb_phase_metric(c, "fork_ns", (double)ns, "ns");
		cb_phase_metric(c, "fork_ns_per_gib", (double)ns * (double)(1ull << 30) /
				(double)s->len, "ns/GiB");
	}
	cb_phase_end(c);
	spin_end(s);
	return rc ? rc : cb_track(c, getpid(), s->heap, s->len);
}

static void write_phase(struct cb_ctx *c, struct server *s, const char *name)
{
	size_t count = (size_t)(cb_opt_double(c, "write_fraction") * (double)s->pages);
	if (!count)
		count = 1;
	cb_phase_begin(c, name);
	write_slice(s, s->cursor, count);
	s->cursor += count;
	cb_phase_ops(c, s->requests);
	cb_phase_metric(c, "pages_written", (double)count, "pages");
	uint64_t dirty;
	/* Redis's "COW memory": the newest child's Private_Dirty (its own
	 * stack and data included; 0 for pages several children share). */
	if (s->nkids && !cb_private_dirty(s->kids[s->nkids - 1], &dirty))
		cb_phase_metric(c, "child_private_dirty_bytes", (double)dirty, "bytes");
	cb_phase_end(c);
}

static int run(struct cb_ctx *c)
{
	struct server *s = cb_priv(c);
	uint64_t forks = cb_opt_u64(c, "forks"), workers = cb_opt_u64(c, "workers");
	for (uint64_t f = 0; f < forks; f++) {
		for (uint64_t w = 0; w < workers; w++)
			if (fork_phase(c, s))
				return -1;
		write_phase(c, s, "child-alive");
		retire_children(s);
		write_phase(c, s, "child-exited");
	}
	return 0;
}

static void stop_threads(struct server *s)
{
	if (s->gate == 1 && s->started) {
		s->job = JOB_EXIT;
		pthread_barrier_wait(&s->start);
	}
	if (s->started) {
		for (int i = 1; i <= s->started; i++)
			pthread_join(s->tids[i], NULL);
	}
	if (s->barriers) {
		pthread_barrier_destroy(&s->start);
		pthread_barrier_destroy(&s->done);
		pthread_mutex_destroy(&s->gate_lock);
		pthread_cond_destroy(&s->gate_cv);
		sched_setaffinity(0, sizeof s->orig, &s->orig);
	}
}

static void teardown(struct cb_ctx *c)
{
	struct server *s = cb_priv(c);
	if (!s)
		return;
	retire_children(s);
	stop_threads(s);
	if (s->map)
		munmap(s->map, s->maplen);
	free(s->tids);
	free(s->kids);
	free(s->release);
}

const struct cb_workload cb_wl_fork_server = {
	.name = "fork-server",
	.summary = "pre-forking server: requests update a dirty heap while forked workers or "
		   "snapshot children live, then after they exited",
	.scenarios = "S1 S2 S9a S9b",
	.opts = opts,
	.needs = 0,
	.priv_size = sizeof(struct server),
	.op = "request",
	.footprint = 2, /* children keep the originals of the pages requests copy */
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
