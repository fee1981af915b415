#include "options.h"

#include "cbschema.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>


static int parse_u64(const char *text, uint64_t *out)
{
	char *end;
	if (!text || !*text || *text == '-' || isspace((unsigned char)*text))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *t, bool *out)
{
	static const char *yes[] = { "1", "on", "yes", "true" };
	static const char *no[] = { "0", "off", "no", "false" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(t, yes[i]))
			return *out = true, 0;
		if (!strcasecmp(t, no[i]))
			return *out = false, 0;
	}
	return -1;
}

static bool enum_has(const char *choices, const char *t)
{
	size_t n = strlen(t);
	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncmp(p, t, n))
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static int range_err(const struct cb_opt *o, const char *text, char *err, size_t len)
{
	snprintf(err, len, "invalid value '%s' for %s: must be %" PRIu64 "..%" PRIu64,
		 text, o->name, o->min, o->max);
	return -1;
}

int cb_opt_parse(const struct cb_opt *o, const char *text, union cb_val *out,
		 char *err, size_t errlen)
{
	switch (o->type) {
	case CB_OPT_U64:
	case CB_OPT_SIZE: {
		uint64_t v;
		int rc = o->type == CB_OPT_U64 ? parse_u64(text, &v) : cb_parse_size(text, &v);
		if (rc)
			break;
		if (v < o->min || (o->max && v > o->max))
			return range_err(o, text, err, errlen);
		out->u = v;
		return 0;
	}
	case CB_OPT_DOUBLE: {
		char *end;
		errno = 0;
		double d = strtod(text, &end);
		if (errno || end == text || *end || !isfinite(d))
			break;
		if (d < o->fmin || d > o->fmax) {
			snprintf(err, errlen, "invalid value '%s' for %s: must be %g..%g",
				 text, o->name, o->fmin, o->fmax);
			return -1;
		}
		out->d = d;
		return 0;
	}
	case CB_OPT_BOOL:
		if (parse_bool(text, &out->b))
			break;
		return 0;
	case CB_OPT_ENUM:
		if (!enum_has(o->choices, text)) {
			snprintf(err, errlen, "invalid value '%s' for %s: must be one of %s",
				 text, o->name, o->choices);
			return -1;
		}
		out->s = text;
		return 0;
	case CB_OPT_STR:
		out->s = text;
		return 0;
	case CB_OPT_DIR:
	case CB_OPT_PATH: {
		struct stat st;
		bool dir = o->type == CB_OPT_DIR;
		if (strcmp(text, "auto") && (stat(text, &st) || (dir && !S_ISDIR(st.st_mode)))) {
			snprintf(err, errlen, "invalid value '%s' for %s: %s", text, o->name,
				 dir ? "not a directory" : "no such file or directory");
			return -1;
		}
		out->s = text;
		return 0;
	}
	case CB_OPT_NONE:
		break;
	}
	snprintf(err, errlen, "invalid value '%s' for %s", text, o->name);
	return -1;
}

