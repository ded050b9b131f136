#!/usr/bin/env bash
# The map in the `crdt` command: `new map`, `apply --field NAME:TYPE ...` for
# every field type and op, names with any byte, the path's limits, every
# error (which must leave the file byte for byte as it was), `show` as a
# tree and as JSON, and merge / compare / context on map files.
#
# Usage: tests/cli/map.sh PATH/TO/crdt   (ctest: cli_map)
set -u
. "$(dirname "$0")/lib.sh" "$1"

# unchanged FILE: FILE is byte for byte FILE.before (saved by `keep FILE`)
keep() { cp "$1" "$1.before"; }
unchanged() { same_file "$1" "$1.before"; }

# ---------------------------------------------------------------------------
case_name="help"
run 0 help
for line in "TYPE: gcounter pncounter orset mvreg cart lwwreg flag map" \
    "map:       --field NAME:TYPE [--field NAME:TYPE...] then the" \
    "counter: inc [N] | dec [N]      orset:  add ELEM | rm ELEM" \
    "mvreg:   set VALUE              lwwreg: set VALUE --time T" \
    "flag:    enable | disable       every field type: del" \
    "--field-hex HEX:TYPE"; do
    out_has "$line"
done
run 2 apply
err_has "usage: crdt apply FILE --replica R [--field NAME:TYPE...] OP [ARG...]"

# ---------------------------------------------------------------------------
case_name="new map"
run 0 new map m.crdt
out_empty
err_empty
json_is m.crdt '{"type": "map", "value": [], "vv": {}}'
run 0 show m.crdt
out_is 'type:       map
value:      no fields
context:    {}'
keep m.crdt
run 1 new map m.crdt
err_has "m.crdt: already exists"
unchanged m.crdt

# ---------------------------------------------------------------------------
case_name="apply, every field type"
# One dot per update, removals included: A1 .. A9 in order.
run 0 apply m.crdt --replica A --field visits:counter inc 5
out_empty
err_empty
run 0 apply m.crdt --replica A --field visits:counter dec 2
run 0 apply m.crdt --replica A --field tags:orset add math
run 0 apply m.crdt --replica A --field tags:orset add c
run 0 apply m.crdt --replica A --field tags:orset rm math
run 0 apply m.crdt --replica A --field nick:mvreg set ada
run 0 apply m.crdt --replica A --field name:lwwreg set Ada --time 7
run 0 apply m.crdt --replica A --field settings:map --field dark:flag enable
run 0 apply m.crdt --replica A --field settings:map --field font:counter inc
json_is m.crdt '{"type": "map", "value": [{"name": "name", "type": "lwwreg", "value": "Ada"}, {"name": "nick", "type": "mvreg", "value": ["ada"]}, {"name": "settings", "type": "map", "value": [{"name": "dark", "type": "flag", "value": true}, {"name": "font", "type": "counter", "value": 1}]}, {"name": "tags", "type": "orset", "value": ["c"]}, {"name": "visits", "type": "counter", "value": 3}], "vv": {"A": 9}}'
run 0 show m.crdt
out_is 'type:       map
value:      "name" (lwwreg): "Ada" (timestamp 7)
            "nick" (mvreg): ["ada"]
            "settings" (map):
              "dark" (flag): true
              "font" (counter): 1
            "tags" (orset): ["c"]
            "visits" (counter): 3
