/* The pins' table (longterm-pin). */
#ifndef COWBENCH_AN_PINS_H
#define COWBENCH_AN_PINS_H

#include <stdio.h>

#include "load.h"

/* "case x kernel -> lost / copies / faults / soft-dirty"; nothing without
 * longterm-pin. */
void an_write_pins_md(FILE *f, const struct an_view *v);

#endif
