-- The SQL reference examples of README.md, run against the demo database after ./scripts/demo:
--   runuser -u postgres -- psql -X -d gnsm_demo -f docs/examples.sql
-- Every training here is bounded by steps, not by time (max_seconds), so its seed fixes the model
-- whatever the machine's load, and no wall-clock figure is printed: tests/shell/readme_examples.sh
-- runs this file against a fresh copy of the demo database and checks the README's output.
\pset footer off
\set ECHO queries
SET client_min_messages = warning;

-- gnsm_version
SELECT gnsm_version();

-- gnsm_train (a second model on three columns, named, with a small budget)
SELECT model, version, active, train_rows, round(val_loss::numeric, 4) AS val_loss
FROM gnsm_train('orders', ARRAY['country', 'currency', 'payment'], '{"name": "orders_payments", "steps": 300, "seed": 1}');

-- gnsm.model_list
SELECT name, version, is_active, columns, vocab_sizes, train_rows, val_loss, size
FROM gnsm.model_list ORDER BY name, version;

-- gnsm_score: by the row's table, and by model name
SELECT id, country, currency, payment, round(gnsm_score(o)::numeric, 2) AS score
FROM orders o ORDER BY gnsm_score(o) DESC LIMIT 5;
SELECT id, country, currency, payment, round(gnsm_score(o, 'orders_payments')::numeric, 2) AS score
FROM orders o ORDER BY 5 DESC LIMIT 3;

-- gnsm_score_percentile and gnsm_threshold
SELECT id, round(gnsm_score_percentile(o)::numeric, 2) AS pct FROM orders o WHERE id IN (1, 2, 3) ORDER BY id;
SELECT round(gnsm_threshold('orders', 0.01)::numeric, 3) AS p99_score;
SELECT count(*) AS flagged FROM orders o WHERE gnsm_score(o) > gnsm_threshold('orders', 0.01);

-- gnsm_explain
SELECT column_name, value, round(contribution::numeric, 2) AS contribution,
       round(share::numeric, 3) AS share, most_likely
FROM orders o, gnsm_explain(o) WHERE o.id = (SELECT id FROM orders o2 ORDER BY gnsm_score(o2) DESC LIMIT 1)
ORDER BY contribution DESC;

-- gnsm_train_agg and gnsm_score_bytes: one model per channel
CREATE TEMP TABLE channel_models AS
SELECT channel, gnsm_train_agg(s, '{"steps": 100, "seed": 1}') AS model
FROM (SELECT channel, country, currency, payment FROM orders) s GROUP BY channel;
SELECT channel, octet_length(model) AS bytes FROM channel_models ORDER BY channel;
SELECT s.channel, s.country, s.currency, s.payment, round(gnsm_score_bytes(s, m.model)::numeric, 2) AS score
FROM (SELECT channel, country, currency, payment FROM orders) s JOIN channel_models m USING (channel)
ORDER BY 5 DESC LIMIT 3;

-- gnsm_retrain, gnsm_activate, gnsm_drop
SELECT model, version, active, train_rows, round(val_loss::numeric, 4) AS val_loss
FROM gnsm_retrain('orders_payments', '{"keep_versions": 2, "activate": "always"}');
SELECT gnsm_activate('orders_payments', 1);
SELECT name, version, is_active FROM gnsm.model_list WHERE name = 'orders_payments' ORDER BY version;
SELECT gnsm_drop('orders_payments');
