/* Helpers shared by the cmocka tests. */
#ifndef COWBENCH_TESTUTIL_H
#define COWBENCH_TESTUTIL_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "workloads.h"

/* The command line hands the harness its workloads; the tests do the same. */
__attribute__((constructor)) static void tu_registry(void)
{
	cb_registry_set(cb_workload_table);
}

/* Runs a workload in-process with "key=value" options; fails the test on
 * bad options. */
static inline json_t *tu_run(const char *name, int reps, const char **kv, int nkv)
{
	char err[256] = "";
	json_t *w = cb_runner_one(name, kv, nkv, reps, err, sizeof err);
	if (!w)
		fail_msg("%s: %s", name, err);
	return w;
}

/* The phase called `phase` of repetition `rep`. */
static inline json_t *tu_phase(json_t *w, int rep, const char *phase)
{
	json_t *r = json_array_get(json_object_get(w, "reps"), (size_t)rep);
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(r, "phases"), i, p)
		if (!strcmp(json_string_value(json_object_get(p, "name")), phase))
			return p;
	fail_msg("no phase %s in rep %d", phase, rep);
	return NULL;
}

static inline long long tu_int(json_t *phase, const char *key)
{
	json_t *v = json_object_get(phase, key);
	if (!json_is_integer(v))
		fail_msg("%s is not a number (unavailable: %s)", key,
			 json_string_value(json_object_get(json_object_get(phase, "unavailable"),
							   key)));
	return json_integer_value(v);
}

/* A workload-specific metric of a phase; fails the test when it is absent. */
static inline double tu_metric(json_t *phase, const char *key)
{
	json_t *v = json_object_get(json_object_get(json_object_get(phase, "metrics"), key),
				    "value");
	if (!json_is_number(v))
		fail_msg("no metric %s", key);
	return json_number_value(v);
}

static inline double tu_median(json_t *w, const char *phase, const char *key)
{
	json_t *d = json_object_get(json_object_get(json_object_get(w, "summary"), phase), key);
	if (!json_is_object(d))
		fail_msg("no summary for %s.%s", phase, key);
	return json_number_value(json_object_get(d, "median"));
}

/* Live tests need root for PFNs; skip (not pass) without it. */
#define TU_NEED_ROOT() do { if (geteuid()) { skip(); } } while (0)

#endif
