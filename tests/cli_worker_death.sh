#!/bin/bash
# A worker that dies under a run (SIGKILL, as the memory cgroup's OOM killer
# sends) fails its repetition with the signal named; the harness itself
# must survive the broken pipe, finish the other repetitions, write a
# complete result, put swap back and exit 1 (a repetition failed). MADV_PAGEOUT pressure, not a cgroup:
# the next repetition must not meet an OOM kill of its own (an ASan
# build's worker can, in a cgroup).
set -u
BIN=$1
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root"; exit 77; }
out=$(mktemp -d)
cleanup() { "$BIN" restore >/dev/null 2>&1; rm -rf "$out"; }
trap cleanup EXIT
swaps_before=$(tail -n +2 /proc/swaps | wc -l)

"$BIN" run swap-thrash --reps 2 -o pressure=pageout -o rounds=5 --out "$out/r.json" \
	>"$out/out" 2>&1 &
pid=$!
victim=
for _ in $(seq 400); do
	# The worker, not a short-lived probe child: it holds the 32 MiB working set.
	for child in $(pgrep -P "$pid"); do
		kib=$(awk '/^Vm(RSS|Swap):/ { n += $2 } END { print n + 0 }' \
			/proc/"$child"/status 2>/dev/null)
		[[ ${kib:-0} -gt 16384 ]] && victim=$child
	done
	[[ -n $victim ]] && break
	sleep 0.02
done
[[ -n $victim ]] || { echo "FAIL: no worker appeared"; wait $pid; exit 1; }
sleep 0.1
kill -9 "$victim"
wait $pid
rc=$?

python3 - "$out/r.json" "$victim" "$rc" <<'EOF'
import json, sys
path, victim, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
fail = []
if rc != 1:
    fail.append("run exit %d, want 1 (a repetition failed)" % rc)
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
exit $status
