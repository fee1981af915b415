/* A memory-capped cgroup for the children of a run, on cgroup v2 (a
 * unified hierarchy with the memory controller) or v1 (the memory
 * controller's own hierarchy). One cgroup per run, named after the
 * harness pid and reused by every repetition; the journal removes it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Below this a child cannot even fault in its stack and libc. */
#define CB_CGROUP_MIN_LIMIT (4ull << 20)

#if defined(__SANITIZE_ADDRESS__)
#define CB_SANITIZED true
#else
#define CB_SANITIZED false
#endif

/* In an AddressSanitizer build a child's shadow and allocator pages are
 * charged to the cgroup too: a fixed part (about 11 MiB more RSS for
 * swap-thrash's worker at its defaults, measured) and the shadow of what
 * the child touches, one byte per eight (ASan's shadow scale). The fixed
 * 8 MiB this replaces got a worker with a larger region OOM-killed under
 * cgroup v1. touched: an upper bound of the memory the children touch. */
uint64_t cb_cgroup_sanitizer_slack(uint64_t touched, bool sanitized)
{
	return sanitized ? (12ull << 20) + touched / 8 : 0;
}

/* The workload's size options added up (its region, a hog, the limit): an
 * upper bound of what its children touch. */
static uint64_t sized_bytes(const struct cb_ctx *c)
{
	uint64_t n = 0;
	for (int i = 0; c->w && c->vals && c->w->opts && c->w->opts[i].name; i++)
		if (c->w->opts[i].type == CB_OPT_SIZE)
			n += c->vals[i].u;
	return n;
}

static char cg_path[256];
static bool cg_v2;

static bool has_word(const char *path, const char *word)
{
	char *s = cb_read_file(path, NULL);
	bool yes = false;
	for (char *t = s ? strtok(s, " \n") : NULL; t; t = strtok(NULL, " \n"))
		yes |= !strcmp(t, word);
	free(s);
	return yes;
}

/* The v2 root whose children get a memory controller, or NULL. */
static const char *v2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
		char p[128];
		snprintf(p, sizeof p, "%s/cgroup.subtree_control", roots[i]);
		if (has_word(p, "memory"))
			return roots[i];
	}
	return NULL;
}

static const char *v1_root(void)
{
	return access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) ? NULL
									     : "/sys/fs/cgroup/memory";
}

const char *cb_cgroup_mode(void)
{
	return v2_root() ? "v2" : v1_root() ? "v1" : NULL;
}

const char *cb_cgroup_path(void)
{
	return cg_path[0] ? cg_path : NULL;
}

static int write_in(const char *file, const char *value)
{
	char p[320];
	snprintf(p, sizeof p, "%s/%s", cg_path, file);
	return cb_write_file(p, value);
}

static uint64_t safe_limit(struct cb_ctx *c, uint64_t want)
{
	uint64_t cap = cb_mem_available_bytes() / 2;
	if (cap && want > cap) {
		cb_note(c, "cgroup_limit_capped", "%llu MiB asked, %llu MiB used (half of "
			"MemAvailable)", (unsigned long long)(want >> 20),
			(unsigned long long)(cap >> 20));
		return cap;
	}
	return want;
}

static int make_dir(struct cb_ctx *c, const char *root)
{
	char p[256];
	snprintf(p, sizeof p, "%s/cowbench-%d", root, (int)getpid());
	if (!strcmp(p, cg_path) && access(p, F_OK) == 0)
		return 0; /* an earlier repetition of this run made it */
	if (cb_journal_cgroup(p))
		return cb_fail(c, "cannot journal cgroup %s: %s", p, strerror(errno));
	if (mkdir(p, 0755) && errno != EEXIST)
		return cb_skip(c, "cannot create cgroup %s: %s", p, strerror(errno));
	snprintf(cg_path, sizeof cg_path, "%s", p);
	return 0;
}

int cb_cgroup_create(struct cb_ctx *c, uint64_t limit_bytes)
{
	if (!cb_journal_active())
		return cb_skip(c, "a memory cgroup needs root (no journal)");
	const char *root = v2_root();
	cg_v2 = root != NULL;
	if (!root && !(root = v1_root()))
		return cb_skip(c, "no cgroup memory controller (neither v2 with 'memory' in "
			       "cgroup.subtree_control nor v1 at /sys/fs/cgroup/memory)");
	if (limit_bytes < CB_CGROUP_MIN_LIMIT)
		return cb_fail(c, "cgroup limit %llu bytes is below %llu",
			       (unsigned long long)limit_bytes,
			       (unsigned long long)CB_CGROUP_MIN_LIMIT);
	uint64_t touched = sized_bytes(c) > limit_bytes ? sized_bytes(c) : limit_bytes;
	uint64_t slack = cb_cgroup_sanitizer_slack(touched, CB_SANITIZED);
	uint64_t limit = safe_limit(c, limit_bytes) + slack;
	if (slack)
		cb_note(c, "cgroup_sanitizer_slack", "%llu MiB added for AddressSanitizer's memory",
			(unsigned long long)(slack >> 20));
	if (make_dir(c, root))
		return -1;
	char v[32];
	snprintf(v, sizeof v, "%llu", (unsigned long long)limit);
	int rc = cg_v2 ? write_in("memory.max", v) || write_in("memory.swap.max", "max")
		       : write_in("memory.limit_in_bytes", v);
	if (rc)
		return cb_fail(c, "cannot set the limit of %s: %s", cg_path, strerror(errno));
	cb_note(c, "cgroup", "%s %s limit %llu MiB", cg_v2 ? "v2" : "v1", cg_path,
		(unsigned long long)(limit >> 20));
	return 0;
}

int cb_cgroup_enter(struct cb_ctx *c, pid_t pid)
{
	if (!cg_path[0])
		return cb_fail(c, "cb_cgroup_enter before cb_cgroup_create");
	if (pid == getpid())
		return cb_fail(c, "the harness itself never enters the workload cgroup");
	char v[24];
	snprintf(v, sizeof v, "%d", (int)pid);
	if (write_in("cgroup.procs", v))
		return cb_fail(c, "cannot move pid %d into %s: %s", (int)pid, cg_path,
			       strerror(errno));
	return 0;
}

/* One "key value" line of a file of the cgroup; -1 when absent. */
static int key_in(const char *file, const char *key, uint64_t *value)
{
	if (!cg_path[0])
		return -1;
	char p[320];
	snprintf(p, sizeof p, "%s/%s", cg_path, file);
	char *s = cb_read_file(p, NULL);
	int rc = -1;
	size_t n = strlen(key);
	for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		unsigned long long v;
		if (!strncmp(l, key, n) && l[n] == ' ' && sscanf(l + n, "%llu", &v) == 1) {
			*value = v;
			rc = 0;
			break;
		}
	}
	free(s);
	return rc;
}

int cb_cgroup_stat(const char *key, uint64_t *value)
{
	return key_in("memory.stat", key, value);
}

int cb_cgroup_oom_kills(uint64_t *kills)
{
	return key_in(cg_v2 ? "memory.events" : "memory.oom_control", "oom_kill", kills);
}
