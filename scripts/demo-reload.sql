-- The demo's set-up after scripts/demo-orders.sql reloaded its table: create or update the
-- extension in place (never DROP EXTENSION, which would drop every model and every view that uses
-- gnsm) and drop only the demo's own model "orders", which scripts/demo-job.sql trains again.
-- tests/shell/demo_rerun.sh checks that a rerun keeps the user's models and views.
CREATE EXTENSION IF NOT EXISTS gnsm;
ALTER EXTENSION gnsm UPDATE;
SELECT gnsm_drop('orders') FROM gnsm.models WHERE name = 'orders' LIMIT 1;
