#include <string.h>

#include "harness.h"
#include "list.h"

#define DECLARE(id) extern const struct cb_workload cb_wl_##id;
CB_WORKLOADS(DECLARE)
#undef DECLARE

#define ENTRY(id) &cb_wl_##id,
const struct cb_workload *const cb_workloads[] = { CB_WORKLOADS(ENTRY) NULL };
#undef ENTRY

const struct cb_workload *cb_workload_find(const char *name)
{
	for (int i = 0; cb_workloads[i]; i++)
		if (!strcmp(cb_workloads[i]->name, name))
			return cb_workloads[i];
	return NULL;
}
