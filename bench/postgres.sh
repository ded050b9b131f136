#!/usr/bin/env bash
# The PostgreSQL extension's benchmark (docs/postgres.md, "Figures"), on a
# throwaway PostgreSQL 15 cluster started and removed by this script
# (postgres/test/cluster.sh), against the C library doing the same work in
# one process (crdt_rows). Build: the `postgres` preset (gcc -O2 -DNDEBUG).
#
#  merge_agg: SELECT key, crdt_merge_agg(state) ... GROUP BY key over 10^6
#    rows in 1000 keys (the multi-writer table's read): G-counter states
#    of 1000 replicas, and OR-sets of 9 elements (10 adds, 1 remove) each;
#    serially and with 2 parallel workers. C: crdt_rows merge --bench, the
#    same decodes, merges and final encodes.
#  upsert: INSERT ... ON CONFLICT DO UPDATE SET state = crdt_merge(...) of
#    a 100-element delta into a row holding a 10^5-element OR-set, one
#    transaction per update, with the column compressed by pglz (the
#    default), by lz4, or stored uncompressed (STORAGE EXTERNAL); time and
#    WAL bytes per update. Then the alternative the pattern allows: append
#    each delta as its own row (merged on read, compacted now and then).
#    C: crdt_rows upsert --bench (decode, decode, merge, encode).
#
# Usage: bench/postgres.sh [RUNS]    (default 5; medians are reported)
# The machine's load matters: run it on a quiet machine, and compare the
# lines of one run with each other rather than with another machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/postgres.sh [RUNS]" >&2; exit 2; }

scripts/deps.sh --postgres
cmake --preset postgres >/dev/null
cmake --build --preset postgres -j "${JOBS:-2}" >/dev/null
build=$PWD/build/postgres
rows_tool=$build/postgres/crdt_rows

# shellcheck source=../postgres/test/cluster.sh
source postgres/test/cluster.sh
pg_setup "$build"
pg_start bench "shared_buffers = '2GB'" "work_mem = '256MB'" \
    "maintenance_work_mem = '512MB'" "max_worker_processes = 8" \
    "max_parallel_workers = 4" "jit = off" "max_wal_size = '8GB'" \
    "checkpoint_timeout = '1h'"
