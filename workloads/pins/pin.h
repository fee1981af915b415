/* Pin backends: something outside the process (a "device") holds a
 * reference to a buffer the process keeps writing, and reads it later.
 * One small ops table per backend; a new backend (the RDMA read-only
 * memory region, for one) is one more file and one more row in cb_pins[]. */
#ifndef COWBENCH_PIN_H
#define COWBENCH_PIN_H

#include <stdbool.h>
#include <stddef.h>

#include "cowbench.h"

/* The device reads the buffer in pieces of at most this many bytes. */
#define CB_PIN_CHUNK (1u << 20)

struct cb_pin_ops;

struct cb_pin {
	const struct cb_pin_ops *ops;
	char *buf;
	size_t len;
	void *state; /* the backend's */
	char *scratch; /* one device-read piece, faulted in before any phase */
};

struct cb_pin_ops {
	const char *name;
	const char *kind; /* the reference the kernel takes, for results */
	/* Takes the reference on p->buf[0..p->len). 0, or -1 with why. */
	int (*setup)(struct cb_pin *p, char *why, size_t whylen);
	/* Copies what the device sees of buf[off..off+len) to out (len <=
	 * CB_PIN_CHUNK). Called once per piece, in increasing order: a pipe
	 * can be read only once. 0, or -1 with why. */
	int (*device_read)(struct cb_pin *p, size_t off, void *out, size_t len, char *why,
			   size_t whylen);
	void (*teardown)(struct cb_pin *p);
};

extern const struct cb_pin_ops cb_pin_iouring, cb_pin_vmsplice, cb_pin_rdma;
/* Every backend, NULL-terminated; `-o pin=` chooses by name. */
extern const struct cb_pin_ops *const cb_pins[];
const struct cb_pin_ops *cb_pin_find(const char *name);

int cb_pin_open(struct cb_pin *p, const struct cb_pin_ops *ops, void *buf, size_t len,
		char *why, size_t whylen);
void cb_pin_close(struct cb_pin *p);
/* Reads the whole buffer through the device once; returns the number of
 * pages whose device view differs from the process's memory (the pin lost
 * sync), or -1 with why. */
long cb_pin_lost_sync(struct cb_pin *p, char *why, size_t whylen);

/* What happens between the process's production and the device read. */
enum cb_pin_event {
	CB_EV_NONE,       /* control: nothing */
	CB_EV_FORK,       /* fork, the child exits and is reaped */
	CB_EV_CLEAR_REFS, /* clear_refs 4: soft-dirty reset (CRIU-style tracking) */
	CB_EV_UFFD_WP,    /* userfaultfd write-protect on, then off */
	CB_EV_PAGEOUT,    /* MADV_PAGEOUT of the buffer (needs swap) */
	/* S7e: the pin is taken after a fork, on pages still COW-shared with
	 * a live child; the parent writes while the child lives ... */
	CB_EV_FORK_PIN,
	/* ... or the child writes its view and exits, then the parent writes */
	CB_EV_FORK_PIN_CHILD,
	CB_EV_COUNT
};

/* The S7e events take the pin after the event starts. */
static inline bool cb_pin_event_pins_late(enum cb_pin_event ev)
{
	return ev == CB_EV_FORK_PIN || ev == CB_EV_FORK_PIN_CHILD;
}

/* A forked child that keeps the buffer COW-shared until it is told to
 * write its view of the buffer and exit, or just to exit. */
struct cb_sharer {
	pid_t pid;
	int cmd; /* write end of the child's command pipe */
};
int cb_sharer_start(struct cb_ctx *c, struct cb_sharer *s, char *buf, size_t len, char *why,
		    size_t whylen);
/* write: the child stores fresh data in every page first. Waits for the
 * child to exit; 0, or -1 with why. */
int cb_sharer_finish(struct cb_sharer *s, bool write, char *why, size_t whylen);

extern const char *const cb_pin_event_names[CB_EV_COUNT];
/* false with why when the event cannot run here; may create a swap file
 * (through the journal) for pageout. */
bool cb_pin_event_ready(struct cb_ctx *c, enum cb_pin_event ev, size_t len, char *why,
			size_t whylen);
/* Runs the event on buf[0..len). 0, or -1 with why. */
int cb_pin_event_run(struct cb_ctx *c, enum cb_pin_event ev, void *buf, size_t len,
		     char *why, size_t whylen);

/* clear_refs 4: reset the soft-dirty bits of the whole process. */
int cb_clear_soft_dirty(char *why, size_t whylen);

/* Write-protect buf with userfaultfd and lift the protection again. */
int cb_uffd_wp_cycle(void *buf, size_t len, char *why, size_t whylen);

#endif
