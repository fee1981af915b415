#!/bin/bash
# `cowbench compare` rejects corrupt inputs with exit status 2 and one line
# naming the file and the position or field; good inputs give exit 0.
set -u
bin=$1
fx=$(dirname "$0")/fixtures/compare
out=$(mktemp -d /tmp/cb-cli-compare-XXXXXX)
fail=0

expect_reject() { # FILE PATTERN
	local err rc
	err=$("$bin" compare "$1" "$fx/synthetic-6.1.json" --out "$out/r" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 2 ]; then echo "FAIL $1: exit $rc, want 2"; fail=1; fi
	if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then echo "FAIL $1: not one line: $err"; fail=1; fi
	if ! printf '%s' "$err" | grep -qF -- "$2"; then echo "FAIL $1: '$err' lacks '$2'"; fail=1; fi
}

expect_reject "$fx/bad/truncated.json" "bad/truncated.json:242:3: invalid JSON"
expect_reject "$fx/bad/wrong-type.json" \
	"bad/wrong-type.json: field workloads[1].reps[2].phases[1].copied: expected number or null, got string"
expect_reject "$fx/bad/wrong-schema.json" "bad/wrong-schema.json: schema 'cowbench-result/2' is not supported"
printf '' > "$out/empty.json"
expect_reject "$out/empty.json" "empty.json:"
echo '[1, 2]' > "$out/array.json"
expect_reject "$out/array.json" "array.json: top level: expected object, got array"
expect_reject "$out/missing.json" "missing.json: No such file or directory"

# Usage errors are status 2 as well.
"$bin" compare --format md,pdf "$fx/synthetic-6.1.json" --out "$out/r" >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: unknown format not rejected with 2"; fail=1; }
"$bin" compare --out "$out/r" >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: no inputs not rejected with 2"; fail=1; }

# A directory of results, with an explicit baseline that is not the first.
"$bin" compare "$fx" --baseline "$fx/synthetic-6.1.json" --out "$out/ok" --format md,csv \
	> "$out/stdout" 2>&1
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: good inputs exit $rc"; cat "$out/stdout"; fail=1; }
grep -q "^baseline: 6.1.192-synthetic (exclusive)" "$out/stdout" ||
	{ echo "FAIL: baseline not honoured"; cat "$out/stdout"; fail=1; }
[ -s "$out/ok/report.md" ] && [ -s "$out/ok/table.csv" ] && [ ! -e "$out/ok/table.json" ] ||
	{ echo "FAIL: --format md,csv outputs"; fail=1; }

# Only emulated results, with a size sweep: their times are not plotted, so
# the sweep's time panel is empty; it is left out with a note, never a failure.
"$bin" compare "$fx/emulated" --out "$out/emu" > "$out/emu.stdout" 2>&1
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: all-emulated inputs exit $rc"; cat "$out/emu.stdout"; fail=1; }
grep -q "time panel left out" "$out/emu/report.md" ||
	{ echo "FAIL: no note on the sweep's missing time panel"; fail=1; }
[ -s "$out/emu/6-sweep-1.png" ] || { echo "FAIL: sweep's memory panel not drawn"; fail=1; }

# The pins table of two real guest runs (longterm-pin, S7e): the read-only
# RDMA MR pins with FOLL_WRITE|FOLL_FORCE on 6.1 (soft-dirty, writable, no
# write fault) and unshares on 6.12 (clean, read-only: a fault per page).
pins=$(dirname "$0")/fixtures/pins
"$bin" compare "$pins/guest-6.1.0-56.json" "$pins/guest-6.12.117.json" --out "$out/pins" \
	--format md > "$out/pins.stdout" 2>&1
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: pins inputs exit $rc"; cat "$out/pins.stdout"; fail=1; }
for row in "| rdma-fork-pin | 0 / 256+0 / 0 / 256 | 0 / 256+0 / 256 / 0 |" \
	   "| iouring-fork-pin | 0 / 256+0 / 0 / 256 | 0 / 256+0 / 0 / 256 |" \
	   "| vmsplice-fork-pin | 256 / 0+256 / 256 / 0 | 256 / 0+256 / 256 / 0 |"; do
	grep -qF -- "$row" "$out/pins/report.md" ||
		{ echo "FAIL: pins table lacks '$row'"; fail=1; }
done

# --fail-on: exit 1 on a regression against the baseline, 0 without one,
# 2 on a malformed rule or a metric no result has.
fail_on() { # WANT RULE
	"$bin" compare "$fx/synthetic-6.1.json" "$fx/synthetic-5.10.json" --out "$out/g" \
		--format md --fail-on "$2" > "$out/g.stdout" 2> "$out/g.stderr"
	local rc=$?
	[ $rc -eq "$1" ] || { echo "FAIL: --fail-on '$2' exit $rc, want $1"; cat "$out/g.stderr"; fail=1; }
}
fail_on 1 'extra_copies>0'
fail_on 1 'copied>+10%'
fail_on 0 'copied>256'
fail_on 0 'faults_major>1000000'
fail_on 2 'copied<0'
fail_on 2 'copied>'
fail_on 2 'copied>abc'
fail_on 2 'extra_copy>0'
grep -q "^regression: swap-cycle write copied: 5.10.262-synthetic 256" "$out/g.stdout" ||
	fail_on 1 'copied>0'
grep -q "regression: swap-cycle write copied" "$out/g.stdout" ||
	{ echo "FAIL: no regression line"; fail=1; }

# An interrupted run's document is compared, with a warning.
sed 's/"complete": true/"complete": false/' "$fx/synthetic-5.10.json" > "$out/partial.json"
grep -q '"complete": false' "$out/partial.json" || { echo "FAIL: fixture lacks complete"; fail=1; }
"$bin" compare "$fx/synthetic-6.1.json" "$out/partial.json" --out "$out/p" > /dev/null \
	2> "$out/p.stderr"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: incomplete document exit $rc"; fail=1; }
