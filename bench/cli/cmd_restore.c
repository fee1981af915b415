#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_restore(struct cb_cmdline *cl)
{
	(void)cl;
	if (!cb_is_root())
		fprintf(stderr, "cowbench: restore usually needs root\n");
	return cb_journal_restore(true);
}

const struct cb_command cb_cmd_restore = {
	"restore", "undo every system change a crashed run left behind", "", cb_no_opts,
	cmd_restore, NULL
};
