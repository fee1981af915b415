/* The system-state journal. Every change a run makes to the machine is
 * written here (and fsync'ed) before it is made, so that normal exit, a
 * signal, or `cowbench restore` after kill -9 can undo it. The in-memory
 * copy lets the signal handler restore with async-signal-safe calls only. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_ENTRIES 256

struct entry {
	char kind; /* W write, S swap file, C cgroup, M mount, Z zram swap, T temp file,
		   * D temp directory */
	char path[256];
	char value[256];
};

static struct entry entries[MAX_ENTRIES];
static int nentries;
static int journal_fd = -1;
static char dir[200] = "/var/lib/cowbench";
static char path_buf[256];

void cb_journal_set_dir(const char *d)
{
	snprintf(dir, sizeof dir, "%s", d);
}

const char *cb_journal_path(void)
{
	const char *env = getenv("COWBENCH_STATE_DIR");
	snprintf(path_buf, sizeof path_buf, "%s/journal", env && *env ? env : dir);
	return path_buf;
}

bool cb_journal_active(void)
{
	return journal_fd >= 0;
}

static bool pid_is_cowbench(int pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/comm", pid);
	char *s = cb_read_file(p, NULL);
	bool yes = s && !strncmp(s, "cowbench", 8);
	free(s);
	return yes;
}

static int parse_line(char *line, struct entry *e)
{
	char *t1 = strchr(line, '\t');
	if (!t1 || t1 != line + 1)
		return -1;
	char *t2 = strchr(t1 + 1, '\t');
	if (t2)
		*t2 = 0;
	e->kind = line[0];
	snprintf(e->path, sizeof e->path, "%s", t1 + 1);
	snprintf(e->value, sizeof e->value, "%s", t2 ? t2 + 1 : "");
	return strchr("WSCMZTD", e->kind) ? 0 : -1;
}

/* Loads the journal file into memory; returns the owner pid or -1. */
static int load(const char *p)
{
	char *s = cb_read_file(p, NULL);
	if (!s)
		return -1;
	int owner = 0;
	nentries = 0;
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "cowbench-journal ", 17)) {
			sscanf(line + 17, "%*d %d", &owner);
			continue;
		}
		if (nentries < MAX_ENTRIES && !parse_line(line, &entries[nentries]))
			nentries++;
	}
	free(s);
	return owner;
}

/* KSM, THP, sysctls and swap are machine-wide while journals are per state
 * directory: two runs with different state directories that overlap would
 * each record the other's settings as "original" and one of them would
 * restore those, leaving the machine changed. One machine-wide lock, held
 * (by the open file) until the process ends, serializes them. */
