/* A fork-heavy program for measuring `cowbench stat`'s overhead:
 *
 *   fork_loop HEAP_MIB FORKS PAGES
 *
 * A parent with a written heap of HEAP_MIB forks FORKS short-lived children,
 * one at a time; each child writes PAGES pages of the heap and exits, and the
 * parent writes PAGES pages between forks (the pre-forking server pattern).
 * Prints its own wall time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_pages(char *heap, size_t npages, size_t first, size_t n, uint64_t tag)
{
	size_t ps = 4096;
	for (size_t i = 0; i < n; i++)
		*(volatile uint64_t *)(heap + ((first + i * 7) % npages) * ps) = tag + i;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: fork_loop HEAP_MIB FORKS PAGES\n");
		return 2;
	}
	size_t mib = strtoul(argv[1], NULL, 0), forks = strtoul(argv[2], NULL, 0),
	       pages = strtoul(argv[3], NULL, 0), npages = mib << 8;
	char *heap = mmap(NULL, npages * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (heap == MAP_FAILED)
		return 1;
	write_pages(heap, npages, 0, npages, 1);
	double t0 = now();
	for (size_t f = 0; f < forks; f++) {
		pid_t c = fork();
		if (c == 0) {
			write_pages(heap, npages, f * 13, pages, f << 20);
			_exit(0);
		}
		write_pages(heap, npages, f * 17, pages, (f << 20) | 1);
		waitpid(c, NULL, 0);
	}
	printf("fork_loop: %zu forks of a %zu MiB heap in %.3f s\n", forks, mib, now() - t0);
	return 0;
}
