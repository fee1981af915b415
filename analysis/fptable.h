/* The policy fingerprint as a table: what each probe scenario did on each
 * kernel, as the report and the heat map show it (the classifier that votes
 * the era is fingerprint.c). */
#ifndef COWBENCH_AN_FPTABLE_H
#define COWBENCH_AN_FPTABLE_H

#include <stdio.h>

#include "load.h"

enum an_fp_class { AN_FP_REUSE, AN_FP_COPY, AN_FP_LOST, AN_FP_NOT_RUN };

/* Scenario ids over all fingerprints in order of first appearance. */
int an_fp_scenarios(const struct an_set *s, const char **ids, int max);
json_t *an_fp_scenario(const struct an_result *r, const char *id);
/* The outcome class of one scenario on one kernel, and a short text:
 * "reuse 252/256", "copy 256/256", "pin lost 256/256", "not run". */
enum an_fp_class an_fp_outcome(json_t *sc, char *text, size_t len);
/* The first description and the skip reason of a scenario; the reason is
 * NULL unless every kernel skipped it for the same reason. */
const char *an_fp_description(const struct an_set *s, const char *id);
const char *an_fp_common_skip(const struct an_set *s, const char *id);
void an_write_fingerprint_md(FILE *f, const struct an_view *v);

#endif
