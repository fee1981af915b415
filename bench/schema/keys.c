#include "cbschema.h"

#include <string.h>

#define T CB_KEYF_TRACKER
#define S CB_KEYF_SUMMARY
#define C CB_KEYF_COMPARE

/* Order is the order of a phase object in the document. */
const struct cb_metric_key cb_metric_keys[] = {
	{ "pages", "pages", CB_KIND_COUNT, S | C },
	{ "written", "pages", CB_KIND_COUNT, T | S | C },
	{ "copied", "pages", CB_KIND_COUNT, T | S | C },
	{ "reused", "pages", CB_KIND_COUNT, T | S | C },
	{ "extra_copies", "pages", CB_KIND_COUNT, T | S | C },
	{ "necessary_copies", "pages", CB_KIND_COUNT, T },
	{ "swapin_copied", "pages", CB_KIND_COUNT, T | S | C },
	{ "swapin_reused", "pages", CB_KIND_COUNT, T | S | C },
	{ "refaulted", "pages", CB_KIND_COUNT, T | S | C },
	{ "swapped_in", "pages", CB_KIND_COUNT, T },
	{ "swapcache_leftover_pages", "pages", CB_KIND_COUNT, T | S | C },
	{ "swapcache_leftover_bytes", "bytes", CB_KIND_COUNT, T | C },
	{ "copy_bytes", "bytes", CB_KIND_COUNT, T | S | C },
	{ "tlb_shootdowns", "interrupts", CB_KIND_COUNT, S | C },
	{ "tlb_flush_events", "events", CB_KIND_COUNT, S | C },
	{ "faults_minor", "faults", CB_KIND_COUNT, S | C },
	{ "faults_major", "faults", CB_KIND_COUNT, S | C },
	{ "elapsed_ns", "ns", CB_KIND_TIME, S | C },
	{ "ops", "ops", CB_KIND_COUNT, 0 },
	{ "ns_per_op", "ns/op", CB_KIND_TIME, S | C },
	{ NULL, NULL, CB_KIND_COUNT, 0 },
};

const struct cb_metric_key *cb_metric_key_find(const char *name)
{
	for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}
