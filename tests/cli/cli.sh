#!/usr/bin/env bash
# Drives the real `crdt` binary through every subcommand and error path:
# exit status, stdout and the message on stderr, for every type.
#
# Usage: tests/cli/cli.sh PATH/TO/crdt
# (registered with ctest as `cli`; runs under the sanitizer options ctest
# sets, so a leak or a sanitizer report fails the case it happens in).
set -u
FIXTURES=$(cd "$(dirname "$0")/fixtures" && pwd)
. "$(dirname "$0")/lib.sh" "$1"

# ---------------------------------------------------------------------------
case_name="help"
run 0 help
out_has "usage: crdt COMMAND"
for word in "crdt new TYPE FILE" "crdt apply FILE --replica R OP" "crdt merge FILE OTHER" \
    "crdt show FILE [--json]" "crdt context FILE" "crdt compare FILE OTHER" \
    "crdt demo [--svg OUT.svg]" "gcounter:  inc [N]" "pncounter: inc [N] | dec [N]" \
    "orset:     add ELEM | rm ELEM" "mvreg:     set VALUE [--context TOKEN]" \
    "cart:      add ITEM [N] | dec ITEM [N] | rm ITEM" "lwwreg:    set VALUE --time T" \
    "flag:      enable | disable" "TYPE: gcounter pncounter orset mvreg cart lwwreg flag" \
    "Exit status"; do
    out_has "$word"
done
err_empty
at_most_80_columns out
cp out help.txt
run 0 --help
same_file out help.txt
run 0 -h
same_file out help.txt
run 0 --version
out_has "libcrdt"

case_name="command line"
run 2
usage_shown
run 1 frobnicate
err_has "unknown command 'frobnicate'"

# ---------------------------------------------------------------------------
case_name="new"
for type in gcounter pncounter orset mvreg cart lwwreg flag; do
    run 0 new "$type" "$type.crdt"
    out_empty
    err_empty
    checks=$((checks + 1))
    [[ $(head -c 4 "$type.crdt") == CRDT ]] || fail "$type.crdt does not start with the magic"
done
json_is gcounter.crdt '{"type": "gcounter", "value": 0, "vv": {}}'
json_is pncounter.crdt '{"type": "pncounter", "value": 0, "vv": {}}'
json_is orset.crdt '{"type": "orset", "value": [], "vv": {}}'
json_is mvreg.crdt '{"type": "mvreg", "value": [], "vv": {}}'
json_is cart.crdt '{"type": "cart", "value": {}, "vv": {}}'
json_is lwwreg.crdt '{"type": "lwwreg", "value": null, "timestamp": null, "writer": null}'
json_is flag.crdt '{"type": "flag", "value": false, "vv": {}}'
run 1 new sets nope.crdt
err_has "unknown type 'sets'"
err_has "lwwreg flag map)"
checks=$((checks + 1)); [[ ! -e nope.crdt ]] || fail "new with an unknown type created the file"
run 2 new
usage_shown
run 2 new orset
usage_shown
run 2 new orset a.crdt b.crdt
usage_shown
cp orset.crdt orset.before
run 1 new orset orset.crdt
err_has "orset.crdt: already exists"
same_file orset.crdt orset.before
run 1 new orset no/such/dir/x.crdt
err_has "no/such/dir/x.crdt"
no_temp_files

