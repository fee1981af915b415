#!/bin/bash
# The system-state journal: a run that enabled KSM is killed with SIGKILL;
# a second run refuses to start; `cowbench restore` puts every KSM knob
# back. Then SIGTERM: the run restores by itself.
set -u
BIN=$1
KSM=/sys/kernel/mm/ksm
[[ $(id -u) -eq 0 && -w $KSM/run ]] || { echo "skipped: needs root and KSM"; exit 77; }
out=$(mktemp -d)
state=${COWBENCH_STATE_DIR:?}
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
knobs() { cat $KSM/run $KSM/pages_to_scan $KSM/sleep_millisecs | tr '\n' ' '; }
cleanup() { "$BIN" restore >/dev/null 2>&1; rm -rf "$out"; }
trap cleanup EXIT

before=$(knobs)

# Starts a long ksm-vms run and waits until it has journaled and switched
# KSM on (the journal line comes first, then the write).
start_run() {
	"$BIN" run ksm-vms --reps 200 --out "$out/r.json" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		if grep -q "ksm/run" "$state/journal" 2>/dev/null && [[ $(cat $KSM/run) == 1 ]]; then
			sleep 0.2
			return 0
		fi
		sleep 0.05
	done
	return 1
}

start_run || bad "KSM never switched on"
kill -9 "$pid"; wait "$pid" 2>/dev/null
[[ -s $state/journal ]] && ok || bad "no journal after SIGKILL"
grep -q "^W	$KSM/run	" "$state/journal" && ok || bad "journal lacks the original KSM run value"
err=$("$BIN" run fork-basic --reps 1 --out "$out/r2.json" 2>&1 >/dev/null)
rc=$?
[[ $rc -ne 0 && $err == *"cowbench restore"* && ! -e $out/r2.json ]] && ok ||
	bad "second run started over a stale journal (rc=$rc: $err)"
"$BIN" restore >/dev/null 2>&1 && ok || bad "restore failed"
[[ $(knobs) == "$before" ]] && ok || bad "restore left KSM at '$(knobs)', was '$before'"
[[ ! -e $state/journal ]] && ok || bad "journal still there after restore"
sleep 0.5
pgrep -f "cowbench run ksm-vms" >/dev/null && bad "workload processes left" || ok

start_run || bad "KSM never switched on (SIGTERM test)"
kill -TERM "$pid"; wait "$pid" 2>/dev/null
[[ $(knobs) == "$before" ]] && ok || bad "SIGTERM left KSM at '$(knobs)', was '$before'"
[[ ! -e $state/journal ]] && ok || bad "journal still there after SIGTERM"
[[ ! -e $out/r.json ]] || ! grep -q '"complete": true' "$out/r.json" && ok ||
	bad "an interrupted run claims to be complete"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
