/* The policy fingerprint: fast single-purpose COW scenarios (ids from
 * docs/eras.md) whose copy / reuse / coherency outcomes tell the kernel's
 * COW era by behaviour, next to the era its version predicts. */
#ifndef COWBENCH_PROBES_H
#define COWBENCH_PROBES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Runs every probe (a few seconds at most). Swap and KSM need the journal
 * open (root); without them those probes are skipped with the reason.
 * Returns { era_by_behaviour, era_by_version, mismatch, scores: { "a>b": outcomes
 * that fit era a and that era b cannot produce },
 * conflicts: [ scenario ids the chosen era cannot produce ], evidence,
 * scenarios: { "S3a": { pages, copied, reused, lost_sync, skipped }, ... } }. */
json_t *cb_fingerprint_collect(void);

/* The era the scenario outcomes alone show, by weighing them: "mapcount",
 * "page_count", "exclusive", "ambiguous" (as many outcomes each way between two
 * eras) or "unknown" (too few telling outcomes). Appends one entry per
 * decisive outcome to evidence when it is an array: { scenario, rule, era,
 * for: [eras it fits], against: [eras that cannot produce it] }. */
const char *cb_fingerprint_classify(json_t *scenarios, json_t *evidence);

/* The table of scenarios (or, brief, one line) and the verdict; a mismatch
 * of behaviour and version is printed as a warning. */
void cb_fingerprint_print(json_t *fp, FILE *out, bool brief);

#endif