# ---------------------------------------------------------------------------
case_name="apply gcounter"
run 0 apply gcounter.crdt --replica A inc
out_empty
err_empty
run 0 apply gcounter.crdt --replica A inc 5
run 0 apply gcounter.crdt --replica B inc 2
json_is gcounter.crdt '{"type": "gcounter", "value": 8, "vv": {"A": 2, "B": 1}}'
cp gcounter.crdt g.before
run 2 apply gcounter.crdt --replica A inc 0
err_has "N must be a positive integer"
usage_shown
run 2 apply gcounter.crdt --replica A inc abc
run 2 apply gcounter.crdt --replica A inc 18446744073709551616
run 2 apply gcounter.crdt --replica A inc -1
run 2 apply gcounter.crdt --replica A inc 1 2
err_has "too many arguments"
run 1 apply gcounter.crdt --replica A dec
err_has "op 'dec' is not valid for a gcounter"
err_has "inc [N]"
run 1 apply gcounter.crdt --replica A frob
err_has "unknown op 'frob' (ops: inc dec add rm set enable disable"
same_file gcounter.crdt g.before
run 0 apply gcounter.crdt --replica C inc 18446744073709551605
cp gcounter.crdt g.before
run 1 apply gcounter.crdt --replica C inc 3
err_has 'gcounter.crdt: inc: out of range'
same_file gcounter.crdt g.before
run 0 show gcounter.crdt
out_is 'type:       gcounter
value:      18446744073709551613
context:    {A:2, B:1, C:1}
increments: {A:6, B:2, C:18446744073709551605}'

case_name="apply pncounter"
run 0 apply pncounter.crdt --replica A inc 3
run 0 apply pncounter.crdt --replica B dec 5
run 0 apply pncounter.crdt --replica B dec
json_is pncounter.crdt '{"type": "pncounter", "value": -3, "vv": {"A": 1, "B": 2}}'
run 0 show pncounter.crdt
out_is 'type:       pncounter
value:      -3
context:    {A:1, B:2}
increments: {A:3}
decrements: {B:6}'
run 1 apply pncounter.crdt --replica A add x
err_has "op 'add' is not valid for a pncounter (ops: inc [N] | dec [N])"

case_name="apply orset"
run 0 apply orset.crdt --replica A add milk
run 0 apply orset.crdt --replica A add eggs
run 0 apply orset.crdt --replica B rm milk
json_is orset.crdt '{"type": "orset", "value": ["eggs"], "vv": {"A": 2, "B": 1}}'
cp orset.crdt orset.before
run 1 apply orset.crdt --replica B rm milk
err_has 'orset.crdt: rm "milk": not in the set'
out_empty
same_file orset.crdt orset.before
run 2 apply orset.crdt --replica A add
err_has "usage: crdt apply FILE --replica R add ELEM"
run 2 apply orset.crdt --replica A add x y
run 1 apply orset.crdt --replica A set x
err_has "not valid for an orset"
run 2 apply orset.crdt --replica A add x --time 3
err_has "--time is for lwwreg set only"
run 2 apply orset.crdt --replica A add x --context 00
# options anywhere, --name=value, and -- before a value that starts with '-'
run 0 apply --replica=C orset.crdt add -- -x
run 0 apply orset.crdt add --replica C -- --y
json_is orset.crdt '{"type": "orset", "value": ["--y", "-x", "eggs"], "vv": {"A": 2, "B": 1, "C": 2}}'
run 2 apply orset.crdt --replica C add -z
err_has "unknown option '-z'"
run 2 apply orset.crdt --replica C --replica D add z
err_has "given twice"
run 2 apply orset.crdt --replica
err_has "needs a value"
no_temp_files

case_name="apply: --replica"
run 2 apply orset.crdt add z
err_has "missing --replica"
run 2 apply orset.crdt --replica '' add z
err_has "1 to 64 bytes"
long_id=$(printf 'r%.0s' {1..65})
run 2 apply orset.crdt --replica "$long_id" add z
run 0 apply orset.crdt --replica "${long_id:1}" add z
run 2 apply
err_has "missing FILE"
run 2 apply orset.crdt --replica A
err_has "missing OP"

