/* Loading result documents: the bottom of the analysis. Everything above
 * reads the documents through struct an_set and never re-measures. */
#ifndef COWBENCH_AN_LOAD_H
#define COWBENCH_AN_LOAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define AN_MAX_RESULTS 64

/* One loaded result document and what the analysis needs from its env. */
struct an_result {
	char *path;
	json_t *doc;
	const char *release;
	const char *era_version;   /* what `uname -r` predicts */
	const char *era_behaviour; /* from the fingerprint; NULL without one */
	bool era_mismatch;         /* fingerprint disagrees with the version */
	bool emulated;
	bool incomplete;           /* "complete": false (an interrupted run) */
	const char *host, *cpu;
	long long mem_bytes;
	json_t *fingerprint;       /* borrowed; NULL when null/absent */
	char label[256];           /* "release (era)" */
};

struct an_set {
	struct an_result r[AN_MAX_RESULTS];
	int n;
};

/* Both return 0, or -1 with a one-line message naming the file and the
 * position (line:column) or field of the first problem. */
int an_load_path(struct an_set *s, const char *path, char *err, size_t errlen);
int an_validate(json_t *doc, char *err, size_t errlen);
int an_load_buffer(struct an_set *s, const char *name, const char *buf, size_t len,
		   char *err, size_t errlen);
void an_set_free(struct an_set *s);
const char *an_era_of(const struct an_result *r); /* behaviour, else version */
/* Whether the documents come from different machines (times then do not
 * compare); why says which two. */
bool an_different_machines(const struct an_set *s, char *why, size_t len);
/* The columns of every "x by kernel" output: the baseline first, then the
 * kernels grouped by era (the baseline's era first, then mapcount,
 * page_count, exclusive). */
struct an_view {
	const struct an_set *s;
	int baseline;
	int order[AN_MAX_RESULTS]; /* result index of each column */
	int nk;
};
void an_view_init(struct an_view *v, const struct an_set *s, int baseline);
/* A kernel's name cut to maxw characters for a narrow column. */
void an_short_name(const struct an_result *r, char *buf, size_t len, size_t maxw);

#endif
