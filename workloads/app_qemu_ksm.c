/* app:qemu-ksm: real QEMU guests (TCG) booting the same kernel and the
 * same initramfs, whose RAM QEMU marks mergeable. Each guest's /init
 * (cowbench-ksm-init, workloads/guest/ksm_init.c) holds write_pages pages
 * with the same content in every guest. Measured on the QEMU processes'
 * guest RAM, all of it:
 *   settle           KSM on until merging settles: settle time, pages shared
 *   several-mappers  guests 1..n-1 rewrite their pages: each write breaks a
 *                    KSM page that other guests still map (a necessary copy)
 *   last-mapper      guest 0 rewrites its pages: each KSM page has one mapper
 *                    left, reused by the mapcount era, copied since 5.9
 * Besides the guest's writes the guest kernel writes its own pages (timers,
 * page tables, slab): those are counted too, as they are on a real host.
 * It is the kernel running QEMU, this machine's, that is measured. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cowbench.h"

#define MAX_GUESTS 8
#define INIT_NAME "cowbench-ksm-init"
#define QEMU "qemu-system-x86_64"
#define WRITE_TAG 0x77726974650000ull /* + phase << 8 + guest */

struct guest {
	pid_t qemu;
	int ctl;
	uintptr_t ram;
};

struct qk {
	int n;
	struct guest g[MAX_GUESTS];
	char dir[64];
	char release[80];
	size_t ram_len;
	uint64_t pages;
};

static const struct cb_opt opts[] = {
	{ .name = "guests", .type = CB_OPT_U64, .def = "2", .min = 2, .max = MAX_GUESTS,
	  .help = "QEMU guests" },
	{ .name = "size", .type = CB_OPT_SIZE, .def = "256M", .min = 128 << 20, .max = 2ull << 30,
	  .help = "RAM of each guest" },
	{ .name = "write_pages", .type = CB_OPT_U64, .def = "2048", .min = 1, .max = 16384,
	  .help = "pages each guest holds with the same content, and rewrites" },
	{ .name = "kernel", .type = CB_OPT_PATH, .def = "auto",
	  .help = "guest kernel: a scripts/kernels/fetch directory or a bzImage (auto: the "
		  "first of $COWBENCH_KERNELS/{bookworm,trixie,bullseye,sid}, then "
		  "/boot/vmlinuz-$(uname -r))" },
	{ .name = "boot_timeout", .type = CB_OPT_U64, .def = "180", .min = 5, .max = 3600,
	  .help = "seconds for a guest to boot and fill its pages" },
	{ .name = "pages_to_scan", .type = CB_OPT_U64, .def = "16384", .min = 1,
	  .max = 1u << 30, .help = "KSM pages_to_scan while settling" },
	{ .name = "settle_timeout", .type = CB_OPT_U64, .def = "300", .min = 1, .max = 86400,
	  .help = "seconds to wait for merging to settle" },
	CB_OPT_END
};

/* ---- what to boot ------------------------------------------------------ */

static bool readable(const char *path)
{
	return !access(path, R_OK);
}

static int kernel_in(const char *dir, char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s/vmlinuz", dir) >= len)
		return -1;
	return readable(out) ? 0 : -1;
}

static int find_kernel(const char *opt, char *out, size_t len)
{
	struct stat st;
	if (strcmp(opt, "auto")) {
		if (!stat(opt, &st) && S_ISDIR(st.st_mode))
			return kernel_in(opt, out, len);
		snprintf(out, len, "%s", opt);
		return readable(out) ? 0 : -1;
	}
	const char *cache = getenv("COWBENCH_KERNELS");
	const char *suites[] = { "bookworm", "trixie", "bullseye", "sid" };
	char dir[512];
	for (size_t i = 0; i < sizeof suites / sizeof *suites; i++) {
		snprintf(dir, sizeof dir, "%s/%s", cache ? cache : "/var/cache/cowbench/kernels",
			 suites[i]);
		if (!kernel_in(dir, out, len))
			return 0;
	}
	struct utsname u;
	uname(&u);
	snprintf(out, len, "/boot/vmlinuz-%s", u.release);
	return readable(out) ? 0 : -1;
}

static int find_init(char *out, size_t len)
{
	char exe[400];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return -1;
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	snprintf(out, len, "%s/" INIT_NAME, exe);
	if (!access(out, X_OK))
		return 0;
	snprintf(out, len, "%s/../libexec/cowbench/" INIT_NAME, exe);
	return access(out, X_OK);
}

