#!/bin/bash
# A real run's result document validates against bench/schema/result.schema.json,
# is written atomically (no temp file left) and lists env and counters.
set -u
BIN=$1
SCHEMA=$(dirname "$0")/../bench/schema/result.schema.json
PY=/usr/bin/python3
$PY -c 'import jsonschema' 2>/dev/null || { echo "skipped: python3-jsonschema missing"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$BIN" run fork-basic --reps 2 --size 4M --out "$out/r.json" >/dev/null || { echo "run failed"; exit 1; }
ls "$out" | grep -q tmp && { echo "temp file left behind"; exit 1; }
$PY - "$SCHEMA" "$out/r.json" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.validate(doc, schema)
assert doc["complete"] is True
w = doc["workloads"][0]
assert w["name"] == "fork-basic" and len(w["reps"]) == 2
ph = w["reps"][0]["phases"]
assert [p["name"] for p in ph] == ["child-alive", "child-reaped"], ph
assert "pgfault" in ph[0]["counters"]
# a broken document must fail validation: the schema is not vacuous
bad = json.loads(json.dumps(doc)); bad["workloads"][0]["reps"][0]["phases"][0]["copied"] = "many"
try:
    jsonschema.validate(bad, schema); raise SystemExit("schema accepted a string count")
except jsonschema.ValidationError:
    pass
print("3 passed, 0 failed")
PY
