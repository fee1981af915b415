#!/bin/bash
# Hostile environments: each is made real for the cowbench process (a mount
# namespace hides a file system, setpriv drops root, a sysctl disables
# io_uring), never faked with an environment variable. Each run must exit
# 0 with a complete result in which what the environment takes away is
# marked skipped/unavailable with the reason, and no rep errors.
#   not root | KSM absent | io_uring disabled | tracefs unmounted (not root)
#   | no memory cgroup | no usable swap
# Not testable here: a v2-only memory controller (this box binds memory to
# cgroup v1; the v2 hierarchy has no memory controller).
set -u
BIN=$(realpath "$1")
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root"; exit 77; }
out=$(mktemp -d)
chmod 777 "$out"
IOU=/proc/sys/kernel/io_uring_disabled
iou_orig=$(cat $IOU 2>/dev/null || true)
cleanup() {
	[[ -n $iou_orig ]] && echo "$iou_orig" >$IOU
	"$BIN" restore >/dev/null 2>&1
	rm -rf "$out"
}
trap cleanup EXIT
tried=0 passed=0
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# Every skip/unavailable reason of a result, one "where: reason" a line.
reasons() {
	python3 - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("complete") is True, "result not complete"
for k, v in (d["env"].get("features") or {}).items():
    if isinstance(v, dict) and v.get("available") is False:
        print("feature %s: %s" % (k, v.get("reason")))
if d.get("pfn_tracking") is False:
    print("pfn_tracking: %s" % d.get("pfn_tracking_reason"))
for s, v in ((d.get("fingerprint") or {}).get("scenarios") or {}).items():
    if isinstance(v, dict) and v.get("skipped"):
        print("fingerprint %s: %s" % (s, v.get("skipped")))
for w in d["workloads"]:
    if w.get("skipped"):
        print("%s: skipped: %s" % (w["name"], w["skipped"]))
    for r in w["reps"]:
        if r.get("error"):
            print("%s: ERROR: %s" % (w["name"], r["error"]))
        if r.get("skipped"):
            print("%s: skipped: %s" % (w["name"], r["skipped"]))
        for p in r.get("phases") or []:
            if p.get("skipped"):
                print("%s/%s: skipped: %s" % (w["name"], p["name"], p["skipped"]))
            for k, why in (p.get("unavailable") or {}).items():
                print("%s/%s: %s unavailable: %s" % (w["name"], p["name"], k, why))
EOF
}

# case NAME EXPECTED-REGEX -- command prefix... (the run's args follow)
case_() {
	local name=$1 want=$2
	shift 3
	local f=$out/$name.json rc
	tried=$((tried + 1))
	"$@" --reps 1 --out "$f" >"$out/$name.out" 2>"$out/$name.err"
	rc=$?
	local why
	why=$(reasons "$f" 2>&1)
	local shown
	shown=$(grep -E -m3 "$want" <<<"$why")
	# 4: everything asked for was skipped (kselftest's SKIP), a whole run too.
	if [[ ($rc -eq 0 || $rc -eq 4) && -n $shown ]] && ! grep -q ': ERROR: ' <<<"$why"; then
		passed=$((passed + 1))
		echo "$name: ok, $(grep -c . <<<"$why") reasons recorded, e.g.:"
		sed 's/^/    /' <<<"$shown"
	else
		echo "FAIL: $name: rc=$rc, wanted /$want/; stderr: $(tail -2 "$out/$name.err")"
		sed 's/^/    /' <<<"$why" | head -20
	fi
}

# Not root: no pagemap PFNs, no journal, so no swap/cgroup/KSM changes.
case_ not-root 'pfn_tracking: not root|needs root' -- \
	"${NOBODY[@]}" env COWBENCH_STATE_DIR="$out/state-nobody" "$BIN" run

# KSM absent: an empty tmpfs over /sys/kernel/mm/ksm.
case_ no-ksm 'feature ksm: |KSM' -- \
	unshare -m --propagation private sh -c \
	'mount -t tmpfs none /sys/kernel/mm/ksm && exec "$0" "$@"' "$BIN" run ksm-vms

# io_uring disabled for the length of one short run (system-wide: keep it
# short and put the value back in the trap too).
if [[ -n $iou_orig ]]; then
	echo 2 >$IOU
	case_ no-iouring 'io_uring' -- "$BIN" run longterm-pin -o pin=iouring -o event=none
	echo "$iou_orig" >$IOU
else
	echo "io_uring_disabled: no such sysctl on this kernel (not tested)"
fi

# tracefs unmounted and not root: the run cannot mount it.
case_ no-tracefs 'tlb_flush_events unavailable' -- \
	env CB_OUT="$out" unshare -m --propagation private sh -c \
	'while umount /sys/kernel/tracing 2>/dev/null; do :; done
	 exec setpriv --reuid=nobody --regid=nogroup --clear-groups env \
	 COWBENCH_STATE_DIR="$CB_OUT/state-tr" "$0" "$@"' "$BIN" run fork-basic

# No memory cgroup controller: v1's hidden under an empty tmpfs (v2 here has
# no memory controller).
case_ no-memcg 'cgroup' -- \
	unshare -m --propagation private sh -c \
	'mount -t tmpfs none /sys/fs/cgroup/memory && exec "$0" "$@"' "$BIN" run swap-thrash \
	reclaim-pressure

# No usable swap: swap files go to a tmpfs, where swapon fails (and no
# swap is active on this box).
if [[ $(wc -l </proc/swaps) -le 1 ]]; then
	mkdir -p "$out/tmpfs"
	case_ no-swap 'swap' -- \
		env CB_OUT="$out" unshare -m --propagation private sh -c \
		'mount -t tmpfs none "$CB_OUT/tmpfs" && COWBENCH_SWAP_DIR="$CB_OUT/tmpfs" \
		 exec "$0" "$@"' "$BIN" run swap-thrash reclaim-pressure
else
	echo "no-swap: swap is active on this box (not tested)"
fi

echo "hostile environments: $tried tried, $passed ran and recorded the reasons"
[[ $tried -eq $passed ]]
