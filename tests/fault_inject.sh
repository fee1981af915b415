#!/bin/bash
# Fault injection: the default suite (--reps 1) is killed at random points
# and the machine's state must come back exactly as it was:
#   SIGKILL, then `cowbench restore`;  SIGINT and SIGTERM, the run's own
#   handler restores (no `restore`).
# State compared before/after: every writable KSM knob, every writable THP
# setting, /proc/sys/vm/*, /proc/swaps, zram devices, swap files,
# cowbench-* cgroups, the tracefs mount, and processes of our runs. Also:
# no journal left, and a result file is either absent or a whole document
# that says "complete": false unless the run finished before the signal.
#   fault_inject.sh COWBENCH [TRIALS_PER_SIGNAL]   (seed: COWBENCH_FAULT_SEED)
# Runs in a private mount namespace with tracefs unmounted, so the run's
# tracefs mount and its undo are exercised without touching the host's.
set -u
BIN=$(realpath "$1")
trials=${2:-${COWBENCH_FAULT_TRIALS:-30}}
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root"; exit 77; }
state=${COWBENCH_STATE_DIR:?}
if [[ -z ${CB_FAULT_NS:-} ]]; then
	CB_FAULT_NS=1 exec unshare -m --propagation private bash "$0" "$BIN" "$trials"
fi
while grep -q ' /sys/kernel/tracing tracefs' /proc/self/mounts; do
	umount /sys/kernel/tracing || break
done

seed=${COWBENCH_FAULT_SEED:-20240611}
RANDOM=$seed
out=$(mktemp -d)
trap '"$BIN" restore >/dev/null 2>&1; rm -rf "$out"' EXIT

