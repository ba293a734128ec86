# shellcheck shell=bash
# A throw-away Citus cluster for the tests/citus scenarios: a coordinator and N workers on
# 127.0.0.1, each on a free port with its own data directory under $CITUS_DIR, preloading citus.
# Runs as root (the scripts call initdb/pg_ctl through runuser) and is torn down by citus_stop.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
CITUS_DB=gnsm_citus

# free_port: a TCP port nothing listens on (asks the kernel, then releases it).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

# as_pg CMD...: runs a command as the postgres user.
as_pg() { runuser -u postgres -- "$@"; }

# node_start NAME: initialises and starts one node; its port goes to PORT_<NAME>.
node_start() {
    local name=$1 dir="$CITUS_DIR/$1" port
    port=$(free_port)
    as_pg "$PG_BIN/initdb" -D "$dir" -A trust -U postgres >/dev/null
    cat >>"$dir/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$CITUS_DIR'
shared_preload_libraries = 'citus'
max_connections = 200
max_prepared_transactions = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
    # the coordinator also runs pg_cron (scheduled retraining), in background workers
    if [ "$name" = coord ] && [ -f "$("$PG_BIN/pg_config" --pkglibdir)/pg_cron.so" ]; then
        cat >>"$dir/postgresql.conf" <<CONF
shared_preload_libraries = 'citus,pg_cron'
cron.database_name = '$CITUS_DB'
cron.use_background_workers = on
max_worker_processes = 32
CONF
    fi
    as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/log" -w start >/dev/null
    as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" "$CITUS_DB"
    as_pg psql -X -q -h 127.0.0.1 -p "$port" -d "$CITUS_DB" -c "CREATE EXTENSION citus" >/dev/null
    printf -v "PORT_$name" '%s' "$port"
    NODES+=("$name")
}

# citus_start N: a coordinator and N workers (added to the coordinator's metadata); sets
# PORT_coord, PORT_w1..PORT_wN and the list NODES.
citus_start() {
    CITUS_DIR=$(mktemp -d /tmp/gnsm-citus.XXXXXX)
    chown postgres:postgres "$CITUS_DIR"
    NODES=()
    node_start coord
    local i
    for i in $(seq 1 "$1"); do
        node_start "w$i"
        local p="PORT_w$i"
        coord -c "SELECT citus_add_node('127.0.0.1', ${!p})" >/dev/null
    done
}

# citus_add_worker NAME: starts one more worker and adds it to the cluster.
citus_add_worker() {
    node_start "$1"
    local p="PORT_$1"
    coord -c "SELECT citus_add_node('127.0.0.1', ${!p})" >/dev/null
}

# citus_stop: stops every node and deletes the data directories.
citus_stop() {
    local n
    for n in "${NODES[@]}"; do
        as_pg "$PG_BIN/pg_ctl" -D "$CITUS_DIR/$n" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$CITUS_DIR"
}

# on NAME ARGS...: psql against one node (unaligned, quiet, stop on error, no NOTICEs).
on() {
    local p="PORT_$1"; shift
    PGOPTIONS="${PGOPTIONS:--c client_min_messages=warning}" as_pg psql -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "${!p}" -d "$CITUS_DB" "$@"
}

# coord ARGS...: psql against the coordinator.
coord() { on coord "$@"; }

# ms NODE SQL: the statement's wall time in milliseconds (psql's \timing)
ms() {
    on "$1" -c "\timing on" -c "$2" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
}

# received_bytes NODE SQL: "Tuple data received from nodes" of EXPLAIN ANALYZE, in bytes
received_bytes() {
    on "$1" -c "EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off) $2" |
        sed -n 's/.*Tuple data received from nodes: \([0-9.]*\) \([kMG]*B\).*/\1 \2/p' |
        awk '{m = ($2 == "kB") ? 1024 : ($2 == "MB") ? 1048576 : ($2 == "GB") ? 1073741824 : 1; printf "%d\n", $1 * m}'
}
