/* The per-workload tables of the report (seed races, pins, capacity,
 * fingerprint), in
 * one list: the report and the terminal walk it instead of calling each
 * table by name. A writer writes nothing when no result has its workload. */
#ifndef COWBENCH_AN_TABLES_H
#define COWBENCH_AN_TABLES_H

#include <stdio.h>

#include "load.h"

struct an_section {
	const char *name;
	void (*write_md)(FILE *f, const struct an_view *v);
};

extern const struct an_section an_sections[];
extern const int an_nsections;

#endif
