#!/usr/bin/env bash
# `crdt sync FILE -- CMD` and `crdt serve FILE`: two real processes over
# pipes. Files of every type end equal; equal files cost one small message
# each way; a peer that dies or is not a crdt peer leaves the file as it
# was; large syncs in small messages; usage errors.
#
# Usage: tests/cli/sync.sh PATH/TO/crdt   (ctest: cli_sync)
set -u
CRDT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[[ -x $CRDT ]] || { echo "sync.sh: no executable at $1" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
failures=0 checks=0
fail() { failures=$((failures + 1)); printf 'FAIL %s\n' "$*"; }
check() { checks=$((checks + 1)); "$@"; }
json() { "$CRDT" show "$1" --json; }
same_state() { # FILE OTHER: equal contexts and equal values
    checks=$((checks + 1))
    [[ $("$CRDT" compare "$1" "$2" 2>&1) == equal ]] || fail "$1 and $2 do not compare equal"
    local x y
    x=$(json "$1")
    y=$(json "$2")
    [[ "$x" == "$y" ]] || fail "$1 and $2 show different states: $x / $y"
}

# ---- every type: concurrent changes on both sides, then one sync ----------
apply() { "$CRDT" apply "$@" >/dev/null || fail "apply $*"; }
for type in gcounter pncounter orset mvreg cart lwwreg flag map; do
    "$CRDT" new "$type" "a-$type.crdt" && "$CRDT" new "$type" "b-$type.crdt" || exit 1
    case $type in
    gcounter) apply "a-$type.crdt" --replica A inc 3; apply "b-$type.crdt" --replica B inc 4 ;;
    pncounter) apply "a-$type.crdt" --replica A inc 3; apply "b-$type.crdt" --replica B dec 4 ;;
    orset)
        for i in 1 2 3 4 5; do apply "a-$type.crdt" --replica A add "x$i"; done
        cp "a-$type.crdt" "b-$type.crdt"
        apply "a-$type.crdt" --replica A rm x1; apply "b-$type.crdt" --replica B rm x2
        apply "b-$type.crdt" --replica B add y ;;
    mvreg) apply "a-$type.crdt" --replica A set eggs; apply "b-$type.crdt" --replica B set milk ;;
    cart)
        apply "a-$type.crdt" --replica A add apple 3; cp "a-$type.crdt" "b-$type.crdt"
        apply "a-$type.crdt" --replica A dec apple 1; apply "b-$type.crdt" --replica B add pear 2 ;;
    lwwreg) apply "a-$type.crdt" --replica A set old --time 5; apply "b-$type.crdt" --replica B set new --time 9 ;;
    flag)
        apply "a-$type.crdt" --replica A enable; cp "a-$type.crdt" "b-$type.crdt"
        apply "a-$type.crdt" --replica A disable; apply "b-$type.crdt" --replica B enable ;;
    map)
        apply "a-$type.crdt" --replica A --field doc:map --field visits:counter inc 5
        apply "a-$type.crdt" --replica A --field doc:map --field tags:orset add x
        cp "a-$type.crdt" "b-$type.crdt"
        apply "a-$type.crdt" --replica A --field doc:map del
        apply "b-$type.crdt" --replica B --field doc:map --field visits:counter inc 2
        apply "b-$type.crdt" --replica B --field nick:mvreg set ada ;;
    esac
    if ! "$CRDT" sync "a-$type.crdt" -- "$CRDT" serve "b-$type.crdt" 2>err; then
        fail "sync $type: $(cat err)"
    fi
    checks=$((checks + 1))
    grep -q "^crdt sync: sent [0-9]* bytes in [0-9]* messages, received [0-9]* bytes in [0-9]* messages, [0-9.]* round trips" err ||
        fail "sync $type: no closing line: $(cat err)"
    if [[ $type == lwwreg ]]; then
        check [ "$(json a-lwwreg.crdt)" == "$(json b-lwwreg.crdt)" ] || fail "lwwreg differs"
        [[ $(json a-lwwreg.crdt) == *'"new"'* ]] || fail "lwwreg: the later write lost"
    else
        same_state "a-$type.crdt" "b-$type.crdt"
    fi
done
[[ $(json a-orset.crdt) == *'"value": ["x3", "x4", "x5", "y"]'* ]] || fail "orset: $(json a-orset.crdt)"
[[ $(json a-cart.crdt) == *'"apple": 2, "pear": 2'* ]] || fail "cart: $(json a-cart.crdt)"
[[ $(json a-gcounter.crdt) == *'"value": 7'* ]] || fail "gcounter: $(json a-gcounter.crdt)"
# the flag: B's enable was concurrent with A's disable, and enable wins
[[ $(json a-flag.crdt) == *'"value": true'* ]] || fail "flag: $(json a-flag.crdt)"
# the map: A removed doc while B added 2 to doc.visits: the 2 alone survives
[[ $(json a-map.crdt) == *'"visits"'*': 2'* && $(json a-map.crdt) != *'"tags"'* ]] || fail "map: $(json a-map.crdt)"

