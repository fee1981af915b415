#!/bin/bash
# Bad command-line input: exit status 2, one line on stderr naming the bad
# value, and no result file written.
set -u
BIN=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 fail=0

check() { # expected-substring args...
	local want=$1; shift
	local err rc
	if [[ " $* " == *" --out "* ]]; then
		err=$("$BIN" "$@" 2>&1 >/dev/null)
	else
		err=$("$BIN" "$@" --out "$out/r.json" 2>&1 >/dev/null)
	fi
	rc=$?
	local lines
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [[ $rc -eq 2 && $lines -eq 1 && $err == *"$want"* && ! -e $out/r.json ]]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: cowbench $* -> rc=$rc lines=$lines: $err (wanted '$want')"
	fi
}

check "'nope'" run nope
check "'-5'" run fork-basic --size -5
check "'0'" run fork-basic --reps 0
check "'abc'" run fork-basic --reps abc
check "'bogus'" run fork-basic -o bogus=1
check "'maybe'" run fork-basic -o thp=maybe
check "'12Q'" run fork-basic -o size=12Q
check "'1'" run fork-basic -o size=1
check "'--frobnicate'" run fork-basic --frobnicate
check "'fork-basic.nokey'" run fork-basic -o fork-basic.nokey=3
check "'-o sizeless'" run fork-basic -o sizeless
check "exceeds the safe share" run fork-basic --size 1T
check "'/nonexistent-dir'" run fork-basic --out /nonexistent-dir/r.json
check "'frob'" frob
check "'--json=1'" list --json=1
check "'-x'" env -x
check "'--reps'" run fork-basic --out "$out/r.json" --reps

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