case_name="apply mvreg"
run 0 context mvreg.crdt
token_empty=$(cat out)
checks=$((checks + 1))
[[ $token_empty =~ ^[0-9a-f]+$ && $(wc -l <out) == 1 ]] || fail "token is not one line of lowercase hex"
run 0 apply mvreg.crdt --replica S set eggs
run 0 context mvreg.crdt
token_eggs=$(cat out)
run 0 apply mvreg.crdt --replica S set milk --context "$token_empty"
json_is mvreg.crdt '{"type": "mvreg", "value": ["eggs", "milk"], "vv": {"S": 2}}'
run 0 apply mvreg.crdt --replica S set "eggs, bacon" --context "$token_eggs"
json_is mvreg.crdt '{"type": "mvreg", "value": ["eggs, bacon", "milk"], "vv": {"S": 3}}'
run 0 show mvreg.crdt
out_is 'type:       mvreg
value:      ["eggs, bacon", "milk"]
context:    {S:3}'
# a token read at one replica, used for a write at another
run 0 context mvreg.crdt
token_both=$(cat out)
run 0 apply mvreg.crdt --replica T set "eggs, bacon, milk" --context="$token_both"
json_is mvreg.crdt '{"type": "mvreg", "value": ["eggs, bacon, milk"], "vv": {"S": 3, "T": 1}}'
# uppercase hex is the same token
run 0 apply mvreg.crdt --replica T set x --context "${token_empty^^}"
json_is mvreg.crdt '{"type": "mvreg", "value": ["eggs, bacon, milk", "x"], "vv": {"S": 3, "T": 2}}'
# without --context, set replaces everything the file has seen
run 0 apply mvreg.crdt --replica S set y
json_is mvreg.crdt '{"type": "mvreg", "value": ["y"], "vv": {"S": 4, "T": 2}}'
cp mvreg.crdt mvreg.before
run 1 apply mvreg.crdt --replica S set z --context xyz
err_has "invalid context token: not hex"
run 1 apply mvreg.crdt --replica S set z --context abc
err_has "invalid context token"
last=${token_eggs: -1}
[[ $last == 0 ]] && other=1 || other=0
run 1 apply mvreg.crdt --replica S set z --context "${token_eggs%?}$other"
err_has "invalid context token: checksum mismatch"
run 1 apply mvreg.crdt --replica S set z --context "$(od -An -tx1 -v orset.crdt | tr -d ' \n')"
err_has "invalid context token"
run 2 apply mvreg.crdt --replica S set z --time 4
err_has "--time is for lwwreg set only"
run 2 apply mvreg.crdt --replica S set
run 2 apply mvreg.crdt --replica S set a b
run 2 apply mvreg.crdt --replica S set z --context
same_file mvreg.crdt mvreg.before
run 1 context orset.crdt
err_has "orset.crdt: holds an orset; read context tokens are for mvreg files"
run 2 context
usage_shown
run 2 context mvreg.crdt extra
run 1 context missing.crdt
err_has "missing.crdt"

case_name="apply cart"
run 0 apply cart.crdt --replica A add eggs
run 0 apply cart.crdt --replica A add eggs 2
run 0 apply cart.crdt --replica B add milk
run 0 apply cart.crdt --replica B dec eggs
json_is cart.crdt '{"type": "cart", "value": {"eggs": 2, "milk": 1}, "vv": {"A": 2, "B": 2}}'
cp cart.crdt cart.before
run 1 apply cart.crdt --replica A rm bread
err_has 'cart.crdt: rm "bread": not in the cart'
run 1 apply cart.crdt --replica A dec bread
err_has 'dec "bread": not in the cart'
run 1 apply cart.crdt --replica A add eggs 9223372036854775808
err_has "out of range"
same_file cart.crdt cart.before
run 0 apply cart.crdt --replica A dec eggs 100
run 0 apply cart.crdt --replica A rm milk
json_is cart.crdt '{"type": "cart", "value": {}, "vv": {"A": 4, "B": 2}}'
run 2 apply cart.crdt --replica A add
run 2 apply cart.crdt --replica A add eggs 1 2
run 2 apply cart.crdt --replica A rm eggs 1
run 2 apply cart.crdt --replica A add eggs 0
run 1 apply cart.crdt --replica A inc
err_has "not valid for a cart (ops: add ITEM [N] | dec ITEM [N] | rm ITEM)"

