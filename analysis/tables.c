/* The report's per-workload tables, in the order the report shows them. */
#include "capacity.h"
#include "fptable.h"
#include "pins.h"
#include "repro.h"
#include "tables.h"

const struct an_section an_sections[] = {
	{ "seed races (repro:*)", an_write_repro_md },
	{ "pins (longterm-pin)", an_write_pins_md },
	{ "capacity (reclaim-pressure)", an_write_capacity_md },
	{ "policy fingerprint", an_write_fingerprint_md },
};
const int an_nsections = sizeof an_sections / sizeof *an_sections;
