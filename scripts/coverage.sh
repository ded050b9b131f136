#!/usr/bin/env bash
# Line and branch coverage of the library (src/ and crdt/) by the test
# suite: builds with gcc --coverage (CMake option CRDT_COVERAGE) in
# build/coverage, runs ctest, and reports per file with gcovr.
#
# Usage: scripts/coverage.sh [--min PERCENT]
#   --min PERCENT  fail when line coverage is below PERCENT (e.g. 95)
# Reports: the tables below on stdout, build/coverage/coverage.html (per
# file, annotated sources) and build/coverage/coverage.txt.
#
# The install_consumer test is skipped: it links an installed libcrdt.a,
# whose instrumented objects would need libgcov in the consumer.
set -euo pipefail
cd "$(dirname "$0")/.."

min=
while [[ $# -gt 0 ]]; do
    case $1 in
        --min) min=${2:?--min needs a percentage}; shift 2 ;;
        -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "coverage.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done

scripts/deps.sh --coverage
dir=build/coverage
jobs=${JOBS:-2}
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug \
    -DCRDT_COVERAGE=ON -DCRDT_SANITIZE=OFF -DCRDT_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j "$jobs"
# Counts from an earlier run would add up.
find "$dir" -name '*.gcda' -delete
ctest --test-dir "$dir" -j "$jobs" --output-on-failure -E '^install_consumer$'

filters=(--root . --filter 'src/' --filter 'crdt/' --object-directory "$dir")
echo
echo "== line coverage (src/, crdt/) =="
gcovr "${filters[@]}" --txt "$dir/coverage.txt" --html-details "$dir/coverage.html" \
    --print-summary | tee "$dir/coverage.summary"
cat "$dir/coverage.txt"
echo
echo "== branch coverage (src/, crdt/) =="
gcovr "${filters[@]}" --branches
if [[ -n $min ]]; then
    lines=$(sed -n 's/^lines: \([0-9.]*\)%.*/\1/p' "$dir/coverage.summary")
    if ! awk -v l="$lines" -v m="$min" 'BEGIN { exit !(l + 0 >= m + 0) }'; then
        echo "coverage.sh: line coverage ${lines}% is below ${min}%" >&2
        exit 1
    fi
    echo "coverage.sh: line coverage ${lines}% >= ${min}%"
fi
