# The install and upgrade scripts, walked generically (sourced by run.sh,
# which has set up the staged install and cluster.sh).
#
# Convention (docs/postgres.md): crdt.control names default_version, the
# newest version; crdt--V.sql installs version V; crdt--A--B.sql upgrades
# A to B. Released scripts never change: a change is a new version with an
# upgrade script. This test checks, from the staged files alone:
#   1. the file names parse, the control file's default version can be
#      installed, and every version can reach it by upgrade scripts;
#   2. every script refuses to run outside CREATE/ALTER EXTENSION;
#   3. for every installable version: CREATE EXTENSION ... VERSION works,
#      every function is IMMUTABLE and PARALLEL SAFE, and every C function
#      names a symbol the module exports;
#   4. for every version but the newest: install it, ALTER EXTENSION UPDATE
#      to the newest, and compare with a fresh install of the newest, object
#      by object (describe.sql): definitions, attributes, wiring, comments;
#   5. the newest version uses every entry point the module exports, works
#      after ALTER EXTENSION SET SCHEMA (it is relocatable), and DROP
#      EXTENSION leaves no crdt object behind.

upgrade_fail() {
    echo "upgrade: FAILED: $*" >&2
    return 1
}

# The conventions every version keeps: IMMUTABLE PARALLEL SAFE functions,
# C functions naming symbols the module exports ($exported).
check_conventions() {
    local bad missing
    bad=$(sql -c "SELECT string_agg(p.oid::regprocedure::text, ', ')
        FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'crdt'
        WHERE p.provolatile <> 'i' OR p.proparallel <> 's'")
    [[ -z $bad ]] || { upgrade_fail "version $1: not IMMUTABLE PARALLEL SAFE: $bad"; return 1; }
    missing=$(comm -23 <(sql -c "SELECT DISTINCT p.prosrc FROM pg_proc p
        JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'crdt'
        WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
        ORDER BY 1") <(echo "$exported"))
    [[ -z $missing ]] ||
        { upgrade_fail "version $1 names symbols crdt.so does not export: $missing"; return 1; }
    echo "upgrade: version $1 installs; functions IMMUTABLE PARALLEL SAFE; C symbols present"
}

run_upgrade() {
    local ext_dir lib
    ext_dir=$PG_STAGE$("$PG_CONFIG" --sharedir)/extension
    lib=$PG_STAGE$("$PG_CONFIG" --pkglibdir)/crdt.so
    [[ -n ${PORT_regress:-} ]] || pg_start regress
    local -a installs=() steps=() versions=()
    local f v newest
    newest=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" "$ext_dir/crdt.control")
    [[ -n $newest ]] || { upgrade_fail "no default_version in crdt.control"; return 1; }
    for f in "$ext_dir"/crdt--*.sql; do
        v=${f##*/crdt--}
        v=${v%.sql}
        if [[ $v =~ ^[0-9]+(\.[0-9]+)*$ ]]; then
            installs+=("$v")
            versions+=("$v")
        elif [[ $v =~ ^([0-9]+(\.[0-9]+)*)--([0-9]+(\.[0-9]+)*)$ ]]; then
            steps+=("$v")
            versions+=("${BASH_REMATCH[1]}" "${BASH_REMATCH[3]}")
        else
            upgrade_fail "script name ${f##*/} is neither crdt--V.sql nor crdt--A--B.sql"
            return 1
        fi
        # 2. The guard every script starts with.
        grep -q '^\\echo Use "\(CREATE\|ALTER\) EXTENSION crdt.*\\quit$' "$f" ||
            { upgrade_fail "${f##*/} lacks the \\echo ... \\quit guard"; return 1; }
    done
    mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -uV)
    mapfile -t installs < <(printf '%s\n' "${installs[@]}" | sort -V)
    echo "upgrade: versions ${versions[*]}; install scripts for ${installs[*]};" \
        "upgrade scripts ${steps[*]:-none}; default $newest"
    [[ ${versions[-1]} == "$newest" ]] ||
        { upgrade_fail "default_version $newest is not the newest version (${versions[-1]})"; return 1; }

    local db=crdt_upgrade sql
    sql() { PGDATABASE=$db PGOPTIONS='-c client_min_messages=warning' psql_on regress -At "$@"; }
    PGDATABASE=postgres PGOPTIONS='-c client_min_messages=warning' \
        psql_on regress -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"

    # 1. Paths: every version reaches the newest.
    local unreachable
    unreachable=$(sql -c "SELECT string_agg(v, ' ') FROM unnest(string_to_array('${versions[*]}', ' ')) v
        WHERE v <> '$newest' AND NOT EXISTS (SELECT 1 FROM pg_extension_update_paths('crdt')
            WHERE source = v AND target = '$newest' AND path IS NOT NULL)")
    [[ -z $unreachable ]] ||
        { upgrade_fail "no upgrade path to $newest from: $unreachable"; return 1; }

    # 3. Each installable version, installed directly (and the newest as
    # CREATE EXTENSION builds it, which may go through upgrade scripts).
    local exported
    exported=$(nm -D --defined-only "$lib" | awk '$3 ~ /^crdt_pg_/ {print $3}' | sort)
    for v in "${installs[@]}" default; do
        if [[ $v == default ]]; then
            sql -c "DROP EXTENSION IF EXISTS crdt" -c "CREATE EXTENSION crdt" >/dev/null
            v="$newest (default)"
        else
            sql -c "DROP EXTENSION IF EXISTS crdt" -c "CREATE EXTENSION crdt VERSION '$v'" >/dev/null
        fi
        check_conventions "$v" || return 1
    done

    # 4. Every older version, upgraded to the newest, equals a fresh install.
    local fresh upgraded count
    fresh=$(sql -f "$here/describe.sql")
    count=$(sql -c "SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.deptype = 'e' AND e.extname = 'crdt'")
    for v in "${versions[@]}"; do
        [[ $v == "$newest" ]] && continue
        # A version without an install script is reached from one that has.
        local from path
        from=$(sql -c "SELECT source FROM pg_extension_update_paths('crdt')
            WHERE target = '$v' AND path IS NOT NULL
              AND source = ANY (string_to_array('${installs[*]}', ' '))
            ORDER BY length(path) LIMIT 1")
        [[ " ${installs[*]} " == *" $v "* ]] && from=$v
        path=$(sql -c "SELECT path FROM pg_extension_update_paths('crdt')
            WHERE source = '$v' AND target = '$newest'")
        sql -c "DROP EXTENSION crdt" -c "CREATE EXTENSION crdt VERSION '$from'" >/dev/null
        [[ $from == "$v" ]] || sql -c "ALTER EXTENSION crdt UPDATE TO '$v'" >/dev/null
        sql -c "ALTER EXTENSION crdt UPDATE TO '$newest'" >/dev/null
        upgraded=$(sql -f "$here/describe.sql")
        if [[ $upgraded != "$fresh" ]]; then
            diff <(echo "$fresh") <(echo "$upgraded") | sed 's/^/    /' >&2
            upgrade_fail "$v updated along $path differs from a fresh install of $newest (< fresh, > updated)"
            return 1
        fi
        echo "upgrade: $v -> $newest ($path): $count objects, all equal to a fresh install"
    done
    [[ ${#versions[@]} -gt 1 ]] ||
        echo "upgrade: only version $newest exists: no update to compare ($count objects described)"

    # 5. The newest version: every exported entry point used, relocatable,
    # clean removal.
    sql -c "DROP EXTENSION crdt" -c "CREATE EXTENSION crdt" >/dev/null
    local unused
    unused=$(comm -23 <(echo "$exported") <(sql -c "SELECT DISTINCT p.prosrc FROM pg_proc p
        JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
        JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'crdt'
        WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') ORDER BY 1"))
    [[ -z $unused ]] ||
        { upgrade_fail "crdt.so exports entry points no SQL function of $newest uses: $unused"; return 1; }
    local moved
    moved=$(sql -c "CREATE SCHEMA elsewhere" -c "ALTER EXTENSION crdt SET SCHEMA elsewhere" \
        -c "SET search_path = pg_catalog" \
        -c "SELECT elsewhere.crdt_value(elsewhere.crdt_merge_agg(s))
            FROM (VALUES (elsewhere.crdt_orset_add(elsewhere.crdt_new('orset'), 'A', 'x')),
                         (elsewhere.crdt_counter_inc(elsewhere.crdt_new('gcounter'), 'A') OPERATOR(elsewhere.||)
                          elsewhere.crdt_new('gcounter'))) v(s)
            WHERE elsewhere.crdt_type(s) = 'orset'")
    [[ $moved == '["x"]' ]] ||
        { upgrade_fail "after SET SCHEMA: expected [\"x\"], got '$moved'"; return 1; }
    local left
    left=$(sql -c "DROP EXTENSION crdt" -c "SELECT
        (SELECT count(*) FROM pg_proc WHERE proname LIKE 'crdt%') +
        (SELECT count(*) FROM pg_type WHERE typname LIKE '%crdt%') +
        (SELECT count(*) FROM pg_opclass WHERE opcname LIKE 'crdt%') +
        (SELECT count(*) FROM pg_cast c JOIN pg_type t ON t.oid IN (c.castsource, c.casttarget)
          WHERE t.typname = 'crdt')")
    [[ $left == 0 ]] || { upgrade_fail "DROP EXTENSION left $left objects"; return 1; }
    echo "upgrade: $newest uses every exported entry point, relocates, drops cleanly"
    PGDATABASE=postgres psql_on regress -c "DROP DATABASE $db"
}
