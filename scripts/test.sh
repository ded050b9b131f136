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

# configure PRESET DIR COMPILER: cmake --preset PRESET, from scratch when
# DIR was configured before with another compiler. Otherwise CMake sees the
# compiler change, wipes the cache and configures again WITHOUT the preset's
# other variables (an asan build without sanitizers, a -Werror build
# without -Werror) and says nothing more than a warning.
configure() {
    local cache=$2/CMakeCache.txt had want fresh=()
    if [[ -f $cache ]]; then
        had=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$cache")
        want=$(command -v "$3")
        if [[ $(readlink -f "$had") != $(readlink -f "$want") ]]; then
            printf '%s was configured with %s; configuring it afresh with %s\n' \
                "$2" "$had" "$want"
            fresh=(--fresh)
        fi
    fi
    cmake --preset "$1" "${fresh[@]}"
}
# require DIR VARIABLE: fails unless DIR's cache has VARIABLE ON.
require() {
    if ! grep -q "^$2:BOOL=ON\$" "$1/CMakeCache.txt"; then
        printf 'scripts/test.sh: %s is configured without %s\n' "$1" "$2" >&2
        exit 1
    fi
}

for preset in asan clang-werror; do
    step "$preset: configure"
    if [[ $preset == asan ]]; then
        configure asan build/asan gcc
        require build/asan CRDT_SANITIZE
        require build/asan CRDT_WERROR
    else
        configure clang-werror build/clang clang
        require build/clang CRDT_WERROR
    fi
    step "$preset: build"
    cmake --build --preset "$preset" -j "$jobs"
    step "$preset: test"
    ctest --preset "$preset" -j "$jobs"
done

step "postgres: configure"
configure postgres build/postgres gcc
require build/postgres CRDT_WERROR
step "postgres: build"
cmake --build --preset postgres -j "$jobs"
if [[ $(id -u) -eq 0 ]]; then
    step "postgres: install into the server's directories"
    cmake --install build/postgres --component postgres
fi
step "postgres: regression, upgrade and three-server tests"
postgres/test/run.sh build/postgres

printf '\nscripts/test.sh: OK: all tests pass (gcc + ASan/UBSan -Werror, clang -Werror, PostgreSQL 15)\n'
