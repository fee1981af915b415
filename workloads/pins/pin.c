/* The pin backend table and what every backend shares: opening, closing,
 * and the coherency check of the device's view against the process's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pin.h"

const struct cb_pin_ops *const cb_pins[] = { &cb_pin_iouring, &cb_pin_rdma, &cb_pin_vmsplice,
						 NULL };

const struct cb_pin_ops *cb_pin_find(const char *name)
{
	for (int i = 0; cb_pins[i]; i++)
		if (!strcmp(cb_pins[i]->name, name))
			return cb_pins[i];
	return NULL;
}

int cb_pin_open(struct cb_pin *p, const struct cb_pin_ops *ops, void *buf, size_t len,
		char *why, size_t whylen)
{
	*p = (struct cb_pin){ .ops = ops, .buf = buf, .len = len };
	p->scratch = mmap(NULL, CB_PIN_CHUNK, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->scratch == MAP_FAILED) {
		p->scratch = NULL;
		snprintf(why, whylen, "mmap: %s", strerror(errno));
		return -1;
	}
	/* Faulted in now, and not shared with a forked child, so that the
	 * device read adds no faults of its own to the measured phase. */
	madvise(p->scratch, CB_PIN_CHUNK, MADV_DONTFORK);
	memset(p->scratch, 0, CB_PIN_CHUNK);
	if (ops->setup(p, why, whylen)) {
		munmap(p->scratch, CB_PIN_CHUNK);
		ops->teardown(p);
		p->ops = NULL;
		return -1;
	}
	return 0;
}

void cb_pin_close(struct cb_pin *p)
{
	if (p->ops)
		p->ops->teardown(p);
	if (p->scratch)
		munmap(p->scratch, CB_PIN_CHUNK);
	p->scratch = NULL;
	p->ops = NULL;
}

long cb_pin_lost_sync(struct cb_pin *p, char *why, size_t whylen)
{
	size_t ps = cb_page_size();
	char *dev = p->scratch;
	long lost = 0;
	for (size_t off = 0; off < p->len; off += CB_PIN_CHUNK) {
		size_t n = p->len - off < CB_PIN_CHUNK ? p->len - off : CB_PIN_CHUNK;
		if (p->ops->device_read(p, off, dev, n, why, whylen))
			return -1;
		for (size_t pg = 0; pg < n; pg += ps)
			lost += memcmp(dev + pg, p->buf + off + pg, ps) != 0;
	}
	return lost;
}
