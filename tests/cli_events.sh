#!/bin/bash
# perf events given with -e: a name neither libpfm4 nor tracefs knows is bad
# input (exit 2, one line naming it, nothing written); an event that exists
# but cannot be opened here is recorded unavailable with the reason and
# printed in the run's output.
set -u
BIN=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for ev in bogus:event no_such_event_xyz; do
	"$BIN" run -e "$ev" fork-basic --reps 1 --size 1M --out "$out/bad.json" >"$out/o" 2>"$out/e"
	rc=$?
	[ $rc -eq 2 ] || fail "-e $ev exited $rc, want 2"
	# (other cowbench runs on the machine may add a "waiting for" line)
	grep -v "waiting for another cowbench run" "$out/e" >"$out/e1"
	[ "$(wc -l <"$out/e1")" -eq 1 ] || fail "-e $ev: want one line, got: $(cat "$out/e")"
	grep -q "'$ev'" "$out/e" || fail "-e $ev: the line does not name the event: $(cat "$out/e")"
	[ ! -e "$out/bad.json" ] || fail "-e $ev wrote a result"
done

# An event libpfm4 knows; on a machine without a PMU (this VM, TCG guests)
# it cannot open: the run goes on and says why.
"$BIN" run -e cycles fork-basic --reps 1 --size 1M --out "$out/r.json" >"$out/o" 2>"$out/e" ||
	fail "-e cycles: run failed: $(cat "$out/e")"
/usr/bin/python3 - "$out/r.json" "$out/o" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
rep = d["workloads"][0]["reps"][0]
un = rep["perf_unavailable"]
ph = rep["phases"][0]
if "perf.cycles" in un:
    assert un["perf.cycles"], un
    assert "perf.cycles unavailable: " + un["perf.cycles"] in text, text
    assert "perf.cycles" not in ph["counters"]
else:
    assert isinstance(ph["counters"]["perf.cycles"], int), ph["counters"]
print("events: 3 passed, 0 failed")
PY