# ---- equal files: one message each way, holding contexts ----------------
cp a-orset.crdt before.crdt
"$CRDT" sync a-orset.crdt -- "$CRDT" serve b-orset.crdt 2>err || fail "equal sync: $(cat err)"
check grep -q "in 1 messages, received [0-9]* bytes in 1 messages, 0.5 round trips" err ||
    fail "equal files took more than one message each way: $(cat err)"
bytes=$(sed 's/.*sent \([0-9]*\) bytes.*/\1/' err)
checks=$((checks + 1)); [[ $bytes -lt 120 ]] || fail "equal files: $bytes bytes sent"
checks=$((checks + 1)); cmp -s a-orset.crdt before.crdt || fail "an equal sync changed the file"

# ---- larger: 150 elements each side, messages of at most 512 bytes ---------
"$CRDT" new orset big-a.crdt && "$CRDT" new orset big-b.crdt || exit 1
gen() { # FILE REPLICA PREFIX N: N adds as one merge of a delta-built file
    for i in $(seq 1 "$4"); do echo "$3$i"; done >list
    while read -r e; do "$CRDT" apply "$1" --replica "$2" add "$e" >/dev/null; done <list
}
gen big-a.crdt A a 150
gen big-b.crdt B b 150
"$CRDT" sync big-a.crdt --cap 512 -- "$CRDT" serve big-b.crdt --cap 512 2>err || fail "large sync: $(cat err)"
same_state big-a.crdt big-b.crdt
msgs=$(sed 's/.*sent [0-9]* bytes in \([0-9]*\) messages.*/\1/' err)
sent=$(sed 's/.*sent \([0-9]*\) bytes.*/\1/' err)
checks=$((checks + 1)); [[ $msgs -ge 3 && $sent -le $((msgs * 512)) ]] ||
    fail "a 512-byte cap should need several messages: $(cat err)"

# ---- a peer that dies, or is not a crdt peer: the file is unchanged ------
apply a-orset.crdt --replica A add late
cp a-orset.crdt keep.crdt
for peer in "false" "sh -c 'head -c 40 >/dev/null'" "sh -c 'head -c 40 /dev/zero'" \
    "$CRDT serve missing.crdt"; do
    # shellcheck disable=SC2086
    if eval "\"$CRDT\" sync a-orset.crdt -- $peer" 2>err; then
        fail "sync with '$peer' succeeded"
    fi
    checks=$((checks + 1)); cmp -s a-orset.crdt keep.crdt || fail "'$peer' changed the file"
    checks=$((checks + 1)); grep -q "crdt: " err || fail "'$peer': no message"
done
printf 'hello, this is not crdt\n' >garbage
"$CRDT" sync a-orset.crdt -- cat garbage 2>err
checks=$((checks + 1)); grep -q "does not speak the crdt sync protocol" err ||
    fail "garbage peer: $(cat err)"
"$CRDT" sync a-orset.crdt -- sh -c 'head -c 40 /dev/zero' 2>err
checks=$((checks + 1)); grep -q "bad message from the peer" err ||
    fail "zero bytes peer: $(cat err)"

# ---- usage ------------------------------------------------------------------
usage() { # WANT_STATUS ARG...
    local want=$1
    shift
    "$CRDT" "$@" 2>err
    local st=$?
    checks=$((checks + 1))
    [[ $st == "$want" ]] || fail "crdt $*: exit $st, expected $want"
    grep -q "usage: crdt" err || fail "crdt $*: no usage line"
}
usage 2 sync a-orset.crdt
usage 2 sync a-orset.crdt --
usage 2 sync a-orset.crdt --cap 10 -- true
usage 2 sync a-orset.crdt --bogus -- true
usage 2 serve
usage 2 serve a b
"$CRDT" sync a-gcounter.crdt -- "$CRDT" serve b-orset.crdt 2>err && fail "types differ, yet synced"
checks=$((checks + 1)); grep -q "crdt: " err || fail "types differ: no message"
[[ -z $(find . -name '*.tmp.*') ]] || fail "temporary files left"

if [[ $failures -gt 0 ]]; then echo "sync.sh: $failures of $checks checks failed"; exit 1; fi
echo "sync.sh: ok ($checks checks)"
