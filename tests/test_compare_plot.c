/* `cowbench compare` end to end on synthetic fixtures of three eras: the
 * gnuplot pipe makes non-empty PNG and SVG files and leaves nothing else
 * behind, and hostile labels in a document cannot break or inject into the
 * gnuplot script. Needs gnuplot (gnuplot-nox). */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "analysis.h"
#include "plot.h"
#include "testutil.h"

#define CMP FIXTURES "/compare"

/* The plots the synthetic fixtures give: no seed races (no repro:*). */
static const char *const plots[] = { "1-extra-copies", "2-memory", "4-fingerprint", "5-time" };

static long file_size(const char *dir, const char *name, const char *ext)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s%s", dir, name, ext);
	struct stat st;
	return stat(p, &st) ? -1 : (long)st.st_size;
}

static bool starts_with_file(const char *dir, const char *name, const void *magic, size_t n)
{
	char p[512], buf[16] = { 0 };
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "rb");
	if (!f)
		return false;
	size_t got = fread(buf, 1, n, f);
	fclose(f);
	return got == n && !memcmp(buf, magic, n);
}

static char *slurp(const char *dir, const char *name)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	char *s = cb_read_file(p, NULL);
	if (!s)
		fail_msg("cannot read %s", p);
	return s;
}

/* A PNG's width from its IHDR chunk. */
static long png_width(const char *path)
{
	unsigned char h[24];
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t got = fread(h, 1, sizeof h, f);
	fclose(f);
	if (got != sizeof h)
		return -1;
	return (long)h[16] << 24 | (long)h[17] << 16 | (long)h[18] << 8 | h[19];
}

/* Every PNG in dir fits a slide: at most 1600 px wide. */
static void check_widths(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *dot = strrchr(e->d_name, '.');
		if (!dot || strcmp(dot, ".png"))
			continue;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		long w = png_width(p);
		if (w <= 0 || w > 1600)
			fail_msg("%s is %ld px wide", p, w);
	}
	closedir(d);
}

/* The first n plots exist as PNG and SVG; every PNG fits a slide. */
static void check_plots(const char *dir, size_t n)
{
	check_widths(dir);
	for (size_t i = 0; i < n; i++) {
		char name[64];
		if (file_size(dir, plots[i], ".png") <= 1000 || file_size(dir, plots[i], ".svg") <= 1000)
			fail_msg("%s/%s.png or .svg missing or nearly empty", dir, plots[i]);
		snprintf(name, sizeof name, "%s.png", plots[i]);
		assert_true(starts_with_file(dir, name, "\x89PNG\r\n", 6));
		snprintf(name, sizeof name, "%s.svg", plots[i]);
		char *svg = slurp(dir, name);
		assert_non_null(strstr(svg, "<svg"));
		assert_non_null(strstr(svg, "</svg>"));
		free(svg);
	}
}

/* Only the outputs: no script or data file left behind. */
static void check_only_outputs(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *dot = strrchr(e->d_name, '.');
		if (e->d_name[0] == '.')
			continue;
		if (!dot || (strcmp(dot, ".png") && strcmp(dot, ".svg") && strcmp(dot, ".md") &&
			     strcmp(dot, ".csv") && strcmp(dot, ".json")))
			fail_msg("unexpected file %s/%s", dir, e->d_name);
	}
	closedir(d);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* Outputs of a passing test go; a failing one keeps them for a look. */
