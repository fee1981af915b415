/* Markdown table pieces shared by the report's tables. */
#ifndef COWBENCH_AN_MDTABLE_H
#define COWBENCH_AN_MDTABLE_H

#include <stdio.h>

#include "load.h"

/* Text from a document, escaped so it cannot break a table or the markup. */
void an_md_text(FILE *f, const char *s);
/* The kernel columns of a "row x kernel" table after nlabels label
 * columns: kernel names in the view's order, then the rule. */
void an_md_kernel_columns(FILE *f, const struct an_view *v, int nlabels);
/* One cell, '|' and newlines blanked so the row stays one row. */
void an_md_cell(FILE *f, char *cell);

#endif