grep -q "partial.json is incomplete" "$out/p.stderr" ||
	{ echo "FAIL: no warning on an incomplete document"; cat "$out/p.stderr"; fail=1; }
grep -q "^\*\*Incomplete:\*\*" "$out/p/report.md" ||
	{ echo "FAIL: report does not say the document is incomplete"; fail=1; }

# Documents with the issue-11 keys and a size sweep: the causes stacked in
# the memory plot (only those that occur), the capacity slope on the terminal.
nk=$fx/newkeys
"$bin" compare "$nk/page_count.json" "$nk/exclusive.json" --out "$out/nk" > /dev/null 2>&1 &&
	"$bin" compare "$nk/page_count.json" "$nk/exclusive.json" --out "$out/nk-cap" --capacity \
	> "$out/nk.stdout" 2>&1
rc=$?
[ -e "$out/nk-cap" ] && { echo "FAIL: --capacity wrote files"; fail=1; }
[ $rc -eq 0 ] || { echo "FAIL: issue-11 keys exit $rc"; cat "$out/nk.stdout"; fail=1; }
grep -q "swapcache" "$out/nk/2-memory.svg" && grep -q "lru_batch" "$out/nk/2-memory.svg" &&
	! grep -q ">ksm<" "$out/nk/2-memory.svg" ||
	{ echo "FAIL: memory plot does not stack the causes that occur"; fail=1; }
grep -q "^5.10.262 (page_count) *4M,8M,16M .* 512 MiB/GiB$" "$out/nk.stdout" ||
	{ echo "FAIL: no capacity slope"; cat "$out/nk.stdout"; fail=1; }

# The committed kernel matrix: a summary that fits one screen, a report
# under 400 lines, a terminal of 100 columns, plots that fit a slide.
results=$(dirname "$0")/../results
if ls "$results"/*.json > /dev/null 2>&1; then
	"$bin" compare "$results" --out "$out/m" > "$out/m.stdout" 2> "$out/m.stderr"
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL: results/ exit $rc"; cat "$out/m.stderr"; fail=1; }
	lines=$(wc -l < "$out/m/report.md")
	[ "$lines" -le 400 ] || { echo "FAIL: report.md has $lines lines (> 400)"; fail=1; }
	# The summary: from the top to the first section after it.
	summary=$(awk '/^## / && seen++ { exit } { n++ } END { print n }' "$out/m/report.md")
	[ "$summary" -le 60 ] || { echo "FAIL: summary has $summary lines (> 60)"; fail=1; }
	grep -q "^## Summary" "$out/m/report.md" || { echo "FAIL: no summary"; fail=1; }
	wide=$(cat "$out/m.stdout" "$out/m.stderr" | awk 'length($0) > 100' | wc -l)
	[ "$wide" -eq 0 ] || { echo "FAIL: $wide terminal lines wider than 100"; fail=1; }
	tlines=$(sed '/^report: /,$d' "$out/m.stdout" | wc -l)
	[ "$tlines" -le 60 ] || { echo "FAIL: terminal summary has $tlines lines (> 60)"; fail=1; }
	grep -q "docs/scenarios.md" "$out/m/report.md" && grep -q "docs/metrics.md" "$out/m/report.md" ||
		{ echo "FAIL: report does not point to docs/"; fail=1; }
	grep -q "docs/eras.md" "$out/m"/*.svg "$out/m/report.md" &&
		{ echo "FAIL: a plot or the report points to docs/eras.md"; fail=1; }
	for png in "$out/m"/*.png; do
		w=$(od -An -tu1 -j16 -N4 "$png" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
		[ "$w" -le 1600 ] || { echo "FAIL: $png is $w px wide"; fail=1; }
	done
	[ -s "$out/m/table.csv" ] && [ -s "$out/m/table.json" ] ||
		{ echo "FAIL: the long form is not in table.csv/json"; fail=1; }
fi

# An app workload in two guests (results/app: app:redis-bgsave on 5.10 and
# 6.1): every phase side by side with the workload's own metrics, era names
# whole in the summary's header, a terminal of 100 columns.
app=$results/app
if ls "$app"/vm_redis_*.json > /dev/null 2>&1; then
	"$bin" compare "$app"/vm_redis_*.json --out "$out/app" > "$out/app.stdout" 2>&1
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL: results/app exit $rc"; cat "$out/app.stdout"; fail=1; }
	wide=$(awk 'length($0) > 100' "$out/app.stdout" | wc -l)
	[ "$wide" -eq 0 ] || { echo "FAIL: app: $wide terminal lines wider than 100"; fail=1; }
	grep -q "^  page_count *exclusive$" "$out/app.stdout" ||
		{ echo "FAIL: app: era names cut in the summary header"; cat "$out/app.stdout"; fail=1; }
	for re in "^  before-save  written pages " "^  during-save  written pages " \
		  "^  after-save   written pages " "^ *reused  " "^ *copy MiB  " \
		  "^ *redis_rdb_last_cow_size \[MiB\]  "; do
		grep -q "$re" "$out/app.stdout" ||
			{ echo "FAIL: app: no line '$re'"; cat "$out/app.stdout"; fail=1; }
	done
	grep -q "^## Applications, phase by phase" "$out/app/report.md" &&
		grep -q "^| after-save | written pages |" "$out/app/report.md" ||
		{ echo "FAIL: app: no phase table in report.md"; fail=1; }
fi

[ $fail -eq 0 ] && rm -rf "$out"
exit $fail