context:    {A:9}'
err_empty
# a counter may go below zero; dec of an absent counter creates it
run 0 apply m.crdt --replica A --field debt:counter dec 4
# an mvreg set replaces what the file holds; an lwwreg write with a lower
# timestamp is kept but does not show
run 0 apply m.crdt --replica A --field nick:mvreg set lovelace
run 0 apply m.crdt --replica A --field name:lwwreg set Ava --time 3
# disabling the last flag empties the map "settings" only when nothing else
# is in it: "font" keeps it
run 0 apply m.crdt --replica A --field settings:map --field dark:flag disable
json_is m.crdt '{"type": "map", "value": [{"name": "debt", "type": "counter", "value": -4}, {"name": "name", "type": "lwwreg", "value": "Ada"}, {"name": "nick", "type": "mvreg", "value": ["lovelace"]}, {"name": "settings", "type": "map", "value": [{"name": "font", "type": "counter", "value": 1}]}, {"name": "tags", "type": "orset", "value": ["c"]}, {"name": "visits", "type": "counter", "value": 3}], "vv": {"A": 13}}'
# del removes a field of any type, a nested map with all it holds
run 0 apply m.crdt --replica A --field settings:map del
run 0 apply m.crdt --replica A --field debt:counter del
run 0 apply m.crdt --replica A --field nick:mvreg del
json_is m.crdt '{"type": "map", "value": [{"name": "name", "type": "lwwreg", "value": "Ada"}, {"name": "tags", "type": "orset", "value": ["c"]}, {"name": "visits", "type": "counter", "value": 3}], "vv": {"A": 16}}'
# one name, two types: two fields, in type order (counter before orset)
run 0 apply m.crdt --replica A --field tags:counter inc
run 0 show m.crdt
out_has '"tags" (counter): 1
            "tags" (orset): ["c"]'
run 0 apply m.crdt --replica A --field tags:counter del
run 0 show m.crdt
out_is 'type:       map
value:      "name" (lwwreg): "Ada" (timestamp 7)
            "tags" (orset): ["c"]
            "visits" (counter): 3
context:    {A:18}'
no_temp_files

case_name="apply: option forms"
# --field=V, options anywhere, -- before an element or a name starting '-'
run 0 new map forms.crdt
run 0 apply --field=list:orset forms.crdt add --replica A -- -x
run 0 apply forms.crdt --field list:orset --replica=A add -- --y
run 0 apply forms.crdt --replica A --field -n:counter inc
run 0 apply forms.crdt --replica A --field-hex=6b:flag enable
json_is forms.crdt '{"type": "map", "value": [{"name": "-n", "type": "counter", "value": 1}, {"name": "k", "type": "flag", "value": true}, {"name": "list", "type": "orset", "value": ["--y", "-x"]}], "vv": {"A": 4}}'

# ---------------------------------------------------------------------------
case_name="names with any byte"
run 0 new map names.crdt
# NAME ends at the LAST ':': "a:b" and ":" are names, "" too
run 0 apply names.crdt --replica A --field a:b:counter inc
run 0 apply names.crdt --replica A --field ::counter inc 2
run 0 apply names.crdt --replica A --field :counter inc 3
# --field-hex: the same fields, and bytes no argument can hold
run 0 apply names.crdt --replica A --field-hex 613a62:counter inc 10
run 0 apply names.crdt --replica A --field-hex :counter inc 20
run 0 apply names.crdt --replica A --field-hex 00:counter inc
run 0 apply names.crdt --replica A --field-hex 610062:orset add x
# not UTF-8 (0xff), and UTF-8 ("café"), given either way; uppercase hex
run 0 apply names.crdt --replica A --field "$(printf '\377'):flag" enable
run 0 apply names.crdt --replica A --field-hex FF:flag enable
run 0 apply names.crdt --replica A --field "$(printf 'caf\303\251')":mvreg set x
run 0 apply names.crdt --replica A --field-hex 636166c3a9:mvreg set y
# quotes, backslashes, newlines and '/' print escaped
run 0 apply names.crdt --replica A --field $'q"\\/\n:map' --field-hex 00:counter inc
json_is names.crdt "$(printf '%s' '{"type": "map", "value": [{"name": "", "type": "counter", "value": 23}, ' \
    '{"name": "\u0000", "type": "counter", "value": 1}, {"name": ":", "type": "counter", "value": 2}, ' \
    '{"name": "a\u0000b", "type": "orset", "value": ["x"]}, {"name": "a:b", "type": "counter", "value": 11}, ' \
    "{\"name\": \"caf$(printf '\303\251')\", \"type\": \"mvreg\", \"value\": [\"y\"]}, " \
    '{"name": "q\"\\/\n", "type": "map", "value": [{"name": "\u0000", "type": "counter", "value": 1}]}, ' \
    '{"name": "\u00ff", "type": "flag", "value": true}], "vv": {"A": 12}}')"
