/* The seed scenarios' table (repro:* workloads). */
#ifndef COWBENCH_AN_REPRO_H
#define COWBENCH_AN_REPRO_H

#include <stdio.h>

#include "load.h"

/* "scenario x kernel -> lost / coherent / copies"; nothing without repro:*. */
void an_write_repro_md(FILE *f, const struct an_view *v);

#endif
