/* Loading and validating result documents. A document that is not what the
 * analysis expects is rejected with the file name and the position or field
 * of the problem, before any statistic is computed: never a crash later. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cbschema.h"
#include "load.h"

struct vctx {
	char *err;
	size_t errlen;
	bool failed;
};

static bool bad(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(struct vctx *v, const char *fmt, ...)
{
	if (v->failed)
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->err, v->errlen, fmt, ap);
	va_end(ap);
	v->failed = true;
	return false;
}

/* Field paths hold keys from the document: a long key truncates the path
 * (the message stays readable), it must never overflow it. */
static void add_dot(char *w, size_t size)
{
	size_t n = strlen(w);
	if (n + 1 < size) {
		w[n] = '.';
		w[n + 1] = 0;
	}
}

static const char *type_name(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: case JSON_REAL: return "number";
	case JSON_TRUE: case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

/* Required member of a given jansson type ("number" accepts int and real). */
static json_t *need(struct vctx *v, json_t *obj, const char *where, const char *key,
		    json_type type)
{
	json_t *j = json_object_get(obj, key);
	if (!j) {
		bad(v, "field %s%s: missing", where, key);
		return NULL;
	}
	bool ok = json_typeof(j) == type || (type == JSON_REAL && json_is_number(j));
	if (!ok) {
		static const char *names[] = { [JSON_OBJECT] = "object", [JSON_ARRAY] = "array",
					       [JSON_STRING] = "string", [JSON_REAL] = "number" };
		bad(v, "field %s%s: expected %s, got %s", where, key, names[type], type_name(j));
		return NULL;
	}
	return j;
}

/* Optional member: absent or null is fine, otherwise it must be a number. */
static void opt_number(struct vctx *v, json_t *obj, const char *where, const char *key)
{
	json_t *j = json_object_get(obj, key);
	if (j && !json_is_null(j) && !json_is_number(j))
		bad(v, "field %s%s: expected number or null, got %s", where, key, type_name(j));
}

/* Optional count or duration: absent, null, or a number >= 0 (a negative
 * page count is a corrupt document, not a measurement). */
static void opt_count(struct vctx *v, json_t *obj, const char *where, const char *key)
{
	opt_number(v, obj, where, key);
	json_t *j = json_object_get(obj, key);
	if (json_is_number(j) && json_number_value(j) < 0)
		bad(v, "field %s%s: %g is negative", where, key, json_number_value(j));
}

static void opt_string(struct vctx *v, json_t *obj, const char *where, const char *key)
{
	json_t *j = json_object_get(obj, key);
	if (j && !json_is_null(j) && !json_is_string(j))
		bad(v, "field %s%s: expected string or null, got %s", where, key, type_name(j));
}


static void check_phase(struct vctx *v, json_t *ph, const char *where)
{
	if (!json_is_object(ph)) {
		bad(v, "field %s: expected object, got %s", where, type_name(ph));
		return;
	}
	char w[160];
	snprintf(w, sizeof w, "%s.", where);
	need(v, ph, w, "name", JSON_STRING);
	for (const struct cb_metric_key *k = cb_metric_keys; k->name; k++)
		opt_count(v, ph, w, k->name);
	opt_string(v, ph, w, "skipped");
	json_t *causes = json_object_get(ph, "extra_by_cause");
	if (json_is_object(causes)) {
		char cw[200];
		snprintf(cw, sizeof cw, "%sextra_by_cause.", w);
		const char *ck;
		json_t *cv;
		json_object_foreach(causes, ck, cv)
			opt_count(v, causes, cw, ck);
	} else if (causes && !json_is_null(causes)) {
		bad(v, "field %sextra_by_cause: expected object or null, got %s", w,
		    type_name(causes));
	}
	json_t *m = json_object_get(ph, "metrics");
	if (!m || json_is_null(m))
		return;
	if (!json_is_object(m)) {
		bad(v, "field %smetrics: expected object, got %s", w, type_name(m));
		return;
	}
	const char *k;
	json_t *e;
	json_object_foreach(m, k, e) {
		char mw[300];
		snprintf(mw, sizeof mw, "%smetrics.%.100s", w, k);
		if (!json_is_object(e)) {
			bad(v, "field %s: expected object, got %s", mw, type_name(e));
			return;
		}
		add_dot(mw, sizeof mw);
		opt_number(v, e, mw, "value");
		opt_string(v, e, mw, "unit");
	}
}

static void check_workload(struct vctx *v, json_t *wl, size_t i)
{
	char w[64];
	snprintf(w, sizeof w, "workloads[%zu]", i);
	if (!json_is_object(wl)) {
		bad(v, "field %s: expected object, got %s", w, type_name(wl));
		return;
	}
	add_dot(w, sizeof w);
	need(v, wl, w, "name", JSON_STRING);
	json_t *p = json_object_get(wl, "params");
	if (p && !json_is_object(p) && !json_is_null(p))
		bad(v, "field %sparams: expected object, got %s", w, type_name(p));
	json_t *reps = need(v, wl, w, "reps", JSON_ARRAY);
	size_t r, j;
	json_t *rep, *ph;
	json_array_foreach(reps, r, rep) {
		char rw[96];
		snprintf(rw, sizeof rw, "%sreps[%zu]", w, r);
		if (!json_is_object(rep)) {
			bad(v, "field %s: expected object, got %s", rw, type_name(rep));
			return;
		}
		add_dot(rw, sizeof rw);
		opt_string(v, rep, rw, "skipped");
		opt_string(v, rep, rw, "error");
		json_t *phases = need(v, rep, rw, "phases", JSON_ARRAY);
		json_array_foreach(phases, j, ph) {
			char pw[128];
			snprintf(pw, sizeof pw, "%sphases[%zu]", rw, j);
			check_phase(v, ph, pw);
		}
	}
}

static void check_fingerprint(struct vctx *v, json_t *fp)
{
	if (!fp || json_is_null(fp))
		return;
	if (!json_is_object(fp)) {
		bad(v, "field fingerprint: expected object or null, got %s", type_name(fp));
		return;
	}
	opt_string(v, fp, "fingerprint.", "era_by_behaviour");
	opt_string(v, fp, "fingerprint.", "era_by_version");
	json_t *sc = json_object_get(fp, "scenarios");
	if (!sc || json_is_null(sc))
		return;
	if (!json_is_object(sc)) {
		bad(v, "field fingerprint.scenarios: expected object, got %s", type_name(sc));
		return;
	}
	const char *k;
	json_t *s;
	json_object_foreach(sc, k, s) {
		char w[160];
		/* scenario ids come from the file: bound them, they may be hostile */
		snprintf(w, sizeof w, "fingerprint.scenarios.%.100s.", k);
		if (!json_is_object(s)) {
			bad(v, "field %.*s: expected object, got %s", (int)strlen(w) - 1, w,
			    type_name(s));
			return;
		}
		static const char *const keys[] = { "pages", "copied", "reused", "lost_sync" };
		for (size_t i = 0; i < 4; i++)
			opt_count(v, s, w, keys[i]);
		json_t *sk = json_object_get(s, "skipped");
		if (sk && !json_is_null(sk) && !json_is_string(sk) && !json_is_boolean(sk))
			bad(v, "field %sskipped: expected string, boolean or null, got %s", w,
			    type_name(sk));
	}
}

static void check_env(struct vctx *v, json_t *env)
{
	json_t *k = need(v, env, "env.", "kernel", JSON_OBJECT);
	if (k) {
		need(v, k, "env.kernel.", "release", JSON_STRING);
		opt_string(v, k, "env.kernel.", "era_by_version");
	}
	json_t *em = json_object_get(env, "emulated");
	if (em && !json_is_boolean(em) && !json_is_null(em))
		bad(v, "field env.emulated: expected boolean, got %s", type_name(em));
	opt_string(v, env, "env.", "hostname");
	json_t *cpu = json_object_get(env, "cpu");
	if (json_is_object(cpu))
		opt_string(v, cpu, "env.cpu.", "model");
	json_t *mem = json_object_get(env, "memory");
	if (json_is_object(mem))
		opt_count(v, mem, "env.memory.", "total_bytes");
}

int an_validate(json_t *doc, char *err, size_t errlen)
{
	struct vctx v = { err, errlen, false };
	if (!json_is_object(doc)) {
		bad(&v, "top level: expected object, got %s", type_name(doc));
		return -1;
	}
	json_t *schema = need(&v, doc, "", "schema", JSON_STRING);
	if (!schema)
		return -1;
	const char *s = json_string_value(schema);
	if (strcmp(s, CB_SCHEMA)) {
		if (!strncmp(s, "cowbench-result/", 16))
			bad(&v, "schema '%s' is not supported (this cowbench reads %s)", s,
			    CB_SCHEMA);
		else
			bad(&v, "not a cowbench result document (schema '%s')", s);
		return -1;
	}
	json_t *complete = json_object_get(doc, "complete");
	if (complete && !json_is_boolean(complete))
		bad(&v, "field complete: expected boolean, got %s", type_name(complete));
	json_t *env = need(&v, doc, "", "env", JSON_OBJECT);
	if (env)
		check_env(&v, env);
	check_fingerprint(&v, json_object_get(doc, "fingerprint"));
	json_t *wls = need(&v, doc, "", "workloads", JSON_ARRAY);
	size_t i;
	json_t *wl;
	json_array_foreach(wls, i, wl)
		check_workload(&v, wl, i);
	return v.failed ? -1 : 0;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void fill(struct an_result *r)
{
	json_t *env = json_object_get(r->doc, "env");
	json_t *k = json_object_get(env, "kernel");
	r->release = jstr(k, "release");
	r->era_version = jstr(k, "era_by_version");
	if (!r->era_version)
		r->era_version = "unknown";
	r->emulated = json_is_true(json_object_get(env, "emulated"));
	r->incomplete = json_is_false(json_object_get(r->doc, "complete"));
	r->host = jstr(env, "hostname");
	r->cpu = jstr(json_object_get(env, "cpu"), "model");
	r->mem_bytes = (long long)json_number_value(
		json_object_get(json_object_get(env, "memory"), "total_bytes"));
	json_t *fp = json_object_get(r->doc, "fingerprint");
	r->fingerprint = json_is_object(fp) ? fp : NULL;
	r->era_behaviour = r->fingerprint ? jstr(fp, "era_by_behaviour") : NULL;
	r->era_mismatch = r->era_behaviour && strcmp(r->era_behaviour, r->era_version);
	/* The label is the kernel's name everywhere: table, plots, report. */
	if (r->era_mismatch)
		snprintf(r->label, sizeof r->label, "%s (%s; version says %s)", r->release,
			 r->era_behaviour, r->era_version);
	else if (r->era_behaviour)
		snprintf(r->label, sizeof r->label, "%s (%s)", r->release, r->era_behaviour);
	else
		snprintf(r->label, sizeof r->label, "%s (%s by version)",
			 r->release, r->era_version);
	if (r->emulated)
		strncat(r->label, " [emulated]", sizeof r->label - strlen(r->label) - 1);
}

const char *an_era_of(const struct an_result *r)
{
	return r->era_behaviour ? r->era_behaviour : r->era_version;
}

/* Takes doc (a reference) whether it is accepted or not. */
static int add_doc(struct an_set *s, const char *path, json_t *doc, char *err, size_t errlen)
{
	char why[400];
	if (an_validate(doc, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
		json_decref(doc);
		return -1;
	}
	struct an_result *r = &s->r[s->n++];
	memset(r, 0, sizeof *r);
	r->path = strdup(path);
	r->doc = doc;
	fill(r);
	return 0;
}

static bool too_many(const struct an_set *s, const char *path, char *err, size_t errlen)
{
	if (s->n < AN_MAX_RESULTS)
		return false;
	snprintf(err, errlen, "%s: more than %d result documents", path, AN_MAX_RESULTS);
	return true;
}

static int load_file(struct an_set *s, const char *path, char *err, size_t errlen)
{
	if (too_many(s, path, err, errlen))
		return -1;
	json_error_t je;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column,
			 je.text);
		return -1;
	}
	return add_doc(s, path, doc, err, errlen);
}

/* The same from memory (the fuzz target); name stands in for the path. */
int an_load_buffer(struct an_set *s, const char *name, const char *buf, size_t len,
		   char *err, size_t errlen)
{
	if (too_many(s, name, err, errlen))
		return -1;
	json_error_t je;
	json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", name, je.line, je.column,
			 je.text);
		return -1;
	}
	return add_doc(s, name, doc, err, errlen);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory contributes its *.json files in name order (not recursive:
 * a results tree may hold other outputs next to the documents). */
