#!/bin/bash
# A run killed with SIGKILL while it writes its result document leaves no
# "*.tmp.PID" behind once `cowbench restore` ran: the temp file is in the
# journal before it exists. The document is made big (many repetitions of
# a tiny fork-basic, every phase with its /proc counters) so the write
# takes long enough to be hit; each trial waits for the temp file to
# appear and kills after a random delay within the write. At least one
# kill must land while the temp file exists, or the test proves nothing.
#   cli_doc_kill.sh COWBENCH [TRIALS]
set -u
BIN=$(realpath "$1")
trials=${2:-2}
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root (the journal)"; exit 77; }
: "${COWBENCH_STATE_DIR:?}"
out=$(mktemp -d)
trap '"$BIN" restore >/dev/null 2>&1; rm -rf "$out"' EXIT
RANDOM=${COWBENCH_FAULT_SEED:-4242}
hits=0 fails=0

for ((t = 0; t < trials; t++)); do
	doc=$out/r$t.json
	(cd / && exec "$BIN" run fork-basic --size 64K --reps 300 --out "$doc") >/dev/null 2>&1 &
	pid=$!
	tmp=$doc.tmp.$pid
	while [[ ! -e $tmp ]] && kill -0 "$pid" 2>/dev/null; do :; done
	# 0..39 ms into the write (about 8 MB of JSON, then fsync)
	sleep "0.0$((RANDOM % 40 / 10))$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[[ -e $tmp ]] && hits=$((hits + 1))
	"$BIN" restore >/dev/null 2>&1 || { echo "FAIL: restore failed after trial $t"; fails=$((fails + 1)); }
	left=$(ls "$out" | grep '\.tmp\.' || true)
	if [[ -n $left ]]; then
		echo "FAIL: trial $t: left behind after restore: $left"
		fails=$((fails + 1))
		rm -f "$out"/*.tmp.*
	fi
done
[[ $hits -gt 0 ]] || { echo "FAIL: no kill landed during the document write ($trials trials)"; exit 1; }
[[ $fails -eq 0 ]] || exit 1
echo "ok: $hits of $trials kills during the document write, no temp file left"