static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_three_eras(void **state)
{
	(void)state;
	char dir[] = "/tmp/cb-test-compare-XXXXXX";
	assert_non_null(mkdtemp(dir));
	const char *in[] = { CMP "/synthetic-6.1.json", CMP "/synthetic-5.10.json",
			     CMP "/synthetic-5.4.json" };
	struct an_opts o = { .outdir = dir, .md = true, .csv = true, .json = true, .plots = true };
	assert_int_equal(an_compare_main(in, 3, NULL, &o), 0);
	check_plots(dir, 4);
	check_only_outputs(dir);
	char *md = slurp(dir, "report.md");
	assert_non_null(strstr(md, "| swap-cycle write | 256 | 0 (0) | 0 (0) | 256 (256) |"));
	assert_non_null(strstr(md, "- swap-cycle write: 6.1.192 (exclusive) and 5.4.0 (mapcount) "
				   "copy 0; 5.10.262 (page\\_count) copies 256 of 256 pages."));
	/* 5.4 is an emulated guest and on another machine: both are said. */
	assert_non_null(strstr(md, "their times are not plotted"));
	assert_non_null(strstr(md, "**Different machines:**"));
	assert_non_null(strstr(md, "(1-extra-copies.png)"));
	free(md);
	char *csv = slurp(dir, "table.csv");
	assert_non_null(strstr(csv, "\"swap-cycle\",\"write\",\"copied\",\"pages\",\"median\","
				    "\"5.10.262-synthetic (page_count)\""));
	free(csv);
	char *jp = cb_strdup_printf("%s/table.json", dir);
	json_t *j = json_load_file(jp, 0, NULL);
	free(jp);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "kernels")), 3);
	json_decref(j);
	rm_tree(dir);
}

static const char hostile[] =
	"6.1'\"\\ \n`touch %s/BACKTICK` @x '; system('touch %s/SYSTEM'); print '\\\" "
	"system(\"touch %s/SYSTEM2\") EOD\nEOD";

static void set_hostile(json_t *d, const char *dir)
{
	char *h = cb_strdup_printf(hostile, dir, dir, dir);
	json_t *k = json_object_get(json_object_get(d, "env"), "kernel");
	json_object_set_new(k, "release", json_string(h));
	json_t *wl = json_array_get(json_object_get(d, "workloads"), 1);
	json_object_set_new(wl, "name", json_string(h));
	json_t *sc = json_object_get(json_object_get(d, "fingerprint"), "scenarios");
	json_object_set(sc, h, json_object_get(sc, "S3a"));
	size_t i;
	json_t *rep;
	json_array_foreach(json_object_get(wl, "reps"), i, rep)
		json_object_set_new(json_array_get(json_object_get(rep, "phases"), 1), "name",
				    json_string(h));
	free(h);
}

static void test_hostile_labels(void **state)
{
	(void)state;
	char dir[] = "/tmp/cb-test-hostile-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *q = an_gp_quote("a'b\\c\nd\"e");
	assert_string_equal(q, "'a''b\\c d\"e'");
	free(q);
	json_t *d = json_load_file(CMP "/synthetic-5.10.json", 0, NULL);
	assert_non_null(d);
	set_hostile(d, dir);
	char *in = cb_strdup_printf("%s/hostile.json", dir);
	assert_int_equal(json_dump_file(d, in, JSON_INDENT(1)), 0);
	json_decref(d);
	char *out = cb_strdup_printf("%s/out", dir);
	const char *ins[] = { CMP "/synthetic-6.1.json", in };
	struct an_opts o = { .outdir = out, .md = true, .plots = true };
	assert_int_equal(an_compare_main(ins, 2, NULL, &o), 0);
	check_plots(out, 3); /* two kernels whose times agree: no time plot */
	check_only_outputs(out);
	static const char *const marks[] = { "BACKTICK", "SYSTEM", "SYSTEM2" };
	for (int i = 0; i < 3; i++)
		if (file_size(dir, marks[i], "") >= 0)
			fail_msg("gnuplot ran a command from a label: %s/%s exists", dir, marks[i]);
	/* The label reaches the picture as text (quotes included). */
	/* The hostile scenario id, cut to 24 characters on the axis. */
	char *svg = slurp(out, "4-fingerprint.svg");
	assert_non_null(strstr(svg, "`touch /tmp/cb-t"));
	assert_non_null(strstr(svg, "6.1&apos;") ? svg : strstr(svg, "6.1'"));
	free(svg);
	free(in);
	free(out);
	rm_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_eras),
		cmocka_unit_test(test_hostile_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
