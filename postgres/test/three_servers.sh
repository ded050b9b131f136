# Many writers on three servers, no conflicts (sourced by run.sh, which has
# set up the staged install, cluster.sh and $build).
#
# Three clusters on 127.0.0.1 run the multi-writer pattern (pattern.sql):
# each writes only its own replica's rows of `items`, publishes them with a
# row filter and subscribes to the two others (a full mesh, six
# subscriptions, half of them in binary mode so crdt_send/crdt_recv carry
# the rows). Then:
#   1. two writers per server run concurrently: OR-set adds and removes,
#      an add-only set, PN-counter increments and decrements, cart changes;
#   2. s3 is cut off (its subscriptions and the others' subscriptions to it
#      disabled), and writers run on both sides; the sides must diverge;
#   3. the partition heals, and the test waits (bounded) until the three
#      `items` tables are identical;
#   4. every server must read the same merged value and context for every
#      key, equal to what the library alone (crdt_rows merge) makes of every
#      delta the writers produced, logged locally on each server; the
#      counter must equal the sum of the increments minus the decrements
#      the writers made, the add-only set the union of what they added; no
#      subscription may report an error.

THREE_OPS=${THREE_OPS:-40}   # operations per writer per phase
THREE_TIMEOUT=${THREE_TIMEOUT:-90}

three_fail() {
    echo "three: FAILED: $*" >&2
    local s
    for s in s1 s2 s3; do
        echo "--- server log $s" >&2
        pg_log_tail "$s" 15 >&2
    done
    return 1
}

# psql on server $1's database app, unaligned, bounded in time.
app() {
    local port_var=PORT_$1
    PGOPTIONS='-c client_min_messages=warning' timeout "$THREE_TIMEOUT" \
        "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE/$1" \
        -p "${!port_var}" -U postgres -d app -At "${@:2}"
}

three_setup() {
    local s
    for s in s1 s2 s3; do
        pg_start "$s" "wal_level = logical" "max_replication_slots = 10" \
            "max_wal_senders = 10" "max_logical_replication_workers = 8" \
            "max_worker_processes = 16" "wal_retrieve_retry_interval = '200ms'" \
            "max_sync_workers_per_subscription = 2" || return 1
        psql_on "$s" -c "CREATE DATABASE app" \
            -c "ALTER DATABASE app SET app.replica = '$s'" || return 1
        app "$s" -f "$here/pattern.sql" || return 1
        # Test only: a local log of every delta written here, with what the
        # writer meant (op, arg, n), and the writers themselves.
        app "$s" <<'SQL' || return 1
CREATE TABLE updates (id bigserial PRIMARY KEY, key text, replica text,
                      op text, arg text, n bigint, delta crdt);
CREATE FUNCTION logged_write(k text, type text, op text, arg text, n bigint DEFAULT 1)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO updates (key, replica, op, arg, n, delta)
    VALUES (k, current_setting('app.replica'), op, arg, n, crdt_write(k, type, op, arg, n));
END $$;
-- `ops` random operations, one transaction each.
CREATE PROCEDURE run_writer(ops int, seed float8) LANGUAGE plpgsql AS $$
DECLARE
    r float8;
    k text;
BEGIN
    PERFORM setseed(seed);
    FOR i IN 1..ops LOOP
        r := random();
        IF r < 0.3 THEN
            k := 'set-' || (1 + floor(random() * 2))::int;
            IF random() < 0.6 THEN
                PERFORM logged_write(k, 'orset', 'add', 'e' || floor(random() * 10)::int);
            ELSE
                PERFORM logged_write(k, 'orset', 'rm', 'e' || floor(random() * 10)::int);
            END IF;
        ELSIF r < 0.4 THEN
            PERFORM logged_write('grow-1', 'orset', 'add', 'g' || floor(random() * 40)::int);
        ELSIF r < 0.7 THEN
            PERFORM logged_write('count-1', 'pncounter',
                                 CASE WHEN random() < 0.7 THEN 'inc' ELSE 'dec' END,
                                 NULL, 1 + floor(random() * 5)::int);
        ELSE
            k := 'item-' || floor(random() * 4)::int;
            r := random();
            IF r < 0.6 THEN
                PERFORM logged_write('cart-1', 'cart', 'add', k, 1 + floor(random() * 3)::int);
            ELSIF r < 0.8 THEN
                PERFORM logged_write('cart-1', 'cart', 'dec', k, 1);
            ELSE
                PERFORM logged_write('cart-1', 'cart', 'rm', k);
            END IF;
        END IF;
        COMMIT;
    END LOOP;
END $$;
SQL
        app "$s" -c "CREATE PUBLICATION pub_$s FOR TABLE items WHERE (replica = '$s')" ||
            return 1
    done
    local from to binary port_var
    for to in s1 s2 s3; do
        for from in s1 s2 s3; do
            [[ $from == "$to" ]] && continue
            port_var=PORT_$from
            binary=false
            [[ $to != s1 ]] && binary=true
            app "$to" -c "CREATE SUBSCRIPTION sub_${to}_from_$from
                CONNECTION 'host=127.0.0.1 port=${!port_var} dbname=app user=postgres'
                PUBLICATION pub_$from WITH (binary = $binary)" || return 1
        done
    done
    # Initial table synchronisation done everywhere.
    three_wait "initial sync" three_synced || return 1
}

