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

void an_md_kernel_columns(FILE *f, const struct an_view *v, int nlabels)
{
	for (int k = 0; k < v->nk; k++) {
		const struct an_result *r = &v->s->r[v->order[k]];
		char name[32];
		an_short_name(r, name, sizeof name, 12);
		fprintf(f, " %s *%s*%s |", name, an_era_of(r), k ? "" : " (baseline)");
	}
	fputs("\n|", f);
	for (int k = 0; k < nlabels + v->nk; k++)
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

