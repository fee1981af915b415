#include <stddef.h>

#include "list.h"
#include "workloads.h"

#define DECLARE(id) extern const struct cb_workload cb_wl_##id;
CB_WORKLOADS(DECLARE)
#undef DECLARE

#define ENTRY(id) &cb_wl_##id,
const struct cb_workload *const cb_workload_table[] = { CB_WORKLOADS(ENTRY) NULL };
#undef ENTRY
