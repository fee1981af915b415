/* The workloads' one export to the command line: the table of list.h. */
#ifndef COWBENCH_WORKLOADS_H
#define COWBENCH_WORKLOADS_H

#include "cowbench.h"

/* NULL-terminated, in the order of list.h. */
extern const struct cb_workload *const cb_workload_table[];

#endif
