/* What a workload tells the harness about its repetition: its options,
 * private state, notes, and whether it skipped or failed. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int opt_index(const struct cb_ctx *c, const char *name)
{
	for (int i = 0; c->w->opts && c->w->opts[i].name; i++)
		if (!strcmp(c->w->opts[i].name, name))
			return i;
	fprintf(stderr, "cowbench: workload %s has no option '%s'\n", c->w->name, name);
	abort();
}

uint64_t cb_opt_u64(const struct cb_ctx *c, const char *name)
{
	return c->vals[opt_index(c, name)].u;
}

double cb_opt_double(const struct cb_ctx *c, const char *name)
{
	return c->vals[opt_index(c, name)].d;
}

bool cb_opt_bool(const struct cb_ctx *c, const char *name)
{
	return c->vals[opt_index(c, name)].b;
}

const char *cb_opt_str(const struct cb_ctx *c, const char *name)
{
	return c->vals[opt_index(c, name)].s;
}

void *cb_priv(const struct cb_ctx *c) { return c->priv; }
int cb_rep(const struct cb_ctx *c) { return c->rep; }

void cb_note(struct cb_ctx *c, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = cb_vstrdup_printf(fmt, ap);
	va_end(ap);
	if (s)
		json_object_set_new(c->notes, key, json_string(s));
	free(s);
}

static char *vformat(const char *fmt, va_list ap)
{
	return cb_vstrdup_printf(fmt, ap);
}

int cb_skip(struct cb_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(c->skip);
	c->skip = vformat(fmt, ap);
	va_end(ap);
	return -1;
}

int cb_fail(struct cb_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(c->error);
	c->error = vformat(fmt, ap);
	va_end(ap);
	return -1;
}
