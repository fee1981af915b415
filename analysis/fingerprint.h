/* The policy fingerprint: the COW era a kernel shows by behaviour, from the
 * outcomes of the probe suite (the probe:* workloads, one docs/scenarios.md scenario
 * each), next to the era its version predicts. It reads result documents
 * only, so the command line and compare can both derive it. */
#ifndef COWBENCH_FINGERPRINT_H
#define COWBENCH_FINGERPRINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* The scenario outcomes of the probe workloads in a document's "workloads"
 * array: { "S3a": { description, elapsed_ms, pages, copied, reused,
 * lost_sync, skipped }, ... } in the workloads' order. A scenario that did
 * not run has null counts and its reason in skipped. */
json_t *cb_fingerprint_scenarios(json_t *workloads);

/* The era the scenario outcomes alone show, by weighing them: "mapcount",
 * "page_count", "exclusive", "ambiguous" (as many outcomes each way between two
 * eras) or "unknown" (too few telling outcomes). Appends one entry per
 * decisive outcome to evidence when it is an array: { scenario, rule, era,
 * for: [eras it fits], against: [eras that cannot produce it] }. */
const char *cb_fingerprint_classify(json_t *scenarios, json_t *evidence);

/* The fingerprint of a document ({ env, workloads }) that holds the probe
 * workloads: { era_by_behaviour, era_by_version, release, mismatch,
 * scores: { "a>b": outcomes that fit era a and that era b cannot produce },
 * conflicts: [ scenario ids the chosen era cannot produce ], evidence,
 * scenarios }; the version's era and the release come from env.kernel. */
json_t *cb_fingerprint_of(json_t *doc);

/* The table of scenarios (or, brief, one line) and the verdict; a mismatch
 * of behaviour and version is printed as a warning. */
void cb_fingerprint_print(json_t *fp, FILE *out, bool brief);

#endif
