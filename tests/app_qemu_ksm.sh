#!/bin/bash
# app:qemu-ksm: two real QEMU/TCG guests merged by KSM. Their write_pages
# pages are merged; guest 1's rewrite copies every one of them (KSM pages
# that guest 0 still maps); guest 0's rewrite then hits KSM pages it maps
# alone: copied since 5.9 (extra copies, cause ksm), reused before. The
# guest kernels' own writes add a few pages, bounded here. No QEMU process
# or temporary directory is left behind, also when interrupted.
# Skips (77) without qemu or a guest kernel, unless COWBENCH_REQUIRE_QEMU=1.
set -u
BIN=$1
skip() {
	if [[ ${COWBENCH_REQUIRE_QEMU:-0} == 1 ]]; then echo "FAIL (required): $*"; exit 1; fi
	echo "skipped: $*"; exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root"
[[ -d /sys/kernel/mm/ksm ]] || skip "no KSM"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
before=$(ls -d /tmp/cowbench-?????? /tmp/cowbench-*/qemu-ksm-* 2>/dev/null | wc -l)
"$BIN" run app:qemu-ksm --reps 1 -o write_pages=1024 --out "$out/r.json" >"$out/log" 2>&1 ||
	{ echo "FAIL: run failed"; cat "$out/log"; exit 1; }
cat "$out/log"
why=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["workloads"][0]["skipped"] or "")' "$out/r.json")
[[ -n $why ]] && skip "$why"
fail=0
python3 - "$out/r.json" "$(uname -r)" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
w = d["workloads"][0]
r = w["reps"][0]
assert r["error"] is None, r["error"]
ph = {p["name"]: p for p in r["phases"]}
m = lambda p, k: ph[p]["metrics"][k]["value"]
N, noise = 1024, 256
assert m("settle", "guests_merging_pages") >= 2 * N, m("settle", "guests_merging_pages")
s = ph["several-mappers"]
assert N <= s["copied"] <= N + noise, s["copied"]
assert s["written"] == s["copied"] + s["reused"], s
assert s["extra_copies"] <= noise, s["extra_copies"]
l = ph["last-mapper"]
major, minor = (int(x) for x in sys.argv[2].split(".")[:2])
if (major, minor) >= (5, 9):
    assert N <= l["copied"] <= N + noise, l["copied"]
    assert l["extra_by_cause"]["ksm"] >= N, l["extra_by_cause"]
else:
    assert l["reused"] >= N, l["reused"]
print(f"merged {int(m('settle', 'guests_merging_pages'))} pages; several-mappers copied "
      f"{s['copied']} (extra {s['extra_copies']}); last-mapper copied {l['copied']}, "
      f"extra by ksm {l['extra_by_cause']['ksm']}, reused {l['reused']}")
PY
pids=$(python3 -c 'import json,sys,re; n=json.load(open(sys.argv[1]))["workloads"][0]["reps"][0]["notes"]["guests"]; print(" ".join(re.search(r"pids ([\d, .]+)", n).group(1).replace(",", " ").replace(".", "").split()))' "$out/r.json")
for pid in $pids; do
	grep -q qemu "/proc/$pid/comm" 2>/dev/null && { echo "FAIL: QEMU $pid still runs"; fail=1; }
done
after=$(ls -d /tmp/cowbench-?????? /tmp/cowbench-*/qemu-ksm-* 2>/dev/null | wc -l)
[[ $after -le $before ]] || { echo "FAIL: a /tmp/cowbench-XXXXXX directory was left"; fail=1; }
# Interrupted once the guests run: no QEMU, no temporary directory left.
"$BIN" run app:qemu-ksm --reps 1 --out "$out/int.json" >"$out/int.log" 2>&1 &
run=$!
for _ in $(seq 300); do
	ls /tmp/cowbench-??????/qemu-ksm-*/ctl-1.sock >/dev/null 2>&1 && break
	sleep 0.1
done
sleep 1
kill -INT $run
wait $run
rc=$?
[[ $rc -eq 130 ]] || { echo "FAIL: the interrupted run ended with $rc, not 130"; fail=1; }
sleep 0.5
pgrep -f 'cowbench-[^ ]*/qemu-ksm-' >/dev/null && { echo "FAIL: QEMU left after SIGINT"; fail=1; }
after=$(ls -d /tmp/cowbench-?????? /tmp/cowbench-*/qemu-ksm-* 2>/dev/null | wc -l)
[[ $after -le $before ]] || { echo "FAIL: SIGINT left a /tmp/cowbench-XXXXXX directory"; fail=1; }
exit $fail
