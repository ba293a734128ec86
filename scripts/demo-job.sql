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
\echo '== how many planted anomalies are in the top-k (k = planted rows; unsupervised, no labels used),'
\echo '   next to a plain-SQL peer that ranks each order by the count of its rarest value pair'
WITH k AS (SELECT count(*) FILTER (WHERE is_planted) AS planted FROM orders),
gnsm AS (
    SELECT is_planted, row_number() OVER (ORDER BY gnsm_score(o) DESC, id) AS rank FROM orders o
),
pairs AS (
    SELECT o.id, p.a, p.b, p.va, p.vb
    FROM orders o, LATERAL (VALUES
        ('country', 'currency', o.country, o.currency), ('country', 'payment', o.country, o.payment),
        ('country', 'channel', o.country, o.channel), ('country', 'category', o.country, o.category),
        ('country', 'shipping', o.country, o.shipping), ('currency', 'payment', o.currency, o.payment),
        ('currency', 'channel', o.currency, o.channel), ('currency', 'category', o.currency, o.category),
        ('currency', 'shipping', o.currency, o.shipping), ('payment', 'channel', o.payment, o.channel),
        ('payment', 'category', o.payment, o.category), ('payment', 'shipping', o.payment, o.shipping),
        ('channel', 'category', o.channel, o.category), ('channel', 'shipping', o.channel, o.shipping),
        ('category', 'shipping', o.category, o.shipping)) AS p(a, b, va, vb)
),
pair_counts AS (SELECT a, b, va, vb, count(*) AS n FROM pairs GROUP BY a, b, va, vb),
rarest_pair AS (
    SELECT o.is_planted, row_number() OVER (ORDER BY r.rarest, o.id) AS rank
    FROM orders o JOIN (SELECT p.id, min(c.n) AS rarest FROM pairs p JOIN pair_counts c USING (a, b, va, vb)
                        GROUP BY p.id) r ON r.id = o.id
)
SELECT m.method, k.planted AS planted_total, m.found AS found_in_top_k,
       round(100.0 * m.found / k.planted, 1) AS precision_at_k_pct
FROM k, LATERAL (
    SELECT 'gnsm_score' AS method, count(*) FILTER (WHERE is_planted AND rank <= k.planted) AS found FROM gnsm
    UNION ALL
    SELECT 'rarest value pair (SQL)', count(*) FILTER (WHERE is_planted AND rank <= k.planted) FROM rarest_pair
) m;

\echo
\echo '== explanation accuracy: planted orders whose top explained column is one the generator broke'
WITH explained AS (
    SELECT o.id, o.broken,
           (SELECT e.column_name FROM gnsm_explain(o, 'orders') e ORDER BY e.contribution DESC, e.column_name LIMIT 1) AS top
    FROM orders o WHERE o.is_planted
)
SELECT count(*) AS planted_total,
       count(*) FILTER (WHERE top = ANY (broken)) AS top_column_broken,
       round(100.0 * count(*) FILTER (WHERE top = ANY (broken)) / count(*), 1) AS explanation_accuracy_pct
FROM explained;
