/* Helpers shared by the probe suite (`cowbench probe`): single-purpose COW
 * scenarios, one workload per eras.md id, each a few hundred pages and well
 * under a second. Each records one phase named after its scenario id in
 * which the process writes every probed page once; the harness's page
 * tracker says copied or reused, and a reader that holds a reference (pin,
 * pipe) reports the pages it sees differently as the metric lost_sync.
 * analysis/fingerprint.c turns these phases into the policy fingerprint. */
#ifndef COWBENCH_PROBE_H
#define COWBENCH_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "cowbench.h"

#define PROBE_PAGES 256
/* Enough for the probed pages and then some; made for the repetition when
 * no swap of that kind is active, and removed again in teardown. */
#define PROBE_SWAP_BYTES (16u << 20)

/* Anonymous private pages without THP; populated: written once. NULL
 * after cb_skip. */
char *probe_map(struct cb_ctx *c, size_t pages, bool populate);
/* Writes fresh data to every page (no earlier write produced it). */
void probe_write(char *b, size_t pages);
/* Starts the phase `id` tracking b[0..pages) of this process. */
void probe_begin(struct cb_ctx *c, const char *id, char *b, size_t pages);
/* The plain scenario step: phase `id` in which every page is written once. */
void probe_measured_write(struct cb_ctx *c, const char *id, char *b, size_t pages);
/* A child that exits at once, reaped: the parent's pages are write-protected
 * and the parent is again their only mapper. -1 after cb_skip. */
int probe_fork_exit(struct cb_ctx *c);
/* MADV_PAGEOUT of b; -1 with why unless at least half of the pages went. */
int probe_page_out(char *b, size_t pages, char *why, size_t whylen);
/* A swap file (not zram: it keeps no swap cache on 5.10) for the scenario;
 * -1 after cb_skip. Teardown: probe_teardown. */
int probe_need_swap(struct cb_ctx *c);
void probe_teardown(struct cb_ctx *c);

#endif