static int load_dir(struct an_set *s, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	char *names[4096];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 4096) {
		size_t len = strlen(e->d_name);
		if (len > 5 && !strcmp(e->d_name + len - 5, ".json") && e->d_name[0] != '.')
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof *names, by_name);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		size_t dl = strlen(dir);
		snprintf(path, sizeof path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
			 names[i]);
		if (!rc)
			rc = load_file(s, path, err, errlen);
		free(names[i]);
	}
	if (!rc && !n) {
		snprintf(err, errlen, "%s: no *.json result documents in this directory", dir);
		rc = -1;
	}
	return rc;
}

int an_load_path(struct an_set *s, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return S_ISDIR(st.st_mode) ? load_dir(s, path, err, errlen)
				   : load_file(s, path, err, errlen);
}

void an_set_free(struct an_set *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->r[i].path);
		json_decref(s->r[i].doc);
	}
	s->n = 0;
}

bool an_different_machines(const struct an_set *s, char *why, size_t len)
{
	why[0] = 0;
	for (int i = 1; i < s->n; i++) {
		const struct an_result *a = &s->r[0], *b = &s->r[i];
		bool cpu = (a->cpu && b->cpu) ? strcmp(a->cpu, b->cpu) != 0 : a->cpu != b->cpu;
		double ma = (double)a->mem_bytes, mb = (double)b->mem_bytes;
		bool mem = fabs(ma - mb) > 0.02 * fmax(ma, mb);
		if (!cpu && !mem)
			continue;
		snprintf(why, len, "%s (%s, %.1f GiB) and %s (%s, %.1f GiB) come from different "
			 "machines: compare policy outcomes (copies, reuse), not times",
			 a->path, a->cpu ? a->cpu : "cpu unknown", ma / (1 << 30), b->path,
			 b->cpu ? b->cpu : "cpu unknown", mb / (1 << 30));
		return true;
	}
	return false;
}

