#!/usr/bin/env bash
# Rerunning the demo keeps what the user made: with a model of their own and a view that calls
# gnsm_score in the demo database, the demo's reload steps (scripts/demo-orders.sql, then
# scripts/demo-reload.sql, exactly as scripts/demo runs them) replace only the table orders and
# the model "orders".
set -euo pipefail
# psql_q comes from tests/shell/common.bash (prepended by scripts/regress)
: "${DOCS:?DOCS must name the copy of the demo SQL files}"
db=gnsm_demo_rerun
psql_q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
reload() {
    psql_q -d "$db" -v rows=2000 -f "$DOCS/demo-orders.sql" >/dev/null
    psql_q -d "$db" -f "$DOCS/demo-reload.sql" >/dev/null
}
reload
fast='{"width": 16, "depth": 1, "steps": 20, "threads": 1}'
psql_q -d "$db" >/dev/null <<SQL
SELECT count(*) FROM gnsm_train('orders', ARRAY['country', 'currency'], '$fast');
CREATE TABLE my_events AS SELECT g AS id, 'k' || (g % 5) AS kind FROM generate_series(1, 200) g;
SELECT count(*) FROM gnsm_train('my_events', ARRAY['kind'], '$fast');
CREATE VIEW my_alerts AS SELECT e.id, gnsm_score(e) AS score FROM my_events e;
SQL
reload
state=$(psql_q -d "$db" -c "SELECT (SELECT string_agg(name, ',' ORDER BY name) FROM gnsm.models) || ' / ' || (SELECT count(*) FROM my_alerts)")
psql_q -d postgres -c "DROP DATABASE $db" >/dev/null
# the user's model and view survive; the demo's own model "orders" is gone until the job retrains it
if [ "$state" != "my_events / 200" ]; then
    echo "demo_rerun: after a rerun expected the user's model and view (my_events / 200), got: $state"
    exit 1
fi
echo "demo_rerun: a rerun kept the user's model and the view that scores with it, and replaced only the demo's own"