run 0 show names.crdt
out_is "$(printf '%s\n' 'type:       map' \
    'value:      "" (counter): 23' \
    '            "\u0000" (counter): 1' \
    '            ":" (counter): 2' \
    '            "a\u0000b" (orset): ["x"]' \
    '            "a:b" (counter): 11' \
    "            \"caf$(printf '\303\251')\" (mvreg): [\"y\"]" \
    '            "q\"\\/\n" (map):' \
    '              "\u0000" (counter): 1' \
    '            "\u00ff" (flag): true' \
    'context:    {A:12}')"
if command -v python3 >/dev/null; then
    # The JSON parses, and every field names its type: walk it.
    run 0 show names.crdt --json
    checks=$((checks + 1))
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
def walk(fields, depth):
    n = 0
    for f in fields:
        assert sorted(f) == ["name", "type", "value"], f
        n += 1 + (walk(f["value"], depth + 1) if f["type"] == "map" else 0)
    return n
assert doc["type"] == "map" and walk(doc["value"], 0) == 9, doc
assert doc["value"][3]["name"] == "a\u0000b"
' <out || fail "show --json of names.crdt is not the nested JSON expected"
fi
# the names are distinct fields: removing one leaves the others
run 0 apply names.crdt --replica A --field-hex 00:counter del
run 0 apply names.crdt --replica A --field ":counter" del
run 0 show names.crdt
out_has 'value:      ":" (counter): 2'
out_has '"q\"\\/\n" (map):
              "\u0000" (counter): 1'

# ---------------------------------------------------------------------------
case_name="depth"
# 32 names (31 maps and a counter) is the deepest path.
path=() want='' close=''
for i in $(seq 1 31); do
    path+=(--field "m$i:map")
    want+="{\"name\": \"m$i\", \"type\": \"map\", \"value\": ["
    close+=']}'
done
run 0 new map deep.crdt
run 0 apply deep.crdt --replica A "${path[@]}" --field leaf:counter inc
json_is deep.crdt "{\"type\": \"map\", \"value\": [$want{\"name\": \"leaf\", \"type\": \"counter\", \"value\": 1}$close], \"vv\": {\"A\": 1}}"
run 0 show deep.crdt
out_has "$(printf '%74s"leaf" (counter): 1' '')"
keep deep.crdt
run 2 apply deep.crdt --replica A "${path[@]}" --field m32:map --field leaf:counter inc
err_has "a path holds at most 32 fields (maps nest at most 32 deep), not 33"
usage_shown
run 2 apply deep.crdt --replica A "${path[@]}" "${path[@]}" --field leaf:counter inc
err_has "not 63"
unchanged deep.crdt
run 0 apply deep.crdt --replica A "${path[@]}" --field leaf:counter del
json_is deep.crdt '{"type": "map", "value": [], "vv": {"A": 2}}'

