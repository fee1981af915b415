#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

uint64_t cb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cb_own_faults(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return (uint64_t)(r.ru_minflt + r.ru_majflt);
}

/* /proc and sysfs files report size 0: read until EOF. */
char *cb_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 8192, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0) {
				free(buf);
				buf = NULL;
			}
			break;
		}
		n += (size_t)r;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (buf) {
		buf[n] = 0;
		if (len)
			*len = n;
	}
	return buf;
}

char *cb_vstrdup_printf(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

char *cb_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = cb_vstrdup_printf(fmt, ap);
	va_end(ap);
	return s;
}

/* Writes a sysfs/procfs value in one write(); async-signal-safe (the
 * journal's signal handler uses it), errno preserved on failure. */
int cb_write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)len ? 0 : -1;
}

bool cb_is_root(void)
{
	return geteuid() == 0;
}

void cb_die_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("cowbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

size_t cb_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

int cb_run_quiet(char *const argv[])
{
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Prints text from column `indent` on, wrapped at word breaks to fit. */
void cb_print_wrapped(FILE *out, int indent, const char *text)
{
	int col = indent, width = CB_TERM_COLS - indent;
	const char *p = text;
	fprintf(out, "%*s", indent, "");
	while (*p) {
		int n = (int)strcspn(p, " ");
		if (col > indent && col + 1 + n > indent + width) {
			fprintf(out, "\n%*s", indent + 2, "");
			col = indent + 2;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", n, p);
		col += n;
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

/* The directory part of a file path: "." for a bare name. */
void cb_dir_of(const char *path, char *dir, size_t len)
{
	snprintf(dir, len, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = 0; /* "/x.json" is in "/" */
	else if (slash)
		*slash = 0;
	else
		snprintf(dir, len, ".");
}

static bool runnable(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

bool cb_on_path(const char *prog)
{
	if (strchr(prog, '/'))
		return runnable(prog);
	const char *path = getenv("PATH");
	char full[4096];
	for (const char *d = path ? path : "/usr/bin:/bin"; *d;) {
		size_t k = strcspn(d, ":");
		snprintf(full, sizeof full, "%.*s/%s", (int)k, k ? d : ".", prog);
		if (runnable(full))
			return true;
		d += k + (d[k] == ':');
	}
	return false;
}