static void lock_machine(void)
{
	static int fd = -1;
	if (fd >= 0)
		return;
	const char *p = getenv("COWBENCH_LOCK");
	fd = open(p && *p ? p : "/run/cowbench.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || !flock(fd, LOCK_EX | LOCK_NB))
		return;
	fprintf(stderr, "cowbench: waiting for another cowbench run to finish "
		"(machine-wide settings)\n");
	while (flock(fd, LOCK_EX) && errno == EINTR)
		;
}

int cb_journal_begin(char *err, size_t errlen)
{
	lock_machine();
	const char *p = cb_journal_path();
	int owner = load(p);
	if (owner >= 0) {
		if (owner > 0 && owner != getpid() && kill(owner, 0) == 0 && pid_is_cowbench(owner))
			snprintf(err, errlen, "another cowbench run (pid %d) holds %s", owner, p);
		else
			snprintf(err, errlen, "stale journal %s from a crashed run (pid %d): "
				 "run 'cowbench restore' first", p, owner);
		nentries = 0;
		return -1;
	}
	nentries = 0;
	char d[256];
	snprintf(d, sizeof d, "%s", p);
	*strrchr(d, '/') = 0;
	mkdir(d, 0755);
	journal_fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_APPEND, 0644);
	if (journal_fd < 0) {
		snprintf(err, errlen, "cannot create journal %s: %s", p, strerror(errno));
		return -1;
	}
	char head[64];
	int n = snprintf(head, sizeof head, "cowbench-journal 1 %d\n", (int)getpid());
	if (write(journal_fd, head, (size_t)n) != n || fsync(journal_fd)) {
		snprintf(err, errlen, "cannot write journal %s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

static int append(char kind, const char *path, const char *value)
{
	if (journal_fd < 0)
		return errno = EPERM, -1;
	for (int i = 0; i < nentries; i++)
		if (entries[i].kind == kind && !strcmp(entries[i].path, path))
			return 0; /* the first recorded value is the original */
	if (nentries >= MAX_ENTRIES)
		return errno = ENOSPC, -1;
	struct entry *e = &entries[nentries];
	e->kind = kind;
	snprintf(e->path, sizeof e->path, "%s", path);
	snprintf(e->value, sizeof e->value, "%s", value ? value : "");
	char line[600];
	int n = snprintf(line, sizeof line, "%c\t%s\t%s\n", kind, e->path, e->value);
	if (write(journal_fd, line, (size_t)n) != n || fsync(journal_fd))
		return -1;
	nentries++;
	return 0;
}

/* "always [madvise] never" -> "madvise": what a write must put back. */
static void restorable(const char *cur, char *out, size_t len)
{
	const char *lb = strchr(cur, '['), *rb = lb ? strchr(lb, ']') : NULL;
	if (lb && rb)
		snprintf(out, len, "%.*s", (int)(rb - lb - 1), lb + 1);
	else
		snprintf(out, len, "%.*s", (int)strcspn(cur, "\n"), cur);
}

int cb_journal_write(const char *path, const char *value)
{
	char *cur = cb_read_file(path, NULL);
	if (!cur)
		return -1;
	char old[256];
	restorable(cur, old, sizeof old);
	free(cur);
	if (append('W', path, old))
		return -1;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

int cb_journal_swapfile(const char *path) { return append('S', path, NULL); }
int cb_journal_cgroup(const char *path) { return append('C', path, NULL); }
int cb_journal_mount(const char *target) { return append('M', target, NULL); }
/* A result document's temp file (absolute path): restore removes it when a
 * kill -9 came in the middle of the write. */
int cb_journal_tmpfile(const char *path) { return append('T', path, NULL); }
int cb_journal_tmpdir(const char *path) { return append('D', path, NULL); }
/* dev is /dev/zramN; hot_id is "N" when the device was hot-added for this
 * run (restore removes it again), "" when it existed before (reset only). */
int cb_journal_zram(const char *dev, const char *hot_id) { return append('Z', dev, hot_id); }

/* --- restore: async-signal-safe from here on --- */

static void put(const char *s)
{
	if (write(2, s, strlen(s)) < 0)
		return;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static void kill_cgroup_procs(const char *cg)
{
	char p[300], buf[4096];
	strcpy(p, cg);
	strcat(p, "/cgroup.procs");
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	for (char *s = buf; *s;) {
		long pid = 0;
		while (*s >= '0' && *s <= '9')
			pid = pid * 10 + (*s++ - '0');
		if (pid > 0 && pid != getpid())
			kill((pid_t)pid, SIGKILL);
		while (*s && (*s < '0' || *s > '9'))
			s++;
	}
}

/* swapoff, reset (frees the compressed pages), and remove a hot-added
 * device; every step tolerates a device that is already gone. */
static int undo_zram(const struct entry *e)
{
	if (swapoff(e->path) && errno != EINVAL && errno != ENOENT)
		return -1;
	const char *name = strrchr(e->path, '/');
	if (!name)
		return -1;
	char p[300];
	strcpy(p, "/sys/block");
	strcat(p, name);
	if (access(p, F_OK))
		return 0;
	strcat(p, "/reset");
	int rc = 0;
	for (int i = 0; i < 50; i++) {
		rc = cb_write_file(p, "1");
		if (!rc)
			break;
		pause_ms(20); /* EBUSY while swapoff's last references drain */
	}
	if (rc)
		return -1;
	if (e->value[0] && cb_write_file("/sys/class/zram-control/hot_remove", e->value))
		return -1;
	return 0;
}

/* swapoff fails transiently (EINTR when a signal is pending, ENOMEM while a
 * killed cgroup still drains): retry for a few seconds. */
static int undo_swapfile(const char *path)
{
	int rc = -1;
	for (int i = 0; i < 50 && rc; i++) {
		rc = swapoff(path);
		if (rc && (errno == EINVAL || errno == ENOENT))
			rc = 0; /* not (or no longer) a swap area */
		if (rc)
			pause_ms(100);
	}
	if (rc)
		return -1;
	return unlink(path) && errno != ENOENT ? -1 : 0;
}

static int undo(const struct entry *e)
{
	switch (e->kind) {
	case 'W':
		return cb_write_file(e->path, e->value);
	case 'Z':
		return undo_zram(e);
	case 'S':
		return undo_swapfile(e->path);
	case 'C':
		/* killed processes with much memory (or swap) take a while */
		for (int i = 0; i < 500; i++) {
			kill_cgroup_procs(e->path);
			if (!rmdir(e->path) || errno == ENOENT)
				return 0;
			pause_ms(20);
		}
		return -1;
	case 'T':
		return unlink(e->path) && errno != ENOENT ? -1 : 0;
	case 'D':
		return cb_remove_tree(e->path);
	case 'M':
		return umount2(e->path, MNT_DETACH) && errno != EINVAL && errno != ENOENT ? -1 : 0;
	}
	return -1;
}

static int restore_all(bool verbose)
{
	int failed = 0;
	for (int i = nentries - 1; i >= 0; i--) {
		int rc = undo(&entries[i]);
		failed += rc != 0;
		if (verbose || rc) {
			put(rc ? "cowbench: could not restore " : "cowbench: restored ");
			put(entries[i].path);
			put("\n");
		}
	}
	return failed;
}

void cb_journal_restore_signal(void)
{
	if (journal_fd < 0)
		return;
	if (!restore_all(false))
		unlink(cb_journal_path());
	close(journal_fd);
	journal_fd = -1;
}

/* Normal end of a run, or `cowbench restore` (journal_fd < 0: load file). */
int cb_journal_restore(bool verbose)
{
	const char *p = cb_journal_path();
	if (journal_fd < 0) {
		lock_machine();
		int owner = load(p);
		if (owner < 0) {
			if (verbose)
				printf("cowbench: nothing to restore (%s absent)\n", p);
			return 0;
		}
		if (owner > 0 && owner != getpid() && kill(owner, 0) == 0 && pid_is_cowbench(owner)) {
			fprintf(stderr, "cowbench: run pid %d is still active; not restoring\n", owner);
			return 1;
		}
	}
	int failed = restore_all(verbose);
	if (journal_fd >= 0)
		close(journal_fd);
	journal_fd = -1;
	if (!failed)
		unlink(p);
	else
		fprintf(stderr, "cowbench: %d change(s) not restored; journal kept at %s\n",
			failed, p);
	nentries = 0;
	return failed ? 1 : 0;
}
