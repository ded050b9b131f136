# Throwaway PostgreSQL clusters for the extension's tests and benchmark.
# Sourced, not run. Each cluster is a fresh initdb in a private temporary
# directory, listening on 127.0.0.1 only (a free port) and on a Unix socket
# in its own directory; nothing depends on a server the machine happens to
# run, and nothing is left behind: pg_stop_all (installed as an EXIT trap
# by pg_setup) stops every cluster started here and removes the directory.
#
# initdb refuses to run as root, so as root the servers run as the
# `postgres` user (created by Debian's postgresql-common); otherwise as the
# calling user. The extension is not taken from the server's directories:
# pg_setup installs the given build into a staging tree (DESTDIR) that the
# clusters load it from through Debian's extension_destdir setting, so the
# tests always exercise exactly the build under test.
#
#   pg_setup BUILD_DIR      temp dir, staged install, EXIT trap
#   pg_start NAME [GUC=VALUE...]   initdb + start; sets PORT_<NAME>
#   psql_on NAME [psql args...]    psql -X as postgres to database postgres
#                                  (PGDATABASE overrides) on cluster NAME
#   pg_stop_all                    stop all, remove the temp dir
#   pg_log_tail NAME               last lines of a cluster's server log
# Variables: PG_BIN (server binaries), PG_BASE (the temp dir),
# PG_STAGE (the staged install), CRDT_PG_KEEP=1 keeps PG_BASE for autopsy.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
PG_CLUSTERS=()
PG_BASE=

# Runs a command as the servers' user, from a directory that user can
# read (the caller's may be /root).
pg_as_server() {
    if [[ $(id -u) -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Sets PG_PORT to a TCP port on 127.0.0.1 that nothing listens on (and
# that no cluster of this run was given).
PG_PORTS=()
pg_free_port() {
    local port tries=0
    while (( tries++ < 200 )); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        [[ " ${PG_PORTS[*]} " == *" $port "* ]] && continue
        # A connection that succeeds means something listens there.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            PG_PORTS+=("$port")
            PG_PORT=$port
            return 0
        fi
    done
    echo "cluster.sh: no free port found" >&2
    return 1
}

pg_setup() {
    local build=$1
    PG_BASE=$(mktemp -d /tmp/crdt-pg.XXXXXX)
    chmod 755 "$PG_BASE"
    [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$PG_BASE"
    trap pg_stop_all EXIT
    PG_STAGE=$PG_BASE/stage
    DESTDIR=$PG_STAGE cmake --install "$build" --component postgres >/dev/null
    chmod -R a+rX "$PG_STAGE"
}

pg_start() {
    local name=$1
    shift
    local dir=$PG_BASE/$name attempt
    pg_as_server "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust \
        -E UTF8 --no-locale >"$PG_BASE/$name.initdb.log" 2>&1 || {
        cat "$PG_BASE/$name.initdb.log" >&2
        return 1
    }
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$dir'"
        echo "extension_destdir = '$PG_STAGE'"
        echo "fsync = off"
        echo "lc_messages = 'C'"
        for guc in "$@"; do echo "$guc"; done
    } | pg_as_server tee -a "$dir/postgresql.conf" >/dev/null
    PG_CLUSTERS+=("$name")
    # Another program may take the free port before the server binds it:
    # then try another (the last `port` line of the file counts).
    for attempt in 1 2 3; do
        pg_free_port || return 1
        echo "port = $PG_PORT" | pg_as_server tee -a "$dir/postgresql.conf" >/dev/null
        if pg_as_server "$PG_BIN/pg_ctl" -D "$dir" -l "$PG_BASE/$name.log" \
                -w -t 60 start >/dev/null; then
            printf -v "PORT_$name" '%s' "$PG_PORT"
            return 0
        fi
        grep -q 'could not bind' "$PG_BASE/$name.log" 2>/dev/null || break
    done
    echo "cluster.sh: cluster $name did not start:" >&2
    pg_log_tail "$name" >&2
    return 1
}

psql_on() {
    local name=$1
    shift
    local port_var=PORT_$name
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_BASE/$name" \
        -p "${!port_var}" -U postgres -d "${PGDATABASE:-postgres}" "$@"
}

pg_log_tail() {
    tail -n "${2:-40}" "$PG_BASE/$1.log" 2>/dev/null || true
}

pg_stop_all() {
    local name
    for name in "${PG_CLUSTERS[@]}"; do
        pg_as_server "$PG_BIN/pg_ctl" -D "$PG_BASE/$name" -m immediate \
            -w -t 30 stop >/dev/null 2>&1 || true
    done
    PG_CLUSTERS=()
    if [[ -n $PG_BASE && -d $PG_BASE ]]; then
        if [[ ${CRDT_PG_KEEP:-0} == 1 ]]; then
            echo "cluster.sh: kept $PG_BASE" >&2
        else
            rm -rf "$PG_BASE"
        fi
    fi
}
