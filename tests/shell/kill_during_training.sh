#!/usr/bin/env bash
# A backend killed with SIGKILL in the middle of training leaves the catalog as it was, and the
# server recovers (crash recovery) and accepts connections again.
set -euo pipefail
# psql_q and active_backend come from tests/shell/common.bash (prepended by scripts/regress)
psql_q -d postgres -c "DROP DATABASE IF EXISTS gnsm_kill" -c "CREATE DATABASE gnsm_kill"
psql_q -d gnsm_kill >/dev/null <<'SQL'
CREATE EXTENSION gnsm;
CREATE TABLE k AS SELECT 'a' || (g % 7) AS a, 'b' || (g % 5) AS b FROM generate_series(1, 2000) g;
SELECT count(*) FROM gnsm_train('k', NULL, '{"width": 16, "depth": 1, "steps": 30, "threads": 1}');
SQL
before=$(psql_q -d gnsm_kill -c "SELECT string_agg(name || ':' || version || ':' || is_active || ':' || md5(model), ',' ORDER BY version) FROM gnsm.models")
# a long training in the background; its backend pid comes from pg_stat_activity
psql_q -d gnsm_kill -c "SELECT gnsm_train('k', NULL, '{\"steps\": 10000000, \"max_seconds\": 3600, \"threads\": 2}')" >/dev/null 2>&1 &
client=$!
pid=$(active_backend gnsm_kill "SELECT gnsm_train(''k''%")
[ -n "$pid" ] || { echo "kill_during_training: training backend not found"; exit 1; }
sleep 2
kill -KILL "$pid"
wait "$client" 2>/dev/null || true
# the postmaster restarts all backends; wait until connections are accepted again
for _ in $(seq 1 60); do
    psql_q -d gnsm_kill -c "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.5
done
after=$(psql_q -d gnsm_kill -c "SELECT string_agg(name || ':' || version || ':' || is_active || ':' || md5(model), ',' ORDER BY version) FROM gnsm.models")
scores=$(psql_q -d gnsm_kill -c "SELECT count(gnsm_score(t)) FROM k t")
psql_q -d postgres -c "DROP DATABASE gnsm_kill"
[ "$before" = "$after" ] || { echo "kill_during_training: catalog changed: $before -> $after"; exit 1; }
[ "$scores" = 2000 ] || { echo "kill_during_training: scoring after recovery returned $scores"; exit 1; }
echo "kill_during_training: SIGKILL after 2 s of training, server recovered, catalog unchanged, 2000 rows score"