case_name="apply lwwreg"
run 0 apply lwwreg.crdt --replica A set first --time 5
json_is lwwreg.crdt '{"type": "lwwreg", "value": "first", "timestamp": 5, "writer": "A"}'
cp lwwreg.crdt lww.before
run 1 apply lwwreg.crdt --replica B set late --time 4
err_has 'set at time 4 is stale: the register holds a write at time 5 by "A"'
same_file lwwreg.crdt lww.before
run 1 apply lwwreg.crdt --replica A set first --time 5
err_has "stale"
run 0 apply lwwreg.crdt --replica B set tie --time 5
json_is lwwreg.crdt '{"type": "lwwreg", "value": "tie", "timestamp": 5, "writer": "B"}'
run 0 apply lwwreg.crdt --replica A set max --time 18446744073709551615
run 0 show lwwreg.crdt
out_is 'type:       lwwreg
value:      "max"
timestamp:  18446744073709551615
writer:     A'
run 2 apply lwwreg.crdt --replica A set x
err_has "lwwreg set needs --time T"
run 2 apply lwwreg.crdt --replica A set x --time soon
err_has "T must be an unsigned integer"
run 2 apply lwwreg.crdt --replica A set x --time 18446744073709551616
run 2 apply lwwreg.crdt --replica A set x --time 1 --context 00
err_has "--context is for mvreg set only"
run 0 show lww.before
out_has "timestamp:  5"
run 0 new lwwreg empty-lww.crdt
run 0 show empty-lww.crdt
out_is 'type:       lwwreg
value:      null
timestamp:  none (never written)
writer:     none'

case_name="apply flag"
cp flag.crdt flag.before
run 1 apply flag.crdt --replica A disable
err_has 'flag.crdt: disable: the flag is not enabled here (nothing written)'
out_empty
same_file flag.crdt flag.before
run 0 apply flag.crdt --replica A enable
out_empty
err_empty
json_is flag.crdt '{"type": "flag", "value": true, "vv": {"A": 1}}'
# every enable ticks, also when already enabled
run 0 apply flag.crdt --replica A enable
json_is flag.crdt '{"type": "flag", "value": true, "vv": {"A": 2}}'
run 0 apply flag.crdt --replica B disable
run 0 show flag.crdt
out_is 'type:       flag
value:      false
context:    {A:2, B:1}'
cp flag.crdt flag.before
run 1 apply flag.crdt --replica B disable
err_has 'disable: the flag is not enabled here'
same_file flag.crdt flag.before
run 2 apply flag.crdt --replica A enable now
err_has "enable: too many arguments"
err_has "usage: crdt apply FILE --replica R enable"
run 2 apply flag.crdt --replica A disable x
run 2 apply flag.crdt --replica A enable --time 3
err_has "--time is for lwwreg set only"
run 1 apply flag.crdt --replica A add x
err_has "op 'add' is not valid for a flag (ops: enable | disable)"
run 1 apply orset.crdt --replica A enable
err_has "op 'enable' is not valid for an orset"
same_file flag.crdt flag.before
# enable wins: f1 and f2 start from one enabled state; f2 disables what it
# saw while f1 enables again (a fresh dot f2 never saw)
run 0 new flag f1.crdt
run 0 apply f1.crdt --replica A enable
cp f1.crdt f2.crdt
run 0 apply f2.crdt --replica B disable
run 0 apply f1.crdt --replica A enable
run 0 compare f1.crdt f2.crdt
out_is concurrent
run 0 merge f1.crdt f2.crdt
json_is f1.crdt '{"type": "flag", "value": true, "vv": {"A": 2, "B": 1}}'
run 0 merge f2.crdt f1.crdt
same_file f1.crdt f2.crdt
# a disable that saw every enable wins
run 0 apply f2.crdt --replica B disable
run 0 compare f1.crdt f2.crdt
out_is before
run 0 merge f1.crdt f2.crdt
json_is f1.crdt '{"type": "flag", "value": false, "vv": {"A": 2, "B": 2}}'
run 1 merge f1.crdt gcounter.crdt
err_has "cannot merge gcounter.crdt (a gcounter) into f1.crdt (a flag): different types"
run 1 context f1.crdt
err_has "f1.crdt: holds a flag; read context tokens are for mvreg files"

