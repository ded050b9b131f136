#!/usr/bin/env bash
# The full check, as run by CI (.ci/run):
#   1. gcc, Debug, ASan + UBSan, -Werror: build and run every test (preset asan)
#   2. clang, Debug, -Werror: build and run every test (preset clang-werror),
#      so the code is warning-free under both compilers (the PostgreSQL
#      extension is compiled there too).
#   3. the PostgreSQL extension (preset postgres: gcc -O2, -Werror, no
#      sanitizers, since the server cannot load an ASan module): build; as
#      root, install into the server's directories; then its regression,
#      upgrade and three-server tests against PostgreSQL 15 clusters that
#      postgres/test/run.sh starts and stops itself.
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
scripts/deps.sh --clang --postgres

# configure PRESET DIR VARIABLE...: cmake --preset PRESET, then a check
# that DIR's cache has every VARIABLE ON. When DIR was configured before
# with another compiler, CMake wipes the cache and configures again WITHOUT
# the preset's other variables (an asan build without sanitizers, a -Werror
# build without -Werror), saying no more than a warning; then it is
# configured afresh, and checked again.
configure() {
    local preset=$1 dir=$2
    shift 2
    cmake --preset "$preset"
    if ! has_on "$dir" "$@"; then
        printf '%s lost its preset options (configured earlier with another compiler?); configuring it afresh\n' "$dir"
        cmake --preset "$preset" --fresh
        if ! has_on "$dir" "$@"; then
            printf 'scripts/test.sh: %s is configured without %s\n' "$dir" "$*" >&2
            exit 1
        fi
    fi
}
# has_on DIR VARIABLE...: DIR's cache has every VARIABLE ON.
has_on() {
    local dir=$1 v
    shift
    for v in "$@"; do
        grep -q "^$v:BOOL=ON\$" "$dir/CMakeCache.txt" || return 1
    done
}

for preset in asan clang-werror; do
    step "$preset: configure"
    if [[ $preset == asan ]]; then
        configure asan build/asan CRDT_SANITIZE CRDT_WERROR
    else
        configure clang-werror build/clang CRDT_WERROR CRDT_BUILD_POSTGRES
    fi
    step "$preset: build"
    cmake --build --preset "$preset" -j "$jobs"
    step "$preset: test"
    ctest --preset "$preset" -j "$jobs"
done

step "postgres: configure"
configure postgres build/postgres CRDT_WERROR CRDT_BUILD_POSTGRES
step "postgres: build"
cmake --build --preset postgres -j "$jobs"
if [[ $(id -u) -eq 0 ]]; then
    step "postgres: install into the server's directories"
    cmake --install build/postgres --component postgres
fi
step "postgres: regression, upgrade and three-server tests"
postgres/test/run.sh build/postgres

printf '\nscripts/test.sh: OK: all tests pass (gcc + ASan/UBSan -Werror, clang -Werror, PostgreSQL 15)\n'