# ---------------------------------------------------------------------------
case_name="errors leave the file unchanged"
keep m.crdt
run 2 apply m.crdt --replica A inc
err_has "m.crdt holds a map: name the field with --field NAME:TYPE"
usage_shown
run 2 apply m.crdt --replica A --field visits inc
err_has "--field 'visits': give NAME:TYPE (TYPE after the last ':'"
run 1 apply m.crdt --replica A --field visits:pncounter inc
err_has "unknown field type 'pncounter' in --field 'visits:pncounter' (field types: counter orset mvreg lwwreg flag map)"
run 1 apply m.crdt --replica A --field a:map --field b:map: inc
err_has "unknown field type '' in --field 'b:map:'"
run 2 apply m.crdt --replica A --field tags:orset --field x:counter inc
err_has "--field 'tags:orset' is an orset field, but only the last --field may be other than a map"
run 2 apply m.crdt --replica A --field-hex 00:flag --field x:counter inc
err_has "--field-hex '00:flag' is a flag field"
run 2 apply m.crdt --replica A --field-hex zz:counter inc
err_has "--field-hex 'zz:counter': the NAME before the last ':' is not hex"
run 2 apply m.crdt --replica A --field-hex 0:counter inc
err_has "is not hex"
run 2 apply m.crdt --replica A --field
err_has "option --field needs a value"
run 2 apply m.crdt --replica A --fields x:counter inc
err_has "unknown option '--fields'"
run 1 apply m.crdt --replica A --field tags:orset inc
err_has 'm.crdt: "tags" (orset): op '\''inc'\'' is not valid for an orset field (ops: add ELEM | rm ELEM | del)'
run 1 apply m.crdt --replica A --field s:map --field f:flag set x
err_has '"s" (map) / "f" (flag): op '\''set'\'' is not valid for a flag field (ops: enable | disable | del)'
run 1 apply m.crdt --replica A --field s:map enable
err_has "not valid for a map field (ops: del)"
run 1 apply m.crdt --replica A --field x:counter frob
err_has "unknown op 'frob'"
# removing what is not there: no dot, nothing written
run 1 apply m.crdt --replica A --field tags:orset rm math
err_has 'm.crdt: "tags" (orset): rm "math": not there; nothing written'
out_empty
run 1 apply m.crdt --replica A --field nothing:orset rm x
err_has '"nothing" (orset): rm "x": not there; nothing written'
run 1 apply m.crdt --replica A --field settings:map --field dark:flag disable
err_has 'm.crdt: "settings" (map) / "dark" (flag): disable: not there; nothing written'
run 1 apply m.crdt --replica A --field settings:map del
err_has '"settings" (map): del: not there; nothing written'
run 1 apply m.crdt --replica A --field visits:orset del
err_has '"visits" (orset): del: not there'
# arguments of the ops
run 2 apply m.crdt --replica A --field tags:orset add
err_has "add: missing argument"
err_has "usage: crdt apply FILE --replica R --field NAME:TYPE... add ELEM"
run 2 apply m.crdt --replica A --field tags:orset add x y
err_has "add: too many arguments"
run 2 apply m.crdt --replica A --field f:flag enable now
err_has "enable: too many arguments"
run 2 apply m.crdt --replica A --field tags:orset del x
run 2 apply m.crdt --replica A --field visits:counter inc 0
err_has "N must be a positive integer, not '0'"
run 2 apply m.crdt --replica A --field visits:counter dec -1
run 2 apply m.crdt --replica A --field name:lwwreg set x
err_has "lwwreg set needs --time T"
run 2 apply m.crdt --replica A --field name:lwwreg set x --time soon
err_has "T must be an unsigned integer, not 'soon'"
run 2 apply m.crdt --replica A --field nick:mvreg set x --time 3
err_has "--time is for lwwreg set only"
run 2 apply m.crdt --replica A --field name:lwwreg del --time 3
err_has "--time is for lwwreg set only"
run 2 apply m.crdt --replica A --field nick:mvreg set x --context 00
err_has "--context is for mvreg files (a map's mvreg fields take no read context)"
run 2 apply m.crdt --field visits:counter inc
err_has "missing --replica"
# counters never wrap
run 0 apply m.crdt --replica A --field big:counter inc 9223372036854775807
keep m.crdt
run 1 apply m.crdt --replica A --field big:counter inc
err_has '"big" (counter): inc: out of range: the count would overflow; nothing written'
run 1 apply m.crdt --replica A --field huge:counter inc 9223372036854775808
err_has '"huge" (counter): inc: '
err_has "; nothing written"
unchanged m.crdt
# --field on a file of another type
run 0 new orset flat.crdt
keep flat.crdt
run 2 apply flat.crdt --replica A --field x:orset add y
err_has "--field is for map files; flat.crdt holds an orset"
run 1 apply flat.crdt --replica A del
err_has "op 'del' is not valid for an orset (ops: add ELEM | rm ELEM)"
run 1 apply flat.crdt --replica A enable
err_has "op 'enable' is not valid for an orset"
unchanged flat.crdt
no_temp_files

