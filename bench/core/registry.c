/* The workload table the command line hands to the harness: the harness
 * runs workloads but does not know which exist. */
#include <string.h>

#include "harness.h"

static const struct cb_workload *const *table;

void cb_registry_set(const struct cb_workload *const *workloads)
{
	table = workloads;
}

const struct cb_workload *cb_workload_at(int i)
{
	return table ? table[i] : NULL;
}

const struct cb_workload *cb_workload_find(const char *name)
{
	for (int i = 0; table && table[i]; i++)
		if (!strcmp(table[i]->name, name))
			return table[i];
	return NULL;
}
