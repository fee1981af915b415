#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NAME_W 24
#define LIST_COLS 100

/* The summary beside the name, wrapped at word breaks within 100 columns. */
static void print_entry(const char *name, const char *text)
{
	int col = printf("%-*s", NAME_W, name);
	const char *p = text;
	while (*p) {
		int n = (int)strcspn(p, " ");
		if (col + 1 + n > LIST_COLS && col > NAME_W) {
			col = printf("\n%*s", NAME_W, "") - 1;
		}
		col += printf(" %.*s", n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
	printf("\n");
}

static int cmd_list(struct cb_cmdline *cl)
{
	(void)cl;
	for (int i = 0; cb_workload_at(i); i++) {
		const struct cb_workload *w = cb_workload_at(i);
		char text[1024];
		snprintf(text, sizeof text, "%s%s%s%s", w->summary,
			 w->scenarios && *w->scenarios ? " [" : "",
			 w->scenarios ? w->scenarios : "", w->scenarios && *w->scenarios ? "]" : "");
		print_entry(w->name, text);
	}
	return 0;
}

const struct cb_command cb_cmd_list = { "list", "list workloads and probes", "", cb_no_opts,
					cmd_list, NULL };
