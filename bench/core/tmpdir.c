/* Temporary directories of a run's workloads (a Redis dump, QEMU guests'
 * initramfs and sockets): subdirectories of one directory per run that the
 * journal removes, so that a signal or `restore` leaves nothing in /tmp. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

struct raw_dirent {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* getdents64 and unlinkat only: the journal's signal handler calls this. */
static void empty_dir(int dirfd, int depth)
{
	char buf[4096];
	long n;
	while ((n = syscall(SYS_getdents64, dirfd, buf, sizeof buf)) > 0)
		for (long at = 0; at < n; at += ((struct raw_dirent *)(buf + at))->reclen) {
			struct raw_dirent *d = (struct raw_dirent *)(buf + at);
			if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
				continue;
			int fd = d->type == DT_DIR && depth > 0
					 ? openat(dirfd, d->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
					 : -1;
			if (fd >= 0) {
				empty_dir(fd, depth - 1);
				close(fd);
			}
			unlinkat(dirfd, d->name, d->type == DT_DIR ? AT_REMOVEDIR : 0);
		}
}

int cb_remove_tree(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	empty_dir(fd, 4);
	close(fd);
	return rmdir(path) && errno != ENOENT ? -1 : 0;
}

static char run_dir[64];

static int make_run_dir(void)
{
	snprintf(run_dir, sizeof run_dir, "/tmp/cowbench-XXXXXX");
	if (!mkdtemp(run_dir))
		return run_dir[0] = 0, -1;
	if (cb_journal_tmpdir(run_dir)) {
		rmdir(run_dir);
		return run_dir[0] = 0, -1;
	}
	return 0;
}

int cb_tmpdir(struct cb_ctx *c, const char *name, char *out, size_t len)
{
	static unsigned serial;
	if (!cb_journal_active()) {
		if ((size_t)snprintf(out, len, "/tmp/cowbench-%s-XXXXXX", name) < len && mkdtemp(out))
			return 0;
		return cb_fail(c, "cannot make a temporary directory for %s: %s", name,
			       strerror(errno));
	}
	if ((!run_dir[0] || access(run_dir, F_OK)) && make_run_dir())
		return cb_fail(c, "cannot make the run's temporary directory: %s", strerror(errno));
	if ((size_t)snprintf(out, len, "%s/%s-%u", run_dir, name, serial++) >= len ||
	    mkdir(out, 0700))
		return cb_fail(c, "cannot make %s: %s", out, strerror(errno));
	return 0;
}

void cb_tmpdir_remove(const char *dir)
{
	if (dir && dir[0])
		cb_remove_tree(dir);
}
