/* The outputs written to files: report.md, table.csv, table.json. */
#ifndef COWBENCH_AN_REPORT_H
#define COWBENCH_AN_REPORT_H

#include "analysis.h"
#include "model.h"
#include "plot.h"

int an_write_md(const struct an_table *t, const struct an_opts *o, const struct an_plots *pl,
		const char *path);
int an_write_csv(const struct an_table *t, const char *path);
int an_write_json(const struct an_table *t, const char *path);

#endif
