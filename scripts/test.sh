#!/usr/bin/env bash
# The full check, as run by CI (.ci/run):
#   1. gcc, Debug, ASan + UBSan, -Werror: build and run every test (preset asan)
#   2. clang, Debug, -Werror: build and run every test (preset clang-werror),
#      so the code is warning-free under both compilers.
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${JOBS:-2}
current_step=""
step() {
    current_step=$*
    printf '\n==> %s\n' "$*"
}
report_failure() {
    local status=$?
    if [[ $status -ne 0 ]]; then
        printf '\nscripts/test.sh: FAILED (%s), exit %d\n' "$current_step" "$status" >&2
    fi
}
trap report_failure EXIT

step "checking dependencies"
scripts/deps.sh --clang

for preset in asan clang-werror; do
    step "$preset: configure"
    cmake --preset "$preset"
    step "$preset: build"
    cmake --build --preset "$preset" -j "$jobs"
    step "$preset: test"
    ctest --preset "$preset" -j "$jobs"
done

printf '\nscripts/test.sh: OK: all tests pass (gcc + ASan/UBSan -Werror, clang -Werror)\n'
