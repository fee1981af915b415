/* app:redis-bgsave: Debian's redis-server on a private loopback port and a
 * temporary directory, a dataset of -o size= made by DEBUG POPULATE, and a
 * paced stream of SETs before, during and after a BGSAVE. The server's
 * anonymous mappings are tracked: during the save every page the server
 * writes is a COW fault while the save child maps it. Redis's own figures
 * (INFO persistence: current_cow_peak, current_cow_size, rdb_last_cow_size)
 * and the child's Private_Dirty go beside cowbench's copies. Redis counts
 * the child's private dirty memory: the old frames of the server's copies
 * (now the child's alone) plus what the child dirties itself (its own
 * allocations, jemalloc metadata, output buffers), sampled about once a
 * second; cowbench counts the server's copies, exactly. */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cowbench.h"

#define VALUE_BYTES 1024
#define KEY_OVERHEAD 96 /* bytes Redis spends per key besides the value */
#define SAVE_LIMIT_S 120
#define REDIS_BIN "/usr/bin/redis-server"

struct redis {
	pid_t server;
	int fd;
	int port;
	char dir[64];
	uint64_t keys;
	uint64_t tag;
	char rbuf[65536];
	size_t rlen, rpos;
};

static const struct cb_opt opts[] = {
	{ .name = "size", .type = CB_OPT_SIZE, .def = "256M", .min = 1 << 20, .max = 1ull << 40,
	  .help = "dataset (DEBUG POPULATE of 1 KiB values)" },
	{ .name = "thp", .type = CB_OPT_BOOL, .def = "off",
	  .help = "let the server use transparent huge pages (THP enabled=always, disable-thp no)" },
	{ .name = "rate", .type = CB_OPT_U64, .def = "5000", .min = 1, .max = 1000000,
	  .help = "SETs per second of the write load" },
	{ .name = "load_s", .type = CB_OPT_DOUBLE, .def = "1", .fmin = 0.1, .fmax = 60,
	  .help = "seconds of write load before and after the save" },
	CB_OPT_END
};

/* ---- a minimal RESP client ------------------------------------------- */

/* Commands are built in one buffer and written whole: small writes of
 * one command would wait on delayed ACKs. */
struct obuf {
	char *b;
	size_t len, cap;
};

static int put(struct obuf *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = (o->len + n) * 2;
		char *b = realloc(o->b, cap);
		if (!b)
			return -1;
		o->b = b;
		o->cap = cap;
	}
	memcpy(o->b + o->len, p, n);
	o->len += n;
	return 0;
}

static int add_cmd(struct obuf *o, int argc, const char *const *argv, const size_t *len)
{
	char head[64];
	int n = snprintf(head, sizeof head, "*%d\r\n", argc), rc = put(o, head, (size_t)n);
	for (int i = 0; i < argc; i++) {
		size_t l = len ? len[i] : strlen(argv[i]);
		n = snprintf(head, sizeof head, "$%zu\r\n", l);
		rc |= put(o, head, (size_t)n) | put(o, argv[i], l) | put(o, "\r\n", 2);
	}
	return rc;
}

