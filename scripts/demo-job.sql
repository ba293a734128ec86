-- The demo's main job, run by scripts/demo against the loaded `orders` table:
-- train a model, list the top anomalies with the column that explains each, and check them
-- against the planted ground truth.
\pset footer off
\set QUIET on
SELECT gnsm_version();

\echo
\echo '== training on orders (country, currency, payment, channel, category, shipping)'
SELECT model, version, active, train_rows, round(seconds::numeric, 1) AS seconds,
       round(val_loss::numeric, 4) AS val_loss
FROM gnsm_train('orders', ARRAY['country', 'currency', 'payment', 'channel', 'category', 'shipping'],
                '{"seed": 7}');

\echo
\echo '== the 15 most anomalous orders, and the value that explains each'
WITH scored AS (
    SELECT o.*, gnsm_score(o) AS score FROM orders o ORDER BY score DESC LIMIT 15
)
SELECT s.id, s.country, s.currency, s.payment, s.channel, s.category, s.shipping,
       round(s.score::numeric, 1) AS score,
       round(gnsm_score_percentile(s, 'orders')::numeric, 2) AS pct,
       (SELECT format('%s=%s, expected %s', e.column_name, e.value, e.most_likely)
        FROM gnsm_explain(s, 'orders') e ORDER BY e.contribution DESC LIMIT 1) AS why,
       s.is_planted AS planted
FROM scored s ORDER BY s.score DESC;

\echo
\echo '== how many planted anomalies are in the top-k (unsupervised, no labels used)'
WITH ranked AS (
    SELECT is_planted, row_number() OVER (ORDER BY gnsm_score(o) DESC) AS rank FROM orders o
), k AS (SELECT count(*) FILTER (WHERE is_planted) AS planted FROM orders)
SELECT k.planted AS planted_total,
       count(*) FILTER (WHERE r.is_planted AND r.rank <= k.planted) AS found_in_top_k,
       round(100.0 * count(*) FILTER (WHERE r.is_planted AND r.rank <= k.planted) / k.planted, 1) AS precision_at_k_pct
FROM ranked r, k GROUP BY k.planted;
