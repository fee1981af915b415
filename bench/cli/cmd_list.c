#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_list(struct cb_cmdline *cl)
{
	(void)cl;
	for (int i = 0; cb_workload_at(i); i++) {
		const struct cb_workload *w = cb_workload_at(i);
		printf("%-26s %s", w->name, w->summary);
		if (w->scenarios && *w->scenarios)
			printf(" [%s]", w->scenarios);
		printf("\n");
	}
	return 0;
}

const struct cb_command cb_cmd_list = { "list", "list workloads and probes", "", cb_no_opts,
					cmd_list, NULL };