three_synced() {
    local s n
    for s in s1 s2 s3; do
        n=$(app "$s" -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")
        [[ $n == 0 ]] || return 1
    done
}

# Polls `$2` (a command) every 0.2 s until it succeeds, at most
# THREE_TIMEOUT seconds.
three_wait() {
    local what=$1 deadline=$((SECONDS + THREE_TIMEOUT))
    shift
    until "$@"; do
        if (( SECONDS >= deadline )); then
            three_fail "timed out after ${THREE_TIMEOUT}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

# Runs two writers on each of the given servers at once; seeds differ per
# writer and phase.
three_writers() {
    local phase=$1 s w pids=() names=() i status=0
    shift
    for s in "$@"; do
        for w in 1 2; do
            app "$s" -c "CALL run_writer($THREE_OPS, 0.$phase${s#s}$w)" &
            pids+=($!)
            names+=("$s/writer$w")
        done
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || { echo "three: ${names[$i]} failed" >&2; status=1; }
    done
    return $status
}

three_items_digest() {
    app "$1" -c "SELECT md5(coalesce(string_agg(key || '/' || replica || '/' || state::text, ','
                                              ORDER BY key, replica), ''))
                 FROM items"
}

three_identical() {
    local d1 d2 d3
    d1=$(three_items_digest s1) && d2=$(three_items_digest s2) &&
        d3=$(three_items_digest s3) && [[ $d1 == "$d2" && $d2 == "$d3" ]]
}

# The subscriptions that connect s3 with the others.
three_partition() {
    local action=$1
    app s3 -c "ALTER SUBSCRIPTION sub_s3_from_s1 $action" \
        -c "ALTER SUBSCRIPTION sub_s3_from_s2 $action" &&
    app s1 -c "ALTER SUBSCRIPTION sub_s1_from_s3 $action" &&
    app s2 -c "ALTER SUBSCRIPTION sub_s2_from_s3 $action"
}

