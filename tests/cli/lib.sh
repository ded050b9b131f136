# Shared by the tests of the `crdt` command (cli.sh, map.sh): the binary
# under test, a scratch directory, and the check helpers. Source it with the
# path of the binary as $1:
#   . "$(dirname "$0")/lib.sh" "$1"
# Each check counts in $checks; a failed one prints the case, what was
# expected, and the start of stdout and stderr, and counts in $failures.
# shellcheck shell=bash
set -u
CRDT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[[ -x $CRDT ]] || { echo "$(basename "$0"): no executable at $1" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

checks=0 failures=0 case_name="" status=0

fail() {
    failures=$((failures + 1))
    printf 'FAIL [%s] %s\n' "$case_name" "$*"
    printf '  stdout: %s\n' "$(head -c 600 out)"
    printf '  stderr: %s\n' "$(head -c 600 err)"
}

# run WANT ARG...: runs crdt ARG..., checks the exit status.
run() {
    local want=$1
    shift
    checks=$((checks + 1))
    "$CRDT" "$@" >out 2>err
    status=$?
    [[ $status == "$want" ]] || fail "crdt $*: exit $status, expected $want"
}

out_is() { checks=$((checks + 1)); [[ $(cat out) == "$1" ]] || fail "stdout is not: $1"; }
out_has() { checks=$((checks + 1)); grep -qF -- "$1" out || fail "stdout lacks: $1"; }
err_has() { checks=$((checks + 1)); grep -qF -- "$1" err || fail "stderr lacks: $1"; }
err_empty() { checks=$((checks + 1)); [[ ! -s err ]] || fail "stderr is not empty"; }
out_empty() { checks=$((checks + 1)); [[ ! -s out ]] || fail "stdout is not empty"; }
# usage errors print a usage line
usage_shown() { err_has "usage: crdt"; }
same_file() { checks=$((checks + 1)); cmp -s "$1" "$2" || fail "$1 differs from $2"; }
json_is() { # json_is FILE EXPECTED: show --json FILE prints EXPECTED
    run 0 show "$1" --json
    out_is "$2"
    err_empty
}
no_temp_files() {
    checks=$((checks + 1))
    local left
    left=$(find . -name '*.tmp.*' | head -3)
    [[ -z $left ]] || fail "temporary files left: $left"
}
at_most_80_columns() { # file
    checks=$((checks + 1))
    local long
    long=$(awk 'length > 80 { print NR": "length }' "$1" | head -3)
    [[ -z $long ]] || fail "lines over 80 columns: $long"
}
unhex() { printf '%b' "$(tr -d ' \n' <"$1" | sed 's/../\\x&/g')" >"$2"; }
# flip_byte FILE OFFSET: xor the byte at OFFSET with 0x01, in place
flip_byte() {
    local byte
    byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# finish: the summary line; the exit status says whether every check passed.
finish() {
    echo "$(basename "$0"): $checks checks, $failures failed"
    [[ $failures == 0 ]]
}