# ---------------------------------------------------------------------------
case_name="bad files"
run 1 context missing.crdt
err_has "crdt: missing.crdt: No such file or directory"
run 1 apply missing.crdt --replica A inc
err_has "crdt: missing.crdt: No such file or directory"
run 1 merge orset.crdt missing.crdt
err_has "crdt: missing.crdt: No such file or directory"
run 1 compare orset.crdt missing.crdt
err_has "crdt: missing.crdt: No such file or directory"
run 1 show missing.crdt
err_has "crdt: missing.crdt: No such file or directory"
cp gcounter.crdt corrupt.crdt
flip_byte corrupt.crdt 12
cp corrupt.crdt corrupt.before
run 1 show corrupt.crdt
err_has "crdt: corrupt.crdt: cannot decode: checksum mismatch"
run 1 apply corrupt.crdt --replica A inc
err_has "corrupt.crdt: cannot decode"
same_file corrupt.crdt corrupt.before
head -c 10 gcounter.crdt >truncated.crdt
run 1 show truncated.crdt
err_has "crdt: truncated.crdt: cannot decode: input truncated"
: >empty.crdt
run 1 show empty.crdt
err_has "empty.crdt: cannot decode"
printf 'hello world\n' >text.crdt
run 1 show --json text.crdt
err_has "text.crdt: cannot decode: not a libcrdt blob (bad magic)"
run 0 context mvreg.crdt
unhex <(cat out) token.crdt
run 1 show token.crdt
err_has "token.crdt: holds a context token, not a state"
run 1 show .
err_has "crdt: .:"
no_temp_files

case_name="show arguments"
run 2 show
usage_shown
run 2 show a.crdt b.crdt
usage_shown
run 2 show orset.crdt --yaml
err_has "unknown option '--yaml'"

# ---------------------------------------------------------------------------
case_name="merge"
# a and b start from one state, then change concurrently:
#   a: A adds milk (A1), eggs (A2); b is a copy; b: B removes milk (B1);
#   a: A adds bread (A3) and adds milk again (A4: a fresh dot b never saw).
# Joined: eggs (both), bread (b never saw A3), milk (A4 survives B's remove,
# which only removed A1): add wins. Vector: A's 4 updates and B's 1.
run 0 new orset a.crdt
run 0 apply a.crdt --replica A add milk
run 0 apply a.crdt --replica A add eggs
cp a.crdt b.crdt
run 0 compare a.crdt b.crdt
out_is equal
run 0 apply b.crdt --replica B rm milk
run 0 compare a.crdt b.crdt
out_is before
run 0 apply a.crdt --replica A add bread
run 0 apply a.crdt --replica A add milk
run 0 compare a.crdt b.crdt
out_is concurrent
run 0 compare b.crdt a.crdt
out_is concurrent
cp a.crdt a.before
run 0 merge a.crdt b.crdt
out_empty
err_empty
json_is a.crdt '{"type": "orset", "value": ["bread", "eggs", "milk"], "vv": {"A": 4, "B": 1}}'
run 0 compare a.crdt b.crdt
out_is after
run 0 compare b.crdt a.crdt
out_is before
run 0 merge b.crdt a.before
json_is b.crdt '{"type": "orset", "value": ["bread", "eggs", "milk"], "vv": {"A": 4, "B": 1}}'
run 0 compare a.crdt b.crdt
out_is equal
same_file a.crdt b.crdt
# idempotent
run 0 merge a.crdt a.crdt b.crdt
same_file a.crdt b.crdt

case_name="merge several, counters"
for r in X Y Z; do
    run 0 new gcounter "g$r.crdt"
    run 0 apply "g$r.crdt" --replica "$r" inc 10
