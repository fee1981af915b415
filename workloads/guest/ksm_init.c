/* cowbench-ksm-init: the /init of app:qemu-ksm's guests (static, alone in
 * the initramfs). It holds a region of ksm_pages pages (kernel command
 * line, default 2048) whose page i has the same content in every guest, so
 * that KSM on the host merges each page of one guest with the same page of
 * the others. It then answers the host on the second serial port:
 *   guest: "ready PAGES RELEASE"   (each second until the host says "ack")
 *   host:  "write TAG"  -> the region rewritten, every page with content
 *                          no guest ever had;  guest: "wrote PAGES"
 *   host:  "off"        -> power off
 * Nothing else runs in the guest, so what the guest kernel writes besides
 * the region is its own housekeeping. */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#define PAGE 4096
#define IMAGE_TAG 0x6b736d696d616765ull /* the same in every guest */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void fill(uint64_t *region, size_t pages, uint64_t tag)
{
	for (size_t i = 0; i < pages; i++) {
		uint64_t *w = region + i * (PAGE / 8), seed = mix(tag ^ mix(i));
		for (size_t k = 0; k < PAGE / 8; k++)
			w[k] = seed + k;
	}
}

static void power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static void die(const char *what)
{
	perror(what);
	power_off();
}

static int open_port(void)
{
	int fd = open("/dev/ttyS1", O_RDWR | O_NOCTTY);
	struct termios t;
	if (fd < 0 || tcgetattr(fd, &t))
		die("/dev/ttyS1");
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);
	return fd;
}

static int read_line(int fd, char *line, size_t len)
{
	size_t k = 0;
	char ch;
	while (read(fd, &ch, 1) == 1) {
		if (ch == '\n') {
			line[k] = 0;
			return 0;
		}
		if (k + 1 < len)
			line[k++] = ch;
	}
	return -1;
}

static void setup_fs(void)
{
	mkdir("/dev", 0755);
	mkdir("/proc", 0555);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	int con = open("/dev/console", O_RDWR | O_NOCTTY);
	if (con >= 0) {
		dup2(con, 1);
		dup2(con, 2);
	}
}

int main(void)
{
	setup_fs();
	const char *env = getenv("ksm_pages");
	size_t pages = env ? strtoul(env, NULL, 10) : 2048;
	uint64_t *region = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (region == MAP_FAILED || mlock(region, pages * PAGE))
		die("region");
	fill(region, pages, IMAGE_TAG);
	int port = open_port();
	struct utsname u;
	uname(&u);
	/* Said until the host answers: what QEMU's serial socket receives
	 * while no one is connected is lost. */
	struct pollfd p = { port, POLLIN, 0 };
	do
		dprintf(port, "ready %zu %s\n", pages, u.release);
	while (poll(&p, 1, 1000) == 0);
	char line[128];
	while (!read_line(port, line, sizeof line)) {
		if (!strncmp(line, "write ", 6)) {
			fill(region, pages, strtoull(line + 6, NULL, 0));
			dprintf(port, "wrote %zu\n", pages);
		} else if (!strcmp(line, "off")) {
			break;
		}
	}
	power_off();
}
