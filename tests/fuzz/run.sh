#!/bin/bash
# Builds the loader fuzz target (clang, libFuzzer, ASan + UBSan) into
# build-fuzz/ and fuzzes it for a fixed budget from the seed corpus of real
# result documents. Any crash, leak or sanitizer report fails.
#   tests/fuzz/run.sh [SECONDS]   (default 60)
# Without clang it says so and exits 77 (skipped).
set -euo pipefail
cd "$(dirname "$0")/../.."
budget=${1:-60}
cc=$(command -v clang-14 || command -v clang || true)
if [[ -z $cc ]]; then
	echo "fuzz: skipped: no clang (apt-get install clang-14 libclang-rt-14-dev)"
	exit 77
fi
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCOWBENCH_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_load >build-fuzz/build.log 2>&1 ||
	{ tail -20 build-fuzz/build.log; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# New inputs go to a scratch corpus; the tree's seeds stay as they are.
cp tests/fuzz/corpus/* "$work/"
mkdir -p build-fuzz/artifacts
log=build-fuzz/fuzz.log
rc=0
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	build-fuzz/tests/fuzz/fuzz_load -max_total_time="$budget" -print_final_stats=1 \
	-timeout=10 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ \
	"$work" >"$log" 2>&1 || rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
crashes=$(ls build-fuzz/artifacts | wc -l)
echo "fuzz: ${execs:-0} executions in ${budget}s, exit $rc, $crashes artifact(s)"
if ((rc != 0)) || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
	grep -m1 -A30 -E 'ERROR:|runtime error:' "$log" || tail -30 "$log"
	echo "fuzz: FAILED (reproduce: build-fuzz/tests/fuzz/fuzz_load build-fuzz/artifacts/<file>)"
	exit 1
fi
echo "fuzz: no crash, leak or sanitizer report"