psql_on bench -c "CREATE DATABASE bench"
db() { PGDATABASE=bench PGOPTIONS='-c client_min_messages=warning' psql_on bench -At "$@"; }
db -c "CREATE EXTENSION crdt" -c "CREATE EXTENSION pg_prewarm"
data=$PG_BASE/data
mkdir -p "$data"

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# Milliseconds of the last statement given (-c ...), as psql's \timing
# reports it; results are discarded.
time_ms() {
    db -c '\timing on' "$@" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

echo "# PostgreSQL $(db -c 'SHOW server_version'), $(nproc) CPUs, $runs runs per figure (median);" \
    "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- merge_agg ------------------------------------------------------------------

serial="SET max_parallel_workers_per_gather = 0"
parallel="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0"
for kind in counter orset; do
    "$rows_tool" gen "$kind" 1000000 1000 >"$data/$kind.tsv"
    db -c "CREATE TABLE t_$kind (key text, replica text, state crdt)" \
       -c "\\copy t_$kind FROM '$data/$kind.tsv'" \
       -c "VACUUM ANALYZE t_$kind" -c "SELECT pg_prewarm('t_$kind')" >/dev/null
    bytes=$(db -c "SELECT avg(pg_column_size(state))::int FROM t_$kind")
    query="SELECT count(*) FROM (SELECT key, crdt_merge_agg(state) AS m FROM t_$kind GROUP BY key) s WHERE m IS NOT NULL"
    # What PostgreSQL spends without any crdt work: scan and group.
    scan="SELECT count(*) FROM (SELECT key, count(state) AS m FROM t_$kind GROUP BY key) s WHERE m IS NOT NULL"
    workers=$(db -c "$parallel" -c "EXPLAIN $query" | sed -n 's/.*Workers Planned: \([0-9]*\).*/\1/p')
    [[ $workers == 2 ]] || { echo "bench: the parallel plan has '$workers' workers, not 2" >&2; exit 1; }
    time_ms -c "$serial" -c "$query" >/dev/null   # warm-up
    # Interleaved, so that load from elsewhere hits every column alike.
    : >"$data/$kind.serial"; : >"$data/$kind.parallel"; : >"$data/$kind.scan"; : >"$data/$kind.c"
    for ((r = 0; r < runs; r++)); do
        time_ms -c "$serial" -c "$query" >>"$data/$kind.serial"
        time_ms -c "$parallel" -c "$query" >>"$data/$kind.parallel"
        time_ms -c "$serial" -c "$scan" >>"$data/$kind.scan"
        "$rows_tool" merge --bench 1 <"$data/$kind.tsv" |
            sed -n 's/^median .* seconds=\([0-9.]*\) .*/\1/p' >>"$data/$kind.c"
    done
    declare -A ms=()
    for mode in serial parallel scan; do ms[$mode]=$(median <"$data/$kind.$mode"); done
    c_s=$(median <"$data/$kind.c")
    awk -v kind="$kind" -v bytes="$bytes" -v s="${ms[serial]}" -v p="${ms[parallel]}" \
        -v scan="${ms[scan]}" -v c="$c_s" 'BEGIN {
        rows = 1000000
        printf "merge_agg %-7s rows=%d keys=1000 avg_state_bytes=%d\n", kind, rows, bytes
        printf "  postgres serial      %8.0f ms  %9.0f rows/s  %.2fx the library\n", s, rows / (s / 1000), s / (c * 1000)
        printf "  postgres 2 workers   %8.0f ms  %9.0f rows/s  %.2fx the library\n", p, rows / (p / 1000), p / (c * 1000)
        printf "  postgres scan+group  %8.0f ms  (the same query with count(state): no crdt work)\n", scan
        printf "  C library, 1 process %8.0f ms  %9.0f rows/s  (crdt_rows merge --bench)\n", c * 1000, rows / c
    }'
    unset ms
    db -c "DROP TABLE t_$kind"
    rm -f "$data/$kind.tsv"
done

# ---- upsert into a big state -----------------------------------------------------

updates=50
"$rows_tool" gen bigset 100000 "$updates" 100 >"$data/big.tsv"
head -n 1 "$data/big.tsv" >"$data/base.tsv"
tail -n +2 "$data/big.tsv" | awk -F'\t' '{print NR "\t" $3}' >"$data/deltas.tsv"
db -c "CREATE TABLE deltas (seq int PRIMARY KEY, delta crdt)" \
   -c "\\copy deltas FROM '$data/deltas.tsv'" \
   -c "CREATE TABLE base (key text, replica text, state crdt)" \
   -c "\\copy base FROM '$data/base.tsv'" >/dev/null
db <<'SQL' >/dev/null
CREATE TABLE item_deltas (key text, replica text, seq int, delta crdt,
                          PRIMARY KEY (key, replica, seq));
-- Each delta upserted into the (key, replica) row, one transaction each.
CREATE PROCEDURE apply_upserts(tbl regclass) LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT delta FROM deltas ORDER BY seq LOOP
        EXECUTE format('INSERT INTO %s AS t VALUES (''big'', ''A'', $1)
                        ON CONFLICT (key, replica) DO UPDATE
                        SET state = crdt_merge(t.state, EXCLUDED.state)', tbl)
            USING r.delta;
        COMMIT;
    END LOOP;
END $$;
-- Each delta appended as a row of its own.
CREATE PROCEDURE apply_appends() LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT seq, delta FROM deltas ORDER BY seq LOOP
        INSERT INTO item_deltas VALUES ('big', 'A', r.seq, r.delta);
        COMMIT;
    END LOOP;
END $$;
SQL
base_bytes=$(db -c "SELECT octet_length(state::bytea) FROM base")
delta_bytes=$(db -c "SELECT avg(octet_length(delta::bytea))::int FROM deltas")
echo "upsert: $updates updates of a 100-element delta ($delta_bytes bytes) into a" \
    "10^5-element OR-set ($base_bytes bytes, growing to $((base_bytes + updates * (delta_bytes - 30))) or so)"

# One run of `$2` (a CALL) from the state `$1` sets up; prints ms and WAL
# bytes per update.
measure_once() {
    local out lsn0 lsn1 t
    db -c "$1" -c "CHECKPOINT" >/dev/null
    out=$(db -c "SELECT pg_current_wal_lsn()" -c '\timing on' -c "$2" \
             -c '\timing off' -c "SELECT pg_current_wal_lsn()")
    lsn0=$(sed -n 1p <<<"$out")
    t=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
    lsn1=$(tail -n 1 <<<"$out")
    printf '%s %s\n' "$(awk -v t="$t" -v n="$updates" 'BEGIN {print t / n}')" \
        "$(db -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0') / $updates")"
}

