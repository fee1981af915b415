#!/bin/bash
# The size check counts a workload's whole footprint (copies included, the
# descriptor's footprint x size, times footprint_per's option) against
# MemAvailable: a size the old per-option rule (half of MemAvailable)
# accepted is refused when its copies do not fit, with exit 2 and one line
# naming the value; --force lets it through. Nothing runs: an unwritable
# --out stops every accepted case right after the check.
set -u
BIN=$(realpath "$1")
fails=0
avail_mib=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
[[ $avail_mib -gt 64 ]] || { echo "skipped: MemAvailable unknown"; exit 77; }
NOOUT=(--out /nonexistent-dir/r.json)

expect() { # refused|accepted want-text args...
	local how=$1 want=$2; shift 2
	local err rc lines
	err=$("$BIN" "$@" "${NOOUT[@]}" 2>&1 >/dev/null)
	rc=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [[ $how == refused ]]; then
		[[ $rc -eq 2 && $lines -eq 1 && $err == *"$want"* && $err == *"needs about"* ]] && return
	else
		# accepted by the size check: the next check (the --out dir) speaks
		[[ $rc -eq 2 && $err == *"cannot write results"* ]] && return
	fi
	echo "FAIL ($how): cowbench $* -> rc=$rc: $err"
	fails=$((fails + 1))
}

# fork-basic needs 2x size: 48% of MemAvailable passed the old rule.
big=$((avail_mib * 48 / 100))M
expect refused "size=$big" run fork-basic --size "$big"
expect refused "size=$big" run fork-basic -o size="$big"
expect accepted "" run fork-basic --size "$big" --force
small=$((avail_mib * 30 / 100))M
expect accepted "" run fork-basic --size "$small"
# ksm-vms: size is per guest.
g=$((avail_mib * 30 / 100))M
expect refused "size=$g" run ksm-vms -o size="$g" -o guests=4
expect accepted "" run ksm-vms -o size="$g" -o guests=2
# Every selected workload is checked: the suite refuses for fork-basic.
expect refused "fork-basic: size=$big" run --size "$big"
[[ $fails -eq 0 ]] || exit 1
echo "ok: footprint checks"
