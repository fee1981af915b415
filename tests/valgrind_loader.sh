#!/bin/bash
# The loader under valgrind: `cowbench compare` over every good and bad
# compare fixture and every fuzz seed. Valgrind errors (invalid reads,
# uninitialised values, definite leaks) exit 99; compare itself may
# reject a document (exit 2), never crash.
set -u
BIN=$(realpath "$1")
SRC=$(cd "$(dirname "$0")" && pwd)
command -v valgrind >/dev/null || { echo "skipped: no valgrind"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
n=0 bad=0
for f in "$SRC"/fixtures/compare/*.json "$SRC"/fixtures/compare/bad/*.json "$SRC"/fuzz/corpus/*.json; do
	n=$((n + 1))
	"${VG[@]}" "$BIN" compare "$f" --out "$out/r" --format md,csv,json >/dev/null 2>"$out/err"
	rc=$?
	if ((rc == 99 || rc > 2)); then
		bad=$((bad + 1))
		echo "FAIL: $(basename "$f"): rc=$rc"
		head -30 "$out/err"
	fi
done
# Several documents at once: the cross-kernel table and Welch tests.
n=$((n + 1))
"${VG[@]}" "$BIN" compare "$SRC"/fixtures/compare/synthetic-*.json --out "$out/r" \
	--format md,csv,json >/dev/null 2>"$out/err" || { bad=$((bad + 1)); head -30 "$out/err"; }
echo "valgrind: $n compare runs, $bad with errors"
[[ $bad -eq 0 ]]