# ---------------------------------------------------------------------------
case_name="remove resets: concurrent updates survive alone"
# a and b share visits = 5 (A1), tags [x] (A2) and settings.dark (A3).
# Then, concurrently: A increments visits by 2 (A4), adds y to tags (A5) and
# disables dark (A6); B deletes visits (B1), tags (B2), and enables dark
# again (B3). Merged: visits is 2 (B's delete reset the 5 it saw, not A's
# concurrent +2), tags is [y] (x was seen by B's delete), dark is enabled
# (enable wins over the concurrent disable).
run 0 new map a.crdt
run 0 apply a.crdt --replica A --field visits:counter inc 5
run 0 apply a.crdt --replica A --field tags:orset add x
run 0 apply a.crdt --replica A --field settings:map --field dark:flag enable
cp a.crdt b.crdt
run 0 compare a.crdt b.crdt
out_is equal
run 0 apply a.crdt --replica A --field visits:counter inc 2
run 0 apply a.crdt --replica A --field tags:orset add y
run 0 apply a.crdt --replica A --field settings:map --field dark:flag disable
run 0 apply b.crdt --replica B --field visits:counter del
run 0 apply b.crdt --replica B --field tags:orset del
run 0 apply b.crdt --replica B --field settings:map --field dark:flag enable
json_is b.crdt '{"type": "map", "value": [{"name": "settings", "type": "map", "value": [{"name": "dark", "type": "flag", "value": true}]}], "vv": {"A": 3, "B": 3}}'
run 0 compare a.crdt b.crdt
out_is concurrent
cp a.crdt a.copy
run 0 merge a.crdt b.crdt
out_empty
err_empty
json_is a.crdt '{"type": "map", "value": [{"name": "settings", "type": "map", "value": [{"name": "dark", "type": "flag", "value": true}]}, {"name": "tags", "type": "orset", "value": ["y"]}, {"name": "visits", "type": "counter", "value": 2}], "vv": {"A": 6, "B": 3}}'
run 0 compare a.crdt b.crdt
out_is after
run 0 compare b.crdt a.crdt
out_is before
# the other way round gives the same bytes (equal states, equal encodings)
run 0 merge b.crdt a.copy
same_file a.crdt b.crdt
run 0 compare a.crdt b.crdt
out_is equal
# merging again changes nothing (idempotent)
run 0 merge a.crdt b.crdt a.copy
same_file a.crdt b.crdt

case_name="mvreg fields keep concurrent writes"
run 0 new map r1.crdt
cp r1.crdt r2.crdt
run 0 apply r1.crdt --replica A --field city:mvreg set Paris
run 0 apply r2.crdt --replica B --field city:mvreg set Lyon
run 0 merge r1.crdt r2.crdt
json_is r1.crdt '{"type": "map", "value": [{"name": "city", "type": "mvreg", "value": ["Lyon", "Paris"]}], "vv": {"A": 1, "B": 1}}'
run 0 apply r1.crdt --replica A --field city:mvreg set Nice
json_is r1.crdt '{"type": "map", "value": [{"name": "city", "type": "mvreg", "value": ["Nice"]}], "vv": {"A": 2, "B": 1}}'

# ---------------------------------------------------------------------------
case_name="merge, compare, context: map files"
keep a.crdt
run 1 merge a.crdt flat.crdt
err_has "cannot merge flat.crdt (an orset) into a.crdt (a map): different types; nothing written"
unchanged a.crdt
run 1 compare a.crdt flat.crdt
err_has "cannot compare a.crdt (a map) with flat.crdt (an orset): different types"
run 1 context a.crdt
err_has "a.crdt: holds a map; read context tokens are for mvreg files"
run 0 compare m.crdt a.crdt
out_is concurrent
run 0 new map empty.crdt
run 0 compare empty.crdt a.crdt
out_is before
run 0 merge empty.crdt a.crdt
same_file empty.crdt a.crdt
cp a.crdt corrupt.crdt
flip_byte corrupt.crdt 12
run 1 merge a.crdt corrupt.crdt
err_has "corrupt.crdt: cannot decode"
unchanged a.crdt
no_temp_files

finish
