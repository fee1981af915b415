#!/bin/bash
# `cowbench bench` prints figures, not verdicts: the tracker section gives
# one row per size with a positive GiB/s and 40-400 bytes of peak memory
# per tracked page (about 80: two snapshots, the pagemap buffer, the sorted
# index; VmHWM's granularity blurs small sizes, and an ASan build's own
# memory (160-290 bytes per page at these sizes) rides on top);
# a bad size list is refused with one line and exit 2.
set -u
BIN=$(realpath "$1")
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root (PFNs)"; exit 77; }
fails=0
trap '"$BIN" restore >/dev/null 2>&1' EXIT
out=$("$BIN" bench --only tracker --sizes 64M,128M 2>&1)
rc=$?
rows=$(printf '%s\n' "$out" | awk '$1 ~ /^(64M|128M)$/ && $4 > 0 && $8 >= 40 && $8 <= 400' | wc -l)
if [[ $rc -ne 0 || $rows -ne 2 ]]; then
	echo "FAIL: tracker rows (rc=$rc):"; printf '%s\n' "$out"; fails=$((fails + 1))
fi
err=$("$BIN" bench --only tracker --sizes 4M,12Q 2>&1 >/dev/null)
rc=$?
if [[ $rc -ne 2 || $(printf '%s\n' "$err" | grep -c .) -ne 1 || $err != *12Q* ]]; then
	echo "FAIL: bad --sizes: rc=$rc: $err"; fails=$((fails + 1))
fi
[[ $fails -eq 0 ]] && echo "ok: bench tracker figures"
[[ $fails -eq 0 ]]
