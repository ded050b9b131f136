#!/usr/bin/env bash
# Install test (ctest: install_consumer). Installs a build of libcrdt into a
# scratch prefix, then builds and runs examples/consumer/main.c against it:
#   1. CMake, find_package(crdt): crdt::crdt (shared) and crdt::crdt_static
#   2. pkg-config --cflags --libs crdt           (shared)
#   3. pkg-config --static --libs crdt, libcrdt.a (static, needs Libs.private)
#
# Usage: run.sh BUILD_DIR SOURCE_DIR C_COMPILER [SANITIZE]
#   SANITIZE is 1 when the library was built with CRDT_SANITIZE=ON.
# CMAKE_COMMAND in the environment selects cmake (ctest passes its own).
set -euo pipefail

if [[ $# -lt 3 ]]; then
    echo "usage: $0 BUILD_DIR SOURCE_DIR C_COMPILER [SANITIZE]" >&2
    exit 2
fi
build=$1 source=$2 cc=$3 sanitize=${4:-0}
cmake=${CMAKE_COMMAND:-cmake}

work=$(mktemp -d "${TMPDIR:-/tmp}/crdt-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

say() { printf 'install_consumer: %s\n' "$*"; }
fail() { printf 'install_consumer: FAILED: %s\n' "$*" >&2; exit 1; }
# Run a command quietly; show its output only if it fails.
quiet() {
    local log=$work/command.log
    "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "$*"; }
}
# needs_libcrdt_so PROGRAM: does PROGRAM load libcrdt.so at run time?
needs_libcrdt_so() {
    readelf -d "$1" | grep -q 'NEEDED.*libcrdt\.so'
}
# run_consumer PROGRAM: run it and check it printed the library version.
run_consumer() {
    local output
    output=$("$@") || fail "$* exited with $?"
    [[ $(head -n1 <<<"$output") == "$version" ]] ||
        fail "$* printed '$(head -n1 <<<"$output")', expected version $version"
}

# A library built with ASan/UBSan needs the sanitizer runtimes in every
# program that links it (ASan also insists on coming first), so consumers are
# then linked with the same -fsanitize flags; their own code stays
# uninstrumented.
link_flags=()
if [[ $sanitize == 1 ]]; then
    link_flags=('-fsanitize=address,undefined')
    say "library built with sanitizers: linking consumers with ${link_flags[*]}"
fi

say "installing $build into $prefix"
quiet "$cmake" --install "$build" --prefix "$prefix"

# GNUInstallDirs picks lib, lib64 or lib/<multiarch>: find where it went.
pc_file=$(find "$prefix" -path '*/pkgconfig/crdt.pc' | head -n1)
[[ -n $pc_file ]] || fail "no pkgconfig/crdt.pc under $prefix"
libdir=$(dirname "$(dirname "$pc_file")")
[[ -f $libdir/libcrdt.a ]] || fail "no libcrdt.a in $libdir"
compgen -G "$libdir/libcrdt.so.*" >/dev/null || fail "no libcrdt.so.* in $libdir"
[[ -f $prefix/include/crdt/crdt.h ]] || fail "no include/crdt/crdt.h under $prefix"

export PKG_CONFIG_PATH=$libdir/pkgconfig
version=$(pkg-config --modversion crdt) || fail "pkg-config cannot read $pc_file"
say "installed libcrdt $version, libdir $libdir"

# 1. CMake package
say "CMake: find_package(crdt) with crdt::crdt and crdt::crdt_static"
consumer=$work/consumer-cmake
quiet "$cmake" -S "$source/examples/consumer" -B "$consumer" \
    -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON \
    -DCMAKE_EXE_LINKER_FLAGS="${link_flags[*]-}"
crdt_dir=$(sed -n 's/^crdt_DIR:PATH=//p' "$consumer/CMakeCache.txt")
[[ $crdt_dir == "$prefix"/* ]] || fail "find_package(crdt) used $crdt_dir, not the scratch prefix"
quiet "$cmake" --build "$consumer"
needs_libcrdt_so "$consumer/consumer" || fail "crdt::crdt did not link libcrdt.so"
needs_libcrdt_so "$consumer/consumer_static" && fail "crdt::crdt_static linked libcrdt.so"
LD_LIBRARY_PATH=$libdir run_consumer "$consumer/consumer"
run_consumer "$consumer/consumer_static"

# 2. pkg-config, shared
say "pkg-config: shared"
# shellcheck disable=SC2046  # word splitting of pkg-config output is intended
"$cc" -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags crdt) \
    "$source/examples/consumer/main.c" -o "$work/consumer-pc" \
    $(pkg-config --libs crdt) "${link_flags[@]}" || fail "shared pkg-config link"
needs_libcrdt_so "$work/consumer-pc" || fail "pkg-config --libs did not link libcrdt.so"
LD_LIBRARY_PATH=$libdir run_consumer "$work/consumer-pc"

# 3. pkg-config, static: -lcrdt would pick libcrdt.so, so name the archive;
# the rest (-lxxhash from Libs.private) comes from pkg-config --static.
say "pkg-config: static"
static_libs=()
for flag in $(pkg-config --static --libs crdt); do
    [[ $flag == -lcrdt ]] && flag=$libdir/libcrdt.a
    static_libs+=("$flag")
done
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags crdt) \
    "$source/examples/consumer/main.c" -o "$work/consumer-pc-static" \
    "${static_libs[@]}" "${link_flags[@]}" || fail "static pkg-config link"
needs_libcrdt_so "$work/consumer-pc-static" && fail "static link still needs libcrdt.so"
run_consumer "$work/consumer-pc-static"

say "OK (CMake shared+static, pkg-config shared+static)"