done
run 0 apply gY.crdt --replica Y inc
run 0 compare gX.crdt gY.crdt
out_is concurrent
run 0 merge gX.crdt gY.crdt gZ.crdt
json_is gX.crdt '{"type": "gcounter", "value": 31, "vv": {"X": 1, "Y": 2, "Z": 1}}'
run 0 compare gZ.crdt gX.crdt
out_is before

case_name="merge errors"
cp a.crdt a.before
run 1 merge a.crdt gX.crdt
err_has "cannot merge gX.crdt (a gcounter) into a.crdt (an orset): different types"
same_file a.crdt a.before
run 1 merge a.crdt b.crdt corrupt.crdt
err_has "corrupt.crdt: cannot decode"
same_file a.crdt a.before
run 1 merge a.crdt missing.crdt
err_has "missing.crdt"
same_file a.crdt a.before
run 1 merge missing.crdt a.crdt
err_has "missing.crdt"
checks=$((checks + 1)); [[ ! -e missing.crdt ]] || fail "merge created its missing target"
run 2 merge a.crdt
usage_shown
run 2 merge
no_temp_files

case_name="merge: a cloud"
# A delta-built state (made with the library's delta API, it holds A's x
# and z but not y): context {A:1} + {A:3}. Merging the missing delta fills
# the gap. Both fixtures are version 1 blobs, pinned like the golden blobs.
unhex "$FIXTURES/orset-cloud.hex" cloud.crdt
unhex "$FIXTURES/orset-delta-y.hex" delta-y.crdt
json_is cloud.crdt '{"type": "orset", "value": ["x", "z"], "vv": {"A": 1}, "cloud": [["A", 3]]}'
run 0 show cloud.crdt
out_has "context:    {A:1} + {A:3}"
run 0 merge cloud.crdt delta-y.crdt
json_is cloud.crdt '{"type": "orset", "value": ["x", "y", "z"], "vv": {"A": 3}}'

# ---------------------------------------------------------------------------
case_name="compare"
run 0 compare mvreg.crdt mvreg.crdt
out_is equal
run 1 compare lwwreg.crdt lww.before
err_has "an lwwreg keeps no causal history"
out_empty
run 1 compare a.crdt mvreg.crdt
err_has "cannot compare a.crdt (an orset) with mvreg.crdt (an mvreg): different types"
run 2 compare a.crdt
usage_shown
run 2 compare a.crdt b.crdt c.crdt
run 1 compare a.crdt corrupt.crdt
err_has "corrupt.crdt: cannot decode"

