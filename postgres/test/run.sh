#!/usr/bin/env bash
# The extension's tests against real PostgreSQL servers that this script
# starts and stops itself (postgres/test/cluster.sh):
#   regress   pg_regress with postgres/sql/*.sql against postgres/expected/
#   upgrade   the install and upgrade scripts (postgres/test/upgrade.sh)
#   three     three servers, logical replication, concurrent writers, a
#             partition and its healing (postgres/test/three_servers.sh)
#
# Usage: postgres/test/run.sh BUILD_DIR [regress|upgrade|three]...
#   BUILD_DIR  a build with CRDT_BUILD_POSTGRES=ON (the `postgres` preset:
#              build/postgres), already built. Default: all three tests.
# Environment: PG_CONFIG (default /usr/lib/postgresql/15/bin/pg_config),
#   CRDT_PG_KEEP=1 keeps the clusters' directory (logs, data) afterwards.
# Exit status: 0 when every test passed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    sed -n '2,16s/^# \{0,1\}//p' "$0"
    exit 2
fi
build=$(cd "$1" && pwd)
shift
tests=("$@")
[[ ${#tests[@]} -gt 0 ]] || tests=(regress upgrade three)

# shellcheck source=cluster.sh
source "$here/cluster.sh"
pg_setup "$build"

run_regress() {
    local regress
    regress=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress
    pg_start regress "max_worker_processes = 8" "max_parallel_workers = 4"
    mkdir -p "$PG_BASE/regress-out"
    local names=()
    while read -r name; do
        [[ -n $name && $name != \#* ]] && names+=("$name")
    done <"$src/sql/schedule"
    # psql runs in the output directory: \copy paths in the tests are
    # relative to it.
    (cd "$PG_BASE/regress-out" &&
        "$regress" --bindir="$PG_BIN" --host="$PG_BASE/regress" \
            --port="$PORT_regress" --user=postgres --dbname=crdt_regress \
            --inputdir="$src" --outputdir="$PG_BASE/regress-out" \
            "${names[@]}") || {
        cat "$PG_BASE/regress-out/regression.diffs" >&2 || true
        pg_log_tail regress >&2
        return 1
    }
}

status=0
for t in "${tests[@]}"; do
    printf '\n--> postgres test: %s\n' "$t"
    case $t in
        regress) run_regress || status=1 ;;
        upgrade) source "$here/upgrade.sh" && run_upgrade || status=1 ;;
        three) source "$here/three_servers.sh" && run_three || status=1 ;;
        *) echo "run.sh: unknown test '$t'" >&2; exit 2 ;;
    esac
done
exit $status
