#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/fuzz_<t>.c) and runs each one for a while on
# a copy of its seed corpus. Exits non-zero when any target finds a crash, a
# failed property, a leak, a timeout or an out-of-memory. fuzz/corpus is
# never written to: work copies live under the build directory.
#
# Usage: scripts/fuzz.sh [--afl] [SECONDS] [TARGET...]
#   SECONDS  time per target (default 20)
#   TARGET   e.g. history decode_orset (default: every fuzz/fuzz_*.c)
#   --afl    build with AFL++'s afl-clang-fast into build/afl and run
#            afl-fuzz instead of libFuzzer (Debian package afl++)
# Environment:
#   FUZZ_PARALLEL  targets run at the same time (default 1)
#   FUZZ_FLAGS     extra libFuzzer flags, e.g. "-only_ascii=1"
#
# libFuzzer mode uses the 'fuzz' CMake preset (clang, build/fuzz): work
# corpora in build/fuzz/work/<t>, crash inputs in build/fuzz/artifacts/<t>,
# logs in build/fuzz/logs/<t>.log. docs/verification.md says how to run long
# campaigns and turn a crash into a regression seed.
set -euo pipefail
cd "$(dirname "$0")/.."

engine=libfuzzer
if [[ ${1:-} == --afl ]]; then
    engine=afl
    shift
fi
case ${1:-} in
    -h|--help) sed -n '2,21s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
seconds=20
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for source in fuzz/fuzz_*.c; do
        name=$(basename "$source" .c)
        targets+=("${name#fuzz_}")
    done
fi
for t in "${targets[@]}"; do
    if [[ ! -f fuzz/fuzz_$t.c || ! -d fuzz/corpus/$t ]]; then
        echo "fuzz.sh: no target '$t' (need fuzz/fuzz_$t.c and fuzz/corpus/$t/)" >&2
        exit 2
    fi
done
parallel=${FUZZ_PARALLEL:-1}
jobs=${JOBS:-2}
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done

if [[ $engine == libfuzzer ]]; then
    scripts/deps.sh --fuzz
    dir=build/fuzz
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz -j "$jobs" --target "${build_targets[@]}"
else
    if ! command -v afl-clang-fast >/dev/null 2>&1; then
        echo "fuzz.sh: afl-clang-fast not found: apt-get install afl++" >&2
        exit 2
    fi
    scripts/deps.sh
    dir=build/afl
    # afl-clang-fast is clang underneath and turns -fsanitize=fuzzer into
    # AFL++'s own driver, so the CMake fuzz section works unchanged.
    AFL_QUIET=1 cmake -S . -B "$dir" -DCMAKE_C_COMPILER=afl-clang-fast \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
        -DCRDT_BUILD_FUZZ=ON -DCRDT_BUILD_TESTS=OFF -DCRDT_BUILD_TOOLS=OFF \
        -DCRDT_BUILD_EXAMPLES=OFF -DCRDT_BUILD_BENCH=OFF >/dev/null
    AFL_QUIET=1 cmake --build "$dir" -j "$jobs" --target "${build_targets[@]}"
fi
mkdir -p "$dir/logs"

# Runs target $1; its exit status says whether it found anything.
run_one() {
    local t=$1 log=$dir/logs/$1.log
    if [[ $engine == libfuzzer ]]; then
        local work=$dir/work/$t artifacts=$dir/artifacts/$t
        rm -rf "$work" "$artifacts"
        mkdir -p "$work" "$artifacts"
        cp fuzz/corpus/"$t"/* "$work"/
        # shellcheck disable=SC2086
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$dir/fuzz_$t" -max_total_time="$seconds" -max_len=4096 -timeout=20 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-} "$work" >"$log" 2>&1
    else
        local out=$dir/out/$t
        rm -rf "$out"
        mkdir -p "$out"
        AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        AFL_NO_AFFINITY=1 \
            afl-fuzz -i fuzz/corpus/"$t" -o "$out" -V "$seconds" -- \
            "$dir/fuzz_$t" >"$log" 2>&1 || return 1
        local crashes
        crashes=$(sed -n 's/^saved_crashes *: *//p' "$out"/default/fuzzer_stats)
        [[ ${crashes:-1} -eq 0 ]]
    fi
}

summary() {
    local t=$1 log=$dir/logs/$1.log
    if [[ $engine == libfuzzer ]]; then
        local runs cov
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || true)
        echo "${runs:-?} runs, ${cov:-no stats}"
    else
        local stats=$dir/out/$t/default/fuzzer_stats
        echo "$(sed -n 's/^execs_done *: *//p' "$stats") execs," \
            "$(sed -n 's/^corpus_count *: *//p' "$stats") corpus," \
            "$(sed -n 's/^saved_crashes *: *//p' "$stats") crashes"
    fi
}

failed=()
pids=()
names=()
reap() {
    local i=$1
    if wait "${pids[$i]}"; then
        printf '  %-20s ok: %s\n' "${names[$i]}" "$(summary "${names[$i]}")"
    else
        printf '  %-20s FAILED (log: %s)\n' "${names[$i]}" "$dir/logs/${names[$i]}.log"
        failed+=("${names[$i]}")
    fi
}
echo "fuzz.sh: $engine, ${seconds}s per target, $parallel at a time: ${targets[*]}"
next=0
for t in "${targets[@]}"; do
    run_one "$t" &
    pids+=($!)
    names+=("$t")
    if (( ${#pids[@]} - next >= parallel )); then
        reap $next
        next=$((next + 1))
    fi
done
while (( next < ${#pids[@]} )); do
    reap $next
    next=$((next + 1))
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: FAILED: ${failed[*]}" >&2
    if [[ $engine == libfuzzer ]]; then
        for t in "${failed[@]}"; do
            tail -n 30 "$dir/logs/$t.log" >&2
            ls "$dir/artifacts/$t" >&2 || true
        done
    fi
    exit 1
fi
echo "fuzz.sh: OK: ${#targets[@]} targets, no findings"
