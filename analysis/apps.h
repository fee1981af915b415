/* The application workloads (suite "app", e.g. app:redis-bgsave) phase by
 * phase, one column per kernel. The summary keeps only the phases whose
 * copies differ; an application's run is read as a whole (before, during
 * and after its fork), so here every phase is shown, with written pages,
 * copies, extra copies, reuses, the copies' memory, the extra copies'
 * causes that occur, and the workload's own metrics (phase metrics{}, e.g.
 * Redis's rdb_last_cow_size). Shown for an instance that at least two
 * documents have; nothing otherwise. */
#ifndef COWBENCH_AN_APPS_H
#define COWBENCH_AN_APPS_H

#include <stdio.h>

#include "model.h"

void an_apps_text(FILE *f, const struct an_table *t, const struct an_view *v, int width);
void an_apps_md(FILE *f, const struct an_table *t, const struct an_view *v);

#endif
