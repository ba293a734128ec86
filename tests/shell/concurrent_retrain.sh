#!/usr/bin/env bash
# Sessions that score keep working while retrains commit: 4 pgbench clients score for a bounded
# time while 3 retrains commit; every transaction must succeed and the new versions must be seen.
set -euo pipefail
# psql_q and active_backend come from tests/shell/common.bash (prepended by scripts/regress)
work="$(mktemp -d)"
psql_q -d postgres -c "DROP DATABASE IF EXISTS gnsm_concurrency" -c "CREATE DATABASE gnsm_concurrency"
psql_q -d gnsm_concurrency >/dev/null <<'SQL'
CREATE EXTENSION gnsm;
CREATE TABLE events AS SELECT g AS id, 'k' || (g % 6) AS kind, 'c' || (g % 6 / 2) AS color FROM generate_series(1, 500) g;
SELECT count(*) FROM gnsm_train('events', ARRAY['kind', 'color'], '{"width": 16, "depth": 1, "steps": 30, "threads": 1, "seed": 1}');
SQL
cat > "$work/score.sql" <<'SQL'
SELECT sum(gnsm_score(e)) FROM events e;
SQL
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
PGOPTIONS="-c client_min_messages=warning" "$PGBENCH" -n -c 4 -j 2 -T 8 -f "$work/score.sql" gnsm_concurrency > "$work/pgbench.log" 2>&1 &
bench=$!
for seed in 2 3 4; do
    sleep 1.5
    psql_q -d gnsm_concurrency -c "SELECT count(*) FROM gnsm_retrain('events', '{\"seed\": $seed, \"activate\": \"always\"}')" >/dev/null
done
rc=0
wait $bench || rc=$?
versions=$(psql_q -d gnsm_concurrency -c "SELECT count(*) || '/' || max(version) FILTER (WHERE is_active) FROM gnsm.models")
psql_q -d postgres -c "DROP DATABASE gnsm_concurrency"
failed=$(grep -oE 'number of failed transactions: [0-9]+' "$work/pgbench.log" | grep -oE '[0-9]+$' || echo 0)
done_tx=$(grep -oE 'number of transactions actually processed: [0-9]+' "$work/pgbench.log" | grep -oE '[0-9]+$' || echo 0)
if [ $rc -ne 0 ] || [ "$failed" != 0 ] || [ "$versions" != "4/4" ] || [ "$done_tx" -lt 10 ]; then
    cat "$work/pgbench.log"
    echo "concurrent_retrain: pgbench rc=$rc failed=$failed processed=$done_tx versions=$versions"
    rm -rf "$work"
    exit 1
fi
rm -rf "$work"
echo "concurrent_retrain: $done_tx scoring transactions by 4 clients, 0 failed, while 3 retrains committed (active version 4)"
