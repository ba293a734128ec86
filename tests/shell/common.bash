# shellcheck shell=bash
# Prelude scripts/regress puts in front of every tests/shell/*.sh (they run as postgres, from
# stdin, against the cluster named by PGHOST/PGPORT).

# psql_q ARGS...: quiet, unaligned, stop on the first error, no NOTICEs.
psql_q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

# active_backend DB PATTERN: pid of the backend running a query LIKE PATTERN, waiting up to 10 s;
# prints nothing when none shows up.
active_backend() {
    local pid=""
    for _ in $(seq 1 50); do
        pid=$(psql_q -d "$1" -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '$2' AND state = 'active' AND pid <> pg_backend_pid() LIMIT 1")
        [ -n "$pid" ] && break
        sleep 0.2
    done
    echo "$pid"
}
