#!/bin/bash
# `cowbench stat` on the command line: bad input exits 2 with one line;
# the exit status is the command's; -I prints interval lines and keeps them
# in the document; SIGINT writes the document so far with "complete": false.
set -u
BIN=$1
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

one_line_2() { # label want-substring cmd...
	local label=$1 want=$2; shift 2
	local err rc
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [[ $rc -eq 2 && $(printf '%s\n' "$err" | grep -c .) -eq 1 && $err == *"$want"* ]]; then
		ok
	else
		bad "$label: rc=$rc: $err"
	fi
}

one_line_2 "not root" "needs root" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$BIN" stat --out "$out/x.json" -- true
one_line_2 "missing pid" "no process" "$BIN" stat -p 4194300 --out "$out/x.json"
one_line_2 "missing command" "command not found" "$BIN" stat --out "$out/x.json" -- no-such-cmd-xyz
one_line_2 "nothing" "nothing to measure" "$BIN" stat --out "$out/x.json"
one_line_2 "both" "not both" "$BIN" stat -p 1 --out "$out/x.json" -- true
[[ -e $out/x.json ]] && bad "a document was written on bad input" || ok

"$BIN" stat --out "$out/s.json" -- sh -c 'exit 7' >/dev/null 2>&1
rc=$?
[[ $rc -eq 7 ]] && ok || bad "exit status $rc, not the command's 7"

"$BIN" stat -I 100 --out "$out/i.json" -- sleep 0.45 >/dev/null 2>"$out/i.err"
lines=$(grep -cE '^ +[0-9]+\.[0-9]{3} ' "$out/i.err")
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["workloads"][0]["reps"][0]["intervals"]))' "$out/i.json")
[[ $lines -ge 3 && $n -eq $lines ]] && ok || bad "-I 100 over 0.45 s: $lines lines, $n in the document"

"$BIN" stat --out "$out/int.json" -- sleep 30 >/dev/null 2>&1 &
st=$!
sleep 0.5
kill -INT $st
wait $st
rc=$?
cmdpid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["workloads"][0]["reps"][0]["phases"][0]["process"]["pid"])' "$out/int.json" 2>/dev/null)
sleep 0.2
[[ -n $cmdpid && -e /proc/$cmdpid ]] && grep -qx sleep "/proc/$cmdpid/comm" &&
	{ bad "SIGINT left the command running"; kill "$cmdpid"; }
c=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["complete"], d["workloads"][0]["name"])' "$out/int.json" 2>&1)
[[ $rc -eq 130 && $c == "False stat:sleep" ]] && ok || bad "SIGINT: rc=$rc document: $c"

# Without --out, from a directory that has no results/: the default place.
(cd "$out" && XDG_DATA_HOME=$out/xdg "$BIN" stat -- true >/dev/null 2>"$out/d.err")
rc=$?
ls "$out"/xdg/cowbench/results/*.json >/dev/null 2>&1 && [[ $rc -eq 0 ]] && ok ||
	bad "stat without --out outside the checkout: rc=$rc $(cat "$out/d.err")"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
