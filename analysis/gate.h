/* `compare --fail-on METRIC>THRESHOLD`: a regression gate for kernel CI. */
#ifndef COWBENCH_AN_GATE_H
#define COWBENCH_AN_GATE_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"

/* METRIC>N: a kernel regresses when its value exceeds the baseline's by
 * more than N (in the metric's unit); METRIC>+N%: by more than N percent
 * of the baseline's (any increase over a baseline of 0 counts). */
struct an_rule {
	char metric[64];
	double threshold;
	bool relative;
};

/* 0, or -1 with why in err (a malformed rule: exit status 2). */
int an_rule_parse(const char *text, struct an_rule *r, char *err, size_t errlen);
/* Prints one line per regression; returns how many, or -1 when no row has
 * the rule's metric (a misspelt gate must not pass silently). */
int an_rule_check(const struct an_table *t, const struct an_rule *r, FILE *out);

#endif