static int flush_out(struct redis *r, struct obuf *o)
{
	size_t done = 0;
	while (done < o->len) {
		ssize_t n = write(r->fd, o->b + done, o->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	o->len = 0;
	return 0;
}

static int send_cmd(struct redis *r, int argc, const char *const *argv, const size_t *len)
{
	struct obuf o = { 0 };
	int rc = add_cmd(&o, argc, argv, len) || flush_out(r, &o) ? -1 : 0;
	free(o.b);
	return rc;
}

static int get_byte(struct redis *r)
{
	if (r->rpos == r->rlen) {
		ssize_t n = read(r->fd, r->rbuf, sizeof r->rbuf);
		if (n <= 0)
			return -1;
		r->rlen = (size_t)n;
		r->rpos = 0;
	}
	return (unsigned char)r->rbuf[r->rpos++];
}

static int get_line(struct redis *r, char *line, size_t len)
{
	size_t k = 0;
	for (int ch; (ch = get_byte(r)) >= 0;) {
		if (ch == '\n') {
			line[k > 0 && line[k - 1] == '\r' ? k - 1 : k] = 0;
			return 0;
		}
		if (k + 1 < len)
			line[k++] = (char)ch;
	}
	return -1;
}

/* One reply; a bulk string's body goes to out (truncated to outlen).
 * Returns the reply's type character, or -1. */
static int reply(struct redis *r, char *out, size_t outlen)
{
	char line[256];
	if (get_line(r, line, sizeof line))
		return -1;
	snprintf(out, outlen, "%s", line + 1);
	if (line[0] != '$')
		return line[0];
	long n = atol(line + 1);
	size_t k = 0;
	for (long i = 0; i < n + 2; i++) {
		int ch = get_byte(r);
		if (ch < 0)
			return -1;
		if (i < n && k + 1 < outlen)
			out[k++] = (char)ch;
	}
	if (outlen)
		out[k < outlen ? k : outlen - 1] = 0;
	return '$';
}

static int call(struct redis *r, char *out, size_t outlen, int argc, const char *const *argv)
{
	char dummy[256];
	if (send_cmd(r, argc, argv, NULL))
		return -1;
	int t = reply(r, out ? out : dummy, out ? outlen : sizeof dummy);
	return t == '-' || t < 0 ? -1 : 0;
}

/* ---- the server ------------------------------------------------------ */

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int port = -1;
	if (s >= 0 && !bind(s, (struct sockaddr *)&a, sizeof a) &&
	    !getsockname(s, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static void start_server(struct cb_ctx *c, struct redis *r)
{
	char port[16], log[96];
	snprintf(port, sizeof port, "%d", r->port);
	snprintf(log, sizeof log, "%s/redis.log", r->dir);
	const char *thp = cb_opt_bool(c, "thp") ? "no" : "yes";
	const char *argv[] = { REDIS_BIN, "--port", port, "--bind", "127.0.0.1", "--dir", r->dir,
		"--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no", "--daemonize",
		"no", "--logfile", log, "--enable-debug-command", "local", "--disable-thp", thp,
		"--protected-mode", "yes", NULL };
	r->server = cb_fork(c);
	if (r->server == 0) {
		execv(REDIS_BIN, (char *const *)argv);
		_exit(127);
	}
}

static int connect_server(struct redis *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)r->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	for (int tries = 0; tries < 200; tries++) {
		r->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int one = 1;
		if (r->fd >= 0 && !connect(r->fd, (struct sockaddr *)&a, sizeof a) &&
		    !setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one)) {
			const char *ping[] = { "PING" };
			if (!call(r, NULL, 0, 1, ping))
				return 0;
		}
		if (r->fd >= 0)
			close(r->fd);
		r->fd = -1;
		if (waitpid(r->server, NULL, WNOHANG) == r->server) {
			r->server = 0;
			return -1;
		}
		struct timespec ts = { 0, 25000000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* The server's private anonymous mappings: where its dataset lives. */
static int track_server(struct cb_ctx *c, struct redis *r)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)r->server);
	FILE *f = fopen(path, "re");
	if (!f)
		return cb_fail(c, "cannot read %s: %s", path, strerror(errno));
	cb_track_clear(c);
	int n = 0;
	size_t bytes = 0;
	while (fgets(line, sizeof line, f) && n < 64) {
		unsigned long a, b;
		char perms[8], name[300] = "";
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %299[^\n]", &a, &b, perms, name) < 3)
			continue;
		if (perms[1] != 'w' || perms[3] != 'p' || (name[0] && strcmp(name, "[heap]")))
			continue;
		if (!cb_track(c, r->server, (void *)a, b - a)) {
			n++;
			bytes += b - a;
		}
	}
	fclose(f);
	cb_note(c, "tracked", "%d anonymous mappings of redis-server, %zu MiB", n, bytes >> 20);
	return 0;
}

static int setup(struct cb_ctx *c)
{
	struct redis *r = cb_priv(c);
	r->fd = -1;
	if (access(REDIS_BIN, X_OK))
		return cb_skip(c, "redis-server is not installed (scripts/setup.sh installs the "
				  "Debian packages redis-server and redis-tools)");
	if (cb_tmpdir(c, "redis", r->dir, sizeof r->dir))
		return -1;
	if (cb_opt_bool(c, "thp") &&
	    cb_sys_write(c, "/sys/kernel/mm/transparent_hugepage/enabled", "always"))
		return cb_fail(c, "cannot enable THP");
	r->port = free_port();
	start_server(c, r);
	if (r->server < 0 || connect_server(r))
		return cb_fail(c, "redis-server did not answer on 127.0.0.1:%d (log in %s)", r->port,
			       r->dir);
	r->keys = cb_opt_u64(c, "size") / (VALUE_BYTES + KEY_OVERHEAD);
	char count[32], size[16];
	snprintf(count, sizeof count, "%llu", (unsigned long long)r->keys);
	snprintf(size, sizeof size, "%d", VALUE_BYTES);
	const char *pop[] = { "DEBUG", "POPULATE", count, "key", size };
	char out[256];
	if (call(r, out, sizeof out, 5, pop))
		return cb_fail(c, "DEBUG POPULATE failed: %s", out);
	cb_note(c, "server", "redis-server pid %d on 127.0.0.1:%d, %llu keys of %d bytes",
		(int)r->server, r->port, (unsigned long long)r->keys, VALUE_BYTES);
	return track_server(c, r);
}

/* ---- the write load and Redis's own figures -------------------------- */

static char info[8192];

/* INFO persistence into info[]; -1 on error. */
static int info_text(struct redis *r)
{
	const char *argv[] = { "INFO", "persistence" };
	return call(r, info, sizeof info, 2, argv);
}

/* One INFO persistence field as a number; -1 when absent. */
static double info_field(struct redis *r, const char *field)
{
	const char *text = info;
	if (info_text(r))
		return -1;
	char key[64];
	snprintf(key, sizeof key, "\n%s:", field);
	char *at = strstr(text, key);
	return at ? atof(at + strlen(key)) : -1;
}

/* SETs of existing keys with fresh values, pipelined in 10 ms batches. */
static uint64_t write_batch(struct redis *r, uint64_t n)
{
	static char value[VALUE_BYTES];
	char key[32];
	uint64_t done = 0;
	struct obuf o = { 0 };
	for (uint64_t i = 0; i < n; i++) {
		r->tag++;
		snprintf(key, sizeof key, "key:%llu",
			 (unsigned long long)((r->tag * 2654435761u) % r->keys));
		memset(value, 'a' + (int)(r->tag % 26), sizeof value);
		memcpy(value, &r->tag, sizeof r->tag);
		const char *argv[] = { "SET", key, value };
		size_t len[] = { 3, strlen(key), sizeof value };
		if (add_cmd(&o, 3, argv, len))
			n = i;
	}
	if (flush_out(r, &o))
		n = 0;
	free(o.b);
	char out[64];
	for (uint64_t i = 0; i < n; i++)
		if (reply(r, out, sizeof out) == '+')
			done++;
	return done;
}

struct save_watch {
	double cow_peak, cow_size, child_dirty_peak;
	pid_t child;
};

static pid_t save_child(pid_t server)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)server, (int)server);
	FILE *f = fopen(path, "re");
	int pid = 0;
	if (f) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static void watch(struct redis *r, struct save_watch *w)
{
	double peak = info_field(r, "current_cow_peak"), size = info_field(r, "current_cow_size");
	if (peak > w->cow_peak)
		w->cow_peak = peak;
	if (size > 0)
		w->cow_size = size;
	if (!w->child)
		w->child = save_child(r->server);
	uint64_t dirty;
	if (w->child && !cb_private_dirty(w->child, &dirty) && (double)dirty > w->child_dirty_peak)
		w->child_dirty_peak = (double)dirty;
}