variants=(pglz lz4 external append)
for storage in pglz lz4 external; do
    case $storage in
        pglz) alter="ALTER TABLE items_$storage ALTER COLUMN state SET COMPRESSION pglz" ;;
        lz4) alter="ALTER TABLE items_$storage ALTER COLUMN state SET COMPRESSION lz4" ;;
        external) alter="ALTER TABLE items_$storage ALTER COLUMN state SET STORAGE EXTERNAL" ;;
    esac
    db -c "CREATE TABLE items_$storage (key text, replica text, state crdt, PRIMARY KEY (key, replica))" \
       -c "$alter" >/dev/null
done
# Interleaved runs, as above.
for v in "${variants[@]}" c; do : >"$data/upsert.$v"; done
for ((r = 0; r < runs; r++)); do
    for v in "${variants[@]}"; do
        if [[ $v == append ]]; then
            measure_once "TRUNCATE item_deltas" "CALL apply_appends()"
        else
            measure_once "TRUNCATE items_$v; INSERT INTO items_$v SELECT * FROM base" \
                "CALL apply_upserts('items_$v')"
        fi >>"$data/upsert.$v"
    done
    "$rows_tool" upsert --bench 1 <"$data/big.tsv" |
        sed -n 's/^median .* ms_per_update=\([0-9.]*\)/\1/p' >>"$data/upsert.c"
done
c_ms=$(median <"$data/upsert.c")
for v in "${variants[@]}"; do
    ms=$(awk '{print $1}' "$data/upsert.$v" | median)
    wal=$(awk '{print $2}' "$data/upsert.$v" | median)
    if [[ $v == append ]]; then
        size=$(db -c "SELECT sum(pg_column_size(delta)) FROM item_deltas")
        printf '  append delta rows:  %7.2f ms/update  %9.0f WAL bytes/update  stored %d bytes of deltas\n' \
            "$ms" "$wal" "$size"
    else
        size=$(db -c "SELECT pg_column_size(state) FROM items_$v")
        printf '  upsert-merge, %-9s %7.2f ms/update  %9.0f WAL bytes/update  stored %d bytes  %.1fx the library\n' \
            "$v:" "$ms" "$wal" "$size" "$(awk -v a="$ms" -v b="$c_ms" 'BEGIN {print a / b}')"
    fi
done
printf '  C library, 1 process: %.2f ms/update (decode state and delta, merge, encode; crdt_rows upsert --bench)\n' "$c_ms"
read_query="SELECT count(*) FROM (SELECT crdt_merge_agg(s) AS m FROM
    (SELECT state AS s FROM base UNION ALL SELECT delta FROM item_deltas) u) v WHERE m IS NOT NULL"
for ((r = 0; r < runs; r++)); do time_ms -c "$read_query"; done >"$data/read"
printf '  read with %d delta rows: %.1f ms (merge base and deltas); upsert row read: ' \
    "$updates" "$(median <"$data/read")"
for ((r = 0; r < runs; r++)); do
    time_ms -c "SELECT count(*) FROM items_pglz WHERE crdt_type(state) IS NOT NULL"
done >"$data/read1"
printf '%.1f ms (detoast only)\n' "$(median <"$data/read1")"
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
