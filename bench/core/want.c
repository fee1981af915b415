/* Optional needs: what a phase would like to have. Unlike cb_need_swap, a
 * missing swap here skips one phase, not the whole repetition. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

int cb_want_swap(struct cb_ctx *c, size_t min_bytes, const char *kind, char *why,
		 size_t whylen)
{
	char *saved = c->skip;
	c->skip = NULL;
	int rc = cb_need_swap(c, min_bytes, kind);
	if (rc)
		snprintf(why, whylen, "%s", c->skip ? c->skip : "no swap");
	free(c->skip);
	c->skip = saved;
	return rc;
}
