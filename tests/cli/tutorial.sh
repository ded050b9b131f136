#!/usr/bin/env bash
# Keeps docs/tutorial.md true: runs its commands and compares their output
# with the output the page shows.
#
# Usage: tests/cli/tutorial.sh [--update] PATH/TO/crdt PATH/TO/tutorial.md
#
# The page's convention, simple enough to keep by hand:
#   - every ```sh block is run, in page order, by one bash process in an
#     empty directory, with the crdt under test first on PATH (so variables
#     and files carry over from block to block, as in a reader's terminal);
#   - a ```text block that follows a ```sh block (blank lines between them
#     are fine, prose is not) is that block's expected output, stdout and
#     stderr together; a ```sh block without one must print nothing;
#   - a command that is meant to fail shows its status: `...; echo "exit $?"`.
# --update rewrites the expected blocks with the actual output (review the
# diff before committing it).
set -u
update=0
if [[ ${1:-} == --update ]]; then
    update=1
    shift
fi
[[ $# == 2 ]] || { echo "usage: tutorial.sh [--update] CRDT TUTORIAL.md" >&2; exit 2; }
crdt=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
doc=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
[[ -x $crdt ]] || { echo "tutorial.sh: no executable at $1" >&2; exit 2; }
[[ -f $doc ]] || { echo "tutorial.sh: no file $2" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/run" "$work/blocks"

# Split the page: blocks/sh.N (commands) and blocks/expect.N (output).
awk -v dir="$work/blocks" '
    function close_block() { if (file != "") close(file); file = "" }
    /^```/ && in_block {
        in_block = 0; close_block()
        if (kind == "sh") pending = n; else pending = 0
        next
    }
    /^```sh[ \t]*$/ && !in_block {
        in_block = 1; kind = "sh"; n++; file = dir "/sh." n
        printf "" > file; next
    }
    /^```text[ \t]*$/ && !in_block {
        in_block = 1; kind = "text"
        if (pending) { file = dir "/expect." pending; printf "" > file }
        pending = 0; next
    }
    /^```/ && !in_block { in_block = 1; kind = "other"; pending = 0; next }
    in_block { if (file != "") print > file; next }
    /^[ \t]*$/ { next }
    { pending = 0 }
    END { print n > (dir "/count") }
' "$doc"
count=$(cat "$work/blocks/count")
[[ $count -gt 0 ]] || { echo "tutorial.sh: no \`\`\`sh blocks in $doc" >&2; exit 1; }

# One script runs every block, each one's output to its own file.
script=$work/run.sh
{
    echo "cd \"$work/run\" || exit 99"
    echo "export PATH=\"$(dirname "$crdt"):\$PATH\""
    for ((i = 1; i <= count; i++)); do
        echo "{"
        cat "$work/blocks/sh.$i"
        echo "} >\"$work/blocks/actual.$i\" 2>&1 </dev/null"
    done
} >"$script"
# The page's blocks run as they are; a `crdt` alias or function of the
# caller's shell cannot interfere (bash runs the script without them).
bash "$script"

failures=0
for ((i = 1; i <= count; i++)); do
    expect=$work/blocks/expect.$i
    [[ -f $expect ]] || : >"$expect.none"
    want=$expect
    [[ -f $want ]] || want=$expect.none
    if ! cmp -s "$want" "$work/blocks/actual.$i"; then
        failures=$((failures + 1))
        if [[ $update == 0 ]]; then
            echo "tutorial.sh: block $i of $(basename "$doc") prints something else:"
            sed 's/^/    $ /' "$work/blocks/sh.$i"
            diff -u --label expected --label actual "$want" "$work/blocks/actual.$i" |
                sed 's/^/    /'
        fi
    fi
done

if [[ $update == 1 ]]; then
    # Rewrite the expected blocks in place with the actual outputs.
    awk -v dir="$work/blocks" '
        /^```/ && in_block {
            in_block = 0; skipping = 0
            if (kind == "sh") pending = n; else pending = 0
            print; next
        }
        /^```sh[ \t]*$/ && !in_block { in_block = 1; kind = "sh"; n++; print; next }
        /^```text[ \t]*$/ && !in_block {
            in_block = 1; kind = "text"; print
            if (pending) {
                f = dir "/actual." pending
                while ((getline line < f) > 0) print line
                close(f); skipping = 1
            }
            pending = 0; next
        }
        /^```/ && !in_block { in_block = 1; kind = "other"; pending = 0; print; next }
        in_block { if (!skipping) print; next }
        /^[ \t]*$/ { print; next }
        { pending = 0; print }
    ' "$doc" >"$work/updated.md"
    cat "$work/updated.md" >"$doc"
    for ((i = 1; i <= count; i++)); do
        if [[ ! -f $work/blocks/expect.$i && -s $work/blocks/actual.$i ]]; then
            echo "tutorial.sh: block $i prints output but has no \`\`\`text block" \
                "after it: add one and run --update again" >&2
        fi
    done
    echo "tutorial.sh: updated $(basename "$doc") ($failures block(s) changed)"
    exit 0
fi

if [[ $failures == 0 ]]; then
    echo "tutorial.sh: $count command blocks of $(basename "$doc") print what the page shows"
else
    echo "tutorial.sh: $failures of $count blocks differ; rerun with --update to refresh" \
        "the page, after checking that the new output is right" >&2
fi
[[ $failures == 0 ]]
