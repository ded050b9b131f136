#!/usr/bin/env bash
# Builds the release preset and runs the benchmark harness: every case at
# N = 1,000,000 (the headline figures), then the size-dependent OR-set and
# cart cases at N = 10^4 .. 10^7 (the scaling table of docs/performance.md).
#
# Usage: scripts/bench.sh [N...]     (default scaling sizes 10000 100000 1000000 10000000)
# Output: the harness's lines (case=... n=... seconds=...), unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target crdt_bench -j "${JOBS:-2}" >/dev/null
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10000 100000 1000000 10000000)
echo "# all cases, N=1000000"
build/release/crdt_bench 1000000
for n in "${sizes[@]}"; do
    echo "# scaling, N=$n"
    build/release/crdt_bench "$n" orset_add orset_merge_disjoint \
        orset_merge_overlap orset_remove cart encode
done
