#!/bin/bash
# Table-driven bad input over every option of every workload and of `run`,
# generated from `cowbench run --help` (option, type, range) and `cowbench
# list`: negative, zero (when the range excludes it), beyond the maximum,
# overflowing, non-numeric, empty, unknown keys, unknown workloads,
# missing files, unwritable results directory. Each must exit 2 with one
# line on stderr that names the offending value, and write nothing.
set -u
BIN=$(realpath "$1")
out=$(mktemp -d)
chmod 755 "$out"
trap 'rm -rf "$out"' EXIT
tried=0 rejected=0

check() { # offending-value args...
	local want=$1; shift
	local err rc lines
	tried=$((tried + 1))
	err=$("$BIN" "$@" 2>&1 >/dev/null)
	rc=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [[ $rc -eq 2 && $lines -eq 1 && $err == *"$want"* && -z $(ls -A "$out/res") ]]; then
		rejected=$((rejected + 1))
	else
		echo "FAIL: cowbench $* -> rc=$rc lines=$lines: $err (wanted '$want')"
	fi
	rm -rf "$out/res"/* "$out/res"/.[!.]* 2>/dev/null
}
mkdir -p "$out/res"
R=(--out "$out/res/r.json")

# 2^64 and beyond overflow every parser; max+1 is just past the range.
bad_numbers() { # type min max
	local type=$1 min=$2 max=$3
	echo "-1"; echo "-0"; echo "abc"; echo "1e3"; echo "0x10"; echo " 5"; echo "5 "
	echo "18446744073709551616"; echo "99999999999999999999999"
	[[ $type == SIZE ]] && { echo "12Q"; echo "1.5M"; echo "99999999999T"; echo "-4K"; }
	[[ $type == N ]] && echo "3M"
	[[ $min != 0 && $min != 0K ]] && echo "0"
	[[ -n $max ]] && plus_one "$type" "$max"
}

# "16T" -> 17592186044417 (bytes + 1), "100" -> 101.
plus_one() {
	local v=$2 n=${2%[KMGT]} sh=0
	case $v in *K) sh=10 ;; *M) sh=20 ;; *G) sh=30 ;; *T) sh=40 ;; esac
	echo $(((n << sh) + 1))
}

# Option lines of the help: "  -o key=TYPE  help ... [min..max]" after a
# "workload: summary" header; run's own "--name TYPE ... [min..max]".
mapfile -t workloads < <("$BIN" list | awk '/^[^ ]/ { print $1 }')
((${#workloads[@]})) || { echo "FAIL: cowbench list printed no workloads"; exit 1; }
help=$("$BIN" run --help)

range_of() { sed -n 's/.*\[\([0-9]*[KMGT]*\)\.\.\([0-9]*[KMGT]*\)\]$/\1 \2/p' <<<"$1"; }

wl=""
while IFS= read -r line; do
	if [[ $line =~ ^([a-z0-9:-]+):\  ]]; then
		wl=${BASH_REMATCH[1]}
		continue
	fi
	[[ -n $wl && $line =~ ^\ +-o\ ([a-z_0-9-]+)=([^ ]+) ]] || continue
	key=${BASH_REMATCH[1]} type=${BASH_REMATCH[2]}
	case $type in
	SIZE | N)
		read -r min max <<<"$(range_of "$line")"
		while IFS= read -r v; do
			check "'$v'" run "$wl" "${R[@]}" -o "$key=$v"
			check "'$v'" run "$wl" "${R[@]}" -o "$wl.$key=$v"
		done < <(bad_numbers "$type" "$min" "$max")
		;;
	*)  # on|off or a choice list
		for v in bogus ON-ish "" "$type"; do
			check "'$v'" run "$wl" "${R[@]}" -o "$key=$v"
		done
		;;
	esac
	check "'-o $key'" run "$wl" "${R[@]}" -o "$key"     # no '='
done <<<"$help"

# run's own numeric options.
while IFS= read -r line; do
	[[ $line =~ ^\ +(-[a-z],\ )?--([a-z-]+)\ (N|SIZE)\  ]] || continue
	name=${BASH_REMATCH[2]} type=${BASH_REMATCH[3]}
	read -r min max <<<"$(range_of "$line")"
	while IFS= read -r v; do
		check "'$v'" run "${workloads[0]}" "${R[@]}" "--$name" "$v"
		check "'$v'" run "${workloads[0]}" "${R[@]}" "--$name=$v"
	done < <(bad_numbers "$type" "$min" "$max")
	check "'--$name'" run "${workloads[0]}" "${R[@]}" "--$name"  # value missing
done <<<"$help"

# Unknown keys, for every workload, plain and qualified; a key of another
# workload qualified with this one's name.
for wl in "${workloads[@]}"; do
	check "'nokey'" run "$wl" "${R[@]}" -o nokey=1
	check "'$wl.nokey'" run "$wl" "${R[@]}" -o "$wl.nokey=1"
	check "'nope.size'" run "$wl" "${R[@]}" -o nope.size=1M
	# beyond the option's range, the safe share of memory, or no size option
	check "16T" run "$wl" "${R[@]}" --size 16T
done

# Unknown workloads and commands, unknown flags.
for w in nope FORK-BASIC "fork-basic " "" "../etc/passwd" "$(printf 'x%.0s' {1..300})"; do
	check "'${w:0:40}" run "$w" "${R[@]}"
done
check "'frob'" frob
check "'--frobnicate'" run "${workloads[0]}" "${R[@]}" --frobnicate
check "'-x'" run "${workloads[0]}" "${R[@]}" -x

# Missing files and directories.
check "'/nonexistent-dir" run "${workloads[0]}" --out /nonexistent-dir/r.json
check "/nonexistent.json" compare /nonexistent.json --out "$out/res/cmp"
mkdir -p "$out/empty"
check "$out/empty" compare "$out/empty" --out "$out/res/cmp"

# Corrupt result documents for `compare`: each mutation of a synthetic
# fixture must be rejected naming the file and the field.
SRC=$(cd "$(dirname "$0")" && pwd)
good=$SRC/fixtures/compare/synthetic-6.1.json
mut() { # name python-statement expected-text
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))' "$good" "$out/$1.json" "$2"
	check "$out/$1.json: $3" compare "$out/$1.json" --out "$out/res/cmp"
}
ph='d["workloads"][0]["reps"][0]["phases"][0]'
mut neg-copied "$ph[\"copied\"] = -5" "field workloads[0].reps[0].phases[0].copied"
mut str-pages "$ph[\"pages\"] = \"12\"" "field workloads[0].reps[0].phases[0].pages"
mut neg-elapsed "$ph[\"elapsed_ns\"] = -1.5" "field workloads[0].reps[0].phases[0].elapsed_ns"
mut no-name "del $ph[\"name\"]" "field workloads[0].reps[0].phases[0].name"
mut reps-obj 'd["workloads"][0]["reps"] = {}' "field workloads[0].reps"
mut complete-str 'd["complete"] = "yes"' "field complete"
mut schema-2 'd["schema"] = "cowbench-result/2"' "schema 'cowbench-result/2'"
mut no-env 'del d["env"]' "field env"
mut neg-mem 'd["env"].setdefault("memory", {})["total_bytes"] = -1' "field env.memory.total_bytes"
mut top-array 'd = [d]' "top level"

# An unwritable results directory: root writes anywhere on a normal
# directory, so make it a read-only mount (private mount namespace).
mkdir -p "$out/ro"
if [[ $(id -u) -eq 0 ]]; then
	tried=$((tried + 1))
	err=$(unshare -m --propagation private bash -c \
		'mount -t tmpfs -o ro none "$1" && "$2" run "$3" --out "$1/r.json"' _ \
		"$out/ro" "$BIN" "${workloads[0]}" 2>&1 >/dev/null)
	rc=$?
	if [[ $rc -eq 2 && $(grep -c . <<<"$err") -eq 1 && $err == *"$out/ro"* ]]; then
		rejected=$((rejected + 1))
	else
		echo "FAIL: read-only results dir -> rc=$rc: $err"
	fi
else
	chmod 555 "$out/ro"
	check "'$out/ro'" run "${workloads[0]}" --out "$out/ro/r.json"
fi

echo "bad inputs: $tried tried, $rejected rejected correctly" \
	"(exit 2, one line naming the value, nothing written)"
[[ $tried -eq $rejected ]]
