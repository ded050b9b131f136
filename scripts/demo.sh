#!/usr/bin/env bash
# Build the dev configuration and run the demo: `crdt demo` when the tool is
# built, otherwise the seeds example. Arguments go to `crdt demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

# Keep the build quiet so the demo is what you read; show the log on failure.
log=build/demo-build.log
mkdir -p build
if ! { cmake --preset dev && cmake --build --preset dev -j "${JOBS:-2}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "demo.sh: build failed (log: $log)" >&2
    exit 1
fi

if [[ -f build/dev/crdt && -x build/dev/crdt ]]; then
    exec build/dev/crdt demo "$@"
else
    exec build/dev/example_seeds
fi
