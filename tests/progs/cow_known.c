/* A program whose COW answer is known, for `cowbench stat` (tests/stat_known.sh).
 *
 *   cow_known N M K [--wait]
 *
 * One region of N+M+K pages, written before the fork. The parent forks a
 * child that stays; the child forks a grandchild that writes K pages (K
 * copies: parent and child still map them) and exits. The parent writes N
 * pages while the child lives (N copies), lets the child exit and reaps it,
 * then writes M more of the shared pages, which it now maps alone (M reuses
 * from 5.9 on, if no stray reference holds one). With --wait it prints
 * "ready" and waits for SIGUSR1 before forking, so that `stat -p` can attach
 * first. The region sits between two PROT_NONE guard pages so that it is a
 * mapping of its own ("anon@<start>" in the stat document). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t ps;
static uint64_t tag = 0x5eed0000;

/* A store of a value never stored before: no read fault first, and no
 * byte-identical page that KSM could merge back. */
static void write_pages(char *base, size_t from, size_t n)
{
	for (size_t i = from; i < from + n; i++)
		*(volatile uint64_t *)(base + i * ps) = ++tag;
}

static void wait_usr1(void)
{
	sigset_t set;
	int sig;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("cow_known: ready pid %d\n", (int)getpid());
	fflush(stdout);
	sigwait(&set, &sig);
}

static void child(char *r, size_t n, size_t m, size_t k, int ready, int go)
{
	prctl(PR_SET_NAME, "ck-child");
	pid_t g = fork();
	if (g == 0) {
		prctl(PR_SET_NAME, "ck-grand");
		write_pages(r, n + m, k);
		_exit(0);
	}
	int st;
	waitpid(g, &st, 0);
	char c = 'r';
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		_exit(1);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: cow_known N M K [--wait]\n");
		return 2;
	}
	size_t n = strtoul(argv[1], NULL, 0), m = strtoul(argv[2], NULL, 0),
	       k = strtoul(argv[3], NULL, 0), total = n + m + k;
	ps = (size_t)sysconf(_SC_PAGESIZE);
	char *g = mmap(NULL, (total + 2) * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		return 1;
	char *r = g + ps;
	if (mprotect(r, total * ps, PROT_READ | PROT_WRITE))
		return 1;
	madvise(r, total * ps, MADV_NOHUGEPAGE);
	write_pages(r, 0, total);
	printf("cow_known: region anon@%lx pages %zu\n", (unsigned long)(uintptr_t)r, total);
	fflush(stdout);
	if (argc > 4 && !strcmp(argv[4], "--wait"))
		wait_usr1();
	int up[2], down[2];
	if (pipe(up) || pipe(down))
		return 1;
	pid_t c = fork();
	if (c == 0)
		child(r, n, m, k, up[1], down[0]);
	char x;
	if (read(up[0], &x, 1) != 1)
		return 1;
	write_pages(r, 0, n);
	if (write(down[1], "g", 1) != 1)
		return 1;
	int st;
	waitpid(c, &st, 0);
	write_pages(r, n, m);
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : 1;
}