/* Writes at the paced rate until stop() says so or the time is up. */
static uint64_t paced(struct cb_ctx *c, struct redis *r, double secs, struct save_watch *w)
{
	uint64_t rate = cb_opt_u64(c, "rate"), per = rate / 100 ? rate / 100 : 1, done = 0;
	uint64_t t0 = cb_now_ns(), step = per * 1000000000ull / rate; /* ns per batch */
	for (uint64_t k = 0;; k++) {
		if (w) {
			watch(r, w);
			if (info_field(r, "rdb_bgsave_in_progress") == 0)
				break;
		}
		if ((double)(cb_now_ns() - t0) / 1e9 >= secs)
			break;
		done += write_batch(r, per);
		uint64_t next = t0 + (k + 1) * step, now = cb_now_ns();
		if (next > now) {
			struct timespec ts = { (time_t)((next - now) / 1000000000ull),
					       (long)((next - now) % 1000000000ull) };
			nanosleep(&ts, NULL);
		}
	}
	return done;
}

static int load_phase(struct cb_ctx *c, struct redis *r, const char *name)
{
	cb_phase_begin_opts(c, name, CB_PHASE_UNMARKED_WRITES);
	uint64_t n = paced(c, r, cb_opt_double(c, "load_s"), NULL);
	cb_phase_ops(c, n);
	return cb_phase_end(c);
}

