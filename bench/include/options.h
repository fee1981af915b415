/* One option table type for every subcommand and every workload: the same
 * rows drive parsing, validation, --help and the parameters in results. */
#ifndef COWBENCH_OPTIONS_H
#define COWBENCH_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cbschema.h" /* cb_parse_size, cb_size_text */

enum cb_opt_type {
	CB_OPT_NONE,
	CB_OPT_U64,    /* whole number in [min, max] */
	CB_OPT_SIZE,   /* bytes with optional K/M/G/T suffix, in [min, max] */
	CB_OPT_DOUBLE, /* real number in [fmin, fmax] */
	CB_OPT_BOOL,   /* on/off, yes/no, 1/0, true/false */
	CB_OPT_ENUM,   /* one of the '|'-separated choices */
	CB_OPT_STR,    /* free text */
	CB_OPT_DIR,    /* an existing directory, or "auto" */
	CB_OPT_PATH,   /* an existing file or directory, or "auto" */
};

struct cb_opt {
	const char *name;
	enum cb_opt_type type;
	const char *def;     /* default, in the same text form a user types */
	const char *help;
	uint64_t min, max;   /* U64 and SIZE */
	double fmin, fmax;   /* DOUBLE */
	const char *choices; /* ENUM: "file|zram" */
	char shortopt;       /* command-line flags only: -o, -r ... */
	unsigned flags;      /* CB_OPTF_* */
};

enum { CB_OPTF_MULTI = 1, /* may repeat; every value kept */
       CB_OPTF_FLAG = 2   /* a switch without a value */ };

#define CB_OPT_END { 0 }

union cb_val {
	uint64_t u;
	double d;
	bool b;
	const char *s;
};

/* Parse one value for one option row. On error writes a one-line message
 * naming the value into err and returns -1. */
int cb_opt_parse(const struct cb_opt *o, const char *text, union cb_val *out,
		 char *err, size_t errlen);
const struct cb_opt *cb_opt_find(const struct cb_opt *opts, const char *name);
int cb_opt_count(const struct cb_opt *opts);
/* The placeholder of an option's value in help: N, SIZE, on|off, ... */
const char *cb_opt_type_word(const struct cb_opt *o);
/* Print a table of options the way every --help shows them. */
void cb_opt_help(const struct cb_opt *opts, const char *prefix);

/* Parsed command line of one subcommand: values by table row, repeated
 * values for MULTI rows, and the positional arguments. */
struct cb_cmdline {
	union cb_val *vals;
	bool *given;
	const char **text;  /* the value as typed (last one for MULTI rows) */
	const char ***multi;
	int *nmulti;
	const char **pos;
	int npos;
	int nopts;
};

/* Exits with status 2 and a one-line message on bad input. */
void cb_cmdline_parse(const char *cmd, const struct cb_opt *opts, int argc, char **argv,
		      struct cb_cmdline *out);
void cb_cmdline_free(struct cb_cmdline *cl);
void cb_cmdline_help(const struct cb_opt *opts);

#endif
