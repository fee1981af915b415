/* `cowbench bench`: what cowbench's own instruments cost. Three figures,
 * printed, never judged:
 *   overhead  the same workload phase run bare (no tracker, counters or
 *             perf events) and with every instrument, in interleaved
 *             rounds; ratio of medians, spread of the per-round ratios.
 *             fork-basic also gets two plain C loops (one byte stored per
 *             page, and the whole page written as the workload does) and
 *             a perf-only run, which together say where a difference
 *             between a hand-written loop and cowbench comes from.
 *   tracker   GiB of tracked memory snapshotted per second (pagemap +
 *             kpagecount + kpageflags) at several sizes;
 *   cost      the instrument's own wall time and peak memory around one
 *             phase, against tracked size.
 * Variants run in a rotating order, so drift from other load on the
 * machine spreads over all of them instead of biasing one. */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_ROUNDS 101

/* ---- small statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of the finite values of v (NAN when none); v is reordered. */
static double median(double *v, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		if (isfinite(v[i]))
			v[k++] = v[i];
	if (!k)
		return NAN;
	qsort(v, (size_t)k, sizeof *v, cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static void min_max(const double *v, int n, double *lo, double *hi)
{
	*lo = INFINITY;
	*hi = -INFINITY;
	for (int i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		*lo = fmin(*lo, v[i]);
		*hi = fmax(*hi, v[i]);
	}
}

/* ---- the plain C loop: fork-basic without cowbench ---- */

static void loop_write(char *buf, size_t len, bool whole_page, uint64_t tag)
{
	size_t ps = cb_page_size();
	for (size_t off = 0; off < len; off += ps) {
		if (whole_page)
			cb_fresh_write(buf + off, tag);
		else
			((volatile char *)buf)[off] = (char)tag;
	}
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One timed write of the whole region: wall and CPU ns per page. */
static void timed_write(char *buf, size_t len, bool whole_page, uint64_t tag, double *wall,
			double *cpu)
{
	double pages = (double)(len / cb_page_size());
	uint64_t c0 = cpu_ns(), t0 = cb_now_ns();
	loop_write(buf, len, whole_page, tag);
	*wall = (double)(cb_now_ns() - t0) / pages;
	*cpu = (double)(cpu_ns() - c0) / pages;
}

/* ns per page of the write while a child maps the region (copy) and after
 * it was reaped and a second child forked and exited (reuse): the same
 * steps as fork-basic, timed with the same clocks.
 * wall[phase], cpu[phase]; wall[2], cpu[2]: the same write once more, on
 * pages now writable: the stores alone, without a fault. */
static int plain_loop(size_t len, bool whole_page, double wall[3], double cpu[3])
{
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int p[2];
	if (buf == MAP_FAILED || pipe(p))
		return -1;
	madvise(buf, len, MADV_NOHUGEPAGE);
	loop_write(buf, len, true, 1);
	pid_t child = fork();
	if (child == 0) {
		char x;
		close(p[1]);
		while (read(p[0], &x, 1) < 0)
			;
		_exit(0);
	}
	close(p[0]);
	timed_write(buf, len, whole_page, 2, &wall[0], &cpu[0]);
	close(p[1]);
	waitpid(child, NULL, 0);
	if ((child = fork()) == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	timed_write(buf, len, whole_page, 3, &wall[1], &cpu[1]);
	timed_write(buf, len, whole_page, 4, &wall[2], &cpu[2]);
	munmap(buf, len);
	return child < 0 ? -1 : 0;
}

/* ---- one workload run, reduced to ns per operation of some phases ---- */

/* Wall and harness-CPU ns per operation of one phase (NAN when absent). */
static void phase_figures(json_t *wj, const char *name, double *wall, double *cpu)
{
	*wall = *cpu = NAN;
	json_t *rep = json_array_get(json_object_get(wj, "reps"), 0), *ph;
	size_t i;
	if (json_is_string(json_object_get(rep, "error")))
		fprintf(stderr, "cowbench bench: %s: %s\n",
			json_string_value(json_object_get(wj, "name")),
			json_string_value(json_object_get(rep, "error")));
	json_array_foreach(json_object_get(rep, "phases"), i, ph) {
		const char *n = json_string_value(json_object_get(ph, "name"));
		if (!n || strcmp(n, name))
			continue;
		json_t *v = json_object_get(ph, "ns_per_op"), *ops = json_object_get(ph, "ops");
		json_t *c = json_object_get(json_object_get(ph, "counters"), "harness.cpu_ns");
		if (json_is_number(v))
			*wall = json_number_value(v);
		if (json_is_integer(c) && json_integer_value(ops) > 0)
			*cpu = (double)json_integer_value(c) / (double)json_integer_value(ops);
	}
}

struct target {
	const char *workload;
	const char *kv[4];
	const char *phase[2];
};

static void run_target(const struct target *t, const char *size, unsigned bare,
		       double wall[2], double cpu[2])
{
	const char *kv[4];
	int nkv = 0;
	while (nkv < 4 && t->kv[nkv]) {
		kv[nkv] = t->kv[nkv];
		nkv++;
	}
	struct cb_run_opts o = { .reps = 1, .kv = kv, .nkv = nkv, .size = size, .bare = bare };
	char err[256];
	json_t *wj = cb_runner_opts(t->workload, &o, err, sizeof err);
	if (!wj)
		fprintf(stderr, "cowbench bench: %s: %s\n", t->workload, err);
	for (int i = 0; i < 2; i++) {
		wall[i] = cpu[i] = NAN;
		if (wj && t->phase[i])
			phase_figures(wj, t->phase[i], &wall[i], &cpu[i]);
	}
	json_decref(wj);
}

/* ---- overhead: variants × rounds ---- */

enum variant { V_LOOP_BYTE, V_LOOP_PAGE, V_BARE, V_PERF, V_FULL, NVARIANTS };

static const char *const variant_names[NVARIANTS] = { "loop-1B", "loop-page", "bare", "perf",
						      "full" };

enum clock { WALL, CPU, NCLOCKS };

struct samples {
	double ns[NVARIANTS][NCLOCKS][2][MAX_ROUNDS]; /* variant, clock, phase, round */
	double store[2][MAX_ROUNDS]; /* plain loops: CPU ns/page of the stores alone */
	bool used[NVARIANTS];
	int rounds;
};

static void run_variant(const struct target *t, const char *size, size_t bytes, enum variant v,
			double wall[3], double cpu[3])
{
	wall[0] = wall[1] = wall[2] = cpu[0] = cpu[1] = cpu[2] = NAN;
	switch (v) {
	case V_LOOP_BYTE:
	case V_LOOP_PAGE:
		if (plain_loop(bytes, v == V_LOOP_PAGE, wall, cpu))
			fprintf(stderr, "cowbench bench: plain loop: mmap/pipe/fork failed\n");
		break;
	case V_BARE: run_target(t, size, CB_BARE_ALL, wall, cpu); break;
	case V_PERF: run_target(t, size, CB_BARE_TRACKER | CB_BARE_COUNTERS, wall, cpu); break;
	case V_FULL: run_target(t, size, 0, wall, cpu); break;
	default: break;
	}
}

static void collect(const struct target *t, const char *size, size_t bytes, struct samples *s)
{
	int nused = 0;
	enum variant order[NVARIANTS];
	for (int v = 0; v < NVARIANTS; v++)
		if (s->used[v])
			order[nused++] = (enum variant)v;
	for (int r = 0; r < s->rounds; r++) {
		if (isatty(2))
			fprintf(stderr, "\r%s: round %d/%d ", t->workload, r + 1, s->rounds);
		/* Rotate, and reverse every other round: no variant always runs
		 * first or right after the same other one. */
		for (int k = 0; k < nused; k++) {
			int at = (r + k) % nused;
			enum variant v = order[r % 2 ? nused - 1 - at : at];
			double wall[3], cpu[3];
			run_variant(t, size, bytes, v, wall, cpu);
			if (v == V_LOOP_BYTE || v == V_LOOP_PAGE)
				s->store[v == V_LOOP_PAGE][r] = cpu[2];
			for (int ph = 0; ph < 2; ph++) {
				s->ns[v][WALL][ph][r] = wall[ph];
				s->ns[v][CPU][ph][r] = cpu[ph];
			}
		}
	}
	if (isatty(2))
		fprintf(stderr, "\r%*s\r", 40, "");
}

/* Ratio of the medians of a and b, and min-max of the per-round ratios. */
static void ratio_cell(const double *a, const double *b, int n, char *out, size_t len)
{
	double r[MAX_ROUNDS], ca[MAX_ROUNDS], cb[MAX_ROUNDS], lo, hi;
	for (int i = 0; i < n; i++) {
		r[i] = a[i] / b[i];
		ca[i] = a[i];
		cb[i] = b[i];
	}
	min_max(r, n, &lo, &hi);
	double med = median(ca, n) / median(cb, n);
	if (isfinite(med))
		snprintf(out, len, "%.3f [%.2f-%.2f]", med, lo, hi);
	else
		snprintf(out, len, "n/a");
}

static void print_ns_cell(const double *v, int n)
{
	double c[MAX_ROUNDS], lo, hi;
	memcpy(c, v, (size_t)n * sizeof *c);
	min_max(v, n, &lo, &hi);
	double med = median(c, n);
	char buf[48];
	if (isfinite(med))
		snprintf(buf, sizeof buf, "%.0f [%.0f-%.0f]", med, lo, hi);
	else
		snprintf(buf, sizeof buf, "n/a");
	printf(" %19s", buf);
}

struct ratio_def {
	enum variant num, den;
	const char *title;
};

static const struct ratio_def ratios[] = {
	{ V_FULL, V_BARE, "full/bare" },
	{ V_PERF, V_BARE, "perf/bare" },
	{ V_BARE, V_LOOP_PAGE, "bare/loop-page" },
	{ V_LOOP_PAGE, V_LOOP_BYTE, "loop-page/loop-1B" },
	{ V_FULL, V_LOOP_BYTE, "full/loop-1B" },
};

static void print_overhead(const struct target *t, const struct samples *s, enum clock k)
{
	printf("  %s ns per page, median [min-max]:\n", k == WALL ? "wall" : "CPU (harness process)");
	printf("  %-14s", "phase");
	for (int v = 0; v < NVARIANTS; v++)
		if (s->used[v])
			printf(" %19s", variant_names[v]);
	printf("\n");
	for (int ph = 0; ph < 2 && t->phase[ph]; ph++) {
		printf("  %-14s", t->phase[ph]);
		for (int v = 0; v < NVARIANTS; v++)
			if (s->used[v])
				print_ns_cell(s->ns[v][k][ph], s->rounds);
		printf("\n");
	}
	printf("  ratio of medians [min-max of the %d per-round ratios]:\n", s->rounds);
	for (size_t i = 0; i < sizeof ratios / sizeof *ratios; i++) {
		const struct ratio_def *d = &ratios[i];
		if (!s->used[d->num] || !s->used[d->den])
			continue;
		printf("    %-18s", d->title);
		for (int ph = 0; ph < 2 && t->phase[ph]; ph++) {
			char cell[64];
			ratio_cell(s->ns[d->num][k][ph], s->ns[d->den][k][ph], s->rounds, cell,
				   sizeof cell);
			printf("  %s %-22s", t->phase[ph], cell);
		}
		printf("\n");
	}
}

static void overhead(const struct cb_bench_opts *o)
{
	static const struct target fork_basic = { "fork-basic", { NULL },
						  { "child-alive", "child-reaped" } };
	/* Its worker does the work, not the harness process: wall time only. */
	static const struct target pressure = { "swap-thrash", { NULL }, { "fill", "thrash" } };
	static struct samples s; /* large: not on the stack */
	uint64_t bytes = 0;
	cb_parse_size(o->size, &bytes); /* checked by check_opts */
	memset(&s, 0, sizeof s);
	s.rounds = o->rounds;
	for (int v = 0; v < NVARIANTS; v++)
		s.used[v] = true;
	printf("overhead: fork-basic --size %s, %d interleaved rounds\n", o->size, s.rounds);
	collect(&fork_basic, o->size, bytes, &s);
	print_overhead(&fork_basic, &s, WALL);
	print_overhead(&fork_basic, &s, CPU);
	/* What separates a 1-byte loop from a whole-page one, fault aside. */
	printf("  stores alone (pages already writable, no fault), CPU ns per page: 1 byte");
	print_ns_cell(s.store[0], s.rounds);
	printf(", whole page");
	print_ns_cell(s.store[1], s.rounds);
	printf("\n");
	fflush(stdout);

	memset(&s, 0, sizeof s);
	s.rounds = o->rounds;
	s.used[V_BARE] = s.used[V_PERF] = s.used[V_FULL] = true;
	printf("\noverhead: swap-thrash (defaults: 32M under a 16M cgroup limit), %d interleaved "
	       "rounds\n", s.rounds);
	collect(&pressure, NULL, 0, &s);
	print_overhead(&pressure, &s, WALL);
	fflush(stdout);
}

/* ---- tracker throughput and the instrument's own cost vs size ---- */

static uint64_t status_kib(const char *key)
{
	char *s = cb_read_file("/proc/self/status", NULL);
	const char *at = s ? strstr(s, key) : NULL;
	unsigned long long v = 0;
	if (at)
		sscanf(at + strlen(key), ": %llu", &v);
	free(s);
	return v;
}

struct scan_figures {
	double snap_ms, gib_s, phase_ms, peak_mib;
};

/* One empty phase with the tracker and the counters, as a workload phase
 * gets them: its wall time, and its peak memory above the tracked region
 * (VmHWM, reset through clear_refs 5, against VmRSS before). */
static void phase_cost(char *buf, size_t len, struct scan_figures *f)
{
	struct cb_ctx c;
	cb_ctx_init(&c, NULL, NULL, 0, NULL);
	cb_track(&c, getpid(), buf, len);
	bool hwm = cb_write_file("/proc/self/clear_refs", "5") == 0;
	uint64_t rss = status_kib("VmRSS"), t0 = cb_now_ns();
	cb_phase_begin(&c, "empty");
	cb_phase_end(&c);
	f->phase_ms = (double)(cb_now_ns() - t0) / 1e6;
	f->peak_mib = hwm ? (double)(status_kib("VmHWM") - rss) / 1024 : NAN;
	json_decref(cb_ctx_finish(&c));
}

static int scan_size(uint64_t len, struct scan_figures *f)
{
	char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -1;
	/* 4 KiB pages, as the workloads use them: a THP would be one run
	 * of consecutive PFNs and flatter the tracker. */
	madvise(buf, len, MADV_NOHUGEPAGE);
	loop_write(buf, len, false, 1);
	double ms[3];
	for (int i = 0; i < 3; i++) {
		struct cb_region r = { getpid(), (uintptr_t)buf, len };
		struct cb_track_snap snap;
		uint64_t t0 = cb_now_ns();
		int rc = cb_track_snapshot(&r, 1, &snap);
		ms[i] = (double)(cb_now_ns() - t0) / 1e6;
		if (rc || !snap.pfn_ok)
			fprintf(stderr, "cowbench bench: snapshot: %s\n", snap.why);
		cb_track_free(&snap);
	}
	f->snap_ms = median(ms, 3);
	f->gib_s = (double)len / (1 << 30) / (f->snap_ms / 1e3);
	phase_cost(buf, len, f);
	munmap(buf, len);
	return 0;
}

static void scan(const struct cb_bench_opts *o)
{
	printf("\ntracker: snapshot of touched 4 KiB pages (pagemap + kpagecount + kpageflags), "
	       "median of 3; one empty phase with tracker + counters\n");
	printf("  %8s %9s %12s %9s %12s %12s %14s %12s\n", "size", "pages", "snapshot-ms",
	       "GiB/s", "phase-ms", "ns/page", "peak-MiB", "B/page");
	char *list = strdup(o->sizes), *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t len = 0;
		cb_parse_size(t, &len); /* checked by check_opts */
		/* The region, twice its snapshots, and room for everyone else. */
		if (len + (len >> 6) > cb_mem_available_bytes() * 9 / 10 && !o->force) {
			printf("  %8s skipped: more than 90%% of MemAvailable (--force)\n", t);
			continue;
		}
		struct scan_figures f;
		if (scan_size(len, &f)) {
			printf("  %8s skipped: mmap failed\n", t);
			continue;
		}
		double pages = (double)(len / cb_page_size());
		printf("  %8s %9.0f %12.1f %9.2f %12.1f %12.1f %14.1f %12.1f\n", t, pages,
		       f.snap_ms, f.gib_s, f.phase_ms, f.phase_ms * 1e6 / pages, f.peak_mib,
		       f.peak_mib * 1048576 / pages);
		fflush(stdout);
	}
	free(list);
}

/* Bad input exits 2 here, before the journal exists. */
static void check_opts(const struct cb_bench_opts *o)
{
	uint64_t v;
	if (o->rounds < 1 || o->rounds > MAX_ROUNDS)
		cb_die_usage("--rounds %d: from 1 to %d", o->rounds, MAX_ROUNDS);
	if (cb_parse_size(o->size, &v) || v < cb_page_size())
		cb_die_usage("invalid size '%s' (--size)", o->size);
	char *list = strdup(o->sizes), *save = NULL;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (cb_parse_size(t, &v) || v < cb_page_size())
			cb_die_usage("invalid size '%s' in --sizes %s", t, o->sizes);
	free(list);
}

/* Bare and full runs change swap and cgroups through the journal, like
 * `run`; the journal is restored when the figures are printed. */
int cb_bench_run(const struct cb_bench_opts *o)
{
	check_opts(o);
	char err[256];
	cb_install_signals();
	if (cb_is_root() && cb_journal_begin(err, sizeof err)) {
		fprintf(stderr, "cowbench: %s\n", err);
		return 1;
	}
	/* A fixed mmap threshold: every large buffer of the tracker is its own
	 * mapping, and its munmap updates VmHWM (the kernel updates the peak
	 * lazily, when RSS shrinks), so the peak figures are the real peak. */
	mallopt(M_MMAP_THRESHOLD, 64 << 10);
	if (!cb_is_root())
		printf("note: not root: no PFNs; the tracker reads pagemap only and the "
		       "figures understate its cost\n");
	if (o->overhead)
		overhead(o);
	if (o->scan)
		scan(o);
	return cb_journal_active() ? cb_journal_restore(false) : 0;
}
