#!/bin/bash
# The conventions a script relies on: --version, --out - (the document on
# stdout, the tables on stderr, no file named '-'), the default output
# outside the checkout, and exit 4 (kselftest SKIP) when everything asked
# for was skipped. Exit 1 on a failed repetition is cli_worker_death's.
set -u
BIN=$(realpath "$1")
fail=0
no() { echo "FAIL: $*"; fail=1; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

"$BIN" --version | grep -Eq '^cowbench [0-9]+\.[0-9]+\.[0-9]+ \(git [^)]+\)$' ||
	no "--version: '$("$BIN" --version)'"

"$BIN" run fork-basic --reps 1 -s 1M --out - >doc.json 2>tables.txt
rc=$?
[[ $rc -eq 0 ]] || no "--out -: exit $rc"
[[ -e ./- ]] && no "--out - created a file named '-'"
python3 -c 'import json,sys; d=json.load(open("doc.json")); sys.exit(0 if d["complete"] and d["workloads"][0]["name"] == "fork-basic" else 1)' ||
	no "--out -: stdout is not one complete result document"
grep -q 'child-alive' tables.txt || no "--out -: the table did not go to stderr"

"$BIN" run fork-basic --reps 1 -o size=1M,2M --out sweep.json >sweep.txt 2>&1 ||
	no "sweep: exit $?"
python3 -c 'import json,sys; d=json.load(open("sweep.json")); sys.exit(0 if [w["params"]["size"] for w in d["workloads"]] == [1<<20, 2<<20] else 1)' ||
	no "sweep -o size=1M,2M did not run one instance per size"
"$BIN" run fork-basic -o size=1M,,2M >/dev/null 2>&1
[[ $? -eq 2 ]] || no "sweep with an empty value not refused with exit 2"

HOME=$tmp/home XDG_DATA_HOME= "$BIN" run fork-basic --reps 1 -s 1M >run.txt 2>&1 ||
	no "default output: exit $?"
ls "$tmp"/home/.local/share/cowbench/results/*.json >/dev/null 2>&1 ||
	no "default output not under \$HOME/.local/share/cowbench/results"
[[ -d $tmp/results ]] && no "default output went to ./results"

if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
	# ksm-vms needs root: as nobody everything asked for is skipped.
	mkdir -m 777 "$tmp/nobody"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BIN" run ksm-vms --reps 1 --out "$tmp/nobody/r.json" >skip.txt 2>&1
	rc=$?
	[[ $rc -eq 4 ]] || no "all skipped: exit $rc, want 4 ($(tail -1 skip.txt))"
	grep -q 'skipped' skip.txt || no "all skipped: no reason printed"
fi
[[ $fail -eq 0 ]] && echo "ok: --version, --out -, sweep, default output, exit 4"
exit $fail
