/* swapin_fork N: N pages written, paged out, read back (swapped in: each
 * page mapped and in the swap cache), fork, the child exits at once, the
 * parent writes all N: a page_count-era kernel copies them (the swap
 * cache's reference), the old frames staying in the swap cache. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 256, ps = 4096;
	volatile char *r = mmap(NULL, n * ps, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < n; i++)
		r[i * ps] = (char)(i + 1);
	if (madvise((void *)r, n * ps, MADV_PAGEOUT))
		perror("MADV_PAGEOUT");
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)r[i * ps];
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	waitpid(c, NULL, 0);
	for (size_t i = 0; i < n; i++)
		r[i * ps] = 7;
	printf("swapin_fork: %zu pages, sum %u, region %p\n", n, sum, (void *)r);
	return 0;
}