# Processes of our runs: comm cowbench and our state dir in the environment
# (other cowbench runs on the machine have their own).
cowbench_pids() {
	grep -lx cowbench /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3
}
our_procs() {
	local p
	for p in $(cowbench_pids); do
		{ tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null |
			grep -qx "COWBENCH_STATE_DIR=$state" && echo "$p"
	done
}
foreign_runs() {
	local p
	for p in $(cowbench_pids); do
		{ tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null |
			grep -qx "COWBENCH_STATE_DIR=$state" || echo "$p"
	done
}

# Swap files and cgroups carry the creating run's pid: other runs' are
# not ours to judge (ours: the pids in $ourpids).
ourpids=" "
not_foreign() {
	local line n
	while IFS= read -r line; do
		if [[ $line =~ cowbench-(swap\.)?([0-9]+) ]]; then
			n=${BASH_REMATCH[2]}
			[[ $ourpids == *" $n "* ]] || continue
		fi
		echo "$line"
	done
}

snapshot() {
	snapshot_all | not_foreign
}

snapshot_all() {
	# KSM tunables only (mode u+w): the statistics move while KSM runs.
	find /sys/kernel/mm/ksm -maxdepth 1 -type f -perm -u+w -exec grep -H '' {} + | sort
	find /sys/kernel/mm/transparent_hugepage -type f -perm -u+w -exec grep -H '' {} + | sort
	grep -H '' /proc/sys/vm/* 2>/dev/null
	awk 'NR > 1 { print "swap", $1, $2 }' /proc/swaps
	grep -H '' /sys/block/zram*/disksize 2>/dev/null
	ls -d /var/tmp/cowbench-swap.* 2>/dev/null | sed 's/^/swapfile /'
	find /sys/fs/cgroup -maxdepth 3 -type d -name 'cowbench-*' 2>/dev/null | sed 's/^/cgroup /'
	awk '$3 == "tracefs" { print "mount", $2 }' /proc/self/mounts
	our_procs | sed 's/^/process /'
}

# The duration of one whole run bounds the random kill delay.
t0=$(date +%s%N)
"$BIN" run --reps 1 --out "$out/full.json" >/dev/null 2>"$out/full.err" ||
	{ echo "FAIL: the undisturbed run failed: $(tail -3 "$out/full.err")"; exit 1; }
dur_ms=$((($(date +%s%N) - t0) / 1000000))
before=$(snapshot)
echo "seed $seed; one full run (--reps 1) takes ${dur_ms} ms; $trials trials per signal"
echo "state compared: $(wc -l <<<"$before") entries"

# Waits (at most 5 s) for the processes of a killed run to go.
settle() {
	for _ in $(seq 50); do
		[[ -z $(our_procs) ]] && return
		sleep 0.1
	done
}

# Other cowbench runs (other state dirs) change the same system-wide knobs.
# Trials wait for them to end (at most 120 s) before starting.
quiesce() {
	for _ in $(seq 120); do
		[[ -z $(foreign_runs) ]] && return 0
		sleep 1
	done
	return 1
}

compare_state() {
	local now
	now=$(snapshot)
	[[ $now == "$before" ]] && return 0
	diff <(echo "$before") <(echo "$now") | sed 's/^/  /' | head -20
	return 1
}

result_ok() { # rc of the run
	local f=$out/r.json
	[[ -e $f ]] || return 0
	python3 - "$f" "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
finished = sys.argv[2] == "0"
assert d.get("schema") == "cowbench-result/1", "schema"
# Killed after the last write (during the final restore) may say true.
assert d.get("complete") is True or (not finished and d.get("complete") is False), \
    "complete=%r" % d.get("complete")
assert isinstance(d.get("workloads"), list), "workloads"
EOF
}

failed_total=0 disturbed=0
for sig in KILL INT TERM; do
	clean=0 finished=0
	for ((i = 1; i <= trials; i++)); do
		delay=$(((RANDOM * 32768 + RANDOM) % dur_ms))
		quiesce
		now=$(snapshot)
		if [[ $now != "$before" ]]; then
			echo "  note: another cowbench run changed the baseline; taking it again:"
			diff <(echo "$before") <(echo "$now") | sed 's/^/  /' | head -6
			before=$now
		fi
		rm -f "$out/r.json"
		env --default-signal=INT "$BIN" run --reps 1 --out "$out/r.json" \
			>/dev/null 2>"$out/run.err" &
		pid=$!
		ourpids+="$pid "
		# Other runs seen at any time during the trial.
		: >"$out/foreign"
		(while :; do foreign_runs >>"$out/foreign"; sleep 0.1; done) &
		mon=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		kill -s "$sig" "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=$?
		settle
		if [[ $sig == KILL ]]; then
			"$BIN" restore >"$out/restore.out" 2>&1 ||
				echo "  trial $i: restore failed: $(tail -2 "$out/restore.out")"
		fi
		foreign_runs >>"$out/foreign"
		kill "$mon"
		wait "$mon" 2>/dev/null
		foreign=$(sort -u "$out/foreign" | tr '\n' ' ')
		ok=1
		compare_state || ok=0
		if ((!ok)) && [[ -n $foreign ]] && ((disturbed < 40)); then
			# Not ours to judge: repeat the trial once the other run is gone.
			echo "  SIG$sig trial $i: disturbed by cowbench pid(s) $foreign; repeating"
			disturbed=$((disturbed + 1))
			[[ -e $state/journal ]] && "$BIN" restore >/dev/null 2>&1
			i=$((i - 1))
			continue
		fi
		((ok)) || echo "  SIG$sig trial $i (${delay} ms): state differs"
		((rc == 0)) && finished=$((finished + 1))
		if [[ -e $state/journal ]]; then
			ok=0
			echo "  SIG$sig trial $i (${delay} ms): journal left behind"
			"$BIN" restore >/dev/null 2>&1
		fi
		if ! err=$(result_ok "$rc" 2>&1); then
			ok=0
			echo "  SIG$sig trial $i (${delay} ms): bad result file: ${err##*$'\n'}"
		fi
		clean=$((clean + ok))
	done
	echo "SIG$sig$([[ $sig == KILL ]] && echo '+restore'): $clean/$trials trials restored" \
		"cleanly ($finished finished before the signal)"
	failed_total=$((failed_total + trials - clean))
done
((disturbed)) && echo "$disturbed trial(s) repeated: another cowbench run was active"
[[ $failed_total -eq 0 ]]