const struct cb_opt *cb_opt_find(const struct cb_opt *opts, const char *name)
{
	for (const struct cb_opt *o = opts; o && o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

int cb_opt_count(const struct cb_opt *opts)
{
	int n = 0;
	while (opts && opts[n].name)
		n++;
	return n;
}

const char *cb_opt_type_word(const struct cb_opt *o)
{
	switch (o->type) {
	case CB_OPT_U64: return "N";
	case CB_OPT_SIZE: return "SIZE";
	case CB_OPT_DOUBLE: return "X";
	case CB_OPT_BOOL: return "on|off";
	case CB_OPT_ENUM: return o->choices;
	case CB_OPT_DIR: return "DIR|auto";
	case CB_OPT_PATH: return "PATH|auto";
	default: return "TEXT";
	}
}

/* The accepted range, so that users (and the bad-input test) know it. */
static void print_range(const struct cb_opt *o)
{
	char lo[32], hi[32];
	if (o->type == CB_OPT_SIZE) {
		cb_size_text(o->min, lo, sizeof lo);
		cb_size_text(o->max, hi, sizeof hi);
	} else if (o->type == CB_OPT_U64) {
		snprintf(lo, sizeof lo, "%" PRIu64, o->min);
		snprintf(hi, sizeof hi, "%" PRIu64, o->max);
	} else {
		return;
	}
	printf(" [%s..%s]", lo, o->max ? hi : "");
}

void cb_opt_help(const struct cb_opt *opts, const char *prefix)
{
	for (const struct cb_opt *o = opts; o && o->name; o++) {
		char lhs[96];
		snprintf(lhs, sizeof lhs, "%s%s=%s", prefix, o->name, cb_opt_type_word(o));
		printf("  %-34s %s", lhs, o->help);
		if (o->def)
			printf(" (default %s)", o->def);
		print_range(o);
		printf("\n");
	}
}

static void die2(const char *cmd, const char *msg)
{
	fprintf(stderr, "cowbench %s: %s\n", cmd, msg);
	exit(2);
}

static const struct cb_opt *match(const struct cb_opt *opts, const char *arg,
				  const char **inline_val)
{
	*inline_val = NULL;
	if (arg[0] == '-' && arg[1] && arg[1] != '-') {
		for (const struct cb_opt *o = opts; o->name; o++)
			if (o->shortopt && o->shortopt == arg[1]) {
				if (arg[2])
					*inline_val = arg + 2;
				return o;
			}
		return NULL;
	}
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	if (name[n] == '=')
		*inline_val = name + n + 1;
	for (const struct cb_opt *o = opts; o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, name, n))
			return o;
	return NULL;
}

static void store(const char *cmd, const struct cb_opt *o, const char *text,
		  struct cb_cmdline *cl, int i)
{
	char err[256];
	if (o->flags & CB_OPTF_MULTI) {
		cl->multi[i] = realloc(cl->multi[i], sizeof(char *) * (size_t)(cl->nmulti[i] + 1));
		cl->multi[i][cl->nmulti[i]++] = text;
	} else if (cb_opt_parse(o, text, &cl->vals[i], err, sizeof err)) {
		char msg[300];
		snprintf(msg, sizeof msg, "%s", err);
		/* name the flag as the user typed it */
		char *p = strstr(msg, " for ");
		if (p && !strncmp(p + 5, o->name, strlen(o->name))) {
			memmove(p + 7, p + 5, strlen(p + 5) + 1);
			memcpy(p + 5, "--", 2);
		}
		die2(cmd, msg);
	}
	cl->given[i] = true;
	cl->text[i] = text;
}

void cb_cmdline_parse(const char *cmd, const struct cb_opt *opts, int argc, char **argv,
		      struct cb_cmdline *cl)
{
	int n = cb_opt_count(opts);
	char err[256];
	cl->vals = calloc((size_t)n + 1, sizeof *cl->vals);
	cl->given = calloc((size_t)n + 1, sizeof *cl->given);
	cl->text = calloc((size_t)n + 1, sizeof *cl->text);
	cl->multi = calloc((size_t)n + 1, sizeof *cl->multi);
	cl->nmulti = calloc((size_t)n + 1, sizeof *cl->nmulti);
	cl->pos = calloc((size_t)argc + 1, sizeof *cl->pos);
	cl->npos = 0;
	cl->nopts = n;
	for (int i = 0; i < n; i++)
		if (opts[i].def && !(opts[i].flags & CB_OPTF_MULTI) &&
		    cb_opt_parse(&opts[i], opts[i].def, &cl->vals[i], err, sizeof err))
			die2(cmd, err);
	bool only_pos = false;
	for (int a = 0; a < argc; a++) {
		const char *arg = argv[a];
		if (only_pos || arg[0] != '-' || !arg[1]) {
			cl->pos[cl->npos++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_pos = true;
			continue;
		}
		const char *iv;
		const struct cb_opt *o = match(opts, arg, &iv);
		if (!o) {
			snprintf(err, sizeof err, "unknown option '%s' (see 'cowbench %s --help')",
				 arg, cmd);
			die2(cmd, err);
		}
		int i = (int)(o - opts);
		if (o->flags & CB_OPTF_FLAG) {
			cl->vals[i].b = true;
			cl->given[i] = true;
			continue;
		}
		if (!iv && a + 1 >= argc) {
			snprintf(err, sizeof err, "option '%s' needs a value", arg);
			die2(cmd, err);
		}
		store(cmd, o, iv ? iv : argv[++a], cl, i);
	}
}

void cb_cmdline_free(struct cb_cmdline *cl)
{
	for (int i = 0; cl->multi && i < cl->nopts; i++)
		free(cl->multi[i]);
	free(cl->vals);
	free(cl->given);
	free(cl->text);
	free(cl->multi);
	free(cl->nmulti);
	free(cl->pos);
}

void cb_cmdline_help(const struct cb_opt *opts)
{
	for (const struct cb_opt *o = opts; o && o->name; o++) {
		char lhs[96];
		const char *arg = o->flags & CB_OPTF_FLAG ? "" : cb_opt_type_word(o);
		if (o->shortopt)
			snprintf(lhs, sizeof lhs, "-%c, --%s %s", o->shortopt, o->name, arg);
		else
			snprintf(lhs, sizeof lhs, "    --%s %s", o->name, arg);
		printf("  %-30s %s", lhs, o->help);
		if (o->def && !(o->flags & CB_OPTF_FLAG))
			printf(" (default %s)", o->def);
		print_range(o);
		printf("\n");
	}
}