/* ---- the initramfs: one file, /init, in the kernel's newc cpio format -- */

static int cpio_entry(FILE *f, const char *name, unsigned mode, const void *data, size_t len)
{
	size_t nlen = strlen(name) + 1;
	fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 1u, mode, 0u,
		0u, 1u, 0u, len, 0u, 0u, 0u, 0u, nlen, 0u);
	fwrite(name, 1, nlen, f);
	for (size_t pad = (110 + nlen) % 4; pad && pad < 4; pad++)
		fputc(0, f);
	if (len)
		fwrite(data, 1, len, f);
	for (size_t pad = len % 4; pad && pad < 4; pad++)
		fputc(0, f);
	return ferror(f) ? -1 : 0;
}

static int write_initramfs(const char *init, const char *out)
{
	FILE *in = fopen(init, "rb"), *f = fopen(out, "wbe");
	char *data = NULL;
	long len = -1;
	if (in && !fseek(in, 0, SEEK_END) && (len = ftell(in)) > 0 && !fseek(in, 0, SEEK_SET)) {
		data = malloc((size_t)len);
		if (!data || fread(data, 1, (size_t)len, in) != (size_t)len)
			len = -1;
	}
	int rc = f && len > 0 && !cpio_entry(f, "init", 0100755, data, (size_t)len) &&
			 !cpio_entry(f, "TRAILER!!!", 0, NULL, 0) ? 0 : -1;
	if (in)
		fclose(in);
	if (f && fclose(f))
		rc = -1;
	free(data);
	return rc;
}

/* ---- the guests -------------------------------------------------------- */

static void start_qemu(struct cb_ctx *c, struct qk *q, int i, const char *kernel)
{
	char mem[32], initrd[96], append[96], console[112], ctl[112];
	snprintf(mem, sizeof mem, "%zuM", q->ram_len >> 20);
	snprintf(initrd, sizeof initrd, "%s/initrd.cpio", q->dir);
	snprintf(append, sizeof append, "console=ttyS0 panic=-1 ksm_pages=%llu",
		 (unsigned long long)q->pages);
	snprintf(console, sizeof console, "file:%s/console-%d.log", q->dir, i);
	snprintf(ctl, sizeof ctl, "unix:%s/ctl-%d.sock,server=on,wait=off", q->dir, i);
	const char *qemu = QEMU;
	/* One TCG thread, as scripts/vm/lib.sh boots its guests. */
	const char *argv[] = { qemu, "-accel", "tcg,thread=single", "-cpu", "max", "-smp", "1",
		"-m", mem, "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
		"-kernel", kernel, "-initrd", initrd, "-append", append, "-serial", console,
		"-serial", ctl, NULL };
	q->g[i].qemu = cb_fork(c);
	if (q->g[i].qemu == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execvp(qemu, (char *const *)argv);
		_exit(127);
	}
}

static bool qemu_gone(struct guest *g)
{
	if (g->qemu > 0 && waitpid(g->qemu, NULL, WNOHANG) == g->qemu)
		g->qemu = 0;
	return g->qemu <= 0;
}

static int connect_ctl(struct qk *q, int i, uint64_t deadline)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s/ctl-%d.sock", q->dir, i);
	while (cb_now_ns() < deadline && !qemu_gone(&q->g[i])) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a))
			return fd;
		if (fd >= 0)
			close(fd);
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* One line from a guest, within the deadline; -1 on timeout or EOF. */
static int guest_line(struct guest *g, char *line, size_t len, uint64_t deadline)
{
	size_t k = 0;
	for (;;) {
		uint64_t now = cb_now_ns();
		if (now >= deadline)
			return -1;
		struct pollfd p = { g->ctl, POLLIN, 0 };
		int ms = (int)((deadline - now) / 1000000 + 1);
		if (poll(&p, 1, ms) <= 0)
			continue;
		char ch;
		if (read(g->ctl, &ch, 1) != 1)
			return -1;
		if (ch == '\n') {
			line[k] = 0;
			return 0;
		}
		if (k + 1 < len && ch != '\r')
			line[k++] = ch;
	}
}

static int guest_say(struct guest *g, const char *text)
{
	size_t n = strlen(text);
	return write(g->ctl, text, n) == (ssize_t)n ? 0 : -1;
}

/* The last line of a guest's serial console: why it did not answer. */
static void console_tail(const struct qk *q, int i, char *out, size_t len)
{
	char path[112], line[256] = "(empty console)";
	snprintf(path, sizeof path, "%s/console-%d.log", q->dir, i);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof line, f))
		;
	if (f)
		fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	snprintf(out, len, "%s", line);
}

