#!/bin/bash
# A worker that dies under a run (SIGKILL, as the memory cgroup's OOM killer
# sends) fails its repetition with the signal named; the harness itself
# must survive the broken pipe, finish the other repetitions, write a
# complete result and put swap and the cgroup back.
set -u
BIN=$1
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root"; exit 77; }
CG=/sys/fs/cgroup/memory
[[ -d $CG ]] || CG=/sys/fs/cgroup
out=$(mktemp -d)
cleanup() { "$BIN" restore >/dev/null 2>&1; rm -rf "$out"; }
trap cleanup EXIT
swaps_before=$(tail -n +2 /proc/swaps | wc -l)

"$BIN" run swap-thrash --reps 2 -o pressure=cgroup -o rounds=5 --out "$out/r.json" \
	>"$out/out" 2>&1 &
pid=$!
victim=
for _ in $(seq 400); do
	victim=$(cat "$CG"/cowbench-"$pid"/cgroup.procs 2>/dev/null | head -1)
	[[ -n $victim ]] && break
	sleep 0.02
done
[[ -n $victim ]] || { echo "skipped: no worker appeared in a cowbench cgroup"; wait $pid; exit 77; }
sleep 0.3
kill -9 "$victim"
wait $pid
rc=$?

python3 - "$out/r.json" "$victim" "$rc" <<'EOF'
import json, sys
path, victim, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
fail = []
if rc != 0:
    fail.append("run exit %d, want 0" % rc)
d = json.load(open(path))
if d.get("complete") is not True:
    fail.append("result not complete")
reps = d["workloads"][0]["reps"]
errors = [r.get("error") for r in reps]
if not errors[0] or "worker %s killed by signal 9" % victim not in errors[0]:
    fail.append("rep 0 error %r does not name worker %s and signal 9" % (errors[0], victim))
if len(reps) != 2 or errors[1]:
    fail.append("rep 1 did not run cleanly after the death: %r" % errors[1:])
for f in fail:
    print("FAIL:", f)
print("worker death: rep 0 error: %s" % errors[0])
sys.exit(1 if fail else 0)
EOF
status=$?
swaps_after=$(tail -n +2 /proc/swaps | wc -l)
if [[ $swaps_after -ne $swaps_before ]]; then
	echo "FAIL: swap devices $swaps_before before, $swaps_after after"
	status=1
fi
if ls -d "$CG"/cowbench-"$pid" >/dev/null 2>&1; then
	echo "FAIL: cgroup $CG/cowbench-$pid left behind"
	status=1
fi
exit $status
