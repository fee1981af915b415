#!/bin/bash
# app:redis-bgsave on a small dataset: the server copies pages during the
# save, Redis's own COW figure is recorded beside them, and no redis process,
# listening port or temporary directory is left behind.
set -u
BIN=$1
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root"; exit 77; }
[[ -x /usr/bin/redis-server ]] || { echo "skipped: redis-server not installed"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
before=$(ls -d /tmp/cowbench-?????? /tmp/cowbench-*/redis-* 2>/dev/null | wc -l)
run() {
	"$BIN" run app:redis-bgsave --reps 1 --size 32M -o rate=5000 --out "$out/r.json" \
		>"$out/log" 2>&1 || { echo "FAIL: run failed"; cat "$out/log"; exit 1; }
}
# The during-save phase of one run: written / copied / fault log, for the record.
during() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["workloads"][0]["reps"][0]
p=[p for p in r["phases"] if p["name"]=="during-save"][0]
print({k: p.get(k) for k in ("written","copied","reused","outcome_exact","faultlog","elapsed_ns")}, p["unavailable"])' "$out/r.json"
}
run
# Once seen in a CI run: a save with no copy at all (cause not found). The
# record is printed and the run is made once more; a second run without a
# copy fails the test.
if python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["workloads"][0]["reps"][0]
sys.exit(0 if [p for p in r["phases"] if p["name"]=="during-save"][0]["copied"] else 1)' "$out/r.json"; then
	:
else
	echo "note: no copy during the save in the first run: $(during)"
	run
fi
fail=0
python3 - "$out/r.json" "$(dirname "$0")/../bench/schema/result.schema.json" <<'PY' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
try:
    import jsonschema
    jsonschema.validate(d, json.load(open(sys.argv[2])))
except ImportError:
    pass
w = d["workloads"][0]
assert w["skipped"] is None, w["skipped"]
r = w["reps"][0]
assert r["error"] is None, r["error"]
ph = {p["name"]: p for p in r["phases"]}
s = ph["during-save"]
m = {k: v["value"] for k, v in s["metrics"].items()}
assert s["copied"] > 0, f"no copies during the save: {s['copied']}"
assert m["redis_rdb_last_cow_size"] > 0, m
assert ph["before-save"]["copied"] == 0, ph["before-save"]["copied"]
assert "redis_vs_cowbench" in r["notes"], r["notes"]
print(f"during-save: cowbench copied {s['copied']} pages ({s['copy_bytes'] >> 10} KiB), "
      f"Redis rdb_last_cow_size {int(m['redis_rdb_last_cow_size']) >> 10} KiB")
PY
port=$(python3 -c 'import json,sys,re; n=json.load(open(sys.argv[1]))["workloads"][0]["reps"][0]["notes"]["server"]; print(re.search(r":(\d+)", n).group(1))' "$out/r.json")
pid=$(python3 -c 'import json,sys,re; n=json.load(open(sys.argv[1]))["workloads"][0]["reps"][0]["notes"]["server"]; print(re.search(r"pid (\d+)", n).group(1))' "$out/r.json")
[[ -e /proc/$pid ]] && grep -q redis "/proc/$pid/comm" 2>/dev/null && { echo "FAIL: redis-server $pid still runs"; fail=1; }
ss -ltn "sport = :$port" | grep -q LISTEN && { echo "FAIL: port $port still listens"; fail=1; }
after=$(ls -d /tmp/cowbench-?????? /tmp/cowbench-*/redis-* 2>/dev/null | wc -l)
[[ $after -le $before ]] || { echo "FAIL: a /tmp/cowbench-XXXXXX directory is left"; fail=1; }
exit $fail