static int await_ready(struct cb_ctx *c, struct qk *q, int i, uint64_t deadline)
{
	char line[160], tail[256];
	unsigned long long pages;
	if (q->g[i].ctl < 0 || guest_line(&q->g[i], line, sizeof line, deadline) ||
	    sscanf(line, "ready %llu %79s", &pages, q->release) != 2 || pages != q->pages) {
		console_tail(q, i, tail, sizeof tail);
		return cb_fail(c, "guest %d %s within %llu s; its console's last line: %s", i,
			       qemu_gone(&q->g[i]) ? "ended" : "did not report ready",
			       (unsigned long long)cb_opt_u64(c, "boot_timeout"), tail);
	}
	return guest_say(&q->g[i], "ack\n");
}

/* QEMU's guest RAM: the anonymous mapping of exactly -m bytes. */
static int find_ram(struct cb_ctx *c, struct qk *q, int i)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)q->g[i].qemu);
	FILE *f = fopen(path, "re");
	if (!f)
		return cb_fail(c, "cannot read %s: %s", path, strerror(errno));
	while (!q->g[i].ram && fgets(line, sizeof line, f)) {
		unsigned long a, b;
		char perms[8], name[300] = "";
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %299[^\n]", &a, &b, perms, name) >= 3 &&
		    b - a == q->ram_len && !strcmp(perms, "rw-p") && !name[0])
			q->g[i].ram = a;
	}
	fclose(f);
	if (!q->g[i].ram)
		return cb_fail(c, "no %zu MiB anonymous mapping in QEMU pid %d", q->ram_len >> 20,
			       (int)q->g[i].qemu);
	return 0;
}

static int need_tools(struct cb_ctx *c, char *kernel, size_t klen, char *init, size_t ilen)
{
	if (!cb_on_path(QEMU))
		return cb_skip(c, QEMU " not found (scripts/setup.sh --vm installs qemu-system-x86)");
	if (find_kernel(cb_opt_str(c, "kernel"), kernel, klen))
		return cb_skip(c, "no guest kernel (%s): run scripts/kernels/fetch bookworm, or "
				  "pass -o kernel=DIR|bzImage", kernel);
	if (find_init(init, ilen))
		return cb_skip(c, INIT_NAME " is not beside the cowbench binary (build it)");
	return 0;
}

static int setup(struct cb_ctx *c)
{
	struct qk *q = cb_priv(c);
	char kernel[512], init[512], initrd[96];
	for (int i = 0; i < MAX_GUESTS; i++)
		q->g[i].ctl = -1;
	if (need_tools(c, kernel, sizeof kernel, init, sizeof init))
		return -1;
	q->n = (int)cb_opt_u64(c, "guests");
	q->ram_len = cb_opt_u64(c, "size") >> 20 << 20;
	q->pages = cb_opt_u64(c, "write_pages");
	if (q->pages * cb_page_size() > q->ram_len / 2)
		return cb_fail(c, "write_pages=%llu is more than half of the guest's %zu MiB",
			       (unsigned long long)q->pages, q->ram_len >> 20);
	if (cb_tmpdir(c, "qemu-ksm", q->dir, sizeof q->dir))
		return -1;
	snprintf(initrd, sizeof initrd, "%s/initrd.cpio", q->dir);
	if (write_initramfs(init, initrd))
		return cb_fail(c, "cannot write the initramfs %s from %s", initrd, init);
	cb_ksm_note_others(c);
	for (int i = 0; i < q->n; i++)
		start_qemu(c, q, i, kernel);
	uint64_t deadline = cb_now_ns() + cb_opt_u64(c, "boot_timeout") * 1000000000ull;
	for (int i = 0; i < q->n; i++)
		q->g[i].ctl = q->g[i].qemu > 0 ? connect_ctl(q, i, deadline) : -1;
	for (int i = 0; i < q->n; i++)
		if (await_ready(c, q, i, deadline) || find_ram(c, q, i))
			return -1;
	char pids[MAX_GUESTS * 12] = "";
	for (int i = 0, at = 0; i < q->n; i++)
		at += snprintf(pids + at, sizeof pids - (size_t)at, "%s%d", i ? ", " : "",
			       (int)q->g[i].qemu);
	cb_note(c, "guests", "%d QEMU/TCG guests of %zu MiB booting %s (%s) with the same "
		"initramfs; QEMU pids %s", q->n, q->ram_len >> 20, kernel, q->release, pids);
	cb_note(c, "emulated", "the guests run under TCG: the counts are the host kernel's "
		"decisions and valid; times (settle, per page) are the emulator's");
	return 0;
}

