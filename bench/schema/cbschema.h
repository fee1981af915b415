/* What a result document is made of, shared by the harness that writes it
 * and the analysis that reads it: the standard phase metric keys and the
 * size notation. Depends on nothing else of cowbench. */
#ifndef COWBENCH_SCHEMA_H
#define COWBENCH_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#define CB_SCHEMA "cowbench-result/1"

enum cb_metric_kind {
	CB_KIND_COUNT, /* pages, faults, bytes: compared by median */
	CB_KIND_TIME,  /* arithmetic mean */
	CB_KIND_RATE,  /* harmonic mean */
};

/* One standard numeric key of a phase object. */
struct cb_metric_key {
	const char *name;
	const char *unit;
	enum cb_metric_kind kind;
	unsigned flags; /* CB_KEYF_* */
};

enum {
	CB_KEYF_TRACKER = 1,  /* comes from the page tracker (null without PFNs) */
	CB_KEYF_SUMMARY = 2,  /* summarised over repetitions in the document */
	CB_KEYF_COMPARE = 4,  /* compared across kernels */
};

/* Terminated by a { NULL } row. */
extern const struct cb_metric_key cb_metric_keys[];
const struct cb_metric_key *cb_metric_key_find(const char *name);

/* Bytes as the user types them: 16T, 64M, 4096. */
void cb_size_text(uint64_t v, char *buf, size_t len);
/* "64M", "64MB", "64MiB", "4096" -> bytes; -1 on anything else. */
int cb_parse_size(const char *text, uint64_t *out);

#endif
