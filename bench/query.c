/* Reading back what the harness recorded for an ended phase, for
 * workloads that derive a summary (e.g. per-GiB costs) from it. */
#include <math.h>
#include <string.h>

#include "harness.h"

double cb_phase_value(const struct cb_ctx *c, const char *phase, const char *key)
{
	size_t i;
	json_t *p;
	json_array_foreach(c->phases, i, p) {
		if (strcmp(json_string_value(json_object_get(p, "name")), phase))
			continue;
		json_t *v = !strncmp(key, "counters.", 9)
				    ? json_object_get(json_object_get(p, "counters"), key + 9)
				    : json_object_get(p, key);
		return json_is_number(v) ? json_number_value(v) : NAN;
	}
	return NAN;
}