# ---------------------------------------------------------------------------
case_name="json escaping and odd replica ids"
run 0 new orset odd.crdt
run 0 apply odd.crdt --replica 'q"\x' add "$(printf 'a"b\\c\nd\te\001')"
run 0 apply odd.crdt --replica "$(printf 'caf\303\251')" add "$(printf '\377')"
json_is odd.crdt "$(printf '{"type": "orset", "value": ["a\\"b\\\\c\\nd\\te\\u0001", "\\u00ff"], "vv": {"caf\303\251": 1, "q\\"\\\\x": 1}}')"
if command -v python3 >/dev/null; then
    run 0 show --json odd.crdt
    checks=$((checks + 1))
    python3 -c 'import json,sys; json.load(sys.stdin)' <out || fail "show --json is not valid JSON"
fi
# ids with ':' and ", ": show --json reads the context as data from the
# library, so it reports such ids exactly, for every type.
run 0 new gcounter colon.crdt
run 0 apply colon.crdt --replica 'a:1, b' inc
run 0 apply colon.crdt --replica a inc 2
json_is colon.crdt '{"type": "gcounter", "value": 3, "vv": {"a": 1, "a:1, b": 1}}'
run 0 new mvreg colon-mv.crdt
run 0 apply colon-mv.crdt --replica 'A:1, B' set x
run 0 apply colon-mv.crdt --replica B set y --context "$token_empty"
json_is colon-mv.crdt '{"type": "mvreg", "value": ["x", "y"], "vv": {"A:1, B": 1, "B": 1}}'
run 0 new orset colon-set.crdt
run 0 apply colon-set.crdt --replica 'n:5' add x
json_is colon-set.crdt '{"type": "orset", "value": ["x"], "vv": {"n:5": 1}}'
run 0 apply colon-set.crdt --replica 'n' add y
json_is colon-set.crdt '{"type": "orset", "value": ["x", "y"], "vv": {"n": 1, "n:5": 1}}'
run 0 show colon-set.crdt
out_has "context:    {n:1, n:5:1}"

# ---------------------------------------------------------------------------
case_name="atomic writes"
chmod 640 a.crdt
run 0 apply a.crdt --replica A add tea
checks=$((checks + 1))
[[ $(stat -c %a a.crdt) == 640 ]] || fail "apply changed the file mode to $(stat -c %a a.crdt)"
no_temp_files
if [[ $(id -u) != 0 ]]; then
    # Not root: a read-only directory makes the temporary file impossible.
    mkdir ro && cp a.crdt ro/a.crdt && chmod 555 ro
    run 1 apply ro/a.crdt --replica A add coffee
    err_has "ro/a.crdt: cannot create a temporary file"
    same_file ro/a.crdt a.crdt
    chmod 755 ro
fi
# through a symbolic link, the file it names is replaced, not the link
ln -s a.crdt link.crdt
run 0 apply link.crdt --replica A add juice
checks=$((checks + 1))
[[ -L link.crdt ]] || fail "apply replaced the symbolic link"
run 0 show a.crdt --json
out_has '"juice"'
mkdir dir.crdt
run 1 new orset dir.crdt
err_has "dir.crdt: already exists"
no_temp_files

# ---------------------------------------------------------------------------
case_name="demo"
run 0 demo
err_empty
cp out demo.txt
at_most_80_columns demo.txt
out_has "2 siblings: [eggs, bacon] and [milk]."
out_has "A {A:2} vs B {A:1, B:1}: concurrent"
out_has "F {node1:3, node2:1} vs G {node2:1, node3:3}: concurrent"
out_has "H at node2 {node1:3, node2:2, node3:3}: after F, after G"
out_has "[milk] is lost"
out_has '{"eggs": 1, "milk": 1}'
run 0 demo --svg demo.svg
at_most_80_columns out
checks=$((checks + 1))
head -n "$(wc -l <demo.txt)" out | cmp -s - demo.txt || fail "demo --svg prints another story"
out_has "demo.svg"
checks=$((checks + 1))
if command -v python3 >/dev/null; then
    python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' demo.svg ||
        fail "demo.svg is not well-formed XML"
elif command -v xmllint >/dev/null; then
    xmllint --noout demo.svg || fail "demo.svg is not well-formed XML"
else
    echo "note: neither python3 nor xmllint: demo.svg checked with grep only"
fi
svg_has() { checks=$((checks + 1)); grep -qF -- "$1" demo.svg || fail "demo.svg lacks: $1"; }
svg_has 'xmlns="http://www.w3.org/2000/svg"'
svg_has 'viewBox="0 0 '
# Part 3, the seed's diagram: one line per node, events F, G and H.
part3=$(sed -n '/<g id="part3"/,/^  <\/g>/p' demo.svg)
checks=$((checks + 1))
[[ $(grep -c '<line class="replica"' <<<"$part3") == 3 ]] || fail "part 3 has not 3 replica lines"
for node in node1 node2 node3; do
    checks=$((checks + 1))
    grep -q "id=\"part3-$node\"" <<<"$part3" || fail "part 3 lacks the line of $node"
done
for label in A B C D E F G H; do
    checks=$((checks + 1))
    grep -q ">$label</text>" <<<"$part3" || fail "part 3 lacks the event $label"
done
checks=$((checks + 1))
[[ $(grep -c '<line class="message"' <<<"$part3") == 4 ]] || fail "part 3 has not 4 messages"
run 2 demo --svg
usage_shown
run 2 demo extra
run 1 demo --svg no/such/dir/demo.svg
err_has "no/such/dir/demo.svg"
no_temp_files

# ---------------------------------------------------------------------------
finish
