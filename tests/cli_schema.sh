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
# the fault-log keys too (where the x86 fault tracepoint works; else outcome_exact says why)
"$BIN" run fork-basic --reps 1 --size 4M --faultlog --out "$out/f.json" >/dev/null || { echo "faultlog run failed"; exit 1; }
ls "$out" | grep -q tmp && { echo "temp file left behind"; exit 1; }
$PY - "$SCHEMA" "$out/r.json" "$out/f.json" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
flog = json.load(open(sys.argv[3]))
jsonschema.validate(flog, schema)

def nulls_without_reason(d):
    """Every null key of a phase that ran must have its reason in unavailable."""
    bad = []
    for w in d["workloads"]:
        for r in w["reps"]:
            for p in r["phases"]:
                if p["skipped"] is not None:
                    continue
                for k, v in p.items():
                    if v is None and k != "skipped" and k not in p["unavailable"]:
                        bad.append((w["name"], p["name"], k))
    return bad

for d in (doc, flog):
    assert not nulls_without_reason(d), nulls_without_reason(d)
fp = flog["workloads"][0]["reps"][0]["phases"][0]
assert fp["outcome_method"] in ("faultlog", "pfn") and isinstance(fp["outcome_exact"], bool), fp
if fp["outcome_method"] == "pfn":
    assert "fault log" in fp["unavailable"]["outcome_exact"], fp["unavailable"]
for p in doc["workloads"][0]["reps"][0]["phases"]:
    assert p["written"] is not None and p["copied"] + p["reused"] == p["written"], p
    assert sum(p["extra_by_cause"].values()) == p["extra_copies"], p
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
# ... and so must a null without its reason (schema and the check above)
bad = json.loads(json.dumps(doc)); ph0 = bad["workloads"][0]["reps"][0]["phases"][0]
ph0["written"] = None
assert nulls_without_reason(bad)
try:
    jsonschema.validate(bad, schema); raise SystemExit("schema accepted a null without a reason")
except jsonschema.ValidationError:
    pass
ph0["unavailable"]["written"] = "a reason"
jsonschema.validate(bad, schema)
print("6 passed, 0 failed")
PY
