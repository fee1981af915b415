/* libFuzzer target for the result loader and everything `compare` does
 * with a document it accepted: the table, statistics, the summary and its
 * verdicts, and the CSV/JSON writers (to /dev/null). A crash, leak or
 * sanitizer report on any input is a bug: the loader must reject what the
 * analysis cannot use, with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "report.h"
#include "summary.h"

static void analyse(struct an_set *set)
{
	char why[1024];
	an_different_machines(set, why, sizeof why);
	struct an_table t;
	an_table_build(&t, set, 0);
	static struct an_summary S;
	an_summary_build(&S, &t);
	for (int i = 0; i < S.n; i++)
		free(an_summary_verdict(&S, &S.rows[i]));
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		an_summary_md(null, &S);
		an_summary_text(null, &S, 100);
		fclose(null);
	}
	an_write_csv(&t, "/dev/null");
	an_write_json(&t, "/dev/null");
	an_table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct an_set set;
	char err[1024];
	/* Loaded twice: a baseline and a second kernel, so that changes and
	 * Welch tests run too. */
	if (!an_load_buffer(&set, "fuzz.json", (const char *)data, size, err, sizeof err)) {
		if (an_load_buffer(&set, "fuzz2.json", (const char *)data, size, err, sizeof err))
			abort(); /* the same bytes cannot be valid once and invalid twice */
		analyse(&set);
	} else if (!err[0] || !strstr(err, "fuzz.json")) {
		abort(); /* every rejection names the file */
	}
	an_set_free(&set);
	return 0;
}
