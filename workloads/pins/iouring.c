/* io_uring registered buffers: the kernel pins them with
 * FOLL_WRITE|FOLL_LONGTERM (a read/write long-term pin, like an RDMA
 * writable memory region). The "device" is an IORING_OP_WRITE_FIXED from
 * the pinned pages to a memfd: it reads whatever pages the pin holds. */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pin.h"

/* The kernel refuses registered buffers above 1 GiB each. */
#define MAX_IOVEC (1ul << 30)

struct iouring_pin {
	struct io_uring ring;
	bool ring_ok;
	int memfd;
};

static int register_buffers(struct cb_pin *p, struct iouring_pin *s, char *why, size_t whylen)
{
	unsigned n = (unsigned)((p->len + MAX_IOVEC - 1) / MAX_IOVEC);
	struct iovec *iov = calloc(n, sizeof *iov);
	if (!iov)
		return snprintf(why, whylen, "out of memory"), -1;
	for (unsigned i = 0; i < n; i++) {
		size_t off = (size_t)i * MAX_IOVEC;
		iov[i].iov_base = p->buf + off;
		iov[i].iov_len = p->len - off < MAX_IOVEC ? p->len - off : MAX_IOVEC;
	}
	int rc = io_uring_register_buffers(&s->ring, iov, n);
	free(iov);
	if (rc < 0)
		snprintf(why, whylen, "io_uring_register_buffers: %s", strerror(-rc));
	return rc < 0 ? -1 : 0;
}

static int setup(struct cb_pin *p, char *why, size_t whylen)
{
	struct iouring_pin *s = calloc(1, sizeof *s);
	if (!s)
		return snprintf(why, whylen, "out of memory"), -1;
	s->memfd = -1;
	p->state = s;
	int rc = io_uring_queue_init(4, &s->ring, 0);
	if (rc < 0)
		return snprintf(why, whylen, "io_uring_queue_init: %s", strerror(-rc)), -1;
	s->ring_ok = true;
	s->memfd = memfd_create("cowbench-device", MFD_CLOEXEC);
	if (s->memfd < 0 || ftruncate(s->memfd, CB_PIN_CHUNK))
		return snprintf(why, whylen, "memfd: %s", strerror(errno)), -1;
	return register_buffers(p, s, why, whylen);
}

static int write_fixed(struct iouring_pin *s, char *src, size_t len, off_t to, int idx,
		       char *why, size_t whylen)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
	io_uring_prep_write_fixed(sqe, s->memfd, src, (unsigned)len, (__u64)to, idx);
	int rc = io_uring_submit_and_wait(&s->ring, 1);
	struct io_uring_cqe *cqe;
	if (rc >= 0)
		rc = io_uring_wait_cqe(&s->ring, &cqe);
	if (rc < 0)
		return snprintf(why, whylen, "io_uring submit: %s", strerror(-rc)), -1;
	int res = cqe->res;
	io_uring_cqe_seen(&s->ring, cqe);
	if (res <= 0)
		return snprintf(why, whylen, "WRITE_FIXED: %s", res ? strerror(-res) : "0 bytes"),
		       -1;
	return res;
}

static int device_read(struct cb_pin *p, size_t off, void *out, size_t len, char *why,
		       size_t whylen)
{
	struct iouring_pin *s = p->state;
	size_t done = 0;
	while (done < len) {
		int n = write_fixed(s, p->buf + off + done, len - done, (off_t)done,
				    (int)((off + done) / MAX_IOVEC), why, whylen);
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	for (done = 0; done < len;) {
		ssize_t n = pread(s->memfd, (char *)out + done, len - done, (off_t)done);
		if (n <= 0)
			return snprintf(why, whylen, "memfd read: %s", strerror(errno)), -1;
		done += (size_t)n;
	}
	return 0;
}

static void teardown(struct cb_pin *p)
{
	struct iouring_pin *s = p->state;
	if (!s)
		return;
	if (s->ring_ok)
		io_uring_queue_exit(&s->ring); /* unregisters: unpins */
	if (s->memfd >= 0)
		close(s->memfd);
	free(s);
	p->state = NULL;
}

const struct cb_pin_ops cb_pin_iouring = {
	.name = "iouring",
	.kind = "io_uring registered buffer: long-term read/write pin "
		"(FOLL_WRITE|FOLL_LONGTERM)",
	.setup = setup,
	.device_read = device_read,
	.teardown = teardown,
};