/* ---- the phases -------------------------------------------------------- */

static int track_all(struct cb_ctx *c, struct qk *q)
{
	cb_track_clear(c);
	for (int i = 0; i < q->n; i++)
		if (cb_track(c, q->g[i].qemu, (void *)q->g[i].ram, q->ram_len))
			return -1;
	return 0;
}

static void qemu_pids(const struct qk *q, pid_t *pids)
{
	for (int i = 0; i < q->n; i++)
		pids[i] = q->g[i].qemu;
}

static int settle_phase(struct cb_ctx *c, struct qk *q)
{
	pid_t pids[MAX_GUESTS];
	qemu_pids(q, pids);
	struct cb_ksm_scan scan = { cb_opt_u64(c, "pages_to_scan"), 0,
				    (unsigned)cb_opt_u64(c, "settle_timeout") };
	if (track_all(c, q))
		return -1;
	cb_phase_begin(c, "settle");
	if (cb_ksm_settle(c, pids, q->n, &scan))
		return -1;
	cb_phase_metric(c, "guest_ram_pages", (double)(q->ram_len / cb_page_size() * (size_t)q->n),
			"pages");
	return cb_phase_end(c);
}

/* The guest's "wrote" (a "ready" said before our "ack" arrived may come
 * first). */
static int wrote(struct guest *g, uint64_t deadline)
{
	char line[64];
	while (!guest_line(g, line, sizeof line, deadline))
		if (strncmp(line, "ready ", 6))
			return strncmp(line, "wrote ", 6) ? -1 : 0;
	return -1;
}

/* Guests [first, last] rewrite their pages, all at once. */
static int write_phase(struct cb_ctx *c, struct qk *q, const char *name, int first, int last,
		       uint64_t tag)
{
	cb_phase_begin_opts(c, name, CB_PHASE_UNMARKED_WRITES);
	char cmd[64];
	for (int i = first; i <= last; i++) {
		snprintf(cmd, sizeof cmd, "write %llu\n", (unsigned long long)(tag + (uint64_t)i));
		if (guest_say(&q->g[i], cmd))
			return cb_fail(c, "guest %d is gone", i);
	}
	uint64_t deadline = cb_now_ns() + 120 * 1000000000ull;
	for (int i = first; i <= last; i++)
		if (wrote(&q->g[i], deadline))
			return cb_fail(c, "guest %d did not finish its writes", i);
	uint64_t guest_pages = (uint64_t)(last - first + 1) * q->pages;
	cb_phase_ops(c, guest_pages);
	cb_phase_metric(c, "guest_written_pages", (double)guest_pages, "pages");
	return cb_phase_end(c);
}

static int run(struct cb_ctx *c)
{
	struct qk *q = cb_priv(c);
	uint64_t tag = WRITE_TAG + ((uint64_t)cb_rep(c) << 16);
	if (settle_phase(c, q) || write_phase(c, q, "several-mappers", 1, q->n - 1, tag))
		return -1;
	return write_phase(c, q, "last-mapper", 0, 0, tag + 256);
}

/* ---- leave nothing behind ---------------------------------------------- */

static void stop_guest(struct guest *g)
{
	if (g->ctl >= 0) {
		guest_say(g, "off\n");
		close(g->ctl);
	}
	for (int k = 0; k < 250 && !qemu_gone(g); k++) {
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
	}
	if (!qemu_gone(g)) {
		kill(g->qemu, SIGKILL);
		waitpid(g->qemu, NULL, 0);
	}
}

static void teardown(struct cb_ctx *c)
{
	struct qk *q = cb_priv(c);
	for (int i = 0; i < q->n; i++)
		stop_guest(&q->g[i]);
	cb_tmpdir_remove(q->dir);
}

const struct cb_workload cb_wl_app_qemu_ksm = {
	.name = "app:qemu-ksm",
	.suite = CB_SUITE_APP,
	.summary = "real QEMU/TCG guests merged by KSM; guests rewrite merged pages with "
		   "several mappers, then as the last mapper",
	.scenarios = "S5a S5b",
	.opts = opts,
	.needs = CB_NEED_ROOT | CB_NEED_KSM,
	.priv_size = sizeof(struct qk),
	.op = "page the guests rewrote",
	/* Each guest's RAM (what it touched) plus QEMU's own ~100 MiB. */
	.footprint = 1.5,
	.footprint_per = "guests",
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
