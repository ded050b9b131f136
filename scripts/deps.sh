#!/usr/bin/env bash
# Check that the Debian packages needed to build and test libcrdt are
# installed. As root, install the missing ones; otherwise print them with the
# command to run and exit 1. Prints nothing when all is present.
#
# Usage: scripts/deps.sh [--clang] [--fuzz] [--coverage] [--postgres]
#   --clang     also clang (scripts/test.sh builds with it too)
#   --fuzz      also clang and libFuzzer (libclang-rt-14-dev) for the fuzz preset
#   --coverage  also gcovr (scripts/coverage.sh)
#   --postgres  also the PostgreSQL 15 server, its client and server headers
#               (the extension in postgres/; scripts/test.sh, bench/postgres.sh)
set -euo pipefail

packages=(cmake gcc libc6-dev make pkg-config libxxhash-dev libcmocka-dev)
for arg in "$@"; do
    case $arg in
        --clang) packages+=(clang) ;;
        --fuzz) packages+=(clang libclang-rt-14-dev) ;;
        --coverage) packages+=(gcovr) ;;
        --postgres) packages+=(postgresql-15 postgresql-client-15 postgresql-server-dev-15) ;;
        -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "deps.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian-like: let CMake's own checks report what is missing.
    echo "deps.sh: no dpkg-query, cannot check packages; needed (Debian names):" \
        "${packages[*]}" >&2
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    [[ " ${missing[*]} " == *" $package "* ]] && continue     # listed twice
    # One line per installed architecture; any "installed" line will do.
    if ! dpkg-query -W -f='${db:Status-Status}\n' "$package" 2>/dev/null \
            | grep -qx installed; then
        missing+=("$package")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

install_command="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
    echo "deps.sh: installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    echo "install them as root with:" >&2
    echo "  $install_command" >&2
    exit 1
fi
