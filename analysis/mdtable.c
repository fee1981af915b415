/* Markdown table pieces shared by the report's tables. */
#include <stdio.h>
#include <string.h>

#include "mdtable.h"

/* Markdown cell text: a label from a document must not break the table. */
void an_md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if ((unsigned char)*s < 0x20)
			fputc(' ', f);
		else if (strchr("\\`*_[]<>#", *s)) {
			fputc('\\', f);
			fputc(*s, f);
		} else
			fputc(*s, f);
	}
}

void an_md_kernel_columns(FILE *f, const struct an_set *s)
{
	for (int r = 0; r < s->n; r++)
		fprintf(f, " %s |", s->r[r].label);
	fputs("\n|---|", f);
	for (int r = 0; r < s->n; r++)
		fputs("---|", f);
	fputs("\n", f);
}

void an_md_cell(FILE *f, char *cell)
{
	for (char *p = cell; *p; p++)
		if (*p == '|' || *p == '\n')
			*p = ' ';
	fprintf(f, " %s |", cell);
}

