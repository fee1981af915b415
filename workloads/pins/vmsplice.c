/* vmsplice into a pipe: the pipe takes short-term read references
 * (FOLL_GET, no pin) on the pages, and the "device" is the reader of the
 * pipe. The reference to this pin family: it shows what a reader holding a
 * page (not a mapping) sees after the process's PTE moves to a copy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pin.h"

struct vmsplice_pin {
	int n;
	int fds[][2];
};

static int splice_piece(int fd, char *buf, size_t len, char *why, size_t whylen)
{
	size_t done = 0;
	while (done < len) {
		struct iovec iov = { buf + done, len - done };
		ssize_t n = vmsplice(fd, &iov, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return snprintf(why, whylen, "vmsplice: %s",
					n ? strerror(errno) : "pipe full"), -1;
		done += (size_t)n;
	}
	return 0;
}

/* One pipe per CB_PIN_CHUNK: a pipe holds one page per slot. */
static int setup(struct cb_pin *p, char *why, size_t whylen)
{
	int n = (int)((p->len + CB_PIN_CHUNK - 1) / CB_PIN_CHUNK);
	struct vmsplice_pin *s = calloc(1, sizeof *s + (size_t)n * sizeof s->fds[0]);
	if (!s)
		return snprintf(why, whylen, "out of memory"), -1;
	p->state = s;
	for (int i = 0; i < n; i++) {
		size_t off = (size_t)i * CB_PIN_CHUNK;
		size_t len = p->len - off < CB_PIN_CHUNK ? p->len - off : CB_PIN_CHUNK;
		/* Non-blocking: a pipe too small fails instead of hanging. */
		if (pipe2(s->fds[i], O_CLOEXEC | O_NONBLOCK))
			return snprintf(why, whylen, "pipe: %s", strerror(errno)), -1;
		s->n = i + 1;
		if (fcntl(s->fds[i][1], F_SETPIPE_SZ, (int)CB_PIN_CHUNK) < 0)
			return snprintf(why, whylen, "F_SETPIPE_SZ %u: %s", CB_PIN_CHUNK,
					strerror(errno)), -1;
		if (splice_piece(s->fds[i][1], p->buf + off, len, why, whylen))
			return -1;
	}
	return 0;
}

static int device_read(struct cb_pin *p, size_t off, void *out, size_t len, char *why,
		       size_t whylen)
{
	struct vmsplice_pin *s = p->state;
	int fd = s->fds[off / CB_PIN_CHUNK][0];
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)out + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return snprintf(why, whylen, "pipe read: %s",
					n ? strerror(errno) : "end of data"), -1;
		done += (size_t)n;
	}
	return 0;
}

static void teardown(struct cb_pin *p)
{
	struct vmsplice_pin *s = p->state;
	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		close(s->fds[i][0]);
		close(s->fds[i][1]);
	}
	free(s);
	p->state = NULL;
}

const struct cb_pin_ops cb_pin_vmsplice = {
	.name = "vmsplice",
	.kind = "vmsplice into a pipe: short-term read references (FOLL_GET)",
	.setup = setup,
	.device_read = device_read,
	.teardown = teardown,
};