/* Redis's figure beside cowbench's, with what makes them differ. */
static void explain(struct cb_ctx *c, double redis)
{
	double cow = cb_phase_value(c, "during-save", "copy_bytes");
	if (isnan(cow) || redis < 0)
		return;
	cb_note(c, "redis_vs_cowbench",
		"Redis rdb_last_cow_size %.2f MiB, cowbench's copies in the server %.2f MiB "
		"(difference %+.2f MiB). Redis reads the save child's Private_Dirty once, just "
		"before the child exits: the old frames of the server's copies (private to the "
		"child once the server copied) plus memory the child dirtied itself (its "
		"allocations and buffers, shared pages it wrote): that makes Redis's larger; "
		"server copies after that last reading, while the child finishes, make "
		"cowbench's larger. current_cow_peak/size are the child's samples about once a "
		"second (0 for a shorter save)", redis / 1048576, cow / 1048576,
		(redis - cow) / 1048576);
}

/* BGSAVE, then the phase starts once the save child exists, so that the
 * tracker's first snapshot sees the pages shared (mapcount 2): the copies
 * are necessary ones, an extra copy is one of a page the child let go. */
static int start_save(struct cb_ctx *c, struct redis *r, struct save_watch *w)
{
	const char *bg[] = { "BGSAVE" };
	char out[256];
	if (call(r, out, sizeof out, 1, bg))
		return cb_fail(c, "BGSAVE failed: %s", out);
	for (int i = 0; i < 1000 && !w->child; i++) {
		w->child = save_child(r->server);
		struct timespec ts = { 0, 1000000 };
		if (!w->child)
			nanosleep(&ts, NULL);
	}
	if (!w->child)
		return cb_fail(c, "BGSAVE started no child within 1 s");
	return 0;
}

static int save_phase(struct cb_ctx *c, struct redis *r)
{
	struct save_watch w = { 0 };
	uint64_t t0 = cb_now_ns();
	if (start_save(c, r, &w))
		return -1;
	cb_phase_begin_opts(c, "during-save", CB_PHASE_UNMARKED_WRITES);
	uint64_t n = paced(c, r, SAVE_LIMIT_S, &w);
	double ms = (double)(cb_now_ns() - t0) / 1e6;
	cb_phase_ops(c, n);
	cb_phase_metric(c, "save_ms", ms, "ms");
	cb_phase_metric(c, "redis_current_cow_peak", w.cow_peak, "bytes");
	cb_phase_metric(c, "redis_current_cow_size", w.cow_size, "bytes");
	cb_phase_metric(c, "redis_rdb_last_cow_size", info_field(r, "rdb_last_cow_size"), "bytes");
	cb_phase_metric(c, "child_private_dirty_peak", w.child_dirty_peak, "bytes");
	cb_phase_end(c);
	explain(c, info_field(r, "rdb_last_cow_size"));
	if (info_text(r) || !strstr(info, "rdb_last_bgsave_status:ok"))
		return cb_fail(c, "BGSAVE did not succeed (log in %s/redis.log)", r->dir);
	return 0;
}

static int run(struct cb_ctx *c)
{
	struct redis *r = cb_priv(c);
	if (load_phase(c, r, "before-save"))
		return -1;
	if (save_phase(c, r))
		return -1;
	return load_phase(c, r, "after-save");
}

/* ---- leave nothing behind -------------------------------------------- */

static void teardown(struct cb_ctx *c)
{
	struct redis *r = cb_priv(c);
	if (r->fd >= 0) {
		const char *shut[] = { "SHUTDOWN", "NOSAVE" };
		send_cmd(r, 2, shut, NULL);
		close(r->fd);
	}
	for (int i = 0; r->server > 0 && i < 100; i++) {
		if (waitpid(r->server, NULL, WNOHANG) == r->server) {
			r->server = 0;
			break;
		}
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
	}
	if (r->server > 0) { /* a save child dies with it (PDEATHSIG is not its) */
		pid_t child = save_child(r->server);
		kill(r->server, SIGKILL);
		if (child > 0)
			kill(child, SIGKILL);
		waitpid(r->server, NULL, 0);
	}
	cb_tmpdir_remove(r->dir);
	(void)c;
}

const struct cb_workload cb_wl_app_redis_bgsave = {
	.name = "app:redis-bgsave",
	.suite = CB_SUITE_APP,
	.summary = "Debian's redis-server: SETs before, during and after a BGSAVE; cowbench's "
		   "copies beside Redis's own COW figures",
	.scenarios = "S1 S2",
	.opts = opts,
	.needs = CB_NEED_ROOT,
	.priv_size = sizeof(struct redis),
	.op = "SET request",
	/* Redis keeps about 1.4x the dataset (keys, dict, 1 KiB values), and
	 * during the save the child holds the originals of what the server
	 * copies: up to twice that. */
	.footprint = 3,
	.setup = setup,
	.run = run,
	.teardown = teardown,
};
