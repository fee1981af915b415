/* Result documents: building, atomic writing, and the terminal table. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tracker.h"

json_t *cb_result_new(json_t *env)
{
	char when[32];
	time_t t = time(NULL);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return json_pack("{s:s, s:s, s:O, s:n, s:[], s:b}", "schema", "cowbench-result/1",
			 "created", when, "env", env, "fingerprint", "workloads", "complete", 0);
}

static void sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
			*s = '_';
}

char *cb_result_default_path(json_t *env)
{
	const char *host = json_string_value(json_object_get(env, "hostname"));
	const char *rel = json_string_value(json_object_get(json_object_get(env, "kernel"),
							    "release"));
	char when[32];
	time_t t = time(NULL);
	strftime(when, sizeof when, "%Y%m%d-%H%M%S", gmtime(&t));
	char *p = cb_strdup_printf("%s_%s_%s", host ? host : "host", rel ? rel : "kernel", when);
	sanitize(p);
	char *dir = cb_result_default_dir();
	char *full = cb_strdup_printf("%s/%s.json", dir, p);
	free(dir);
	free(p);
	return full;
}

/* Never the checkout: a user's runs must not mix into committed results.
 * $XDG_DATA_HOME/cowbench/results, else ~/.local/share/cowbench/results,
 * made on first use. */
char *cb_result_default_dir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *dir = xdg && *xdg ? cb_strdup_printf("%s/cowbench/results", xdg)
				: cb_strdup_printf("%s/.local/share/cowbench/results",
						   home && *home ? home : "/tmp");
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(dir, 0755);
		*p = '/';
	}
	mkdir(dir, 0755);
	return dir;
}

/* The temp file being written, for the signal handlers: without root
 * there is no journal to remove it. */
static char pending_tmp[1024];

void cb_result_unlink_pending(void)
{
	if (pending_tmp[0])
		unlink(pending_tmp);
}

/* PATH.tmp.PID, absolute: `cowbench restore` may run from another cwd. */
static char *temp_path(const char *path)
{
	char cwd[512];
	if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
		return cb_strdup_printf("%s.tmp.%d", path, (int)getpid());
	return cb_strdup_printf("%s/%s.tmp.%d", cwd, path, (int)getpid());
}

/* temp file in the same directory + fsync + rename: never half a file.
 * The temp file is journaled first (root), so a kill -9 during the write
 * leaves nothing `cowbench restore` does not remove; a caught signal
 * removes it in the handler. */
int cb_result_write(json_t *doc, const char *path, char *err, size_t errlen)
{
	if (!strcmp(path, "-")) {
		int rc = json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_SORT_KEYS |
						  JSON_REAL_PRECISION(10));
		if (!rc)
			rc = puts("") == EOF || fflush(stdout) ? -1 : 0;
		if (rc)
			snprintf(err, errlen, "cannot write the document to stdout");
		return rc;
	}
	char *tmp = temp_path(path);
	if (!tmp || strlen(tmp) >= sizeof pending_tmp ||
	    (cb_journal_active() && cb_journal_tmpfile(tmp))) {
		snprintf(err, errlen, "cannot write %s: cannot journal its temp file", path);
		free(tmp);
		return -1;
	}
	snprintf(pending_tmp, sizeof pending_tmp, "%s", tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	/* One string, written whole: json_dumpfd writes token by token (tens
	 * of thousands of write calls for a stat document of a fork tree). */
	char *text = fd < 0 ? NULL : json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS |
							 JSON_REAL_PRECISION(10));
	int rc = text ? 0 : -1;
	size_t len = text ? strlen(text) : 0, done = 0;
	if (text)
		text[len++] = '\n'; /* replaces the terminating NUL */
	while (!rc && done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		rc = n > 0 ? 0 : -1;
		done += n > 0 ? (size_t)n : 0;
	}
	free(text);
	if (!rc)
		rc = fsync(fd);
	if (fd >= 0)
		close(fd);
	if (!rc)
		rc = rename(tmp, path);
	if (rc) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	pending_tmp[0] = 0;
	free(tmp);
	return rc;
}

/* "NAME.json.tmp.PID" -> PID, or 0 when the name is not a temp file. */
static int temp_owner(const char *name)
{
	const char *t = strstr(name, ".json.tmp.");
	if (!t || !t[10])
		return 0;
	char *end;
	long pid = strtol(t + 10, &end, 10);
	return *end || pid <= 0 || pid > INT32_MAX ? 0 : (int)pid;
}

/* A kill -9 without root (no journal) leaves a temp file: the next run
 * into the same directory removes those whose writer no longer exists. */
void cb_result_sweep(const char *path)
{
	char dir[1024];
	cb_dir_of(path, dir, sizeof dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int pid = temp_owner(e->d_name);
		if (pid && pid != getpid() && kill(pid, 0) && errno == ESRCH)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static json_t *spread(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return json_pack("{s:f, s:f, s:f, s:i}", "median", med, "min", v[0], "max", v[n - 1],
			 "n", n);
}

/* Median, min and max of one metric over the repetitions of one phase
 * (same: that phase's object in every repetition). */
static json_t *distribution(json_t *same, const char *key)
{
	double v[1024];
	int n = 0;
	size_t i;
	json_t *ph;
	json_array_foreach(same, i, ph) {
		json_t *x = json_object_get(ph, key);
		if (n < 1024 && json_is_number(x))
			v[n++] = json_number_value(x);
	}
	return n ? spread(v, n) : json_null();
}

/* Median of extra_by_cause.<cause> of one phase over repetitions. */
static json_t *cause_distribution(json_t *same)
{
	json_t *out = json_object();
	for (int k = 0; k < CB_CAUSE_N; k++) {
		double v[1024];
		int n = 0;
		size_t i;
		json_t *ph;
		json_array_foreach(same, i, ph) {
			json_t *x = json_object_get(json_object_get(ph, "extra_by_cause"),
						    cb_cause_names[k]);
			if (n < 1024 && json_is_number(x))
				v[n++] = json_number_value(x);
		}
		if (n)
			json_object_set_new(out, cb_cause_names[k], spread(v, n));
	}
	return out;
}

/* Phase name -> [that phase in each repetition], in repetition order.
 * Grouped once: searching every repetition for every phase was quadratic
 * in the phases (a stat document of a fork-heavy tree has hundreds). */
static json_t *phases_by_name(json_t *reps)
{
	json_t *by = json_object();
	size_t i, j;
	json_t *rep, *ph;
	json_array_foreach(reps, i, rep) {
		json_array_foreach(json_object_get(rep, "phases"), j, ph) {
			const char *name = json_string_value(json_object_get(ph, "name"));
			if (!name)
				continue;
			json_t *same = json_object_get(by, name);
			if (!same) {
				same = json_array();
				json_object_set_new(by, name, same);
			}
			json_array_append(same, ph);
		}
	}
	return by;
}

json_t *cb_result_summary(json_t *reps)
{
	json_t *out = json_object(), *by = phases_by_name(reps);
	size_t i, j;
	json_t *rep, *ph;
	json_array_foreach(reps, i, rep) {
		json_array_foreach(json_object_get(rep, "phases"), j, ph) {
			const char *name = json_string_value(json_object_get(ph, "name"));
			if (!name || json_object_get(out, name))
				continue;
			json_t *s = json_object(), *same = json_object_get(by, name);
			for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++)
				if (k->flags & CB_KEYF_SUMMARY)
					json_object_set_new(s, k->name, distribution(same, k->name));
			json_object_set_new(s, "extra_by_cause", cause_distribution(same));
			json_object_set_new(out, name, s);
		}
	}
	json_decref(by);
	return out;
}