/* Columns in chronological era order, the baseline's era first so the
 * baseline can lead while every era stays one group. */
static int era_rank(const char *era, const char *first)
{
	static const char *const eras[] = { "mapcount", "page_count", "exclusive" };
	if (!strcmp(era, first))
		return -1;
	for (int i = 0; i < 3; i++)
		if (!strcmp(era, eras[i]))
			return i;
	return 3;
}

void an_view_init(struct an_view *v, const struct an_set *s, int baseline)
{
	const char *first = an_era_of(&s->r[baseline]);
	v->s = s;
	v->baseline = baseline;
	v->nk = 0;
	v->order[v->nk++] = baseline;
	for (int rank = -1; rank <= 3; rank++)
		for (int i = 0; i < s->n; i++)
			if (i != baseline && era_rank(an_era_of(&s->r[i]), first) == rank)
				v->order[v->nk++] = i;
}

/* "5.10.0-46-amd64" -> "5.10.0-46", "6.12.117+deb13-amd64" -> "6.12.117":
 * drop the distribution suffix, then '-' parts from the right until it
 * fits; the legend under each table gives the whole release. */
/* The measurement kernel boots one image in two policies: "mc" or "pc"
 * tells its two columns apart. */
static const char *policy_tag(const struct an_result *r)
{
	json_t *k = json_object_get(json_object_get(r->doc, "env"), "kernel");
	const char *cmd = json_string_value(json_object_get(k, "cmdline"));
	const char *p = cmd ? strstr(cmd, "cow_policy=") : NULL;
	if (!p)
		return NULL;
	return !strncmp(p + 11, "mapcount", 8) ? "mc" : !strncmp(p + 11, "page_count", 10) ? "pc" : NULL;
}

void an_short_name(const struct an_result *r, char *buf, size_t len, size_t maxw)
{
	const char *tag = policy_tag(r);
	if (tag && maxw > 4)
		maxw -= 3;
	snprintf(buf, len, "%s", r->release ? r->release : "?");
	buf[strcspn(buf, "+")] = 0;
	char *arch = strstr(buf, "-amd64");
	if (!arch)
		arch = strstr(buf, "-arm64");
	if (arch && !arch[6])
		*arch = 0;
	char *dash;
	while (strlen(buf) > maxw && (dash = strrchr(buf, '-')))
		*dash = 0;
	if (strlen(buf) > maxw)
		buf[maxw] = 0;
	if (tag && strlen(buf) + 4 <= len)
		strcat(strcat(buf, " "), tag);
}
