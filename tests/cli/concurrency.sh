#!/usr/bin/env bash
# Many `crdt` processes at once on one state file: every command that writes
# (apply, merge, sync, serve) holds the file's lock across read, merge and
# write, so all of them take effect. Without the lock, 40 concurrent applies
# kept a dozen of the 40 elements with no error.
#
# Usage: tests/cli/concurrency.sh PATH/TO/crdt   (ctest: cli_concurrency)
set -u
CRDT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[[ -x $CRDT ]] || { echo "concurrency.sh: no executable at $1" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0
fail() { failures=$((failures + 1)); printf 'FAIL %s\n' "$*"; }

# count_elements FILE: number of elements an orset file shows
count_elements() { "$CRDT" show "$1" --json | grep -o '"e[0-9]*"' | wc -l; }

# ---- 40 concurrent applies, each by its own replica -----------------------
"$CRDT" new orset f.crdt || exit 1
pids=()
for i in $(seq 1 40); do
    "$CRDT" apply f.crdt --replica "r$i" add "e$i" 2>"err$i" & pids+=($!)
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "apply $((i + 1)) exited non-zero: $(cat "err$((i + 1))")"
done
n=$(count_elements f.crdt)
[[ $n == 40 ]] || fail "40 concurrent applies kept $n elements"

# ---- concurrent applies to one counter by one replica each, 5 rounds ------
"$CRDT" new gcounter g.crdt || exit 1
pids=()
for i in $(seq 1 10); do
    ( for k in 1 2 3 4 5; do "$CRDT" apply g.crdt --replica "c$i" inc "$i" || exit 1; done ) & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a counter apply failed"; done
v=$("$CRDT" show g.crdt --json | sed 's/.*"value": \([0-9]*\).*/\1/')
[[ $v == 275 ]] || fail "counter after 50 concurrent increments: $v, expected 275"

# ---- merges into one file while applies run on it -------------------------
for i in $(seq 1 20); do
    "$CRDT" new orset "o$i.crdt" && "$CRDT" apply "o$i.crdt" --replica "m$i" add "e$((100 + i))" || exit 1
done
"$CRDT" new orset h.crdt || exit 1
pids=()
for i in $(seq 1 20); do
    "$CRDT" merge h.crdt "o$i.crdt" & pids+=($!)
    "$CRDT" apply h.crdt --replica "a$i" add "e$((200 + i))" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a merge or apply failed"; done
n=$(count_elements h.crdt)
[[ $n == 40 ]] || fail "20 merges and 20 applies at once kept $n elements"

# ---- syncs running while applies hit both files --------------------------
# (always f then g: a sync holds its file's lock and its serve the other's,
# so opposite directions at once would wait for each other until
# CRDT_LOCK_WAIT)
"$CRDT" new orset sf.crdt && "$CRDT" new orset sg.crdt || exit 1
pids=()
for i in $(seq 1 20); do
    "$CRDT" apply sf.crdt --replica "f$i" add "e$((300 + i))" & pids+=($!)
    "$CRDT" apply sg.crdt --replica "g$i" add "e$((400 + i))" & pids+=($!)
    if (( i % 2 == 0 )); then
        "$CRDT" sync sf.crdt --quiet -- "$CRDT" serve sg.crdt 2>"serr$i" & pids+=($!)
    fi
done
for p in "${pids[@]}"; do wait "$p" || fail "an apply or sync failed: $(cat serr* 2>/dev/null | head -3)"; done
"$CRDT" sync sf.crdt --quiet -- "$CRDT" serve sg.crdt || fail "the last sync failed"
[[ $("$CRDT" compare sf.crdt sg.crdt) == equal ]] || fail "sf and sg differ after syncing"
n=$(count_elements sf.crdt)
[[ $n == 40 ]] || fail "applies racing syncs kept $n of 40 elements"

# ---- a lock that is not released in time: clear error, file unchanged ----
if command -v flock >/dev/null 2>&1; then
    cp f.crdt before.crdt
    flock f.crdt sleep 3 & holder=$!
    sleep 0.5
    CRDT_LOCK_WAIT=1 "$CRDT" apply f.crdt --replica late add late 2>err && fail "apply got a held lock"
    grep -q "still locked" err || fail "no 'still locked' message: $(cat err)"
    wait $holder
    cmp -s f.crdt before.crdt || fail "the timed-out apply changed the file"
fi
[[ -z $(find . -name '*.tmp.*') ]] || fail "temporary files left"

if [[ $failures -gt 0 ]]; then echo "concurrency.sh: $failures failures"; exit 1; fi
echo "concurrency.sh: ok"
