#!/usr/bin/env bash
# pg_cancel_backend stops a running training within about a second: the client gets the cancel
# error, nothing is stored, no worker thread survives and the session's server stays usable.
set -euo pipefail
# psql_q and active_backend come from tests/shell/common.bash (prepended by scripts/regress)
psql_q -d postgres -c "DROP DATABASE IF EXISTS gnsm_cancel" -c "CREATE DATABASE gnsm_cancel"
psql_q -d gnsm_cancel >/dev/null <<'SQL'
CREATE EXTENSION gnsm;
CREATE TABLE c AS SELECT 'a' || (g % 7) AS a, 'b' || (g % 5) AS b FROM generate_series(1, 2000) g;
SQL
out="$(mktemp)"
# the same session sleeps after the cancelled statement, so its threads can be counted
PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -d gnsm_cancel \
    -c "SELECT gnsm_train('c', NULL, '{\"steps\": 10000000, \"max_seconds\": 3600, \"threads\": 2}')" \
    -c "SELECT pg_sleep(3)" > "$out" 2>&1 &
client=$!
pid=$(active_backend gnsm_cancel "SELECT gnsm_train(''c''%")
[ -n "$pid" ] || { echo "cancel_backend: training backend not found"; exit 1; }
sleep 2
threads_during=$(ls "/proc/$pid/task" | wc -l)
start=$(date +%s%N)
psql_q -d gnsm_cancel -c "SELECT pg_cancel_backend($pid)" >/dev/null
# the cancel is done when the session moves on to pg_sleep
for _ in $(seq 1 100); do
    q=$(psql_q -d gnsm_cancel -c "SELECT query FROM pg_stat_activity WHERE pid = $pid")
    case "$q" in *pg_sleep*) break ;; esac
    sleep 0.05
done
took_ms=$((($(date +%s%N) - start) / 1000000))
sleep 0.5
threads_after=$(ls "/proc/$pid/task" 2>/dev/null | wc -l)
wait "$client" || true
stored=$(psql_q -d gnsm_cancel -c "SELECT count(*) FROM gnsm.models")
message=$(cat "$out"); rm -f "$out"
psql_q -d postgres -c "DROP DATABASE gnsm_cancel WITH (FORCE)"
echo "$message" | grep -q "canceling statement due to user request" || { echo "cancel_backend: unexpected client output: $message"; exit 1; }
[ "$stored" = 0 ] || { echo "cancel_backend: $stored models stored"; exit 1; }
[ "$took_ms" -lt 1500 ] || { echo "cancel_backend: took $took_ms ms"; exit 1; }
[ "$threads_after" = 1 ] || { echo "cancel_backend: $threads_after threads left in the backend after the cancel"; exit 1; }
echo "cancel_backend: cancelled in $took_ms ms, nothing stored, backend threads $threads_during during training and $threads_after after"