three_cut_off() {
    local s n
    for s in s1 s2 s3; do
        n=$(app "$s" -c "SELECT count(*) FROM pg_stat_subscription
                         WHERE subname LIKE '%s3%' AND pid IS NOT NULL")
        [[ $n == 0 ]] || return 1
    done
}

three_merged() {
    app "$1" -c "SELECT key || ' ' || crdt_value(state)::text || ' ' || crdt_context(state)::text
                 FROM merged ORDER BY key"
}

run_three() {
    local start=$SECONDS
    three_setup || { three_fail "setup"; return 1; }
    echo "three: 3 servers, 6 subscriptions (3 binary), initial sync done"

    three_writers 1 s1 s2 s3 || { three_fail "phase 1 writers"; return 1; }
    echo "three: phase 1: 6 writers x $THREE_OPS operations, all servers connected"

    three_partition DISABLE || { three_fail "partition"; return 1; }
    three_wait "s3's subscriptions to stop" three_cut_off || return 1
    three_writers 2 s1 s2 s3 || { three_fail "phase 2 writers"; return 1; }
    local c1 c3
    c1=$(app s1 -c "SELECT crdt_context(state)::text FROM merged WHERE key = 'count-1'")
    c3=$(app s3 -c "SELECT crdt_context(state)::text FROM merged WHERE key = 'count-1'")
    if [[ $c1 == "$c3" ]]; then
        three_fail "the partition did not partition: s1 and s3 both see $c1"
        return 1
    fi
    echo "three: phase 2: s3 cut off, writers on both sides; s1 sees $c1, s3 sees $c3"

    three_partition ENABLE || { three_fail "heal"; return 1; }
    three_wait "the three items tables to converge" three_identical || return 1
    echo "three: healed; items identical on all servers after $((SECONDS - start)) s in all"

    # Every server reads the same merged states.
    local m1 m2 m3
    m1=$(three_merged s1) && m2=$(three_merged s2) && m3=$(three_merged s3) ||
        { three_fail "reading merged"; return 1; }
    if [[ $m1 != "$m2" || $m2 != "$m3" ]]; then
        diff <(echo "$m1") <(echo "$m3") >&2 || true
        three_fail "servers read different merged states"
        return 1
    fi
    echo "$m1" | sed 's/^/three:   /'

    # The library alone, from every delta written anywhere: each server's
    # log (key, replica, op, arg, n, delta), the deltas merged by crdt_rows.
    local log=$PG_BASE/three-log.tsv oracle=$PG_BASE/three-oracle.tsv s check
    for s in s1 s2 s3; do
        app "$s" -c "\\copy (SELECT key, replica, op, coalesce(arg, ''), n, delta FROM updates) TO STDOUT"
    done >"$log" || { three_fail "dumping the logs"; return 1; }
    awk -F'\t' -v OFS='\t' '{print $1, $2, $6}' "$log" |
        "$build/postgres/crdt_rows" merge >"$oracle" ||
        { three_fail "crdt_rows merge"; return 1; }
    check=$(app s1 <<SQL
CREATE TEMP TABLE oracle (key text, state crdt);
\\copy oracle FROM '$oracle'
CREATE TEMP TABLE log (key text, replica text, op text, arg text, n bigint, delta crdt);
\\copy log FROM '$log'
SELECT format('keys=%s mismatches=%s', count(*),
              count(*) FILTER (WHERE o.state IS NULL OR m.state IS NULL
                               OR crdt_value(o.state) <> crdt_value(m.state)
                               OR crdt_context(o.state) <> crdt_context(m.state)
                               OR crdt_compare(o.state, m.state) <> 'equal'))
FROM oracle o FULL JOIN merged m USING (key);
SELECT format('counter=%s expected=%s', crdt_value(state),
              (SELECT sum(CASE op WHEN 'inc' THEN n ELSE -n END) FROM log WHERE key = 'count-1'))
FROM merged WHERE key = 'count-1';
SELECT format('grow=%s expected=%s', crdt_value(state),
              (SELECT jsonb_agg(DISTINCT arg ORDER BY arg) FROM log WHERE key = 'grow-1'))
FROM merged WHERE key = 'grow-1';
SELECT format('updates=%s', count(*)) FROM log;
-- Every update that changed something got a dot of its own: per key and
-- writing replica, the merged context holds exactly 1..(number of such
-- updates), with no gap and nothing in the cloud. Two sessions of one
-- server stamping two updates with the same dot would show here.
SELECT format('dot_mismatches=%s', count(*) FILTER (
           WHERE coalesce((crdt_context(m.state) -> 'vv' ->> l.replica)::bigint, 0) <> l.made
              OR crdt_context(m.state) ? 'cloud'))
FROM (SELECT key, replica, count(*) FILTER (WHERE crdt_context(delta) <> '{"vv": {}}') AS made
      FROM log GROUP BY key, replica) l
JOIN merged m USING (key);
SQL
    ) || { three_fail "comparing with the library"; return 1; }
    echo "$check" | sed 's/^/three: /'
    local keys
    keys=$(sed -n 's/^keys=\([0-9]*\) mismatches=0$/\1/p' <<<"$check")
    [[ -n $keys && $keys -ge 5 ]] ||
        { three_fail "merged states differ from the library's merge of the deltas"; return 1; }
    local counter expected
    counter=$(sed -n 's/^counter=\(.*\) expected=.*/\1/p' <<<"$check")
    expected=$(sed -n 's/^counter=.* expected=\(.*\)/\1/p' <<<"$check")
    [[ -n $counter && $counter == "$expected" ]] ||
        { three_fail "counter $counter, writers made $expected"; return 1; }
    local grow grow_expected
    grow=$(sed -n 's/^grow=\(.*\) expected=.*/\1/p' <<<"$check")
    grow_expected=$(sed -n 's/^grow=.* expected=\(.*\)/\1/p' <<<"$check")
    # jsonb_agg(DISTINCT ... ORDER BY arg) sorts by text, as the set does.
    [[ -n $grow && $grow == "$grow_expected" ]] ||
        { three_fail "add-only set $grow, writers added $grow_expected"; return 1; }

    grep -qx 'dot_mismatches=0' <<<"$check" ||
        { three_fail "some replica's dots do not match its updates"; return 1; }

    # No conflicts: no apply or sync errors on any subscription.
    local errors
    for s in s1 s2 s3; do
        errors=$(app "$s" -c "SELECT coalesce(sum(apply_error_count + sync_error_count), 0)
                              FROM pg_stat_subscription_stats")
        [[ $errors == 0 ]] || { three_fail "$s: $errors subscription errors"; return 1; }
    done
    # A server may not write another server's rows.
    if app s1 -c "UPDATE items SET state = state WHERE replica = 's2'" 2>/dev/null; then
        three_fail "s1 could update s2's rows"
        return 1
    fi
    echo "three: OK: no subscription errors; own rows only; $((SECONDS - start)) s"
}
