#!/bin/bash
# `cowbench stat` on tests/progs/cow_known: the parent copies N pages and
# reuses M, the grandchild copies K, counted in the program's own region,
# both under `stat -- PROG` and under `stat -p PID` attached before the fork.
# The document validates against the schema. Kernels before 5.19 show no
# PG_anon_exclusive: there reused must be null with its reason (copies still
# exact), and the test says so.
set -u
BIN=$1 KNOWN=$2
N=64 M=32 K=16
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root"; exit 77; }
SCHEMA=$(dirname "$0")/../bench/schema/result.schema.json
out=$(mktemp -d)
bg=
trap '[[ -n $bg ]] && kill $bg 2>/dev/null; rm -rf "$out"' EXIT
fail=0

check() { # doc prog-output label
	python3 - "$1" "$2" "$3" "$SCHEMA" $N $M $K <<'PY' || fail=1
import json, re, sys
doc, progout, label, schema = sys.argv[1:5]
n, m, k = map(int, sys.argv[5:8])
region = re.search(r"region (anon@[0-9a-f]+)", open(progout).read()).group(1)
d = json.load(open(doc))
try:
    import jsonschema
    jsonschema.validate(d, json.load(open(schema)))
except ImportError:
    pass
w = d["workloads"][0]
assert w["name"] == "stat:cow_known" and w["suite"] == "stat", w["name"]
assert d["complete"] is True
ph = {p["name"].split(" ", 1)[1]: p for p in w["reps"][0]["phases"] if p["name"] != "total"}
def got(proc, key):
    return ph[proc]["mappings"].get(region, {}).get(key, 0)
bad = []
want = [("cow_known", "copied", n), ("ck-grand", "copied", k), ("ck-child", "copied", 0)]
reuse = w["reps"][0]["notes"]["reuse_visible"].startswith("yes")
if reuse:
    want += [("cow_known", "reused", m), ("ck-grand", "reused", 0)]
else:
    assert ph["cow_known"]["reused"] is None and ph["cow_known"]["unavailable"]["reused"]
    print(f"{label}: this kernel hides PG_anon_exclusive (< 5.19): reuses not visible, "
          "copies checked only")
for proc, key, v in want:
    if got(proc, key) != v:
        bad.append(f"{proc} {key} {got(proc, key)} != {v}")
# The fault log (x86) saw at least the region's user write faults.
fl = ph["cow_known"]["metrics"].get("faultlog_cow_faults")
if fl is not None and fl["value"] < n + m:
    bad.append(f"fault log: {fl['value']} COW write faults < {n + m}")
if bad:
    sys.exit(f"FAIL {label}: " + "; ".join(bad))
print(f"{label}: parent copied {got('cow_known','copied')} reused "
      f"{got('cow_known','reused')}, grandchild copied {got('ck-grand','copied')}: ok")
PY
}

# stat -- PROG: the exit status is the program's.
"$BIN" stat --out "$out/cmd.json" -- "$KNOWN" $N $M $K >"$out/cmd.out" 2>"$out/cmd.err"
rc=$?
[[ $rc -eq 0 ]] || { echo "FAIL: stat -- cow_known exited $rc"; cat "$out/cmd.err"; fail=1; }
check "$out/cmd.json" "$out/cmd.out" "stat -- cow_known"

# stat -p PID, attached while the program waits for SIGUSR1 before forking.
"$KNOWN" $N $M $K --wait >"$out/p.out" &
bg=$!
for _ in $(seq 100); do grep -q ready "$out/p.out" && break; sleep 0.05; done
"$BIN" stat -p $bg --out "$out/p.json" >"$out/pstat.out" 2>"$out/p.err" &
st=$!
for _ in $(seq 100); do grep -q attached "$out/p.err" && break; sleep 0.05; done
kill -USR1 $bg
wait $st
rc=$?
bg=
[[ $rc -eq 0 ]] || { echo "FAIL: stat -p exited $rc"; cat "$out/p.err"; fail=1; }
check "$out/p.json" "$out/p.out" "stat -p PID"
exit $fail
